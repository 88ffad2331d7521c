// Neon's servability rules (see servability.h). Written from the format as Neon's pageserver
// reads it at commit 6a35a3e9; each rule names the Neon file it follows.
#include "tools/servability.h"

#include <fmt/format.h>

#include <algorithm>

#include "keyspace/values.h"
#include "tools/describe.h"
#include "tools/timeline_reader.h"

namespace p2l {

namespace {

std::string KeyText(const Key& k) { return fmt::format("{} ({})", k.ToHex(), DescribeKey(k)); }

bool IsUserSpc(uint32_t spc) { return spc != kDefaultTablespaceOid && spc != kGlobalTablespaceOid; }

std::string RelText(const RelTag& t) { return fmt::format("{}/{}/{} fork {}", t.spcnode, t.dbnode, t.relnode, t.forknum); }

}  // namespace

ServabilityChecker::ServabilityChecker(const ShardIdentity& shard, uint32_t pg_major)
    : shard_(shard), pg_major_(pg_major) {}

void ServabilityChecker::Note(const std::string& rule, std::string msg, bool tablespace) {
  found_.push_back({rule, std::move(msg), tablespace});
}

void ServabilityChecker::AddKey(const Key& k, std::string_view v) {
  const std::string what = k.ToHex();
  // Neon: libs/pageserver_api/src/shard.rs (is_key_disposable).
  if (shard_.IsKeyDisposable(k)) Note("disposable", fmt::format("key {} belongs to another shard", KeyText(k)));

  if (k == kDbDirKey) {
    have_dbdir_ = true;
    auto d = DbDirectory::Decode(v, what);
    if (!d.ok()) return;  // verify.cc reports undecodable values
    dbdir_ = d->dbs;
    // Neon: pageserver/src/basebackup.rs (add_dbdir: spcnode != DEFAULTTABLESPACE_OID fails).
    for (const auto& [sd, relmap] : dbdir_) {
      const auto [spc, db] = sd;
      if (spc == kGlobalTablespaceOid && db == 0) continue;
      if (spc == kDefaultTablespaceOid) continue;
      user_tablespaces_.insert(spc);
      Note("tablespace", fmt::format("DBDIR lists database {} in tablespace {} (spcnode is not 1663): a Neon "
                                     "basebackup fails on it", db, spc), true);
    }
    return;
  }
  if (k.field1 == 0x00) {
    // Neon: libs/pageserver_api/src/key.rs (is_valid_key_on_write_path_strong: spcnode 1663/1664).
    if (IsUserSpc(k.field2)) {
      if (!user_tablespaces_.count(k.field2) || IsRelDirKey(k)) {
        Note("tablespace", fmt::format("key {} is in user tablespace {}", KeyText(k), k.field2), true);
      }
      user_tablespaces_.insert(k.field2);
    }
    const std::pair<uint32_t, uint32_t> sd{k.field2, k.field3};
    if (IsRelmapFileKey(k)) {
      relmaps_.insert(sd);
    } else if (IsRelDirKey(k)) {
      auto d = RelDirectory::Decode(v, what);
      if (d.ok()) reldirs_[sd] = std::move(*d);
    } else if (IsRelSizeKey(k)) {
      auto n = DecodeRelSize(v, what);
      if (n.ok()) rel_sizes_[RelTag{k.field2, k.field3, k.field4, k.field5}] = *n;
    } else if (IsRelBlockKey(k)) {
      uint32_t& m = rel_max_block_[RelTag{k.field2, k.field3, k.field4, k.field5}];
      m = std::max(m, k.field6 + 1);
    }
    return;
  }
  if (k.field1 == 0x01) {
    const std::pair<uint32_t, uint32_t> ks{k.field2, k.field4};
    if (IsSlruDirKey(k)) {
      auto d = SlruSegmentDirectory::Decode(v, what);
      if (d.ok()) slru_dirs_[k.field2] = d->segments;
    } else if (IsSlruSegmentSizeKey(k)) {
      auto n = DecodeSlruSegmentSize(v, what);
      if (n.ok()) slru_sizes_[ks] = *n;
    } else if (IsSlruBlockKey(k)) {
      uint32_t& seen = slru_blocks_[ks];
      if (k.field6 != seen) slru_bad_blocks_[ks]++;
      seen++;
    }
    return;
  }
  if (k == kTwoPhaseDirKey) {
    have_twophase_dir_ = true;
    // Neon: pageserver/src/pgdatadir_mapping.rs (TwoPhaseDirectory for 14-16, V17 with u64 xids).
    if (pg_major_ >= 17) {
      auto d = TwoPhaseDirectoryV17::Decode(v, what);
      if (d.ok()) twophase_dir_.insert(d->xids.begin(), d->xids.end());
    } else {
      auto d = TwoPhaseDirectory::Decode(v, what);
      if (d.ok()) twophase_dir_.insert(d->xids.begin(), d->xids.end());
    }
    return;
  }
  if (IsTwoPhaseFileKey(k)) {
    const uint64_t xid = (uint64_t(k.field4) << 40) | (uint64_t(k.field5) << 32) | k.field6;
    // Neon: libs/pageserver_api/src/key.rs (twophase_file_key: 32-bit xid before PG 17).
    if (pg_major_ < 17 && (k.field4 != 0 || k.field5 != 0)) {
      Note("twophase", fmt::format("key {} has a 64-bit xid, PostgreSQL {} uses 32-bit two-phase keys", KeyText(k), pg_major_));
    }
    twophase_files_.insert(xid);
    return;
  }
  if (k == kControlFileKey) have_control_ = true;
  if (k == kCheckpointKey) have_checkpoint_ = true;
}

void ServabilityChecker::AddLayer(const Key& start, const Key& end, uint64_t lsn) {
  layers_.push_back({{start, end}, lsn});
}

std::vector<ServabilityViolation> ServabilityChecker::Finish(size_t max_per_rule) const {
  std::vector<ServabilityViolation> v = found_;
  auto note = [&](const std::string& rule, std::string msg) { v.push_back({rule, std::move(msg), false}); };

  // Neon: pageserver/src/basebackup.rs (send_tarball reads DBDIR, TWOPHASEDIR, CONTROLFILE, CHECKPOINT).
  if (!have_dbdir_) note("required", fmt::format("key {} is missing", KeyText(kDbDirKey)));
  if (!have_twophase_dir_) note("required", fmt::format("key {} is missing", KeyText(kTwoPhaseDirKey)));
  if (!have_control_) note("required", fmt::format("key {} is missing", KeyText(kControlFileKey)));
  if (!have_checkpoint_) note("required", fmt::format("key {} is missing", KeyText(kCheckpointKey)));
  if (have_dbdir_ && !dbdir_.count({kGlobalTablespaceOid, 0})) note("dbdir", "DBDIR has no global (1664, 0) entry");

  // Neon: pageserver/src/basebackup.rs (add_dbdir: relmap file when DBDIR says so, rel directory).
  for (const auto& [sd, relmap] : dbdir_) {
    const auto [spc, db] = sd;
    if (!reldirs_.count(sd)) {
      note("dbdir", fmt::format("DBDIR database {}/{} has no RELDIR key {}", spc, db, KeyText(RelDirKey(spc, db))));
    }
    if (relmap && !relmaps_.count(sd)) {
      note("dbdir", fmt::format("DBDIR says database {}/{} has a relmap file, key {} is missing", spc, db,
                                KeyText(RelmapFileKey(spc, db))));
    }
  }
  // Neon: pageserver/src/pgdatadir_mapping.rs (list_rels / get_rel_size need the size key).
  for (const auto& [sd, dir] : reldirs_) {
    if (have_dbdir_ && !dbdir_.count(sd)) {
      note("reldir", fmt::format("RELDIR key {} is for a database DBDIR does not list", KeyText(RelDirKey(sd.first, sd.second))));
    }
    for (const auto& [rel, fork] : dir.rels) {
      RelTag t{sd.first, sd.second, rel, fork};
      if (!rel_sizes_.count(t)) note("reldir", fmt::format("relation {} is in RELDIR but has no size key {}", RelText(t), KeyText(RelSizeKey(t))));
    }
  }
  for (const auto& [t, n] : rel_sizes_) {
    auto d = reldirs_.find({t.spcnode, t.dbnode});
    if (d == reldirs_.end() || !d->second.rels.count({t.relnode, t.forknum})) {
      note("reldir", fmt::format("size key {} is for a relation its RELDIR does not list", KeyText(RelSizeKey(t))));
    }
  }
  for (const auto& [t, m] : rel_max_block_) {
    auto s = rel_sizes_.find(t);
    if (s == rel_sizes_.end()) {
      note("reldir", fmt::format("relation {} has blocks but no size key", RelText(t)));
    } else if (m > s->second) {
      note("reldir", fmt::format("relation {} has block {} at or beyond its size {}", RelText(t), m - 1, s->second));
    }
  }
  // Neon: pageserver/src/basebackup.rs (add_twophase_file for each TWOPHASEDIR xid).
  for (uint64_t x : twophase_dir_) {
    if (!twophase_files_.count(x)) note("twophase", fmt::format("TWOPHASEDIR lists xid {}, its file key {} is missing", x, KeyText(TwoPhaseFileKey(x))));
  }
  for (uint64_t x : twophase_files_) {
    if (!twophase_dir_.count(x)) note("twophase", fmt::format("two-phase file key {} is not listed in TWOPHASEDIR", KeyText(TwoPhaseFileKey(x))));
  }
  // Neon: pageserver/src/basebackup.rs (SLRU segments from the directory, size then blocks);
  // SLRUs live on shard 0 only (libs/pageserver_api/src/shard.rs).
  if (shard_.number == 0) {
    for (uint32_t kind = 0; kind < kSlruKindCount; kind++) {
      auto d = slru_dirs_.find(kind);
      if (d == slru_dirs_.end()) {
        note("required", fmt::format("key {} is missing", KeyText(SlruDirKey(SlruKind(kind)))));
        continue;
      }
      for (uint32_t seg : d->second) {
        auto s = slru_sizes_.find({kind, seg});
        if (s == slru_sizes_.end()) {
          note("slru", fmt::format("{} segment {:04X} is in its directory but has no size key {}", SlruKindDir(SlruKind(kind)), seg,
                                   KeyText(SlruSegmentSizeKey(SlruKind(kind), seg))));
          continue;
        }
        auto b = slru_blocks_.find({kind, seg});
        const uint32_t have = b == slru_blocks_.end() ? 0 : b->second;
        if (have != s->second || slru_bad_blocks_.count({kind, seg})) {
          note("slru", fmt::format("{} segment {:04X} has size {} blocks but holds {} block keys{}", SlruKindDir(SlruKind(kind)), seg,
                                   s->second, have, slru_bad_blocks_.count({kind, seg}) ? " (not 0..size-1)" : ""));
        }
      }
    }
    for (const auto& [ks, n] : slru_sizes_) {
      auto d = slru_dirs_.find(ks.first);
      if (d == slru_dirs_.end() || !d->second.count(ks.second)) {
        note("slru", fmt::format("SLRU size key {} is for a segment its directory does not list",
                                 KeyText(SlruSegmentSizeKey(SlruKind(ks.first), ks.second))));
      }
    }
  }
  // Neon: pageserver/src/tenant/timeline.rs reads through image layers; an import must cover
  // the whole key space at one LSN (libs/pageserver_api/src/key.rs Key::MIN..Key::MAX).
  if (!layers_.empty()) {
    auto ls = layers_;
    std::sort(ls.begin(), ls.end());
    Key at = Key::Min();
    for (const auto& [r, lsn] : ls) {
      if (lsn != ls.front().second) note("coverage", fmt::format("layers are at different LSNs ({:X} and {:X})", ls.front().second, lsn));
      if (at < r.first) note("coverage", fmt::format("no image layer covers keys {}..{}", at.ToHex(), r.first.ToHex()));
      if (at < r.second) at = r.second;
    }
    if (at < Key::Max()) note("coverage", fmt::format("no image layer covers keys {}..{}", at.ToHex(), Key::Max().ToHex()));
  } else {
    note("coverage", "no image layer: keys MIN..MAX are not covered");
  }

  // At most max_per_rule per rule.
  std::vector<ServabilityViolation> out;
  std::map<std::string, size_t> n;
  for (auto& x : v) {
    if (++n[x.rule] <= max_per_rule) out.push_back(std::move(x));
  }
  for (const auto& [rule, c] : n) {
    if (c > max_per_rule) {
      bool ts = rule == "tablespace";
      out.push_back({rule, fmt::format("... and {} more {} violations", c - max_per_rule, rule), ts});
    }
  }
  return out;
}

// Neon: pageserver/src/basebackup.rs (DBDIR is the list of databases a basebackup sends).
Result<std::set<uint32_t>> DbDirUserTablespaces(Storage& dest, const TenantId& tenant, const TimelineId& timeline,
                                                const ShardIdentity& shard) {
  P2L_ASSIGN_OR_RETURN(ShardTimeline tl, LoadShardTimeline(dest, tenant, timeline, shard));
  for (const LayerRef& l : tl.layers) {
    if (kDbDirKey < l.parsed.key_start || !(kDbDirKey < l.parsed.key_end)) continue;
    P2L_ASSIGN_OR_RETURN(auto reader, OpenLayer(dest, l));
    P2L_ASSIGN_OR_RETURN(std::optional<std::string> v, reader->Get(kDbDirKey));
    if (!v) break;
    P2L_ASSIGN_OR_RETURN(DbDirectory d, DbDirectory::Decode(*v, dest.Describe(l.object) + ": DBDIR value"));
    std::set<uint32_t> out;
    for (const auto& [sd, relmap] : d.dbs) {
      if (IsUserSpc(sd.first)) out.insert(sd.first);
    }
    return out;
  }
  return Status::InvalidInput(fmt::format("{}: no layer holds the DBDIR key {}", dest.Describe(tl.index_object.object),
                                          kDbDirKey.ToHex()));
}

}  // namespace p2l
