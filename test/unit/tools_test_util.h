// Helpers for the tools_*_test.cc unit tests: synthetic timelines written with ImageLayerWriter
// into a local destination in Neon's remote layout, plus small file helpers.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "index/index_part.h"
#include "index/remote_layout.h"
#include "keyspace/key.h"
#include "keyspace/keys.h"
#include "keyspace/shard.h"
#include "keyspace/values.h"
#include "layer/image_layer_writer.h"
#include "layer/layer_name.h"
#include "pg/controlfile.h"
#include "util/coding.h"
#include "util/ids.h"
#include "storage/storage.h"
#include "util/status.h"

namespace p2l::toolstest {

class TempDir {
 public:
  TempDir() {
    const char* t = getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/p2l-tools-test-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    path_ = p ? p : "";
    REQUIRE(!path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), std::streamsize(data.size()));
}
inline bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}
inline uint64_t FileSize(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return uint64_t(st.st_size);
}

// A local directory as a Storage (the tools read timelines through the Storage interface).
inline std::unique_ptr<Storage> OpenDir(const std::string& path) {
  auto s = OpenStorage(path, StorageOptions{});
  REQUIRE(s.ok());
  return std::move(*s);
}

inline TenantId Tenant() { return Id16::FromHex("3aa8fcc61f6d357410b7de754b1d9001").value(); }
inline TimelineId Timeline() { return Id16::FromHex("de200bd42b49cc1814412c7e592dd6e9").value(); }
inline constexpr uint64_t kLsn = 0x14DDE08;

// A page whose bytes encode (tag, blk) so misplaced pages are caught.
inline std::string Page(uint32_t relnode, uint8_t fork, uint32_t blk) {
  std::string p(8192, '\0');
  for (size_t i = 0; i < p.size(); i++) p[i] = char((relnode * 7 + fork * 31 + blk * 13 + i) & 0xFF);
  return p;
}

using KV = std::map<Key, std::string>;

struct TimelineSpec {
  ShardIdentity shard;
  // Layer boundaries (sorted); layers are [b[i], b[i+1]); a range with no key writes no layer.
  std::vector<Key> bounds = {Key::Min(), Key::Max()};
  bool done = true;
  uint32_t pg_version = 16;
  uint64_t lsn = kLsn;
  std::optional<uint32_t> generation = 1;
};

// Writes the keys of `all` that `spec.shard` stores (not disposable) as layers + index into the
// local destination `dest`. Returns the index object path (relative to dest).
inline std::string WriteTimeline(const std::string& dest, const TimelineSpec& spec, const KV& all) {
  IndexPart ix;
  ImportPgdata ip;
  ip.state = spec.done ? ImportPgdata::State::kDone : ImportPgdata::State::kInProgress;
  ip.idempotency_key = "test-key";
  ip.started_at_nanos = 1700000000000000000LL;
  if (spec.done) {
    ip.finished_at_nanos = 1700000001000000000LL;
  } else {
    ip.location_json = R"({"LocalFs":{"path":"/nonexistent"}})";
  }
  ix.import_pgdata = ip;
  ix.disk_consistent_lsn = spec.lsn + 8;
  ix.metadata.disk_consistent_lsn = spec.lsn + 8;
  ix.metadata.prev_record_lsn = spec.lsn;
  ix.metadata.initdb_lsn = spec.lsn;
  ix.metadata.latest_gc_cutoff_lsn = spec.lsn;
  ix.metadata.pg_version = spec.pg_version;
  for (size_t i = 0; i + 1 < spec.bounds.size(); i++) {
    const Key lo = spec.bounds[i], hi = spec.bounds[i + 1];
    std::vector<std::pair<Key, std::string>> kv;
    for (auto it = all.lower_bound(lo); it != all.end() && it->first < hi; ++it) {
      if (!spec.shard.IsKeyDisposable(it->first)) kv.push_back(*it);
    }
    if (kv.empty()) continue;
    const std::string name = ImageLayerName{lo, hi, spec.lsn}.ToString();
    const std::string obj = LayerPath(Tenant(), spec.shard, Timeline(), name, spec.generation);
    const std::string path = dest + "/" + obj;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    ImageLayerWriterOptions wo;
    wo.sync = false;
    auto w = ImageLayerWriter::Create(path, Tenant(), Timeline(), lo, hi, spec.lsn, wo);
    REQUIRE(w.ok());
    for (const auto& [k, v] : kv) REQUIRE((*w)->Put(k, v).ok());
    auto size = (*w)->Finish();
    REQUIRE(size.ok());
    LayerFileMetadata m;
    m.file_size = *size;
    m.generation = spec.generation;
    m.shard = spec.shard.IndexString();
    ix.layer_metadata[name] = m;
  }
  const std::string index_obj = IndexPartPath(Tenant(), spec.shard, Timeline(), spec.generation);
  WriteFile(dest + "/" + index_obj, ix.ToJson());
  return index_obj;
}

}  // namespace p2l::toolstest

