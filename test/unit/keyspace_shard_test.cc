// Shard placement: keyspace-and-sharding.md §4.2 (hashes), §4.3 (vectors), §4.4 (predicates),
// §4.6 (text forms), §4.7 (page_count).
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "keyspace/keys.h"
#include "keyspace/shard.h"

using namespace p2l;

namespace {

ShardIdentity Shard(uint32_t number, uint32_t count, uint32_t stripe) {
  auto r = ShardIdentity::Make(number, count, stripe);
  REQUIRE(r.ok());
  return *r;
}

Key K(const char* hex) {
  auto r = Key::FromHex(hex);
  REQUIRE(r.ok());
  return *r;
}

std::set<uint32_t> StoredOn(const Key& k, uint32_t count, uint32_t stripe) {
  std::set<uint32_t> s;
  for (uint32_t n = 0; n < count; n++) {
    if (!Shard(n, count, stripe).IsKeyDisposable(k)) s.insert(n);
  }
  return s;
}

const RelTag kRel{1663, 5, 16384, 0};

}  // namespace

TEST_CASE("shard: murmurhash32 and hash_combine vectors") {
  CHECK(MurmurHash32(0) == 0u);
  CHECK(MurmurHash32(1) == 0x514E28B7u);           // MurmurHash3_x86_32("", seed 1)
  CHECK(MurmurHash32(0xFFFFFFFF) == 0x81F16F39u);  // MurmurHash3_x86_32("", seed ~0)
  CHECK(MurmurHash32(16384) == 0x53085746u);
  CHECK(MurmurHash32(16385) == 0x0AEBC140u);
  CHECK(MurmurHash32(30) == 0xE93E3FCDu);
  CHECK(MurmurHash32(15) == 0xCC1AD845u);
  CHECK(MurmurHash32(16) == 0x552553BCu);
  CHECK(MurmurHash32(488) == 0x6425EB0Bu);
  CHECK(HashCombine(0xB1FF3B40, 0) == 0xFB7923C9u);
  CHECK(HashCombine(0x53085746, 0x514E28B7) == 0x9555DE87u);
  CHECK(HashCombine(0x53085746, 0) == 0x2607364Cu);
  CHECK(HashCombine(0x53085746, 0xE93E3FCD) == 0x0D45F791u);
  CHECK(HashCombine(0x0AEBC140, 0) == 0x51097B49u);
  CHECK(HashCombine(0x53085746, 0xCC1AD845) == 0x12226E09u);
  CHECK(HashCombine(0x53085746, 0x552553BC) == 0x993CE380u);
  CHECK(HashCombine(0x53085746, 0x6425EB0B) == 0x8A3D1B53u);
}

TEST_CASE("shard: Neon unit-test vector (count 10, stripe 32768)") {
  CHECK(Shard(0, 10, 32768).KeyToShard(K("000000067F000000050000400C0000007D06")) == 8u);
}

TEST_CASE("shard: §4.3 vectors, stripe 32768") {
  struct V { const char* key; uint32_t shard; std::set<uint32_t> stored; };
  const V vs[] = {
      {"000000067F00000005000040000000000000", 0, {0}},
      {"000000067F00000005000040000000000001", 0, {0}},
      {"000000067F00000005000040000000007FFF", 0, {0}},
      {"000000067F00000005000040000000008000", 3, {3}},
      {"000000067F000000050000400000000F4240", 1, {1}},
      {"000000067F00000005000040010000000000", 1, {1}},
      {"000000067F000000050000400000FFFFFFFF", 0, {0, 1, 2, 3}},  // rel size: every shard
      {"000000067F00000005000040000300000000", 0, {0}},           // init fork: shard 0
      {"000000000000000000000000000000000000", 0, {0, 1, 2, 3}},  // DBDIR
  };
  for (const V& v : vs) {
    CAPTURE(v.key);
    CHECK(Shard(0, 4, 32768).KeyToShard(K(v.key)) == v.shard);
    CHECK(StoredOn(K(v.key), 4, 32768) == v.stored);
  }
}

TEST_CASE("shard: §4.3 vectors, stripe 2048") {
  struct V { const char* key; uint32_t shard; };
  const V vs[] = {
      {"000000067F00000005000040000000000000", 0}, {"000000067F000000050000400000000007FF", 0},
      {"000000067F00000005000040000000000800", 3}, {"000000067F00000005000040000000007FFF", 1},
      {"000000067F00000005000040000000008000", 0}, {"000000067F000000050000400000000F4240", 3},
  };
  for (const V& v : vs) {
    CAPTURE(v.key);
    CHECK(Shard(2, 4, 2048).KeyToShard(K(v.key)) == v.shard);
    CHECK(StoredOn(K(v.key), 4, 2048) == std::set<uint32_t>{v.shard});
  }
  CHECK(StoredOn(K("000000067F000000050000400000FFFFFFFF"), 4, 2048) == std::set<uint32_t>{0, 1, 2, 3});
  CHECK(StoredOn(K("000000067F00000005000040000300000000"), 4, 2048) == std::set<uint32_t>{0});
  CHECK(StoredOn(kDbDirKey, 4, 2048) == std::set<uint32_t>{0, 1, 2, 3});
}

