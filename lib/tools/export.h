// `pgdata2layers export`: rebuilds PostgreSQL files from the image layers of every shard of an
// imported timeline, into a local directory (normally a copy of the original PGDATA from which
// the imported files were removed, or an empty directory).
//
// Written (keyspace-and-sharding.md §1.2, §2, §3):
//   relation segment files  base/<db>/, global/, pg_tblspc/<spc>/PG_<major>_<catver>/<db>/
//                           <rel>[_fsm|_vm|_init][.<seg>], 131072 blocks per segment, sized from
//                           the rel size keys, blocks from the rel block keys (a block no shard
//                           holds inside the size is written as zeros and reported);
//   pg_filenode.map         from the relmap keys;
//   global/pg_control       from CONTROLFILE;
//   SLRU segments           pg_xact/, pg_multixact/members/, pg_multixact/offsets/ ("%04X"
//                           names, more digits above 0xFFFF), sized from the segment size keys;
//   pg_twophase/<xid>       from the two-phase keys ("%08X", PG17 "%016X").
// The directory values (DbDirectory, RelDirectory, SlruSegmentDirectory, TwoPhaseDirectory) and
// CHECKPOINT are cross-checked with the keys found; every disagreement is an "inconsistency".
//
// Layers are streamed (ShardStream) and the shards merged by key, so memory does not grow with
// the data. Key fields become path components only as decimal/hex numbers after validation
// (tablespace, database, relnode, fork, segment, xid), so no layer content can name a path
// outside the output directory. Each file is written as "<name>.p2l-export.tmp" and renamed when
// complete; the file systems are synced (syncfs) at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/storage.h"
#include "util/events.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

struct ExportOptions {
  TenantId tenant;
  TimelineId timeline;
  // The shard set to read when the destination holds several (e.g. unsharded and 4 shards).
  std::optional<uint32_t> shard_count;
  std::string out_dir;               // an existing local directory
  bool sync = true;                  // syncfs at the end
  size_t max_listed = 50;            // inconsistencies listed in the report (all are counted)
};

struct ExportReport {
  uint32_t shard_count = 0;          // of the set exported (0 = unsharded)
  uint64_t layers = 0;
  uint64_t keys = 0;                 // distinct keys
  uint64_t files = 0;                // files written
  uint64_t bytes = 0;                // bytes of the files written
  uint64_t relation_forks = 0;
  uint64_t zero_filled_blocks = 0;   // blocks inside a relation/SLRU size that no shard holds
  uint64_t inconsistency_count = 0;
  std::vector<std::string> inconsistencies;   // the first max_listed
  bool ok() const { return inconsistency_count == 0; }
};

// Exports the timeline. Inconsistencies do not stop the export (they are counted, logged as
// warnings, emitted as "inconsistency" events and listed in the report); a Status is returned
// for what makes the export impossible (no shards, an incomplete shard set, unreadable layers,
// local write errors).
Result<ExportReport> Export(Storage& dest, const ExportOptions& opts, EventSink& events);

}  // namespace p2l
