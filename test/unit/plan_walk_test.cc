// The PGDATA walk and the task list of the plan (keyspace-and-sharding.md §3, §5.1, App. A):
// key set and order, values of directory and size keys, multi-segment relations, layouts,
// user tablespaces and prepared transactions, skipped entries.

#include "import/fingerprint.h"
#include "import/pgdata_walk.h"
#include "import/plan.h"
#include "keyspace/keys.h"
#include "keyspace/values.h"
#include "plan_test_util.h"

#include <algorithm>
#include <map>

namespace p2l {
namespace {

using namespace plantest;
using Kind = ImportTask::Kind;

struct Expect {
  Kind kind;
  Key start, end;
};

Expect Single(const Key& k) { return {Kind::kSingleKey, k, k.Next()}; }
Expect Object(const Key& k) { return {Kind::kObjectValue, k, k.Next()}; }
Expect Rel(const RelTag& t, uint32_t a, uint32_t b) { return {Kind::kRelBlocks, RelBlockKey(t, a), RelBlockKey(t, b)}; }
Expect Slru(SlruKind k, uint32_t seg, uint32_t n) {
  return {Kind::kSlruBlocks, SlruBlockKey(k, seg, 0), SlruBlockKey(k, seg, n)};
}

void CheckTasks(const ImportPlan& plan, const std::vector<Expect>& want) {
  auto tasks = AllTasks(plan);
  CHECK(tasks.size() == want.size());
  for (size_t i = 0; i < std::min(want.size(), tasks.size()); i++) {
    CAPTURE(i);
    CHECK(int(tasks[i]->kind) == int(want[i].kind));
    CHECK(tasks[i]->start.ToHex() == want[i].start.ToHex());
    CHECK(tasks[i]->end.ToHex() == want[i].end.ToHex());
  }
}

const ImportTask* FindTask(const ImportPlan& p, const Key& start) {
  for (const ImportTask* t : AllTasks(p)) {
    if (t->start == start) return t;
  }
  return nullptr;
}

// The standard SLRU tail (one 1-page segment 0 in each SLRU) and the last three single keys.
void AppendSlruAndTail(std::vector<Expect>* w, bool slrus, std::vector<uint64_t> xids = {}) {
  if (slrus) {
    for (SlruKind k : {SlruKind::kClog, SlruKind::kMultiXactMembers, SlruKind::kMultiXactOffsets}) {
      w->push_back(Single(SlruDirKey(k)));
      w->push_back(Slru(k, 0, 1));
      w->push_back(Single(SlruSegmentSizeKey(k, 0)));
    }
  }
  w->push_back(Single(kTwoPhaseDirKey));
  for (uint64_t x : xids) w->push_back(Object(TwoPhaseFileKey(x)));
  w->push_back(Single(kControlFileKey));
  w->push_back(Single(kCheckpointKey));
}

// Appendix A: DB 5, relation 16384 with 16384 (3 blocks), 16384_fsm (3), 16384_vm (1).
void AppendixA(TempPgdata& d) {
  d.Write("global/pg_control", ControlBytes(d.major()));
  d.File("global/pg_filenode.map", d.RelmapSize());
  d.Database(5);
  d.Blocks("base/5/16384", 3);
  d.Blocks("base/5/16384_fsm", 3);
  d.Blocks("base/5/16384_vm", 1);
  d.File("base/5/pg_internal.init", 1000);  // ignored silently
  d.Blocks("pg_xact/0000", 1);
  d.Blocks("pg_multixact/members/0000", 1);
  d.Blocks("pg_multixact/offsets/0000", 1);
}

TEST_CASE("plan: Appendix A key set, order and values (unsharded)") {
  TempPgdata d(16);
  AppendixA(d);
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  const ImportPlan& p = *r;
  CHECK(p.warnings.empty());
  CHECK(p.pgdata_prefix == "");
  CHECK(p.base_lsn == TestControlBaseLsn(16));
  CHECK(p.control.pg_major == 16);

  // The literal ranges of Appendix A.
  auto tasks = AllTasks(p);
  REQUIRE(tasks.size() == 23);
  const char* appendix_a[][2] = {
      {"000000067F00000005000000000000000000", "000000067F00000005000000000000000001"},
      {"000000067F00000005000000000000000001", "000000067F00000005000000000000000002"},
      {"000000067F00000005000040000000000000", "000000067F00000005000040000000000003"},
      {"000000067F000000050000400000FFFFFFFF", "000000067F00000005000040000100000000"},
      {"000000067F00000005000040000100000000", "000000067F00000005000040000100000003"},
      {"000000067F000000050000400001FFFFFFFF", "000000067F00000005000040000200000000"},
      {"000000067F00000005000040000200000000", "000000067F00000005000040000200000001"},
      {"000000067F000000050000400002FFFFFFFF", "000000067F00000005000040000300000000"},
  };
  for (size_t i = 0; i < 8; i++) {
    CAPTURE(i);
    CHECK(tasks[1 + i]->start.ToHex() == appendix_a[i][0]);
    CHECK(tasks[1 + i]->end.ToHex() == appendix_a[i][1]);
  }
  // Values.
  CHECK(Hex(tasks[0]->value) == "0000000000000002" "0000067f0000000501" "000006800000000001");
  CHECK(tasks[1]->kind == Kind::kObjectValue);
  CHECK(tasks[1]->object.name == "base/5/pg_filenode.map");
  CHECK(tasks[1]->object.size == 524);
  CHECK(Hex(tasks[2]->value) == "0000000000000003" "0000400000" "0000400001" "0000400002");
  CHECK(Hex(tasks[4]->value) == "0300000000000000");
  CHECK(Hex(tasks[6]->value) == "0300000000000000");
  CHECK(Hex(tasks[8]->value) == "0100000000000000");
  CHECK(tasks[3]->object.name == "base/5/16384");
  CHECK(tasks[3]->first_block == 0);
  CHECK(tasks[3]->nblocks == 3);
  CHECK(tasks[3]->verify_pages);
  CHECK(tasks[5]->object.name == "base/5/16384_fsm");
  CHECK(tasks[7]->object.name == "base/5/16384_vm");
  // Global: relmap + an empty reldir.
  CHECK(tasks[9]->start == RelmapFileKey(1664, 0));
  CHECK(tasks[9]->object.name == "global/pg_filenode.map");
  CHECK(tasks[10]->start == RelDirKey(1664, 0));
  CHECK(Hex(tasks[10]->value) == "0000000000000000");
  // SLRUs.
  CHECK(Hex(tasks[11]->value) == "000000000000000100000000");
  CHECK(tasks[12]->kind == Kind::kSlruBlocks);
  CHECK(tasks[12]->object.name == "pg_xact/0000");
  CHECK(Hex(tasks[13]->value) == "01000000");
  CHECK(tasks[15]->object.name == "pg_multixact/members/0000");
  CHECK(tasks[18]->object.name == "pg_multixact/offsets/0000");
  // Tail.
  CHECK(tasks[20]->start == kTwoPhaseDirKey);
  CHECK(Hex(tasks[20]->value) == "0000000000000000");
  CHECK(tasks[21]->start == kControlFileKey);
  CHECK(tasks[21]->value == ControlBytes(16));
  CHECK(tasks[22]->start == kCheckpointKey);
  CHECK(tasks[22]->value == ControlBytes(16).substr(40, 88));

  std::vector<Expect> want = {Single(kDbDirKey), Object(RelmapFileKey(1663, 5)), Single(RelDirKey(1663, 5))};
  for (uint8_t f : {0, 1, 2}) {
    RelTag t{1663, 5, 16384, f};
    want.push_back(Rel(t, 0, f == 2 ? 1 : 3));
    want.push_back(Single(RelSizeKey(t)));
  }
  want.push_back(Object(RelmapFileKey(1664, 0)));
  want.push_back(Single(RelDirKey(1664, 0)));
  AppendSlruAndTail(&want, true);
  CheckTasks(p, want);

  // One job [MIN, MAX): 17 single keys + 7 rel pages + 3 SLRU pages.
  REQUIRE(p.jobs.size() == 1);
  CHECK(p.jobs[0].index == 1);
  CHECK(p.jobs[0].start == Key::Min());
  CHECK(p.jobs[0].end == Key::Max());
  CHECK(p.jobs[0].LocalPages() == 27);
  CHECK(p.jobs[0].estimated_bytes == 27 * 8192);
  CHECK(p.TotalEstimatedBytes() == 27 * 8192);
  CHECK(p.TaskCount() == 23);

  // Every object the plan reads, sorted by name, with size and version.
  std::vector<std::string> names;
  for (const ObjectInfo& o : p.source_objects) {
    names.push_back(o.name);
    CHECK(!o.version.empty());
  }
  CHECK(names == std::vector<std::string>{"base/5/16384", "base/5/16384_fsm", "base/5/16384_vm",
                                          "base/5/pg_filenode.map", "global/pg_control", "global/pg_filenode.map",
                                          "pg_multixact/members/0000", "pg_multixact/offsets/0000", "pg_xact/0000"});
  for (const ImportTask* t : tasks) {
    if (t->kind == Kind::kSingleKey) continue;
    bool found = false;
    for (const ObjectInfo& o : p.source_objects) {
      if (o.name == t->object.name) found = o.size == t->object.size && o.version == t->object.version;
    }
    CHECK_MESSAGE(found, t->object.name);
  }
}

TEST_CASE("plan: Neon bucket layout (pgdata/ prefix)") {
  TempPgdata d(17, "pgdata/");
  AppendixA(d);
  d.Write("status/pgdata", "{\"done\": true}");
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->pgdata_prefix == "pgdata/");
  CHECK(r->control.pg_major == 17);
  CHECK(r->base_lsn == TestControlBaseLsn(17));
  const ImportTask* t = FindTask(*r, RelBlockKey({1663, 5, 16384, 0}, 0));
  REQUIRE(t != nullptr);
  CHECK(t->object.name == "pgdata/base/5/16384");
  CHECK(r->source_objects.front().name == "pgdata/base/5/16384");
}

TEST_CASE("plan: databases sorted numerically, files sorted by (relnode, fork, segno)") {
  TempPgdata d(15);
  d.Minimal();
  d.Database(16400);
  d.Database(5);
  d.Dir("base/pgsql_tmp");          // ignored silently
  d.Blocks("base/5/100000", 1);
  d.Blocks("base/5/99999_vm", 1);
  d.Blocks("base/5/99999", 2);
  d.Blocks("base/5/99999_init", 0);  // unlogged: init fork, 0 bytes
  d.File("base/5/t3_16500", 8192);  // temp relation: ignored silently
  d.File("base/5/t3_16500_fsm.1", 8192);
  d.File("base/5/pg_filenode.map.tmp", 3);
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->warnings.empty());

