// Directory and size values: keyspace-and-sharding.md §2.2 examples byte for byte, and decoder
// rejections (truncation, oversized counts, trailing bytes, duplicates, bad bools).
#include <doctest/doctest.h>

#include <string>

#include "keyspace/values.h"

using namespace p2l;

namespace {

std::string Hex(const std::string& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s.push_back(d[c >> 4]);
    s.push_back(d[c & 15]);
  }
  return s;
}

std::string Unhex(std::string h) {
  std::string clean;
  for (char c : h) if (c != ' ' && c != '|') clean.push_back(c);
  std::string out;
  for (size_t i = 0; i + 1 < clean.size(); i += 2) out.push_back(char(std::stoi(clean.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("values: DbDirectory §2.2 example (fresh initdb: dbs 1, 4, 5 + global)") {
  DbDirectory d;
  d.dbs[{1664, 0}] = true;  // insertion order does not matter: output is sorted
  d.dbs[{1663, 5}] = true;
  d.dbs[{1663, 1}] = true;
  d.dbs[{1663, 4}] = true;
  const std::string expect = Unhex(
      "0000000000000004 | 0000067F 00000001 01 | 0000067F 00000004 01 | 0000067F 00000005 01 | 00000680 00000000 01");
  CHECK(Hex(d.Encode()) == Hex(expect));
  CHECK(d.Encode().size() == 8 + 9 * 4);
  auto back = DbDirectory::Decode(expect, "DBDIR");
  REQUIRE(back.ok());
  CHECK(*back == d);
}

TEST_CASE("values: DbDirectory keeps false bools (tablespace without relmap)") {
  DbDirectory d;
  d.dbs[{1663, 5}] = true;
  d.dbs[{16400, 5}] = false;
  std::string enc = d.Encode();
  CHECK(Hex(enc) == "0000000000000002" "0000067f0000000501" "000040100000000500");
  auto back = DbDirectory::Decode(enc, "DBDIR");
  REQUIRE(back.ok());
  CHECK(back->dbs.at({16400, 5}) == false);
  CHECK(*back == d);
}

TEST_CASE("values: DbDirectory decoder rejections") {
  std::string good = Unhex("0000000000000001 0000067F 00000005 01");
  CHECK(DbDirectory::Decode(good, "x").ok());
  // Truncated: shorter than the count, and missing entry bytes.
  CHECK_FALSE(DbDirectory::Decode(good.substr(0, 7), "x").ok());
  CHECK_FALSE(DbDirectory::Decode(good.substr(0, good.size() - 1), "x").ok());
  // Count larger than the data (would be a huge allocation if trusted).
  std::string huge = Unhex("FFFFFFFFFFFFFFFF 0000067F 00000005 01");
  auto r = DbDirectory::Decode(huge, "DBDIR of layer L");
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("DBDIR of layer L") != std::string::npos);
  // Trailing bytes.
  CHECK_FALSE(DbDirectory::Decode(good + std::string(1, '\0'), "x").ok());
  // Bad bool.
  std::string badbool = Unhex("0000000000000001 0000067F 00000005 02");
  r = DbDirectory::Decode(badbool, "x");
  CHECK_FALSE(r.ok());
  CHECK(r.status().message().find("bool") != std::string::npos);
  // Duplicate (even with a different bool).
  std::string dup = Unhex("0000000000000002 0000067F 00000005 01 0000067F 00000005 00");
  r = DbDirectory::Decode(dup, "x");
  CHECK_FALSE(r.ok());
  CHECK(r.status().message().find("duplicate") != std::string::npos);
  // Any order is accepted on read.
  std::string unsorted = Unhex("0000000000000002 00000680 00000000 01 0000067F 00000005 01");
  CHECK(DbDirectory::Decode(unsorted, "x").ok());
  // Empty.
  auto e = DbDirectory::Decode(std::string(8, '\0'), "x");
  REQUIRE(e.ok());
  CHECK(e->dbs.empty());
}

TEST_CASE("values: RelDirectory §2.2 example and Appendix A") {
  RelDirectory d;
  d.rels = {{16384, 2}, {16384, 0}, {16384, 1}};
  CHECK(Hex(d.Encode()) == Hex(Unhex("0000000000000003 00004000 00 00004000 01 00004000 02")));
  auto back = RelDirectory::Decode(d.Encode(), "reldir");
  REQUIRE(back.ok());
  CHECK(*back == d);
  // Ascending (relnode, fork) numeric order, not byte order of anything else.
  RelDirectory d2;
  d2.rels = {{16385, 0}, {1259, 3}, {16384, 1}};
  CHECK(Hex(d2.Encode()) == "0000000000000003" "000004eb03" "0000400001" "0000400100");
}

TEST_CASE("values: RelDirectory decoder rejections") {
  CHECK_FALSE(RelDirectory::Decode(Unhex("0000000000000002 00004000 00"), "x").ok());  // truncated
  CHECK_FALSE(RelDirectory::Decode(Unhex("0000000000000001 00004000 00 00"), "x").ok());  // trailing
  CHECK_FALSE(RelDirectory::Decode(Unhex("0000000000000002 00004000 00 00004000 00"), "x").ok());  // dup
  CHECK_FALSE(RelDirectory::Decode(Unhex("7FFFFFFFFFFFFFFF 00004000 00"), "x").ok());
  CHECK_FALSE(RelDirectory::Decode("", "x").ok());
  CHECK(RelDirectory::Decode(Unhex("0000000000000002 00004000 01 00004000 00"), "x").ok());
}

TEST_CASE("values: SlruSegmentDirectory") {
  SlruSegmentDirectory d;
  d.segments = {0};
  CHECK(Hex(d.Encode()) == "0000000000000001" "00000000");
  d.segments = {0x1A, 0, 3};
  CHECK(Hex(d.Encode()) == "0000000000000003" "00000000" "00000003" "0000001a");
  auto back = SlruSegmentDirectory::Decode(d.Encode(), "x");
  REQUIRE(back.ok());
  CHECK(*back == d);
  CHECK(Hex(SlruSegmentDirectory{}.Encode()) == "0000000000000000");
  CHECK_FALSE(SlruSegmentDirectory::Decode(Unhex("0000000000000002 00000000 00000000"), "x").ok());
  CHECK_FALSE(SlruSegmentDirectory::Decode(Unhex("0000000000000002 00000000"), "x").ok());
  CHECK_FALSE(SlruSegmentDirectory::Decode(Unhex("0000000000000001 00000000 00"), "x").ok());
}

TEST_CASE("values: TwoPhaseDirectory, both forms") {
  CHECK(Hex(EmptyTwoPhaseDirectory()) == "0000000000000000");
  CHECK(TwoPhaseDirectory{}.Encode() == EmptyTwoPhaseDirectory());
  CHECK(TwoPhaseDirectoryV17{}.Encode() == EmptyTwoPhaseDirectory());
  TwoPhaseDirectory t;
  t.xids = {900, 735};
  CHECK(Hex(t.Encode()) == "0000000000000002" "000002df" "00000384");
  TwoPhaseDirectoryV17 t17;
  t17.xids = {0x100000384ull, 735};
  CHECK(Hex(t17.Encode()) == "0000000000000002" "00000000000002df" "0000000100000384");
  auto b = TwoPhaseDirectory::Decode(t.Encode(), "x");
  REQUIRE(b.ok());
  CHECK(*b == t);
  auto b17 = TwoPhaseDirectoryV17::Decode(t17.Encode(), "x");
  REQUIRE(b17.ok());
  CHECK(*b17 == t17);
  // A V17 value is not a valid <= PG16 value of the same count (length mismatch).
  CHECK_FALSE(TwoPhaseDirectory::Decode(t17.Encode(), "x").ok());
  CHECK(TwoPhaseDirectoryV17::Decode(EmptyTwoPhaseDirectory(), "x").ok());
}

TEST_CASE("values: rel size (8 bytes LE) and SLRU segment size (4 bytes LE)") {
  CHECK(Hex(EncodeRelSize(3)) == "0300000000000000");
  CHECK(Hex(EncodeRelSize(1)) == "0100000000000000");
  CHECK(Hex(EncodeRelSize(131082)) == "0a00020000000000");  // §3.4 example
  auto r = DecodeRelSize(EncodeRelSize(131082), "x");
  REQUIRE(r.ok());
  CHECK(*r == 131082u);
  r = DecodeRelSize(Unhex("0a000200"), "x");  // 4-byte form (WAL ingest / old import)
  REQUIRE(r.ok());
  CHECK(*r == 131082u);
  CHECK_FALSE(DecodeRelSize(Unhex("0a0002"), "x").ok());
  CHECK_FALSE(DecodeRelSize(Unhex("0a00020000000000 00"), "x").ok());
  CHECK_FALSE(DecodeRelSize(Unhex("0000000001000000"), "x").ok());  // >= 2^32 blocks

  CHECK(Hex(EncodeSlruSegmentSize(32)) == "20000000");
  auto s = DecodeSlruSegmentSize(Unhex("20000000"), "x");
  REQUIRE(s.ok());
  CHECK(*s == 32u);
  CHECK_FALSE(DecodeSlruSegmentSize(Unhex("2000000000000000"), "x").ok());
}
