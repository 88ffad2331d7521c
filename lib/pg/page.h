// PostgreSQL page verification: the data-checksum algorithm (pg_checksum_page, FNV-1a based,
// N_SUMS = 32) and header sanity checks (PageIsVerified without the checksum part).
#pragma once

#include <cstdint>
#include <string>

namespace p2l {

// The checksum PostgreSQL stores in pd_checksum for page `blkno` (absolute block number within
// the fork, i.e. segno * RELSEG_SIZE + block in segment).
uint16_t PgChecksumPage(const uint8_t* page, uint32_t blkno);

enum class PageCheck { kOk, kNew /* all-zero page, valid */, kBadHeader, kBadChecksum };
// Checks one 8 KiB relation page like PostgreSQL's PageIsVerified: an all-zero page is valid;
// otherwise pd_lower/pd_upper/pd_special must be ordered and within the page, pd_flags must have
// no unknown bits, the page size/version must be 8192/4; with checksums on, pd_checksum must equal
// PgChecksumPage. `why` (optional) gets a one-line reason.
PageCheck CheckPage(const uint8_t* page, uint32_t blkno, bool checksums, std::string* why = nullptr);

}  // namespace p2l
