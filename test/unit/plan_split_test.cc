// Task sizing per shard (ShardedRange::page_count, keyspace-and-sharding.md §4.7) and the job
// split (§5.2): contiguous ranges from MIN to MAX, greedy soft limit, empty jobs of a shard.

#include "import/plan.h"
#include "keyspace/keys.h"
#include "plan_test_util.h"

namespace p2l {
namespace {

using namespace plantest;
using Kind = ImportTask::Kind;

const ImportTask* FindTask(const ImportPlan& p, const Key& start) {
  for (const ImportTask* t : AllTasks(p)) {
    if (t->start == start) return t;
  }
  return nullptr;
}

// Job ranges are contiguous over [MIN, MAX), numbered from 1, and every boundary is the start of
// the next job's first task; each job's estimate is the sum of its task sizes.
void CheckJobInvariants(const ImportPlan& p) {
  REQUIRE(!p.jobs.empty());
  CHECK(p.jobs.front().start == Key::Min());
  CHECK(p.jobs.back().end == Key::Max());
  Key prev_task_start = Key::Min();
  for (size_t i = 0; i < p.jobs.size(); i++) {
    const ImportJob& j = p.jobs[i];
    CAPTURE(i);
    CHECK(j.index == i + 1);
    if (i > 0) CHECK(j.start == p.jobs[i - 1].end);
    REQUIRE(!j.tasks.empty());
    if (i > 0) CHECK(j.start == j.tasks.front().start);
    uint64_t sum = 0;
    for (const ImportTask& t : j.tasks) {
      CHECK(t.start >= j.start);
      CHECK(t.end <= j.end);
      CHECK(prev_task_start <= t.start);
      prev_task_start = t.start;
      sum += uint64_t(t.local_pages) * 8192;
    }
    CHECK(j.estimated_bytes == sum);
    if (j.tasks.size() > 1) CHECK(j.estimated_bytes <= p.soft_size_limit);
    if (i + 1 < p.jobs.size()) {
      // The next job's first task did not fit.
      CHECK(j.estimated_bytes + uint64_t(p.jobs[i + 1].tasks.front().local_pages) * 8192 > p.soft_size_limit);
    }
  }
}

TEST_CASE("plan split: greedy soft limit on a synthetic task list") {
  std::vector<ImportTask> tasks;
  const uint32_t pages[] = {1, 1, 3, 1, 2, 1};
  for (uint32_t i = 0; i < 6; i++) {
    ImportTask t;
    t.start = Key{0, 0, 0, 0, 0, i * 10};
    t.end = t.start.Next();
    t.local_pages = pages[i];
    tasks.push_back(t);
  }
  std::swap(tasks[1], tasks[4]);  // SplitIntoJobs sorts by (start, end)
  auto jobs = SplitIntoJobs(tasks, 3 * 8192);
  REQUIRE(jobs.size() == 4);
  auto k = [](uint32_t i) { return Key{0, 0, 0, 0, 0, i * 10}; };
  CHECK(jobs[0].start == Key::Min());
  CHECK(jobs[0].end == k(2));
  CHECK(jobs[0].tasks.size() == 2);
  CHECK(jobs[0].estimated_bytes == 2 * 8192);
  CHECK(jobs[1].start == k(2));
  CHECK(jobs[1].end == k(3));
  CHECK(jobs[1].estimated_bytes == 3 * 8192);
  CHECK(jobs[2].start == k(3));
  CHECK(jobs[2].end == k(5));
  CHECK(jobs[2].estimated_bytes == 3 * 8192);
  CHECK(jobs[3].start == k(5));
  CHECK(jobs[3].end == Key::Max());
  CHECK(jobs[3].estimated_bytes == 8192);
  for (size_t i = 0; i < jobs.size(); i++) CHECK(jobs[i].index == i + 1);

  // A first task larger than the limit: Neon's empty first job [MIN, MIN) (unreachable through
  // BuildPlan, whose first task is DBDIR and whose limit is at least 8192).
  tasks.clear();
  ImportTask big;
  big.start = Key{0, 0, 0, 1, 0, 0};
  big.end = Key{0, 0, 0, 1, 0, 100};
  big.local_pages = 100;
  tasks.push_back(big);
  jobs = SplitIntoJobs(tasks, 8192);
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].start == Key::Min());
  CHECK(jobs[0].end == big.start);
  CHECK(jobs[0].tasks.empty());
  CHECK(jobs[1].start == big.start);
  CHECK(jobs[1].end == Key::Max());
}

