// Export of layers back to PostgreSQL files (see export.h; keyspace-and-sharding.md §1.2 key
// map, §2 values, §3.2/§3.4 relation files and segments, §3.5 SLRU segments).
#include "tools/export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "index/index_part.h"
#include "keyspace/keys.h"
#include "keyspace/values.h"
#include "pg/controlfile.h"
#include "pg/relfile.h"
#include "pg/twophase.h"
#include "tools/describe.h"
#include "tools/layer_stream.h"
#include "tools/timeline_reader.h"
#include "util/log.h"

namespace p2l {

namespace {

constexpr std::string_view kTmpSuffix = ".p2l-export.tmp";
// User tablespaces get OIDs from FirstNormalObjectId up; 1663/1664 are the built-in ones.
constexpr uint32_t kFirstNormalObjectId = 16384;
// SLRU_PAGES_PER_SEGMENT is 32 in PostgreSQL 14-17; the import does not check it, so allow
// more, but bound what a layer can make us allocate.
constexpr uint32_t kMaxSlruBlocks = 4096;

std::string Errno(int e) { return std::strerror(e); }

// One output file written under "<final>.p2l-export.tmp" and renamed into place by Commit().
// Destroying an uncommitted file removes the temporary file.
class PendingFile {
 public:
  explicit PendingFile(std::string final_path)
      : final_(std::move(final_path)), tmp_(final_ + std::string(kTmpSuffix)) {}
  ~PendingFile() { Abort(); }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  const std::string& path() const { return final_; }

  Status WriteAt(uint64_t off, std::string_view data) {
    P2L_RETURN_IF_ERROR(EnsureOpen());
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, off_t(off + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::Io(fmt::format("{}: write at offset {}: {}", tmp_, off + done, Errno(errno)));
      }
      done += size_t(n);
    }
    return Status::OK();
  }
  Status Resize(uint64_t size) {
    P2L_RETURN_IF_ERROR(EnsureOpen());
    if (::ftruncate(fd_, off_t(size)) != 0) {
      return Status::Io(fmt::format("{}: truncate to {} bytes: {}", tmp_, size, Errno(errno)));
    }
    size_ = size;
    return Status::OK();
  }
  // Closes the descriptor (the file stays pending; the next write reopens it).
  Status Close() {
    if (fd_ >= 0) {
      int rc = ::close(fd_);
      fd_ = -1;
      if (rc != 0) return Status::Io(fmt::format("{}: close: {}", tmp_, Errno(errno)));
    }
    return Status::OK();
  }
  Status Commit() {
    P2L_RETURN_IF_ERROR(EnsureOpen());   // a file never written is created empty
    P2L_RETURN_IF_ERROR(Close());
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) {
      return Status::Io(fmt::format("{}: rename from {}: {}", final_, tmp_, Errno(errno)));
    }
    committed_ = true;
    return Status::OK();
  }
  void Abort() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (created_ && !committed_) ::unlink(tmp_.c_str());
    created_ = false;
  }
  uint64_t size() const { return size_; }

 private:
  Status EnsureOpen() {
    if (fd_ >= 0) return Status::OK();
    const int flags = O_WRONLY | O_CLOEXEC | (created_ ? 0 : O_CREAT | O_TRUNC);
    fd_ = ::open(tmp_.c_str(), flags, 0600);
    if (fd_ < 0) return Status::Io(fmt::format("{}: cannot create: {}", tmp_, Errno(errno)));
    created_ = true;
    return Status::OK();
  }

  std::string final_, tmp_;
  int fd_ = -1;
  bool created_ = false, committed_ = false;
  uint64_t size_ = 0;
};

std::string RelSetText(const std::set<std::pair<uint32_t, uint8_t>>& s, size_t max = 5) {
  std::string out;
  size_t i = 0;
  for (const auto& [rel, fork] : s) {
    if (i++ == max) return out + ", ...";
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", rel, ForkName(fork));
  }
  return out;
}

template <typename T>
std::string SetText(const std::set<T>& s, size_t max = 5) {
  std::string out;
  size_t i = 0;
  for (const auto& v : s) {
    if (i++ == max) return out + ", ...";
    if (!out.empty()) out += ", ";
    out += fmt::format("{}", v);
  }
  return out;
}

// a \ b
template <typename T>
std::set<T> Minus(const std::set<T>& a, const std::set<T>& b) {
  std::set<T> out;
  for (const auto& v : a) {
    if (!b.count(v)) out.insert(v);
  }
  return out;
}

