// Export of synthetic layers (written with ImageLayerWriter) back to PostgreSQL files: two shards
// with a relation split across them, a user tablespace through a symlink, SLRUs, a prepared
// transaction; and the inconsistencies it must report.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "pg/controlfile.h"
#include "tools/export.h"
#include "tools_test_util.h"

using namespace p2l;
using namespace p2l::toolstest;

namespace {

std::string Pages(uint32_t relnode, uint8_t fork, uint32_t n) {
  std::string s;
  for (uint32_t b = 0; b < n; b++) s += Page(relnode, fork, b);
  return s;
}

ExportOptions Opts(const std::string& out) {
  ExportOptions o;
  o.tenant = Tenant();
  o.timeline = Timeline();
  o.out_dir = out;
  o.sync = false;
  return o;
}

bool NoTempFiles(const std::string& dir) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::follow_directory_symlink)) {
    if (e.path().string().find(".p2l-export.tmp") != std::string::npos) return false;
  }
  return true;
}

void CheckCluster(const std::string& out, const std::string& ts_dir, int major, const std::string& catver) {
  const size_t relmap_len = major >= 16 ? 524 : 512;
  CHECK(ReadFile(out + "/base/5/16384") == Pages(16384, 0, 20));
  CHECK(Exists(out + "/base/5/16384_fsm"));
  CHECK(FileSize(out + "/base/5/16384_fsm") == 0);
  CHECK(ReadFile(out + "/base/5/16385") == Pages(16385, 0, 3));
  CHECK(ReadFile(out + "/base/5/pg_filenode.map") == std::string(relmap_len, 'A'));
  CHECK(ReadFile(out + "/global/1262") == Pages(1262, 0, 2));
  CHECK(ReadFile(out + "/global/pg_filenode.map") == std::string(relmap_len, 'G'));
  CHECK(ReadFile(out + "/global/pg_control") == ControlFileBytes(major));
  // written through the pg_tblspc/16500 symlink
  CHECK(ReadFile(ts_dir + "/PG_" + std::to_string(major) + "_" + catver + "/5/16390") == Pages(16390, 0, 2));
  CHECK(!Exists(ts_dir + "/PG_" + std::to_string(major) + "_" + catver + "/5/pg_filenode.map"));
  CHECK(ReadFile(out + "/pg_xact/0000") == Page(1000, 0, 0) + Page(1000, 0, 1));
  CHECK(ReadFile(out + "/pg_multixact/members/14078") == Page(1001, 0, 0));
  CHECK(ReadFile(out + "/pg_multixact/offsets/0000") == Page(1002, 0, 0));
  const std::string twophase = major >= 17 ? "00000000000002E9" : "000002E9";
  CHECK(ReadFile(out + "/pg_twophase/" + twophase) == "twophase-state-745");
  CHECK(NoTempFiles(out));
}

std::string CatVersion(int major) {
  auto cf = ControlFile::Parse(ControlFileBytes(major), "control");
  REQUIRE(cf.ok());
  return std::to_string(cf->catalog_version);
}

}  // namespace

TEST_CASE("export: two shards, relation split across them, tablespace through a symlink") {
  for (int major : {16, 17}) {
    CAPTURE(major);
    TempDir dest, out, ts;
    const KV kv = SyntheticCluster(major);
    // stripe 1: every block of a relation is placed by hash; both shards get some of 16384
    size_t on_shard[2] = {0, 0};
    for (uint32_t n = 0; n < 2; n++) {
      TimelineSpec spec;
      spec.shard = ShardIdentity::Make(n, 2, 1).value();
      spec.bounds = ThreeLayers();
      spec.pg_version = uint32_t(major);
      WriteTimeline(dest.path(), spec, kv);
      for (uint32_t b = 0; b < 20; b++) {
        if (spec.shard.IsKeyLocal(RelBlockKey(RelTag{1663, 5, 16384, 0}, b))) on_shard[n]++;
      }
    }
    REQUIRE(on_shard[0] > 0);
    REQUIRE(on_shard[1] > 0);
    std::filesystem::create_directories(out.Sub("pg_tblspc"));
    std::filesystem::create_symlink(ts.path(), out.Sub("pg_tblspc/16500"));
    // a stale file from the original is replaced
    WriteFile(out.Sub("base/5/16384"), "stale");
    auto st = OpenDir(dest.path());
    auto r = Export(*st, Opts(out.path()), NullEvents());
    REQUIRE(r.ok());
    for (const auto& m : r->inconsistencies) MESSAGE(m);
    CHECK(r->ok());
    CHECK(r->shard_count == 2);
    CHECK(r->keys == kv.size());
    CHECK(r->relation_forks == 5);
    CHECK(r->zero_filled_blocks == 0);
    CheckCluster(out.path(), ts.path(), major, CatVersion(major));
  }
}

