// index_part.json (shared/spec/index-part-and-import.md §1-§2): model, writer and reader.
// Writer: compact JSON in the pageserver's field order, version 15. Reader: tolerant of unknown
// fields, strict on types, u64 exact (never through double), bounded in size and nesting.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/ids.h"
#include "util/status.h"

namespace p2l {

// "HI/LO" upper-case hex halves, no padding: 0/169C3D0.
std::string LsnToString(uint64_t lsn);
Result<uint64_t> ParseLsn(std::string_view s);
// NaiveDateTime: "YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]" (UTC, no zone suffix).
std::string FormatNaiveDateTime(int64_t unix_nanos);
Result<int64_t> ParseNaiveDateTime(std::string_view s);
int64_t NowUnixNanos();

struct LayerFileMetadata {
  uint64_t file_size = 0;
  std::optional<uint32_t> generation;   // omitted when none
  std::string shard = "0000";           // ShardIndex "NNCC"; omitted on write when "0000"
  friend bool operator==(const LayerFileMetadata&, const LayerFileMetadata&) = default;
};

struct TimelineMetadata {
  uint64_t disk_consistent_lsn = 0;
  std::optional<uint64_t> prev_record_lsn;
  std::optional<TimelineId> ancestor_timeline;
  uint64_t ancestor_lsn = 0;
  uint64_t latest_gc_cutoff_lsn = 0;
  uint64_t initdb_lsn = 0;
  uint32_t pg_version = 0;
  friend bool operator==(const TimelineMetadata&, const TimelineMetadata&) = default;
};

// Our resumable-import progress record. Stored in index_part.json under the extra top-level key
// "pgdata2layers" (unknown fields are ignored by the pageserver, spec §2.2).
struct ImportProgress {
  uint64_t plan_fingerprint = 0;   // xxHash64 of the canonical plan encoding
  uint64_t jobs = 0;
  uint64_t completed = 0;          // jobs done, in plan order
  uint64_t soft_size_limit = 0;
  friend bool operator==(const ImportProgress&, const ImportProgress&) = default;
};

struct ImportPgdata {
  enum class State { kInProgress, kDone } state = State::kInProgress;
  std::string idempotency_key;
  // InProgress location: {"AwsS3": {region, bucket, key}} or {"LocalFs": {path}} (test builds of
  // Neon only) — kept as raw JSON text so that what we read is written back unchanged.
  std::string location_json;
  int64_t started_at_nanos = 0;
  std::optional<int64_t> finished_at_nanos;   // Done only
  friend bool operator==(const ImportPgdata&, const ImportPgdata&) = default;
};

struct IndexPart {
  uint32_t version = 15;
  std::optional<ImportPgdata> import_pgdata;
  std::map<std::string, LayerFileMetadata> layer_metadata;  // layer name -> metadata (sorted)
  uint64_t disk_consistent_lsn = 0;
  TimelineMetadata metadata;
  std::optional<ImportProgress> progress;   // our "pgdata2layers" extension
  // Top-level fields we do not model (deleted_at, archived_at, lineage contents, gc_blocking, ...)
  // are kept as raw JSON (key -> compact JSON text) and written back unchanged. Known optional
  // fields are type-checked on read; null reads as absent. "lineage" is written as {} unless it
  // is stored here (only a non-empty lineage is), and only when has_lineage.
  std::map<std::string, std::string> other_fields;
  // Presence of "version" and "lineage". The pageserver always writes both; the parser records
  // their absence so that a minimal document (spec §2.8 D) is written back byte for byte.
  // A missing "version" reads as version 0.
  bool has_version = true;
  bool has_lineage = true;

  // Writer-side invariants: pg_version 14..17, shard strings "NNCC" hex, Done has finished_at,
  // InProgress has a valid location, progress.completed <= jobs, layer names well-formed, top-level and
  // metadata disk_consistent_lsn equal. kInvalidInput naming the field.
  Status Validate() const;
  friend bool operator==(const IndexPart&, const IndexPart&) = default;

  // Compact JSON, deterministic: same IndexPart -> same bytes. Field order as the pageserver's:
  // version, deleted_at, archived_at, import_pgdata, layer_metadata (sorted by name),
  // disk_consistent_lsn, metadata_bytes (object form), lineage, gc_blocking,
  // last_aux_file_policy, rel_size_migration, l2_lsn, gc_compaction, marked_invisible_at,
  // rel_size_migrated_at, then other unknown fields (sorted), then "pgdata2layers" last.
  std::string ToJson() const;
  // At most 64 MiB, nesting depth <= 64; errors name `what` (object name) and the JSON path,
  // e.g. "index_part.json-00000001: layer_metadata.<name>.file_size: expected unsigned integer,
  // got string". Accepts metadata under "metadata_bytes" or "metadata" (not both), as an object
  // or as the legacy 512-byte array (CRC-32C checked, §2.4.2). Duplicate object keys are
  // rejected, and so are malformed layer names. Optional fields given as null read as absent.
  static Result<IndexPart> Parse(std::string_view json, std::string_view what);
};

}  // namespace p2l