  std::vector<Expect> want = {Single(kDbDirKey)};
  for (uint32_t db : {1u, 5u, 16400u}) {
    want.push_back(Object(RelmapFileKey(1663, db)));
    want.push_back(Single(RelDirKey(1663, db)));
    if (db == 5) {
      want.push_back(Rel({1663, 5, 99999, 0}, 0, 2));
      want.push_back(Single(RelSizeKey({1663, 5, 99999, 0})));
      want.push_back(Rel({1663, 5, 99999, 2}, 0, 1));
      want.push_back(Single(RelSizeKey({1663, 5, 99999, 2})));
      want.push_back(Rel({1663, 5, 99999, 3}, 0, 0));
      want.push_back(Single(RelSizeKey({1663, 5, 99999, 3})));
      want.push_back(Rel({1663, 5, 100000, 0}, 0, 1));
      want.push_back(Single(RelSizeKey({1663, 5, 100000, 0})));
    }
  }
  want.push_back(Object(RelmapFileKey(1664, 0)));
  want.push_back(Single(RelDirKey(1664, 0)));
  AppendSlruAndTail(&want, true);
  CheckTasks(*r, want);

  const ImportTask* dbdir = FindTask(*r, kDbDirKey);
  REQUIRE(dbdir != nullptr);
  CHECK(Hex(dbdir->value) == "0000000000000004" "0000067f0000000101" "0000067f0000000501"
                             "0000067f0000401001" "000006800000000001");
  const ImportTask* reldir = FindTask(*r, RelDirKey(1663, 5));
  REQUIRE(reldir != nullptr);
  CHECK(Hex(reldir->value) == "0000000000000004" "0001869f00" "0001869f02" "0001869f03" "000186a000");
  const ImportTask* init_size = FindTask(*r, RelSizeKey({1663, 5, 99999, 3}));
  REQUIRE(init_size != nullptr);
  CHECK(Hex(init_size->value) == "0000000000000000");
  CHECK(r->control.pg_major == 15);
  CHECK(FindTask(*r, RelmapFileKey(1663, 5))->object.size == 512);
}

