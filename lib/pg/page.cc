// PostgreSQL page verification: data checksums and page header sanity.
//
// Page header (PageHeaderData, 24 bytes, little-endian):
//   0 pd_lsn (8)  8 pd_checksum (2)  10 pd_flags (2)  12 pd_lower (2)  14 pd_upper (2)
//   16 pd_special (2)  18 pd_pagesize_version (2)  20 pd_prune_xid (4)
//
// Checksum (PostgreSQL's documented data-checksum design, storage/checksum_impl.h): the page is
// viewed as a [BLCKSZ / 128][32] array of uint32 words. Each of the 32 columns ("lanes") is
// hashed on its own, starting from its own fixed offset basis, with the FNV-1a-like step
//     tmp = sum ^ word;  sum = tmp * 16777619 ^ (tmp >> 17)
// then two further steps with word 0; the lanes are xor-folded, xor-ed with the block number
// and reduced to (x % 65535) + 1, so a stored checksum is never 0. pd_checksum counts as 0.

#include "pg/page.h"

#include <fmt/format.h>

#include <cstddef>

#include "pg/controlfile.h"
#include "util/coding.h"

namespace p2l {
namespace {

constexpr int kLanes = 32;                    // N_SUMS
constexpr uint32_t kFnvPrime = 16777619u;     // FNV_PRIME
constexpr size_t kRows = kBlockSize / (sizeof(uint32_t) * kLanes);  // 64

// The offset basis of each lane (checksumBaseOffsets): fixed values, part of the on-disk format.
constexpr uint32_t kLaneBasis[kLanes] = {
    0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
    0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
    0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
    0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
};

inline uint32_t Mix(uint32_t sum, uint32_t word) {
  const uint32_t tmp = sum ^ word;
  return (tmp * kFnvPrime) ^ (tmp >> 17);
}

// Header field offsets and constants (bufpage.h).
constexpr size_t kOffChecksum = 8;
constexpr size_t kOffFlags = 10;
constexpr size_t kOffLower = 12;
constexpr size_t kOffUpper = 14;
constexpr size_t kOffSpecial = 16;
constexpr size_t kOffPageSizeVersion = 18;
constexpr uint16_t kSizeOfPageHeaderData = 24;
constexpr uint16_t kValidFlagBits = 0x0007;  // PD_HAS_FREE_LINES | PD_PAGE_FULL | PD_ALL_VISIBLE
constexpr uint16_t kPageLayoutVersion = 4;   // PG_PAGE_LAYOUT_VERSION (PG 8.3+)
constexpr uint16_t kMaxAlign = 8;            // MAXIMUM_ALIGNOF on x86-64/aarch64

void SetWhy(std::string* why, std::string s) {
  if (why != nullptr) *why = std::move(s);
}

}  // namespace

uint16_t PgChecksumPage(const uint8_t* page, uint32_t blkno) {
  uint32_t sums[kLanes];
  for (int j = 0; j < kLanes; j++) sums[j] = kLaneBasis[j];
  for (size_t i = 0; i < kRows; i++) {
    const uint8_t* row = page + i * kLanes * sizeof(uint32_t);
    for (int j = 0; j < kLanes; j++) {
      uint32_t word = DecodeLE32(row + j * sizeof(uint32_t));
      // Word 2 holds pd_checksum (bytes 8-9, the low half in little-endian) and pd_flags.
      if (i == 0 && j == int(kOffChecksum / sizeof(uint32_t))) word &= 0xFFFF0000u;
      sums[j] = Mix(sums[j], word);
    }
  }
  for (int round = 0; round < 2; round++) {
    for (int j = 0; j < kLanes; j++) sums[j] = Mix(sums[j], 0);
  }
  uint32_t folded = 0;
  for (int j = 0; j < kLanes; j++) folded ^= sums[j];
  folded ^= blkno;
  return uint16_t((folded % 65535u) + 1u);
}

PageCheck CheckPage(const uint8_t* page, uint32_t blkno, bool checksums, std::string* why) {
  const uint16_t flags = DecodeLE16(page + kOffFlags);
  const uint16_t lower = DecodeLE16(page + kOffLower);
  const uint16_t upper = DecodeLE16(page + kOffUpper);
  const uint16_t special = DecodeLE16(page + kOffSpecial);
  const uint16_t size_version = DecodeLE16(page + kOffPageSizeVersion);

  // PageIsNew (pd_upper == 0): valid only if the whole page is zero.
  if (upper == 0) {
    for (size_t i = 0; i < kBlockSize; i++) {
      if (page[i] != 0) {
        SetWhy(why, "pd_upper is 0 (new page) but the page is not all zeros (first non-zero byte at "
                    "offset " + std::to_string(i) + ")");
        return PageCheck::kBadHeader;
      }
    }
    SetWhy(why, "all-zero page");
    return PageCheck::kNew;
  }

  auto bad_header = [&](std::string s) {
    SetWhy(why, std::move(s));
    return PageCheck::kBadHeader;
  };
  if ((flags & ~kValidFlagBits) != 0) {
    return bad_header(fmt::format("pd_flags 0x{:04X} has bits outside PD_VALID_FLAG_BITS (0x0007)", flags));
  }
  if (size_version != (kBlockSize | kPageLayoutVersion)) {
    return bad_header("pd_pagesize_version is " + std::to_string(size_version) + ", expected " +
                      std::to_string(kBlockSize | kPageLayoutVersion) + " (8192 | layout version 4)");
  }
  if (lower < kSizeOfPageHeaderData) {
    return bad_header("pd_lower " + std::to_string(lower) + " is below the header size 24");
  }
  if (!(lower <= upper && upper <= special && special <= kBlockSize)) {
    return bad_header("pd_lower " + std::to_string(lower) + ", pd_upper " + std::to_string(upper) +
                      ", pd_special " + std::to_string(special) +
                      ": expected pd_lower <= pd_upper <= pd_special <= 8192");
  }
  if (special % kMaxAlign != 0) {
    return bad_header("pd_special " + std::to_string(special) + " is not MAXALIGNed (8)");
  }

  if (checksums) {
    const uint16_t stored = DecodeLE16(page + kOffChecksum);
    const uint16_t computed = PgChecksumPage(page, blkno);
    if (stored != computed) {
      SetWhy(why, "checksum mismatch for block " + std::to_string(blkno) + ": stored " +
                      std::to_string(stored) + ", computed " + std::to_string(computed));
      return PageCheck::kBadChecksum;
    }
  }
  SetWhy(why, "");
  return PageCheck::kOk;
}

}  // namespace p2l
