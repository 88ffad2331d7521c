// Key and value descriptions (keyspace-and-sharding.md §1.2 key map, §2 value encodings).
#include "tools/describe.h"

#include <fmt/format.h>

#include "keyspace/keys.h"
#include "keyspace/values.h"

namespace p2l {

// ForkName() is defined once, in lib/import/pgdata_walk.cc.

std::string SlruKindName(uint32_t kind) {
  switch (kind) {
    case uint32_t(SlruKind::kClog): return "clog";
    case uint32_t(SlruKind::kMultiXactMembers): return "multixact-members";
    case uint32_t(SlruKind::kMultiXactOffsets): return "multixact-offsets";
  }
  return fmt::format("slru-kind {}", kind);
}

namespace {

// Names of the sparse key prefixes (§1.2).
const char* MetadataPrefixName(uint8_t f1) {
  switch (f1) {
    case 0x61: return "rel size v2";
    case 0x62: return "aux v2";
    case 0x63: return "replication origin";
    case 0x64: return "dbdir v2";
    case 0x65: return "reldir v2";
  }
  return "reserved";
}

std::string DescribeRelKey(const Key& k) {
  if (k == kDbDirKey) return "dbdir";
  if (k.field4 == 0) {
    // relmap (f6 = 0) and reldir (f6 = 1) of one database; anything else with relnode 0 is not
    // a key the pageserver defines.
    if (k.field5 == 0 && k.field6 == 0) return fmt::format("relmap {}/{}", k.field2, k.field3);
    if (k.field5 == 0 && k.field6 == 1) return fmt::format("reldir {}/{}", k.field2, k.field3);
    if (k.field6 == kSizeKeyBlock) {
      return fmt::format("rel {}/{}/0 {} size (invalid relnode 0)", k.field2, k.field3,
                         ForkName(k.field5));
    }
    return fmt::format("invalid rel key {}/{}/0 {} blk {}", k.field2, k.field3, ForkName(k.field5),
                       k.field6);
  }
  std::string rel = fmt::format("rel {}/{}/{} {}", k.field2, k.field3, k.field4, ForkName(k.field5));
  if (k.field6 == kSizeKeyBlock) return rel + " size";
  return fmt::format("{} blk {}", rel, k.field6);
}

std::string DescribeSlruKey(const Key& k) {
  const std::string kind = SlruKindName(k.field2);
  if (IsSlruDirKey(k)) return fmt::format("slru {} dir", kind);
  if (k.field3 == 1 && k.field5 == 0) {
    if (k.field6 == kSizeKeyBlock) return fmt::format("slru {} seg {} size", kind, k.field4);
    return fmt::format("slru {} seg {} blk {}", kind, k.field4, k.field6);
  }
  return fmt::format("invalid slru key ({})", k.ToHex());
}

uint64_t TwoPhaseXid(const Key& k) {
  return (uint64_t(k.field4) << 40) | (uint64_t(k.field5) << 32) | uint64_t(k.field6);
}

template <typename Set, typename Fn>
std::string FirstEntries(const Set& s, size_t n, Fn fmt1) {
  std::string out;
  size_t i = 0;
  for (const auto& e : s) {
    if (i == n) {
      out += ", ...";
      break;
    }
    if (i > 0) out += ", ";
    out += fmt1(e);
    i++;
  }
  return out;
}

}  // namespace

std::string DescribeKey(const Key& k) {
  switch (k.field1) {
    case 0x00: return DescribeRelKey(k);
    case 0x01: return DescribeSlruKey(k);
    case 0x02:
      if (k == kTwoPhaseDirKey) return "twophase dir";
      if (IsTwoPhaseFileKey(k)) return fmt::format("twophase xid {}", TwoPhaseXid(k));
      return fmt::format("invalid twophase key ({})", k.ToHex());
    case 0x03:
      if (k == kControlFileKey) return "controlfile";
      if (k == kCheckpointKey) return "checkpoint";
      if (k == kAuxFilesKey) return "aux files v1";
      return fmt::format("unknown misc key ({})", k.ToHex());
  }
  if (IsMetadataKey(k)) return fmt::format("metadata 0x{:02X} ({})", k.field1, MetadataPrefixName(k.field1));
  return fmt::format("unknown key class 0x{:02X}", k.field1);
}

std::string DescribeValue(const Key& k, std::string_view value, int pg_major) {
  const std::string what = k.ToHex();
  auto undecodable = [](const Status& st) { return "undecodable: " + st.message(); };
  constexpr size_t kShow = 4;
  if (k == kDbDirKey) {
    auto d = DbDirectory::Decode(value, what);
    if (!d.ok()) return undecodable(d.status());
    return fmt::format("{} databases: {}", d->dbs.size(),
                       FirstEntries(d->dbs, kShow, [](const auto& e) {
                         return fmt::format("{}/{}{}", e.first.first, e.first.second,
                                            e.second ? "" : " (no relmap)");
                       }));
  }
  if (IsRelSizeKey(k) || (k.field1 == 0x00 && k.field6 == kSizeKeyBlock)) {
    auto n = DecodeRelSize(value, what);
    if (!n.ok()) return undecodable(n.status());
    return fmt::format("{} blocks ({}-byte value)", *n, value.size());
  }
  if (IsRelDirKey(k)) {
    auto d = RelDirectory::Decode(value, what);
    if (!d.ok()) return undecodable(d.status());
    return fmt::format("{} relation forks: {}", d->rels.size(),
                       FirstEntries(d->rels, kShow, [](const auto& e) {
                         return fmt::format("{} {}", e.first, ForkName(e.second));
                       }));
  }
  if (IsSlruSegmentSizeKey(k)) {
    auto n = DecodeSlruSegmentSize(value, what);
    if (!n.ok()) return undecodable(n.status());
    return fmt::format("{} blocks", *n);
  }
  if (IsSlruDirKey(k)) {
    auto d = SlruSegmentDirectory::Decode(value, what);
    if (!d.ok()) return undecodable(d.status());
    return fmt::format("{} segments: {}", d->segments.size(),
                       FirstEntries(d->segments, kShow, [](const auto& e) {
                         return fmt::format("{:04X}", e);
                       }));
  }
  if (k == kTwoPhaseDirKey) {
    auto v14 = TwoPhaseDirectory::Decode(value, what);
    auto v17 = TwoPhaseDirectoryV17::Decode(value, what);
    const bool use17 = pg_major >= 17 ? v17.ok() : (!v14.ok() && v17.ok());
    if (use17) {
      return fmt::format("{} prepared xids (64-bit): {}", v17->xids.size(),
                         FirstEntries(v17->xids, kShow, [](const auto& e) {
                           return fmt::format("{}", e);
                         }));
    }
    if (!v14.ok()) return undecodable(v14.status());
    return fmt::format("{} prepared xids: {}", v14->xids.size(),
                       FirstEntries(v14->xids, kShow, [](const auto& e) {
                         return fmt::format("{}", e);
                       }));
  }
  if (k == kControlFileKey) return fmt::format("pg_control, {} bytes", value.size());
  if (k == kCheckpointKey) return fmt::format("CheckPoint, {} bytes", value.size());
  return "";
}

std::string HexBytes(std::string_view data, size_t max_bytes) {
  static const char* kHex = "0123456789abcdef";
  const size_t n = (max_bytes == 0 || data.size() <= max_bytes) ? data.size() : max_bytes;
  std::string out;
  out.reserve(n * 2 + 3);
  for (size_t i = 0; i < n; i++) {
    const uint8_t c = uint8_t(data[i]);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  if (n < data.size()) out += "...";
  return out;
}

}  // namespace p2l