TEST_CASE("export: unsharded into an empty directory creates the tablespace directory") {
  TempDir dest, out;
  const KV kv = SyntheticCluster(16);
  TimelineSpec spec;
  spec.bounds = ThreeLayers();
  WriteTimeline(dest.path(), spec, kv);
  auto st = OpenDir(dest.path());
  auto r = Export(*st, Opts(out.path()), NullEvents());
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(r->shard_count == 0);
  CheckCluster(out.path(), out.Sub("pg_tblspc/16500"), 16, CatVersion(16));
  struct stat sb;
  REQUIRE(::lstat(out.Sub("pg_tblspc/16500").c_str(), &sb) == 0);
  CHECK(S_ISDIR(sb.st_mode));
  CHECK((FileSize(out.Sub("base/5/16384"))) == 20 * 8192);
}

TEST_CASE("export: several shard sets need --shard-count; an incomplete set is refused") {
  TempDir dest, out;
  const KV kv = SyntheticCluster(16);
  TimelineSpec u;
  WriteTimeline(dest.path(), u, kv);
  TimelineSpec s0;
  s0.shard = ShardIdentity::Make(0, 2, 1).value();
  WriteTimeline(dest.path(), s0, kv);
  auto st = OpenDir(dest.path());
  CHECK(Export(*st, Opts(out.path()), NullEvents()).status().code() == Code::kUsage);
  ExportOptions o = Opts(out.path());
  o.shard_count = 2;
  auto r = Export(*st, o, NullEvents());
  CHECK(r.status().code() == Code::kNotFound);
  CHECK(r.status().message().find("only 1 of the 2 shards") != std::string::npos);
  o.shard_count = 0;
  auto ok = Export(*st, o, NullEvents());
  REQUIRE(ok.ok());
  CHECK(ok->ok());
  o.out_dir = out.Sub("does-not-exist");
  CHECK(Export(*st, o, NullEvents()).status().code() == Code::kUsage);
}

TEST_CASE("export: relation segments, zero-filled holes and directory mismatches are reported") {
  TempDir dest, out;
  KV kv = SyntheticCluster(16);
  const RelTag big{1663, 5, 16386, 0};
  // 131072 + 2 blocks: only the last two (segment 1) and block 0 are present
  kv[RelBlockKey(big, 0)] = Page(16386, 0, 0);
  kv[RelBlockKey(big, 131072)] = Page(16386, 0, 131072);
  kv[RelBlockKey(big, 131073)] = Page(16386, 0, 131073);
  kv[RelSizeKey(big)] = EncodeRelSize(131074);
  // 16385 loses block 1 (a hole), 16384 gets a block beyond its size
  kv.erase(RelBlockKey(RelTag{1663, 5, 16385, 0}, 1));
  kv[RelBlockKey(RelTag{1663, 5, 16384, 1}, 4)] = Page(16384, 1, 4);
  // clog segment 0 loses its directory entry; a twophase file not in the directory
  SlruSegmentDirectory clog;
  kv[SlruDirKey(SlruKind::kClog)] = clog.Encode();
  kv[TwoPhaseFileKey(800)] = "x";
  // an aux key the import never writes
  kv[Key{0x62, 0, 0, 0, 0, 1}] = "aux";
  TimelineSpec spec;
  WriteTimeline(dest.path(), spec, kv);
  auto st = OpenDir(dest.path());
  auto r = Export(*st, Opts(out.path()), NullEvents());
  REQUIRE(r.ok());
  std::string all;
  for (const auto& m : r->inconsistencies) all += m + "\n";
  MESSAGE(all);
  CHECK(r->zero_filled_blocks == 131071 + 1);
  CHECK(all.find("rel 1663/5/16386 main: 131071 of its 131074 blocks are held by no shard (first: block 1)") !=
        std::string::npos);
  CHECK(all.find("rel 1663/5/16385 main: 1 of its 3 blocks are held by no shard (first: block 1)") != std::string::npos);
  CHECK(all.find("rel 1663/5/16384 fsm: blocks up to 4 exist beyond its size of 0 blocks") != std::string::npos);
  CHECK(all.find("relation forks with a size key are not in the reldir: 16386 main") != std::string::npos);
  CHECK(all.find("slru clog: segments not in the dir: 0") != std::string::npos);
  CHECK(all.find("twophase: file keys not in the dir: 800") != std::string::npos);
  CHECK(all.find("unexpected key 620000000000000000000000000000000001") != std::string::npos);
  CHECK(r->inconsistency_count == 7);
  CHECK(FileSize(out.Sub("base/5/16386")) == 131072ull * 8192);
  CHECK(ReadFile(out.Sub("base/5/16386.1")) == Page(16386, 0, 131072) + Page(16386, 0, 131073));
  const std::string seg0 = ReadFile(out.Sub("base/5/16386"));
  CHECK(seg0.substr(0, 8192) == Page(16386, 0, 0));
  CHECK(seg0.substr(8192, 8192) == std::string(8192, '\0'));
  CHECK(FileSize(out.Sub("base/5/16384_fsm")) == 0);
  CHECK(ReadFile(out.Sub("base/5/16385")) == Page(16385, 0, 0) + std::string(8192, '\0') + Page(16385, 0, 2));
  CHECK(NoTempFiles(out.path()));
}

