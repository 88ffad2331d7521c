// One import job → one image layer object (keyspace-and-sharding.md §5.3, image-layer.md §6-7).
//
// The layer covers the job's key range at the plan's base LSN and holds exactly the keys its
// tasks produce, in task order (ascending keys):
//  * kSingleKey: the planned value;
//  * kObjectValue: the whole source object (checked against the planned size/version);
//  * kRelBlocks: every block of the range that is not disposable on this shard, read in ranged
//    reads of consecutive local blocks of at most max_range bytes, each page verified with
//    CheckPage when the task asks for it (checksums when the cluster has them);
//  * kSlruBlocks: every block of the range (SLRU tasks exist only on shard 0), same ranged reads.
// Reads go through Storage::OpenReader(name, &task.object): a source object that changed since
// planning fails the job with kSourceChanged.
//
// The layer is written to a staged object (Storage::Stage) and committed only after Finish: a
// failure or crash leaves no partial object under the layer's name. The writer is created at the
// first key, so a job with no key writes no layer at all. Memory: one max_range buffer per job
// plus the layer writer's buffer and its in-memory B-tree (about 30 bytes per key), plus, from a
// remote source, at most 2 x max_range bytes read ahead.
//
// Read-ahead (remote sources only): the job's ranged reads (whole small objects, and every
// max_range piece of relation and SLRU data) are fetched ahead by read_ahead threads, in task
// order, each through its own OpenReader; the job consumes them in the same order, so the layer is
// the same. Without it a job waits for one request's latency per read, and most objects of a
// PGDATA are small (BENCHMARKS.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "import/plan.h"
#include "keyspace/shard.h"
#include "storage/storage.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

struct JobWriterOptions {
  TenantId tenant;
  TimelineId timeline;
  ShardIdentity shard;
  uint64_t lsn = 0;                    // the plan's base LSN
  std::optional<uint32_t> generation;  // suffix of the layer object
  bool zstd = false;
  uint64_t max_range = 4ull << 20;     // bytes per ranged read (rounded down to pages, >= 1 page)
  bool checksums = false;              // the cluster has data checksums
  bool ignore_checksum_failures = false;
  uint64_t max_object_value = kMaxObjectValue;   // kObjectValue bound
  int pg_major = 0;                    // the cluster's version (relation map and two-phase checks)
  uint32_t read_ahead = 4;             // remote sources: read-ahead threads per job (0 = off)
  bool sync = true;                    // the destination fsyncs layers (off: no writeback hints)
};

struct JobOutput {
  uint32_t index = 0;          // the job's 1-based index
  bool wrote_layer = false;
  std::string layer_name;      // bare name (index_part key); set even when no layer was written
  std::string object;          // object name written (with generation suffix)
  uint64_t file_size = 0;
  uint64_t keys = 0;
  uint64_t bytes_read = 0;     // source bytes read
  std::vector<std::string> warnings;   // ignored page verification failures
};

// The layer name of a job (its key range at `lsn`).
std::string JobLayerName(const ImportJob& job, uint64_t lsn);

// Runs one job: reads `source`, writes the layer to `dest`. `cancelled` is polled between reads.
Result<JobOutput> RunImportJob(Storage& source, Storage& dest, const ImportJob& job,
                               const JobWriterOptions& opts, const std::atomic<bool>* cancelled = nullptr);

}  // namespace p2l
