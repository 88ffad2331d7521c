// The PGDATA walk: lists the source through the Storage interface only (one level per List call,
// so it works the same on a local directory, S3 and Azure) and returns everything the plan needs,
// validated. keyspace-and-sharding.md §3; the differences from Neon's import (flow.rs) are
// deliberate and listed here.
//
// What is read (names relative to <prefix>, "" or "pgdata/"):
//   base/<db>/            databases of spc 1663. <db> must be a canonical decimal u32 other than
//                         0; "pgsql_tmp" is ignored silently, other non-numeric names with a
//                         warning; non-canonical numbers ("05", "+5") are an error. A missing
//                         or empty base/ is an error (every cluster has template1, base/1/).
//   global/               the database (1664, 0).
//   pg_tblspc/<spc>/PG_<major>_<catversion>/<db>/
//                         relation files of user tablespace <spc> (Neon drops them silently;
//                         whether the plan refuses, skips or keeps them is BuildPlan's decision,
//                         plan.h TablespaceMode: the walk always lists them).
//                         <spc> must be a canonical decimal OID, 1 <= spc <= 0xFFFF (the
//                         pageserver keeps 16 bits of spcnode: larger OIDs are an error once the
//                         tablespace holds data of this version) and not 1663/1664. Version
//                         directories of other PostgreSQL versions: warning, ignored.
//   pg_xact/, pg_multixact/members/, pg_multixact/offsets/
//                         SLRU segments, only when `include_slrus` (shard number 0).
//   pg_twophase/          prepared transactions (Neon drops them silently).
//
// Database directories (base/<db>/, global/, tablespace <db>/):
//   * pg_filenode.map: required in base/<db>/ and global/ (kNotFound otherwise); optional in a
//     tablespace database directory (present only when it is the database's default tablespace).
//     Its size must be 512 bytes (PG 14/15) or 524 bytes (PG 16/17).
//   * relation files "<relnode>[_fsm|_vm|_init][.<segno>]" (pg/relfile.h). Errors: a name that is
//     not the canonical spelling ("016384", "16384.0", "+16384"), relnode 0, a size that is not a
//     multiple of 8192, a segment larger than 131072 blocks, segno >= 32768 or a segment whose
//     blocks would reach block number 0xFFFFFFFF, a fork whose segments are not exactly 0..n
//     (a missing segment), a non-last segment with fewer than 131072 blocks.
//   * ignored silently: temporary relations ("t<backend>_<relation file name>") and the files
//     PostgreSQL keeps there: PG_VERSION, pg_internal.init (and its "pg_internal.init.<pid>" temp
//     files), pg_filenode.map.tmp, and global/pg_control (read separately).
//   * anything else (unknown files, sub-directories): a warning, skipped. Unknown files are not
//     errors because tools and file systems leave harmless files behind (.DS_Store, lost+found);
//     they are listed in the warnings so nothing disappears unnoticed.
//   Segments are sorted numerically by (relnode, fork, segno) ("16384.10" after "16384.9").
// SLRU directories: names parse as u32::from_str_radix(name, 16); others are skipped with a
//   warning. Two names for the same segment number ("0000", "000") are an error. Each segment's
//   size must be a multiple of 8192 and at most 32 pages (SLRU_PAGES_PER_SEGMENT).
// pg_twophase/: names as PostgreSQL `pg_major` writes them (pg/twophase.h: 8 hex digits for PG
//   14-16, 16 for PG 17); other names: warning, skipped. xid 0 is an error. A file larger than
//   kMaxObjectValue (plan.h; the limit the job applies) is an error. Its contents (magic, length,
//   CRC: pg/twophase.h) and relation maps' (pg/relmap.h) are checked when the job reads them.
// Sub-directories of SLRU and pg_twophase directories: warning, skipped.
// Not imported, but one warning each when not empty (Neon's key space has no key for them; Neon
//   drops them silently): pg_replslot/ (counts entries = slots), pg_commit_ts/ (entries),
//   pg_logical/ (replication origins = (size of replorigin_checkpoint - 8) / 16, entries of
//   snapshots/ and mappings/, other entries). docs/import-contents.md "Dropped with a warning".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/keys.h"
#include "pg/relfile.h"
#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

struct RelSegment {
  RelFileName file;      // relnode, fork, segno
  ObjectInfo object;     // name relative to the source root (includes the pgdata prefix)
  uint32_t nblocks = 0;  // object.size / 8192
};

struct DatabaseDir {
  uint32_t spcnode = 0;
  uint32_t dbnode = 0;
  std::string dir;                   // "<prefix>base/5/", "<prefix>global/", "<prefix>pg_tblspc/..."
  std::optional<ObjectInfo> relmap;  // pg_filenode.map
  std::vector<RelSegment> segments;  // sorted by (relnode, fork, segno), checked
};

struct SlruSegment {
  uint32_t segno = 0;
  ObjectInfo object;
  uint32_t nblocks = 0;
};

struct SlruDir {
  SlruKind kind = SlruKind::kClog;
  std::vector<SlruSegment> segments;   // sorted by segno
};

struct TwoPhaseFile {
  uint64_t xid = 0;      // 32-bit xid (PG 14-16) or FullTransactionId (PG 17)
  ObjectInfo object;
};

struct PgdataListing {
  std::vector<DatabaseDir> databases;   // sorted by (spcnode, dbnode)
  std::vector<SlruDir> slrus;           // Clog, MultiXactMembers, MultiXactOffsets; empty if not listed
  std::vector<TwoPhaseFile> twophase;   // sorted by xid
  std::vector<std::string> warnings;    // skipped entries, one sentence each
};

struct WalkOptions {
  std::string prefix;          // "" or "pgdata/"
  int pg_major = 0;            // 14..17, from pg_control
  uint32_t catalog_version = 0;
  bool include_slrus = true;   // shard number 0 only
  // Only pg_tblspc/ (PreflightSource): databases holds the tablespace databases only.
  bool tablespaces_only = false;
};

Result<PgdataListing> WalkPgdata(Storage& source, const WalkOptions& opts);

// Building blocks, exposed for tests.

// "main", "fsm", "vm", "init" (or "fork N").
std::string ForkName(uint8_t fork);
// Checks the segments of one database directory, sorted by (relnode, fork, segno): contiguity
// 0..n, full non-last segments, segno and block-number limits. Errors name the object.
Status CheckRelSegments(Storage& source, const std::vector<RelSegment>& sorted);

}  // namespace p2l