TEST_CASE("shard: the 64 stripes of the first GiB of rel 16384, stripe 2048") {
  const std::vector<uint32_t> expected = {
      0, 3, 2, 3, 1, 1, 0, 0, 3, 3, 0, 0, 3, 2, 1, 1, 0, 0, 3, 0, 1, 1, 2, 0, 3, 2, 1, 0, 0, 2, 1, 3,
      0, 2, 2, 2, 0, 3, 1, 0, 3, 0, 0, 2, 1, 2, 1, 2, 0, 0, 1, 0, 3, 1, 1, 0, 1, 1, 1, 2, 3, 1, 3, 0};
  ShardIdentity s = Shard(0, 4, 2048);
  std::vector<uint32_t> got;
  for (uint32_t i = 0; i < 64; i++) {
    uint32_t a = s.KeyToShard(RelBlockKey(kRel, i * 2048));
    uint32_t b = s.KeyToShard(RelBlockKey(kRel, i * 2048 + 2047));
    CHECK(a == b);  // whole stripe on one shard
    got.push_back(a);
  }
  CHECK(got == expected);
}

TEST_CASE("shard: hash ignores spcnode, dbnode and fork; init fork and non-block keys on 0") {
  ShardIdentity s = Shard(0, 4, 2048);
  Key main = RelBlockKey(kRel, 2048);
  CHECK(s.KeyToShard(main) == 3u);
  CHECK(s.KeyToShard(RelBlockKey(RelTag{1664, 0, 16384, 1}, 2048)) == 3u);
  CHECK(s.KeyToShard(RelBlockKey(RelTag{1663, 7, 16384, 2}, 2048)) == 3u);
  CHECK(s.KeyToShard(RelBlockKey(RelTag{1663, 5, 16384, 3}, 2048)) == 0u);
  CHECK(s.KeyToShard(SlruBlockKey(SlruKind::kClog, 0, 2048)) == 0u);
  CHECK(s.KeyToShard(RelSizeKey(kRel)) == 0u);
}

TEST_CASE("shard: placement predicates") {
  ShardIdentity s0 = Shard(0, 4, 2048), s1 = Shard(1, 4, 2048);
  for (Key k : {kDbDirKey, RelmapFileKey(1663, 5), RelDirKey(1663, 5), kTwoPhaseDirKey,
                kControlFileKey, kCheckpointKey, RelSizeKey(kRel)}) {
    CAPTURE(k.ToHex());
    CHECK(s1.IsKeyGlobal(k));
    CHECK_FALSE(s1.IsKeyDisposable(k));
  }
  for (Key k : {SlruDirKey(SlruKind::kClog), SlruBlockKey(SlruKind::kClog, 0, 1),
                SlruSegmentSizeKey(SlruKind::kClog, 0), Key{0x62, 0, 0, 0, 0, 1},
                RelBlockKey(RelTag{1663, 5, 16384, 3}, 0)}) {
    CAPTURE(k.ToHex());
    CHECK_FALSE(s0.IsKeyGlobal(k));
    CHECK_FALSE(s0.IsKeyDisposable(k));
    CHECK(s1.IsKeyDisposable(k));
  }
  // Unsharded and count-1 identities keep everything.
  for (ShardIdentity s : {ShardIdentity::Unsharded(), Shard(0, 1, 2048)}) {
    CHECK_FALSE(s.IsKeyDisposable(RelBlockKey(kRel, 2048)));
    CHECK(s.IsKeyLocal(RelBlockKey(kRel, 2048)));
    CHECK(s.KeyToShard(RelBlockKey(kRel, 2048)) == 0u);
    CHECK_FALSE(s.IsSharded());
  }
  CHECK(Shard(3, 4, 2048).IsKeyLocal(RelBlockKey(kRel, 2048)));
  CHECK_FALSE(s0.IsKeyLocal(RelBlockKey(kRel, 2048)));
}

