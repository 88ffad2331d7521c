// The current index_part of one timeline shard in the destination, chosen the way the pageserver
// chooses it (index-part-and-import.md §3.3): among "index_part.json-<8 hex>" objects the highest
// generation wins; the suffix-less legacy "index_part.json" counts as generation "none", lower
// than every real generation. Other names in the timeline directory (layers, our lease, temp files
// such as "index_part.json-00000001.<random>.___temp") are not index objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/index_part.h"
#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

struct IndexObjectName {
  std::string name;                     // base name, e.g. "index_part.json-00000002"
  std::optional<uint32_t> generation;   // none for the legacy "index_part.json"
};

// Parses a base name as an index object name: "index_part.json" or "index_part.json-" + exactly
// 8 hex digits (either case). Anything else: nullopt.
std::optional<IndexObjectName> ParseIndexObjectName(std::string_view base);

// The index object with the highest generation among `base_names` (none < 0 < 1 < ...), optionally
// only those with generation <= max_generation (the pageserver's rule when attaching at G).
std::optional<IndexObjectName> SelectLatestIndex(const std::vector<std::string>& base_names,
                                                 std::optional<uint32_t> max_generation = std::nullopt);

struct TimelineIndex {
  std::string object;                   // full object name, relative to the destination root
  std::optional<uint32_t> generation;
  IndexPart index;
};

// Lists `timeline_dir` (no trailing '/'), picks the highest generation and reads and parses it
// (at most 64 MiB). nullopt when the timeline has no index object.
Result<std::optional<TimelineIndex>> ReadLatestIndexPart(Storage& dest, std::string_view timeline_dir);

// What an existing index means for an import with idempotency key `key` in generation `generation`
// (the brief's rules, index-part-and-import.md §2.5 idempotency):
//  * no index                                → kNone (fresh import)
//  * import_pgdata Done, same key            → kDoneSameKey (nothing to do)
//  * import_pgdata InProgress, same key      → kInProgressSameKey (resume or --restart)
//  * no import_pgdata record                 → kConflict: an ordinary timeline exists there
//  * a different key (InProgress or Done)    → kConflict naming both keys
//  * InProgress in a higher generation than ours → kConflict (our index would be shadowed)
enum class ExistingImport { kNone, kDoneSameKey, kInProgressSameKey };
Result<ExistingImport> ClassifyExistingIndex(const std::optional<TimelineIndex>& cur, std::string_view key,
                                             uint32_t generation, std::string_view where);

}  // namespace p2l
