// Tests for lib/storage/storage.cc: ValidateObjectName, JoinName, ParseStorageUrl / OpenStorage.

#include <doctest/doctest.h>

#include <string>

#include "storage/backends.h"
#include "storage/storage.h"

namespace p2l {

TEST_CASE("ValidateObjectName: accepts ordinary names") {
  for (const char* ok : {"PG_VERSION", "base/5/16384", "base/5/16384.1", "pg_tblspc/16407/PG_17_202406281/5/16500",
                         "a", "a b/c~d", "x/.hidden", "..a", "a..", "a/...", "utf8/\xc3\xa9t\xc3\xa9"}) {
    CAPTURE(ok);
    CHECK(ValidateObjectName(ok).ok());
  }
  CHECK(ValidateObjectName(std::string(1024, 'a')).ok());
}

TEST_CASE("ValidateObjectName: rejects escapes, absolute, empty components, control bytes") {
  struct Bad {
    std::string name;
    const char* why;
  };
  const Bad bad[] = {
      {"", "empty"},
      {"/etc/passwd", "absolute"},
      {"..", "\"..\""},
      {"../x", "\"..\""},
      {"a/../../x", "\"..\""},
      {"a/..", "\"..\""},
      {".", "\".\""},
      {"a/./b", "\".\""},
      {"a//b", "empty path component"},
      {"a/", "empty path component"},
      {std::string("a\0b", 3), "control byte 0x00"},
      {"a\nb", "control byte 0x0a"},
      {"a\x7f", "control byte 0x7f"},
      {"a\\b", "backslash"},
      {"..\\x", "backslash"},
      {std::string(1025, 'a'), "longer than 1024"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.name);
    Status st = ValidateObjectName(b.name);
    CHECK(st.code() == Code::kInvalidInput);
    CHECK(st.message().find(b.why) != std::string::npos);
    // The message never carries raw control bytes.
    for (char c : st.message()) CHECK(static_cast<unsigned char>(c) >= 0x20);
  }
}

TEST_CASE("JoinName") {
  CHECK(JoinName("", "b") == "b");
  CHECK(JoinName("a", "") == "a");
  CHECK(JoinName("a", "b") == "a/b");
  CHECK(JoinName("a/", "b") == "a/b");
  CHECK(JoinName("a/", "/b") == "a/b");
  CHECK(JoinName("a/b", "c/d") == "a/b/c/d");
  CHECK(JoinName("", "") == "");
}

TEST_CASE("ParseStorageUrl: local, file, s3, azure, errors") {
  auto u = ParseStorageUrl("/var/lib/pg");
  REQUIRE(u.ok());
  CHECK(u->kind == StorageUrl::Kind::kLocal);
  CHECK(u->path == "/var/lib/pg");
  u = ParseStorageUrl("relative/dir");
  REQUIRE(u.ok());
  CHECK(u->path == "relative/dir");
  u = ParseStorageUrl("file:///abs/dir");
  REQUIRE(u.ok());
  CHECK(u->kind == StorageUrl::Kind::kLocal);
  CHECK(u->path == "/abs/dir");
  CHECK(ParseStorageUrl("file://host/dir").status().code() == Code::kUsage);

  u = ParseStorageUrl("s3://my-bucket");
  REQUIRE(u.ok());
  CHECK(u->kind == StorageUrl::Kind::kS3);
  CHECK(u->bucket == "my-bucket");
  CHECK(u->prefix == "");
  u = ParseStorageUrl("s3://my-bucket/");
  REQUIRE(u.ok());
  CHECK(u->prefix == "");
  u = ParseStorageUrl("s3://my.bucket.1/some/prefix/");
  REQUIRE(u.ok());
  CHECK(u->bucket == "my.bucket.1");
  CHECK(u->prefix == "some/prefix");
  for (const char* bad : {"s3://", "s3://ab", "s3://Upper", "s3://bad_bucket/x", "s3://-lead/x", "s3://b/../x",
                          "s3://bucket/a//b", "gs://bucket/x", "ftp://x/y", "https://example.com/x"}) {
    CAPTURE(bad);
    CHECK(ParseStorageUrl(bad).status().code() == Code::kUsage);
  }
  u = ParseStorageUrl("az://account/container/prefix");
  REQUIRE(u.ok());
  CHECK(u->kind == StorageUrl::Kind::kAzure);
  u = ParseStorageUrl("https://acct.blob.core.windows.net/c/p");
  REQUIRE(u.ok());
  CHECK(u->kind == StorageUrl::Kind::kAzure);
}

TEST_CASE("OpenStorage: local and S3 without credentials") {
  auto s = OpenStorage("/tmp", StorageOptions{});
  REQUIRE(s.ok());
  CHECK((*s)->IsLocal());
  CHECK((*s)->Url() == "/tmp");
  CHECK((*s)->Describe("a/b") == "/tmp/a/b");

  // S3 needs credentials; the message says which variables.
  const char* saved_id = std::getenv("AWS_ACCESS_KEY_ID");
  std::string saved = saved_id ? saved_id : "";
  unsetenv("AWS_ACCESS_KEY_ID");
  auto s3 = OpenStorage("s3://bucket/prefix", StorageOptions{});
  CHECK(s3.status().code() == Code::kUsage);
  CHECK(s3.status().message().find("AWS_ACCESS_KEY_ID") != std::string::npos);
  setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret-never-shown", 1);
  StorageOptions o;
  o.endpoint = "http://127.0.0.1:1/";
  s3 = OpenStorage("s3://bucket/prefix/", o);
  REQUIRE(s3.ok());
  CHECK((*s3)->Url() == "s3://bucket/prefix");
  CHECK((*s3)->Describe("base/1") == "s3://bucket/prefix/base/1");
  CHECK(!(*s3)->IsLocal());
  o.endpoint = "127.0.0.1:9000";
  CHECK(OpenStorage("s3://bucket", o).status().code() == Code::kUsage);
  o.endpoint = "http://user:pw@127.0.0.1:9000";
  CHECK(OpenStorage("s3://bucket", o).status().code() == Code::kUsage);
  if (saved_id) setenv("AWS_ACCESS_KEY_ID", saved.c_str(), 1); else unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST_CASE("ForSide: one side's endpoint and region replace the shared ones, the rest is kept") {
  StorageOptions shared;
  shared.endpoint = "http://shared:9000";
  shared.region = "us-east-1";
  shared.concurrency = 7;
  const StorageOptions src = ForSide(shared, "http://minio:9000", "");
  CHECK(src.endpoint == "http://minio:9000");
  CHECK(src.region == "us-east-1");
  CHECK(src.concurrency == 7);
  const StorageOptions dst = ForSide(shared, "", "eu-central-1");
  CHECK(dst.endpoint == "http://shared:9000");
  CHECK(dst.region == "eu-central-1");
  const StorageOptions same = ForSide(shared, "", "");
  CHECK(same.endpoint == shared.endpoint);
  CHECK(same.region == shared.region);
}

}  // namespace p2l
