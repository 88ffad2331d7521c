// End-to-end tests of lib/import/import.{h,cc} (with job_writer, executor, lease, timeline_state)
// on synthetic PGDATA trees (plan_test_util.h) and a local destination: the index protocol, layer
// contents, idempotency, determinism across --jobs, resume after a failure, source changes and
// --restart.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "import/import.h"
#include "import/job_writer.h"
#include "index/index_part.h"
#include "index/remote_layout.h"
#include "layer/image_layer_reader.h"
#include "pg/page.h"
#include "plan_test_util.h"

namespace fs = std::filesystem;

namespace p2l {

namespace {

using plantest::TempPgdata;

struct Events : EventSink {
  std::mutex mu;
  std::vector<nlohmann::json> all;
  bool enabled() const override { return true; }
  void Emit(std::string_view event, nlohmann::json fields) override {
    std::lock_guard<std::mutex> g(mu);
    fields["event"] = std::string(event);
    all.push_back(std::move(fields));
  }
  std::vector<nlohmann::json> Named(const std::string& n) {
    std::vector<nlohmann::json> out;
    for (auto& e : all) {
      if (e["event"] == n) out.push_back(e);
    }
    return out;
  }
};

struct DestDir {
  fs::path path;
  DestDir() {
    std::string t = (fs::temp_directory_path() / "p2l-import-test.XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~DestDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string Read(const std::string& rel) const {
    std::ifstream in(path / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Every file (relative name -> content) under the timeline directory.
  std::map<std::string, std::string> Files(const std::string& dir) const {
    std::map<std::string, std::string> out;
    if (!fs::exists(path / dir)) return out;
    for (auto& e : fs::directory_iterator(path / dir)) out[e.path().filename().string()] = Read(dir + "/" + e.path().filename().string());
    return out;
  }
};

const TenantId kTenant = *TenantId::FromHex("8f2c0c6e1d3b4a5f9e7d6c5b4a392817");
const TimelineId kTimeline = *TimelineId::FromHex("1a2b3c4d5e6f708192a3b4c5d6e7f801");

// A valid page for block `blk` (a real heap page with its checksum recomputed; `salt` changes the
// pd_lsn so pages differ).
std::string Page(uint32_t blk, uint32_t salt) {
  std::string p = plantest::ReadTestData("../data/pg/pg16_heap_blk5.page");
  REQUIRE(p.size() == 8192);
  uint8_t* b = reinterpret_cast<uint8_t*>(p.data());
  EncodeLE32(b + 4, salt);
  EncodeLE16(b + 8, 0);
  EncodeLE16(b + 8, PgChecksumPage(b, blk));
  REQUIRE(CheckPage(b, blk, true) == PageCheck::kOk);
  return p;
}

// PGDATA 16 with a few relations of real pages (sizes in blocks) in database 5.
void Populate(TempPgdata& pg, const std::vector<std::pair<uint32_t, uint32_t>>& rels) {
  pg.Minimal();
  pg.Database(5);
  for (auto [rel, nblocks] : rels) {
    std::string data;
    for (uint32_t b = 0; b < nblocks; b++) data += Page(b, rel * 1000 + b);
    pg.Write("base/5/" + std::to_string(rel), data);
  }
}

ImportOptions Opts(const TempPgdata& pg, const DestDir& d) {
  ImportOptions o;
  o.source = pg.root().string();
  o.dest = d.path.string();
  o.tenant = kTenant;
  o.timeline = kTimeline;
  o.jobs = 2;
  o.soft_size_limit = 64 << 10;   // several jobs
  o.checkpoint_every = 2;
  o.max_range = 3 * 8192;         // exercise range splitting
  o.lease.renew_in_background = false;
  return o;
}

std::string TlDir(const ShardIdentity& shard = {}) { return TimelinePath(kTenant, shard, kTimeline); }

IndexPart ReadIndex(const DestDir& d, const ShardIdentity& shard = {}, uint32_t gen = 1) {
  auto idx = IndexPart::Parse(d.Read(IndexPartPath(kTenant, shard, kTimeline, gen)), "index");
  REQUIRE(idx.ok());
  return *idx;
}

// Every (key, value) of every layer of the index, checking sizes and summaries on the way.
std::map<Key, std::string> ReadAllLayers(const DestDir& d, const IndexPart& idx) {
  std::map<Key, std::string> kv;
  auto s = OpenStorage(d.path.string(), StorageOptions());
  REQUIRE(s.ok());
  for (const auto& [name, lm] : idx.layer_metadata) {
    const std::string obj = LayerPathFromIndex(kTenant, kTimeline, name, lm.shard, lm.generation);
    auto f = (*s)->OpenReader(obj);
    REQUIRE_MESSAGE(f.ok(), obj);
    CHECK((*f)->info().size == lm.file_size);
    auto r = ImageLayerReader::Open(std::move(f).value());
    REQUIRE(r.ok());
    CHECK((*r)->summary().tenant == kTenant);
    CHECK((*r)->summary().lsn == idx.metadata.initdb_lsn);
    REQUIRE((*r)->ForEach([&](const Key& k, std::string_view v) {
                  CHECK(kv.count(k) == 0);
                  kv[k] = std::string(v);
                  return Status::OK();
                }).ok());
  }
  return kv;
}

}  // namespace

TEST_CASE("DefaultIdempotencyKey is deterministic and depends on source, tenant and timeline") {
  const TimelineId other = *TimelineId::FromHex("00000000000000000000000000000001");
  const std::string k = DefaultIdempotencyKey("s3://bucket/prefix", kTenant, kTimeline);
  CHECK(k.rfind("p2l-", 0) == 0);
  CHECK(k.size() == 36);
  CHECK(k == DefaultIdempotencyKey("s3://bucket/prefix/", kTenant, kTimeline));
  CHECK(k != DefaultIdempotencyKey("s3://bucket/prefix2", kTenant, kTimeline));
  CHECK(k != DefaultIdempotencyKey("s3://bucket/prefix", kTenant, other));
  CHECK(k != DefaultIdempotencyKey("s3://bucket/prefix", other, kTimeline));
  // Local paths: relative and absolute spellings of one directory give one key.
  const std::string cwd = fs::current_path().string();
  CHECK(DefaultIdempotencyKey(".", kTenant, kTimeline) == DefaultIdempotencyKey(cwd, kTenant, kTimeline));
  CHECK(DefaultIdempotencyKey(cwd + "/", kTenant, kTimeline) == DefaultIdempotencyKey(cwd, kTenant, kTimeline));
  CHECK(CanonicalSourceUrl("s3://b-1/a/b/") == "s3://b-1/a/b");
}

TEST_CASE("SourceLocationJson") {
  CHECK(SourceLocationJson("s3://my-bucket/imports/x", "eu-west-1") ==
        R"({"AwsS3":{"bucket":"my-bucket","key":"imports/x","region":"eu-west-1"}})");
  CHECK(SourceLocationJson("/abs/dir/", "r") == R"({"LocalFs":{"path":"/abs/dir"}})");
}

TEST_CASE("import: fresh run, index protocol, contents; rerun is a no-op") {
  TempPgdata pg(16);
  Populate(pg, {{16384, 20}, {16390, 3}, {16400, 9}});
  DestDir d;
  Events ev;
  auto r = RunImport(Opts(pg, d), ev);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK_FALSE(r->already_complete);
  CHECK(r->jobs > 3);
  CHECK(r->layers == r->jobs);   // unsharded: every job has keys

  const IndexPart idx = ReadIndex(d);
  REQUIRE(idx.import_pgdata);
  CHECK(idx.import_pgdata->state == ImportPgdata::State::kDone);
  CHECK(idx.import_pgdata->idempotency_key == DefaultIdempotencyKey(pg.root().string(), kTenant, kTimeline));
  CHECK(idx.import_pgdata->finished_at_nanos);
  const uint64_t base = plantest::TestControlBaseLsn(16);
  CHECK(idx.metadata.initdb_lsn == base);
  CHECK(idx.metadata.latest_gc_cutoff_lsn == base);
  CHECK(*idx.metadata.prev_record_lsn == base);
  CHECK(idx.metadata.disk_consistent_lsn == base + 8);
  CHECK(idx.disk_consistent_lsn == base + 8);
  CHECK(idx.metadata.pg_version == 16);
  REQUIRE(idx.progress);
  CHECK(idx.progress->completed == r->jobs);
  CHECK(idx.progress->jobs == r->jobs);
  CHECK(idx.progress->soft_size_limit == (64 << 10));
  for (const auto& [name, lm] : idx.layer_metadata) {
    CHECK(*lm.generation == 1);
    CHECK(lm.shard == "0000");
  }
  // No lease, no temp file, exactly the index and the layers.
  auto files = d.Files(TlDir());
  CHECK(files.size() == idx.layer_metadata.size() + 1);
  CHECK(files.count("pgdata2layers.lease") == 0);

  // Contents: every page of every relation at its key.
  auto kv = ReadAllLayers(d, idx);
  for (auto [rel, n] : std::vector<std::pair<uint32_t, uint32_t>>{{16384, 20}, {16390, 3}, {16400, 9}}) {
    for (uint32_t b = 0; b < n; b++) {
      Key k{0x00, 1663, 5, rel, 0, b};
      REQUIRE(kv.count(k));
      CHECK(kv[k] == Page(b, rel * 1000 + b));
    }
  }
  CHECK(kv.count(Key{0x03, 0, 0, 0, 0, 0}));   // CONTROLFILE_KEY

  // Events: started, plan, job_done per job, checkpoint(s), done.
  CHECK(ev.Named("started").size() == 1);
  CHECK(ev.Named("plan").size() == 1);
  CHECK(ev.Named("job_done").size() == r->jobs);
  CHECK(ev.Named("checkpoint").size() >= 1);
  CHECK(ev.Named("done").size() == 1);

  // Rerun: already complete, nothing written (index mtime and content unchanged).
  const std::string index_file = (d.path / IndexPartPath(kTenant, {}, kTimeline, 1)).string();
  struct stat st1, st2;
  REQUIRE(::stat(index_file.c_str(), &st1) == 0);
  Events ev2;
  auto again = RunImport(Opts(pg, d), ev2);
  REQUIRE(again.ok());
  CHECK(again->already_complete);
  REQUIRE(::stat(index_file.c_str(), &st2) == 0);
  CHECK(st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
  CHECK(st1.st_mtim.tv_sec == st2.st_mtim.tv_sec);
  CHECK(d.Files(TlDir()) == files);
  CHECK(ev2.Named("plan").empty());

  // Another idempotency key: conflict (exit 5).
  ImportOptions o = Opts(pg, d);
  o.idempotency_key = "someone-else";
  auto conflict = RunImport(o, NullEvents());
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().code() == Code::kConflict);
}

TEST_CASE("import: output does not depend on --jobs; zstd differs but reads back the same") {
  TempPgdata pg(16);
  Populate(pg, {{16384, 40}, {16390, 7}});
  DestDir d1, d2, d3;
  ImportOptions o1 = Opts(pg, d1);
  o1.jobs = 1;
  ImportOptions o2 = Opts(pg, d2);
  o2.jobs = 5;
  o2.max_range = 1 << 20;
  REQUIRE(RunImport(o1, NullEvents()).ok());
  REQUIRE(RunImport(o2, NullEvents()).ok());
  auto f1 = d1.Files(TlDir()), f2 = d2.Files(TlDir());
  REQUIRE(f1.size() == f2.size());
  for (auto& [name, data] : f1) {
    if (name.rfind("index_part.json", 0) == 0) continue;   // timestamps differ
    REQUIRE(f2.count(name));
    CHECK_MESSAGE(f2[name] == data, name);
  }
  ImportOptions o3 = Opts(pg, d3);
  o3.zstd = true;
  REQUIRE(RunImport(o3, NullEvents()).ok());
  CHECK(ReadAllLayers(d3, ReadIndex(d3)) == ReadAllLayers(d1, ReadIndex(d1)));
}

TEST_CASE("import: sharded destinations") {
  TempPgdata pg(16);
  Populate(pg, {{16384, 40}});
  std::map<Key, std::string> all;
  DestDir d;
  for (uint32_t n = 0; n < 4; n++) {
    ImportOptions o = Opts(pg, d);
    o.shard = *ShardIdentity::Make(n, 4, 8);
    auto r = RunImport(o, NullEvents());
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    IndexPart idx = ReadIndex(d, o.shard);
    for (const auto& [name, lm] : idx.layer_metadata) CHECK(lm.shard == o.shard.IndexString());
    for (auto& [k, v] : ReadAllLayers(d, idx)) {
      if (k.field1 == 0 && k.field4 == 16384 && k.field6 != 0xFFFFFFFF) {
        CHECK(o.shard.IsKeyLocal(k));
        CHECK(all.count(k) == 0);
        all[k] = v;
      }
    }
  }
  CHECK(fs::exists(d.path / "tenants" / (kTenant.ToHex() + "-0304")));
  CHECK(all.size() == 40);   // every block exactly once over the shards
}

TEST_CASE("import: a failed job leaves InProgress; a rerun resumes and skips finished jobs") {
  TempPgdata pg(16);
  Populate(pg, {{16384, 24}, {16390, 8}, {16400, 16}});
  // A corrupt page in the last relation (an invalid header).
  {
    std::string data;
    for (uint32_t b = 0; b < 16; b++) data += b == 9 ? std::string(8192, '\xAB') : Page(b, 16400 * 1000 + b);
    pg.Write("base/5/16400", data);
  }
  DestDir d, ref;
  ImportOptions o = Opts(pg, d);
  auto r = RunImport(o, NullEvents());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("base/5/16400") != std::string::npos);
  CHECK(r.status().message().find("block 9") != std::string::npos);
  IndexPart partial = ReadIndex(d);
  CHECK(partial.import_pgdata->state == ImportPgdata::State::kInProgress);
  CHECK(partial.progress->completed > 0);
  CHECK_FALSE(fs::exists(d.path / TlDir() / "pgdata2layers.lease"));   // released on failure

  // One recorded layer vanished: its job is redone.
  REQUIRE_FALSE(partial.layer_metadata.empty());
  const auto& [lost_name, lost_lm] = *partial.layer_metadata.begin();
  fs::remove(d.path / LayerPathFromIndex(kTenant, kTimeline, lost_name, lost_lm.shard, lost_lm.generation));

  // Resume with --ignore-checksum-failures (not part of the plan): finished jobs are skipped.
  o.ignore_checksum_failures = true;
  o.jobs = 3;
  Events ev;
  auto r2 = RunImport(o, ev);
  REQUIRE_MESSAGE(r2.ok(), r2.status().ToString());
  CHECK(r2->resumed);
  CHECK(r2->jobs_skipped > 0);
  size_t skipped = 0;
  for (auto& e : ev.Named("job_done")) skipped += e["skipped"].get<bool>() ? 1 : 0;
  CHECK(skipped == r2->jobs_skipped);
  IndexPart done = ReadIndex(d);
  CHECK(done.import_pgdata->state == ImportPgdata::State::kDone);
  CHECK(done.import_pgdata->started_at_nanos == partial.import_pgdata->started_at_nanos);

  // Same layers, byte for byte, as an uninterrupted run.
  ImportOptions oref = Opts(pg, ref);
  oref.ignore_checksum_failures = true;
  REQUIRE(RunImport(oref, NullEvents()).ok());
  IndexPart want = ReadIndex(ref);
  CHECK(done.layer_metadata == want.layer_metadata);
  auto fd = d.Files(TlDir()), fr = ref.Files(TlDir());
  CHECK(fd.size() == fr.size());
  for (auto& [name, data] : fr) {
    if (name.rfind("index_part.json", 0) == 0) continue;
    CHECK_MESSAGE(fd[name] == data, name);
  }
}

TEST_CASE("import: a source changed since the interrupted run is refused; --restart starts over") {
  TempPgdata pg(16);
  Populate(pg, {{16384, 24}, {16400, 16}});
  {
    std::string data;
    for (uint32_t b = 0; b < 16; b++) data += b == 3 ? std::string(8192, '\xAB') : Page(b, b);
    pg.Write("base/5/16400", data);
  }
  DestDir d;
  ImportOptions o = Opts(pg, d);
  REQUIRE_FALSE(RunImport(o, NullEvents()).ok());
  // The user fixes the relation by appending a page: the plan changes.
  {
    std::string data;
    for (uint32_t b = 0; b < 17; b++) data += Page(b, b);
    pg.Write("base/5/16400", data);
  }
  auto r = RunImport(o, NullEvents());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kSourceChanged);
  CHECK(r.status().message().find("--restart") != std::string::npos);

