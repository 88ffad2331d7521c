// The PGDATA walk; see pgdata_walk.h for the rules (keyspace-and-sharding.md §3, §7).
#include "import/pgdata_walk.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <tuple>

#include "import/plan.h"
#include "pg/controlfile.h"
#include "pg/relmap.h"
#include "pg/twophase.h"

namespace p2l {

namespace {

constexpr uint32_t kSlruPagesPerSegment = 32;  // SLRU_PAGES_PER_SEGMENT
constexpr uint32_t kMaxSegno = 32767;           // block numbers are u32: 32768 * 131072 = 2^32
constexpr uint32_t kMaxBlockNumber = 0xFFFFFFFE;  // 0xFFFFFFFF = InvalidBlockNumber (size keys)

std::string_view BaseName(std::string_view name) {
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

enum class Decimal { kNotNumber, kCanonical, kNonCanonical, kOutOfRange };

// Classifies a directory name that may be an OID: ASCII digits with an optional leading '+'
// (Rust's u32 parse accepts both) is a number; canonical = no '+', no leading zero, fits u32.
Decimal ClassifyDecimal(std::string_view s, uint32_t* out) {
  bool plus = false;
  if (!s.empty() && s.front() == '+') {
    plus = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return Decimal::kNotNumber;
  uint64_t v = 0;
  bool overflow = false;
  for (char c : s) {
    if (c < '0' || c > '9') return Decimal::kNotNumber;
    if (!overflow) {
      v = v * 10 + uint64_t(c - '0');
      if (v > UINT32_MAX) overflow = true;
    }
  }
  if (overflow) return Decimal::kOutOfRange;
  *out = uint32_t(v);
  if (plus || (s.size() > 1 && s.front() == '0')) return Decimal::kNonCanonical;
  return Decimal::kCanonical;
}

// Files PostgreSQL keeps in a database directory that are not relation files.
bool IsKnownNonRelationFile(std::string_view base, bool global_dir) {
  if (base == "PG_VERSION" || base == "pg_internal.init" || base == "pg_filenode.map.tmp") return true;
  if (global_dir && base == "pg_control") return true;
  // RelationCacheInitFileWrite's temp file: "pg_internal.init.<pid>".
  constexpr std::string_view kInitTmp = "pg_internal.init.";
  if (base.starts_with(kInitTmp) && base.size() > kInitTmp.size()) {
    std::string_view pid = base.substr(kInitTmp.size());
    return std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  return false;
}

// Temporary relation: "t<backend id>_<relation file name>" (PostgreSQL's relpath for temp rels).
bool IsTempRelationFile(std::string_view base) {
  if (base.size() < 3 || base[0] != 't') return false;
  size_t i = 1;
  while (i < base.size() && base[i] >= '0' && base[i] <= '9') i++;
  if (i == 1 || i >= base.size() || base[i] != '_') return false;
  return ParseRelFileName(base.substr(i + 1)).has_value();
}


std::string DbDesc(const DatabaseDir& db) { return fmt::format("database {}/{}", db.spcnode, db.dbnode); }

class Walker {
 public:
  Walker(Storage& s, const WalkOptions& o) : s_(s), o_(o) {}

  Result<PgdataListing> Run() {
    if (o_.tablespaces_only) {
      P2L_RETURN_IF_ERROR(WalkTablespaces());
      SortDatabases();
      return std::move(out_);
    }
    P2L_RETURN_IF_ERROR(WalkBase());
    {
      DatabaseDir g;
      g.spcnode = kGlobalTablespaceOid;
      g.dbnode = 0;
      g.dir = o_.prefix + "global/";
      P2L_RETURN_IF_ERROR(WalkDatabaseDir(&g, /*relmap_required=*/true, /*global_dir=*/true));
      out_.databases.push_back(std::move(g));
    }
    P2L_RETURN_IF_ERROR(WalkTablespaces());
    SortDatabases();
    if (o_.include_slrus) {
      for (SlruKind kind : {SlruKind::kClog, SlruKind::kMultiXactMembers, SlruKind::kMultiXactOffsets}) {
        P2L_RETURN_IF_ERROR(WalkSlru(kind));
      }
    }
    P2L_RETURN_IF_ERROR(WalkTwoPhase());
    P2L_RETURN_IF_ERROR(WarnNotImported());
    return std::move(out_);
  }

 private:
  void Warn(std::string msg) { out_.warnings.push_back(std::move(msg)); }

  void SortDatabases() {
    std::sort(out_.databases.begin(), out_.databases.end(), [](const DatabaseDir& a, const DatabaseDir& b) {
      return std::tie(a.spcnode, a.dbnode) < std::tie(b.spcnode, b.dbnode);
    });
  }

  // base/<db>/ for every canonical numeric <db>.
  Status WalkBase() {
    const std::string base_dir = o_.prefix + "base/";
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(base_dir));
    for (const ObjectInfo& obj : l.objects) {
      Warn(fmt::format("{}: unexpected file in base/, skipped", s_.Describe(obj.name)));
    }
    P2L_RETURN_IF_ERROR(WalkDatabaseDirs(l.prefixes, kDefaultTablespaceOid, /*in_tablespace=*/false));
    if (out_.databases.empty()) {
      // initdb creates template1 (base/1/) and no cluster can lose its last database.
      return Status::InvalidInput(fmt::format(
          "{}: missing or holds no database directory (every cluster has at least template1, base/1/)",
          s_.Describe(base_dir)));
    }
    return Status::OK();
  }

  Status WalkDatabaseDir(DatabaseDir* db, bool relmap_required, bool global_dir) {
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(db->dir));
    for (const std::string& p : l.prefixes) {
      Warn(fmt::format("{}: unexpected sub-directory in a database directory, skipped", s_.Describe(p)));
    }
    for (const ObjectInfo& obj : l.objects) {
      std::string_view base = BaseName(obj.name);
      if (base == "pg_filenode.map") {
        const uint64_t want = RelmapFileSize(o_.pg_major);
        if (obj.size != want) {
          return Status::InvalidInput(fmt::format("{}: size {} is not the {} bytes of a PostgreSQL {} relation map",
                                                  s_.Describe(obj.name), obj.size, want, o_.pg_major));
        }
        db->relmap = obj;
        continue;
      }
      if (IsKnownNonRelationFile(base, global_dir) || IsTempRelationFile(base)) continue;
      std::optional<RelFileName> r = ParseRelFileName(base);
      if (!r && base.starts_with("+")) {
        // Rust's u32 parse would take "+16384" as 16384 and read a different file.
        std::optional<RelFileName> plus = ParseRelFileName(base.substr(1));
        if (plus) {
          return Status::InvalidInput(fmt::format(
              "{}: non-canonical relation file name (PostgreSQL would name it \"{}\")", s_.Describe(obj.name),
              RelFileNameString(*plus)));
        }
      }
      if (!r) {
        Warn(fmt::format("{}: not a relation file, skipped", s_.Describe(obj.name)));
        continue;
      }
      const std::string canonical = RelFileNameString(*r);
      if (canonical != base) {
        return Status::InvalidInput(fmt::format("{}: non-canonical relation file name (PostgreSQL would name it \"{}\")",
                                                s_.Describe(obj.name), canonical));
      }
      if (r->relnode == 0) {
        return Status::InvalidInput(fmt::format(
            "{}: relation file number 0 is invalid (its keys would collide with the relation map and "
            "relation directory of {})",
            s_.Describe(obj.name), DbDesc(*db)));
      }
      if (obj.size % kBlockSize != 0) {
        return Status::InvalidInput(
            fmt::format("{}: size {} is not a multiple of {}", s_.Describe(obj.name), obj.size, kBlockSize));
      }
      RelSegment seg;
      seg.file = *r;
      seg.object = obj;
      // Sizes above 1 GiB are refused by CheckRelSegments; clamp so the count cannot wrap.
      seg.nblocks = uint32_t(std::min<uint64_t>(obj.size / kBlockSize, uint64_t(kRelSegSize) + 1));
      db->segments.push_back(std::move(seg));
    }
    std::sort(db->segments.begin(), db->segments.end(), [](const RelSegment& a, const RelSegment& b) {
      return std::tie(a.file.relnode, a.file.fork, a.file.segno) < std::tie(b.file.relnode, b.file.fork, b.file.segno);
    });
    P2L_RETURN_IF_ERROR(CheckRelSegments(s_, db->segments));
    if (relmap_required && !db->relmap) {
      return Status::NotFound(fmt::format(
          "{}: not found; every database directory must have its relation map ({})",
          s_.Describe(db->dir + "pg_filenode.map"), DbDesc(*db)));
    }
    return Status::OK();
  }

  // pg_tblspc/<spc>/PG_<major>_<catversion>/<db>/.
  Status WalkTablespaces() {
    const std::string dir = o_.prefix + "pg_tblspc/";
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(dir));
    for (const ObjectInfo& obj : l.objects) {
      Warn(fmt::format("{}: not a tablespace directory (a file, or a link that was not followed), skipped",
                       s_.Describe(obj.name)));
    }
    const std::string version_dir = fmt::format("PG_{}_{}", o_.pg_major, o_.catalog_version);
    for (const std::string& p : l.prefixes) {
      P2L_ASSIGN_OR_RETURN(std::optional<uint32_t> spc, DirOid(p, /*database=*/false));
      if (!spc) continue;
      P2L_ASSIGN_OR_RETURN(Listing vl, s_.List(p));
      WarnUnexpectedTablespaceFiles(vl);
      for (const std::string& vp : vl.prefixes) {
        if (BaseName(vp) != version_dir) {
          Warn(fmt::format("{}: not the tablespace directory of this cluster ({}), ignored", s_.Describe(vp),
                           version_dir));
          continue;
        }
        P2L_RETURN_IF_ERROR(WalkTablespaceVersionDir(*spc, vp));
      }
    }
    return Status::OK();
  }

  Status WalkTablespaceVersionDir(uint32_t spc, const std::string& vdir) {
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(vdir));
    WarnUnexpectedTablespaceFiles(l);
    return WalkDatabaseDirs(l.prefixes, spc, /*in_tablespace=*/true);
  }

