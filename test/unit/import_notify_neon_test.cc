// Tests for the Neon control-plane shape of the completion notification (issue 15):
// --notify-format parsing, <base>/import_complete URLs, the {"tenant_id","timeline_id","error"}
// body, --notify-token-file handling (newline stripped, missing/empty/bad files refused naming
// the file and never quoting it), MakeNotifyOptions for the neon format (PUT, token file over
// the environment), the per-shard body choice, and PostNotification sending PUT.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "import/completion.h"
#include "import/notify.h"
#include "import_test_http_server.h"

namespace p2l {

using std::chrono::milliseconds;

namespace {

bool Contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string TempDir() {
  char tmpl[] = "/tmp/p2l-notify-neon-XXXXXX";
  char* d = ::mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  return d;
}

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& content) {
  const std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

}  // namespace

TEST_CASE("notify neon: --notify-format") {
  CHECK(*ParseNotifyFormat("neon") == NotifyFormat::kNeon);
  CHECK(*ParseNotifyFormat("default") == NotifyFormat::kDefault);
  auto bad = ParseNotifyFormat("Neon");
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == Code::kUsage);
  CHECK(Contains(bad.status().message(), "'Neon'"));
  CHECK(std::string(NotifyFormatName(NotifyFormat::kNeon)) == "neon");
}

TEST_CASE("notify neon: import_complete URL") {
  CHECK(NeonImportCompleteUrl("http://cp:8080") == "http://cp:8080/import_complete");
  CHECK(NeonImportCompleteUrl("http://cp:8080/") == "http://cp:8080/import_complete");
  CHECK(NeonImportCompleteUrl("https://cp/api/v1") == "https://cp/api/v1/import_complete");
  CHECK(NeonImportCompleteUrl("https://cp/api/v1/") == "https://cp/api/v1/import_complete");
  CHECK(NeonImportCompleteUrl("https://cp/api?region=x") == "https://cp/api/import_complete?region=x");
}

TEST_CASE("notify neon: body has exactly tenant_id, timeline_id, error") {
  const std::string t = "0123456789abcdef0123456789abcdef", tl = "fedcba9876543210fedcba9876543210";
  CHECK(NeonImportCompleteBody(t, tl, std::nullopt) ==
        R"({"tenant_id":"0123456789abcdef0123456789abcdef","timeline_id":"fedcba9876543210fedcba9876543210","error":null})");
  CHECK(NeonImportCompleteBody(t, tl, std::string("disk \"full\"")) ==
        R"({"tenant_id":"0123456789abcdef0123456789abcdef","timeline_id":"fedcba9876543210fedcba9876543210","error":"disk \"full\""})");
  // empty message: still a string (an error is never null)
  CHECK(Contains(NeonImportCompleteBody(t, tl, std::string()), R"("error":"unknown error")"));
  // bounded
  CHECK(NeonImportCompleteBody(t, tl, std::string(1 << 20, 'x')).size() < 70000);
  // invalid UTF-8 replaced, never thrown
  CHECK(!NeonImportCompleteBody(t, tl, std::string("bad \xff byte")).empty());

  // the per-shard choice of body
  CompletionReport r;
  r.tenant_id = *TenantId::FromHex(t);
  r.timeline_id = *TimelineId::FromHex(tl);
  CHECK(NotificationBodyFor(NotifyFormat::kNeon, r, std::nullopt) == NeonImportCompleteBody(t, tl, std::nullopt));
  CHECK(NotificationBodyFor(NotifyFormat::kDefault, r, std::nullopt) == NotificationBody(r, std::nullopt));
  CHECK(TenantNotificationBody(r.tenant_id, r.timeline_id, 4, std::nullopt) ==
        R"({"tenant_id":"0123456789abcdef0123456789abcdef","timeline_id":"fedcba9876543210fedcba9876543210",)"
        R"("shard_count":4,"status":"done","error":null})");
}

