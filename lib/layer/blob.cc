#include "layer/blob.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>

#include "util/coding.h"

namespace p2l {

size_t EncodeBlobHeader(uint32_t len, bool zstd, uint8_t out[kMaxBlobHeaderSize]) {
  if (!zstd && len < 0x80) {
    out[0] = uint8_t(len);
    return 1;
  }
  EncodeBE32(out, len & kMaxBlobLen);
  out[0] |= zstd ? kBlobFlagZstd : kBlobFlagRaw;
  return 4;
}

Status DecodeBlobHeader(const uint8_t* p, size_t avail, BlobHeader* h) {
  if (avail < 1) return Status::InvalidInput("blob header: no bytes left for the header");
  if (p[0] < 0x80) {
    h->header_size = 1;
    h->len = p[0];
    h->zstd = false;
    return Status::OK();
  }
  if (avail < 4) {
    return Status::InvalidInput(
        fmt::format("blob header: 4-byte header (first byte 0x{:02X}) but only {} byte(s) left",
                    p[0], avail));
  }
  uint8_t flags = p[0] & kBlobFlagMask;
  if (flags != kBlobFlagRaw && flags != kBlobFlagZstd) {
    return Status::InvalidInput(fmt::format(
        "blob header: invalid compression byte 0x{:02X} (flag nibble must be 0x8 or 0x9)", p[0]));
  }
  h->header_size = 4;
  h->len = DecodeBE32(p) & kMaxBlobLen;
  h->zstd = flags == kBlobFlagZstd;
  return Status::OK();
}

// ---- compression ---------------------------------------------------------------------------

ZstdCompressor::ZstdCompressor(int level) : cctx_(ZSTD_createCCtx()), level_(level) {}
ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(cctx_); }

Status ZstdCompressor::Compress(std::string_view in, std::string* out) {
  if (cctx_ == nullptr) return Status::Internal("zstd: cannot allocate a compression context");
  ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_and_parameters);
  size_t r = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 0);
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0);
  if (ZSTD_isError(r)) {
    return Status::Internal(fmt::format("zstd: setting parameters (level {}): {}", level_,
                                        ZSTD_getErrorName(r)));
  }
  out->resize(ZSTD_compressBound(in.size()) + 64);
  ZSTD_outBuffer ob{out->data(), out->size(), 0};
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  // Feed everything with e_continue first (the streaming encoder never pledges the size), then
  // end the frame.
  while (ib.pos < ib.size) {
    if (ob.pos == ob.size) {
      out->resize(out->size() * 2);
      ob.dst = out->data();
      ob.size = out->size();
    }
    r = ZSTD_compressStream2(cctx_, &ob, &ib, ZSTD_e_continue);
    if (ZSTD_isError(r)) return Status::Internal(fmt::format("zstd: {}", ZSTD_getErrorName(r)));
  }
  for (;;) {
    if (ob.pos == ob.size) {
      out->resize(out->size() * 2);
      ob.dst = out->data();
      ob.size = out->size();
    }
    r = ZSTD_compressStream2(cctx_, &ob, &ib, ZSTD_e_end);
    if (ZSTD_isError(r)) return Status::Internal(fmt::format("zstd: {}", ZSTD_getErrorName(r)));
    if (r == 0) break;
  }
  out->resize(ob.pos);
  return Status::OK();
}

// ---- decompression -------------------------------------------------------------------------

ZstdDecompressor::ZstdDecompressor() : dctx_(ZSTD_createDCtx()) {}
ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(dctx_); }

Status ZstdDecompressor::Decompress(std::string_view in, size_t max_out, std::string* out) {
  if (dctx_ == nullptr) return Status::Internal("zstd: cannot allocate a decompression context");
  ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_and_parameters);
  // The window buffer is allocated from the frame header, so bound it: no larger than needed for
  // max_out bytes of output, at least 1 MiB (Neon's level-1 frames declare 512 KiB), at most
  // 128 MiB (zstd's default limit).
  int window_log = 20;
  while (window_log < 27 && (size_t(1) << window_log) < max_out) window_log++;
  ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, window_log);

  size_t cap = std::min<size_t>(max_out, std::max<size_t>(in.size() * 4, 16384));
  out->resize(cap);
  ZSTD_outBuffer ob{out->data(), out->size(), 0};
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    if (ob.pos == ob.size) {
      if (ob.size >= max_out) {
        return Status::InvalidInput(fmt::format(
            "zstd blob decompresses to more than {} bytes (limit)", max_out));
      }
      size_t grow = std::min<size_t>(max_out, std::max<size_t>(ob.size * 2, 16384));
      out->resize(grow);
      ob.dst = out->data();
      ob.size = out->size();
    }
    size_t in_before = ib.pos, out_before = ob.pos;
    size_t r = ZSTD_decompressStream(dctx_, &ob, &ib);
    if (ZSTD_isError(r)) {
      return Status::InvalidInput(
          fmt::format("zstd blob of {} bytes does not decode: {}", in.size(), ZSTD_getErrorName(r)));
    }
    if (ib.pos == ib.size) {
      if (r == 0) break;  // every frame complete
      if (ob.pos < ob.size) {
        return Status::InvalidInput(
            fmt::format("zstd blob of {} bytes is truncated (frame incomplete)", in.size()));
      }
    } else if (ib.pos == in_before && ob.pos == out_before && ob.pos < ob.size) {
      return Status::InvalidInput(
          fmt::format("zstd blob of {} bytes: decoder made no progress", in.size()));
    }
  }
  out->resize(ob.pos);
  return Status::OK();
}

}  // namespace p2l