  void WarnUnexpectedTablespaceFiles(const Listing& l) {
    for (const ObjectInfo& obj : l.objects) {
      Warn(fmt::format("{}: unexpected file in a tablespace directory, skipped", s_.Describe(obj.name)));
    }
  }

  // The OID named by the directory `p`: a database directory (in base/ or a tablespace version
  // directory) when `database`, else a tablespace (in pg_tblspc/). nullopt when the entry is
  // skipped: a name that is not a number (with a warning; "pgsql_tmp" silently among database
  // directories). Non-canonical and out-of-range numbers are errors, and database OID 0.
  Result<std::optional<uint32_t>> DirOid(const std::string& p, bool database) {
    const std::string_view what = database ? "database" : "tablespace";
    std::string_view name = BaseName(p);
    uint32_t oid = 0;
    switch (ClassifyDecimal(name, &oid)) {
      case Decimal::kNotNumber:
        if (!database || name != "pgsql_tmp") {
          Warn(fmt::format("{}: not {} (name is not an OID), skipped", s_.Describe(p),
                           database ? "a database directory" : "a tablespace"));
        }
        return std::optional<uint32_t>();
      case Decimal::kNonCanonical:
        return Status::InvalidInput(fmt::format(
            "{}: non-canonical {} directory name (PostgreSQL would name it \"{}\")", s_.Describe(p), what, oid));
      case Decimal::kOutOfRange:
        return Status::InvalidInput(fmt::format("{}: {} OID out of range", s_.Describe(p), what));
      case Decimal::kCanonical:
        break;
    }
    if (database && oid == 0) {
      return Status::InvalidInput(fmt::format("{}: database OID 0 is invalid", s_.Describe(p)));
    }
    return std::optional<uint32_t>(oid);
  }

