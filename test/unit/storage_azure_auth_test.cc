// Tests for lib/storage/azure_auth.{h,cc}: base64, the Shared Key string-to-sign and signature
// (known answers computed independently with Python's hmac), SAS tokens, connection strings.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "storage/azure_auth.h"

namespace p2l::azure {

TEST_CASE("Base64: round trips and strict decoding") {
  const std::vector<std::string> cases = {"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)};
  for (const std::string& s : cases) {
    auto d = Base64Decode(Base64Encode(s));
    REQUIRE(d.has_value());
    CHECK(*d == s);
  }
  CHECK(Base64Encode("foobar") == "Zm9vYmFy");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(!Base64Decode("Zm8").has_value());      // not a multiple of 4
  CHECK(!Base64Decode("Zm8*").has_value());     // bad alphabet
  CHECK(!Base64Decode("Z=8=").has_value());     // '=' inside
  CHECK(!Base64Decode("Zm9=Zm9v").has_value()); // padding before the end
  CHECK(!Base64Decode("QR==").has_value());     // non-canonical padding bits
  CHECK(!Base64Decode("Zm 8").has_value());     // whitespace
  CHECK(Base64Decode(kDevStoreKey).has_value());
}

TEST_CASE("SharedKeyStringToSign and SharedKeySignature: known answer") {
  http::Headers h;
  h.Add("x-ms-version", kApiVersion);
  h.Add("X-MS-Date", "Tue, 24 Nov 2026 12:00:00 GMT");
  h.Add("x-ms-blob-type", "BlockBlob");
  h.Add("x-ms-meta-a", "  x   y ");  // trimmed, runs of spaces folded
  h.Add("x-ms-meta-a", "z");         // repeated: joined with ','
  h.Add("Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==");
  h.Add("If-None-Match", "*");
  h.Add("User-Agent", "not signed");
  const QueryParams q = {{"comp", "block"}, {"blockid", "QUJD"}};
  const std::string sts =
      SharedKeyStringToSign("PUT", h, 11, kDevStoreAccount, "/devstoreaccount1/c1/dir/a%20b", q);
  const std::string want =
      "PUT\n\n\n11\nXrY7u+Ae7tCTyyK7j1rNww==\n\n\n\n\n*\n\n\n"
      "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 24 Nov 2026 12:00:00 GMT\nx-ms-meta-a:x y,z\n"
      "x-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/c1/dir/a%20b\nblockid:QUJD\ncomp:block";
  CHECK(sts == want);
  CHECK(SharedKeySignature(*Base64Decode(kDevStoreKey), sts) == "QrHxtTPlo0TCBvcVaJEn8km0MDatJVG7ATNufPr7Ow8=");
}

TEST_CASE("SharedKeyStringToSign: zero Content-Length is empty, repeated query values sorted") {
  http::Headers h;
  h.Add("x-ms-range", "bytes=0-9");
  const std::string sts = SharedKeyStringToSign("GET", h, 0, "acct", "/c", {{"Include", "b"}, {"include", "a"}});
  CHECK(sts == "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-range:bytes=0-9\n/acct/c\ninclude:a,b");
  CHECK(SharedKeyStringToSign("GET", http::Headers(), 0, "acct", "", {}).ends_with("\n/acct/"));
}

TEST_CASE("HttpDateNow: RFC 1123 form") {
  const std::string d = HttpDateNow();
  REQUIRE(d.size() == 29);
  CHECK(d.ends_with(" GMT"));
  CHECK(d[3] == ',');
}

TEST_CASE("NormalizeSasToken") {
  auto ok = NormalizeSasToken("?sv=2019-12-12&sp=r&sig=abc%3D\n", "X");
  REQUIRE(ok.ok());
  CHECK(*ok == "sv=2019-12-12&sp=r&sig=abc%3D");
  for (const char* bad : {"", "?", "sv=1&sp=r", "sv=1&&sig=a", "=x&sig=a", "sv=1 2&sig=a", "sig=a#frag"}) {
    auto r = NormalizeSasToken(bad, "AZURE_STORAGE_SAS_TOKEN");
    CHECK(!r.ok());
    CHECK(r.status().code() == Code::kUsage);
    CHECK(r.status().message().starts_with("AZURE_STORAGE_SAS_TOKEN"));
  }
  auto secret = NormalizeSasToken("sv=1&sp=r&secretvalue=zz9", "S");
  REQUIRE(!secret.ok());
  CHECK(secret.status().message().find("zz9") == std::string::npos);
}

TEST_CASE("ParseConnectionString: the usual forms") {
  auto cs = ParseConnectionString(
      "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=QUJDRA==;EndpointSuffix=core.chinacloudapi.cn;",
      "CS");
  REQUIRE(cs.ok());
  CHECK(cs->protocol == "https");
  CHECK(cs->account == "acct1");
  CHECK(cs->key == "QUJDRA==");
  CHECK(cs->endpoint_suffix == "core.chinacloudapi.cn");
  CHECK(cs->blob_endpoint.empty());

  auto sas = ParseConnectionString("BlobEndpoint=http://127.0.0.1:1/devstoreaccount1/;SharedAccessSignature=sv=1&sig=a%3D",
                                   "CS");
  REQUIRE(sas.ok());
  CHECK(sas->blob_endpoint == "http://127.0.0.1:1/devstoreaccount1");
  CHECK(sas->sas == "sv=1&sig=a%3D");
  CHECK(sas->key.empty());

  auto dev = ParseConnectionString("UseDevelopmentStorage=true", "CS");
  REQUIRE(dev.ok());
  CHECK(dev->account == kDevStoreAccount);
  CHECK(dev->key == kDevStoreKey);
  CHECK(dev->blob_endpoint == kDevStoreBlobEndpoint);

  auto names = ParseConnectionString(" accountname = acct1 ;ACCOUNTKEY=QUJDRA==;QueueEndpoint=http://x", "CS");
  REQUIRE(names.ok());
  CHECK(names->account == "acct1");
}

TEST_CASE("ParseConnectionString: errors name the part, never a value") {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {Case{"AccountName=a;garbage;AccountKey=c2VjcmV0", "part 2 is not Name=Value"},
                        Case{"AccountName=a;AccountKey=not-base64!", "AccountKey is not valid base64"},
                        Case{"AccountName=a;AccountName=b;AccountKey=QUJDRA==", "AccountName is given twice"},
                        Case{"AccountName=a", "neither AccountKey nor SharedAccessSignature"},
                        Case{"AccountKey=QUJDRA==", "no AccountName"},
                        Case{"DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=QUJDRA==", "http or https"},
                        Case{"UseDevelopmentStorage=yes", "must be true"}}) {
    auto r = ParseConnectionString(c.text, "AZURE_STORAGE_CONNECTION_STRING");
    REQUIRE_MESSAGE(!r.ok(), c.text);
    CHECK(r.status().code() == Code::kUsage);
    CHECK_MESSAGE(r.status().message().find(c.message) != std::string::npos, r.status().message());
    CHECK(r.status().message().find("c2VjcmV0") == std::string::npos);
    CHECK(r.status().message().find("not-base64!") == std::string::npos);
  }
}

}  // namespace p2l::azure
