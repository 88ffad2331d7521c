// File names in pg_twophase/ (one state file per prepared transaction).
// PG 14-16 name a file by its 32-bit xid: "%08X" (8 upper-case hex digits).
// PG 17 names it by the FullTransactionId (epoch << 32 | xid): "%08X%08X" (16 digits).
// PostgreSQL itself only accepts exactly that length and the characters 0-9A-F when it scans
// the directory (restoreTwoPhaseData), so the parser does the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace p2l {

// The file name PostgreSQL `pg_major` uses for transaction `full_xid`. For PG 14-16 only the
// low 32 bits (the xid) appear in the name.
std::string TwoPhaseFileName(uint64_t full_xid, int pg_major);
// Parses a pg_twophase file name of `pg_major`: the xid (PG 14-16) or full xid (PG 17+).
// nullopt for any other name (wrong length, lower-case hex, other characters).
std::optional<uint64_t> ParseTwoPhaseFileName(std::string_view name, int pg_major);

// Checks a two-phase state file's envelope as PostgreSQL's ReadTwoPhaseFile does before it will
// start (the same in 14-17): a header starting with magic 0x57F94534 and total_len equal to the file
// size, a CRC-32C of everything before the last 4 bytes stored in them, at a MAXALIGNed offset,
// and room for at least the header and one record. The error says what is wrong (the caller
// names the file).
Status CheckTwoPhaseFile(std::string_view data);

}  // namespace p2l