TEST_CASE("plan: a multi-segment relation (sparse 1 GiB segment + .1)") {
  TempPgdata d(16);
  d.Minimal();
  d.Database(5);
  d.File("base/5/16384", 1ull << 30);
  d.Blocks("base/5/16384.1", 10);
  // .10 sorts after .9 numerically: a second relation with 11 segments (all but the last full).
  for (int s = 0; s < 11; s++) {
    d.File("base/5/16390" + (s == 0 ? std::string() : "." + std::to_string(s)), s == 10 ? 8192 : 1ull << 30);
  }
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());

  const RelTag t{1663, 5, 16384, 0};
  const ImportTask* s0 = FindTask(*r, RelBlockKey(t, 0));
  const ImportTask* s1 = FindTask(*r, RelBlockKey(t, 131072));
  REQUIRE(s0 != nullptr);
  REQUIRE(s1 != nullptr);
  CHECK(s0->end == RelBlockKey(t, 131072));
  CHECK(s0->nblocks == 131072);
  CHECK(s0->first_block == 0);
  CHECK(s0->local_pages == 131072);
  CHECK(s1->end == RelBlockKey(t, 131082));
  CHECK(s1->object.name == "base/5/16384.1");
  CHECK(s1->first_block == 131072);
  CHECK(s1->nblocks == 10);
  // One size key for the fork, after its last segment: 131082 = 0x2000A.
  const ImportTask* size = FindTask(*r, RelSizeKey(t));
  REQUIRE(size != nullptr);
  CHECK(Hex(size->value) == "0a00020000000000");
  int size_keys = 0;
  for (const ImportTask* x : AllTasks(*r)) size_keys += IsRelSizeKey(x->start) && x->start.field4 == 16384;
  CHECK(size_keys == 1);

  const RelTag u{1663, 5, 16390, 0};
  const ImportTask* u9 = FindTask(*r, RelBlockKey(u, 9 * 131072));
  const ImportTask* u10 = FindTask(*r, RelBlockKey(u, 10 * 131072));
  REQUIRE(u9 != nullptr);
  REQUIRE(u10 != nullptr);
  CHECK(u9->object.name == "base/5/16390.9");
  CHECK(u10->object.name == "base/5/16390.10");
  CHECK(Hex(FindTask(*r, RelSizeKey(u))->value) == "0100140000000000");  // 10 * 131072 + 1
}

