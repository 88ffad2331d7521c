// pg_filenode.map: a database's (or global/'s) relation map, PostgreSQL's relmapper.c RelMapFile:
//   int32 magic (0x592717), int32 num_mappings, RelMapping mappings[N] (oid, filenumber: 8 bytes
//   each), pg_crc32c crc over everything before it, then (14/15 only) 4 bytes of padding.
// N (MAX_MAPPINGS) is 62 in PostgreSQL 14/15 (a 512-byte file) and 64 from 16 on (524 bytes).
// PostgreSQL refuses to start (FATAL "relation mapping file ... contains invalid data" or "...
// incorrect checksum") on a map that fails these checks, so the import refuses it too.
#pragma once

#include <cstdint>
#include <string_view>

#include "util/status.h"

namespace p2l {

// The file size of a relation map of PostgreSQL `pg_major` (512 or 524).
uint64_t RelmapFileSize(int pg_major);
// Checks magic, mapping count and CRC-32C of a relation map; the error says what is wrong (the
// caller names the file).
Status CheckRelmap(std::string_view data, int pg_major);

}  // namespace p2l