TEST_CASE("plan split: per-shard page counts of a 1 GiB segment, init fork and SLRUs") {
  TempPgdata d(16);
  d.Minimal();
  d.Database(5);
  d.File("base/5/16384", 1ull << 30);
  d.Blocks("base/5/16384_init", 5);
  const RelTag main{1663, 5, 16384, 0};
  const RelTag init{1663, 5, 16384, 3};
  struct Case {
    uint32_t stripe;
    uint32_t want[4];
  };
  for (const Case& c : {Case{2048, {43008, 36864, 24576, 26624}}, Case{32768, {32768, 0, 32768, 65536}}}) {
    for (uint32_t n = 0; n < 4; n++) {
      CAPTURE(c.stripe);
      CAPTURE(n);
      auto r = d.Plan(Sharded(n, 4, c.stripe));
      REQUIRE_MESSAGE(r.ok(), r.status().message());
      CheckJobInvariants(*r);
      const ImportTask* seg = FindTask(*r, RelBlockKey(main, 0));
      REQUIRE(seg != nullptr);
      CHECK(seg->local_pages == c.want[n]);
      CHECK(seg->nblocks == 131072);
      CHECK(FindTask(*r, RelBlockKey(init, 0))->local_pages == (n == 0 ? 5u : 0u));
      // Rel size keys and the other single keys are stored on every shard.
      CHECK(FindTask(*r, RelSizeKey(main))->local_pages == 1);
      CHECK(FindTask(*r, kDbDirKey)->local_pages == 1);
      CHECK(FindTask(*r, kCheckpointKey)->local_pages == 1);
      const ImportTask* clog = FindTask(*r, SlruBlockKey(SlruKind::kClog, 0, 0));
      if (n == 0) {
        REQUIRE(clog != nullptr);
        CHECK(clog->local_pages == 1);
      } else {
        CHECK(clog == nullptr);
        CHECK(FindTask(*r, SlruDirKey(SlruKind::kClog)) == nullptr);
      }
    }
  }
  // Unsharded and count 1: everything is local.
  for (auto o : {PlanOptions(), Sharded(0, 1)}) {
    auto r = d.Plan(o);
    REQUIRE(r.ok());
    CHECK(FindTask(*r, RelBlockKey(main, 0))->local_pages == 131072);
    CHECK(FindTask(*r, RelBlockKey(init, 0))->local_pages == 5);
  }
}

TEST_CASE("plan split: the default limit splits around a 1 GiB segment") {
  TempPgdata d(16);
  d.Minimal();
  d.Database(5);
  d.File("base/5/16384", 1ull << 30);
  d.Blocks("base/5/16384.1", 10);
  auto r = d.Plan();
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CheckJobInvariants(*r);
  const RelTag t{1663, 5, 16384, 0};
  // [MIN, blk 0) small keys; [blk 0, blk 131072) the 1 GiB segment alone; then the rest.
  REQUIRE(r->jobs.size() == 3);
  CHECK(r->jobs[0].end == RelBlockKey(t, 0));
  CHECK(r->jobs[1].start == RelBlockKey(t, 0));
  CHECK(r->jobs[1].end == RelBlockKey(t, 131072));
  CHECK(r->jobs[1].tasks.size() == 1);
  CHECK(r->jobs[1].estimated_bytes == 1ull << 30);
  CHECK(r->jobs[2].start == RelBlockKey(t, 131072));
  CHECK(r->jobs[2].end == Key::Max());
  // Rel blocks count their pages; every other task (single keys, 1-page SLRU segments) one page.
  CHECK(r->TotalEstimatedBytes() == (131072ull + 10) * 8192 + 8192ull * (r->TaskCount() - 2));
}

