// Tests for lib/storage/storage.cc: ValidateObjectName, JoinName, ParseStorageUrl / OpenStorage.

#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/backends.h"
#include "storage/s3_storage.h"
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

TEST_CASE("ForSide: one side's endpoint, region and env prefix replace the shared ones, the rest is kept") {
  StorageOptions shared;
  shared.endpoint = "http://shared:9000";
  shared.region = "us-east-1";
  shared.env_prefix = "ALL_";
  shared.concurrency = 7;
  const StorageOptions src = ForSide(shared, {.endpoint = "http://minio:9000", .region = "", .env_prefix = ""});
  CHECK(src.endpoint == "http://minio:9000");
  CHECK(src.region == "us-east-1");
  CHECK(src.env_prefix == "ALL_");
  CHECK(src.concurrency == 7);
  const StorageOptions dst = ForSide(shared, {.endpoint = "", .region = "eu-central-1", .env_prefix = "DST_"});
  CHECK(dst.endpoint == "http://shared:9000");
  CHECK(dst.region == "eu-central-1");
  CHECK(dst.env_prefix == "DST_");
  const StorageOptions same = ForSide(shared, SideOverrides{});
  CHECK(same.endpoint == shared.endpoint);
  CHECK(same.region == shared.region);
  CHECK(same.env_prefix == shared.env_prefix);
}

TEST_CASE("CheckEnvPrefix: variable-name characters only") {
  CHECK(CheckEnvPrefix("", "--env-prefix").ok());
  CHECK(CheckEnvPrefix("SRC_", "--env-prefix").ok());
  CHECK(CheckEnvPrefix("prod2_", "--env-prefix").ok());
  const Status bad = CheckEnvPrefix("SRC-", "--source-env-prefix");
  CHECK(bad.code() == Code::kUsage);
  CHECK(bad.message().find("--source-env-prefix") != std::string::npos);
  CHECK(!CheckEnvPrefix("A=B", "--env-prefix").ok());
  CHECK(!CheckEnvPrefix(std::string(65, 'A'), "--env-prefix").ok());
}

TEST_CASE("S3 storage reads its variables with the env prefix, and only with it") {
  const char* names[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
                         "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  for (const char* n : names) {
    for (const std::string& v : {std::string(n), std::string("P2LT_") + n}) {
      const char* old = std::getenv(v.c_str());
      saved.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
      unsetenv(v.c_str());
    }
  }
  setenv("AWS_ACCESS_KEY_ID", "plain-id", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "plain-secret", 1);
  setenv("AWS_REGION", "us-west-2", 1);
  StorageOptions o;
  o.env_prefix = "P2LT_";
  Result<S3Config> none = S3ConfigFromEnv("bkt", "", o);
  REQUIRE(!none.ok());  // the plain names are not a fallback
  CHECK(none.status().code() == Code::kUsage);
  CHECK(none.status().message().find("P2LT_AWS_ACCESS_KEY_ID") != std::string::npos);
  setenv("P2LT_AWS_ACCESS_KEY_ID", "side-id", 1);
  setenv("P2LT_AWS_SECRET_ACCESS_KEY", "side-secret", 1);
  setenv("P2LT_AWS_REGION", "eu-north-1", 1);
  setenv("P2LT_AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
  Result<S3Config> side = S3ConfigFromEnv("bkt", "", o);
  REQUIRE(side.ok());
  CHECK(side->access_key == "side-id");
  CHECK(side->secret_key == "side-secret");
  CHECK(side->region == "eu-north-1");
  CHECK(side->endpoint == "http://127.0.0.1:9");
  CHECK(S3Region(o) == "eu-north-1");
  Result<S3Config> plain = S3ConfigFromEnv("bkt", "", StorageOptions{});
  REQUIRE(plain.ok());
  CHECK(plain->access_key == "plain-id");
  CHECK(plain->region == "us-west-2");
  CHECK(plain->endpoint.empty());
  CHECK(S3Region(StorageOptions{}) == "us-west-2");
  o.region = "ap-south-1";  // the flag wins over the variables
  CHECK(S3Region(o) == "ap-south-1");
  o.region.clear();
  // Bad values name the variable they came from; an endpoint holding credentials is not shown.
  setenv("P2LT_AWS_ENDPOINT_URL", "http://user:hunter2@127.0.0.1:9", 1);
  Result<S3Config> cred_ep = S3ConfigFromEnv("bkt", "", o);
  REQUIRE(!cred_ep.ok());
  CHECK(cred_ep.status().message().find("P2LT_AWS_ENDPOINT_URL") != std::string::npos);
  CHECK(cred_ep.status().message().find("hunter2") == std::string::npos);
  setenv("P2LT_AWS_ENDPOINT_URL", "127.0.0.1:9", 1);
  Result<S3Config> no_scheme = S3ConfigFromEnv("bkt", "", o);
  REQUIRE(!no_scheme.ok());
  CHECK(no_scheme.status().message().find("(P2LT_AWS_ENDPOINT_URL)") != std::string::npos);
  unsetenv("P2LT_AWS_ENDPOINT_URL");
  setenv("P2LT_AWS_REGION", "EU_NORTH", 1);
  Result<S3Config> bad_region = S3ConfigFromEnv("bkt", "", o);
  REQUIRE(!bad_region.ok());
  CHECK(bad_region.status().message().find("P2LT_AWS_REGION") != std::string::npos);
  unsetenv("P2LT_AWS_REGION");
  CHECK(S3Region(o) == "us-east-1");
  for (const auto& [n, v] : saved) {
    if (v) setenv(n.c_str(), v->c_str(), 1); else unsetenv(n.c_str());
  }
}

}  // namespace p2l
