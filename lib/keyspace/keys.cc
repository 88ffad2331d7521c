#include "keyspace/keys.h"

#include <fmt/format.h>

namespace p2l {

const char* SlruKindDir(SlruKind kind) {
  switch (kind) {
    case SlruKind::kClog: return "pg_xact";
    case SlruKind::kMultiXactMembers: return "pg_multixact/members";
    case SlruKind::kMultiXactOffsets: return "pg_multixact/offsets";
  }
  return "unknown SLRU";
}

Status CheckSpcnode(uint32_t spcnode, std::string_view what) {
  if (spcnode > 0xFFFF) {
    return Status::InvalidInput(fmt::format(
        "{}: tablespace OID {} does not fit the pageserver's 16-bit key field (max 65535)", what,
        spcnode));
  }
  return Status::OK();
}

}  // namespace p2l