  // The database directories `prefixes` of base/ (spc 1663) or of the version directory of
  // tablespace `spc`. In a tablespace the relation map is optional, a directory with nothing to
  // import is skipped (S3 has no empty directories) and `spc` must be a valid user tablespace.
  Status WalkDatabaseDirs(const std::vector<std::string>& prefixes, uint32_t spc, bool in_tablespace) {
    for (const std::string& p : prefixes) {
      P2L_ASSIGN_OR_RETURN(std::optional<uint32_t> oid, DirOid(p, /*database=*/true));
      if (!oid) continue;
      DatabaseDir db;
      db.spcnode = spc;
      db.dbnode = *oid;
      db.dir = p;
      P2L_RETURN_IF_ERROR(WalkDatabaseDir(&db, /*relmap_required=*/!in_tablespace, /*global_dir=*/false));
      if (in_tablespace) {
        if (!db.relmap && db.segments.empty()) continue;
        if (spc == 0 || spc == kDefaultTablespaceOid || spc == kGlobalTablespaceOid) {
          return Status::InvalidInput(fmt::format("{}: {} is not a valid user tablespace OID", s_.Describe(p), spc));
        }
        P2L_RETURN_IF_ERROR(CheckSpcnode(spc, s_.Describe(p)));
      }
      out_.databases.push_back(std::move(db));
    }
    return Status::OK();
  }

