// Neon's servability rules (lib/tools/servability.h): a good cluster passes on every shard of
// a 4-shard split and unsharded; each rule catches a deliberately broken input.
#include <doctest/doctest.h>

#include "tools/servability.h"
#include "tools/verify.h"
#include "tools_test_util.h"

using namespace p2l;
using namespace p2l::toolstest;

namespace {

// The synthetic cluster without its user tablespace.
KV Clean(int major) {
  KV kv = SyntheticCluster(major);
  DbDirectory d = DbDirectory::Decode(kv[kDbDirKey], "dbdir").value();
  d.dbs.erase({kTablespace, 5});
  kv[kDbDirKey] = d.Encode();
  for (auto it = kv.begin(); it != kv.end();) {
    if (it->first.field1 == 0 && it->first.field2 == kTablespace) {
      it = kv.erase(it);
    } else {
      ++it;
    }
  }
  return kv;
}

std::vector<ServabilityViolation> Check(const KV& kv, const ShardIdentity& shard, uint32_t major,
                                        std::vector<Key> bounds = {Key::Min(), Key::Max()}) {
  ServabilityChecker c(shard, major);
  for (size_t i = 0; i + 1 < bounds.size(); i++) c.AddLayer(bounds[i], bounds[i + 1], kLsn);
  for (const auto& [k, v] : kv) {
    if (!shard.IsKeyDisposable(k)) c.AddKey(k, v);
  }
  return c.Finish();
}

std::string Text(const std::vector<ServabilityViolation>& v) {
  std::string s;
  for (const auto& x : v) s += x.rule + (x.tablespace ? "[ts]" : "") + ": " + x.message + "\n";
  return s;
}

bool Has(const std::vector<ServabilityViolation>& v, const std::string& rule, const std::string& part) {
  for (const auto& x : v) {
    if (x.rule == rule && x.message.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("servability: a clean cluster passes, unsharded and on each of 4 shards, PG 14-17") {
  for (int major : {14, 15, 16, 17}) {
    CAPTURE(major);
    KV kv = Clean(major);
    auto v = Check(kv, ShardIdentity::Unsharded(), uint32_t(major), ThreeLayers());
    CHECK_MESSAGE(v.empty(), Text(v));
    for (uint32_t n = 0; n < 4; n++) {
      auto s = Check(kv, ShardIdentity::Make(n, 4, 1).value(), uint32_t(major));
      CHECK_MESSAGE(s.empty(), Text(s));
    }
  }
}

TEST_CASE("servability: user tablespace is reported as not servable (not corruption), naming its OID") {
  KV kv = SyntheticCluster(16);
  ServabilityChecker c(ShardIdentity::Unsharded(), 16);
  c.AddLayer(Key::Min(), Key::Max(), kLsn);
  for (const auto& [k, v] : kv) c.AddKey(k, v);
  auto v = c.Finish();
  REQUIRE(!v.empty());
  for (const auto& x : v) {
    CHECK_MESSAGE(x.tablespace, Text(v));
    CHECK(x.rule == "tablespace");
  }
  CHECK(Has(v, "tablespace", std::to_string(kTablespace)));
  CHECK(c.user_tablespaces() == std::set<uint32_t>{kTablespace});
}

TEST_CASE("servability: each rule catches its broken input") {
  const ShardIdentity un = ShardIdentity::Unsharded();
  SUBCASE("required keys") {
    for (Key k : {kDbDirKey, kTwoPhaseDirKey, kControlFileKey, kCheckpointKey, SlruDirKey(SlruKind::kClog)}) {
      KV kv = Clean(16);
      kv.erase(k);
      auto v = Check(kv, un, 16);
      CHECK_MESSAGE(Has(v, "required", k.ToHex()), Text(v));
    }
  }
  SUBCASE("DBDIR database without RELDIR") {
    KV kv = Clean(16);
    kv.erase(RelDirKey(kDefaultTablespaceOid, 5));
    CHECK(Has(Check(kv, un, 16), "dbdir", "no RELDIR key"));
  }
  SUBCASE("DBDIR says relmap exists, key missing") {
    KV kv = Clean(16);
    kv.erase(RelmapFileKey(kDefaultTablespaceOid, 5));
    CHECK(Has(Check(kv, un, 16), "dbdir", "relmap"));
  }
  SUBCASE("DBDIR without the global entry") {
    KV kv = Clean(16);
    DbDirectory d = DbDirectory::Decode(kv[kDbDirKey], "dbdir").value();
    d.dbs.erase({kGlobalTablespaceOid, 0});
    kv[kDbDirKey] = d.Encode();
    CHECK(Has(Check(kv, un, 16), "dbdir", "global"));
  }
  SUBCASE("RELDIR relation without size key") {
    KV kv = Clean(16);
    kv.erase(RelSizeKey(RelTag{kDefaultTablespaceOid, 5, 16385, 0}));
    auto v = Check(kv, un, 16);
    CHECK_MESSAGE(Has(v, "reldir", "no size key"), Text(v));
  }
  SUBCASE("size key not in RELDIR") {
    KV kv = Clean(16);
    kv[RelSizeKey(RelTag{kDefaultTablespaceOid, 5, 17000, 0})] = EncodeRelSize(0);
    CHECK(Has(Check(kv, un, 16), "reldir", "does not list"));
  }
  SUBCASE("block beyond the relation size") {
    KV kv = Clean(16);
    kv[RelSizeKey(RelTag{kDefaultTablespaceOid, 5, 16385, 0})] = EncodeRelSize(2);
    CHECK(Has(Check(kv, un, 16), "reldir", "beyond its size"));
  }
  SUBCASE("TWOPHASEDIR xid without its file key, PG 16 and 17") {
    for (uint32_t major : {16u, 17u}) {
      KV kv = Clean(int(major));
      kv.erase(TwoPhaseFileKey(745));
      CHECK(Has(Check(kv, un, major), "twophase", "xid 745"));
    }
  }
  SUBCASE("two-phase file key not listed; 64-bit key form before PG 17") {
    KV kv = Clean(16);
    kv[TwoPhaseFileKey(746)] = "x";
    CHECK(Has(Check(kv, un, 16), "twophase", "not listed"));
    KV kv2 = Clean(16);
    kv2[TwoPhaseFileKey((uint64_t(1) << 32) | 745)] = "x";
    CHECK(Has(Check(kv2, un, 16), "twophase", "64-bit"));
    KV kv3 = Clean(17);
    kv3[TwoPhaseFileKey((uint64_t(1) << 32) | 745)] = "x";
    CHECK(!Has(Check(kv3, un, 17), "twophase", "64-bit"));
  }
  SUBCASE("SLRU directory without segment size key") {
    KV kv = Clean(16);
    kv.erase(SlruSegmentSizeKey(SlruKind::kClog, 0));
    CHECK(Has(Check(kv, un, 16), "slru", "no size key"));
  }
  SUBCASE("SLRU segment size disagrees with its blocks") {
    KV kv = Clean(16);
    kv.erase(SlruBlockKey(SlruKind::kClog, 0, 0));
    auto v = Check(kv, un, 16);
    CHECK_MESSAGE(Has(v, "slru", "holds 1 block"), Text(v));
  }
  SUBCASE("SLRU segment not in its directory") {
    KV kv = Clean(16);
    kv[SlruSegmentSizeKey(SlruKind::kClog, 7)] = EncodeSlruSegmentSize(0);
    CHECK(Has(Check(kv, un, 16), "slru", "does not list"));
  }
  SUBCASE("layers do not cover MIN..MAX, or differ in LSN") {
    KV kv = Clean(16);
    auto v = Check(kv, un, 16, {Key::Min(), SlruDirKey(SlruKind::kClog)});
    CHECK(Has(v, "coverage", "no image layer covers"));
    ServabilityChecker c(un, 16);
    c.AddLayer(Key::Min(), SlruDirKey(SlruKind::kClog), kLsn);
    c.AddLayer(SlruDirKey(SlruKind::kClog), Key::Max(), kLsn + 8);
    for (const auto& [k, val] : kv) c.AddKey(k, val);
    CHECK(Has(c.Finish(), "coverage", "different LSNs"));
  }
  SUBCASE("disposable key on a shard; SLRUs are shard-0 only") {
    KV kv = Clean(16);
    ShardIdentity s1 = ShardIdentity::Make(1, 4, 1).value();
    ServabilityChecker c(s1, 16);
    c.AddLayer(Key::Min(), Key::Max(), kLsn);
    for (const auto& [k, v] : kv) c.AddKey(k, v);   // every key, including other shards'
    auto v = c.Finish();
    CHECK(Has(v, "disposable", "another shard"));
    CHECK(!Has(v, "required", SlruDirKey(SlruKind::kClog).ToHex()));
  }
}

TEST_CASE("verify: a timeline with a user tablespace is intact but not servable") {
  TempDir dir;
  WriteTimeline(dir.path(), TimelineSpec{}, SyntheticCluster(16));
  auto dest = OpenDir(dir.path());
  VerifyOptions o;
  o.tenant = Tenant();
  o.timeline = Timeline();
  EventSink& ev = NullEvents();
  auto r = Verify(*dest, o, ev);
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(!r->servable());
  CHECK(!r->unservable.empty());
  CHECK(r->user_tablespaces == std::set<uint32_t>{kTablespace});

  TempDir clean;
  WriteTimeline(clean.path(), TimelineSpec{}, Clean(16));
  auto d2 = OpenDir(clean.path());
  auto r2 = Verify(*d2, o, ev);
  REQUIRE(r2.ok());
  CHECK(r2->servable());
}
