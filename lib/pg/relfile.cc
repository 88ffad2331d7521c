// Relation and SLRU segment file names (keyspace-and-sharding.md §3.2, §3.5, §7.17, §7.18).
//
// Relation files: the anchored pattern ^(\d+)(_([a-z]+))?(\.(\d+))?$ where each number must fit
// u32 (Rust's str::parse::<u32>: leading zeros allowed; the '+' that parse would allow can never
// get past the pattern). Fork names: fsm, vm, init. Anything else is "not a relation file".
// SLRU segments: u32::from_str_radix(name, 16): optional leading '+', hex digits of either case,
// any length whose value fits u32.

#include "pg/relfile.h"

namespace p2l {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }

// Parses a non-empty run of ASCII decimal digits into u32; false on overflow or empty input.
bool ParseDecimalU32(std::string_view s, uint32_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + uint64_t(c - '0');
    if (v > UINT32_MAX) return false;
  }
  *out = uint32_t(v);
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<RelFileName> ParseRelFileName(std::string_view name) {
  size_t i = 0;
  const size_t n = name.size();

  // (\d+): relnode
  size_t start = i;
  while (i < n && IsDigit(name[i])) i++;
  RelFileName r;
  if (!ParseDecimalU32(name.substr(start, i - start), &r.relnode)) return std::nullopt;

  // (_([a-z]+))?: fork name
  if (i < n && name[i] == '_') {
    i++;
    start = i;
    while (i < n && IsLower(name[i])) i++;
    std::string_view fork = name.substr(start, i - start);
    if (fork == "fsm") {
      r.fork = kFsmFork;
    } else if (fork == "vm") {
      r.fork = kVmFork;
    } else if (fork == "init") {
      r.fork = kInitFork;
    } else {
      return std::nullopt;  // empty ("1234_") or unknown ("1234_invalid")
    }
  }

  // (\.(\d+))?: segment number
  if (i < n && name[i] == '.') {
    i++;
    start = i;
    while (i < n && IsDigit(name[i])) i++;
    if (!ParseDecimalU32(name.substr(start, i - start), &r.segno)) return std::nullopt;
  }

  if (i != n) return std::nullopt;  // trailing characters: "1.2.3", "16384_vm.1_fsm", "t3_..."
  return r;
}

std::string RelFileNameString(const RelFileName& r) {
  std::string s = std::to_string(r.relnode);
  switch (r.fork) {
    case kMainFork: break;
    case kFsmFork: s += "_fsm"; break;
    case kVmFork: s += "_vm"; break;
    case kInitFork: s += "_init"; break;
    default: s += "_fork" + std::to_string(unsigned(r.fork)); break;  // not a PG fork
  }
  if (r.segno != 0) s += "." + std::to_string(r.segno);
  return s;
}

std::optional<uint32_t> ParseSlruSegmentName(std::string_view name) {
  if (!name.empty() && name[0] == '+') name.remove_prefix(1);
  if (name.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : name) {
    int d = HexValue(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | uint64_t(d);
    if (v > UINT32_MAX) return std::nullopt;
  }
  return uint32_t(v);
}

}  // namespace p2l
