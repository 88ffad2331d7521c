// Key constructors and classifiers of the pageserver key space (keyspace-and-sharding.md §1.2).
//
// Class (field1) 00 = relations, 01 = SLRUs, 02 = two-phase, 03 = misc; 0x60..0x7E = sparse
// metadata keys (never written by the import). field6 = 0xFFFFFFFF in classes 00/01 marks a
// "size" key, so block number 0xFFFFFFFF can never be stored. Each function names the Neon
// function or constant it reproduces.
#pragma once

#include <cstdint>
#include <string_view>

#include "keyspace/key.h"
#include "util/status.h"

namespace p2l {

// Tablespace OIDs (postgres_ffi_types constants).
inline constexpr uint32_t kDefaultTablespaceOid = 1663;  // base/
inline constexpr uint32_t kGlobalTablespaceOid = 1664;   // global/

// Key::field6 of size keys (rel size, SLRU segment size).
inline constexpr uint32_t kSizeKeyBlock = 0xFFFFFFFF;

// SLRU kinds, stored in field2. Members (1) sorts before offsets (2).
enum class SlruKind : uint32_t {
  kClog = 0,              // pg_xact
  kMultiXactMembers = 1,  // pg_multixact/members
  kMultiXactOffsets = 2,  // pg_multixact/offsets
};
inline constexpr uint32_t kSlruKindCount = 3;
// "pg_xact", "pg_multixact/members", "pg_multixact/offsets".
const char* SlruKindDir(SlruKind kind);

// One fork of one relation. Field order = key field order (spc, db, rel, fork).
struct RelTag {
  uint32_t spcnode = 0;
  uint32_t dbnode = 0;
  uint32_t relnode = 0;
  uint8_t forknum = 0;   // 0 main, 1 fsm, 2 vm, 3 init (pg/relfile.h ForkNumber)
  friend constexpr auto operator<=>(const RelTag&, const RelTag&) = default;
  friend constexpr bool operator==(const RelTag&, const RelTag&) = default;
};

// ---- constructors -----------------------------------------------------------------------------

// DBDIR_KEY = 00/0/0/0/0/0 (= Key::MIN): DbDirectory.
inline constexpr Key kDbDirKey{0x00, 0, 0, 0, 0, 0};
// TWOPHASEDIR_KEY = 02/0/0/0/0/0: TwoPhaseDirectory.
inline constexpr Key kTwoPhaseDirKey{0x02, 0, 0, 0, 0, 0};
// CONTROLFILE_KEY = 03/0/0/0/0/0: raw pg_control.
inline constexpr Key kControlFileKey{0x03, 0, 0, 0, 0, 0};
// CHECKPOINT_KEY = 03/0/0/0/0/1: the 88-byte CheckPoint.
inline constexpr Key kCheckpointKey{0x03, 0, 0, 0, 0, 1};
// AUX_FILES_KEY = 03/0/0/0/0/2 (legacy aux store; not written by the import).
inline constexpr Key kAuxFilesKey{0x03, 0, 0, 0, 0, 2};

// relmap_file_key(spc, db) = 00/spc/db/0/0/0: pg_filenode.map of one database.
constexpr Key RelmapFileKey(uint32_t spc, uint32_t db) { return Key{0x00, spc, db, 0, 0, 0}; }
// rel_dir_to_key(spc, db) = 00/spc/db/0/0/1: RelDirectory of one database.
constexpr Key RelDirKey(uint32_t spc, uint32_t db) { return Key{0x00, spc, db, 0, 0, 1}; }
// rel_block_to_key(tag, blk) = 00/spc/db/rel/fork/blk. blk must not be 0xFFFFFFFF.
constexpr Key RelBlockKey(const RelTag& t, uint32_t blk) {
  return Key{0x00, t.spcnode, t.dbnode, t.relnode, t.forknum, blk};
}
// rel_size_to_key(tag) = 00/spc/db/rel/fork/FFFFFFFF.
constexpr Key RelSizeKey(const RelTag& t) {
  return Key{0x00, t.spcnode, t.dbnode, t.relnode, t.forknum, kSizeKeyBlock};
}
// slru_dir_to_key(kind) = 01/kind/0/0/0/0: SlruSegmentDirectory.
constexpr Key SlruDirKey(SlruKind kind) { return Key{0x01, uint32_t(kind), 0, 0, 0, 0}; }
// slru_block_to_key(kind, segno, blk) = 01/kind/1/segno/0/blk.
constexpr Key SlruBlockKey(SlruKind kind, uint32_t segno, uint32_t blk) {
  return Key{0x01, uint32_t(kind), 1, segno, 0, blk};
}
// slru_segment_size_to_key(kind, segno) = 01/kind/1/segno/0/FFFFFFFF.
constexpr Key SlruSegmentSizeKey(SlruKind kind, uint32_t segno) {
  return Key{0x01, uint32_t(kind), 1, segno, 0, kSizeKeyBlock};
}
// twophase_file_key(xid) = 02/0/0/f4/f5/f6 with f4 = xid bits 40..63, f5 = bits 32..39,
// f6 = bits 0..31 (PG17 64-bit FullTransactionId; a 32-bit xid has f4 = f5 = 0).
constexpr Key TwoPhaseFileKey(uint64_t xid) {
  return Key{0x02, 0, 0, uint32_t(xid >> 40), uint8_t(xid >> 32), uint32_t(xid)};
}

// ---- classifiers ------------------------------------------------------------------------------

// f1 = 00, f4 != 0, f6 != FFFFFFFF.
constexpr bool IsRelBlockKey(const Key& k) {
  return k.field1 == 0x00 && k.field4 != 0 && k.field6 != kSizeKeyBlock;
}
// f1 = 00, f6 = FFFFFFFF.
constexpr bool IsRelSizeKey(const Key& k) { return k.field1 == 0x00 && k.field6 == kSizeKeyBlock; }
// f1 = 00, f4 = 0, f5 = 0, f6 = 0 (includes DBDIR_KEY when spc = db = 0).
constexpr bool IsRelmapFileKey(const Key& k) {
  return k.field1 == 0x00 && k.field4 == 0 && k.field5 == 0 && k.field6 == 0;
}
// f1 = 00, f4 = 0, f5 = 0, f6 = 1.
constexpr bool IsRelDirKey(const Key& k) {
  return k.field1 == 0x00 && k.field4 == 0 && k.field5 == 0 && k.field6 == 1;
}
// f1 = 01, f3 = 1, f6 != FFFFFFFF.
constexpr bool IsSlruBlockKey(const Key& k) {
  return k.field1 == 0x01 && k.field3 == 1 && k.field6 != kSizeKeyBlock;
}
// f1 = 01, kind < 3, f3 = 1, f5 = 0, f6 = FFFFFFFF.
constexpr bool IsSlruSegmentSizeKey(const Key& k) {
  return k.field1 == 0x01 && k.field2 < kSlruKindCount && k.field3 == 1 && k.field5 == 0 &&
         k.field6 == kSizeKeyBlock;
}
// f1 = 01, f3 = f4 = f5 = f6 = 0.
constexpr bool IsSlruDirKey(const Key& k) {
  return k.field1 == 0x01 && k.field3 == 0 && k.field4 == 0 && k.field5 == 0 && k.field6 == 0;
}
// f1 = 02, f2 = f3 = 0, not the directory key.
constexpr bool IsTwoPhaseFileKey(const Key& k) {
  return k.field1 == 0x02 && k.field2 == 0 && k.field3 == 0 && k != kTwoPhaseDirKey;
}
// Aux files v2: f1 = 0x62 (shard 0 only).
constexpr bool IsAuxFileKey(const Key& k) { return k.field1 == 0x62; }
// Sparse/metadata key space: 0x60 <= f1 < 0x7F.
constexpr bool IsMetadataKey(const Key& k) { return k.field1 >= 0x60 && k.field1 < 0x7F; }

// The pageserver packs keys into an i128 that keeps only 16 bits of field2, so a key is valid
// on its write path only if field2 <= 0xFFFF, field2 == 0xFFFFFFFF or field2 == 0x22222222
// (legacy test value) (§1.1 compact i128 form).
constexpr bool IsPageserverRepresentable(const Key& k) {
  return k.field2 <= 0xFFFF || k.field2 == 0xFFFFFFFF || k.field2 == 0x22222222;
}
// spcnode fits the pageserver's 16-bit field2 (1663 and 1664 do; user tablespaces with OIDs
// >= 65536 do not). Error (kInvalidInput) names `what` and the OID.
Status CheckSpcnode(uint32_t spcnode, std::string_view what);

}  // namespace p2l