// Which blocks of a file were written: blocks arrive in increasing order, so the holes are
// runs between consecutive blocks (kept as a list: normally empty).
struct BlockTracker {
  uint64_t next = 0;                                   // one past the last block written
  std::vector<std::pair<uint64_t, uint64_t>> holes;    // [start, end)

  void Add(uint32_t blk) {
    if (blk > next) holes.emplace_back(next, blk);
    next = uint64_t(blk) + 1;
  }
  // Blocks in [0, nblocks) never written; *first = the first of them.
  uint64_t Missing(uint64_t nblocks, uint64_t* first) const {
    uint64_t n = 0;
    bool have = false;
    auto add = [&](uint64_t a, uint64_t b) {
      b = std::min(b, nblocks);
      if (a >= b) return;
      if (!have) *first = a;
      have = true;
      n += b - a;
    };
    for (const auto& [a, b] : holes) add(a, b);
    add(next, nblocks);
    return n;
  }
};

// Writes the keys, in key order, as files.
class Exporter {
 public:
  Exporter(const ExportOptions& opts, EventSink& events, ExportReport* report, int pg_major, uint32_t catver)
      : opts_(opts), events_(events), report_(report), pg_major_(pg_major), catver_(catver) {
    root_ = opts.out_dir;
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  Status Put(const Key& k, std::string_view v) {
    if (k.field1 != 0x00) {
      P2L_RETURN_IF_ERROR(FinishFork(std::nullopt));
      P2L_RETURN_IF_ERROR(FinishDb());
    }
    if (k.field1 != 0x01) P2L_RETURN_IF_ERROR(FinishSlruSegment(std::nullopt));
    switch (k.field1) {
      case 0x00: return PutRel(k, v);
      case 0x01: return PutSlru(k, v);
      case 0x02: return PutTwoPhase(k, v);
      case 0x03: return PutMisc(k, v);
    }
    Inconsistent(fmt::format("unexpected key {} ({}): not exported", k.ToHex(), DescribeKey(k)));
    return Status::OK();
  }

  Status Finish() {
    P2L_RETURN_IF_ERROR(FinishFork(std::nullopt));
    P2L_RETURN_IF_ERROR(FinishDb());
    P2L_RETURN_IF_ERROR(FinishSlruSegment(std::nullopt));
    CrossCheck();
    if (opts_.sync) P2L_RETURN_IF_ERROR(SyncAll());
    return Status::OK();
  }

 private:
  // ---- reporting -------------------------------------------------------------------------------
  void Inconsistent(const std::string& msg) {
    report_->inconsistency_count++;
    LogWarn("export: inconsistency: {}", msg);
    events_.Emit("inconsistency", {{"message", msg}});
    if (report_->inconsistencies.size() < opts_.max_listed) report_->inconsistencies.push_back(msg);
  }

  // ---- files and directories -------------------------------------------------------------------
  std::string Abs(const std::string& rel) const { return root_ + "/" + rel; }

  // Creates each missing component of `rel` (a directory path relative to the root, built only
  // from fixed names and numbers) with mode 0700. Existing components may be symlinks to
  // directories (pg_tblspc/<spc>).
  Status MakeDirs(const std::string& rel) {
    if (made_dirs_.count(rel)) return Status::OK();
    std::string cur = root_;
    size_t pos = 0;
    while (pos <= rel.size()) {
      size_t slash = rel.find('/', pos);
      if (slash == std::string::npos) slash = rel.size();
      cur += "/" + rel.substr(pos, slash - pos);
      struct stat st;
      if (::stat(cur.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return Status::Io(fmt::format("{}: exists and is not a directory", cur));
      } else if (errno == ENOENT) {
        if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
          return Status::Io(fmt::format("{}: cannot create directory: {}", cur, Errno(errno)));
        }
      } else {
        return Status::Io(fmt::format("{}: {}", cur, Errno(errno)));
      }
      pos = slash + 1;
    }
    made_dirs_.insert(rel);
    return Status::OK();
  }

  Status Committed(PendingFile& f) {
    P2L_RETURN_IF_ERROR(f.Commit());
    report_->files++;
    report_->bytes += f.size();
    return Status::OK();
  }

  Status WriteWholeFile(const std::string& dir, const std::string& name, std::string_view data) {
    P2L_RETURN_IF_ERROR(MakeDirs(dir));
    PendingFile f(Abs(dir + "/" + name));
    P2L_RETURN_IF_ERROR(f.WriteAt(0, data));
    P2L_RETURN_IF_ERROR(f.Resize(data.size()));
    return Committed(f);
  }

  Status SyncAll() {
    std::set<std::string> roots = {root_};
    for (const auto& d : tablespace_dirs_) roots.insert(Abs(d));
    for (const auto& r : roots) {
      int fd = ::open(r.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return Status::Io(fmt::format("{}: open for sync: {}", r, Errno(errno)));
      int rc = ::syncfs(fd);
      int e = errno;
      ::close(fd);
      if (rc != 0) return Status::Io(fmt::format("{}: syncfs: {}", r, Errno(e)));
    }
    return Status::OK();
  }

  // ---- relations -------------------------------------------------------------------------------
  // The directory of database (spc, db) relative to the root, or "" when the pair cannot be
  // placed (reported).
  std::string DbDirPath(uint32_t spc, uint32_t db) {
    if (spc == kGlobalTablespaceOid) {
      if (db == 0) return "global";
    } else if (spc == kDefaultTablespaceOid) {
      if (db != 0) return fmt::format("base/{}", db);
    } else if (spc >= kFirstNormalObjectId && db != 0) {
      if (pg_major_ == 0) {
        Inconsistent(fmt::format("tablespace {}: no controlfile key to name PG_<major>_<catversion>; "
                                 "database {} not exported", spc, db));
        return "";
      }
      tablespace_dirs_.insert(fmt::format("pg_tblspc/{}", spc));
      return fmt::format("pg_tblspc/{}/PG_{}_{}/{}", spc, pg_major_, catver_, db);
    }
    Inconsistent(fmt::format("keys of tablespace {} database {}: no such PostgreSQL directory; not exported", spc, db));
    return "";
  }

  struct DbState {
    bool active = false;
    uint32_t spc = 0, db = 0;
    std::string dir;            // "" = keys skipped
    bool relmap = false;
    std::optional<RelDirectory> reldir;
    bool reldir_seen = false;
    std::set<std::pair<uint32_t, uint8_t>> forks;   // forks with a size key
  };
  struct DbSeen {
    bool relmap = false, reldir = false;
  };
  struct ForkState {
    bool active = false;
    RelTag tag;
    std::map<uint32_t, std::unique_ptr<PendingFile>> segs;
    uint32_t cur_seg = UINT32_MAX;
    BlockTracker blocks;
  };

  Status SwitchDb(uint32_t spc, uint32_t db) {
    P2L_RETURN_IF_ERROR(FinishFork(std::nullopt));
    P2L_RETURN_IF_ERROR(FinishDb());
    db_ = DbState();
    db_.active = true;
    db_.spc = spc;
    db_.db = db;
    db_.dir = DbDirPath(spc, db);
    if (!db_.dir.empty()) P2L_RETURN_IF_ERROR(MakeDirs(db_.dir));
    return Status::OK();
  }

  Status FinishDb() {
    if (!db_.active) return Status::OK();
    db_.active = false;
    DbSeen& seen = dbs_seen_[{db_.spc, db_.db}];
    seen.relmap = db_.relmap;
    seen.reldir = db_.reldir_seen;
    if (db_.dir.empty()) return Status::OK();
    const std::string where = fmt::format("database {}/{}", db_.spc, db_.db);
    if (!db_.reldir_seen) {
      Inconsistent(fmt::format("{}: no reldir key ({} relation forks found)", where, db_.forks.size()));
    } else if (db_.reldir) {
      auto missing = Minus(db_.reldir->rels, db_.forks);
      auto extra = Minus(db_.forks, db_.reldir->rels);
      if (!missing.empty()) {
        Inconsistent(fmt::format("{}: {} relation forks listed in the reldir have no size key: {}", where,
                                 missing.size(), RelSetText(missing)));
      }
      if (!extra.empty()) {
        Inconsistent(fmt::format("{}: {} relation forks with a size key are not in the reldir: {}", where,
                                 extra.size(), RelSetText(extra)));
      }
    }
    return Status::OK();
  }

  Status PutRel(const Key& k, std::string_view v) {
    if (k == kDbDirKey) {
      auto d = DbDirectory::Decode(v, "dbdir key");
      if (!d.ok()) Inconsistent(d.status().message());
      else dbdir_ = std::move(*d);
      dbdir_seen_ = true;
      return Status::OK();
    }
    if (!db_.active || db_.spc != k.field2 || db_.db != k.field3) P2L_RETURN_IF_ERROR(SwitchDb(k.field2, k.field3));
    if (db_.dir.empty()) return Status::OK();
    if (k.field4 == 0) {
      P2L_RETURN_IF_ERROR(FinishFork(std::nullopt));
      if (IsRelmapFileKey(k)) {
        db_.relmap = true;
        return WriteWholeFile(db_.dir, "pg_filenode.map", v);
      }
      if (IsRelDirKey(k)) {
        db_.reldir_seen = true;
        auto d = RelDirectory::Decode(v, fmt::format("reldir key of {}/{}", k.field2, k.field3));
        if (!d.ok()) Inconsistent(d.status().message());
        else db_.reldir = std::move(*d);
        return Status::OK();
      }
      Inconsistent(fmt::format("unexpected key {} ({}): not exported", k.ToHex(), DescribeKey(k)));
      return Status::OK();
    }
    if (k.field5 > kInitFork) {
      Inconsistent(fmt::format("key {} ({}): PostgreSQL has no fork {}; not exported", k.ToHex(), DescribeKey(k), k.field5));
      return Status::OK();
    }
    if (!fork_.active || fork_.tag.relnode != k.field4 || fork_.tag.forknum != k.field5) {
      P2L_RETURN_IF_ERROR(FinishFork(std::nullopt));
      fork_ = ForkState();
      fork_.active = true;
      fork_.tag = RelTag{k.field2, k.field3, k.field4, k.field5};
    }
    if (IsRelSizeKey(k)) {
      auto n = DecodeRelSize(v, fmt::format("{} ({})", k.ToHex(), DescribeKey(k)));
      if (!n.ok()) {
        Inconsistent(n.status().message());
        return FinishFork(std::nullopt);
      }
      return FinishFork(*n);
    }
    return PutRelBlock(k, v);
  }

  std::string SegName(const RelTag& t, uint32_t segno) const {
    return RelFileNameString(RelFileName{t.relnode, t.forknum, segno});
  }

  PendingFile* Segment(uint32_t segno) {
    auto& p = fork_.segs[segno];
    if (!p) p = std::make_unique<PendingFile>(Abs(db_.dir + "/" + SegName(fork_.tag, segno)));
    return p.get();
  }

  Status PutRelBlock(const Key& k, std::string_view v) {
    if (v.size() != kBlockSize) {
      Inconsistent(fmt::format("key {} ({}): page value has {} bytes, not 8192; written as zeros", k.ToHex(),
                               DescribeKey(k), v.size()));
      return Status::OK();
    }
    const uint32_t blk = k.field6;
    fork_.blocks.Add(blk);
    const uint32_t segno = blk / kRelSegSize;
    if (segno != fork_.cur_seg && fork_.cur_seg != UINT32_MAX) {
      P2L_RETURN_IF_ERROR(fork_.segs[fork_.cur_seg]->Close());
    }
    fork_.cur_seg = segno;
    return Segment(segno)->WriteAt(uint64_t(blk % kRelSegSize) * kBlockSize, v);
  }

  // Sizes and renames the segment files of the current fork. `size`: the rel size key's value.
  Status FinishFork(std::optional<uint32_t> size) {
    if (!fork_.active) return Status::OK();
    fork_.active = false;
    const RelTag& t = fork_.tag;
    const std::string what = fmt::format("rel {}/{}/{} {}", t.spcnode, t.dbnode, t.relnode, ForkName(t.forknum));
    uint64_t nblocks;
    if (size) {
      nblocks = *size;
    } else {
      nblocks = fork_.blocks.next;
      Inconsistent(fmt::format("{}: no size key; sized from its blocks ({} blocks)", what, nblocks));
    }
    if (fork_.blocks.next > nblocks) {
      Inconsistent(fmt::format("{}: blocks up to {} exist beyond its size of {} blocks; dropped", what,
                               fork_.blocks.next - 1, nblocks));
    }
    uint64_t first_missing = 0;
    const uint64_t missing = fork_.blocks.Missing(nblocks, &first_missing);
    if (missing > 0) {
      report_->zero_filled_blocks += missing;
      Inconsistent(fmt::format("{}: {} of its {} blocks are held by no shard (first: block {}); written as zeros",
                               what, missing, nblocks, first_missing));
    }
    const uint32_t nsegs = nblocks == 0 ? 1 : uint32_t((nblocks - 1) / kRelSegSize + 1);
    for (uint32_t s = 0; s < nsegs; s++) {
      const uint64_t seg_blocks = std::min<uint64_t>(kRelSegSize, nblocks - std::min<uint64_t>(nblocks, uint64_t(s) * kRelSegSize));
      PendingFile* f = Segment(s);
      P2L_RETURN_IF_ERROR(f->Resize(seg_blocks * kBlockSize));
      P2L_RETURN_IF_ERROR(Committed(*f));
    }
    fork_.segs.clear();   // uncommitted (beyond the size) temp files are removed here
    report_->relation_forks++;
    db_.forks.insert({t.relnode, t.forknum});
    return Status::OK();
  }

  // ---- SLRUs -----------------------------------------------------------------------------------
  struct SlruSeg {
    bool active = false;
    uint32_t kind = 0, segno = 0;
    std::unique_ptr<PendingFile> file;
    BlockTracker blocks;
  };

  static std::string SlruSegName(uint32_t segno) { return fmt::format("{:04X}", segno); }

  Status PutSlru(const Key& k, std::string_view v) {
    const uint32_t kind = k.field2;
    if (IsSlruDirKey(k) && kind < kSlruKindCount) {
      P2L_RETURN_IF_ERROR(FinishSlruSegment(std::nullopt));
      slru_dir_seen_[kind] = true;
      auto d = SlruSegmentDirectory::Decode(v, fmt::format("slru {} dir", SlruKindName(kind)));
      if (!d.ok()) Inconsistent(d.status().message());
      else slru_dir_[kind] = std::move(*d);
      return Status::OK();
    }
    if (kind >= kSlruKindCount || k.field3 != 1 || k.field5 != 0) {
      Inconsistent(fmt::format("unexpected key {} ({}): not exported", k.ToHex(), DescribeKey(k)));
      return Status::OK();
    }
    if (!slru_.active || slru_.kind != kind || slru_.segno != k.field4) {
      P2L_RETURN_IF_ERROR(FinishSlruSegment(std::nullopt));
      const std::string dir = SlruKindDir(SlruKind(kind));
      P2L_RETURN_IF_ERROR(MakeDirs(dir));
      slru_ = SlruSeg();
      slru_.active = true;
      slru_.kind = kind;
      slru_.segno = k.field4;
      slru_.file = std::make_unique<PendingFile>(Abs(dir + "/" + SlruSegName(k.field4)));
    }
    if (IsSlruSegmentSizeKey(k)) {
      auto n = DecodeSlruSegmentSize(v, fmt::format("{} ({})", k.ToHex(), DescribeKey(k)));
      if (!n.ok()) {
        Inconsistent(n.status().message());
        return FinishSlruSegment(std::nullopt);
      }
      return FinishSlruSegment(*n);
    }
    const uint32_t blk = k.field6;
    if (blk >= kMaxSlruBlocks || v.size() != kBlockSize) {
      Inconsistent(fmt::format("key {} ({}): {}; not exported", k.ToHex(), DescribeKey(k),
                               v.size() != kBlockSize ? fmt::format("page value has {} bytes, not 8192", v.size())
                                                      : fmt::format("block number beyond {}", kMaxSlruBlocks)));
      return Status::OK();
    }
    slru_.blocks.Add(blk);
    return slru_.file->WriteAt(uint64_t(blk) * kBlockSize, v);
  }

  Status FinishSlruSegment(std::optional<uint32_t> size) {
    if (!slru_.active) return Status::OK();
    slru_.active = false;
    const std::string what = fmt::format("slru {} segment {}", SlruKindName(slru_.kind), SlruSegName(slru_.segno));
    uint64_t nblocks;
    if (size && *size > kMaxSlruBlocks) {
      Inconsistent(fmt::format("{}: size {} blocks is implausible; sized from its blocks", what, *size));
      size.reset();
    }
    if (size) {
      nblocks = *size;
    } else {
      nblocks = slru_.blocks.next;
      Inconsistent(fmt::format("{}: no usable size key; sized from its blocks ({} blocks)", what, nblocks));
    }
    if (slru_.blocks.next > nblocks) {
      Inconsistent(fmt::format("{}: blocks up to {} exist beyond its size of {} blocks; dropped", what,
                               slru_.blocks.next - 1, nblocks));
    }
    uint64_t first_missing = 0;
    const uint64_t missing = slru_.blocks.Missing(nblocks, &first_missing);
    if (missing > 0) {
      report_->zero_filled_blocks += missing;
      Inconsistent(fmt::format("{}: {} of its {} blocks are missing (first: block {}); written as zeros", what,
                               missing, nblocks, first_missing));
    }
    P2L_RETURN_IF_ERROR(slru_.file->Resize(nblocks * kBlockSize));
    P2L_RETURN_IF_ERROR(Committed(*slru_.file));
    slru_segs_[slru_.kind].insert(slru_.segno);
    slru_.file.reset();
    return Status::OK();
  }

  // ---- two-phase, control file -----------------------------------------------------------------
  Status PutTwoPhase(const Key& k, std::string_view v) {
    if (k == kTwoPhaseDirKey) {
      twophase_dir_seen_ = true;
      if (pg_major_ >= 17) {
        auto d = TwoPhaseDirectoryV17::Decode(v, "twophase dir key");
        if (!d.ok()) Inconsistent(d.status().message());
        else twophase_dir_ = d->xids;
      } else {
        auto d = TwoPhaseDirectory::Decode(v, "twophase dir key");
        if (!d.ok()) {
          Inconsistent(d.status().message());
        } else {
          twophase_dir_.emplace();
          for (uint32_t x : d->xids) twophase_dir_->insert(x);
        }
      }
      return Status::OK();
    }
    if (!IsTwoPhaseFileKey(k)) {
      Inconsistent(fmt::format("unexpected key {} ({}): not exported", k.ToHex(), DescribeKey(k)));
      return Status::OK();
    }
    const uint64_t xid = (uint64_t(k.field4) << 40) | (uint64_t(k.field5) << 32) | k.field6;
    if (pg_major_ == 0) {
      Inconsistent(fmt::format("{}: no controlfile key to tell the file name format; not exported", DescribeKey(k)));
      return Status::OK();
    }
    if (pg_major_ < 17 && xid > 0xFFFFFFFFull) {
      Inconsistent(fmt::format("{}: a 64-bit xid in a PostgreSQL {} cluster; not exported", DescribeKey(k), pg_major_));
      return Status::OK();
    }
    twophase_files_.insert(xid);
    return WriteWholeFile("pg_twophase", TwoPhaseFileName(xid, pg_major_), v);
  }

  Status PutMisc(const Key& k, std::string_view v) {
    if (k == kControlFileKey) {
      control_ = std::string(v);
      return WriteWholeFile("global", "pg_control", v);
    }
    if (k == kCheckpointKey) {
      checkpoint_ = std::string(v);
      return Status::OK();
    }
    Inconsistent(fmt::format("unexpected key {} ({}): not exported", k.ToHex(), DescribeKey(k)));
    return Status::OK();
  }

  // ---- cross-checks ----------------------------------------------------------------------------
  void CrossCheck() {
    if (!dbdir_seen_) {
      Inconsistent("no dbdir key");
    } else if (dbdir_) {
      for (const auto& [pair, has_relmap] : dbdir_->dbs) {
        auto it = dbs_seen_.find(pair);
        const std::string where = fmt::format("database {}/{} (listed in the dbdir)", pair.first, pair.second);
        if (it == dbs_seen_.end()) {
          Inconsistent(fmt::format("{}: no keys at all", where));
          continue;
        }
        if (has_relmap != it->second.relmap) {
          Inconsistent(fmt::format("{}: the dbdir says relmap {}, but a relmap key is {}", where,
                                   has_relmap ? "exists" : "absent", it->second.relmap ? "present" : "absent"));
        }
      }
      for (const auto& [pair, seen] : dbs_seen_) {
        if (!dbdir_->dbs.count(pair)) {
          Inconsistent(fmt::format("database {}/{} has keys but is not in the dbdir", pair.first, pair.second));
        }
      }
    }
    for (uint32_t kind = 0; kind < kSlruKindCount; kind++) {
      const std::string name = SlruKindName(kind);
      if (!slru_dir_seen_[kind]) {
        Inconsistent(fmt::format("no slru {} dir key ({} segments found)", name, slru_segs_[kind].size()));
        continue;
      }
      if (!slru_dir_[kind]) continue;
      auto missing = Minus(slru_dir_[kind]->segments, slru_segs_[kind]);
      auto extra = Minus(slru_segs_[kind], slru_dir_[kind]->segments);
      if (!missing.empty()) Inconsistent(fmt::format("slru {}: segments in the dir without keys: {}", name, SetText(missing)));
      if (!extra.empty()) Inconsistent(fmt::format("slru {}: segments not in the dir: {}", name, SetText(extra)));
    }
    if (!twophase_dir_seen_) {
      Inconsistent("no twophase dir key");
    } else if (twophase_dir_) {
      auto missing = Minus(*twophase_dir_, twophase_files_);
      auto extra = Minus(twophase_files_, *twophase_dir_);
      if (!missing.empty()) Inconsistent(fmt::format("twophase: xids in the dir without a file key: {}", SetText(missing)));
      if (!extra.empty()) Inconsistent(fmt::format("twophase: file keys not in the dir: {}", SetText(extra)));
    }
    if (control_.empty()) {
      Inconsistent("no controlfile key: global/pg_control not written");
    } else if (checkpoint_.empty()) {
      Inconsistent("no checkpoint key");
    } else if (control_.size() < 128 || control_.compare(40, 88, checkpoint_) != 0) {
      Inconsistent("the checkpoint key's value is not bytes [40, 128) of the controlfile");
    }
  }

  const ExportOptions& opts_;
  EventSink& events_;
  ExportReport* report_;
  const int pg_major_;
  const uint32_t catver_;
  std::string root_;
  std::set<std::string> made_dirs_;
  std::set<std::string> tablespace_dirs_;

  bool dbdir_seen_ = false;
  std::optional<DbDirectory> dbdir_;
  std::map<std::pair<uint32_t, uint32_t>, DbSeen> dbs_seen_;
  DbState db_;
  ForkState fork_;

  bool slru_dir_seen_[kSlruKindCount] = {false, false, false};
  std::optional<SlruSegmentDirectory> slru_dir_[kSlruKindCount];
  std::set<uint32_t> slru_segs_[kSlruKindCount];
  SlruSeg slru_;

  bool twophase_dir_seen_ = false;
  std::optional<std::set<uint64_t>> twophase_dir_;
  std::set<uint64_t> twophase_files_;
  std::string control_, checkpoint_;
};

// Reads the CONTROLFILE value up front (it sorts last, but tablespace and two-phase file names
// need the version first).
Result<std::optional<std::string>> ReadControlFile(Storage& dest, const std::vector<ShardTimeline>& shards) {
  for (const ShardTimeline& st : shards) {
    for (const LayerRef& l : st.layers) {
      if (kControlFileKey < l.parsed.key_start || !(kControlFileKey < l.parsed.key_end)) continue;
      P2L_ASSIGN_OR_RETURN(auto r, OpenLayer(dest, l));
      P2L_ASSIGN_OR_RETURN(auto v, r->Get(kControlFileKey));
      if (v) return v;
    }
  }
  return std::optional<std::string>();
}

}  // namespace

Result<ExportReport> Export(Storage& dest, const ExportOptions& opts, EventSink& events) {
  ExportReport report;
  struct stat st;
  if (opts.out_dir.empty() || ::stat(opts.out_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Usage(fmt::format("--out '{}': not an existing directory", opts.out_dir));
  }
  P2L_ASSIGN_OR_RETURN(auto all, FindTimelineShards(dest, opts.tenant, opts.timeline));
  std::map<uint32_t, std::vector<ShardIdentity>> sets;
  for (const auto& s : all) sets[s.count].push_back(s);
  if (sets.empty()) {
    return Status::NotFound(fmt::format("{}: no shard of tenant {} has timeline {}", dest.Url(), opts.tenant.ToHex(),
                                        opts.timeline.ToHex()));
  }
  uint32_t count;
  if (opts.shard_count) {
    if (!sets.count(*opts.shard_count)) {
      return Status::NotFound(fmt::format("{}: timeline {} has no shard set of count {}", dest.Url(),
                                          opts.timeline.ToHex(), *opts.shard_count));
    }
    count = *opts.shard_count;
  } else if (sets.size() > 1) {
    std::string counts;
    for (const auto& [c, v] : sets) counts += fmt::format("{}{}", counts.empty() ? "" : ", ", c);
    return Status::Usage(fmt::format("{}: timeline {} has shard sets of counts {}; choose one with --shard-count",
                                     dest.Url(), opts.timeline.ToHex(), counts));
  } else {
    count = sets.begin()->first;
  }
  const auto& ids = sets[count];
  if (ids.size() != std::max<uint32_t>(count, 1)) {
    return Status::NotFound(fmt::format("{}: timeline {}: only {} of the {} shards exist", dest.Url(),
                                        opts.timeline.ToHex(), ids.size(), count));
  }
  report.shard_count = count;

  std::vector<ShardTimeline> shards;
  for (const auto& id : ids) {
    P2L_ASSIGN_OR_RETURN(auto tl, LoadShardTimeline(dest, opts.tenant, opts.timeline, id));
    if (!tl.index.import_pgdata || tl.index.import_pgdata->state != ImportPgdata::State::kDone) {
      LogWarn("export: {}: the import is not recorded as done", dest.Describe(tl.index_object.object));
    }
    for (size_t i = 1; i < tl.layers.size(); i++) {
      if (tl.layers[i].parsed.key_start < tl.layers[i - 1].parsed.key_end) {
        return Status::InvalidInput(fmt::format("{}: layers {} and {} overlap", dest.Describe(tl.index_object.object),
                                                tl.layers[i - 1].name, tl.layers[i].name));
      }
    }
    report.layers += tl.layers.size();
    shards.push_back(std::move(tl));
  }

  int pg_major = 0;
  uint32_t catver = 0;
  P2L_ASSIGN_OR_RETURN(auto control, ReadControlFile(dest, shards));
  if (control) {
    auto cf = ControlFile::Parse(*control, "controlfile key");
    if (cf.ok()) {
      pg_major = cf->pg_major;
      catver = cf->catalog_version;
    } else {
      LogWarn("export: {}", cf.status().message());
    }
  }
  LogInfo("export: {} shard(s), {} layers, PostgreSQL {} -> {}", ids.size(), report.layers,
          pg_major ? std::to_string(pg_major) : "unknown", opts.out_dir);

  Exporter ex(opts, events, &report, pg_major, catver);
  std::vector<std::unique_ptr<ShardStream>> streams;
  std::vector<StreamItem> heads(shards.size());
  std::vector<bool> valid(shards.size(), false);
  for (auto& s : shards) streams.push_back(std::make_unique<ShardStream>(dest, s.layers));
  auto advance = [&](size_t i) -> Status {
    P2L_ASSIGN_OR_RETURN(bool more, streams[i]->Next(&heads[i]));
    valid[i] = more;
    return Status::OK();
  };
  for (size_t i = 0; i < streams.size(); i++) P2L_RETURN_IF_ERROR(advance(i));
  for (;;) {
    int first = -1;
    for (size_t i = 0; i < heads.size(); i++) {
      if (valid[i] && (first < 0 || heads[i].key < heads[size_t(first)].key)) first = int(i);
    }
    if (first < 0) break;
    const Key key = heads[size_t(first)].key;
    for (size_t i = size_t(first) + 1; i < heads.size(); i++) {
      if (valid[i] && heads[i].key == key && heads[i].value != heads[size_t(first)].value) {
        report.inconsistency_count++;
        std::string msg = fmt::format("key {} ({}) has different values on shards {} and {}; using {}'s",
                                      key.ToHex(), DescribeKey(key), shards[size_t(first)].shard.IndexString(),
                                      shards[i].shard.IndexString(), shards[size_t(first)].shard.IndexString());
        LogWarn("export: inconsistency: {}", msg);
        events.Emit("inconsistency", {{"message", msg}});
        if (report.inconsistencies.size() < opts.max_listed) report.inconsistencies.push_back(msg);
      }
    }
    P2L_RETURN_IF_ERROR(ex.Put(key, heads[size_t(first)].value));
    report.keys++;
    for (size_t i = size_t(first); i < heads.size(); i++) {
      if (valid[i] && heads[i].key == key) P2L_RETURN_IF_ERROR(advance(i));
    }
  }
  P2L_RETURN_IF_ERROR(ex.Finish());
  LogInfo("export: {} keys -> {} files ({} bytes), {} relation forks, {} zero-filled blocks, {} inconsistencies",
          report.keys, report.files, report.bytes, report.relation_forks, report.zero_filled_blocks,
          report.inconsistency_count);
  events.Emit("export", {{"out", opts.out_dir},
                         {"shard_count", report.shard_count},
                         {"layers", report.layers},
                         {"keys", report.keys},
                         {"files", report.files},
                         {"bytes", report.bytes},
                         {"relation_forks", report.relation_forks},
                         {"zero_filled_blocks", report.zero_filled_blocks},
                         {"inconsistencies", report.inconsistency_count}});
  return report;
}

}  // namespace p2l
