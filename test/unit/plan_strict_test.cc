// The plan refuses what would be silently wrong: each error with its exact message (pgdata_walk.h,
// source_layout.h, keyspace-and-sharding.md §3.3, §7).

#include <functional>
#include <string>
#include <vector>

#include "import/plan.h"
#include "import/source_options.h"
#include "plan_test_util.h"

namespace p2l {
namespace {

using namespace plantest;

// Plans `d` and returns the error (fails the test if planning succeeds).
Status PlanError(const TempPgdata& d, const PlanOptions& opts = PlanOptions()) {
  auto r = d.Plan(opts);
  CHECK_MESSAGE(!r.ok(), "planning succeeded");
  return r.ok() ? Status::OK() : r.status();
}

struct Db5 : TempPgdata {
  Db5() : TempPgdata(16) {
    Minimal();
    Database(5);
  }
};

// A cluster planning must refuse: `setup` adds the bad part to a minimal PostgreSQL `pg` cluster
// with database 5; the error is `code` with message d.Path(path) + message [+ d.Path(then_path)].
struct BadCase {
  const char* name;
  std::function<void(TempPgdata&)> setup;
  std::string path, message;
  Code code = Code::kInvalidInput;
  int pg = 16;
  std::string then_path;
};

void CheckRefused(const std::vector<BadCase>& cases) {
  for (const BadCase& c : cases) {
    CAPTURE(c.name);
    TempPgdata d(c.pg);
    d.Minimal();
    d.Database(5);
    c.setup(d);
    Status st = PlanError(d);
    CHECK(st.code() == c.code);
    CHECK(st.message() == d.Path(c.path) + c.message + (c.then_path.empty() ? "" : d.Path(c.then_path)));
  }
}

TEST_CASE("plan strict: relation file size not a multiple of 8192") {
  Db5 d;
  d.File("base/5/16384", 8193);
  Status st = PlanError(d);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message() == d.Path("base/5/16384") + ": size 8193 is not a multiple of 8192");
}

TEST_CASE("plan strict: relnode 0") {
  Db5 d;
  d.Blocks("base/5/0", 1);
  Status st = PlanError(d);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message() == d.Path("base/5/0") +
                            ": relation file number 0 is invalid (its keys would collide with the relation map "
                            "and relation directory of database 1663/5)");
}

TEST_CASE("plan strict: non-canonical relation file names") {
  for (auto [name, canonical] : std::vector<std::pair<std::string, std::string>>{
           {"016384", "16384"}, {"16384.0", "16384"}, {"+16384", "16384"}, {"16384_vm.01", "16384_vm.1"},
           {"+16384_fsm", "16384_fsm"}}) {
    CAPTURE(name);
    Db5 d;
    d.Blocks("base/5/" + name, 1);
    Status st = PlanError(d);
    CHECK(st.code() == Code::kInvalidInput);
    CHECK(st.message() == d.Path("base/5/" + name) + ": non-canonical relation file name (PostgreSQL would name it \"" +
                              canonical + "\")");
  }
}

TEST_CASE("plan strict: missing segments") {
  const std::string main1 = ": segment 1 of relation 16384 (main fork) is missing";
  CheckRefused({
      {"1 GiB segment 0, segment 2",
       [](TempPgdata& d) {
         d.File("base/5/16384", 1ull << 30);
         d.Blocks("base/5/16384.2", 1);
       },
       "base/5/16384.2", main1},
      {"fsm segment 1 without 0",
       [](TempPgdata& d) {
         d.Blocks("base/5/16384", 1);
         d.Blocks("base/5/16384_fsm.1", 1);
       },
       "base/5/16384_fsm.1", ": segment 0 of relation 16384 (fsm fork) is missing"},
      // a stray segment is named, not the short segment 0 in front of it
      {"short segment 0, segment 2",
       [](TempPgdata& d) {
         d.Blocks("base/5/16384", 14);
         d.Blocks("base/5/16384.2", 1);
       },
       "base/5/16384.2", main1},
      {"segment 40000",
       [](TempPgdata& d) {
         d.Blocks("base/5/16384", 14);
         d.Blocks("base/5/16384.40000", 1);
       },
       "base/5/16384.40000",
       ": segment number 40000 is out of range (a relation has at most 32768 segments, 0..32767)"},
  });
}

TEST_CASE("plan strict: base/ missing or without a database") {
  TempPgdata d(16);
  d.Write("global/pg_control", ControlBytes(16));
  d.File("global/pg_filenode.map", 524);
  Status st = PlanError(d);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message() == d.Path("base/") +
                            ": missing or holds no database directory (every cluster has at least template1, base/1/)");
}

