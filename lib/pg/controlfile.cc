// Decoding and validating global/pg_control (ControlFileData), PG 14-17.
// Layout and rules: keyspace-and-sharding.md §2.4 (checkPointCopy), §2.5 (offsets, CRC,
// catalog versions), §7.4/7.5/7.19/7.20. Offsets are identical in all four versions; all
// integers are little-endian (x86-64/aarch64).

#include "pg/controlfile.h"

#include <fmt/format.h>

#include <cstdio>

#include "util/coding.h"

namespace p2l {
namespace {

// ControlFileData offsets (§2.5).
constexpr size_t kOffSystemIdentifier = 0;
constexpr size_t kOffPgControlVersion = 8;
constexpr size_t kOffCatalogVersion = 12;
constexpr size_t kOffState = 16;
constexpr size_t kOffCheckPoint = 32;
constexpr size_t kOffCheckPointCopy = 40;              // 88 bytes, CheckPoint struct (§2.4)
constexpr size_t kOffRedo = kOffCheckPointCopy + 0;    // checkPointCopy.redo
constexpr size_t kOffFullPageWrites = kOffCheckPointCopy + 16;
constexpr size_t kOffBlcksz = 216;
constexpr size_t kOffRelsegSize = 220;
constexpr size_t kOffXlogBlcksz = 224;
constexpr size_t kOffXlogSegSize = 228;
constexpr size_t kOffDataChecksumVersion = 252;
constexpr size_t kOffCrc = 288;  // CRC-32C of bytes [0, 288), u32 LE

// Largest checkPoint for which align8(lsn) + 8 fits in 64 bits.
constexpr uint64_t kMaxCheckpointLsn = ~uint64_t(0) - 15;

struct BoolField {
  size_t offset;
  const char* name;
};
// Every bool of ControlFileData (and of checkPointCopy): bincode rejects anything but 0/1.
constexpr BoolField kBoolFields[] = {
    {kOffFullPageWrites, "checkPointCopy.fullPageWrites"},
    {168, "backupEndRequired"},
    {176, "wal_log_hints"},
    {200, "track_commit_timestamp"},
    {248, "float8ByVal"},
};

struct CatalogVersion {
  uint32_t catalog_version_no;
  int pg_major;
};
constexpr CatalogVersion kCatalogVersions[] = {
    {202107181, 14},
    {202209061, 15},
    {202307071, 16},
    {202406281, 17},
};

}  // namespace

const char* DbStateName(uint32_t state) {
  // The same words as pg_controldata's "Database cluster state".
  switch (state) {
    case 0: return "starting up";
    case 1: return "shut down";
    case 2: return "shut down in recovery";
    case 3: return "shutting down";
    case 4: return "in crash recovery";
    case 5: return "in archive recovery";
    case 6: return "in production";
    default: break;
  }
  thread_local char buf[32];  // "unknown (4294967295)" fits
  std::snprintf(buf, sizeof(buf), "unknown (%u)", unsigned(state));
  return buf;
}

Result<ControlFile> ControlFile::Parse(std::string_view bytes, std::string_view name) {
  auto bad = [&](std::string what) {
    return Status::InvalidInput(fmt::format("{}: {}", name, what));
  };
  // 1. Size: at least sizeof(ControlFileData); PostgreSQL writes PG_CONTROL_FILE_SIZE (8192).
  if (bytes.empty()) return bad("file is empty (expected pg_control of 8192 bytes)");
  if (bytes.size() < kControlFileDataSize) {
    return bad(fmt::format("size {} is too small: pg_control needs at least {} bytes "
                           "(sizeof(ControlFileData)); PostgreSQL writes 8192",
                           bytes.size(), kControlFileDataSize));
  }
  if (bytes.size() > kControlFileMaxSize) {
    return bad(fmt::format("size {} is too large: pg_control is at most {} bytes (PG_CONTROL_FILE_SIZE)",
                           bytes.size(), kControlFileMaxSize));
  }
  const uint8_t* p = U8(bytes);

  // 1b. PostgreSQL 18 and newer grew ControlFileData (the CRC moved): tell the version by the
  // fields whose offsets never changed before checking a CRC at the wrong place. Only a
  // pg_control_version of the form major * 100 (>= 1800) with a newer catalog version counts, so
  // a corrupted 14-17 file is still reported as a CRC mismatch.
  {
    const uint32_t ctl = DecodeLE32(p + kOffPgControlVersion);
    const uint32_t cat = DecodeLE32(p + kOffCatalogVersion);
    if (ctl >= 1800 && ctl < 10000 && ctl % 100 == 0 && cat > kCatalogVersions[3].catalog_version_no &&
        cat < 300000000) {
      return bad(fmt::format("PostgreSQL {} cluster (catalog_version_no {} at offset {}, pg_control_version {} at "
                             "offset {}; its CRC was not checked, the layout differs): not supported; {}",
                             ctl / 100, cat, kOffCatalogVersion, ctl, kOffPgControlVersion, kServedVersionsText));
    }
  }

  // 2. CRC-32C over [0, 288), stored LE at 288.
  const uint32_t stored_crc = DecodeLE32(p + kOffCrc);
  const uint32_t computed_crc = Crc32c(p, kOffCrc);
  if (stored_crc != computed_crc) {
    return bad(fmt::format("CRC-32C mismatch: stored 0x{:08X} at offset {}, computed 0x{:08X} over "
                           "bytes [0, {}) (corrupt or not a pg_control file)",
                           stored_crc, kOffCrc, computed_crc, kOffCrc));
  }

  ControlFile cf;
  cf.system_identifier = DecodeLE64(p + kOffSystemIdentifier);
  cf.pg_control_version = DecodeLE32(p + kOffPgControlVersion);
  cf.catalog_version = DecodeLE32(p + kOffCatalogVersion);
  cf.state = DecodeLE32(p + kOffState);
  cf.checkpoint_lsn = DecodeLE64(p + kOffCheckPoint);
  cf.redo_lsn = DecodeLE64(p + kOffRedo);
  cf.blcksz = DecodeLE32(p + kOffBlcksz);
  cf.relseg_size = DecodeLE32(p + kOffRelsegSize);
  cf.xlog_blcksz = DecodeLE32(p + kOffXlogBlcksz);
  cf.xlog_seg_size = DecodeLE32(p + kOffXlogSegSize);
  cf.data_checksum_version = DecodeLE32(p + kOffDataChecksumVersion);

  // 3. Catalog version -> major version (the only version signal the import uses).
  for (const auto& cv : kCatalogVersions) {
    if (cv.catalog_version_no == cf.catalog_version) cf.pg_major = cv.pg_major;
  }
  if (cf.pg_major == 0) {
    // Name the version where it can be told: pg_control_version is 1300 for 13..16, 1700 for 17,
    // 1800 for 18 (major * 100 from 17 on); catalog versions grow with every release.
    std::string version;
    if (cf.pg_control_version >= 1800 && cf.pg_control_version < 10000) {
      version = fmt::format("PostgreSQL {}", cf.pg_control_version / 100);
    } else if (cf.catalog_version < kCatalogVersions[0].catalog_version_no) {
      version = "PostgreSQL 13 or older";
    } else if (cf.catalog_version > kCatalogVersions[3].catalog_version_no) {
      version = "PostgreSQL 18 or newer (or a development build)";
    } else {
      version = "an unreleased PostgreSQL version";
    }
    return bad(fmt::format("{} cluster (catalog_version_no {} at offset {}, pg_control_version {}): not "
                           "supported; {} (catalog versions 202107181 (PG14), 202209061 (PG15), "
                           "202307071 (PG16), 202406281 (PG17))",
                           version, cf.catalog_version, kOffCatalogVersion, cf.pg_control_version,
                           kServedVersionsText));
  }

  // 4. Bools must be 0 or 1.
  for (const auto& b : kBoolFields) {
    if (p[b.offset] > 1) {
      return bad(fmt::format("bool field {} at offset {} is {}, expected 0 or 1", b.name, b.offset,
                             p[b.offset]));
    }
  }

  // 5. Compile-time sizes the import hard-codes (§3.3, §7.19).
  if (cf.blcksz != kBlockSize) {
    return bad(fmt::format("blcksz at offset {} is {}, expected {}: cluster built with BLCKSZ={} is "
                           "not supported",
                           kOffBlcksz, cf.blcksz, kBlockSize, cf.blcksz));
  }
  if (cf.relseg_size != kRelSegSize) {
    return bad(fmt::format("relseg_size at offset {} is {}, expected {}: cluster built with "
                           "RELSEG_SIZE={} blocks is not supported",
                           kOffRelsegSize, cf.relseg_size, kRelSegSize, cf.relseg_size));
  }

  // 6. DBState enum range.
  if (cf.state > uint32_t(DbState::kInProduction)) {
    return bad(fmt::format("state at offset {} is {}, expected 0..6 (DBState)", kOffState, cf.state));
  }

  // 7. The base LSN comes from checkPoint; it must be set.
  if (cf.checkpoint_lsn == 0) {
    return bad(fmt::format("checkPoint LSN at offset {} is 0/0, expected a non-zero LSN",
                           kOffCheckPoint));
  }

  // align8(checkPoint) + 8 becomes disk_consistent_lsn (§2.5): it must not wrap around.
  if (cf.checkpoint_lsn > kMaxCheckpointLsn) {
    return bad(fmt::format("checkPoint LSN {:X}/{:X} at offset {} is too large, expected at most "
                           "{:X}/{:X}",
                           uint32_t(cf.checkpoint_lsn >> 32), uint32_t(cf.checkpoint_lsn),
                           kOffCheckPoint, uint32_t(kMaxCheckpointLsn >> 32),
                           uint32_t(kMaxCheckpointLsn)));
  }

  cf.raw.assign(bytes.data(), bytes.size());
  return cf;
}

}  // namespace p2l
