// The import plan: what to read from the source and which image layer each job writes.
// Built from the source listing and pg_control only (pure and deterministic: the same source and
// options give the same plan, byte for byte). keyspace-and-sharding.md §3 (PGDATA walk), §5 (plan).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keyspace/key.h"
#include "keyspace/shard.h"
#include "pg/controlfile.h"
#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

struct ImportTask {
  enum class Kind {
    kSingleKey,     // one key, value bytes known at planning (`value`)
    kObjectValue,   // one key, value = the whole source object `object` (relmap, twophase file)
    kRelBlocks,     // blocks [start.field6, end.field6) of one relation segment file `object`
    kSlruBlocks,    // blocks of one SLRU segment file `object`
  };
  Kind kind = Kind::kSingleKey;
  Key start, end;          // key range [start, end); single keys: [k, k.Next())
  std::string value;       // kSingleKey
  ObjectInfo object;       // kObjectValue / kRelBlocks / kSlruBlocks: name relative to source root
  // kRelBlocks/kSlruBlocks: block number (field6) of the object's first page; the page for key
  // field6 = b is at object offset (b - first_block) * 8192.
  uint32_t first_block = 0;
  uint32_t nblocks = 0;    // pages in the object (size / 8192)
  bool verify_pages = false;  // kRelBlocks: check page headers (and checksums when on)
  // Pages of this task stored on this shard (ShardIdentity::PageCount), for sizing.
  uint32_t local_pages = 0;
};

struct ImportJob {
  uint32_t index = 0;      // 1-based, in plan order
  Key start, end;          // the layer's key range: contiguous over all jobs, [MIN, MAX)
  std::vector<ImportTask> tasks;
  uint64_t estimated_bytes = 0;   // sum of task sizes (single keys count 8192)
  // A job may hold no key for this shard (all its blocks belong to other shards): it writes no
  // layer but still counts in numbering.
};

struct PlanOptions {
  ShardIdentity shard;
  uint64_t soft_size_limit = 256ull << 20;   // bytes, as Neon's import_job_soft_size_limit
  bool allow_unclean_shutdown = false;
  bool verify_pages = true;        // header sanity + data checksums when the cluster has them
};

struct ImportPlan {
  ControlFile control;             // parsed global/pg_control
  uint64_t base_lsn = 0;           // align8(checkPoint): the LSN of every layer
  std::string pgdata_prefix;       // "pgdata/" (bucket layout) or "" (a plain PGDATA directory)
  ShardIdentity shard;
  uint64_t soft_size_limit = 0;
  std::vector<ImportJob> jobs;
  std::vector<ObjectInfo> source_objects;   // every object the plan reads, sorted by name
  std::vector<std::string> warnings;        // e.g. skipped files, for the log

  // xxHash64 of a canonical encoding of jobs, key ranges, source object names/sizes/versions,
  // shard identity and soft size limit. Equal fingerprints = same work.
  uint64_t Fingerprint() const;
  uint64_t TotalEstimatedBytes() const;
};

// Detects the layout of `source` ("<root>/pgdata/global/pg_control" = Neon bucket layout, else
// "<root>/global/pg_control" = plain PGDATA), reads and checks pg_control, walks the PGDATA and
// returns the plan for `opts.shard`.
Result<ImportPlan> BuildPlan(Storage& source, const PlanOptions& opts);

}  // namespace p2l
