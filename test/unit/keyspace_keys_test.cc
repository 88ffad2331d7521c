// Key constructors and classifiers: keyspace-and-sharding.md §1.2 hex examples and Appendix A.
#include <doctest/doctest.h>

#include "keyspace/keys.h"

using namespace p2l;

namespace {
const RelTag kRel{1663, 5, 16384, 0};
}

TEST_CASE("keys: §1.2 worked hex examples") {
  CHECK(kDbDirKey.ToHex() == "000000000000000000000000000000000000");
  CHECK(kDbDirKey == Key::Min());
  CHECK(RelmapFileKey(1663, 5).ToHex() == "000000067F00000005000000000000000000");
  CHECK(RelDirKey(1663, 5).ToHex() == "000000067F00000005000000000000000001");
  CHECK(RelBlockKey(kRel, 0).ToHex() == "000000067F00000005000040000000000000");
  CHECK(RelSizeKey(kRel).ToHex() == "000000067F000000050000400000FFFFFFFF");
  CHECK(RelmapFileKey(kGlobalTablespaceOid, 0).ToHex() == "000000068000000000000000000000000000");
  CHECK(RelDirKey(kGlobalTablespaceOid, 0).ToHex() == "000000068000000000000000000000000001");
  CHECK(SlruDirKey(SlruKind::kClog).ToHex() == "010000000000000000000000000000000000");
  CHECK(SlruBlockKey(SlruKind::kMultiXactOffsets, 0x1A, 3).ToHex() ==
        "0100000002000000010000001A0000000003");
  CHECK(SlruSegmentSizeKey(SlruKind::kMultiXactMembers, 0x1A).ToHex() ==
        "0100000001000000010000001A00FFFFFFFF");
  CHECK(kTwoPhaseDirKey.ToHex() == "020000000000000000000000000000000000");
  CHECK(kControlFileKey.ToHex() == "030000000000000000000000000000000000");
  CHECK(kCheckpointKey.ToHex() == "030000000000000000000000000000000001");
  CHECK(kAuxFilesKey.ToHex() == "030000000000000000000000000000000002");
}

TEST_CASE("keys: Appendix A task ranges") {
  RelTag fsm = kRel, vm = kRel;
  fsm.forknum = 1;
  vm.forknum = 2;
  CHECK(RelmapFileKey(1663, 5).Next().ToHex() == "000000067F00000005000000000000000001");
  CHECK(RelDirKey(1663, 5).Next().ToHex() == "000000067F00000005000000000000000002");
  CHECK(RelBlockKey(kRel, 3).ToHex() == "000000067F00000005000040000000000003");
  CHECK(RelSizeKey(kRel).Next().ToHex() == "000000067F00000005000040000100000000");
  CHECK(RelBlockKey(fsm, 0).ToHex() == "000000067F00000005000040000100000000");
  CHECK(RelSizeKey(fsm).ToHex() == "000000067F000000050000400001FFFFFFFF");
  CHECK(RelSizeKey(fsm).Next().ToHex() == "000000067F00000005000040000200000000");
  CHECK(RelBlockKey(vm, 1).ToHex() == "000000067F00000005000040000200000001");
  CHECK(RelSizeKey(vm).ToHex() == "000000067F000000050000400002FFFFFFFF");
  CHECK(RelSizeKey(vm).Next().ToHex() == "000000067F00000005000040000300000000");
  // Each fork's size key sorts right after its blocks, before the next fork.
  CHECK(RelBlockKey(kRel, 0xFFFFFFFE) < RelSizeKey(kRel));
  CHECK(RelSizeKey(kRel) < RelBlockKey(fsm, 0));
}

TEST_CASE("keys: twophase file key splits the 64-bit xid") {
  Key k = TwoPhaseFileKey(0x0123456789ABCDEFull);
  CHECK(k.field1 == 0x02);
  CHECK(k.field2 == 0);
  CHECK(k.field3 == 0);
  CHECK(k.field4 == 0x012345u);   // bits 40..63
  CHECK(k.field5 == 0x67);        // bits 32..39
  CHECK(k.field6 == 0x89ABCDEFu); // bits 0..31
  CHECK(TwoPhaseFileKey(1234).ToHex() == "0200000000000000000000000000000004D2");
  CHECK(IsTwoPhaseFileKey(TwoPhaseFileKey(1234)));
  CHECK_FALSE(IsTwoPhaseFileKey(kTwoPhaseDirKey));
}