TEST_CASE("plan split: small soft limits give many jobs, different per shard") {
  TempPgdata d(17);
  d.Minimal();
  for (uint32_t db : {5u, 16384u}) {
    d.Database(db);
    for (uint32_t rel = 16384; rel < 16420; rel++) {
      d.Blocks("base/" + std::to_string(db) + "/" + std::to_string(rel), (rel * 7) % 300);
      if (rel % 3 == 0) d.Blocks("base/" + std::to_string(db) + "/" + std::to_string(rel) + "_fsm", 3);
      if (rel % 5 == 0) d.Blocks("base/" + std::to_string(db) + "/" + std::to_string(rel) + "_vm", 1);
    }
  }
  d.Blocks("pg_xact/0001", 32);
  size_t prev_jobs = 0;
  for (uint64_t limit : {8192ull, 64ull << 10, 512ull << 10, 4ull << 20, 256ull << 20}) {
    CAPTURE(limit);
    auto r = d.Plan(Sharded(0, 0, 2048, limit));
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->soft_size_limit == limit);
    CheckJobInvariants(*r);
    if (prev_jobs != 0) CHECK(r->jobs.size() <= prev_jobs);
    prev_jobs = r->jobs.size();
    if (limit == 8192) CHECK(r->jobs.size() == r->TaskCount());
  }
  CHECK(prev_jobs == 1);
  // Sharded: every shard's plan satisfies the invariants; their boundaries differ.
  std::vector<std::vector<Key>> bounds;
  uint64_t pages_total = 0;
  for (uint32_t n = 0; n < 4; n++) {
    auto r = d.Plan(Sharded(n, 4, 8, 64 << 10));
    REQUIRE(r.ok());
    CheckJobInvariants(*r);
    std::vector<Key> b;
    for (const ImportJob& j : r->jobs) b.push_back(j.start);
    bounds.push_back(b);
    // Blocks of forks 0-2 are split over the shards: they add up to the unsharded count.
    for (const ImportTask* t : AllTasks(*r)) {
      if (t->kind == Kind::kRelBlocks) pages_total += t->local_pages;
    }
  }
  CHECK(bounds[0] != bounds[1]);
  auto un = d.Plan();
  REQUIRE(un.ok());
  uint64_t pages_un = 0;
  for (const ImportTask* t : AllTasks(*un)) {
    if (t->kind == Kind::kRelBlocks) pages_un += t->local_pages;
  }
  CHECK(pages_total == pages_un);
}

TEST_CASE("plan split: a job with no key for its shard still counts") {
  // Find a relnode whose 1 GiB stripes 0 and 2 live on one shard of 2 and stripe 1 on the other.
  ShardIdentity probe = *ShardIdentity::Make(0, 2, 131072);
  uint32_t rel = 16384;
  for (; rel < 20000; rel++) {
    RelTag t{1663, 5, rel, 0};
    uint32_t s0 = probe.KeyToShard(RelBlockKey(t, 0));
    uint32_t s1 = probe.KeyToShard(RelBlockKey(t, 131072));
    uint32_t s2 = probe.KeyToShard(RelBlockKey(t, 2 * 131072));
    if (s0 == s2 && s0 != s1) break;
  }
  REQUIRE(rel < 20000);
  const RelTag t{1663, 5, rel, 0};
  const uint32_t shard = probe.KeyToShard(RelBlockKey(t, 0));
  TempPgdata d(16);
  d.Minimal();
  d.Database(5);
  const std::string name = "base/5/" + std::to_string(rel);
  d.File(name, 1ull << 30);
  d.File(name + ".1", 1ull << 30);
  d.File(name + ".2", 1ull << 30);
  auto r = d.Plan(Sharded(shard, 2, 131072, 1 << 20));
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CheckJobInvariants(*r);
  int empty = 0;
  for (const ImportJob& j : r->jobs) {
    if (!j.EmptyForShard()) continue;
    empty++;
    CHECK(j.start == RelBlockKey(t, 131072));
    CHECK(j.end == RelBlockKey(t, 2 * 131072));
    CHECK(j.estimated_bytes == 0);
    REQUIRE(j.tasks.size() == 1);
    CHECK(j.tasks[0].kind == Kind::kRelBlocks);
    CHECK(j.tasks[0].object.name == name + ".1");
  }
  CHECK(empty == 1);
  // The other shard holds stripe 1: no empty job there.
  auto o = d.Plan(Sharded(1 - shard, 2, 131072, 1 << 20));
  REQUIRE(o.ok());
  for (const ImportJob& j : o->jobs) CHECK(!j.EmptyForShard());
}

}  // namespace
}  // namespace p2l
