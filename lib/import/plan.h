// The import plan: what to read from the source and which image layer each job writes.
// Built from the source listing and pg_control only (pure and deterministic: the same source and
// options give the same plan, byte for byte). keyspace-and-sharding.md §3 (PGDATA walk), §5 (plan).
//
// Keys and order are those of §3.6, with these deliberate differences from Neon's import
// (flow.rs), which drops data silently or accepts broken input (details in pgdata_walk.h):
//   * user tablespaces (pg_tblspc/<spc>/PG_<major>_<catversion>/<db>/): PlanOptions::tablespaces
//     decides (TablespaceMode). refuse (the default): BuildPlan fails with kInvalidInput naming
//     every user tablespace that holds data (RefuseTablespaces), because a Neon pageserver fails
//     every basebackup of a timeline whose DBDIR has a spcnode other than 1663 (basebackup.rs,
//     add_dbdir). skip: nothing under pg_tblspc/ is planned (the plan equals that of the same
//     PGDATA without its tablespace directories) and ImportPlan::skipped_relations lists every
//     relation left out. keep: imported with spcnode = <spc>: DbDirectory gets (spc, db) -> false
//     (true if that directory holds the database's pg_filenode.map, then also its relmap key),
//     plus a RelDirectory key and the relation keys of (spc, db). spc > 0xFFFF is an error
//     (16-bit spcnode in the pageserver). The mode is not part of the fingerprint: keep plans
//     exactly what earlier versions planned, skip plans what the smaller PGDATA gives.
//   * prepared transactions (pg_twophase/) are imported: twophase_file_key(xid) -> the state
//     file verbatim (kObjectValue), and TWOPHASEDIR_KEY lists the xids (PG 17: u64
//     FullTransactionIds, TwoPhaseDirectoryV17; PG 14-16: u32). Like every class-02 key,
//     ShardIdentity::IsKeyGlobal() says they are global, so every shard writes them.
//   * strictness: a relation file whose size is not a multiple of 8192, relnode 0, non-canonical
//     names, missing/short middle segments, segno >= 32768, SLRU segments of more than 32 pages,
//     a pg_filenode.map of the wrong size and a cluster not cleanly shut down are errors.
//     Unknown files are skipped with a warning in ImportPlan::warnings (never silently), except
//     temp relations and PostgreSQL's own PG_VERSION/pg_internal.init/pg_filenode.map.tmp.
// Job split: exactly §5.2 (greedy over key-sorted tasks, per-shard page counts, single keys
// count 8192 bytes); job ranges are contiguous from Key::Min() to Key::Max(), numbered from 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/key.h"
#include "keyspace/shard.h"
#include "pg/controlfile.h"
#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

// The largest source object the import reads whole into one value (relation maps, two-phase
// state files): planning refuses a larger one, so `plan` and `import` apply the same limit.
inline constexpr uint64_t kMaxObjectValue = 64ull << 20;

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

  // Keys this job writes on its shard (sum of tasks' local_pages).
  uint64_t LocalPages() const;
  // True when the job writes no key on this shard (no layer file for it).
  bool EmptyForShard() const { return LocalPages() == 0; }
};

// Format version of the plan and its fingerprint encoding (fingerprint.h). Bump when the plan
// for the same source and options changes (task kinds, key set, sizing).
inline constexpr uint32_t kPlanFormatVersion = 1;

inline constexpr uint64_t kDefaultSoftSizeLimit = 256ull << 20;
// Smaller limits are refused (kUsage): the first task (DBDIR, 8192 bytes) must fit a job.
inline constexpr uint64_t kMinSoftSizeLimit = 8192;

// What to do with user tablespaces (see the header comment). Default refuse.
enum class TablespaceMode { kRefuse, kSkip, kKeep };
// "refuse" / "skip" / "keep".
const char* TablespaceModeName(TablespaceMode m);
// Parses a --tablespaces value; anything else is kUsage naming the flag and the three values.
Result<TablespaceMode> ParseTablespaceMode(std::string_view text);

