// Tests for lib/pg/relfile.{h,cc} (keyspace-and-sharding.md §3.2, §3.5) and twophase.{h,cc}.

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <tuple>

#include "pg/fuzz_entry.h"
#include "pg/relfile.h"
#include "pg/twophase.h"

namespace p2l {
namespace {

std::optional<std::tuple<uint32_t, int, uint32_t>> Rel(std::string_view name) {
  auto r = ParseRelFileName(name);
  if (!r) return std::nullopt;
  return std::make_tuple(r->relnode, int(r->fork), r->segno);
}

using T = std::tuple<uint32_t, int, uint32_t>;

}  // namespace

TEST_CASE("ParseRelFileName: the examples table of §3.2") {
  CHECK(Rel("1234") == T{1234, 0, 0});
  CHECK(Rel("1234_vm.12") == T{1234, 2, 12});
  CHECK(Rel("3147483648") == T{3147483648u, 0, 0});
  CHECK(Rel("0") == T{0, 0, 0});
  CHECK(Rel("1.123456") == T{1, 0, 123456});
  for (const char* skipped : {"foo", "1.2.3", "1234_", "1234_invalid", "12345678901", "-1234",
                              "t3_16384", "pg_internal.init", "PG_VERSION", "pg_filenode.map",
                              "pg_control"}) {
    CAPTURE(skipped);
    CHECK(!ParseRelFileName(skipped).has_value());
  }
}

TEST_CASE("ParseRelFileName: forks, segments, bounds and odd spellings") {
  CHECK(Rel("16384_fsm") == T{16384, 1, 0});
  CHECK(Rel("16384_vm") == T{16384, 2, 0});
  CHECK(Rel("16384_init") == T{16384, 3, 0});
  CHECK(Rel("16384_init.3") == T{16384, 3, 3});
  CHECK(Rel("16384.1") == T{16384, 0, 1});
  CHECK(Rel("0016384") == T{16384, 0, 0});      // leading zeros (§7.18)
  CHECK(Rel("16384.007") == T{16384, 0, 7});
  CHECK(Rel("4294967295") == T{4294967295u, 0, 0});
  CHECK(Rel("1.4294967295") == T{1, 0, 4294967295u});
  for (const char* skipped :
       {"", "16384.99999999999", "4294967296", "1.4294967296", "16384_vm.1_fsm", "+5", "16384.+1",
        "1234.", "1234_vm.", ".1", "_vm", "1234_VM", "1234_fsm_vm", "1234__vm", "1234 ", " 1234",
        "1234_vm_", "12a", "1234.1a", "1234_fsm1", "t16384", "١٢٣" /* Arabic-Indic digits */}) {
    CAPTURE(skipped);
    CHECK(!ParseRelFileName(skipped).has_value());
  }
  CHECK(!ParseRelFileName(std::string_view("1234\0", 5)).has_value());
}

TEST_CASE("RelFileNameString is canonical and round-trips") {
  CHECK(RelFileNameString({16384, kMainFork, 0}) == "16384");
  CHECK(RelFileNameString({16384, kVmFork, 0}) == "16384_vm");
  CHECK(RelFileNameString({16384, kFsmFork, 0}) == "16384_fsm");
  CHECK(RelFileNameString({16384, kMainFork, 2}) == "16384.2");
  CHECK(RelFileNameString({1, kInitFork, 7}) == "1_init.7");
  CHECK(RelFileNameString({4294967295u, kVmFork, 4294967295u}) == "4294967295_vm.4294967295");
  for (const char* name : {"1", "16384_vm.12", "0016384_fsm.01"}) {
    auto r = ParseRelFileName(name);
    REQUIRE(r);
    auto again = ParseRelFileName(RelFileNameString(*r));
    REQUIRE(again);
    CHECK(again->relnode == r->relnode);
    CHECK(again->fork == r->fork);
    CHECK(again->segno == r->segno);
  }
}

TEST_CASE("ParseSlruSegmentName (§3.5)") {
  CHECK(ParseSlruSegmentName("0000") == 0u);
  CHECK(ParseSlruSegmentName("0A1B") == 0x0A1Bu);
  CHECK(ParseSlruSegmentName("0a1b") == 0x0A1Bu);
  CHECK(ParseSlruSegmentName("ffff") == 0xFFFFu);
  CHECK(ParseSlruSegmentName("FFFFFFFF") == 0xFFFFFFFFu);
  CHECK(ParseSlruSegmentName("00000000FFFFFFFF") == 0xFFFFFFFFu);  // any length that fits
  CHECK(ParseSlruSegmentName("0") == 0u);
  CHECK(ParseSlruSegmentName("000000000000001") == 1u);             // PG17 long names
  CHECK(ParseSlruSegmentName("+1F") == 0x1Fu);                      // from_str_radix allows '+'
  for (const char* bad : {"1FFFFFFFF", "xyz", "", "+", "-1", "0x10", " 1", "1 ", "00G0", "++1"}) {
    CAPTURE(bad);
    CHECK(!ParseSlruSegmentName(bad).has_value());
  }
}

TEST_CASE("pg_twophase file names: 8 hex digits before PG17, 16 from PG17") {
  CHECK(TwoPhaseFileName(742, 14) == "000002E6");
  CHECK(TwoPhaseFileName(742, 16) == "000002E6");
  CHECK(TwoPhaseFileName(0x00000001000002E6ull, 16) == "000002E6");  // only the xid
  CHECK(TwoPhaseFileName(742, 17) == "00000000000002E6");
  CHECK(TwoPhaseFileName(0x00000001FFFFFFFFull, 17) == "00000001FFFFFFFF");
  CHECK(ParseTwoPhaseFileName("000002E6", 15) == 742u);
  CHECK(ParseTwoPhaseFileName("FFFFFFFF", 14) == 0xFFFFFFFFull);
  CHECK(ParseTwoPhaseFileName("00000001000002E6", 17) == 0x00000001000002E6ull);
  CHECK(ParseTwoPhaseFileName("FFFFFFFFFFFFFFFF", 17) == ~uint64_t(0));
  for (const char* bad : {"000002e6", "000002E", "0000002E6", "00000000000002E6", "", "0000G2E6",
                          "+00002E6"}) {
    CAPTURE(bad);
    CHECK(!ParseTwoPhaseFileName(bad, 16).has_value());
  }
  for (const char* bad : {"000002E6", "00000000000002e6", "000000000000002E6", "0000000000000-E6"}) {
    CAPTURE(bad);
    CHECK(!ParseTwoPhaseFileName(bad, 17).has_value());
  }
}

TEST_CASE("FuzzRelFileName holds its properties on sample names") {
  for (std::string s : std::initializer_list<std::string>{"", "1234", "0016384_vm.0012", "1.2.3", "+5", "ffff", "000002E6",
                        "00000000000002E6", std::string("\0\xff\x80", 3)}) {
    CAPTURE(s);
    CHECK(FuzzRelFileName(reinterpret_cast<const uint8_t*>(s.data()), s.size()) == 0);
  }
}

}  // namespace p2l
