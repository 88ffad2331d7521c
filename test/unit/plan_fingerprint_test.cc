// The plan fingerprint (fingerprint.h): a pinned encoding, determinism, and sensitivity to what
// changes the work (sizes, versions, shard, soft limit) but not to what does not.

#include <sys/stat.h>

#include <chrono>

#include "import/fingerprint.h"
#include "import/plan.h"
#include "plan_test_util.h"

namespace p2l {
namespace {

using namespace plantest;

TEST_CASE("fingerprint: pinned canonical encoding and hash") {
  ImportPlan p;
  p.shard = *ShardIdentity::Make(1, 4, 2048);
  p.soft_size_limit = 512 << 10;
  p.base_lsn = 0x178E490;
  p.control.pg_major = 16;
  ImportJob j;
  j.index = 1;
  j.start = Key::Min();
  j.end = Key::Max();
  ImportTask s;
  s.kind = ImportTask::Kind::kSingleKey;
  s.start = Key::Min();
  s.end = Key::Min().Next();
  s.value = "abc";
  s.local_pages = 1;
  ImportTask r;
  r.kind = ImportTask::Kind::kRelBlocks;
  r.start = Key{0, 1663, 5, 16384, 0, 0};
  r.end = Key{0, 1663, 5, 16384, 0, 3};
  r.object = {"base/5/16384", 24576, "v1"};
  r.first_block = 0;
  r.nblocks = 3;
  r.verify_pages = true;
  r.local_pages = 2;
  j.tasks = {s, r};
  p.jobs.push_back(j);
  // Computed independently (Python, keyspace_ref.py's xxh64) from the layout in fingerprint.h.
  CHECK(Hex(EncodePlanCanonical(p)) ==
        "01000000010400080000000008000000000090e478010000000010000000010000000000000001000000000000000000000000000000"
        "000000000000ffffffffffffffffffffffffffffffffffff02000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000010300000000000000990977adf52cbc4402000000067f00000005000040000000000000000000067f00"
        "0000050000400000000000030c00000000000000626173652f352f3136333834006000000000000002000000000000007631000000000300"
        "0000");
  CHECK(p.Fingerprint() == 0x12CDAD6A6604A497ull);
  CHECK(PlanFingerprint(p) == p.Fingerprint());
  // Not encoded: verify_pages, local_pages, estimated sizes, warnings.
  p.jobs[0].tasks[1].verify_pages = false;
  p.jobs[0].tasks[1].local_pages = 3;
  p.jobs[0].estimated_bytes = 12345;
  p.warnings.push_back("x");
  CHECK(p.Fingerprint() == 0x12CDAD6A6604A497ull);
  // Encoded: the value bytes (through their hash), not only the length.
  p.jobs[0].tasks[0].value = "abd";
  CHECK(p.Fingerprint() != 0x12CDAD6A6604A497ull);
}

TEST_CASE("fingerprint: two builds of the same source agree; changes are seen") {
  TempPgdata d(16);
  d.Minimal();
  d.Database(5);
  d.Blocks("base/5/16384", 3);
  d.Blocks("base/5/16384_vm", 1);
  d.File("pg_twophase/000002E5", 100);
  auto a = d.Plan();
  auto b = d.Plan();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(EncodePlanCanonical(*a) == EncodePlanCanonical(*b));
  const uint64_t base = a->Fingerprint();
  CHECK(base == b->Fingerprint());

  // Other options that do not change the work: same fingerprint.
  PlanOptions nv;
  nv.verify_pages = false;
  CHECK(d.Plan(nv)->Fingerprint() == base);

  // Soft limit, shard identity and stripe are part of it even when the jobs are the same.
  PlanOptions lim;
  lim.soft_size_limit = 512ull << 20;
  CHECK(d.Plan(lim)->jobs.size() == a->jobs.size());
  CHECK(d.Plan(lim)->Fingerprint() != base);
  CHECK(d.Plan(Sharded(0, 1))->Fingerprint() != base);
  CHECK(d.Plan(Sharded(0, 4, 2048))->Fingerprint() != d.Plan(Sharded(0, 4, 4096))->Fingerprint());

  // A relation file's size.
  d.Blocks("base/5/16384", 4);
  const uint64_t grown = d.Plan()->Fingerprint();
  CHECK(grown != base);
  // Only its version (mtime): still different (the import re-checks versions at read time).
  std::filesystem::last_write_time(d.root() / "base/5/16384",
                                   std::filesystem::last_write_time(d.root() / "base/5/16384") - std::chrono::hours(1));
  CHECK(d.Plan()->Fingerprint() != grown);
  // A two-phase file's size.
  const uint64_t before = d.Plan()->Fingerprint();
  d.File("pg_twophase/000002E5", 101);
  CHECK(d.Plan()->Fingerprint() != before);
}

}  // namespace
}  // namespace p2l
