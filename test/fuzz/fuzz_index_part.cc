// libFuzzer target: the index_part.json reader (lib/index/index_part.h). Properties:
//   - IndexPart::Parse never crashes, whatever the bytes (sanitizers watch the parser);
//   - an error message starts with the object name it was given;
//   - when a document parses, ToJson() parses again to an equal IndexPart, and writing that one
//     gives the same bytes (the writer is deterministic and the reader keeps what it read).
// Seeds: corpus/index_part/ (the spec's examples A-E plus edge cases). Dictionary: dict/json.dict.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "index/index_part.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto first = p2l::IndexPart::Parse(json, "fuzz/index_part.json");
  if (!first.ok()) {
    if (first.status().message().rfind("fuzz/index_part.json", 0) != 0) __builtin_trap();
    return 0;
  }
  const std::string out = first->ToJson();
  auto second = p2l::IndexPart::Parse(out, "fuzz/rewritten.json");
  if (!second.ok()) __builtin_trap();   // we wrote something we cannot read back
  if (!(*second == *first)) __builtin_trap();
  if (second->ToJson() != out) __builtin_trap();
  return 0;
}
