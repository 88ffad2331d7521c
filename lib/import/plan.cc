// The import plan (keyspace-and-sharding.md §3.6 key set, §5.1 tasks, §5.2 job split); see plan.h.
#include "import/plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include "import/listing_prefetch.h"
#include "import/pgdata_walk.h"
#include "import/source_layout.h"
#include "keyspace/keys.h"
#include "keyspace/values.h"

namespace p2l {

namespace {

constexpr uint32_t kM32 = 0xFFFFFFFF;

uint64_t SatAdd(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

// §5.2 task_size: page_count * 8192, or "infinite" when page_count is not computable.
uint64_t TaskSize(const ImportTask& t) {
  return t.local_pages == kM32 ? UINT64_MAX : uint64_t(t.local_pages) * kBlockSize;
}

class TaskList {
 public:
  void Single(const Key& k, std::string value) {
    ImportTask t;
    t.kind = ImportTask::Kind::kSingleKey;
    t.start = k;
    t.end = k.Next();
    t.value = std::move(value);
    tasks_.push_back(std::move(t));
  }
  void Object(const Key& k, const ObjectInfo& obj) {
    ImportTask t;
    t.kind = ImportTask::Kind::kObjectValue;
    t.start = k;
    t.end = k.Next();
    t.object = obj;
    tasks_.push_back(std::move(t));
  }
  void Blocks(ImportTask::Kind kind, const Key& start, const Key& end, const ObjectInfo& obj,
              uint32_t first_block, uint32_t nblocks, bool verify) {
    ImportTask t;
    t.kind = kind;
    t.start = start;
    t.end = end;
    t.object = obj;
    t.first_block = first_block;
    t.nblocks = nblocks;
    t.verify_pages = verify;
    tasks_.push_back(std::move(t));
  }
  std::vector<ImportTask> Take() { return std::move(tasks_); }

 private:
  std::vector<ImportTask> tasks_;
};

void AddDatabaseTasks(const DatabaseDir& db, const PlanOptions& opts, TaskList* tl) {
  if (db.relmap) tl->Object(RelmapFileKey(db.spcnode, db.dbnode), *db.relmap);
  RelDirectory rd;
  for (const RelSegment& s : db.segments) rd.rels.insert({s.file.relnode, s.file.fork});
  tl->Single(RelDirKey(db.spcnode, db.dbnode), rd.Encode());

  uint32_t fork_blocks = 0;   // blocks of the current (relnode, fork) so far (§3.4)
  for (size_t i = 0; i < db.segments.size(); i++) {
    const RelSegment& s = db.segments[i];
    const RelTag tag{db.spcnode, db.dbnode, s.file.relnode, s.file.fork};
    const bool first = i == 0 || db.segments[i - 1].file.relnode != s.file.relnode ||
                       db.segments[i - 1].file.fork != s.file.fork;
    if (first) fork_blocks = 0;
    // The walk checked segno <= 32767 and first + nblocks <= 0xFFFFFFFF.
    const uint32_t first_block = s.file.segno * kRelSegSize;
    tl->Blocks(ImportTask::Kind::kRelBlocks, RelBlockKey(tag, first_block),
               RelBlockKey(tag, first_block + s.nblocks), s.object, first_block, s.nblocks, opts.verify_pages);
    fork_blocks += s.nblocks;
    const bool last = i + 1 == db.segments.size() || db.segments[i + 1].file.relnode != s.file.relnode ||
                      db.segments[i + 1].file.fork != s.file.fork;
    if (last) tl->Single(RelSizeKey(tag), EncodeRelSize(fork_blocks));
  }
}

void AddObject(const ObjectInfo& o, std::vector<ObjectInfo>* out) { out->push_back(o); }

bool IsUserTablespace(uint32_t spc) { return spc != kDefaultTablespaceOid && spc != kGlobalTablespaceOid; }

// The target of the symbolic link pg_tblspc/<oid> on a local source, as written and resolved
// (realpath); "" when not known.
std::pair<std::string, std::string> TablespaceLocation(Storage& source, const std::string& pgdata_prefix,
                                                       uint32_t oid) {
  if (!source.IsLocal()) return {};
  const std::string link = source.Describe(fmt::format("{}pg_tblspc/{}", pgdata_prefix, oid));
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf));
  if (n <= 0 || size_t(n) >= sizeof(buf)) return {};
  std::pair<std::string, std::string> out{std::string(buf, size_t(n)), ""};
  if (char* real = ::realpath(link.c_str(), nullptr)) {
    out.second = real;
    std::free(real);
  }
  return out;
}

}  // namespace

const char* TablespaceModeName(TablespaceMode m) {
  switch (m) {
    case TablespaceMode::kRefuse: return "refuse";
    case TablespaceMode::kSkip: return "skip";
    case TablespaceMode::kKeep: return "keep";
  }
  return "?";
}

