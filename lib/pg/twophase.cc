// pg_twophase file names; see twophase.h.

#include "pg/twophase.h"

#include <fmt/format.h>

namespace p2l {
namespace {

// 17 is the first major version with FullTransactionId-named two-phase files.
bool UsesFullXid(int pg_major) { return pg_major >= 17; }

}  // namespace

std::string TwoPhaseFileName(uint64_t full_xid, int pg_major) {
  if (UsesFullXid(pg_major)) {
    return fmt::format("{:08X}{:08X}", uint32_t(full_xid >> 32), uint32_t(full_xid));
  }
  return fmt::format("{:08X}", uint32_t(full_xid));
}

std::optional<uint64_t> ParseTwoPhaseFileName(std::string_view name, int pg_major) {
  const size_t want = UsesFullXid(pg_major) ? 16 : 8;
  if (name.size() != want) return std::nullopt;
  uint64_t v = 0;
  for (char c : name) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | uint64_t(d);
  }
  return v;
}

}  // namespace p2l