TEST_CASE("plan: prepared transactions (pg_twophase) PG 16: u32 xids") {
  TempPgdata d(16);
  d.Minimal();
  d.File("pg_twophase/000002E5", 200);
  d.File("pg_twophase/00000010", 100);
  d.File("pg_twophase/000002e6", 100);    // lower case: not a PostgreSQL name
  d.File("pg_twophase/00000000000002E7", 100);  // PG 17 form on PG 16
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  REQUIRE(r->warnings.size() == 2);
  CHECK(r->warnings[0] == d.Path("pg_twophase/00000000000002E7") +
                              ": not a PostgreSQL 16 two-phase state file name, skipped");
  CHECK(r->warnings[1] == d.Path("pg_twophase/000002e6") + ": not a PostgreSQL 16 two-phase state file name, skipped");

  const ImportTask* dir = FindTask(*r, kTwoPhaseDirKey);
  REQUIRE(dir != nullptr);
  CHECK(Hex(dir->value) == "0000000000000002" "00000010" "000002e5");
  const ImportTask* f = FindTask(*r, TwoPhaseFileKey(0x2E5));
  REQUIRE(f != nullptr);
  CHECK(f->kind == Kind::kObjectValue);
  CHECK(f->object.name == "pg_twophase/000002E5");
  CHECK(f->object.size == 200);
  CHECK(f->start.ToHex() == "02" "00000000" "00000000" "00000000" "00" "000002E5");

  std::vector<Expect> want = {Single(kDbDirKey), Object(RelmapFileKey(1663, 1)), Single(RelDirKey(1663, 1)),
                              Object(RelmapFileKey(1664, 0)), Single(RelDirKey(1664, 0))};
  AppendSlruAndTail(&want, true, {0x10, 0x2E5});
  CheckTasks(*r, want);

  // Twophase keys are global (ShardIdentity::IsKeyGlobal): every shard writes them.
  for (uint32_t n = 0; n < 4; n++) {
    auto rs = d.Plan(Sharded(n, 4));
    REQUIRE(rs.ok());
    const ImportTask* x = FindTask(*rs, TwoPhaseFileKey(0x2E5));
    REQUIRE(x != nullptr);
    CHECK(x->local_pages == 1);
    CHECK(FindTask(*rs, kTwoPhaseDirKey)->local_pages == 1);
  }
}

