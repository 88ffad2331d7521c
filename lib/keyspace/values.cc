// Directory and size value encodings (keyspace-and-sharding.md §2.2, §2.3).
#include "keyspace/values.h"

#include <fmt/format.h>

#include "util/coding.h"

namespace p2l {

namespace {

// Reads the u64be count of a bincode collection and checks that exactly `count` entries of
// `entry_size` bytes follow (no truncation, no trailing bytes) before anything is allocated.
Result<uint64_t> CheckedCount(std::string_view bytes, size_t entry_size, std::string_view what,
                              std::string_view type) {
  if (bytes.size() < 8) {
    return Status::InvalidInput(fmt::format("{}: {} value is {} bytes, shorter than its 8-byte count",
                                            what, type, bytes.size()));
  }
  uint64_t n = DecodeBE64(U8(bytes));
  uint64_t avail = (bytes.size() - 8) / entry_size;
  if (n > avail) {
    return Status::InvalidInput(fmt::format(
        "{}: {} value claims {} entries but its {} bytes hold at most {}", what, type, n,
        bytes.size(), avail));
  }
  if ((bytes.size() - 8) != n * entry_size) {
    return Status::InvalidInput(fmt::format(
        "{}: {} value has {} trailing bytes after {} entries of {} bytes", what, type,
        bytes.size() - 8 - n * entry_size, n, entry_size));
  }
  return n;
}

Status Duplicate(std::string_view what, std::string_view type, uint64_t index, std::string entry) {
  return Status::InvalidInput(
      fmt::format("{}: {} value has a duplicate entry {} at index {}", what, type, entry, index));
}

}  // namespace

// ---- DbDirectory ------------------------------------------------------------------------------

std::string DbDirectory::Encode() const {
  std::string out;
  out.reserve(8 + 9 * dbs.size());
  PutBE64(&out, dbs.size());
  for (const auto& [k, has_relmap] : dbs) {
    PutBE32(&out, k.first);
    PutBE32(&out, k.second);
    out.push_back(has_relmap ? '\x01' : '\x00');
  }
  return out;
}

Result<DbDirectory> DbDirectory::Decode(std::string_view bytes, std::string_view what) {
  static constexpr std::string_view kType = "DbDirectory";
  P2L_ASSIGN_OR_RETURN(uint64_t n, CheckedCount(bytes, 9, what, kType));
  DbDirectory d;
  const uint8_t* p = U8(bytes) + 8;
  for (uint64_t i = 0; i < n; i++, p += 9) {
    uint32_t spc = DecodeBE32(p), db = DecodeBE32(p + 4);
    uint8_t b = p[8];
    if (b > 1) {
      return Status::InvalidInput(fmt::format("{}: {} entry {} ({}, {}): bool byte is 0x{:02x}, not 0 or 1",
                                              what, kType, i, spc, db, b));
    }
    if (!d.dbs.emplace(std::make_pair(spc, db), b == 1).second) {
      return Duplicate(what, kType, i, fmt::format("({}, {})", spc, db));
    }
  }
  return d;
}

// ---- RelDirectory -----------------------------------------------------------------------------

std::string RelDirectory::Encode() const {
  std::string out;
  out.reserve(8 + 5 * rels.size());
  PutBE64(&out, rels.size());
  for (const auto& [rel, fork] : rels) {
    PutBE32(&out, rel);
    out.push_back(char(fork));
  }
  return out;
}

Result<RelDirectory> RelDirectory::Decode(std::string_view bytes, std::string_view what) {
  static constexpr std::string_view kType = "RelDirectory";
  P2L_ASSIGN_OR_RETURN(uint64_t n, CheckedCount(bytes, 5, what, kType));
  RelDirectory d;
  const uint8_t* p = U8(bytes) + 8;
  for (uint64_t i = 0; i < n; i++, p += 5) {
    uint32_t rel = DecodeBE32(p);
    uint8_t fork = p[4];
    if (!d.rels.emplace(rel, fork).second) {
      return Duplicate(what, kType, i, fmt::format("({}, {})", rel, fork));
    }
  }
  return d;
}

// ---- SlruSegmentDirectory / TwoPhaseDirectory -------------------------------------------------

namespace {

template <typename T>
std::string EncodeIntSet(const std::set<T>& s) {
  std::string out;
  out.reserve(8 + sizeof(T) * s.size());
  PutBE64(&out, s.size());
  for (T v : s) {
    if constexpr (sizeof(T) == 8) {
      PutBE64(&out, v);
    } else {
      PutBE32(&out, v);
    }
  }
  return out;
}

template <typename T>
Result<std::set<T>> DecodeIntSet(std::string_view bytes, std::string_view what, std::string_view type) {
  P2L_ASSIGN_OR_RETURN(uint64_t n, CheckedCount(bytes, sizeof(T), what, type));
  std::set<T> s;
  const uint8_t* p = U8(bytes) + 8;
  for (uint64_t i = 0; i < n; i++, p += sizeof(T)) {
    T v;
    if constexpr (sizeof(T) == 8) {
      v = DecodeBE64(p);
    } else {
      v = DecodeBE32(p);
    }
    if (!s.insert(v).second) return Duplicate(what, type, i, fmt::format("{}", v));
  }
  return s;
}

}  // namespace

std::string SlruSegmentDirectory::Encode() const { return EncodeIntSet(segments); }

Result<SlruSegmentDirectory> SlruSegmentDirectory::Decode(std::string_view bytes,
                                                          std::string_view what) {
  P2L_ASSIGN_OR_RETURN(auto s, DecodeIntSet<uint32_t>(bytes, what, "SlruSegmentDirectory"));
  SlruSegmentDirectory d;
  d.segments = std::move(s);
  return d;
}

std::string TwoPhaseDirectory::Encode() const { return EncodeIntSet(xids); }

Result<TwoPhaseDirectory> TwoPhaseDirectory::Decode(std::string_view bytes, std::string_view what) {
  P2L_ASSIGN_OR_RETURN(auto s, DecodeIntSet<uint32_t>(bytes, what, "TwoPhaseDirectory"));
  TwoPhaseDirectory d;
  d.xids = std::move(s);
  return d;
}

std::string TwoPhaseDirectoryV17::Encode() const { return EncodeIntSet(xids); }

Result<TwoPhaseDirectoryV17> TwoPhaseDirectoryV17::Decode(std::string_view bytes,
                                                          std::string_view what) {
  P2L_ASSIGN_OR_RETURN(auto s, DecodeIntSet<uint64_t>(bytes, what, "TwoPhaseDirectoryV17"));
  TwoPhaseDirectoryV17 d;
  d.xids = std::move(s);
  return d;
}

std::string EmptyTwoPhaseDirectory() { return std::string(8, '\0'); }

// ---- size values ------------------------------------------------------------------------------

std::string EncodeRelSize(uint32_t nblocks) {
  std::string out;
  PutLE64(&out, nblocks);
  return out;
}

Result<uint32_t> DecodeRelSize(std::string_view bytes, std::string_view what) {
  if (bytes.size() == 4) return DecodeLE32(U8(bytes));
  if (bytes.size() == 8) {
    uint64_t v = DecodeLE64(U8(bytes));
    if (v > 0xFFFFFFFFull) {
      return Status::InvalidInput(
          fmt::format("{}: rel size value {} does not fit in 32 bits", what, v));
    }
    return uint32_t(v);
  }
  return Status::InvalidInput(
      fmt::format("{}: rel size value is {} bytes, expected 8 (u64le) or 4 (u32le)", what,
                  bytes.size()));
}

std::string EncodeSlruSegmentSize(uint32_t nblocks) {
  std::string out;
  PutLE32(&out, nblocks);
  return out;
}

Result<uint32_t> DecodeSlruSegmentSize(std::string_view bytes, std::string_view what) {
  if (bytes.size() != 4) {
    return Status::InvalidInput(fmt::format(
        "{}: SLRU segment size value is {} bytes, expected 4 (u32le)", what, bytes.size()));
  }
  return DecodeLE32(U8(bytes));
}

}  // namespace p2l
