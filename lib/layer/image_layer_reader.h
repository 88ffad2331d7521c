// Reader of Neon image layer files, over any RandomReader (local file, S3, Azure). Validates the
// summary, follows the B-tree defensively (node counts, pointers, key order, depth), and decodes
// blobs (raw and zstd) with every length bounded by the file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keyspace/key.h"
#include "storage/storage.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

struct ImageLayerSummary {
  uint16_t magic = 0;
  uint16_t format_version = 0;
  TenantId tenant;
  TimelineId timeline;
  Key key_start, key_end;   // [start, end)
  uint64_t lsn = 0;
  uint32_t index_start_blk = 0;
  uint32_t index_root_blk = 0;  // relative to index_start_blk
};

struct ImageLayerReaderOptions {
  // A zstd blob that decompresses to more than this is rejected (the size is not stored).
  size_t max_decompressed_blob = 256u << 20;
  // ForEach reads the value area in chunks of this size (not one read per blob).
  size_t scan_chunk_size = 4u << 20;
};

class ImageLayerReader {
 public:
  // Reads and validates block 0 (magic 0x5A60, version 3, index pointers inside the file).
  static Result<std::unique_ptr<ImageLayerReader>> Open(std::unique_ptr<RandomReader> file);
  static Result<std::unique_ptr<ImageLayerReader>> Open(std::unique_ptr<RandomReader> file,
                                                        const ImageLayerReaderOptions& opts);
  virtual ~ImageLayerReader() = default;

  virtual const ImageLayerSummary& summary() const = 0;
  virtual uint64_t file_size() const = 0;

  // Every (key, value) in key order; values decompressed. Stops at the first error or at a non-OK
  // status returned by fn. Checks key order, range and blob bounds as it goes. The value view is
  // valid only during the call.
  virtual Status ForEach(const std::function<Status(const Key&, std::string_view)>& fn) = 0;
  // Keys only, with the absolute blob offset (no blob reads).
  virtual Status ForEachKey(const std::function<Status(const Key&, uint64_t offset)>& fn) = 0;
  // The value of `key`, or nullopt when absent.
  virtual Result<std::optional<std::string>> Get(const Key& key) = 0;

  // Number of index blocks (file_size / 8192 - index_start_blk).
  virtual uint32_t num_index_nodes() const = 0;
};

}  // namespace p2l
