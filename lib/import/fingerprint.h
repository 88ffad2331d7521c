// The plan fingerprint: xxHash64 (seed 0) of a canonical byte encoding of an ImportPlan. Two
// plans with the same fingerprint do the same work (same jobs, same key ranges, same source
// objects at the same size and version, same single-key values), so an interrupted import may
// be resumed only when the fingerprint it recorded equals the new plan's.
//
// Canonical encoding (little-endian integers; key = its 18-byte storage form, key.h;
// str = u64 byte length, then the bytes):
//
//   u32 kPlanFormatVersion (plan.h)
//   u8  shard number, u8 shard count, u32 shard stripe size (pages)
//   u64 soft size limit (bytes)
//   u64 base LSN
//   u32 PostgreSQL major version
//   u64 number of jobs, then per job:
//     u32 job index (1-based)
//     key job start, key job end
//     u64 number of tasks, then per task:
//       u8  kind: 0 single key, 1 object value, 2 relation blocks, 3 SLRU blocks
//       key task start, key task end
//       single key: u64 value length, u64 xxh64(value, seed 0)
//       other kinds: str object name, u64 object size, str object version,
//                    u32 first_block, u32 nblocks
//
// Not encoded, because they follow from what is encoded or do not change the output:
// local_pages and estimated sizes (ranges + shard), verify_pages, warnings, source_objects
// (every object but pg_control is a task's object; pg_control's bytes are the CONTROLFILE and
// CHECKPOINT values).
#pragma once

#include <cstdint>
#include <string>

#include "import/plan.h"

namespace p2l {

// The encoding above.
std::string EncodePlanCanonical(const ImportPlan& plan);
// xxh64(EncodePlanCanonical(plan), 0) (= ImportPlan::Fingerprint()).
uint64_t PlanFingerprint(const ImportPlan& plan);

}  // namespace p2l