namespace p2l::toolstest {

inline constexpr uint32_t kTablespace = 16500;

// pg_control of a real cluster of `major` (test/data/pg/pg<major>_control; cwd = test/unit),
// with its checkpoint LSN (offset 32) set to kLsn and the CRC-32C (offset 288) recomputed, so
// that the controlfile agrees with the layers' LSN as in a real import.
inline std::string ControlFileBytes(int major) {
  std::string c = ReadFile("../data/pg/pg" + std::to_string(major) + "_control");
  REQUIRE(c.size() == 8192);
  uint8_t* p = reinterpret_cast<uint8_t*>(c.data());
  EncodeLE64(p + 32, kLsn);
  EncodeLE32(p + 288, Crc32c(p, 288));
  REQUIRE(ControlFile::Parse(c, "test pg_control").value().BaseLsn() == kLsn);
  return c;
}

inline std::string Bytes(size_t n, char c) { return std::string(n, c); }

// A small cluster's keys:
//   db 1663/5: relmap, reldir {16384 main, 16384 fsm, 16385 main}; 16384 main 20 blocks,
//              16384 fsm 0 blocks, 16385 main 3 blocks
//   global:    relmap, reldir {1262 main}; 1262 main 2 blocks
//   tablespace 16500/5 (no relmap): reldir {16390 main}; 16390 main 2 blocks
//   clog seg 0 (2 blocks), members seg 0x14078 (1 block), offsets seg 0 (1 block)
//   twophase xid 745 (file bytes "twophase-state-745"), controlfile, checkpoint
inline KV SyntheticCluster(int major) {
  KV kv;
  const std::string control = ControlFileBytes(major);
  DbDirectory dbdir;
  dbdir.dbs[{kDefaultTablespaceOid, 5}] = true;
  dbdir.dbs[{kGlobalTablespaceOid, 0}] = true;
  dbdir.dbs[{kTablespace, 5}] = false;
  kv[kDbDirKey] = dbdir.Encode();
  const size_t relmap_len = major >= 16 ? 524 : 512;
  kv[RelmapFileKey(kDefaultTablespaceOid, 5)] = Bytes(relmap_len, 'A');
  RelDirectory rd5;
  rd5.rels = {{16384, 0}, {16384, 1}, {16385, 0}};
  kv[RelDirKey(kDefaultTablespaceOid, 5)] = rd5.Encode();
  auto rel = [&](uint32_t spc, uint32_t db, uint32_t relnode, uint8_t fork, uint32_t n) {
    RelTag t{spc, db, relnode, fork};
    for (uint32_t b = 0; b < n; b++) kv[RelBlockKey(t, b)] = Page(relnode, fork, b);
    kv[RelSizeKey(t)] = EncodeRelSize(n);
  };
  rel(kDefaultTablespaceOid, 5, 16384, 0, 20);
  rel(kDefaultTablespaceOid, 5, 16384, 1, 0);
  rel(kDefaultTablespaceOid, 5, 16385, 0, 3);
  kv[RelmapFileKey(kGlobalTablespaceOid, 0)] = Bytes(relmap_len, 'G');
  RelDirectory rdg;
  rdg.rels = {{1262, 0}};
  kv[RelDirKey(kGlobalTablespaceOid, 0)] = rdg.Encode();
  rel(kGlobalTablespaceOid, 0, 1262, 0, 2);
  RelDirectory rdt;
  rdt.rels = {{16390, 0}};
  kv[RelDirKey(kTablespace, 5)] = rdt.Encode();
  rel(kTablespace, 5, 16390, 0, 2);
  auto slru = [&](SlruKind kind, uint32_t segno, uint32_t n) {
    SlruSegmentDirectory d;
    d.segments = {segno};
    kv[SlruDirKey(kind)] = d.Encode();
    for (uint32_t b = 0; b < n; b++) kv[SlruBlockKey(kind, segno, b)] = Page(1000 + uint32_t(kind), 0, b);
    kv[SlruSegmentSizeKey(kind, segno)] = EncodeSlruSegmentSize(n);
  };
  slru(SlruKind::kClog, 0, 2);
  slru(SlruKind::kMultiXactMembers, 0x14078, 1);
  slru(SlruKind::kMultiXactOffsets, 0, 1);
  if (major >= 17) {
    TwoPhaseDirectoryV17 d;
    d.xids = {745};
    kv[kTwoPhaseDirKey] = d.Encode();
  } else {
    TwoPhaseDirectory d;
    d.xids = {745};
    kv[kTwoPhaseDirKey] = d.Encode();
  }
  kv[TwoPhaseFileKey(745)] = "twophase-state-745";
  kv[kControlFileKey] = control;
  kv[kCheckpointKey] = control.substr(40, 88);
  return kv;
}

// Layer boundaries that cut the cluster into three layers (one cut inside relation 16384).
inline std::vector<Key> ThreeLayers() {
  return {Key::Min(), RelBlockKey(RelTag{kDefaultTablespaceOid, 5, 16384, 0}, 10), SlruDirKey(SlruKind::kClog),
          Key::Max()};
}

}  // namespace p2l::toolstest
