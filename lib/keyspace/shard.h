// Shard placement, exactly as Neon (keyspace-and-sharding.md §4).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keyspace/key.h"
#include "util/status.h"

namespace p2l {

inline constexpr uint32_t kDefaultStripeSize = 2048;  // pages (16 MiB)

struct ShardIdentity {
  uint8_t number = 0;
  uint8_t count = 0;          // 0 = legacy unsharded (no path suffix); 1 = one shard ("-0001")
  uint32_t stripe_size = kDefaultStripeSize;  // pages

  static ShardIdentity Unsharded() { return {}; }
  // number < count (or 0/0), stripe >= 1; otherwise kUsage naming the values.
  static Result<ShardIdentity> Make(uint32_t number, uint32_t count, uint32_t stripe_size);

  bool IsSharded() const { return count >= 2; }
  // "" when count == 0, else "-NNCC" (lower-case hex).
  std::string Suffix() const;
  // "NNCC" (lower-case hex), e.g. "0104"; "0000" for unsharded.
  std::string IndexString() const;

  // key_to_shard_number (init fork and non-block keys: 0).
  uint32_t KeyToShard(const Key& k) const;
  bool IsKeyLocal(const Key& k) const;
  bool IsKeyGlobal(const Key& k) const;
  bool IsKeyDisposable(const Key& k) const;
  // ShardedRange::page_count: pages of [a, b) stored on this shard; UINT32_MAX if not contiguous.
  uint32_t PageCount(const Key& a, const Key& b) const;
};

uint32_t MurmurHash32(uint32_t h);
uint32_t HashCombine(uint32_t a, uint32_t b);

}  // namespace p2l
