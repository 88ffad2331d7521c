// The pageserver Key: six unsigned fields, 18 bytes big-endian in storage, 36 upper-case hex
// digits in text. Ordering is memcmp of the storage form (= field-by-field comparison).
// Spec: shared/spec/keyspace-and-sharding.md §1, image-layer.md §2.1.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace p2l {

inline constexpr size_t kKeySize = 18;

struct Key {
  uint8_t field1 = 0;   // key class
  uint32_t field2 = 0;  // spcnode / SLRU kind
  uint32_t field3 = 0;  // dbnode
  uint32_t field4 = 0;  // relnode / SLRU segno
  uint8_t field5 = 0;   // fork number
  uint32_t field6 = 0;  // block number (0xFFFFFFFF: size key)

  static constexpr Key Min() { return Key{}; }
  static constexpr Key Max() { return Key{0xFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFF, 0xFFFFFFFF}; }

  // 18-byte big-endian storage form.
  void EncodeTo(uint8_t out[kKeySize]) const;
  std::array<uint8_t, kKeySize> Encode() const;
  static Key Decode(const uint8_t in[kKeySize]);

  // 36 upper-case hex digits: {:02X}{:08X}{:08X}{:08X}{:02X}{:08X}.
  std::string ToHex() const;
  // Exactly 36 hex digits, either case; anything else is kInvalidInput naming the text.
  static Result<Key> FromHex(std::string_view text);

  // +x on field6 with carry into field5, field4, ... field1. Overflow past field1 is reported
  // by returning false (Key::Max().Add(1) is not a key); Next() saturates at Max in that case.
  bool Add(uint32_t x, Key* out) const;
  Key Next() const;

  friend constexpr auto operator<=>(const Key&, const Key&) = default;
  friend constexpr bool operator==(const Key&, const Key&) = default;
};

}  // namespace p2l
