// A pull iterator over the (key, value) pairs of one shard's layers, in key order.
//
// ImageLayerReader::ForEach pushes values through a callback; verify and export need to pull from
// several shards at once (merge by key) and to pace a layer scan against a source scan. A
// ShardStream runs ForEach over the layers, one after another, in a background thread that hands
// batches to the consumer through a queue bounded in bytes, so memory stays bounded whatever the
// layer sizes. The layers of one shard must not overlap; the stream checks that keys increase
// strictly over the whole sequence and fails (or reports, see continue_on_error) otherwise.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "keyspace/key.h"
#include "layer/image_layer_reader.h"
#include "storage/storage.h"
#include "tools/timeline_reader.h"
#include "util/status.h"

namespace p2l {

struct ShardStreamOptions {
  ImageLayerReaderOptions reader;
  size_t max_queued_bytes = 8u << 20;   // values waiting for the consumer
  size_t batch_bytes = 1u << 20;        // values handed over at once
  // false: the first layer error ends the stream with that error.
  // true: the error is delivered as an item (error set) and the next layer is read.
  bool continue_on_error = false;
};

struct StreamItem {
  uint32_t layer = 0;     // index into the layers the stream was given
  Key key;
  std::string value;
  Status error;           // only with continue_on_error: this layer failed here
};

class ShardStream {
 public:
  // `dest` must outlive the stream. `layers` sorted by key range (ShardTimeline::layers).
  ShardStream(Storage& dest, std::vector<LayerRef> layers, ShardStreamOptions opts = {});
  ~ShardStream();   // stops and joins the reader thread
  ShardStream(const ShardStream&) = delete;
  ShardStream& operator=(const ShardStream&) = delete;

  // The next item, false at the end (or a Status: a layer error without continue_on_error).
  Result<bool> Next(StreamItem* out);

  const std::vector<LayerRef>& layers() const { return layers_; }

 private:
  using Batch = std::vector<StreamItem>;
  void Run();
  // Hands `batch` to the consumer; false when the stream was cancelled.
  bool Push(Batch* batch, size_t bytes);

  Storage& dest_;
  const std::vector<LayerRef> layers_;
  const ShardStreamOptions opts_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Batch, size_t>> queue_;   // batches and their byte sizes
  size_t queued_bytes_ = 0;
  bool done_ = false;        // producer finished (status in final_)
  bool cancelled_ = false;
  Status final_;

  Batch current_;            // consumer side
  size_t pos_ = 0;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace p2l