TEST_CASE("plan: prepared transactions PG 17: FullTransactionId names, u64 directory") {
  TempPgdata d(17);
  d.Minimal();
  d.File("pg_twophase/00000001000002E5", 300);  // epoch 1, xid 0x2E5
  d.File("pg_twophase/000002E5", 10);           // the PG 16 form: skipped on 17
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  REQUIRE(r->warnings.size() == 1);
  const uint64_t fxid = (1ull << 32) | 0x2E5;
  const ImportTask* dir = FindTask(*r, kTwoPhaseDirKey);
  REQUIRE(dir != nullptr);
  CHECK(Hex(dir->value) == "0000000000000001" "00000001000002e5");
  const ImportTask* f = FindTask(*r, TwoPhaseFileKey(fxid));
  REQUIRE(f != nullptr);
  CHECK(f->start.ToHex() == "02" "00000000" "00000000" "00000000" "01" "000002E5");
  CHECK(f->object.name == "pg_twophase/00000001000002E5");
}

TEST_CASE("plan: user tablespace behind a pg_tblspc symlink") {
  TempPgdata d(16);
  d.Minimal();
  d.Database(5);
  d.Blocks("base/5/16384", 2);
  auto ts = d.OutsideDir();
  // PG_16_202307071/5/: two relation files of database 5 (no relmap: not its default tablespace).
  std::filesystem::create_directories(ts / "PG_16_202307071" / "5");
  std::filesystem::create_directories(ts / "PG_16_202307071" / "pgsql_tmp");
  std::filesystem::create_directories(ts / "PG_15_202209061" / "5");   // another version: ignored
  {
    std::ofstream(ts / "PG_16_202307071" / "5" / "16390", std::ios::binary) << std::string(3 * 8192, 'x');
    std::ofstream(ts / "PG_16_202307071" / "5" / "16390_fsm", std::ios::binary) << std::string(8192, 'y');
    std::ofstream(ts / "PG_15_202209061" / "5" / "16390", std::ios::binary) << std::string(8192, 'z');
  }
  d.Symlink(ts, "pg_tblspc/16385");
  // A database created with TABLESPACE: its relmap lives in the tablespace.
  d.Dir("pg_tblspc/16386/PG_16_202307071/16400");
  d.File("pg_tblspc/16386/PG_16_202307071/16400/pg_filenode.map", 524);
  d.File("pg_tblspc/16386/PG_16_202307071/16400/PG_VERSION", 3);
  d.Blocks("pg_tblspc/16386/PG_16_202307071/16400/1259", 4);
  d.Dir("pg_tblspc/16387/PG_16_202307071/5");  // empty: nothing to import, no keys
  PlanOptions keep;
  keep.tablespaces = TablespaceMode::kKeep;
  auto r = d.Plan(keep);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0] == d.Path("pg_tblspc/16385/PG_15_202209061/") +
                              ": not the tablespace directory of this cluster (PG_16_202307071), ignored");

  const ImportTask* dbdir = FindTask(*r, kDbDirKey);
  REQUIRE(dbdir != nullptr);
  auto dd = DbDirectory::Decode(dbdir->value, "dbdir");
  REQUIRE(dd.ok());
  CHECK(dd->dbs == std::map<std::pair<uint32_t, uint32_t>, bool>{
                       {{1663, 1}, true}, {{1663, 5}, true}, {{1664, 0}, true}, {{16385, 5}, false},
                       {{16386, 16400}, true}});

  std::vector<Expect> want = {Single(kDbDirKey)};
  for (uint32_t db : {1u, 5u}) {
    want.push_back(Object(RelmapFileKey(1663, db)));
    want.push_back(Single(RelDirKey(1663, db)));
  }
  want.push_back(Rel({1663, 5, 16384, 0}, 0, 2));
  want.push_back(Single(RelSizeKey({1663, 5, 16384, 0})));
  want.push_back(Object(RelmapFileKey(1664, 0)));
  want.push_back(Single(RelDirKey(1664, 0)));
  want.push_back(Single(RelDirKey(16385, 5)));  // no relmap key there
  want.push_back(Rel({16385, 5, 16390, 0}, 0, 3));
  want.push_back(Single(RelSizeKey({16385, 5, 16390, 0})));
  want.push_back(Rel({16385, 5, 16390, 1}, 0, 1));
  want.push_back(Single(RelSizeKey({16385, 5, 16390, 1})));
  want.push_back(Object(RelmapFileKey(16386, 16400)));
  want.push_back(Single(RelDirKey(16386, 16400)));
  want.push_back(Rel({16386, 16400, 1259, 0}, 0, 4));
  want.push_back(Single(RelSizeKey({16386, 16400, 1259, 0})));
  AppendSlruAndTail(&want, true);
  CheckTasks(*r, want);

  const ImportTask* t = FindTask(*r, RelBlockKey({16385, 5, 16390, 0}, 0));
  REQUIRE(t != nullptr);
  CHECK(t->object.name == "pg_tblspc/16385/PG_16_202307071/5/16390");
  CHECK(t->start.ToHex() == "000000400100000005000040060000000000");
  const ImportTask* rd = FindTask(*r, RelDirKey(16385, 5));
  CHECK(Hex(rd->value) == "0000000000000002" "0000400600" "0000400601");
  REQUIRE(r->tablespaces.size() == 2);
  CHECK(r->tablespaces[0].oid == 16385);
  CHECK(r->tablespaces[0].location == ts.string());
  CHECK(r->skipped_relations.empty());

  // Without following pg_tblspc links the local backend refuses the symlink.
  auto plain = d.Open(/*follow_tblspc=*/false);
  auto r2 = BuildPlan(*plain, PlanOptions());
  REQUIRE(!r2.ok());
  CHECK(r2.status().message().find("symbolic link") != std::string::npos);
}

