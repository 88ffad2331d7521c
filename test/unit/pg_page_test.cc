// Tests for lib/pg/page.{h,cc}: data checksums and header checks on real checksummed pages of
// PG 14-17 (test/data/pg/, made by regenerate.sh with initdb --data-checksums).

#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pg/controlfile.h"
#include "pg/fuzz_entry.h"
#include "pg/page.h"
#include "util/coding.h"

namespace p2l {
namespace {

struct RealPage {
  const char* file;
  uint32_t blkno;
};
// Block numbers are those the pages had in their relation fork (see test/data/pg/README.md).
constexpr RealPage kRealPages[] = {
    {"pg14_heap_blk5.page", 5},  {"pg14_btree_blk1.page", 1}, {"pg15_heap_blk5.page", 5},
    {"pg15_btree_blk1.page", 1}, {"pg16_heap_blk5.page", 5},  {"pg16_btree_blk1.page", 1},
    {"pg17_heap_blk5.page", 5},  {"pg17_btree_blk1.page", 1}, {"pg17_fsm_blk0.page", 0},
    {"pg17_vm_blk0.page", 0},
};

std::vector<uint8_t> ReadPage(const char* name) {
  std::string path = std::string("../data/pg/") + name;
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path << " (tests run from test/unit/)");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  REQUIRE(s.size() == kBlockSize);
  return std::vector<uint8_t>(s.begin(), s.end());
}

uint16_t StoredChecksum(const std::vector<uint8_t>& p) { return DecodeLE16(p.data() + 8); }
void SetU16(std::vector<uint8_t>* p, size_t off, uint16_t v) {
  (*p)[off] = uint8_t(v);
  (*p)[off + 1] = uint8_t(v >> 8);
}

}  // namespace

TEST_CASE("real checksummed pages verify with their block numbers") {
  for (const auto& rp : kRealPages) {
    CAPTURE(rp.file);
    auto page = ReadPage(rp.file);
    CHECK(StoredChecksum(page) != 0);
    CHECK(PgChecksumPage(page.data(), rp.blkno) == StoredChecksum(page));
    std::string why = "unset";
    CHECK(CheckPage(page.data(), rp.blkno, true, &why) == PageCheck::kOk);
    CHECK(why.empty());
    CHECK(CheckPage(page.data(), rp.blkno, false) == PageCheck::kOk);
    // The block number is part of the checksum.
    CHECK(CheckPage(page.data(), rp.blkno + 1, true) == PageCheck::kBadChecksum);
    CHECK(CheckPage(page.data(), rp.blkno + kRelSegSize, true) == PageCheck::kBadChecksum);
    // The stored pd_checksum itself does not take part in the computation.
    auto copy = page;
    SetU16(&copy, 8, 0);
    CHECK(PgChecksumPage(copy.data(), rp.blkno) == StoredChecksum(page));
    SetU16(&copy, 8, 0xFFFF);
    CHECK(PgChecksumPage(copy.data(), rp.blkno) == StoredChecksum(page));
    CHECK(FuzzPage(page.data(), page.size()) == 0);
  }
}

TEST_CASE("one flipped bit anywhere gives kBadChecksum") {
  for (const auto& rp : kRealPages) {
    CAPTURE(rp.file);
    const auto good = ReadPage(rp.file);
    // The header words whose flips keep the header sane (pd_lsn, pd_checksum, pd_prune_xid), and
    // a spread of positions over the rest of the page.
    std::vector<size_t> positions = {0, 3, 7, 8, 9, 20, 23};
    for (size_t i = 24; i < kBlockSize; i += 61) positions.push_back(i);
    positions.push_back(kBlockSize - 1);
    for (size_t pos : positions) {
      auto page = good;
      page[pos] ^= uint8_t(1u << (pos % 8));
      CAPTURE(pos);
      std::string why;
      CHECK(CheckPage(page.data(), rp.blkno, true, &why) == PageCheck::kBadChecksum);
      CHECK(why.find("checksum mismatch for block " + std::to_string(rp.blkno)) != std::string::npos);
      // Without checksums such damage is invisible.
      CHECK(CheckPage(page.data(), rp.blkno, false) == PageCheck::kOk);
    }
  }
}

