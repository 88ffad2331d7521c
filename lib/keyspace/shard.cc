// Shard placement (keyspace-and-sharding.md §4). Only relation block keys of forks 0..2 are
// spread over shards, by murmurhash32(relnode) combined with murmurhash32(blk / stripe).
#include "keyspace/shard.h"

#include <algorithm>

#include <fmt/format.h>

#include "keyspace/keys.h"

namespace p2l {

namespace {
constexpr uint8_t kInitForkNum = 3;
}  // namespace

// PostgreSQL hashfn.h murmurhash32 = MurmurHash3 fmix32 (no seed), §4.2.
uint32_t MurmurHash32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

// PostgreSQL hashfn.h hash_combine (32-bit): a ^ (b + 0x9E3779B9 + (a << 6) + (a >> 2)).
uint32_t HashCombine(uint32_t a, uint32_t b) {
  b += 0x9E3779B9u + (a << 6) + (a >> 2);
  return a ^ b;
}

Result<ShardIdentity> ShardIdentity::Make(uint32_t number, uint32_t count, uint32_t stripe_size) {
  if (count > 255 || number > 255) {
    return Status::Usage(fmt::format("shard {}/{}: shard number and count must be at most 255",
                                     number, count));
  }
  if (!(number == 0 && count == 0) && number >= count) {
    return Status::Usage(fmt::format(
        "shard number {} must be less than shard count {} (count 0 = unsharded, with number 0)",
        number, count));
  }
  if (stripe_size == 0) {
    return Status::Usage("shard stripe size must be at least 1 page");
  }
  ShardIdentity s;
  s.number = uint8_t(number);
  s.count = uint8_t(count);
  s.stripe_size = stripe_size;
  return s;
}

std::string ShardIdentity::Suffix() const {
  if (count == 0) return "";
  return "-" + IndexString();
}

std::string ShardIdentity::IndexString() const { return fmt::format("{:02x}{:02x}", number, count); }

// key_is_shard0: everything but rel blocks of forks 0..2 lives on shard 0.
static bool KeyIsShard0(const Key& k) { return !IsRelBlockKey(k) || k.field5 == kInitForkNum; }

uint32_t ShardIdentity::KeyToShard(const Key& k) const {
  if (count < 2 || KeyIsShard0(k)) return 0;
  // stripe_size >= 1 by construction; guard anyway so a default-filled struct cannot divide by 0.
  uint32_t stripe = stripe_size == 0 ? 1 : stripe_size;
  uint32_t h = HashCombine(MurmurHash32(k.field4), MurmurHash32(k.field6 / stripe));
  return h % count;
}

bool ShardIdentity::IsKeyLocal(const Key& k) const {
  if (count < 2) return true;
  if (KeyIsShard0(k) && number == 0) return true;
  return KeyToShard(k) == number;
}

bool ShardIdentity::IsKeyGlobal(const Key& k) const {
  // Shard-0-only classes: SLRU blocks, segment sizes, directories and aux v2 files.
  if (IsSlruBlockKey(k) || IsSlruSegmentSizeKey(k) || IsAuxFileKey(k) || IsSlruDirKey(k)) {
    return false;
  }
  // Rel blocks are distributed (init-fork blocks too: they live on shard 0 only).
  if (IsRelBlockKey(k)) return false;
  // Rel size keys and every other key (DBDIR, relmap, reldir, twophase, control, checkpoint).
  return true;
}

bool ShardIdentity::IsKeyDisposable(const Key& k) const {
  if (count < 2) return false;
  if (IsKeyGlobal(k)) return false;
  return !IsKeyLocal(k);
}

// is_contiguous_range: fields 1..4 equal, and f5 equal or [size key of fork f, next fork).
static bool IsContiguousRange(const Key& a, const Key& b) {
  if (a.field1 != b.field1 || a.field2 != b.field2 || a.field3 != b.field3 ||
      a.field4 != b.field4) {
    return false;
  }
  return a.field5 == b.field5 ||
         (a.field6 == kSizeKeyBlock && uint32_t(a.field5) + 1 == uint32_t(b.field5));
}

// contiguous_range_len for a contiguous, non-empty [a, b); computed in 64 bits (can be 2^32).
static uint64_t ContiguousRangeLen(const Key& a, const Key& b) {
  if (a.field6 == kSizeKeyBlock) return uint64_t(b.field6) + 1;
  return uint64_t(b.field6) - uint64_t(a.field6);
}

uint32_t ShardIdentity::PageCount(const Key& a, const Key& b) const {
  constexpr uint32_t kM32 = 0xFFFFFFFF;
  if (!(a < b)) return 0;  // empty (or inverted) range
  Key next;
  if (a.Add(1, &next) && b == next) return IsKeyDisposable(a) ? 0 : 1;
  if (!IsContiguousRange(a, b)) return kM32;
  if (count < 2) return uint32_t(std::min<uint64_t>(ContiguousRangeLen(a, b), kM32));

  // Walk stripe by stripe; each piece is placed by its first key. O(range / stripe) steps.
  uint64_t stripe = stripe_size == 0 ? 1 : stripe_size;
  uint64_t total = 0;
  Key cur = a;
  while (cur < b) {
    uint64_t dist_end = ContiguousRangeLen(cur, b);
    uint64_t adv;
    if (cur.field6 == kSizeKeyBlock) {
      adv = 1;
    } else {
      adv = std::min<uint64_t>(stripe - uint64_t(cur.field6) % stripe, dist_end);
    }
    if (!IsKeyDisposable(cur)) total += adv;
    // adv <= 2^32 - cur.field6 here, so adding it carries at most into field5.
    Key nk;
    bool ok = adv > 0xFFFFFFFFull ? false : cur.Add(uint32_t(adv), &nk);
    if (!ok) break;  // only reachable at the end of the key space
    cur = nk;
  }
  return uint32_t(std::min<uint64_t>(total, kM32));
}

}  // namespace p2l
