// verify over synthetic timelines: a correct two-shard import passes; each kind of damage is
// reported as a problem naming the shard.
#include <doctest/doctest.h>

#include "tools/timeline_reader.h"
#include "tools/verify.h"
#include "tools_test_util.h"

using namespace p2l;
using namespace p2l::toolstest;

namespace {

VerifyOptions Opts() {
  VerifyOptions o;
  o.tenant = Tenant();
  o.timeline = Timeline();
  return o;
}

std::string All(const VerifyReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += p + "\n";
  return s;
}

// Two shards (stripe 1) of the synthetic cluster.
void WriteTwoShards(const std::string& dest, const KV& kv, bool done = true) {
  for (uint32_t n = 0; n < 2; n++) {
    TimelineSpec spec;
    spec.shard = ShardIdentity::Make(n, 2, 1).value();
    spec.bounds = ThreeLayers();
    spec.done = done;
    WriteTimeline(dest, spec, kv);
  }
}

}  // namespace

TEST_CASE("verify: a correct two-shard timeline passes; keys_out lists every key") {
  TempDir dest;
  const KV kv = SyntheticCluster(16);
  WriteTwoShards(dest.path(), kv);
  auto st = OpenDir(dest.path());
  VerifyOptions o = Opts();
  o.stripe_size = 1;
  o.keys_out = dest.Sub("keys.txt");
  auto r = Verify(*st, o, NullEvents());
  REQUIRE(r.ok());
  CHECK_MESSAGE(r->ok(), All(*r));
  REQUIRE(r->shards.size() == 2);
  CHECK(r->shards[0].shard == "0002");
  // every key is on at least one shard, global ones on both
  std::map<std::string, std::set<std::string>> where;
  std::istringstream in(ReadFile(o.keys_out));
  std::string key, shard;
  while (in >> key >> shard) where[key].insert(shard);
  CHECK(where.size() == kv.size());
  CHECK(where[kDbDirKey.ToHex()].size() == 2);
  CHECK(where[SlruDirKey(SlruKind::kClog).ToHex()] == std::set<std::string>{"0002"});
  CHECK(r->shards[0].keys + r->shards[1].keys > kv.size());

  // only shard 1
  o.keys_out.clear();
  o.shard_count = 2;
  o.shard_number = 1;
  auto one = Verify(*st, o, NullEvents());
  REQUIRE(one.ok());
  CHECK(one->ok());
  CHECK(one->shards.size() == 1);
}

TEST_CASE("verify: with the wrong stripe size, keys are disposable") {
  TempDir dest;
  WriteTwoShards(dest.path(), SyntheticCluster(16));
  auto st = OpenDir(dest.path());
  VerifyOptions o = Opts();   // default stripe 2048: every block belongs to one shard
  auto r = Verify(*st, o, NullEvents());
  REQUIRE(r.ok());
  CHECK(!r->ok());
  CHECK(All(*r).find("belongs to another shard") != std::string::npos);
  CHECK(!r->notes.empty());   // "no stripe size recorded; assuming 2048"
}

