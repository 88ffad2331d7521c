// Values stored under the directory and size keys (keyspace-and-sharding.md §2.1-§2.3).
//
// Directories are bincode 1.3 "BeSer" (big-endian, fixint): u64be entry count, then the entries
// back to back. Neon serializes HashMaps/HashSets in random iteration order; we always write
// ascending order (the containers below are ordered), which is one valid Neon output. Readers
// accept any order but reject duplicates, truncated data, trailing bytes, counts larger than
// the data and bool bytes other than 0/1 — every count is checked against the byte length
// before anything is allocated.
//
// Size values are little-endian: rel size 8 bytes u64le (flow.rs writes a usize), SLRU segment
// size 4 bytes u32le.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "util/status.h"

namespace p2l {

// DBDIR_KEY value: map (spcnode, dbnode) -> bool "relmapper file exists".
// Layout: u64be n, n x {u32be spcnode, u32be dbnode, u8 bool} = 8 + 9n bytes.
// The import writes true for every base/<db> and for (1664, 0); a (tablespace, db) pair that
// only holds relations (no pg_filenode.map there) is written with false, as WAL ingest does.
struct DbDirectory {
  std::map<std::pair<uint32_t, uint32_t>, bool> dbs;

  std::string Encode() const;
  // `what` names the value in errors (e.g. a key or layer name).
  static Result<DbDirectory> Decode(std::string_view bytes, std::string_view what);
  friend bool operator==(const DbDirectory&, const DbDirectory&) = default;
};

// rel_dir_to_key value: set of (relnode, forknum).
// Layout: u64be n, n x {u32be relnode, u8 forknum} = 8 + 5n bytes.
struct RelDirectory {
  std::set<std::pair<uint32_t, uint8_t>> rels;

  std::string Encode() const;
  static Result<RelDirectory> Decode(std::string_view bytes, std::string_view what);
  friend bool operator==(const RelDirectory&, const RelDirectory&) = default;
};

// slru_dir_to_key value: set of segment numbers. Layout: u64be n, n x u32be = 8 + 4n bytes.
struct SlruSegmentDirectory {
  std::set<uint32_t> segments;

  std::string Encode() const;
  static Result<SlruSegmentDirectory> Decode(std::string_view bytes, std::string_view what);
  friend bool operator==(const SlruSegmentDirectory&, const SlruSegmentDirectory&) = default;
};

// TWOPHASEDIR_KEY value, PG14-16 form: set of u32 xids. Layout: u64be n, n x u32be.
struct TwoPhaseDirectory {
  std::set<uint32_t> xids;

  std::string Encode() const;
  static Result<TwoPhaseDirectory> Decode(std::string_view bytes, std::string_view what);
  friend bool operator==(const TwoPhaseDirectory&, const TwoPhaseDirectory&) = default;
};

// TWOPHASEDIR_KEY value, PG17 form (TwoPhaseDirectoryV17): set of u64 xids. u64be n, n x u64be.
struct TwoPhaseDirectoryV17 {
  std::set<uint64_t> xids;

  std::string Encode() const;
  static Result<TwoPhaseDirectoryV17> Decode(std::string_view bytes, std::string_view what);
  friend bool operator==(const TwoPhaseDirectoryV17&, const TwoPhaseDirectoryV17&) = default;
};

// The empty two-phase directory (what the import writes): 8 zero bytes, same for every version.
std::string EmptyTwoPhaseDirectory();

// rel_size_to_key value: the fork's block count as 8 bytes u64le (flow.rs byte for byte).
std::string EncodeRelSize(uint32_t nblocks);
// Accepts the 8-byte form (upper 4 bytes must be zero) and the 4-byte u32le form that WAL
// ingest and the old import write.
Result<uint32_t> DecodeRelSize(std::string_view bytes, std::string_view what);

// slru_segment_size_to_key value: the segment's block count as 4 bytes u32le.
std::string EncodeSlruSegmentSize(uint32_t nblocks);
Result<uint32_t> DecodeSlruSegmentSize(std::string_view bytes, std::string_view what);

}  // namespace p2l
