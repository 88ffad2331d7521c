// On-disk node layout of Neon's disk B-tree (image-layer.md §5.2, §5.3). One node per 8192-byte
// block:
//   +0  u16 BE n (entries) | +2 u8 level (0 = leaf) | +3 u8 p (prefix len) | +4 u8 s (suffix len)
//   +5  prefix (p bytes) | n suffixes of s bytes | n values of 5 bytes | zeros to the block end
// Leaf value  = 40-bit big-endian absolute blob offset, top bit 0.
// Inner value = 0x80 followed by the u32 BE child node number, relative to index_start_blk.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/coding.h"

namespace p2l {

inline constexpr size_t kBTreeNodeSize = 8192;
inline constexpr size_t kBTreeNodeHeaderSize = 5;
inline constexpr size_t kBTreeValueSize = 5;
inline constexpr uint8_t kBTreeInternalTag = 0x80;

inline void EncodeLeafValue(uint64_t offset, uint8_t out[kBTreeValueSize]) {
  out[0] = uint8_t(offset >> 32);
  EncodeBE32(out + 1, uint32_t(offset));
}
inline void EncodeInternalValue(uint32_t child, uint8_t out[kBTreeValueSize]) {
  out[0] = kBTreeInternalTag;
  EncodeBE32(out + 1, child);
}
inline uint64_t DecodeValue40(const uint8_t in[kBTreeValueSize]) {
  return (uint64_t(in[0]) << 32) | DecodeBE32(in + 1);
}

}  // namespace p2l
