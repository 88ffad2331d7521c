// Remote-storage object keys (index-part-and-import.md §3.1; keyspace-and-sharding.md §4.6).
#include "index/remote_layout.h"

#include <fmt/format.h>

namespace p2l {

std::string GenerationSuffix(std::optional<uint32_t> generation) {
  if (!generation) return "";
  return fmt::format("-{:08x}", *generation);
}

std::string TenantShardPath(const TenantId& tenant, const ShardIdentity& shard) {
  return "tenants/" + tenant.ToHex() + shard.Suffix();
}

std::string TimelinePath(const TenantId& tenant, const ShardIdentity& shard, const TimelineId& tl) {
  return TenantShardPath(tenant, shard) + "/timelines/" + tl.ToHex();
}

std::string IndexPartPath(const TenantId& tenant, const ShardIdentity& shard, const TimelineId& tl,
                          std::optional<uint32_t> generation) {
  return TimelinePath(tenant, shard, tl) + "/index_part.json" + GenerationSuffix(generation);
}

std::string LayerPath(const TenantId& tenant, const ShardIdentity& shard, const TimelineId& tl,
                      const std::string& layer_name, std::optional<uint32_t> generation) {
  return TimelinePath(tenant, shard, tl) + "/" + layer_name + GenerationSuffix(generation);
}

std::string ShardIndexSuffix(std::string_view shard_index) {
  // ShardIndex "NNCC": count 0 (the legacy unsharded index "0000") has no suffix.
  if (shard_index.size() == 4 && shard_index.substr(2) == "00") return "";
  return "-" + std::string(shard_index);
}

std::string LayerPathFromIndex(const TenantId& tenant, const TimelineId& tl,
                               const std::string& layer_name, std::string_view shard_index,
                               std::optional<uint32_t> generation) {
  return "tenants/" + tenant.ToHex() + ShardIndexSuffix(shard_index) + "/timelines/" +
         tl.ToHex() + "/" + layer_name + GenerationSuffix(generation);
}

}  // namespace p2l