TEST_CASE("keys: classifiers") {
  CHECK(IsRelBlockKey(RelBlockKey(kRel, 0)));
  CHECK_FALSE(IsRelBlockKey(RelSizeKey(kRel)));
  CHECK_FALSE(IsRelBlockKey(RelmapFileKey(1663, 5)));  // relnode 0 is not a block
  CHECK_FALSE(IsRelBlockKey(RelDirKey(1663, 5)));
  CHECK_FALSE(IsRelBlockKey(kDbDirKey));
  CHECK_FALSE(IsRelBlockKey(SlruBlockKey(SlruKind::kClog, 0, 0)));
  CHECK(IsRelSizeKey(RelSizeKey(kRel)));
  CHECK_FALSE(IsRelSizeKey(RelBlockKey(kRel, 7)));
  CHECK(IsRelmapFileKey(RelmapFileKey(1663, 5)));
  CHECK(IsRelDirKey(RelDirKey(1663, 5)));
  CHECK_FALSE(IsRelDirKey(RelmapFileKey(1663, 5)));

  CHECK(IsSlruBlockKey(SlruBlockKey(SlruKind::kMultiXactMembers, 3, 31)));
  CHECK_FALSE(IsSlruBlockKey(SlruSegmentSizeKey(SlruKind::kClog, 3)));
  CHECK_FALSE(IsSlruBlockKey(SlruDirKey(SlruKind::kClog)));
  CHECK(IsSlruSegmentSizeKey(SlruSegmentSizeKey(SlruKind::kMultiXactOffsets, 3)));
  CHECK_FALSE(IsSlruSegmentSizeKey(Key{0x01, 3, 1, 0, 0, 0xFFFFFFFF}));  // kind 3 does not exist
  CHECK(IsSlruDirKey(SlruDirKey(SlruKind::kMultiXactOffsets)));
  CHECK_FALSE(IsSlruDirKey(SlruBlockKey(SlruKind::kClog, 0, 0)));

  CHECK(IsAuxFileKey(Key{0x62, 0, 0, 0, 0, 0}));
  CHECK(IsMetadataKey(Key{0x60, 0, 0, 0, 0, 0}));
  CHECK(IsMetadataKey(Key{0x7E, 0, 0, 0, 0, 0}));
  CHECK_FALSE(IsMetadataKey(Key{0x7F, 0, 0, 0, 0, 0}));
  CHECK_FALSE(IsMetadataKey(kControlFileKey));
}

TEST_CASE("keys: SLRU kinds and directories") {
  CHECK(uint32_t(SlruKind::kClog) == 0);
  CHECK(uint32_t(SlruKind::kMultiXactMembers) == 1);
  CHECK(uint32_t(SlruKind::kMultiXactOffsets) == 2);
  CHECK(std::string(SlruKindDir(SlruKind::kClog)) == "pg_xact");
  CHECK(std::string(SlruKindDir(SlruKind::kMultiXactMembers)) == "pg_multixact/members");
  CHECK(std::string(SlruKindDir(SlruKind::kMultiXactOffsets)) == "pg_multixact/offsets");
}

TEST_CASE("keys: spcnode must fit the pageserver's 16 bits") {
  CHECK(CheckSpcnode(kDefaultTablespaceOid, "base").ok());
  CHECK(CheckSpcnode(kGlobalTablespaceOid, "global").ok());
  CHECK(CheckSpcnode(65535, "pg_tblspc/65535").ok());
  Status st = CheckSpcnode(65536, "pg_tblspc/65536");
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message().find("pg_tblspc/65536") != std::string::npos);
  CHECK(st.message().find("65536") != std::string::npos);

  CHECK(IsPageserverRepresentable(RelBlockKey(kRel, 1)));
  CHECK(IsPageserverRepresentable(Key{0x00, 0xFFFFFFFF, 0, 0, 0, 0}));
  CHECK(IsPageserverRepresentable(Key{0x00, 0x22222222, 0, 0, 0, 0}));
  CHECK_FALSE(IsPageserverRepresentable(Key{0x00, 0x10000, 5, 16384, 0, 0}));
  CHECK(IsPageserverRepresentable(Key::Max()));
}
