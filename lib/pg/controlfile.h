// PostgreSQL's global/pg_control (ControlFileData), PG 14-17. Offsets are identical in all four
// (keyspace-and-sharding.md §2.5); the CRC-32C at offset 288 covers bytes [0, 288).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace p2l {

inline constexpr uint32_t kBlockSize = 8192;         // BLCKSZ
inline constexpr uint32_t kRelSegSize = 131072;      // RELSEG_SIZE, blocks per 1 GiB segment
inline constexpr size_t kControlFileDataSize = 296;  // sizeof(ControlFileData)
inline constexpr size_t kControlFileMaxSize = 8192;  // PG_CONTROL_FILE_SIZE

enum class DbState : uint32_t {
  kStartup = 0,
  kShutdowned = 1,
  kShutdownedInRecovery = 2,
  kShutdowning = 3,
  kInCrashRecovery = 4,
  kInArchiveRecovery = 5,
  kInProduction = 6,
};
const char* DbStateName(uint32_t state);  // "shut down", "in production", ... or "unknown (N)"

// In the message of every "unsupported PostgreSQL version" error of ControlFile::Parse.
inline constexpr std::string_view kServedVersionsText = "a Neon pageserver serves PostgreSQL 14-17 only";

struct ControlFile {
  std::string raw;               // the whole object, verbatim (CONTROLFILE_KEY value)
  int pg_major = 0;              // 14..17 from catalog_version_no
  uint64_t system_identifier = 0;
  uint32_t pg_control_version = 0;
  uint32_t catalog_version = 0;
  uint32_t state = 0;            // DbState
  uint64_t checkpoint_lsn = 0;   // offset 32: start of the last checkpoint record
  uint64_t redo_lsn = 0;         // checkPointCopy.redo
  uint32_t blcksz = 0, relseg_size = 0, xlog_blcksz = 0, xlog_seg_size = 0;
  uint32_t data_checksum_version = 0;  // 0 = checksums off

  // Checks, in this order: size (>= 296, <= 8192), CRC-32C, catalog version (14..17), bool bytes
  // 0/1, BLCKSZ 8192 and RELSEG_SIZE 131072, state 0..6, checkPoint LSN non-zero (and small
  // enough that BaseLsn() + 8 does not wrap). Errors (Code::kInvalidInput) name `name`, the
  // field and its offset, and the expected value.
  static Result<ControlFile> Parse(std::string_view bytes, std::string_view name);

  // align8(checkpoint_lsn): the LSN of every image layer of the import.
  uint64_t BaseLsn() const { return (checkpoint_lsn + 7) & ~uint64_t(7); }
  // CHECKPOINT_KEY value: raw bytes [40, 128), 88 bytes, padding and PG17 wal_level included.
  std::string CheckpointBytes() const { return raw.substr(40, 88); }
  bool CleanlyShutDown() const { return state == uint32_t(DbState::kShutdowned); }
  bool HasChecksums() const { return data_checksum_version != 0; }
};

// CRC-32C (Castagnoli). Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(const uint8_t* data, size_t n, uint32_t crc = 0);

}  // namespace p2l
