// CRC-32C (Castagnoli), as PostgreSQL uses for pg_control and WAL (keyspace-and-sharding.md §2.5,
// §7.20): reflected polynomial 0x82F63B78, initial value 0xFFFFFFFF, final xor 0xFFFFFFFF.
//
// Crc32c(data, n, crc) continues a previous result: Crc32c(ab) == Crc32c(b, Crc32c(a)).
// Portable slicing-by-8 over tables built at compile time; pg_control is 288 bytes, so speed
// matters little, but callers may checksum larger objects.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pg/controlfile.h"

namespace p2l {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78u;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPolyReflected : (c >> 1);
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++) {
    for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

}  // namespace

uint32_t Crc32c(const uint8_t* data, size_t n, uint32_t crc) {
  uint32_t c = crc ^ 0xFFFFFFFFu;
  // 8 bytes at a time; bytes are combined explicitly, so host byte order does not matter.
  while (n >= 8) {
    uint32_t lo = c ^ (uint32_t(data[0]) | (uint32_t(data[1]) << 8) | (uint32_t(data[2]) << 16) |
                       (uint32_t(data[3]) << 24));
    c = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^
        kTables[4][lo >> 24] ^ kTables[3][data[4]] ^ kTables[2][data[5]] ^ kTables[1][data[6]] ^
        kTables[0][data[7]];
    data += 8;
    n -= 8;
  }
  while (n > 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *data) & 0xFF];
    data++;
    n--;
  }
  return c ^ 0xFFFFFFFFu;
}

}  // namespace p2l
