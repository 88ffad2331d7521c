// Names of files in a database directory and in SLRU directories (keyspace-and-sharding.md §3.2, §3.5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2l {

enum ForkNumber : uint8_t { kMainFork = 0, kFsmFork = 1, kVmFork = 2, kInitFork = 3 };

struct RelFileName {
  uint32_t relnode = 0;
  uint8_t fork = kMainFork;
  uint32_t segno = 0;
};

// "<relnode>[_fsm|_vm|_init][.<segno>]": the anchored pattern ^(\d+)(_([a-z]+))?(\.(\d+))?$ with
// ASCII digits; leading zeros are accepted like Rust's u32 parse, values must fit u32. A leading
// '+' (which Rust's parse would allow) never matches the pattern: "+5" is nullopt. Anything else:
// nullopt (not a relation file). Callers reject relnode 0 and non-canonical spellings themselves.
std::optional<RelFileName> ParseRelFileName(std::string_view name);
// The canonical file name of a segment: "16384", "16384_vm", "16384.2".
std::string RelFileNameString(const RelFileName& r);
// SLRU segment names (u32::from_str_radix(name, 16)): an optional leading '+', then one or more
// hex digits of either case, any length whose value fits u32. nullopt otherwise.
std::optional<uint32_t> ParseSlruSegmentName(std::string_view name);

}  // namespace p2l
