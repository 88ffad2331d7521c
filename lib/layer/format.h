// Constants of the Neon image layer file format (shared/spec/image-layer.md §0-§5).
#pragma once

#include <cstdint>

namespace p2l {

// §0: a block is 8192 bytes (PAGE_SZ = BLCKSZ). Summary in block 0, values from block 1, index
// nodes one per block after the values.
inline constexpr uint64_t kLayerBlockSize = 8192;
// §1/§4.1: the value area always begins at this absolute file offset.
inline constexpr uint64_t kValueAreaStart = kLayerBlockSize;

// §3: magic and format version of an image layer summary.
inline constexpr uint16_t kImageFileMagic = 0x5A60;
inline constexpr uint16_t kDeltaFileMagic = 0x5A61;
inline constexpr uint16_t kStorageFormatVersion = 3;
inline constexpr size_t kSummarySize = 88;

// §5.3: the largest leaf value (absolute blob offset), 40 bits with the top bit clear.
inline constexpr uint64_t kMaxLeafValue = 0x7FFFFFFFFFull;

}  // namespace p2l