TEST_CASE("shard: §4.7 page_count") {
  Key seg0 = RelBlockKey(kRel, 0), seg_end = RelBlockKey(kRel, 131072);
  std::vector<uint32_t> got2048, got32768, got_mid, got_slru, got_init;
  for (uint32_t n = 0; n < 4; n++) {
    got2048.push_back(Shard(n, 4, 2048).PageCount(seg0, seg_end));
    got32768.push_back(Shard(n, 4, 32768).PageCount(seg0, seg_end));
    got_mid.push_back(Shard(n, 4, 2048).PageCount(RelBlockKey(kRel, 1000), RelBlockKey(kRel, 5000)));
    got_slru.push_back(Shard(n, 4, 2048).PageCount(SlruBlockKey(SlruKind::kClog, 0, 0),
                                                   SlruBlockKey(SlruKind::kClog, 0, 32)));
    RelTag init = kRel;
    init.forknum = 3;
    got_init.push_back(Shard(n, 4, 2048).PageCount(RelBlockKey(init, 0), RelBlockKey(init, 5)));
  }
  CHECK(got2048 == std::vector<uint32_t>{43008, 36864, 24576, 26624});
  CHECK(got32768 == std::vector<uint32_t>{32768, 0, 32768, 65536});
  CHECK(got_mid == std::vector<uint32_t>{1048, 0, 904, 2048});
  CHECK(got_slru == std::vector<uint32_t>{32, 0, 0, 0});
  CHECK(got_init == std::vector<uint32_t>{5, 0, 0, 0});

  ShardIdentity u = ShardIdentity::Unsharded();
  CHECK(u.PageCount(seg0, seg0) == 0u);  // empty range (0-byte segment)
  CHECK(Shard(1, 4, 2048).PageCount(seg0, seg0) == 0u);
  CHECK(u.PageCount(seg0, seg_end) == 131072u);
  // Single keys: 1 unless disposable on this shard.
  CHECK(u.PageCount(kDbDirKey, kDbDirKey.Next()) == 1u);
  CHECK(Shard(1, 4, 2048).PageCount(kDbDirKey, kDbDirKey.Next()) == 1u);
  Key b2048 = RelBlockKey(kRel, 2048);
  CHECK(Shard(3, 4, 2048).PageCount(b2048, b2048.Next()) == 1u);
  CHECK(Shard(0, 4, 2048).PageCount(b2048, b2048.Next()) == 0u);
  // Size key followed by the next fork: contiguous.
  RelTag fsm = kRel;
  fsm.forknum = 1;
  CHECK(u.PageCount(RelSizeKey(kRel), RelBlockKey(fsm, 4096)) == 4097u);
  std::vector<uint32_t> sz;
  for (uint32_t n = 0; n < 4; n++) sz.push_back(Shard(n, 4, 2048).PageCount(RelSizeKey(kRel), RelBlockKey(fsm, 4096)));
  CHECK(sz == std::vector<uint32_t>{2049, 1, 1, 2049});
  // Not contiguous: across forks or relations.
  CHECK(u.PageCount(seg0, RelBlockKey(fsm, 0)) == 0xFFFFFFFFu);
  CHECK(u.PageCount(seg0, RelBlockKey(RelTag{1663, 5, 16385, 0}, 0)) == 0xFFFFFFFFu);
  CHECK(u.PageCount(Key::Min(), Key::Max()) == 0xFFFFFFFFu);
}

TEST_CASE("shard: identity validation and text forms") {
  CHECK(ShardIdentity::Unsharded().Suffix() == "");
  CHECK(ShardIdentity::Unsharded().IndexString() == "0000");
  CHECK(ShardIdentity::Unsharded().stripe_size == kDefaultStripeSize);
  CHECK(kDefaultStripeSize == 2048u);
  CHECK(Shard(1, 4, 2048).Suffix() == "-0104");
  CHECK(Shard(1, 4, 2048).IndexString() == "0104");
  CHECK(Shard(0, 1, 2048).Suffix() == "-0001");
  CHECK(Shard(13, 17, 2048).IndexString() == "0d11");
  CHECK(Shard(0, 4, 2048).Suffix() == "-0004");
  CHECK(Shard(3, 4, 2048).Suffix() == "-0304");
  CHECK(Shard(0, 0, 2048).Suffix() == "");
  CHECK(Shard(1, 4, 2048).IsSharded());

  CHECK(ShardIdentity::Make(4, 4, 2048).status().code() == Code::kUsage);
  CHECK(ShardIdentity::Make(1, 0, 2048).status().code() == Code::kUsage);
  CHECK(ShardIdentity::Make(0, 4, 0).status().code() == Code::kUsage);
  CHECK(ShardIdentity::Make(0, 256, 2048).status().code() == Code::kUsage);
  CHECK(ShardIdentity::Make(254, 255, 1).ok());
}
