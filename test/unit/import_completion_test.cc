// Tests for lib/import/completion.{h,cc}: the status object and notification documents (exact
// bytes), names, ReportFromIndex, and CompletionPublisher over an in-memory storage, a local
// directory (--status-dest) and a scripted HTTP receiver in this process: success, failure
// publication (best effort, original error kept), a read-only source, kConflict/kUsage skipping,
// never downgrading a done status of the same idempotency key.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "import/completion.h"
#include "import_test_http_server.h"

namespace p2l {

using std::chrono::milliseconds;
using testing::CapturingEvents;
using testing::NotifyTestServer;

namespace {

constexpr const char* kTenant = "0123456789abcdef0123456789abcdef";
constexpr const char* kTimeline = "fedcba9876543210fedcba9876543210";

// A Storage in memory; `read_only` makes Put fail like a bucket without write permission.
class MemStorage : public Storage {
 public:
  std::map<std::string, std::string> objects;
  bool read_only = false;
  int puts = 0;

  std::string Url() const override { return "mem://src"; }
  std::string Describe(std::string_view name) const override { return "mem://src/" + std::string(name); }
  Result<Listing> List(std::string_view) override { return Listing{}; }
  Result<std::vector<ObjectInfo>> ListRecursive(std::string_view) override { return std::vector<ObjectInfo>{}; }
  Result<ObjectInfo> Stat(std::string_view name) override {
    auto it = objects.find(std::string(name));
    if (it == objects.end()) return Status::NotFound(Describe(name) + ": not found");
    return ObjectInfo{it->first, it->second.size(), ""};
  }
  Result<std::unique_ptr<RandomReader>> OpenReader(std::string_view name, const ObjectInfo*) override {
    return Status::Internal(Describe(name) + ": not supported");
  }
  Result<std::string> ReadAll(std::string_view name, uint64_t max_size) override {
    auto it = objects.find(std::string(name));
    if (it == objects.end()) return Status::NotFound(Describe(name) + ": not found");
    if (it->second.size() > max_size) return Status::InvalidInput(Describe(name) + ": too large");
    return it->second;
  }
  Status Put(std::string_view name, std::string_view data) override {
    puts++;
    if (read_only) return Status::Io(Describe(name) + ": PUT: HTTP 403 AccessDenied");
    objects[std::string(name)] = std::string(data);
    return Status::OK();
  }
  Status PutIfAbsent(std::string_view name, std::string_view data) override {
    if (objects.count(std::string(name))) return Status::Conflict(Describe(name) + ": exists");
    return Put(name, data);
  }
  Result<std::unique_ptr<StagedObject>> Stage(std::string_view name) override {
    return Status::Internal(Describe(name) + ": not supported");
  }
  Status Delete(std::string_view name) override {
    objects.erase(std::string(name));
    return Status::OK();
  }
};

CompletionReport Report(ShardIdentity shard) {
  CompletionReport r;
  r.tenant_id = *Id16::FromHex(kTenant);
  r.timeline_id = *Id16::FromHex(kTimeline);
  r.shard = shard;
  r.idempotency_key = "key-1";
  r.started_at_nanos = 1732006961123456789LL;  // 2024-11-19T09:02:41.123456789
  r.finished_at_nanos = 1732007100000000000LL; // 2024-11-19T09:05:00
  r.layers = 3;
  r.bytes = 12345;
  return r;
}

ShardIdentity Shard0104() { return *ShardIdentity::Make(1, 4, 2048); }

NotifyOptions FastNotify(const std::string& url, milliseconds timeout) {
  NotifyOptions o;
  o.url = url;
  o.timeout = timeout;
  o.initial_backoff = milliseconds(10);
  o.max_backoff = milliseconds(50);
  return o;
}

bool Contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string TempDir() {
  char tmpl[] = "/tmp/p2l-completion-XXXXXX";
  char* d = ::mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  return d;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("completion: names and tenant_shard_id") {
  const TenantId t = *Id16::FromHex(kTenant);
  CHECK(TenantShardIdString(t, ShardIdentity::Unsharded()) == kTenant);
  CHECK(TenantShardIdString(t, *ShardIdentity::Make(0, 1, 2048)) == std::string(kTenant) + "-0001");
  CHECK(TenantShardIdString(t, Shard0104()) == std::string(kTenant) + "-0104");
  CHECK(StatusObjectName(ShardIdentity::Unsharded()) == "status/shard-0000");
  CHECK(StatusObjectName(*ShardIdentity::Make(0, 1, 2048)) == "status/shard-0001");
  CHECK(StatusObjectName(Shard0104()) == "status/shard-0104");
  CHECK(StatusObjectName(*ShardIdentity::Make(10, 16, 2048)) == "status/shard-0a10");
  CHECK(FormatRfc3339Micros(1732006961123456789LL) == "2024-11-19T09:02:41.123456Z");
  CHECK(FormatRfc3339Micros(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(FormatRfc3339Micros(-1000) == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("completion: status object, exact bytes") {
  const CompletionReport r = Report(Shard0104());
  CHECK(StatusObjectBody(r, std::nullopt) ==
        std::string(R"({"done":true,"idempotency_key":"key-1","tenant_shard_id":")") + kTenant +
            R"(-0104","timeline_id":")" + kTimeline +
            R"(","started_at":"2024-11-19T09:02:41.123456Z","finished_at":"2024-11-19T09:05:00.000000Z",)"
            R"("layers":3,"bytes":12345,"error":null})" + "\n");
  CHECK(StatusObjectBody(r, std::string("base/5/16384: size 8193 \"odd\"")) ==
        std::string(R"({"done":false,"idempotency_key":"key-1","tenant_shard_id":")") + kTenant +
            R"(-0104","timeline_id":")" + kTimeline +
            R"(","started_at":"2024-11-19T09:02:41.123456Z","finished_at":"2024-11-19T09:05:00.000000Z",)"
            R"("layers":3,"bytes":12345,"error":"base/5/16384: size 8193 \"odd\""})" + "\n");
  // Unsharded, unknown times.
  CompletionReport u = Report(ShardIdentity::Unsharded());
  u.started_at_nanos = 0;
  u.finished_at_nanos = 0;
  auto j = nlohmann::json::parse(StatusObjectBody(u, std::nullopt));
  CHECK(j["tenant_shard_id"] == kTenant);
  CHECK(j["started_at"].is_null());
  CHECK(j["finished_at"].is_null());
  // An empty error is still an error; a huge one is bounded; invalid UTF-8 does not throw.
  j = nlohmann::json::parse(StatusObjectBody(u, std::string()));
  CHECK(j["done"] == false);
  CHECK(j["error"] == "unknown error");
  j = nlohmann::json::parse(StatusObjectBody(u, std::string(100000, 'x')));
  CHECK(j["error"].get<std::string>().size() == 4096 + 3);
  j = nlohmann::json::parse(StatusObjectBody(u, std::string("bad \xff\xfe name")));
  CHECK(j["done"] == false);
}

TEST_CASE("completion: notification body, exact bytes") {
  const CompletionReport r = Report(Shard0104());
  CHECK(NotificationBody(r, std::nullopt) ==
        std::string(R"({"tenant_shard_id":")") + kTenant + R"(-0104","tenant_id":")" + kTenant +
            R"(","timeline_id":")" + kTimeline +
            R"(","shard":"0104","idempotency_key":"key-1","status":"done","error":null,"layers":3,"bytes":12345})");
  CHECK(NotificationBody(r, std::string("disk full")) ==
        std::string(R"({"tenant_shard_id":")") + kTenant + R"(-0104","tenant_id":")" + kTenant +
            R"(","timeline_id":")" + kTimeline +
            R"(","shard":"0104","idempotency_key":"key-1","status":"error","error":"disk full","layers":3,"bytes":12345})");
  auto j = nlohmann::json::parse(NotificationBody(Report(ShardIdentity::Unsharded()), std::nullopt));
  CHECK(j["tenant_shard_id"] == kTenant);
  CHECK(j["shard"] == "0000");
}

TEST_CASE("completion: ReportFromIndex") {
  IndexPart idx;
  ImportPgdata ip;
  ip.state = ImportPgdata::State::kDone;
  ip.idempotency_key = "idem";
  ip.started_at_nanos = 1000;
  ip.finished_at_nanos = 2000;
  idx.import_pgdata = ip;
  idx.layer_metadata["a"].file_size = 100;
  idx.layer_metadata["b"].file_size = 23;
  const TenantId t = *Id16::FromHex(kTenant);
  const TimelineId tl = *Id16::FromHex(kTimeline);
  CompletionReport r = ReportFromIndex(idx, t, tl, Shard0104());
  CHECK(r.idempotency_key == "idem");
  CHECK(r.started_at_nanos == 1000);
  CHECK(r.finished_at_nanos == 2000);
  CHECK(r.layers == 2);
  CHECK(r.bytes == 123);
  CHECK(r.tenant_id == t);
  CHECK(r.timeline_id == tl);
  CHECK(r.shard.IndexString() == "0104");
  r = ReportFromIndex(IndexPart{}, t, tl, ShardIdentity::Unsharded());
  CHECK(r.layers == 0);
  CHECK(r.idempotency_key.empty());
}

TEST_CASE("completion: success writes the status object and notifies") {
  NotifyTestServer srv({NotifyTestServer::Answer(503), NotifyTestServer::Answer(200)});
  MemStorage src;
  CapturingEvents ev;
  CompletionPublisher pub(&src, true, FastNotify(srv.url(), milliseconds(30000)), ev);
  const CompletionReport r = Report(Shard0104());
  Status st = pub.Finish(r, Status::OK());
  REQUIRE_MESSAGE(st.ok(), st.message());
  REQUIRE(src.objects.count("status/shard-0104") == 1);
  CHECK(src.objects["status/shard-0104"] == StatusObjectBody(r, std::nullopt));
  CHECK(src.objects.size() == 1);  // nothing else is written into the source
  auto got = srv.received();
  REQUIRE(got.size() == 2);
  CHECK(got[1].body == NotificationBody(r, std::nullopt));
  auto sw = ev.Named("status_written");
  REQUIRE(sw.size() == 1);
  CHECK(sw[0]["object"] == "mem://src/status/shard-0104");
  CHECK(sw[0]["shard"] == "0104");
  CHECK(sw[0]["done"] == true);
  REQUIRE(ev.Named("notified").size() == 1);
  CHECK(ev.Named("notified")[0]["attempts"] == 2);
  CHECK(pub.StatusLocation(r.shard) == "mem://src/status/shard-0104");
}

TEST_CASE("completion: a rerun of a finished import leaves an identical status object untouched") {
  NotifyTestServer srv({NotifyTestServer::Answer(200), NotifyTestServer::Answer(200)});
  MemStorage src;
  CapturingEvents ev;
  CompletionPublisher pub(&src, true, FastNotify(srv.url(), milliseconds(30000)), ev);
  const CompletionReport r = Report(Shard0104());
  REQUIRE(pub.Finish(r, Status::OK()).ok());
  REQUIRE(pub.Finish(r, Status::OK()).ok());
  CHECK(src.puts == 1);                 // the second run found the same document
  CHECK(srv.received().size() == 2);   // but notifies again (at-least-once)
  auto sw = ev.Named("status_written");
  REQUIRE(sw.size() == 2);
  CHECK(sw[0]["unchanged"] == false);
  CHECK(sw[1]["unchanged"] == true);
  // Different content (e.g. an earlier error record) is rewritten.
  src.objects["status/shard-0104"] = "{\"done\":false}\n";
  REQUIRE(pub.Finish(r, Status::OK()).ok());
  CHECK(src.puts == 2);
  CHECK(src.objects["status/shard-0104"] == StatusObjectBody(r, std::nullopt));
}

TEST_CASE("completion: without --notify-url only the status object is written") {
  MemStorage src;
  CompletionPublisher pub(&src, true, std::nullopt, NullEvents());
  CHECK(!pub.notify_enabled());
  REQUIRE(pub.Finish(Report(ShardIdentity::Unsharded()), Status::OK()).ok());
  CHECK(src.objects.count("status/shard-0000") == 1);
}

TEST_CASE("completion: a read-only source says to pass --status-dest and skips the notification") {
  NotifyTestServer srv({NotifyTestServer::Answer(200)});
  MemStorage src;
  src.read_only = true;
  CompletionPublisher pub(&src, true, FastNotify(srv.url(), milliseconds(30000)), NullEvents());
  Status st = pub.Finish(Report(Shard0104()), Status::OK());
  REQUIRE(!st.ok());
  CHECK(st.code() == Code::kIo);
  CHECK(Contains(st.message(), "mem://src/status/shard-0104"));
  CHECK(Contains(st.message(), "--status-dest"));
  CHECK(Contains(st.message(), "read-only"));
  CHECK(srv.requests() == 0);
}

TEST_CASE("completion: notification timeout is kTimeout after the status object was written") {
  MemStorage src;
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::ClosedPort()) + "/hook";
  CompletionPublisher pub(&src, true, FastNotify(url, milliseconds(300)), NullEvents());
  Status st = pub.Finish(Report(Shard0104()), Status::OK());
  REQUIRE(!st.ok());
  CHECK(st.code() == Code::kTimeout);
  CHECK(ExitCodeFor(st.code()) == 6);
  CHECK(Contains(st.message(), url));
  CHECK(Contains(st.message(), "rerun the import"));
  CHECK(Contains(st.message(), "last error:"));
  CHECK(src.objects.count("status/shard-0104") == 1);
}

TEST_CASE("completion: a failed import publishes done=false + error and keeps its own error") {
  NotifyTestServer srv({NotifyTestServer::Answer(200)});
  MemStorage src;
  CapturingEvents ev;
  CompletionPublisher pub(&src, true, FastNotify(srv.url(), milliseconds(30000)), ev);
  const CompletionReport r = Report(Shard0104());
  const Status failure = Status::SourceChanged("pgdata/base/5/16384: size changed from 8192 to 16384");
  Status st = pub.Finish(r, failure);
  CHECK(st.code() == Code::kSourceChanged);
  CHECK(st.message() == failure.message());
  REQUIRE(src.objects.count("status/shard-0104") == 1);
  CHECK(src.objects["status/shard-0104"] == StatusObjectBody(r, failure.message()));
  auto got = srv.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == NotificationBody(r, failure.message()));
  auto j = nlohmann::json::parse(got[0].body);
  CHECK(j["status"] == "error");
  CHECK(ev.Named("status_written")[0]["done"] == false);
}