Result<TablespaceMode> ParseTablespaceMode(std::string_view text) {
  for (TablespaceMode m : {TablespaceMode::kRefuse, TablespaceMode::kSkip, TablespaceMode::kKeep}) {
    if (text == TablespaceModeName(m)) return m;
  }
  return Status::Usage(fmt::format("--tablespaces: \"{}\" is not one of refuse, skip, keep", text));
}

std::vector<UserTablespace> SummarizeTablespaces(const PgdataListing& listing, Storage& source,
                                                 const std::string& pgdata_prefix) {
  std::vector<UserTablespace> out;
  for (const DatabaseDir& db : listing.databases) {   // sorted by (spcnode, dbnode)
    if (!IsUserTablespace(db.spcnode)) continue;
    if (out.empty() || out.back().oid != db.spcnode) {
      UserTablespace t;
      t.oid = db.spcnode;
      std::tie(t.location, t.directory) = TablespaceLocation(source, pgdata_prefix, db.spcnode);
      out.push_back(std::move(t));
    }
    UserTablespace& t = out.back();
    t.databases.push_back(db.dbnode);
    std::set<uint32_t> rels;
    for (const RelSegment& s : db.segments) {
      rels.insert(s.file.relnode);
      t.bytes += s.object.size;
    }
    if (db.relmap) t.bytes += db.relmap->size;
    t.relations += rels.size();
  }
  return out;
}

std::vector<SkippedRelation> TablespaceRelations(const PgdataListing& listing) {
  std::vector<SkippedRelation> out;
  for (const DatabaseDir& db : listing.databases) {
    if (!IsUserTablespace(db.spcnode)) continue;
    for (const RelSegment& s : db.segments) {   // sorted by (relnode, fork, segno)
      if (out.empty() || out.back().spcnode != db.spcnode || out.back().dbnode != db.dbnode ||
          out.back().relnode != s.file.relnode) {
        out.push_back(SkippedRelation{db.spcnode, db.dbnode, s.file.relnode, {}, 0});
      }
      SkippedRelation& r = out.back();
      const std::string fork = ForkName(s.file.fork);
      if (r.forks.empty() || r.forks.back() != fork) r.forks.push_back(fork);
      r.bytes += s.object.size;
    }
  }
  return out;
}

std::string SkippedRelationText(const SkippedRelation& r) {
  return fmt::format("--tablespaces skip: relation {} of database {} in tablespace {} ({} forks, {} bytes) is not "
                     "imported; queries on it will fail on the imported timeline",
                     r.relnode, r.dbnode, r.spcnode, fmt::join(r.forks, "+"), r.bytes);
}

Status ApplyTablespaceMode(TablespaceMode mode, const std::vector<UserTablespace>& tablespaces,
                           std::string_view source_url, PgdataListing* listing) {
  if (tablespaces.empty()) return Status::OK();
  if (mode == TablespaceMode::kKeep) {
    // Two pg_tblspc links to one directory would import its relations twice, under two OIDs.
    std::map<std::string, uint32_t> seen;
    for (const UserTablespace& t : tablespaces) {
      if (t.directory.empty()) continue;
      auto [it, fresh] = seen.emplace(t.directory, t.oid);
      if (!fresh) {
        return Status::InvalidInput(fmt::format(
            "{}: pg_tblspc/{} and pg_tblspc/{} both lead to {}: one tablespace directory cannot belong to two "
            "tablespaces (its relations would be imported twice)",
            source_url, it->second, t.oid, t.directory));
      }
    }
    return Status::OK();
  }
  if (mode == TablespaceMode::kSkip) {
    std::erase_if(listing->databases, [](const DatabaseDir& db) { return IsUserTablespace(db.spcnode); });
    return Status::OK();
  }
  std::string msg = fmt::format(
      "{}: the cluster has {} user tablespace{} holding data; a Neon pageserver cannot serve such a timeline (its "
      "basebackup fails for any database directory outside pg_default, spcnode 1663), so the import is refused "
      "before anything is written:",
      source_url, tablespaces.size(), tablespaces.size() == 1 ? "" : "s");
  for (const UserTablespace& t : tablespaces) {
    msg += fmt::format("\n  tablespace OID {} (name unknown: pg_tablespace is not read), location {}: database{} {}, "
                       "{} relation{}, {} bytes",
                       t.oid, t.location.empty() ? "unknown" : t.location, t.databases.size() == 1 ? "" : "s",
                       fmt::join(t.databases, ", "), t.relations, t.relations == 1 ? "" : "s", t.bytes);
  }
  msg +=
      "\nRemedy: move everything to pg_default before the dump (ALTER TABLE / ALTER INDEX / ALTER MATERIALIZED VIEW "
      "... SET TABLESPACE pg_default; ALTER DATABASE ... SET TABLESPACE pg_default), or pass --tablespaces skip "
      "(leave those relations out, as Neon's own import does; queries on them fail) or --tablespaces keep "
      "(import them anyway: for export back to PostgreSQL or archives, not servable by a Neon pageserver)";
  return Status::InvalidInput(std::move(msg));
}

