// Relation map validation; see relmap.h.
#include "pg/relmap.h"

#include <fmt/format.h>

#include "pg/controlfile.h"
#include "util/coding.h"

namespace p2l {
namespace {

constexpr uint32_t kRelmapMagic = 0x592717;
uint32_t MaxMappings(int pg_major) { return pg_major >= 16 ? 64 : 62; }

}  // namespace

uint64_t RelmapFileSize(int pg_major) { return pg_major >= 16 ? 524 : 512; }

Status CheckRelmap(std::string_view data, int pg_major) {
  const uint64_t want = RelmapFileSize(pg_major);
  if (data.size() != want) {
    return Status::InvalidInput(
        fmt::format("size {} is not the {} bytes of a PostgreSQL {} relation map", data.size(), want, pg_major));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const uint32_t magic = DecodeLE32(p);
  if (magic != kRelmapMagic) {
    return Status::InvalidInput(
        fmt::format("not a relation map: magic 0x{:x}, expected 0x{:x}", magic, kRelmapMagic));
  }
  const uint32_t n = DecodeLE32(p + 4);
  if (n > MaxMappings(pg_major)) {
    return Status::InvalidInput(fmt::format("relation map holds {} mappings, at most {} are possible in PostgreSQL {}",
                                            n, MaxMappings(pg_major), pg_major));
  }
  const size_t crc_off = 8 + 8 * size_t(MaxMappings(pg_major));
  const uint32_t stored = DecodeLE32(p + crc_off);
  const uint32_t computed = Crc32c(p, crc_off);
  if (stored != computed) {
    return Status::InvalidInput(
        fmt::format("relation map checksum mismatch: stored 0x{:08x}, computed 0x{:08x}", stored, computed));
  }
  return Status::OK();
}

}  // namespace p2l
