// The import: PGDATA (any source Storage) → image layers + index_part.json (any destination
// Storage), resumable and idempotent. index-part-and-import.md §2, §3, §4.2-4.3;
// keyspace-and-sharding.md §5.3, §5.5; image-layer.md §6-7.
//
// Sequence (each step's rule is spelled out where it is implemented, import.cc):
//  1. ids: missing tenant/timeline ids are generated; the idempotency key defaults to a hash of
//     the canonical source URL + tenant + timeline (DefaultIdempotencyKey), so rerunning the same
//     command continues/recognises the same import.
//  2. existing state of the timeline shard (highest-generation index_part): Done with our key →
//     "already complete", nothing is written (not even the lease) and the source is not listed;
//     other keys or a foreign timeline → kConflict.
//  3. the status/pgdata marker (pgdata_marker.h); then PreflightSource (plan.h): an unsupported
//     PostgreSQL version or, with --tablespaces refuse, a user tablespace holding data ends the
//     run here (kInvalidInput) with nothing written: no lease, no index, no status object, no
//     notification.
//  4. the lease (lease.h); then the state is read again under the lease.
//  5. plan (BuildPlan; on resume with the recorded soft size limit); resume needs the same plan
//     fingerprint and job count (else kSourceChanged, use --restart); --restart deletes the
//     timeline's layer objects and starts over.
//  6. a fresh import writes index_part InProgress with the final metadata and no layer before any
//     layer exists; jobs run on a pool, completions are consumed in plan order, and every
//     `checkpoint_every` completed jobs the index is rewritten (InProgress) with the finished
//     layers and the progress record.
//  7. every source object is re-checked (size/version); the final index (Done) is written only
//     after every layer it lists is committed; unreferenced layer objects of the timeline are
//     deleted; the lease is removed.
//  8. completion (completion.h), after the lease is released: the status object
//     status/shard-NNCC (--status-dest, default the source) and the --notify-url POST; also on
//     the "already complete" path (at-least-once: a rerun delivers a notification that timed
//     out), which additionally removes a stale lease left by a run killed after its Done write.
//     A failed import publishes an error (best effort) and keeps its own exit code.
// A crash at any point leaves a destination that rerunning the same command completes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "import/completion.h"
#include "import/lease.h"
#include "import/plan.h"
#include "keyspace/shard.h"
#include "storage/storage.h"
#include "util/events.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

struct ImportOptions {
  std::string source;                    // storage URL of the PGDATA (or import bucket root)
  std::string dest;                      // storage URL of the pageserver remote storage root
  std::optional<TenantId> tenant;        // generated when absent
  std::optional<TimelineId> timeline;    // generated when absent
  ShardIdentity shard;                   // count 0 = unsharded (no tenant dir suffix)
  uint32_t generation = 1;
  size_t jobs = 0;                       // concurrent jobs; 0 = number of cores
  uint64_t soft_size_limit = 256ull << 20;
  bool zstd = false;
  std::string idempotency_key;           // "" = DefaultIdempotencyKey
  uint32_t checkpoint_every = 8;
  bool restart = false;
  bool allow_unclean_shutdown = false;
  // --tablespaces (plan.h TablespaceMode). refuse and an unsupported PostgreSQL version stop the
  // import before the lease (PreflightSource): nothing is written, no status, no notification.
  TablespaceMode tablespaces = TablespaceMode::kRefuse;
  bool ignore_checksum_failures = false;
  uint64_t max_range = 4ull << 20;
  std::optional<int64_t> wait_for_pgdata_seconds;   // --wait-for-pgdata[=TIMEOUT]
  StorageOptions storage;                // remote options, applied to source and destination
  // --source-endpoint/-region/-env-prefix, --dest-endpoint/-region/-env-prefix: what one side sets
  // for itself when it differs from the other (e.g. a MinIO source, an AWS destination, each with
  // its own credentials); empty = as `storage` says. --status-dest uses `storage` as given.
  SideOverrides source_side, dest_side;
  bool sync = true;                      // fsync local writes: layers, index, status (--no-sync)
  LeaseOptions lease;
  CompletionFlags completion;            // --status-dest, --notify-url, --notify-timeout
};

struct ImportSummary {
  TenantId tenant;
  TimelineId timeline;
  std::string idempotency_key;
  std::string index_object;      // the index_part object written (or found, when already complete)
  bool already_complete = false;
  bool resumed = false;
  uint64_t jobs = 0;             // jobs in the plan
  uint64_t jobs_skipped = 0;     // done by an earlier run
  uint64_t layers = 0;           // layers listed in the final index
  uint64_t layer_bytes = 0;      // their total size
  uint64_t keys = 0;             // keys written by this run
  uint64_t source_bytes = 0;     // source bytes read by this run
  double seconds = 0;
};

Result<ImportSummary> RunImport(const ImportOptions& opts, EventSink& events);

// "p2l-" + 32 hex digits of SHA-256 over the canonical source URL, tenant and timeline.
std::string DefaultIdempotencyKey(std::string_view source_url, const TenantId& tenant, const TimelineId& timeline);
// Local paths → absolute, normalised, symlinks resolved where they exist, no trailing '/';
// s3://bucket/prefix without trailing '/'; anything else with trailing '/' removed.
std::string CanonicalSourceUrl(std::string_view url);
// The import_pgdata InProgress "location" for a source URL: {"AwsS3":{"region","bucket","key"}}
// for S3, {"LocalFs":{"path"}} otherwise (compact JSON).
std::string SourceLocationJson(std::string_view source_url, std::string_view region);

}  // namespace p2l