TEST_CASE("notify neon: token file") {
  const std::string dir = TempDir();
  CHECK(*ReadNotifyTokenFile(WriteFile(dir, "a", "tok-abc.123\n")) == "tok-abc.123");
  CHECK(*ReadNotifyTokenFile(WriteFile(dir, "b", "tok-abc.123")) == "tok-abc.123");
  CHECK(*ReadNotifyTokenFile(WriteFile(dir, "c", "tok-abc.123\r\n")) == "tok-abc.123");

  auto refused = [&](const std::string& path, const std::string& why) {
    auto r = ReadNotifyTokenFile(path);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kUsage);
    CHECK_MESSAGE(Contains(r.status().message(), path), r.status().message());
    CHECK_MESSAGE(Contains(r.status().message(), why), r.status().message());
    CHECK(!Contains(r.status().message(), "secret-part"));
  };
  refused(dir + "/missing", "cannot read it");
  refused(WriteFile(dir, "empty", ""), "empty");
  refused(WriteFile(dir, "nl", "\n"), "empty");
  refused(WriteFile(dir, "two", "secret-part\nsecond-line\n"), "not a valid bearer token");
  refused(WriteFile(dir, "space", "secret-part other\n"), "not a valid bearer token");
  refused(WriteFile(dir, "big", std::string(9000, 'x')), "at most 8192 bytes");
  refused(dir, "not a regular file");
  if (::geteuid() != 0) {   // root reads anything
    const std::string p = WriteFile(dir, "unreadable", "secret-part\n");
    ::chmod(p.c_str(), 0);
    refused(p, "cannot open it");
  }
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("notify neon: MakeNotifyOptions for the neon format") {
  const std::string dir = TempDir();
  const std::string tf = WriteFile(dir, "token", "from-file\n");
  ::setenv(kNotifyTokenEnv, "from-env", 1);
  auto o = MakeNotifyOptions("http://127.0.0.1:1/cp/", "30s", NotifyFormat::kNeon, tf);
  REQUIRE(o.ok());
  CHECK(o->method == "PUT");
  CHECK(o->url == "http://127.0.0.1:1/cp/import_complete");
  CHECK(o->bearer_token == "from-file");   // the file wins over the environment
  CHECK(o->format == NotifyFormat::kNeon);
  o = MakeNotifyOptions("http://127.0.0.1:1/cp", "30s", NotifyFormat::kDefault, "");
  REQUIRE(o.ok());
  CHECK(o->method == "POST");
  CHECK(o->url == "http://127.0.0.1:1/cp");
  CHECK(o->bearer_token == "from-env");
  ::unsetenv(kNotifyTokenEnv);
  auto bad = MakeNotifyOptions("http://127.0.0.1:1/cp", "30s", NotifyFormat::kNeon, dir + "/nope");
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == Code::kUsage);
  CHECK(Contains(bad.status().message(), dir + "/nope"));

  // CompletionPublisher::Open checks the token file even without --notify-url
  CompletionFlags f;
  f.notify_token_file = dir + "/nope";
  auto p = CompletionPublisher::Open(f, nullptr, StorageOptions{}, NullEvents());
  REQUIRE(!p.ok());
  CHECK(p.status().code() == Code::kUsage);
  f.notify_token_file.clear();
  f.notify_format = "json";
  p = CompletionPublisher::Open(f, nullptr, StorageOptions{}, NullEvents());
  REQUIRE(!p.ok());
  CHECK(Contains(p.status().message(), "--notify-format"));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("notify neon: PostNotification sends PUT with the bearer token") {
  testing::NotifyTestServer srv({testing::NotifyTestServer::Answer(503), testing::NotifyTestServer::Answer(200)});
  NotifyOptions o;
  o.method = "PUT";
  o.url = srv.url();
  o.timeout = milliseconds(10000);
  o.initial_backoff = milliseconds(10);
  o.max_backoff = milliseconds(20);
  o.bearer_token = "tok-put";
  testing::CapturingEvents ev;
  auto r = PostNotification(o, R"({"tenant_id":"a","timeline_id":"b","error":null})", ev);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->attempts == 2);
  auto got = srv.received();
  REQUIRE(got.size() == 2);
  for (const auto& g : got) {
    CHECK(g.head.rfind("PUT /notify HTTP/1.1", 0) == 0);
    CHECK(Contains(g.head, "Authorization: Bearer tok-put"));
  }
}

}  // namespace p2l