TEST_CASE("plan: unknown entries are skipped with a warning, known ones silently") {
  TempPgdata d(16);
  d.Minimal();
  d.Database(5);
  d.File("base/5/foo", 10);
  d.File("base/5/16384_xyz", 8192);
  d.File("base/5/.DS_Store", 10);
  d.Dir("base/5/subdir");
  d.Dir("base/lost+found");
  d.File("base/stray", 1);
  d.File("base/5/pg_internal.init.12345", 10);
  d.File("global/pg_internal.init", 10);
  d.File("pg_xact/zzzz", 8192);
  d.Dir("pg_multixact/members/sub");
  d.File("pg_tblspc/readme", 5);
  d.Dir("pg_tblspc/notanoid");
  d.File("base/1/pg_control", 8192);  // pg_control belongs in global/ only
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  std::vector<std::string> want = {
      d.Path("base/stray") + ": unexpected file in base/, skipped",
      d.Path("base/1/pg_control") + ": not a relation file, skipped",
      d.Path("base/5/subdir/") + ": unexpected sub-directory in a database directory, skipped",
      d.Path("base/5/.DS_Store") + ": not a relation file, skipped",
      d.Path("base/5/16384_xyz") + ": not a relation file, skipped",
      d.Path("base/5/foo") + ": not a relation file, skipped",
      d.Path("base/lost+found/") + ": not a database directory (name is not an OID), skipped",
      d.Path("pg_tblspc/readme") + ": not a tablespace directory (a file, or a link that was not followed), skipped",
      d.Path("pg_tblspc/notanoid/") + ": not a tablespace (name is not an OID), skipped",
      d.Path("pg_xact/zzzz") + ": not an SLRU segment (name is not hexadecimal), skipped",
      d.Path("pg_multixact/members/sub/") + ": unexpected sub-directory in an SLRU directory, skipped",
  };
  CHECK(r->warnings == want);
}

TEST_CASE("plan: shards other than 0 do not list SLRUs") {
  TempPgdata d(16);
  d.Minimal();
  d.File("pg_xact/zzzz", 8192);  // would warn on shard 0
  auto r = d.Plan(Sharded(1, 4));
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->warnings.empty());
  std::vector<Expect> want = {Single(kDbDirKey), Object(RelmapFileKey(1663, 1)), Single(RelDirKey(1663, 1)),
                              Object(RelmapFileKey(1664, 0)), Single(RelDirKey(1664, 0))};
  AppendSlruAndTail(&want, false);
  CheckTasks(*r, want);
  for (const ObjectInfo& o : r->source_objects) CHECK(o.name.find("pg_xact") == std::string::npos);
}

TEST_CASE("plan: CheckRelSegments accepts full segments followed by a partial one") {
  TempPgdata d(16);
  auto s = d.Open();
  auto seg = [](uint32_t rel, uint8_t fork, uint32_t segno, uint32_t n) {
    RelSegment r;
    r.file = {rel, fork, segno};
    r.object.name = "base/5/x";
    r.object.size = uint64_t(n) * 8192;
    r.nblocks = n;
    return r;
  };
  CHECK(CheckRelSegments(*s, {seg(10, 0, 0, 131072), seg(10, 0, 1, 0), seg(10, 1, 0, 5), seg(11, 0, 0, 0)}).ok());
  // The last valid segment: 32767 with 131071 blocks ends just below block 0xFFFFFFFF.
  std::vector<RelSegment> big;
  for (uint32_t i = 0; i < 32767; i++) big.push_back(seg(12, 0, i, 131072));
  big.push_back(seg(12, 0, 32767, 131071));
  CHECK(CheckRelSegments(*s, big).ok());
  big.back() = seg(12, 0, 32767, 131072);
  Status st = CheckRelSegments(*s, big);
  CHECK(st.message() == d.Path("base/5/x") +
                            ": segment 32767 of relation 12 (main fork) with 131072 blocks would reach block "
                            "number 4294967295, which is not a valid block number");
}