  Status WalkSlru(SlruKind kind) {
    const std::string dir = o_.prefix + SlruKindDir(kind) + "/";
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(dir));
    for (const std::string& p : l.prefixes) {
      Warn(fmt::format("{}: unexpected sub-directory in an SLRU directory, skipped", s_.Describe(p)));
    }
    SlruDir sd;
    sd.kind = kind;
    for (const ObjectInfo& obj : l.objects) {
      std::optional<uint32_t> segno = ParseSlruSegmentName(BaseName(obj.name));
      if (!segno) {
        Warn(fmt::format("{}: not an SLRU segment (name is not hexadecimal), skipped", s_.Describe(obj.name)));
        continue;
      }
      if (obj.size % kBlockSize != 0) {
        return Status::InvalidInput(
            fmt::format("{}: size {} is not a multiple of {}", s_.Describe(obj.name), obj.size, kBlockSize));
      }
      if (obj.size / kBlockSize > kSlruPagesPerSegment) {
        return Status::InvalidInput(fmt::format("{}: SLRU segment has {} pages, more than {}", s_.Describe(obj.name),
                                                obj.size / kBlockSize, kSlruPagesPerSegment));
      }
      SlruSegment seg;
      seg.segno = *segno;
      seg.object = obj;
      seg.nblocks = uint32_t(obj.size / kBlockSize);
      sd.segments.push_back(std::move(seg));
    }
    std::sort(sd.segments.begin(), sd.segments.end(), [](const SlruSegment& a, const SlruSegment& b) {
      return a.segno != b.segno ? a.segno < b.segno : a.object.name < b.object.name;
    });
    for (size_t i = 1; i < sd.segments.size(); i++) {
      if (sd.segments[i].segno == sd.segments[i - 1].segno) {
        return Status::InvalidInput(fmt::format("{}: same SLRU segment number {} as {}",
                                                s_.Describe(sd.segments[i].object.name), sd.segments[i].segno,
                                                s_.Describe(sd.segments[i - 1].object.name)));
      }
    }
    if (sd.segments.empty()) {
      Warn(fmt::format("{}: no SLRU segments (PostgreSQL always keeps at least one)", s_.Describe(dir)));
    }
    out_.slrus.push_back(std::move(sd));
    return Status::OK();
  }