TEST_CASE("verify: damage is reported") {
  TempDir dest;
  const KV kv = SyntheticCluster(16);
  WriteTwoShards(dest.path(), kv);
  auto st = OpenDir(dest.path());
  VerifyOptions o = Opts();
  o.stripe_size = 1;

  SUBCASE("a missing shard") {
    std::filesystem::remove_all(dest.Sub("tenants/" + Tenant().ToHex() + "-0102"));
    auto r = Verify(*st, o, NullEvents());
    REQUIRE(r.ok());
    CHECK(All(*r).find("shard 0102 of the 2-shard set is missing") != std::string::npos);
  }
  SUBCASE("a layer object of the wrong size, and a missing one") {
    auto tl = LoadShardTimeline(*st, Tenant(), Timeline(), ShardIdentity::Make(1, 2, 1).value());
    REQUIRE(tl.ok());
    REQUIRE(tl->layers.size() >= 2);
    std::filesystem::resize_file(dest.Sub(tl->layers[0].object), FileSize(dest.Sub(tl->layers[0].object)) + 8192);
    std::filesystem::remove(dest.Sub(tl->layers[1].object));
    auto r = Verify(*st, o, NullEvents());
    REQUIRE(r.ok());
    const std::string all = All(*r);
    CHECK(all.find("shard 0102: ") != std::string::npos);
    CHECK(all.find("the index says file_size") != std::string::npos);
    CHECK(all.find("does not exist") != std::string::npos);
  }
  SUBCASE("an unfinished import") {
    TempDir d2;
    WriteTwoShards(d2.path(), kv, /*done=*/false);
    auto st2 = OpenDir(d2.path());
    auto r = Verify(*st2, o, NullEvents());
    REQUIRE(r.ok());
    CHECK(All(*r).find("import_pgdata is InProgress") != std::string::npos);
  }
  SUBCASE("a layer renamed to another range") {
    auto tl = LoadShardTimeline(*st, Tenant(), Timeline(), ShardIdentity::Make(0, 2, 1).value());
    REQUIRE(tl.ok());
    // rewrite the index with the first layer listed under a wrong name (same object bytes)
    std::string json = ReadFile(dest.Sub(tl->index_object.object));
    const LayerRef& l = tl->layers[0];
    ImageLayerName wrong = l.parsed;
    wrong.lsn += 8;
    const std::string wrong_name = wrong.ToString();
    json.replace(json.find(l.name), l.name.size(), wrong_name);
    WriteFile(dest.Sub(tl->index_object.object), json);
    std::filesystem::rename(dest.Sub(l.object),
                            dest.Sub(l.object.substr(0, l.object.size() - l.name.size() - 9) + wrong_name + "-00000001"));
    auto r = Verify(*st, o, NullEvents());
    REQUIRE(r.ok());
    const std::string all = All(*r);
    CHECK(all.find("is not initdb_lsn") != std::string::npos);
    CHECK(all.find("LSN") != std::string::npos);
  }
  SUBCASE("required keys and undecodable values") {
    TempDir d3;
    KV bad = kv;
    bad.erase(kCheckpointKey);
    bad[RelSizeKey(RelTag{1663, 5, 16385, 0})] = "xyz";
    TimelineSpec spec;
    WriteTimeline(d3.path(), spec, bad);
    auto st3 = OpenDir(d3.path());
    auto r = Verify(*st3, Opts(), NullEvents());
    REQUIRE(r.ok());
    const std::string all = All(*r);
    CHECK(all.find("shard 0000: key 030000000000000000000000000000000001 (checkpoint) is missing") != std::string::npos);
    CHECK(all.find("rel 1663/5/16385 main size") != std::string::npos);
  }
  SUBCASE("no such timeline") {
    VerifyOptions o2 = Opts();
    o2.timeline = Tenant();
    CHECK(Verify(*st, o2, NullEvents()).status().code() == Code::kNotFound);
  }
}

namespace p2l {

TEST_CASE("verify: shards that disagree on the keys every shard holds are reported") {
  TempDir dest;
  const KV kv = SyntheticCluster(16);
  // Shard 1 says one relation is a block longer than shard 0 says (a valid value on its own).
  KV other = kv;
  bool changed = false;
  for (auto& [k, v] : other) {
    if (IsRelSizeKey(k) && (v.size() == 4 || v.size() == 8)) {
      v[0] = char(uint8_t(v[0]) + 1);   // one block more (the low byte; sizes here are small)
      changed = true;
      break;
    }
  }
  REQUIRE(changed);
  for (uint32_t n = 0; n < 2; n++) {
    TimelineSpec spec;
    spec.shard = ShardIdentity::Make(n, 2, 1).value();
    spec.bounds = ThreeLayers();
    spec.done = true;
    WriteTimeline(dest.path(), spec, n == 0 ? kv : other);
  }
  auto st = OpenDir(dest.path());
  VerifyOptions o = Opts();
  o.stripe_size = 1;
  auto r = Verify(*st, o, NullEvents());
  REQUIRE(r.ok());
  CHECK(All(*r).find("shard 0102: the shards do not describe the same cluster: its keys held by every shard") !=
        std::string::npos);
  // each shard alone is fine
  o.shard_count = 2;
  o.shard_number = 1;
  auto one = Verify(*st, o, NullEvents());
  REQUIRE(one.ok());
  CHECK(one->problems.empty());
}

}  // namespace p2l