TEST_CASE("plan strict: a non-last segment must be exactly 1 GiB") {
  Db5 d;
  d.Blocks("base/5/16384", 100);
  d.Blocks("base/5/16384.1", 1);
  Status st = PlanError(d);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message() == d.Path("base/5/16384") +
                            ": segment 0 of relation 16384 (main fork) has 100 blocks but is not the last segment; "
                            "every segment but the last must have exactly 131072 blocks (1 GiB)");
}

TEST_CASE("plan strict: a segment larger than 1 GiB") {
  Db5 d;
  d.File("base/5/16384_init", (1ull << 30) + 8192);
  Status st = PlanError(d);
  CHECK(st.message() == d.Path("base/5/16384_init") +
                            ": segment 0 of relation 16384 (init fork) has 131073 blocks, more than 131072 (1 GiB)");
}

TEST_CASE("plan strict: segment number 32768 or more") {
  Db5 d;
  d.Blocks("base/5/16384.32768", 1);
  Status st = PlanError(d);
  CHECK(st.message() == d.Path("base/5/16384.32768") +
                            ": segment number 32768 is out of range (a relation has at most 32768 segments, 0..32767)");
}

TEST_CASE("plan strict: SLRU segments") {
  CheckRefused({
      {"partial page", [](TempPgdata& d) { d.File("pg_xact/0001", 100); }, "pg_xact/0001",
       ": size 100 is not a multiple of 8192"},
      {"33 pages", [](TempPgdata& d) { d.Blocks("pg_multixact/offsets/0001", 33); }, "pg_multixact/offsets/0001",
       ": SLRU segment has 33 pages, more than 32"},
      {"same number twice", [](TempPgdata& d) { d.Blocks("pg_xact/000", 1); }, "pg_xact/0000",
       ": same SLRU segment number 0 as ", Code::kInvalidInput, 16, "pg_xact/000"},
  });
  // A full 32-page segment is fine; on shard 1 of 4 SLRUs are not even listed.
  TempPgdata d(16);
  d.Minimal();
  d.Blocks("pg_xact/0001", 32);
  CHECK(d.Plan().ok());
  d.Blocks("pg_xact/0002", 33);
  CHECK(d.Plan(Sharded(1, 4)).ok());
}

TEST_CASE("plan strict: pg_filenode.map") {
  CheckRefused({
      {"database map missing", [](TempPgdata& d) { d.Remove("base/1/pg_filenode.map"); }, "base/1/pg_filenode.map",
       ": not found; every database directory must have its relation map (database 1663/1)", Code::kNotFound},
      {"global map missing", [](TempPgdata& d) { d.Remove("global/pg_filenode.map"); }, "global/pg_filenode.map",
       ": not found; every database directory must have its relation map (database 1664/0)", Code::kNotFound, 14},
      {"PG 14/15 size on PG 16",
       [](TempPgdata& d) { d.File("base/1/pg_filenode.map", 512); }, "base/1/pg_filenode.map",
       ": size 512 is not the 524 bytes of a PostgreSQL 16 relation map"},
  });
}

TEST_CASE("plan strict: database directory names") {
  CheckRefused({
      {"non-canonical",
       [](TempPgdata& d) { std::filesystem::rename(d.root() / "base/5", d.root() / "base/05"); }, "base/05/",
       ": non-canonical database directory name (PostgreSQL would name it \"5\")"},
      {"OID 0", [](TempPgdata& d) { d.Database(0); }, "base/0/", ": database OID 0 is invalid"},
      {"OID out of range", [](TempPgdata& d) { d.Dir("base/99999999999"); }, "base/99999999999/",
       ": database OID out of range"},
  });
}

TEST_CASE("plan strict: no pg_control in either layout") {
  TempPgdata d(16);
  d.Database(5);
  Status st = PlanError(d);
  CHECK(st.code() == Code::kNotFound);
  const std::string root = d.root().string();
  CHECK(st.message() == root + ": not a PostgreSQL data directory: neither " + root +
                            "/pgdata/global/pg_control (Neon import bucket layout) nor " + root +
                            "/global/pg_control (plain PGDATA) exists");
}