uint64_t ImportJob::LocalPages() const {
  uint64_t n = 0;
  for (const ImportTask& t : tasks) n += t.local_pages;
  return n;
}

uint64_t ImportPlan::TotalEstimatedBytes() const {
  uint64_t n = 0;
  for (const ImportJob& j : jobs) n = SatAdd(n, j.estimated_bytes);
  return n;
}

uint64_t ImportPlan::TotalLocalPages() const {
  uint64_t n = 0;
  for (const ImportJob& j : jobs) n += j.LocalPages();
  return n;
}

size_t ImportPlan::TaskCount() const {
  size_t n = 0;
  for (const ImportJob& j : jobs) n += j.tasks.size();
  return n;
}

std::vector<ImportTask> BuildTasks(const ControlFile& control, const PgdataListing& listing,
                                   const PlanOptions& opts) {
  TaskList tl;
  // 1. DBDIR: true where the directory holds the database's relation map.
  DbDirectory dbdir;
  for (const DatabaseDir& db : listing.databases) dbdir.dbs[{db.spcnode, db.dbnode}] = db.relmap.has_value();
  tl.Single(kDbDirKey, dbdir.Encode());
  // 2. Databases in (spc, db) order.
  for (const DatabaseDir& db : listing.databases) AddDatabaseTasks(db, opts, &tl);
  // 3. SLRUs (the walk lists them only for shard number 0).
  for (const SlruDir& sd : listing.slrus) {
    SlruSegmentDirectory dir;
    for (const SlruSegment& s : sd.segments) dir.segments.insert(s.segno);
    tl.Single(SlruDirKey(sd.kind), dir.Encode());
    for (const SlruSegment& s : sd.segments) {
      tl.Blocks(ImportTask::Kind::kSlruBlocks, SlruBlockKey(sd.kind, s.segno, 0),
                SlruBlockKey(sd.kind, s.segno, s.nblocks), s.object, 0, s.nblocks, false);
      tl.Single(SlruSegmentSizeKey(sd.kind, s.segno), EncodeSlruSegmentSize(s.nblocks));
    }
  }
  // 4. Two-phase directory and state files, control file, checkpoint.
  if (control.pg_major >= 17) {
    TwoPhaseDirectoryV17 d;
    for (const TwoPhaseFile& f : listing.twophase) d.xids.insert(f.xid);
    tl.Single(kTwoPhaseDirKey, d.Encode());
  } else {
    TwoPhaseDirectory d;
    for (const TwoPhaseFile& f : listing.twophase) d.xids.insert(uint32_t(f.xid));  // 8 hex digits
    tl.Single(kTwoPhaseDirKey, d.Encode());
  }
  for (const TwoPhaseFile& f : listing.twophase) tl.Object(TwoPhaseFileKey(f.xid), f.object);
  tl.Single(kControlFileKey, control.raw);
  tl.Single(kCheckpointKey, control.CheckpointBytes());

  std::vector<ImportTask> tasks = tl.Take();
  for (ImportTask& t : tasks) t.local_pages = opts.shard.PageCount(t.start, t.end);
  return tasks;
}

std::vector<ImportJob> SplitIntoJobs(std::vector<ImportTask> tasks, uint64_t soft_size_limit) {
  std::stable_sort(tasks.begin(), tasks.end(), [](const ImportTask& a, const ImportTask& b) {
    return std::tie(a.start, a.end) < std::tie(b.start, b.end);
  });
  std::vector<ImportJob> jobs;
  ImportJob cur;
  uint64_t cur_size = 0;
  Key last_end = Key::Min();
  auto close = [&](const Key& end) {
    cur.index = uint32_t(jobs.size() + 1);
    cur.start = last_end;
    cur.end = end;
    cur.estimated_bytes = cur_size;
    jobs.push_back(std::move(cur));
    cur = ImportJob();
    cur_size = 0;
    last_end = end;
  };
  for (ImportTask& t : tasks) {
    const uint64_t size = TaskSize(t);
    if (SatAdd(cur_size, size) > soft_size_limit) close(t.start);
    cur_size = SatAdd(cur_size, size);
    cur.tasks.push_back(std::move(t));
  }
  close(Key::Max());
  return jobs;
}

