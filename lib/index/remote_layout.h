// Object names of Neon's remote-storage layout (index-part-and-import.md §3.1), relative to the
// destination root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "keyspace/shard.h"
#include "util/ids.h"

namespace p2l {

// "tenants/<tenant>[-NNCC]"
std::string TenantShardPath(const TenantId& tenant, const ShardIdentity& shard);
// "tenants/<tenant>[-NNCC]/timelines/<timeline>"
std::string TimelinePath(const TenantId& tenant, const ShardIdentity& shard, const TimelineId& tl);
// ".../index_part.json" + "-%08x" generation suffix (none: no suffix).
std::string IndexPartPath(const TenantId& tenant, const ShardIdentity& shard, const TimelineId& tl,
                          std::optional<uint32_t> generation);
// ".../<layer name>" + "-%08x" generation suffix.
std::string LayerPath(const TenantId& tenant, const ShardIdentity& shard, const TimelineId& tl,
                      const std::string& layer_name, std::optional<uint32_t> generation);
// "-%08x" or "".
std::string GenerationSuffix(std::optional<uint32_t> generation);

}  // namespace p2l
