// Object names of Neon's remote-storage layout (index-part-and-import.md §3.1), relative to the
// destination root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// Shard suffix from a layer_metadata "shard" field (ShardIndex "NNCC"): "" when the count byte
// is 00 (legacy unsharded), else "-NNCC". The layer's own shard decides its prefix: after a
// split, a child's index references objects under the parent's prefix (spec §3.1).
std::string ShardIndexSuffix(std::string_view shard_index);
// "tenants/<tenant><ShardIndexSuffix(shard_index)>/timelines/<tl>/<layer name>" + "-%08x".
std::string LayerPathFromIndex(const TenantId& tenant, const TimelineId& tl,
                               const std::string& layer_name, std::string_view shard_index,
                               std::optional<uint32_t> generation);

}  // namespace p2l
