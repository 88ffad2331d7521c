// Neon's servability rules: what a pageserver needs from the keys of one shard to serve a
// basebackup and page requests (issue 15). Used by `verify` (lib/tools/verify.cc) over a full
// scan, and unit-testable without storage: feed the keys/values a shard holds, in ascending key
// order, and the key ranges of its image layers.
//
// Rules (each cites the Neon file, commit 6a35a3e9, that it follows):
//   tablespace  DBDIR entries only for spcnode 1663 and the global (1664, 0); no relation-class
//               key with another spcnode. A timeline whose only violations are these is "not
//               servable by a Neon pageserver" but not corrupt (ServabilityViolation::tablespace).
//   dbdir       each DBDIR database has its RELDIR key and, where DBDIR says so, its relmap key.
//   reldir      every RELDIR relation has its size key; every size key is listed in its RELDIR;
//               no block at or beyond the size.
//   twophase    every TWOPHASEDIR xid has its file key (32-bit xids for PG 14-16, 64-bit for 17)
//               and every file key is listed.
//   slru        (shard 0) SLRU directories agree with the segment size keys, and each segment
//               holds blocks 0..size-1.
//   required    DBDIR, TWOPHASEDIR, CONTROLFILE, CHECKPOINT, the global relmap/RELDIR on every
//               shard; the three SLRU directories on shard 0.
//   coverage    the shard's image layers together cover Key::MIN..Key::MAX at one LSN.
//   disposable  no key the shard must not hold (is_key_disposable).
// Index metadata (LSNs, pg_version, file sizes) is checked by verify.cc against the layers.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "keyspace/keys.h"
#include "keyspace/shard.h"
#include "keyspace/values.h"

namespace p2l {

struct ServabilityViolation {
  std::string rule;          // "tablespace", "dbdir", "reldir", "twophase", "slru", "required", ...
  std::string message;       // names the key(s) and what is wrong
  bool tablespace = false;   // caused by a user tablespace only (servability, not corruption)
};

class ServabilityChecker {
 public:
  ServabilityChecker(const ShardIdentity& shard, uint32_t pg_major);

  // One key the shard holds, with its value; keys arrive in ascending order.
  void AddKey(const Key& k, std::string_view value);
  // One image layer of the shard: [start, end) at lsn. Any order.
  void AddLayer(const Key& start, const Key& end, uint64_t lsn);
  // The violations found (each rule lists at most max_per_rule, then a count of the rest).
  std::vector<ServabilityViolation> Finish(size_t max_per_rule = 20) const;
  // User tablespace OIDs seen in DBDIR or in relation keys.
  const std::set<uint32_t>& user_tablespaces() const { return user_tablespaces_; }

 private:
  void Note(const std::string& rule, std::string msg, bool tablespace = false);

  ShardIdentity shard_;
  uint32_t pg_major_;
  std::vector<ServabilityViolation> found_;
  std::set<uint32_t> user_tablespaces_;

  bool have_dbdir_ = false, have_twophase_dir_ = false, have_control_ = false, have_checkpoint_ = false;
  std::map<std::pair<uint32_t, uint32_t>, bool> dbdir_;              // (spc, db) -> relmap exists
  std::set<std::pair<uint32_t, uint32_t>> relmaps_;                  // relmap keys seen
  std::map<std::pair<uint32_t, uint32_t>, RelDirectory> reldirs_;    // RELDIR values seen
  std::map<RelTag, uint32_t> rel_sizes_;                             // size keys seen
  std::map<RelTag, uint32_t> rel_max_block_;                         // highest block + 1 seen
  std::set<uint64_t> twophase_dir_;                                  // xids in TWOPHASEDIR
  std::set<uint64_t> twophase_files_;                                // xids of file keys
  std::map<uint32_t, std::set<uint32_t>> slru_dirs_;                 // kind -> segments
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> slru_sizes_;     // (kind, seg) -> blocks
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> slru_blocks_;    // (kind, seg) -> blocks seen
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> slru_bad_blocks_;  // blocks not contiguous
  std::vector<std::pair<std::pair<Key, Key>, uint64_t>> layers_;
};

}  // namespace p2l

#include "storage/storage.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

// The cheap check of `status`: the user tablespaces (spcnode not 1663/1664) that the DBDIR value
// of a finished shard lists, read with one B-tree lookup in the layer that holds Key::MIN (DBDIR
// is a global key: every shard has it). Empty = no user tablespace. Errors name the object.
Result<std::set<uint32_t>> DbDirUserTablespaces(Storage& dest, const TenantId& tenant, const TimelineId& timeline,
                                                const ShardIdentity& shard);

}  // namespace p2l
