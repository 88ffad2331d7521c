// Human descriptions of pageserver keys and of the values stored under the well-known keys, for
// `inspect`, `verify` difference reports and `export` warnings (keyspace-and-sharding.md §1.2,
// §2). Pure functions: they never fail, whatever the bytes; a value that does not decode is
// described as such.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keyspace/key.h"

namespace p2l {

// "main", "fsm", "vm", "init", or "fork N" for anything else.
std::string ForkName(uint8_t forknum);
// "clog", "multixact-members", "multixact-offsets", or "slru-kind N".
std::string SlruKindName(uint32_t kind);

// A short description of what `k` is, e.g.
//   "dbdir", "relmap 1663/5", "reldir 1663/5", "rel 1663/5/16384 main blk 7",
//   "rel 1663/5/16384 fsm size", "slru clog dir", "slru clog seg 0 blk 3",
//   "slru multixact-offsets seg 26 size", "twophase dir", "twophase xid 745", "controlfile",
//   "checkpoint", "aux files v1", "metadata 0x62 (aux v2)", or "unknown key class 0x05".
std::string DescribeKey(const Key& k);

// A short decoded summary of the value stored under `k` (size keys: the block count; directory
// keys: the number of entries and the first few; controlfile: its length), or "" when there is
// nothing to decode (pages, relmap files, twophase files). Undecodable values are described as
// "undecodable: <reason>". `pg_major` (14..17, 0 = unknown) selects the two-phase directory form.
std::string DescribeValue(const Key& k, std::string_view value, int pg_major = 0);

// Lower-case hex of `data`, at most `max_bytes` bytes of it ("..." appended when cut; 0 = all).
std::string HexBytes(std::string_view data, size_t max_bytes = 0);

}  // namespace p2l