TEST_CASE("broken header fields give kBadHeader") {
  const auto good = ReadPage("pg16_btree_blk1.page");
  const uint16_t lower = DecodeLE16(good.data() + 12);
  const uint16_t upper = DecodeLE16(good.data() + 14);
  const uint16_t special = DecodeLE16(good.data() + 16);
  REQUIRE(lower >= 24);
  REQUIRE(lower < upper);
  REQUIRE(upper <= special);
  REQUIRE(special < kBlockSize);  // btree pages have special space

  struct Case {
    size_t off;
    uint16_t value;
    const char* why;
  };
  const Case kCases[] = {
      {10, 0x0008, "pd_flags 0x0008"},                 // unknown flag bit
      {10, 0x8001, "PD_VALID_FLAG_BITS"},
      {12, 23, "below the header size"},              // pd_lower < SizeOfPageHeaderData
      {12, 0, "below the header size"},
      {12, uint16_t(upper + 1), "pd_lower"},          // pd_lower > pd_upper
      {14, uint16_t(special + 8), "pd_upper"},        // pd_upper > pd_special
      {16, 8200, "pd_special 8200"},                  // pd_special > BLCKSZ
      {16, uint16_t(special + 4), "not MAXALIGNed"},  // not a multiple of 8
      {18, 8192 | 5, "pd_pagesize_version is 8197"},
      {18, 16384 | 4, "expected 8196"},
      {18, 4, "pd_pagesize_version"},
  };
  for (const auto& c : kCases) {
    auto page = good;
    SetU16(&page, c.off, c.value);
    CAPTURE(c.off);
    CAPTURE(c.value);
    for (bool checksums : {true, false}) {
      std::string why;
      CHECK(CheckPage(page.data(), 1, checksums, &why) == PageCheck::kBadHeader);
      CHECK(why.find(c.why) != std::string::npos);
    }
  }
  // pd_upper == 0 marks a new page, which must then be all zeros.
  auto page = good;
  SetU16(&page, 14, 0);
  std::string why;
  CHECK(CheckPage(page.data(), 1, true, &why) == PageCheck::kBadHeader);
  CHECK(why.find("not all zeros") != std::string::npos);
  std::vector<uint8_t> almost_zero(kBlockSize, 0);
  almost_zero[kBlockSize - 1] = 1;
  CHECK(CheckPage(almost_zero.data(), 0, false, &why) == PageCheck::kBadHeader);
  CHECK(why.find("offset 8191") != std::string::npos);
  // Valid flag bits are accepted (checksums off: the flags are covered by the checksum).
  page = good;
  SetU16(&page, 10, 0x0007);
  CHECK(CheckPage(page.data(), 1, false) == PageCheck::kOk);
}

TEST_CASE("an all-zero page is kNew") {
  std::vector<uint8_t> zero(kBlockSize, 0);
  for (uint32_t blkno : {0u, 1u, 131072u, 0xFFFFFFFEu}) {
    std::string why;
    CHECK(CheckPage(zero.data(), blkno, true, &why) == PageCheck::kNew);
    CHECK(CheckPage(zero.data(), blkno, false) == PageCheck::kNew);
  }
  CHECK(FuzzPage(zero.data(), zero.size()) == 0);
}

TEST_CASE("a freshly initialised empty page with its checksum set is kOk") {
  // PageInit(page, BLCKSZ, 0): pd_lower 24, pd_upper = pd_special = 8192, size/version 8196.
  std::vector<uint8_t> page(kBlockSize, 0);
  SetU16(&page, 12, 24);
  SetU16(&page, 14, 8192);
  SetU16(&page, 16, 8192);
  SetU16(&page, 18, 8192 | 4);
  for (uint32_t blkno : {0u, 7u, 131073u}) {
    uint16_t sum = PgChecksumPage(page.data(), blkno);
    CHECK(sum >= 1);  // (x % 65535) + 1 is never 0
    SetU16(&page, 8, sum);
    CHECK(CheckPage(page.data(), blkno, true) == PageCheck::kOk);
    CHECK(CheckPage(page.data(), blkno ^ 1, true) == PageCheck::kBadChecksum);
  }
  // Fuzz entry on short and long inputs.
  CHECK(FuzzPage(page.data(), 100) == 0);
  std::vector<uint8_t> longer(kBlockSize + 4, 0x5A);
  CHECK(FuzzPage(longer.data(), longer.size()) == 0);
}

}  // namespace p2l