  Status WalkTwoPhase() {
    const std::string dir = o_.prefix + "pg_twophase/";
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(dir));
    for (const std::string& p : l.prefixes) {
      Warn(fmt::format("{}: unexpected sub-directory in pg_twophase/, skipped", s_.Describe(p)));
    }
    for (const ObjectInfo& obj : l.objects) {
      std::optional<uint64_t> xid = ParseTwoPhaseFileName(BaseName(obj.name), o_.pg_major);
      if (!xid) {
        Warn(fmt::format("{}: not a PostgreSQL {} two-phase state file name, skipped", s_.Describe(obj.name),
                         o_.pg_major));
        continue;
      }
      if (*xid == 0) {
        return Status::InvalidInput(
            fmt::format("{}: transaction id 0 is invalid for a prepared transaction", s_.Describe(obj.name)));
      }
      if (obj.size > kMaxObjectValue) {
        return Status::InvalidInput(fmt::format("{}: size {} is larger than the {} bytes allowed for a two-phase state file",
                                                s_.Describe(obj.name), obj.size, kMaxObjectValue));
      }
      out_.twophase.push_back(TwoPhaseFile{*xid, obj});
    }
    std::sort(out_.twophase.begin(), out_.twophase.end(),
              [](const TwoPhaseFile& a, const TwoPhaseFile& b) { return a.xid < b.xid; });
    return Status::OK();
  }

  // One warning per directory whose contents Neon's key space has no key for, when it holds
  // anything (docs/import-contents.md "Dropped with a warning").
  Status WarnNotImported() {
    P2L_RETURN_IF_ERROR(WarnIfNotEmpty("pg_replslot/", "replication slot", "replication slots",
                                       "(the pageserver keeps no replication slots); recreate them after attaching"));
    P2L_RETURN_IF_ERROR(WarnIfNotEmpty(
        "pg_commit_ts/", "commit timestamp segment", "commit timestamp segments",
        "(Neon's key space has no key for commit timestamps); pg_xact_commit_timestamp() returns NULL for "
        "transactions committed before the import"));
    return WarnLogicalNotImported();
  }

  // "<dir>: N <nouns> is/are not imported <why>" when <prefix><dir> has any entry.
  Status WarnIfNotEmpty(std::string_view dir, std::string_view noun, std::string_view nouns, std::string_view why) {
    const std::string path = o_.prefix + std::string(dir);
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(path));
    const size_t n = l.prefixes.size() + l.objects.size();
    if (n > 0) {
      Warn(fmt::format("{}: {} {} not imported {}", s_.Describe(path), Count(n, noun, nouns), n == 1 ? "is" : "are",
                       why));
    }
    return Status::OK();
  }

  // pg_logical/: replorigin_checkpoint (magic, 16 bytes per replication origin, CRC: 8 bytes
  // when there is none, as PostgreSQL writes at every checkpoint), snapshots/, mappings/.
  Status WarnLogicalNotImported() {
    const std::string dir = o_.prefix + "pg_logical/";
    P2L_ASSIGN_OR_RETURN(Listing l, s_.List(dir));
    std::vector<std::string> parts;
    size_t other = l.prefixes.size();
    for (const ObjectInfo& obj : l.objects) {
      if (BaseName(obj.name) == "replorigin_checkpoint" && obj.size >= 8) {
        if (uint64_t origins = (obj.size - 8) / 16; origins > 0) {
          parts.push_back(Count(origins, "replication origin", "replication origins"));
        }
      } else {
        other++;
      }
    }
    for (std::string_view sub : {"snapshots", "mappings"}) {
      const std::string subdir = dir + std::string(sub) + "/";
      if (std::find(l.prefixes.begin(), l.prefixes.end(), subdir) == l.prefixes.end()) continue;
      other--;
      P2L_ASSIGN_OR_RETURN(Listing sl, s_.List(subdir));
      if (size_t n = sl.prefixes.size() + sl.objects.size(); n > 0) {
        parts.push_back(sub == "snapshots" ? Count(n, "logical decoding snapshot", "logical decoding snapshots")
                                           : Count(n, "logical rewrite mapping", "logical rewrite mappings"));
      }
    }
    if (other > 0) parts.push_back(Count(other, "other entry", "other entries"));
    if (parts.empty()) return Status::OK();
    Warn(fmt::format("{}: logical replication state ({}) is not imported (Neon's import writes no replication origin "
                     "or logical replication keys); recreate replication origins and subscriptions after attaching",
                     s_.Describe(dir), fmt::join(parts, ", ")));
    return Status::OK();
  }

  static std::string Count(uint64_t n, std::string_view noun, std::string_view nouns) {
    return fmt::format("{} {}", n, n == 1 ? noun : nouns);
  }

  Storage& s_;
  const WalkOptions& o_;
  PgdataListing out_;
};

}  // namespace

