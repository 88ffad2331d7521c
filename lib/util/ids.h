// TenantId / TimelineId: 16 raw bytes; text form 32 lower-case hex digits (either case on parse).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace p2l {

struct Id16 {
  std::array<uint8_t, 16> bytes{};

  std::string ToHex() const;                         // 32 lower-case hex digits
  static Result<Id16> FromHex(std::string_view s);   // exactly 32 hex digits
  static Id16 Random();                              // from the OS CSPRNG
  friend auto operator<=>(const Id16&, const Id16&) = default;
  friend bool operator==(const Id16&, const Id16&) = default;
};
using TenantId = Id16;
using TimelineId = Id16;

}  // namespace p2l
