#include "keyspace/key.h"

#include <fmt/format.h>

#include "util/coding.h"

namespace p2l {

void Key::EncodeTo(uint8_t out[kKeySize]) const {
  out[0] = field1;
  EncodeBE32(out + 1, field2);
  EncodeBE32(out + 5, field3);
  EncodeBE32(out + 9, field4);
  out[13] = field5;
  EncodeBE32(out + 14, field6);
}

std::array<uint8_t, kKeySize> Key::Encode() const {
  std::array<uint8_t, kKeySize> a{};
  EncodeTo(a.data());
  return a;
}

Key Key::Decode(const uint8_t in[kKeySize]) {
  Key k;
  k.field1 = in[0];
  k.field2 = DecodeBE32(in + 1);
  k.field3 = DecodeBE32(in + 5);
  k.field4 = DecodeBE32(in + 9);
  k.field5 = in[13];
  k.field6 = DecodeBE32(in + 14);
  return k;
}

std::string Key::ToHex() const {
  return fmt::format("{:02X}{:08X}{:08X}{:08X}{:02X}{:08X}", field1, field2, field3, field4, field5, field6);
}

static int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Key> Key::FromHex(std::string_view text) {
  if (text.size() != 2 * kKeySize) {
    return Status::InvalidInput(fmt::format("key \"{}\": expected 36 hex digits, got {} characters",
                                            text.substr(0, 64), text.size()));
  }
  uint8_t b[kKeySize];
  for (size_t i = 0; i < kKeySize; i++) {
    int hi = HexVal(text[2 * i]), lo = HexVal(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidInput(fmt::format("key \"{}\": non-hex character at position {}", text,
                                              hi < 0 ? 2 * i : 2 * i + 1));
    }
    b[i] = uint8_t(hi * 16 + lo);
  }
  return Decode(b);
}

bool Key::Add(uint32_t x, Key* out) const {
  Key k = *this;
  uint64_t v = uint64_t(k.field6) + x;
  k.field6 = uint32_t(v);
  uint64_t carry = v >> 32;
  if (carry) {
    v = uint64_t(k.field5) + carry; k.field5 = uint8_t(v); carry = v >> 8;
  }
  if (carry) {
    v = uint64_t(k.field4) + carry; k.field4 = uint32_t(v); carry = v >> 32;
  }
  if (carry) {
    v = uint64_t(k.field3) + carry; k.field3 = uint32_t(v); carry = v >> 32;
  }
  if (carry) {
    v = uint64_t(k.field2) + carry; k.field2 = uint32_t(v); carry = v >> 32;
  }
  if (carry) {
    v = uint64_t(k.field1) + carry; k.field1 = uint8_t(v); carry = v >> 8;
  }
  if (carry) return false;
  *out = k;
  return true;
}

Key Key::Next() const {
  Key k;
  return Add(1, &k) ? k : Max();
}

}  // namespace p2l