namespace {

// Listings a plan of a remote source runs ahead at most (PrefetchingLister).
constexpr size_t kListAhead = 8;

// The directories whose sub-directories the PGDATA walk lists: base/ (one per database) and
// everything below pg_tblspc/ (tablespace, version directory, databases). No trailing '/'.
bool PlanListsChildrenOf(std::string_view dir) {
  const size_t slash = dir.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? dir : dir.substr(slash + 1);
  return last == "base" || last == "pg_tblspc" || dir.find("pg_tblspc/") != std::string_view::npos;
}

}  // namespace

Result<ImportPlan> BuildPlan(Storage& source, const PlanOptions& opts) {
  {
    Result<ShardIdentity> sh = ShardIdentity::Make(opts.shard.number, opts.shard.count, opts.shard.stripe_size);
    if (!sh.ok()) return sh.status();
  }
  if (opts.soft_size_limit < kMinSoftSizeLimit) {
    return Status::Usage(fmt::format("soft size limit {} bytes is too small: the minimum is {} (one page)",
                                     opts.soft_size_limit, kMinSoftSizeLimit));
  }
  P2L_ASSIGN_OR_RETURN(SourceLayout layout, DetectSourceLayout(source));
  P2L_ASSIGN_OR_RETURN(ControlFile control, ReadControlFile(source, layout, opts.allow_unclean_shutdown));

  ImportPlan plan;
  if (!control.CleanlyShutDown()) {
    plan.warnings.push_back(fmt::format(
        "{}: the cluster was not shut down cleanly (state: {}); importing anyway as requested, the data may be "
        "inconsistent",
        source.Describe(layout.control_object.name), DbStateName(control.state)));
  }
  WalkOptions wo;
  wo.prefix = layout.pgdata_prefix;
  wo.pg_major = control.pg_major;
  wo.catalog_version = control.catalog_version;
  wo.include_slrus = opts.shard.number == 0;
  std::optional<PrefetchingLister> ahead;   // remote sources: list databases/tablespaces in parallel
  if (!source.IsLocal()) ahead.emplace(source, kListAhead, PlanListsChildrenOf);
  P2L_ASSIGN_OR_RETURN(PgdataListing listing, WalkPgdata(ahead ? static_cast<Storage&>(*ahead) : source, wo));
  plan.tablespace_mode = opts.tablespaces;
  plan.tablespaces = SummarizeTablespaces(listing, source, layout.pgdata_prefix);
  if (opts.tablespaces == TablespaceMode::kSkip) plan.skipped_relations = TablespaceRelations(listing);
  P2L_RETURN_IF_ERROR(ApplyTablespaceMode(opts.tablespaces, plan.tablespaces, source.Url(), &listing));

  plan.jobs = SplitIntoJobs(BuildTasks(control, listing, opts), opts.soft_size_limit);

  AddObject(layout.control_object, &plan.source_objects);
  for (const DatabaseDir& db : listing.databases) {
    if (db.relmap) AddObject(*db.relmap, &plan.source_objects);
    for (const RelSegment& s : db.segments) AddObject(s.object, &plan.source_objects);
  }
  for (const SlruDir& sd : listing.slrus) {
    for (const SlruSegment& s : sd.segments) AddObject(s.object, &plan.source_objects);
  }
  for (const TwoPhaseFile& f : listing.twophase) AddObject(f.object, &plan.source_objects);
  std::sort(plan.source_objects.begin(), plan.source_objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });

  plan.base_lsn = control.BaseLsn();
  plan.control = std::move(control);
  plan.pgdata_prefix = layout.pgdata_prefix;
  plan.shard = opts.shard;
  plan.soft_size_limit = opts.soft_size_limit;
  for (std::string& w : listing.warnings) plan.warnings.push_back(std::move(w));
  return plan;
}

Status PreflightSource(Storage& source, const PlanOptions& opts, bool* refused) {
  *refused = false;
  P2L_ASSIGN_OR_RETURN(SourceLayout layout, DetectSourceLayout(source));
  Result<ControlFile> rc = ReadControlFile(source, layout, opts.allow_unclean_shutdown);
  if (!rc.ok()) {
    *refused = rc.status().message().find(kServedVersionsText) != std::string::npos;
    return rc.status();
  }
  const ControlFile& control = *rc;
  // skip imports nothing of pg_tblspc; refuse and keep decide from its listing (keep: two links to one directory).
  if (opts.tablespaces == TablespaceMode::kSkip) return Status::OK();
  WalkOptions wo;
  wo.prefix = layout.pgdata_prefix;
  wo.pg_major = control.pg_major;
  wo.catalog_version = control.catalog_version;
  wo.include_slrus = false;
  wo.tablespaces_only = true;
  P2L_ASSIGN_OR_RETURN(PgdataListing listing, WalkPgdata(source, wo));
  Status st = ApplyTablespaceMode(opts.tablespaces, SummarizeTablespaces(listing, source, layout.pgdata_prefix),
                                  source.Url(), &listing);
  *refused = !st.ok();
  return st;
}

}  // namespace p2l
