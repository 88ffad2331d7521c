// Writer of Neon image layer files (shared/spec/image-layer.md). Output is byte-identical to
// Neon's ImageLayerWriter with image_compression = disabled; with zstd it emits one frame per blob
// (kept only when strictly smaller), which Neon reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "keyspace/key.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

struct ImageLayerWriterOptions {
  bool zstd = false;     // compress blobs of >= 128 bytes with zstd
  int zstd_level = 1;
  size_t buffer_size = 1 << 20;  // write-behind buffer for the value area
  bool sync = true;              // fsync in Finish() (tests may turn it off)
  // Ask the kernel to start writing the file back every 8 MiB (sync_file_range WRITE, a hint) so
  // that the disk works while values are still being added and a later fsync is short. On with
  // `sync`; set it too when the caller fsyncs the file itself.
  bool start_writeback = false;
};

class ImageLayerWriter {
 public:
  // Creates (truncating) the file at `path`; the layer covers [start, end) at `lsn`.
  static Result<std::unique_ptr<ImageLayerWriter>> Create(const std::string& path,
                                                          const TenantId& tenant,
                                                          const TimelineId& timeline,
                                                          const Key& start, const Key& end,
                                                          uint64_t lsn,
                                                          const ImageLayerWriterOptions& opts = {});
  virtual ~ImageLayerWriter() = default;

  // Keys strictly increasing and inside [start, end); values up to 0x0FFFFFFF bytes.
  virtual Status Put(const Key& key, std::string_view value) = 0;
  virtual uint64_t num_keys() const = 0;
  // Pads the value area, writes the B-tree and the summary, fsyncs and closes. Returns the file
  // size. A layer with no keys cannot be finished (Neon cannot read one): kInternal.
  virtual Result<uint64_t> Finish() = 0;
};

}  // namespace p2l
