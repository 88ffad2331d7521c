// Block 0 of an image layer: the 88-byte bincode (big-endian, fixed-width) summary, zero padded
// to 8192 bytes. image-layer.md §2.4, §3.
#pragma once

#include <cstdint>
#include <string>

#include "layer/image_layer_reader.h"
#include "util/status.h"

namespace p2l {

// The 88 meaningful bytes: magic, version, tenant, timeline, key start, key end, lsn,
// index_start_blk, index_root_blk — all big-endian, no length prefixes.
std::string EncodeSummary(const ImageLayerSummary& s);
// The whole block 0: EncodeSummary() followed by zeros up to 8192 bytes.
std::string EncodeSummaryBlock(const ImageLayerSummary& s);

// Decodes the first 88 bytes of `data` (trailing bytes ignored, as Neon's reader does). Only
// checks the length; the caller validates magic, version and the index pointers. `name` is used
// in error messages.
Result<ImageLayerSummary> DecodeSummary(const uint8_t* data, size_t len, const std::string& name);

// Compares a summary with what the pageserver derives from the layer name and tenant on first
// load (§8): magic, version, tenant, key range and LSN must be equal. timeline_id and the index
// pointers are not compared. kInvalidInput naming `name` and the first differing field.
Status CheckSummaryMatches(const ImageLayerSummary& s, const TenantId& tenant,
                           const Key& key_start, const Key& key_end, uint64_t lsn,
                           const std::string& name);

}  // namespace p2l
