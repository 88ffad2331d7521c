// Reading an imported timeline back from a destination (Neon's remote-storage layout,
// index-part-and-import.md §3): which tenant shards hold the timeline, which index_part.json
// generation each one uses, and the layer objects that index lists. Shared by verify, export
// and inspect. Nothing read here is trusted: directory names, generations, layer names and shard
// fields are parsed strictly before they are used to build object names.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/index_part.h"
#include "keyspace/shard.h"
#include "layer/image_layer_reader.h"
#include "layer/layer_name.h"
#include "storage/storage.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

// One "tenants/<tenant>[-NNCC]/" directory name, parsed. count 0 = unsharded (no suffix).
struct TenantShardDir {
  TenantId tenant;
  uint8_t number = 0;
  uint8_t count = 0;
  friend bool operator==(const TenantShardDir&, const TenantShardDir&) = default;
};
// Parses "<32 hex>" or "<32 hex>-<NN><CC>" (lower- or upper-case hex; number < count; a "-NN00"
// suffix is rejected because count 0 is written without one). nullopt for anything else.
std::optional<TenantShardDir> ParseTenantShardDir(std::string_view name);

// The index object chosen among the objects of one timeline directory.
struct IndexChoice {
  std::string object;                   // full object name
  std::optional<uint32_t> generation;   // none = legacy "index_part.json" without suffix
};
// Among `objects` (names relative to the root, any directory), the index_part.json object with
// the highest generation: "index_part.json-XXXXXXXX" (8 hex digits) beats the suffix-less
// legacy name, which beats nothing. Other names (temp files, layers) are ignored. kNotFound
// naming `dir` when there is none.
Result<IndexChoice> PickIndexPart(const std::vector<ObjectInfo>& objects, std::string_view dir);

// Tenants with at least one shard directory under "tenants/", sorted, without duplicates.
Result<std::vector<TenantId>> ListTenants(Storage& dest);
// Shard identities (number/count from the directory names, stripe size left at the default) of
// `tenant` that hold an index_part.json object for `timeline`; sorted by (count, number).
Result<std::vector<ShardIdentity>> FindTimelineShards(Storage& dest, const TenantId& tenant,
                                                      const TimelineId& timeline);
// Timelines of `tenant` over all its shard directories, sorted, without duplicates.
Result<std::vector<TimelineId>> ListTimelines(Storage& dest, const TenantId& tenant);

// The stripe size recorded in the tenant shard's manifest
// ("tenants/<tenant>[-NNCC]/tenant-manifest-XXXXXXXX.json", highest generation, field
// "stripe_size"); nullopt when there is no manifest or it has no stripe size.
Result<std::optional<uint32_t>> ReadManifestStripeSize(Storage& dest, const TenantId& tenant,
                                                       const ShardIdentity& shard);

// One layer listed in an index_part.json.
struct LayerRef {
  std::string name;          // the layer_metadata key (no generation suffix)
  ImageLayerName parsed;
  LayerFileMetadata meta;
  std::string object;        // object name of the layer file in the destination
};

// One shard of the timeline as its chosen index describes it.
struct ShardTimeline {
  ShardIdentity shard;
  std::string dir;           // "tenants/<tenant>[-NNCC]/timelines/<timeline>/"
  IndexChoice index_object;
  IndexPart index;
  std::vector<LayerRef> layers;   // sorted by (key_start, key_end)
};

// Picks and parses the index of `shard` (at most 64 MiB) and resolves every listed layer to its
// object name. A layer name that is not an image layer or a malformed "shard" field is an error
// naming the index object and the layer.
Result<ShardTimeline> LoadShardTimeline(Storage& dest, const TenantId& tenant,
                                        const TimelineId& timeline, const ShardIdentity& shard);

// Stats the layer object (kNotFound when missing), checks that it has exactly meta.file_size
// bytes, and opens it as an image layer. Errors name the object.
Result<std::unique_ptr<ImageLayerReader>> OpenLayer(Storage& dest, const LayerRef& layer,
                                                    const ImageLayerReaderOptions& opts = {});

// Splits "s3://bucket/dir/obj", "az://acct/cont/dir/obj" or "dir/obj" into the storage root
// ("s3://bucket/dir", ".", ...) and the object name ("obj"). kUsage for an empty name.
Status SplitObjectUrl(std::string_view url, std::string* root, std::string* name);

}  // namespace p2l

namespace p2l {

// The tenant and timeline to work on: parses `tenant_hex`/`timeline_hex` when given; when empty,
// takes the only tenant under tenants/ (and its only timeline). Several candidates or none:
// kUsage/kNotFound listing what exists.
Status ResolveTimeline(Storage& dest, std::string_view tenant_hex, std::string_view timeline_hex,
                       TenantId* tenant, TimelineId* timeline);

}  // namespace p2l