TEST_CASE("plan: non-empty pg_replslot/, pg_commit_ts/, pg_logical/ give one warning each") {
  TempPgdata d(15);
  d.Minimal();
  // As PostgreSQL leaves them with nothing to drop: no warning.
  d.Dir("pg_replslot");
  d.Dir("pg_commit_ts");
  d.Dir("pg_logical/snapshots");
  d.Dir("pg_logical/mappings");
  d.File("pg_logical/replorigin_checkpoint", 8);  // magic + CRC, no origin
  {
    auto r = d.Plan();
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->warnings.empty());
  }
  d.Dir("pg_replslot/sub_a");
  d.Dir("pg_replslot/sub_b");
  d.File("pg_commit_ts/0000", 8192);
  d.File("pg_logical/replorigin_checkpoint", 8 + 3 * 16);
  d.File("pg_logical/snapshots/0-16B2F68.snap", 100);
  d.File("pg_logical/mappings/map-1", 10);
  d.File("pg_logical/mappings/map-2", 10);
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  std::vector<std::string> want = {
      d.Path("pg_replslot/") +
          ": 2 replication slots are not imported (the pageserver keeps no replication slots); recreate them after "
          "attaching",
      d.Path("pg_commit_ts/") +
          ": 1 commit timestamp segment is not imported (Neon's key space has no key for commit timestamps); "
          "pg_xact_commit_timestamp() returns NULL for transactions committed before the import",
      d.Path("pg_logical/") +
          ": logical replication state (3 replication origins, 1 logical decoding snapshot, 2 logical rewrite "
          "mappings) is not imported (Neon's import writes no replication origin or logical replication keys); "
          "recreate replication origins and subscriptions after attaching",
  };
  CHECK(r->warnings == want);
  // Every shard plans the same warnings (each shard's import logs them).
  auto r1 = d.Plan(Sharded(1, 4));
  REQUIRE_MESSAGE(r1.ok(), r1.status().message());
  CHECK(r1->warnings == want);
}


// A PGDATA with two user tablespaces (one with a database's relation map) and its twin without
// the pg_tblspc directories, for the --tablespaces modes.
void AddTablespaces(TempPgdata& d) {
  d.Dir("pg_tblspc/16385/PG_16_202307071/5");
  d.Blocks("pg_tblspc/16385/PG_16_202307071/5/16390", 3);
  d.Blocks("pg_tblspc/16385/PG_16_202307071/5/16390_fsm", 1);
  d.Blocks("pg_tblspc/16385/PG_16_202307071/5/16391", 2);
  d.Dir("pg_tblspc/16386/PG_16_202307071/16400");
  d.File("pg_tblspc/16386/PG_16_202307071/16400/pg_filenode.map", 524);
  d.Blocks("pg_tblspc/16386/PG_16_202307071/16400/1259", 4);
}
void BaseCluster(TempPgdata& d) {
  d.Minimal();
  d.Database(5);
  d.Blocks("base/5/16384", 2);
}

TEST_CASE("plan: --tablespaces refuse names every user tablespace, the remedy and the other modes") {
  TempPgdata d(16);
  BaseCluster(d);
  AddTablespaces(d);
  auto r = d.Plan();   // default: refuse
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kInvalidInput);
  const std::string& m = r.status().message();
  INFO(m);
  CHECK(m.find("2 user tablespaces") != std::string::npos);
  CHECK(m.find("tablespace OID 16385") != std::string::npos);
  CHECK(m.find("database 5, 2 relations, 49152 bytes") != std::string::npos);
  CHECK(m.find("tablespace OID 16386") != std::string::npos);
  CHECK(m.find("database 16400, 1 relation, 33292 bytes") != std::string::npos);
  CHECK(m.find("SET TABLESPACE pg_default") != std::string::npos);
  CHECK(m.find("ALTER DATABASE") != std::string::npos);
  CHECK(m.find("--tablespaces skip") != std::string::npos);
  CHECK(m.find("--tablespaces keep") != std::string::npos);

  // The import's check before it writes anything decides the same.
  auto s = d.Open();
  bool refused = false;
  PlanOptions o;
  Status st = PreflightSource(*s, o, &refused);
  CHECK(refused);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message() == m);
  o.tablespaces = TablespaceMode::kSkip;
  CHECK(PreflightSource(*s, o, &refused).ok());
  CHECK(!refused);
  o.tablespaces = TablespaceMode::kKeep;
  CHECK(PreflightSource(*s, o, &refused).ok());
}

