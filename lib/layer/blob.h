// Blobs of the image layer value area: a 1- or 4-byte header, then the stored bytes, raw or one
// zstd frame. image-layer.md §4.2, §4.4, §12 items 7-11.
//
//   form A, 1 byte : 0LLLLLLL                             L = 0..127, raw
//   form B, 4 bytes: 1CCCLLLL LLLLLLLL LLLLLLLL LLLLLLLL  L = 28-bit big-endian length
//                    CCC = 000 raw (0x80..0x8F), 001 zstd (0x90..0x9F), others reserved
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace p2l {

inline constexpr uint32_t kMaxBlobLen = 0x0FFFFFFF;   // 28 bits
inline constexpr uint8_t kBlobFlagMask = 0xF0;
inline constexpr uint8_t kBlobFlagRaw = 0x80;
inline constexpr uint8_t kBlobFlagZstd = 0x90;
inline constexpr size_t kMaxBlobHeaderSize = 4;
// Values shorter than this are always stored raw with the 1-byte header.
inline constexpr size_t kMinCompressLen = 128;
// Default cap on the decompressed size of one zstd blob (the size is not stored in the file).
inline constexpr size_t kDefaultMaxDecompressedBlob = 256u << 20;

// Writes the header for `len` stored bytes into out[0..4) and returns its size (1 or 4).
// Raw blobs under 128 bytes get form A; compressed blobs always get form B. Requires
// len <= kMaxBlobLen (the caller checks).
size_t EncodeBlobHeader(uint32_t len, bool zstd, uint8_t out[kMaxBlobHeaderSize]);

struct BlobHeader {
  uint32_t header_size = 0;  // 1 or 4
  uint32_t len = 0;          // stored bytes following the header
  bool zstd = false;
};

// Decodes the header at p with `avail` readable bytes. Errors (kInvalidInput, message without
// file context): fewer bytes than the header needs; a flag nibble other than 0x8 / 0x9.
Status DecodeBlobHeader(const uint8_t* p, size_t avail, BlobHeader* h);

// zstd compression the way Neon's streaming encoder does it: one frame, level set, no
// content-size field, no checksum, input size never pledged (so frame parameters are those of an
// unknown-size stream, as async-compression produces). Reuses one context.
class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Replaces *out with one complete zstd frame of `in`.
  Status Compress(std::string_view in, std::string* out);

 private:
  ZSTD_CCtx_s* cctx_ = nullptr;
  int level_;
};

// Bounded zstd decompression: never produces more than max_out bytes (error instead), accepts
// any valid frame (with or without content size), rejects truncated or corrupt input.
class ZstdDecompressor {
 public:
  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  // Replaces *out with the decompressed bytes of `in`. Errors are kInvalidInput with a message
  // without file context (the caller adds layer name and offset).
  Status Decompress(std::string_view in, size_t max_out, std::string* out);

 private:
  ZSTD_DCtx_s* dctx_ = nullptr;
};

}  // namespace p2l