TEST_CASE("plan strict: a cluster that was not shut down cleanly") {
  TempPgdata d(17);
  d.Minimal(/*state=*/6);
  Status st = PlanError(d);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message() == d.Path("global/pg_control") +
                            ": the cluster was not shut down cleanly (state: in production); start PostgreSQL on it "
                            "and stop it with pg_ctl stop -m fast, or pass --allow-unclean-shutdown to import anyway "
                            "(the data may be inconsistent)");
  PlanOptions o;
  o.allow_unclean_shutdown = true;
  auto r = d.Plan(o);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].find("not shut down cleanly (state: in production)") != std::string::npos);
  // A corrupt control file is refused even then.
  std::string bad = ControlBytes(17);
  bad[100] ^= 1;
  d.Write("global/pg_control", bad);
  CHECK(!d.Plan(o).ok());
}

TEST_CASE("plan strict: tablespaces") {
  CheckRefused({
      {"OID over 65535", [](TempPgdata& d) { d.Blocks("pg_tblspc/70000/PG_16_202307071/5/16384", 1); },
       "pg_tblspc/70000/PG_16_202307071/5/",
       ": tablespace OID 70000 does not fit the pageserver's 16-bit key field (max 65535)"},
      {"pg_default", [](TempPgdata& d) { d.Blocks("pg_tblspc/1663/PG_16_202307071/5/16384", 1); },
       "pg_tblspc/1663/PG_16_202307071/5/", ": 1663 is not a valid user tablespace OID"},
      {"non-canonical", [](TempPgdata& d) { d.Blocks("pg_tblspc/016385/PG_16_202307071/5/16384", 1); },
       "pg_tblspc/016385/", ": non-canonical tablespace directory name (PostgreSQL would name it \"16385\")"},
      // Relation files in a tablespace follow the same rules.
      {"partial page", [](TempPgdata& d) { d.File("pg_tblspc/16385/PG_16_202307071/5/16384", 10); },
       "pg_tblspc/16385/PG_16_202307071/5/16384", ": size 10 is not a multiple of 8192"},
  });
  // A large OID without data of this version is harmless.
  TempPgdata d(16);
  d.Minimal();
  d.Blocks("pg_tblspc/70000/PG_15_202209061/5/16384", 1);
  auto r = d.Plan();
  REQUIRE(r.ok());
  CHECK(r->warnings.size() == 1);
}

TEST_CASE("plan strict: two-phase state file of xid 0") {
  TempPgdata d(16);
  d.Minimal();
  d.File("pg_twophase/00000000", 100);
  Status st = PlanError(d);
  CHECK(st.message() == d.Path("pg_twophase/00000000") + ": transaction id 0 is invalid for a prepared transaction");
}

TEST_CASE("plan strict: options") {
  TempPgdata d(16);
  d.Minimal();
  PlanOptions o;
  o.soft_size_limit = 8191;
  Status st = PlanError(d, o);
  CHECK(st.code() == Code::kUsage);
  CHECK(st.message() == "soft size limit 8191 bytes is too small: the minimum is 8192 (one page)");
  o.soft_size_limit = 8192;
  CHECK(d.Plan(o).ok());
  PlanOptions bad_shard;
  bad_shard.shard.number = 4;
  bad_shard.shard.count = 4;
  CHECK(PlanError(d, bad_shard).code() == Code::kUsage);
  bad_shard.shard.number = 0;
  bad_shard.shard.stripe_size = 0;
  CHECK(PlanError(d, bad_shard).code() == Code::kUsage);
}

TEST_CASE("ParseByteSize") {
  CHECK(*ParseByteSize("256MiB", "--x") == 268435456);
  CHECK(*ParseByteSize("512KiB", "--x") == 524288);
  CHECK(*ParseByteSize("512K", "--x") == 524288);
  CHECK(*ParseByteSize("512k", "--x") == 524288);
  CHECK(*ParseByteSize("1GiB", "--x") == 1073741824);
  CHECK(*ParseByteSize("1 GiB", "--x") == 1073741824);
  CHECK(*ParseByteSize("1GB", "--x") == 1000000000);
  CHECK(*ParseByteSize("64kB", "--x") == 64000);
  CHECK(*ParseByteSize("8192", "--x") == 8192);
  CHECK(*ParseByteSize("8192B", "--x") == 8192);
  CHECK(*ParseByteSize("2T", "--x") == 2ull << 40);
  CHECK(*ParseByteSize("18446744073709551615", "--x") == UINT64_MAX);
  for (const char* bad : {"", "MiB", "12 ", "12XB", "-1", "1.5GiB", "18446744073709551616", "17179869184GiB",
                          "1mib"}) {
    CAPTURE(bad);
    auto r = ParseByteSize(bad, "--soft-size-limit");
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kUsage);
    CHECK(r.status().message().starts_with(std::string("--soft-size-limit \"") + bad + "\": "));
  }
}

}  // namespace
}  // namespace p2l