std::string ForkName(uint8_t fork) {
  switch (fork) {
    case kMainFork: return "main";
    case kFsmFork: return "fsm";
    case kVmFork: return "vm";
    case kInitFork: return "init";
    default: return fmt::format("fork {}", unsigned(fork));
  }
}

Status CheckRelSegments(Storage& source, const std::vector<RelSegment>& sorted) {
  // Names first (segment numbers in range, no gap), so a stray "16384.40000" or "16384.2" is
  // reported as such rather than as a short segment 0 in front of it.
  for (size_t i = 0; i < sorted.size(); i++) {
    const RelFileName& f = sorted[i].file;
    const std::string where = source.Describe(sorted[i].object.name);
    if (f.segno > kMaxSegno) {
      return Status::InvalidInput(fmt::format(
          "{}: segment number {} is out of range (a relation has at most {} segments, 0..{})", where, f.segno,
          kMaxSegno + 1, kMaxSegno));
    }
    const bool same_fork_as_prev =
        i > 0 && sorted[i - 1].file.relnode == f.relnode && sorted[i - 1].file.fork == f.fork;
    const uint32_t expected = same_fork_as_prev ? sorted[i - 1].file.segno + 1 : 0;
    if (f.segno != expected) {
      return Status::InvalidInput(fmt::format("{}: segment {} of relation {} ({} fork) is missing", where, expected,
                                              f.relnode, ForkName(f.fork)));
    }
  }
  for (size_t i = 0; i < sorted.size(); i++) {
    const RelSegment& seg = sorted[i];
    const RelFileName& f = seg.file;
    const std::string where = source.Describe(seg.object.name);
    const std::string rel = fmt::format("relation {} ({} fork)", f.relnode, ForkName(f.fork));
    if (seg.nblocks > kRelSegSize || seg.object.size > uint64_t(kRelSegSize) * kBlockSize) {
      return Status::InvalidInput(fmt::format("{}: segment {} of {} has {} blocks, more than {} (1 GiB)", where,
                                              f.segno, rel, seg.object.size / kBlockSize, kRelSegSize));
    }
    const uint64_t end = uint64_t(f.segno) * kRelSegSize + seg.nblocks;   // exclusive
    if (end > uint64_t(kMaxBlockNumber) + 1) {
      return Status::InvalidInput(fmt::format(
          "{}: segment {} of {} with {} blocks would reach block number {}, which is not a valid block number",
          where, f.segno, rel, seg.nblocks, end - 1));
    }
    const bool last = i + 1 == sorted.size() || sorted[i + 1].file.relnode != f.relnode ||
                      sorted[i + 1].file.fork != f.fork;
    if (!last && seg.nblocks != kRelSegSize) {
      return Status::InvalidInput(fmt::format(
          "{}: segment {} of {} has {} blocks but is not the last segment; every segment but the last must have "
          "exactly {} blocks (1 GiB)",
          where, f.segno, rel, seg.nblocks, kRelSegSize));
    }
  }
  return Status::OK();
}

Result<PgdataListing> WalkPgdata(Storage& source, const WalkOptions& opts) {
  Walker w(source, opts);
  return w.Run();
}

}  // namespace p2l
