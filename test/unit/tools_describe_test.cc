// Key and value descriptions used by inspect/verify/export.
#include <doctest/doctest.h>

#include "keyspace/keys.h"
#include "keyspace/values.h"
#include "tools/describe.h"

using namespace p2l;

TEST_CASE("DescribeKey names every well-known key") {
  const RelTag t{1663, 5, 16384, 0};
  CHECK(DescribeKey(kDbDirKey) == "dbdir");
  CHECK(DescribeKey(RelmapFileKey(1663, 5)) == "relmap 1663/5");
  CHECK(DescribeKey(RelDirKey(1664, 0)) == "reldir 1664/0");
  CHECK(DescribeKey(RelBlockKey(t, 7)) == "rel 1663/5/16384 main blk 7");
  CHECK(DescribeKey(RelSizeKey(RelTag{1663, 5, 16384, 1})) == "rel 1663/5/16384 fsm size");
  CHECK(DescribeKey(RelBlockKey(RelTag{1663, 5, 16384, 2}, 0)) == "rel 1663/5/16384 vm blk 0");
  CHECK(DescribeKey(RelBlockKey(RelTag{1663, 5, 16384, 3}, 1)) == "rel 1663/5/16384 init blk 1");
  CHECK(DescribeKey(RelBlockKey(RelTag{1663, 5, 16384, 9}, 1)) == "rel 1663/5/16384 fork 9 blk 1");
  CHECK(DescribeKey(SlruDirKey(SlruKind::kClog)) == "slru clog dir");
  CHECK(DescribeKey(SlruBlockKey(SlruKind::kClog, 0, 3)) == "slru clog seg 0 blk 3");
  CHECK(DescribeKey(SlruSegmentSizeKey(SlruKind::kMultiXactOffsets, 26)) == "slru multixact-offsets seg 26 size");
  CHECK(DescribeKey(SlruBlockKey(SlruKind::kMultiXactMembers, 1, 0)) == "slru multixact-members seg 1 blk 0");
  CHECK(DescribeKey(kTwoPhaseDirKey) == "twophase dir");
  CHECK(DescribeKey(TwoPhaseFileKey(745)) == "twophase xid 745");
  CHECK(DescribeKey(TwoPhaseFileKey((uint64_t(3) << 32) | 745)) == "twophase xid 12884902633");
  CHECK(DescribeKey(kControlFileKey) == "controlfile");
  CHECK(DescribeKey(kCheckpointKey) == "checkpoint");
  CHECK(DescribeKey(kAuxFilesKey) == "aux files v1");
  CHECK(DescribeKey(Key{0x62, 0, 0, 0, 0, 1}) == "metadata 0x62 (aux v2)");
  CHECK(DescribeKey(Key{0x05, 0, 0, 0, 0, 1}) == "unknown key class 0x05");
  CHECK(DescribeKey(Key::Max()) == "unknown key class 0xFF");
  // relnode 0 with other block numbers is not a pageserver key: described, never crashes
  CHECK(DescribeKey(Key{0, 1663, 5, 0, 0, 7}).find("invalid") != std::string::npos);
  CHECK(DescribeKey(Key{0x01, 0, 2, 0, 0, 0}).find("invalid slru key") == 0);
}

TEST_CASE("DescribeValue decodes sizes and directories, tolerates garbage") {
  const RelTag t{1663, 5, 16384, 0};
  CHECK(DescribeValue(RelSizeKey(t), EncodeRelSize(42)) == "42 blocks (8-byte value)");
  CHECK(DescribeValue(RelSizeKey(t), std::string("\x05\x00\x00\x00", 4)) == "5 blocks (4-byte value)");
  CHECK(DescribeValue(RelSizeKey(t), "xyz").find("undecodable") == 0);
  CHECK(DescribeValue(SlruSegmentSizeKey(SlruKind::kClog, 0), EncodeSlruSegmentSize(32)) == "32 blocks");
  DbDirectory d;
  d.dbs[{1663, 5}] = true;
  d.dbs[{16500, 5}] = false;
  CHECK(DescribeValue(kDbDirKey, d.Encode()) == "2 databases: 1663/5, 16500/5 (no relmap)");
  RelDirectory r;
  for (uint32_t i = 0; i < 6; i++) r.rels.insert({16384 + i, uint8_t(i % 3)});
  CHECK(DescribeValue(RelDirKey(1663, 5), r.Encode()) ==
        "6 relation forks: 16384 main, 16385 fsm, 16386 vm, 16387 main, ...");
  SlruSegmentDirectory s;
  s.segments = {0, 0x14078};
  CHECK(DescribeValue(SlruDirKey(SlruKind::kMultiXactMembers), s.Encode()) == "2 segments: 0000, 14078");
  CHECK(DescribeValue(kTwoPhaseDirKey, EmptyTwoPhaseDirectory()) == "0 prepared xids: ");
  TwoPhaseDirectoryV17 v17;
  v17.xids = {(uint64_t(1) << 32) | 5};
  CHECK(DescribeValue(kTwoPhaseDirKey, v17.Encode(), 17) == "1 prepared xids (64-bit): 4294967301");
  CHECK(DescribeValue(kTwoPhaseDirKey, v17.Encode()) == "1 prepared xids (64-bit): 4294967301");
  CHECK(DescribeValue(kDbDirKey, std::string(3, '\xff')).find("undecodable") == 0);
  CHECK(DescribeValue(RelBlockKey(t, 0), std::string(8192, 'x')).empty());
  CHECK(DescribeValue(kControlFileKey, std::string(8192, 'x')) == "pg_control, 8192 bytes");
}

TEST_CASE("HexBytes and names") {
  CHECK(HexBytes(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
  CHECK(HexBytes("abcdef", 2) == "6162...");
  CHECK(HexBytes("") == "");
  CHECK(ForkName(2) == "vm");
  CHECK(SlruKindName(7) == "slru-kind 7");
}