TEST_CASE("export: shards that disagree on a global key") {
  TempDir dest, out;
  const KV kv = SyntheticCluster(16);
  KV other = kv;
  other[RelSizeKey(RelTag{1663, 5, 16385, 0})] = EncodeRelSize(4);   // shard 1 says 4 blocks
  TimelineSpec s0, s1;
  s0.shard = ShardIdentity::Make(0, 2, 1).value();
  s1.shard = ShardIdentity::Make(1, 2, 1).value();
  WriteTimeline(dest.path(), s0, kv);
  WriteTimeline(dest.path(), s1, other);
  auto st = OpenDir(dest.path());
  auto r = Export(*st, Opts(out.path()), NullEvents());
  REQUIRE(r.ok());
  REQUIRE(r->inconsistency_count == 1);
  CHECK(r->inconsistencies[0].find("rel 1663/5/16385 main size) has different values on shards 0002 and 0102") !=
        std::string::npos);
  CHECK(FileSize(out.Sub("base/5/16385")) == 3 * 8192);   // shard 0's value wins
}

TEST_CASE("export: keys that cannot be placed are refused, never a path outside the directory") {
  TempDir dest, out;
  KV kv = SyntheticCluster(16);
  // tablespace 7 (not a user OID), database 0 of the default tablespace, fork 9
  kv[RelBlockKey(RelTag{7, 5, 16400, 0}, 0)] = Page(1, 0, 0);
  kv[RelSizeKey(RelTag{7, 5, 16400, 0})] = EncodeRelSize(1);
  kv[RelBlockKey(RelTag{1663, 0, 16400, 0}, 0)] = Page(1, 0, 0);
  kv[RelBlockKey(RelTag{1663, 5, 16384, 9}, 0)] = Page(1, 0, 0);
  kv[Key{0x01, 7, 1, 0, 0, 0}] = Page(1, 0, 0);   // SLRU kind 7
  TimelineSpec spec;
  WriteTimeline(dest.path(), spec, kv);
  auto st = OpenDir(dest.path());
  auto r = Export(*st, Opts(out.path()), NullEvents());
  REQUIRE(r.ok());
  std::string all;
  for (const auto& m : r->inconsistencies) all += m + "\n";
  MESSAGE(all);
  CHECK(all.find("keys of tablespace 7 database 5: no such PostgreSQL directory") != std::string::npos);
  CHECK(all.find("keys of tablespace 1663 database 0") != std::string::npos);
  CHECK(all.find("PostgreSQL has no fork 9") != std::string::npos);
  CHECK(all.find("unexpected key 010000000700000001") != std::string::npos);
  CHECK(!Exists(out.Sub("base/0")));
  CHECK(!Exists(out.Sub("pg_tblspc/7")));
  CHECK(r->inconsistency_count >= 4);
}