TEST_CASE("completion: failure publication is best effort (read-only source, receiver down)") {
  MemStorage src;
  src.read_only = true;
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::ClosedPort()) + "/hook";
  CompletionPublisher pub(&src, true, FastNotify(url, milliseconds(200)), NullEvents());
  const Status failure = Status::Io("s3://b/pgdata/base/1/1: connection reset");
  Status st = pub.Finish(Report(Shard0104()), failure);
  CHECK(st.code() == Code::kIo);
  CHECK(st.message() == failure.message());
}

TEST_CASE("completion: kConflict and kUsage publish nothing") {
  NotifyTestServer srv({NotifyTestServer::Answer(200)});
  MemStorage src;
  CompletionPublisher pub(&src, true, FastNotify(srv.url(), milliseconds(30000)), NullEvents());
  CHECK(pub.Finish(Report(Shard0104()), Status::Conflict("another import holds the destination")).code() ==
        Code::kConflict);
  CHECK(pub.Finish(Report(Shard0104()), Status::Usage("bad flag")).code() == Code::kUsage);
  CHECK(src.puts == 0);
  CHECK(srv.requests() == 0);
}

TEST_CASE("completion: a done status of the same key is not overwritten by a later failure") {
  NotifyTestServer srv({NotifyTestServer::Answer(200)});
  MemStorage src;
  CompletionPublisher pub(&src, true, FastNotify(srv.url(), milliseconds(30000)), NullEvents());
  CompletionReport r = Report(Shard0104());
  REQUIRE(pub.Finish(r, Status::OK()).ok());
  const std::string done = src.objects["status/shard-0104"];
  CHECK(pub.Finish(r, Status::Io("transient")).code() == Code::kIo);
  CHECK(src.objects["status/shard-0104"] == done);
  CHECK(srv.requests() == 1);  // only the "done" notification
  // A different key (a new import into the same shard) does overwrite it.
  r.idempotency_key = "key-2";
  CHECK(pub.Finish(r, Status::Io("transient")).code() == Code::kIo);
  CHECK(nlohmann::json::parse(src.objects["status/shard-0104"])["done"] == false);
  CHECK(srv.requests() == 2);
  // A damaged status object does not block anything.
  src.objects["status/shard-0104"] = "{not json";
  CHECK(pub.Finish(r, Status::Io("again")).code() == Code::kIo);
  CHECK(nlohmann::json::parse(src.objects["status/shard-0104"])["error"] == "again");
}

