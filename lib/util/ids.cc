#include "util/ids.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <random>

namespace p2l {

std::string Id16::ToHex() const {
  static const char* kDigits = "0123456789abcdef";
  std::string s(32, '0');
  for (size_t i = 0; i < 16; i++) {
    s[2 * i] = kDigits[bytes[i] >> 4];
    s[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return s;
}

Result<Id16> Id16::FromHex(std::string_view s) {
  if (s.size() != 32) {
    return Status::InvalidInput(fmt::format("id \"{}\": expected 32 hex digits, got {} characters",
                                            s.substr(0, 64), s.size()));
  }
  Id16 id;
  for (size_t i = 0; i < 32; i++) {
    char c = s[i];
    int v = (c >= '0' && c <= '9') ? c - '0'
          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (v < 0) return Status::InvalidInput(fmt::format("id \"{}\": non-hex character at position {}", s, i));
    id.bytes[i / 2] = uint8_t((i % 2 == 0) ? v << 4 : (id.bytes[i / 2] | v));
  }
  return id;
}

Id16 Id16::Random() {
  Id16 id;
  if (RAND_bytes(id.bytes.data(), int(id.bytes.size())) != 1) {
    // OpenSSL's CSPRNG failing is not recoverable input; fall back to /dev/urandom semantics via
    // std::random_device so we still never produce a fixed id.
    for (auto& b : id.bytes) b = uint8_t(std::random_device{}());
  }
  return id;
}

}  // namespace p2l
