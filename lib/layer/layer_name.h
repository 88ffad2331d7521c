// Image layer names: <start 36 hex>-<end 36 hex>__<LSN 16 hex>, optional generation suffix
// (-v1-XXXXXXXX on local pageserver disks, -XXXXXXXX as remote object keys). image-layer.md §7.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "keyspace/key.h"
#include "util/status.h"

namespace p2l {

struct ImageLayerName {
  Key key_start, key_end;
  uint64_t lsn = 0;
  std::string ToString() const;   // no generation suffix (index_part.json key)
  // Parses a bare name or one with a "-v1-XXXXXXXX" or "-XXXXXXXX" suffix (generation returned
  // through `generation` when given). Delta layer names and anything else: kInvalidInput.
  static Result<ImageLayerName> Parse(std::string_view s, std::optional<uint32_t>* generation = nullptr);
};

}  // namespace p2l
