// Explicit byte encoding helpers (LevelDB util/coding.h style). Neon's formats mix endiannesses:
// keys, bincode directories, blob headers and B-tree nodes are big-endian; PostgreSQL structs and
// rel/SLRU size values are little-endian. Name the byte order at every call site.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace p2l {

inline void PutBE16(std::string* d, uint16_t v) {
  char b[2] = {char(v >> 8), char(v)};
  d->append(b, 2);
}
inline void PutBE32(std::string* d, uint32_t v) {
  char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  d->append(b, 4);
}
inline void PutBE64(std::string* d, uint64_t v) {
  PutBE32(d, uint32_t(v >> 32));
  PutBE32(d, uint32_t(v));
}
inline void PutLE32(std::string* d, uint32_t v) {
  char b[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  d->append(b, 4);
}
inline void PutLE64(std::string* d, uint64_t v) {
  PutLE32(d, uint32_t(v));
  PutLE32(d, uint32_t(v >> 32));
}

inline void EncodeBE16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
inline void EncodeBE32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
inline void EncodeBE64(uint8_t* p, uint64_t v) { EncodeBE32(p, uint32_t(v >> 32)); EncodeBE32(p + 4, uint32_t(v)); }
inline void EncodeLE32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); p[2] = uint8_t(v >> 16); p[3] = uint8_t(v >> 24);
}
inline void EncodeLE64(uint8_t* p, uint64_t v) { EncodeLE32(p, uint32_t(v)); EncodeLE32(p + 4, uint32_t(v >> 32)); }

inline uint16_t DecodeBE16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }
inline uint32_t DecodeBE32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint64_t DecodeBE64(const uint8_t* p) { return (uint64_t(DecodeBE32(p)) << 32) | DecodeBE32(p + 4); }
inline uint16_t DecodeLE16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t DecodeLE32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline uint64_t DecodeLE64(const uint8_t* p) { return uint64_t(DecodeLE32(p)) | (uint64_t(DecodeLE32(p + 4)) << 32); }

inline const uint8_t* U8(const char* p) { return reinterpret_cast<const uint8_t*>(p); }
inline const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace p2l