TEST_CASE("completion: Open validates flags and honours --status-dest") {
  MemStorage src;
  ::unsetenv(kNotifyTokenEnv);
  CompletionFlags f;
  f.notify_url = "ftp://host/x";
  auto p = CompletionPublisher::Open(f, &src, StorageOptions{}, NullEvents());
  REQUIRE(!p.ok());
  CHECK(p.status().code() == Code::kUsage);

  f = CompletionFlags{};
  f.notify_timeout = "soon";
  p = CompletionPublisher::Open(f, &src, StorageOptions{}, NullEvents());
  REQUIRE(!p.ok());
  CHECK(p.status().code() == Code::kUsage);
  CHECK(Contains(p.status().message(), "--notify-timeout"));

  f = CompletionFlags{};
  f.notify_url = "http://127.0.0.1:9/hook";
  f.notify_timeout = "2h";
  p = CompletionPublisher::Open(f, &src, StorageOptions{}, NullEvents());
  REQUIRE(p.ok());
  CHECK((*p)->notify_enabled());
  CHECK((*p)->notify_options()->timeout == milliseconds(7200000));
  CHECK((*p)->StatusLocation(Shard0104()) == "mem://src/status/shard-0104");

  // --status-dest: a local directory gets <dir>/status/shard-NNCC; the source is untouched.
  const std::string dir = TempDir();
  f = CompletionFlags{};
  f.status_dest = dir;
  p = CompletionPublisher::Open(f, &src, StorageOptions{}, NullEvents());
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  CHECK(!(*p)->notify_enabled());
  const CompletionReport r = Report(Shard0104());
  REQUIRE((*p)->Finish(r, Status::OK()).ok());
  CHECK(ReadFile(dir + "/status/shard-0104") == StatusObjectBody(r, std::nullopt));
  CHECK(src.puts == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("completion: a plain local PGDATA source gets no status object by default") {
  ::unsetenv(kNotifyTokenEnv);
  const std::string pgdata = TempDir();
  std::filesystem::create_directories(pgdata + "/global");
  std::ofstream(pgdata + "/global/pg_control") << "x";
  auto src = OpenStorage(pgdata, StorageOptions{});
  REQUIRE(src.ok());
  auto p = CompletionPublisher::Open(CompletionFlags{}, src->get(), StorageOptions{}, NullEvents());
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  const CompletionReport r = Report(Shard0104());
  CHECK((*p)->Finish(r, Status::OK()).ok());
  CHECK((*p)->Finish(r, Status::Io("failed")).code() == Code::kIo);   // the import's error is kept
  CHECK(!std::filesystem::exists(pgdata + "/status"));

  // A local directory in the import-bucket layout (pgdata/ beside status/) keeps the default.
  const std::string bucket = TempDir();
  std::filesystem::create_directories(bucket + "/pgdata/global");
  std::ofstream(bucket + "/pgdata/global/pg_control") << "x";
  auto bsrc = OpenStorage(bucket, StorageOptions{});
  REQUIRE(bsrc.ok());
  p = CompletionPublisher::Open(CompletionFlags{}, bsrc->get(), StorageOptions{}, NullEvents());
  REQUIRE(p.ok());
  REQUIRE((*p)->Finish(r, Status::OK()).ok());
  CHECK(ReadFile(bucket + "/status/shard-0104") == StatusObjectBody(r, std::nullopt));
}

}  // namespace p2l