// One user tablespace of the source that holds data of this cluster's version directory.
struct UserTablespace {
  uint32_t oid = 0;
  std::string location;              // symbolic link target on a local source; "" = unknown
  std::string directory;             // that target resolved (realpath); "" = unknown
  std::vector<uint32_t> databases;   // databases with a directory holding data in it, ascending
  uint64_t relations = 0;            // distinct (database, relfilenode) pairs
  uint64_t bytes = 0;                // sum of relation file (and relation map) sizes
};

// One relation (all its forks) of a user tablespace that `skip` leaves out.
struct SkippedRelation {
  uint32_t spcnode = 0, dbnode = 0, relnode = 0;
  std::vector<std::string> forks;    // "main", "fsm", "vm", "init", in fork order
  uint64_t bytes = 0;                // sum of its segment sizes
};

struct PlanOptions {
  TablespaceMode tablespaces = TablespaceMode::kRefuse;
  ShardIdentity shard;
  uint64_t soft_size_limit = kDefaultSoftSizeLimit;   // bytes, as Neon's import_job_soft_size_limit
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
  std::vector<std::string> warnings;        // e.g. skipped files, for the log (BuildPlan does not log)
  TablespaceMode tablespace_mode = TablespaceMode::kRefuse;
  std::vector<UserTablespace> tablespaces;          // user tablespaces holding data, by OID
  std::vector<SkippedRelation> skipped_relations;   // skip mode: every relation left out

  // xxHash64 of a canonical encoding of jobs, key ranges, source object names/sizes/versions,
  // shard identity and soft size limit. Equal fingerprints = same work. See fingerprint.h.
  uint64_t Fingerprint() const;
  uint64_t TotalEstimatedBytes() const;
  uint64_t TotalLocalPages() const;
  size_t TaskCount() const;
};

// Detects the layout of `source` ("<root>/pgdata/global/pg_control" = Neon bucket layout, else
// "<root>/global/pg_control" = plain PGDATA), reads and checks pg_control, walks the PGDATA and
// returns the plan for `opts.shard`.
Result<ImportPlan> BuildPlan(Storage& source, const PlanOptions& opts);

// The checks an import makes before it writes anything (no ids used, no lease, no object):
// source layout, pg_control (PostgreSQL 14-17 only, clean shutdown unless allowed) and, in
// refuse and keep modes, the user tablespaces (listing pg_tblspc/ only; keep: no two links to one
// directory). The same decisions as BuildPlan.
// `*refused` is set when the failure is one of the two refusals (version, tablespaces), which
// the import does not publish as a failed import (it never started).
Status PreflightSource(Storage& source, const PlanOptions& opts, bool* refused);

// Steps of BuildPlan, exposed for tests.
struct PgdataListing;  // import/pgdata_walk.h
// The user tablespaces of `listing` (spcnode other than 1663/1664), by OID. `source` resolves
// the locations (symbolic link targets) when it is local.
std::vector<UserTablespace> SummarizeTablespaces(const PgdataListing& listing, Storage& source,
                                                 const std::string& pgdata_prefix);
// The relations of the user tablespaces of `listing`, in (spc, db, relnode) order.
std::vector<SkippedRelation> TablespaceRelations(const PgdataListing& listing);
// Applies `mode` to `listing`: refuse with user tablespaces -> kInvalidInput (the message names
// each one, the remedy and the other modes); skip -> their databases are removed from `listing`;
// keep or no user tablespace -> unchanged.
Status ApplyTablespaceMode(TablespaceMode mode, const std::vector<UserTablespace>& tablespaces,
                           std::string_view source_url, PgdataListing* listing);
// One line per skipped relation, for the log.
std::string SkippedRelationText(const SkippedRelation& r);
// The tasks of §3.6 (plus tablespaces and two-phase files) for `listing`, in key order, with
// local_pages set for `opts.shard`. SLRU tasks only if the listing has SLRUs (shard number 0).
std::vector<ImportTask> BuildTasks(const ControlFile& control, const PgdataListing& listing,
                                   const PlanOptions& opts);
// §5.2: stable-sorts `tasks` by (start, end) and splits them greedily into jobs of at most
// `soft_size_limit` estimated bytes (a single larger task gets a job of its own).
std::vector<ImportJob> SplitIntoJobs(std::vector<ImportTask> tasks, uint64_t soft_size_limit);

}  // namespace p2l