  o.restart = true;
  auto r2 = RunImport(o, NullEvents());
  REQUIRE_MESSAGE(r2.ok(), r2.status().ToString());
  CHECK_FALSE(r2->resumed);
  IndexPart idx = ReadIndex(d);
  CHECK(idx.import_pgdata->state == ImportPgdata::State::kDone);
  auto kv = ReadAllLayers(d, idx);
  CHECK(kv[Key{0x00, 1663, 5, 16400, 0, 16}] == Page(16, 16));
  // Only referenced layers remain.
  CHECK(d.Files(TlDir()).size() == idx.layer_metadata.size() + 1);
}

TEST_CASE("import: a held lease blocks a second importer") {
  TempPgdata pg(16);
  Populate(pg, {{16384, 4}});
  DestDir d;
  ImportOptions o = Opts(pg, d);
  auto s = OpenStorage(d.path.string(), StorageOptions());
  REQUIRE(s.ok());
  auto held = Lease::Acquire(**s, TlDir() + "/pgdata2layers.lease", "whoever", o.lease);
  REQUIRE(held.ok());
  auto r = RunImport(o, NullEvents());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kConflict);
  CHECK(r.status().message().find("another import holds") != std::string::npos);
  REQUIRE((*held)->Release().ok());
  CHECK(RunImport(o, NullEvents()).ok());
}

TEST_CASE("import: an unclean shutdown is refused unless allowed") {
  TempPgdata pg(16);
  pg.Minimal(/*state=*/6);   // in production
  DestDir d;
  ImportOptions o = Opts(pg, d);
  auto r = RunImport(o, NullEvents());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK_FALSE(fs::exists(d.path / IndexPartPath(kTenant, {}, kTimeline, 1)));
  o.allow_unclean_shutdown = true;
  CHECK(RunImport(o, NullEvents()).ok());
}

TEST_CASE("JobLayerName") {
  ImportJob j;
  j.start = Key::Min();
  j.end = Key::Max();
  CHECK(JobLayerName(j, 0x169C3D0) ==
        "000000000000000000000000000000000000-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF__000000000169C3D0");
}

}  // namespace p2l
