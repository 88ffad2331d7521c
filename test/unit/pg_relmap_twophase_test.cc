// Tests for lib/pg/relmap.{h,cc} and CheckTwoPhaseFile (lib/pg/twophase.h) against real files of
// PostgreSQL 15 and 17 (test/data/pg/README.md) and deliberately broken copies of them.
#include <doctest/doctest.h>

#include <string>

#include "pg/controlfile.h"
#include "pg/relmap.h"
#include "pg/twophase.h"
#include "plan_test_util.h"
#include "util/coding.h"

namespace p2l {
namespace {

void PutLE32(std::string* s, size_t off, uint32_t v) {
  for (int i = 0; i < 4; i++) (*s)[off + i] = char((v >> (8 * i)) & 0xff);
}
// Re-seals a buffer's trailing CRC-32C at `crc_off` (so a test reaches the check after the CRC).
void Reseal(std::string* s, size_t crc_off) {
  PutLE32(s, crc_off, Crc32c(reinterpret_cast<const uint8_t*>(s->data()), crc_off));
}

}  // namespace

TEST_CASE("CheckRelmap accepts real relation maps of PostgreSQL 15 and 17") {
  CHECK(RelmapFileSize(14) == 512);
  CHECK(RelmapFileSize(15) == 512);
  CHECK(RelmapFileSize(16) == 524);
  CHECK(RelmapFileSize(17) == 524);
  const std::string m15 = plantest::ReadTestData("../data/pg/relmap_pg15_global.map");
  const std::string m17 = plantest::ReadTestData("../data/pg/relmap_pg17_global.map");
  CHECK(CheckRelmap(m15, 15).ok());
  CHECK(CheckRelmap(m15, 14).ok());
  CHECK(CheckRelmap(m17, 17).ok());
  CHECK(CheckRelmap(m17, 16).ok());
  // the other generation's size is refused by name
  Status st = CheckRelmap(m15, 17);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message().find("524 bytes of a PostgreSQL 17 relation map") != std::string::npos);
}

TEST_CASE("CheckRelmap refuses broken relation maps") {
  const std::string good = plantest::ReadTestData("../data/pg/relmap_pg17_global.map");
  SUBCASE("random bytes") {
    std::string bad(524, '\0');
    for (size_t i = 0; i < bad.size(); i++) bad[i] = char((i * 131 + 7) & 0xff);
    CHECK(CheckRelmap(bad, 17).message().find("not a relation map: magic") != std::string::npos);
  }
  SUBCASE("a flipped bit") {
    std::string bad = good;
    bad[20] ^= 0x10;
    CHECK(CheckRelmap(bad, 17).message().find("relation map checksum mismatch") != std::string::npos);
  }
  SUBCASE("too many mappings, checksum right") {
    std::string bad = good;
    PutLE32(&bad, 4, 65);
    Reseal(&bad, 8 + 8 * 64);
    CHECK(CheckRelmap(bad, 17).message().find("holds 65 mappings, at most 64") != std::string::npos);
  }
  SUBCASE("zeros") {
    CHECK(!CheckRelmap(std::string(524, '\0'), 17).ok());
  }
}

TEST_CASE("CheckTwoPhaseFile accepts real two-phase state files of PostgreSQL 15 and 17") {
  CHECK(CheckTwoPhaseFile(plantest::ReadTestData("../data/pg/twophase_pg15")).ok());
  CHECK(CheckTwoPhaseFile(plantest::ReadTestData("../data/pg/twophase_pg17")).ok());
}

TEST_CASE("CheckTwoPhaseFile refuses broken two-phase state files") {
  const std::string good = plantest::ReadTestData("../data/pg/twophase_pg17");
  REQUIRE(good.size() > 68);
  SUBCASE("random bytes") {
    std::string bad(512, '\0');
    for (size_t i = 0; i < bad.size(); i++) bad[i] = char((i * 37 + 11) & 0xff);
    CHECK(CheckTwoPhaseFile(bad).message().find("not a two-phase state file: magic") != std::string::npos);
  }
  SUBCASE("too small") {
    CHECK(CheckTwoPhaseFile(good.substr(0, 20)).message().find("too small") != std::string::npos);
    CHECK(!CheckTwoPhaseFile("").ok());
  }
  SUBCASE("length field disagrees with the file") {
    std::string bad = good + std::string(8, '\0');
    CHECK(CheckTwoPhaseFile(bad).message().find("says it is") != std::string::npos);
  }
  SUBCASE("a flipped bit") {
    std::string bad = good;
    bad[40] ^= 0x01;
    CHECK(CheckTwoPhaseFile(bad).message().find("two-phase state file checksum mismatch") != std::string::npos);
  }
  SUBCASE("unaligned checksum") {
    std::string bad = good + std::string(4, '\0');
    PutLE32(&bad, 4, uint32_t(bad.size()));
    CHECK(CheckTwoPhaseFile(bad).message().find("unaligned") != std::string::npos);
  }
}

}  // namespace p2l
