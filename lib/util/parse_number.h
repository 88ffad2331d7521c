// Strict parsing of numbers found in hostile input (HTTP headers, XML fields, environment).
#pragma once

#include <cstdint>
#include <string_view>

namespace p2l {

// A plain decimal uint64_t: only digits (no sign, no spaces, no "0x"), at most 20 of them, no
// overflow. On false, *v is unspecified.
bool ParseU64(std::string_view s, uint64_t* v);

}  // namespace p2l