TEST_CASE("plan: --tablespaces skip plans exactly the PGDATA without its tablespaces, listing each relation") {
  TempPgdata with(16), without(16);
  BaseCluster(with);
  AddTablespaces(with);
  BaseCluster(without);
  PlanOptions skip;
  skip.tablespaces = TablespaceMode::kSkip;
  auto a = with.Plan(skip);
  REQUIRE_MESSAGE(a.ok(), a.status().message());
  auto b = without.Plan();   // no user tablespace: refuse has nothing to refuse
  REQUIRE_MESSAGE(b.ok(), b.status().message());
  // Same objects (the fingerprint also covers their versions, which differ between the two copies).
  REQUIRE(a->source_objects.size() == b->source_objects.size());
  for (size_t i = 0; i < a->source_objects.size(); i++) {
    CHECK(a->source_objects[i].name == b->source_objects[i].name);
  }
  REQUIRE(a->jobs.size() == b->jobs.size());
  for (size_t j = 0; j < a->jobs.size(); j++) {
    REQUIRE(a->jobs[j].tasks.size() == b->jobs[j].tasks.size());
    for (size_t t = 0; t < a->jobs[j].tasks.size(); t++) {
      CHECK(a->jobs[j].tasks[t].start == b->jobs[j].tasks[t].start);
      CHECK(a->jobs[j].tasks[t].value == b->jobs[j].tasks[t].value);
      if (a->jobs[j].tasks[t].start.field1 == 0x00 && a->jobs[j].tasks[t].start.field2 > 0) {
        CHECK((a->jobs[j].tasks[t].start.field2 == 1663 || a->jobs[j].tasks[t].start.field2 == 1664));
      }
    }
  }
  REQUIRE(a->skipped_relations.size() == 3);
  CHECK(a->skipped_relations[0].spcnode == 16385);
  CHECK(a->skipped_relations[0].dbnode == 5);
  CHECK(a->skipped_relations[0].relnode == 16390);
  CHECK(a->skipped_relations[0].forks == std::vector<std::string>{"main", "fsm"});
  CHECK(a->skipped_relations[0].bytes == 4 * 8192);
  CHECK(a->skipped_relations[1].relnode == 16391);
  CHECK(a->skipped_relations[2].spcnode == 16386);
  CHECK(a->skipped_relations[2].relnode == 1259);
  CHECK(SkippedRelationText(a->skipped_relations[0]).find("relation 16390 of database 5 in tablespace 16385") !=
        std::string::npos);
  REQUIRE(a->tablespaces.size() == 2);
  CHECK(a->tablespace_mode == TablespaceMode::kSkip);

  // keep: the tablespaces are planned (a different plan), nothing listed as skipped.
  PlanOptions keep;
  keep.tablespaces = TablespaceMode::kKeep;
  auto k = with.Plan(keep);
  REQUIRE_MESSAGE(k.ok(), k.status().message());
  CHECK(k->Fingerprint() != b->Fingerprint());
  CHECK(k->skipped_relations.empty());
  CHECK(FindTask(*k, RelDirKey(16385, 5)) != nullptr);
  CHECK(FindTask(*a, RelDirKey(16385, 5)) == nullptr);
}

TEST_CASE("plan: --tablespaces values") {
  CHECK(*ParseTablespaceMode("refuse") == TablespaceMode::kRefuse);
  CHECK(*ParseTablespaceMode("skip") == TablespaceMode::kSkip);
  CHECK(*ParseTablespaceMode("keep") == TablespaceMode::kKeep);
  auto bad = ParseTablespaceMode("Keep");
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == Code::kUsage);
  CHECK(bad.status().message().find("refuse, skip, keep") != std::string::npos);
  CHECK(PlanOptions().tablespaces == TablespaceMode::kRefuse);
}

}  // namespace
}  // namespace p2l
