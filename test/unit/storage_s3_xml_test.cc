// Tests for lib/storage/s3_xml.{h,cc} (ListObjectsV2 pages, errors, multipart documents) and the
// URL helpers of lib/storage/http.h that S3 signing depends on.

#include <doctest/doctest.h>

#include <string>

#include "storage/fuzz_entry.h"
#include "storage/http.h"
#include "storage/s3_xml.h"

namespace p2l {

namespace {

std::string Page(const std::string& inner, const std::string& extra = "<IsTruncated>false</IsTruncated>") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
         "<Prefix>pg/</Prefix>" + extra + inner + "</ListBucketResult>";
}
std::string Obj(const std::string& key, const std::string& size = "10", const std::string& etag = "&quot;e1&quot;") {
  return "<Contents><Key>" + key + "</Key><Size>" + size + "</Size><ETag>" + etag + "</ETag></Contents>";
}
std::string Pre(const std::string& p) { return "<CommonPrefixes><Prefix>" + p + "</Prefix></CommonPrefixes>"; }

int Fuzz(const std::string& s) {
  return FuzzS3ListingParser(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

TEST_CASE("ParseS3ListPage: a normal page, prefix stripped") {
  auto p = ParseS3ListPage(Page(Obj("pg/PG_VERSION", "3") + Obj("pg/global/x", "8192") + Pre("pg/base/") +
                                "<KeyCount>3</KeyCount>"),
                           "pg/", "s3://b/pg");
  REQUIRE(p.ok());
  CHECK(!p->truncated);
  REQUIRE(p->objects.size() == 2);
  CHECK(p->objects[0].name == "PG_VERSION");
  CHECK(p->objects[0].size == 3);
  CHECK(p->objects[0].version == "\"e1\"");
  CHECK(p->objects[1].name == "global/x");
  REQUIRE(p->prefixes.size() == 1);
  CHECK(p->prefixes[0] == "base/");
  CHECK(Fuzz(Page(Obj("pg/PG_VERSION", "3"))) == 0);
}

TEST_CASE("ParseS3ListPage: truncated page with token; inconsistent truncation") {
  auto p = ParseS3ListPage(Page(Obj("pg/a"), "<IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>"),
                           "pg/", "w");
  REQUIRE(p.ok());
  CHECK(p->truncated);
  CHECK(p->next_token == "tok+/=");
  // truncated without a token
  CHECK(ParseS3ListPage(Page(Obj("pg/a"), "<IsTruncated>true</IsTruncated>"), "pg/", "w").status().code() ==
        Code::kInvalidInput);
  // truncated but empty
  CHECK(!ParseS3ListPage(Page("", "<IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>"),
                         "pg/", "w").ok());
  // IsTruncated missing or garbage
  CHECK(!ParseS3ListPage(Page(Obj("pg/a"), ""), "pg/", "w").ok());
  CHECK(!ParseS3ListPage(Page(Obj("pg/a"), "<IsTruncated>yes</IsTruncated>"), "pg/", "w").ok());
  // KeyCount disagreeing with the entries
  auto kc = ParseS3ListPage(Page(Obj("pg/a") + "<KeyCount>2</KeyCount>"), "pg/", "w");
  CHECK(kc.status().code() == Code::kInvalidInput);
  CHECK(kc.status().message().find("KeyCount 2") != std::string::npos);
}

TEST_CASE("ParseS3ListPage: malicious keys are refused") {
  for (const std::string key : {"pg/../etc/passwd", "pg/a/../../x", "pg//x", "pg/a&#10;b", "pg/a&#1;b", "pg/a\\b",
                                "other/x", "pgx", "/pg/x", "pg/."}) {
    CAPTURE(key);
    auto p = ParseS3ListPage(Page(Obj(key)), "pg/", "s3://b/pg");
    CHECK(p.status().code() == Code::kInvalidInput);
    CHECK(p.status().message().find("s3://b/pg") != std::string::npos);
  }
  for (const std::string pre : {"pg/../", "pg/", "pg/a", "x/a/", "pg//"}) {
    CAPTURE(pre);
    CHECK(!ParseS3ListPage(Page(Pre(pre)), "pg/", "w").ok());
  }
  // Bad sizes
  for (const std::string size : {"", "-1", "1e3", "99999999999999999999999", " 1"}) {
    CAPTURE(size);
    CHECK(!ParseS3ListPage(Page(Obj("pg/a", size)), "pg/", "w").ok());
  }
  // Zero-byte directory markers are skipped, non-empty ones refused.
  auto m = ParseS3ListPage(Page(Obj("pg/dir/", "0") + Obj("pg/dir/f")), "pg/", "w");
  REQUIRE(m.ok());
  REQUIRE(m->objects.size() == 1);
  CHECK(m->objects[0].name == "dir/f");
  CHECK(!ParseS3ListPage(Page(Obj("pg/dir/", "5")), "pg/", "w").ok());
}

TEST_CASE("ParseS3ListPage: not XML, wrong root, entity tricks, huge input") {
  CHECK(!ParseS3ListPage("", "", "w").ok());
  CHECK(!ParseS3ListPage("not xml at all", "", "w").ok());
  CHECK(!ParseS3ListPage("<Error><Code>x</Code></Error>", "", "w").ok());
  CHECK(!ParseS3ListPage(Page(Obj("pg/a")).substr(0, 150), "pg/", "w").ok());
  // "Billion laughs": custom entities are not expanded, so the key stays "&lol9;" text or the
  // document fails to parse; either way nothing big is built and nothing passes.
  const std::string bomb =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&lol3;</Key><Size>1</Size></Contents>"
      "</ListBucketResult>";
  auto b = ParseS3ListPage(bomb, "", "w");
  if (b.ok()) {
    for (const auto& o : b->objects) CHECK(o.name.size() < 100);
  }
  // External entity: never loaded.
  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&e;</Key><Size>1</Size></Contents>"
      "</ListBucketResult>";
  auto x = ParseS3ListPage(xxe, "", "w");
  if (x.ok()) {
    for (const auto& o : x->objects) CHECK(o.name.find("root:") == std::string::npos);
  }
  // Oversized documents are refused before parsing.
  std::string huge = Page(std::string(kMaxS3XmlBytes, ' '));
  auto h = ParseS3ListPage(huge, "pg/", "w");
  CHECK(h.status().code() == Code::kInvalidInput);
  CHECK(h.status().message().find("larger than") != std::string::npos);
  // Too many entries in one page.
  std::string many;
  for (size_t i = 0; i <= kMaxS3ListEntries; i++) many += Obj("pg/k" + std::to_string(i));
  CHECK(!ParseS3ListPage(Page(many), "pg/", "w").ok());
  CHECK(Fuzz(bomb) == 0);
  CHECK(Fuzz(xxe) == 0);
  CHECK(Fuzz("\xff\xfe<garbage") == 0);
}

TEST_CASE("ParseS3Error / ParseS3InitiateMultipart / BuildS3CompleteMultipart") {
  auto e = ParseS3Error("<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The bucket\n does not exist"
                        "</Message><BucketName>nob</BucketName></Error>");
  CHECK(e.code == "NoSuchBucket");
  CHECK(e.message == "The bucket? does not exist");
  CHECK(e.bucket == "nob");
  CHECK(ParseS3Error("").code.empty());
  CHECK(ParseS3Error("<html>oops</html>").code.empty());
  CHECK(ParseS3Error("<Error><Code>").code.empty());

  auto id = ParseS3InitiateMultipart(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc-123</UploadId>"
      "</InitiateMultipartUploadResult>", "w");
  REQUIRE(id.ok());
  CHECK(*id == "abc-123");
  CHECK(!ParseS3InitiateMultipart("<InitiateMultipartUploadResult/>", "w").ok());
  CHECK(!ParseS3InitiateMultipart("<X><UploadId>a</UploadId></X>", "w").ok());

  CHECK(BuildS3CompleteMultipart({{1, "\"e1\""}, {2, "\"e2\""}}) ==
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part></CompleteMultipartUpload>");
}

TEST_CASE("UriEncode / CanonicalQuery: RFC 3986, uppercase hex, sorted by name") {
  CHECK(http::UriEncode("a-b_c.d~e", false) == "a-b_c.d~e");
  CHECK(http::UriEncode("pg/base/1 2+3=&", false) == "pg%2Fbase%2F1%202%2B3%3D%26");
  CHECK(http::UriEncode("pg/base/1 2", true) == "pg/base/1%202");
  CHECK(http::UriEncode("\xc3\xa9*!'()", false) == "%C3%A9%2A%21%27%28%29");
  CHECK(http::CanonicalQuery({{"prefix", "pgdata/base/"}, {"list-type", "2"}, {"delimiter", "/"},
                              {"continuation-token", "a+b/c="}}) ==
        "continuation-token=a%2Bb%2Fc%3D&delimiter=%2F&list-type=2&prefix=pgdata%2Fbase%2F");
  CHECK(http::CanonicalQuery({{"uploadId", "x"}, {"partNumber", "10"}}) == "partNumber=10&uploadId=x");
  CHECK(http::CanonicalQuery({}) == "");
}

TEST_CASE("RedactUrl hides signatures and credentials") {
  CHECK(http::RedactUrl("https://a.blob.core.windows.net/c/b?sv=2021&sig=SECRET&se=1") ==
        "https://a.blob.core.windows.net/c/b?sv=2021&sig=<redacted>&se=1");
  CHECK(http::RedactUrl("https://h/b/k?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1&x=1") ==
        "https://h/b/k?X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>&x=1");
  CHECK(http::RedactUrl("http://user:pass@host:9000/b/k") == "http://host:9000/b/k");
  CHECK(http::RedactUrl("http://host/b/k") == "http://host/b/k");
}

}  // namespace p2l
