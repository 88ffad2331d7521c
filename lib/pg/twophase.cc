// pg_twophase file names; see twophase.h.

#include "pg/twophase.h"

#include <fmt/format.h>

#include "pg/controlfile.h"
#include "util/coding.h"

namespace p2l {
namespace {

// 17 is the first major version with FullTransactionId-named two-phase files.
bool UsesFullXid(int pg_major) { return pg_major >= 17; }

constexpr uint32_t kTwoPhaseMagic = 0x57F94534;
// The fixed fields of TwoPhaseFileHeader up to total_len (magic, total_len), and the smallest
// file ReadTwoPhaseFile accepts: MAXALIGN(header) + MAXALIGN(one record header) + the CRC; the
// header is at least 56 bytes in every supported version and a record header 8.
constexpr size_t kMinTwoPhaseFile = 56 + 8 + 4;

}  // namespace

std::string TwoPhaseFileName(uint64_t full_xid, int pg_major) {
  if (UsesFullXid(pg_major)) {
    return fmt::format("{:08X}{:08X}", uint32_t(full_xid >> 32), uint32_t(full_xid));
  }
  return fmt::format("{:08X}", uint32_t(full_xid));
}

std::optional<uint64_t> ParseTwoPhaseFileName(std::string_view name, int pg_major) {
  const size_t want = UsesFullXid(pg_major) ? 16 : 8;
  if (name.size() != want) return std::nullopt;
  uint64_t v = 0;
  for (char c : name) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | uint64_t(d);
  }
  return v;
}

Status CheckTwoPhaseFile(std::string_view data) {
  if (data.size() < kMinTwoPhaseFile) {
    return Status::InvalidInput(fmt::format("size {} is too small for a two-phase state file (at least {} bytes)",
                                            data.size(), kMinTwoPhaseFile));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const uint32_t magic = DecodeLE32(p);
  if (magic != kTwoPhaseMagic) {
    return Status::InvalidInput(
        fmt::format("not a two-phase state file: magic 0x{:08x}, expected 0x{:08x}", magic, kTwoPhaseMagic));
  }
  const uint32_t total_len = DecodeLE32(p + 4);
  if (total_len != data.size()) {
    return Status::InvalidInput(
        fmt::format("two-phase state file says it is {} bytes long, the file has {}", total_len, data.size()));
  }
  const size_t crc_off = data.size() - 4;
  if (crc_off % 8 != 0) {
    return Status::InvalidInput(
        fmt::format("two-phase state file size {} leaves its checksum at an unaligned offset", data.size()));
  }
  const uint32_t stored = DecodeLE32(p + crc_off);
  const uint32_t computed = Crc32c(p, crc_off);
  if (stored != computed) {
    return Status::InvalidInput(fmt::format(
        "two-phase state file checksum mismatch: stored 0x{:08x}, computed 0x{:08x}", stored, computed));
  }
  return Status::OK();
}

}  // namespace p2l
