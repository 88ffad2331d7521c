// Blob headers and zstd (image-layer.md §4.2, §4.4).
#include <doctest/doctest.h>

#include <random>
#include <string>

#include <zstd.h>

#include "layer/blob.h"

using namespace p2l;

TEST_CASE("layer blob: header encode/decode") {
  uint8_t h[4];
  BlobHeader d;
  for (uint32_t len : {0u, 1u, 127u}) {
    REQUIRE(EncodeBlobHeader(len, false, h) == 1);
    CHECK(h[0] == len);
    REQUIRE(DecodeBlobHeader(h, 1, &d).ok());
    CHECK((d.header_size == 1 && d.len == len && !d.zstd));
  }
  for (uint32_t len : {128u, 8192u, 0x0FFFFFFFu}) {
    REQUIRE(EncodeBlobHeader(len, false, h) == 4);
    CHECK((h[0] & 0xF0) == 0x80);
    REQUIRE(DecodeBlobHeader(h, 4, &d).ok());
    CHECK((d.header_size == 4 && d.len == len && !d.zstd));
  }
  // Compressed blobs always use the 4-byte form, even when short.
  REQUIRE(EncodeBlobHeader(18, true, h) == 4);
  CHECK(std::string(reinterpret_cast<char*>(h), 4) == std::string("\x90\x00\x00\x12", 4));
  REQUIRE(DecodeBlobHeader(h, 4, &d).ok());
  CHECK((d.len == 18 && d.zstd));
  // 8192 raw: 80 00 20 00.
  EncodeBlobHeader(8192, false, h);
  CHECK(std::string(reinterpret_cast<char*>(h), 4) == std::string("\x80\x00\x20\x00", 4));
  // 4-byte raw header for a short blob is accepted on read.
  const uint8_t short4[4] = {0x80, 0, 0, 5};
  REQUIRE(DecodeBlobHeader(short4, 4, &d).ok());
  CHECK(d.len == 5);
  // The length masks 0x0FFFFFFF (low nibble of byte 0 is part of it).
  const uint8_t big[4] = {0x9F, 0xFF, 0xFF, 0xFF};
  REQUIRE(DecodeBlobHeader(big, 4, &d).ok());
  CHECK((d.len == 0x0FFFFFFF && d.zstd));
}

TEST_CASE("layer blob: header rejections") {
  BlobHeader d;
  for (uint8_t b0 : {0xA0, 0xB0, 0xC5, 0xD0, 0xE0, 0xFF}) {
    const uint8_t h[4] = {b0, 0, 0, 1};
    Status st = DecodeBlobHeader(h, 4, &d);
    CHECK(!st.ok());
    CHECK(st.message().find("invalid compression byte") != std::string::npos);
  }
  const uint8_t h[4] = {0x80, 0, 0x20, 0};
  CHECK(!DecodeBlobHeader(h, 3, &d).ok());
  CHECK(!DecodeBlobHeader(h, 0, &d).ok());
}

TEST_CASE("layer blob: zstd round trip and bounds") {
  std::mt19937_64 rng(7);
  ZstdCompressor c(1);
  ZstdDecompressor dz;
  std::string frame, back;
  for (size_t size : {size_t(0), size_t(1), size_t(128), size_t(8192), size_t(100000),
                      size_t(1) << 20}) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; i++) data[i] = char((i / 7) % 13 + (rng() % 4 == 0 ? rng() : 0));
    REQUIRE(c.Compress(data, &frame).ok());
    CHECK(uint8_t(frame[4]) == 0x00);  // frame header descriptor: no content size, no checksum
    REQUIRE(dz.Decompress(frame, 256u << 20, &back).ok());
    CHECK(back == data);
  }
  // Cap: 1 MiB of zeros does not fit in 64 KiB.
  REQUIRE(c.Compress(std::string(1 << 20, '\0'), &frame).ok());
  Status st = dz.Decompress(frame, 64 << 10, &back);
  CHECK(!st.ok());
  CHECK(st.message().find("more than 65536") != std::string::npos);
  // Exactly at the cap is fine.
  REQUIRE(dz.Decompress(frame, 1 << 20, &back).ok());
  CHECK(back.size() == (1u << 20));
  // Truncated and corrupt frames.
  CHECK(!dz.Decompress(std::string_view(frame).substr(0, frame.size() - 1), 1 << 20, &back).ok());
  CHECK(!dz.Decompress("", 1 << 20, &back).ok());
  std::string bad = frame;
  bad[0] = 'X';
  CHECK(!dz.Decompress(bad, 1 << 20, &back).ok());
}

TEST_CASE("layer blob: a frame demanding a huge window is refused under a small cap") {
  // A valid frame whose header declares a 128 MiB window (no content size).
  ZSTD_CCtx* c = ZSTD_createCCtx();
  REQUIRE(c != nullptr);
  ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 27);
  ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
  std::string data(4096, 'q'), frame(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_outBuffer ob{frame.data(), frame.size(), 0};
  ZSTD_inBuffer ib{data.data(), data.size(), 0};
  REQUIRE(!ZSTD_isError(ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue)));
  size_t r;
  do {
    r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
    REQUIRE(!ZSTD_isError(r));
  } while (r != 0);
  ZSTD_freeCCtx(c);
  frame.resize(ob.pos);
  ZstdDecompressor dz;
  std::string back;
  CHECK(!dz.Decompress(frame, 1 << 20, &back).ok());    // window limited to 1 MiB
  REQUIRE(dz.Decompress(frame, 256u << 20, &back).ok());  // default cap allows 128 MiB
  CHECK(back == data);
}
