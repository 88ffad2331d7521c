#include "layer/fuzz_entry.h"

#include <string>
#include <vector>

#include "layer/image_layer_reader.h"
#include "storage/memory_reader.h"

namespace p2l {

int FuzzImageLayerReader(const uint8_t* data, size_t size) {
  ImageLayerReaderOptions opts;
  opts.max_decompressed_blob = 16u << 20;  // keep fuzzing iterations cheap
  opts.scan_chunk_size = 64u << 10;
  auto r = ImageLayerReader::Open(
      NewMemoryReader("fuzz-layer", std::string(reinterpret_cast<const char*>(data), size)), opts);
  if (!r.ok()) return 0;
  ImageLayerReader& layer = **r;
  std::vector<Key> keys;
  (void)layer.ForEachKey([&](const Key& k, uint64_t) -> Status {
    if (keys.size() < 8) keys.push_back(k);
    return Status::OK();
  });
  size_t total = 0;
  (void)layer.ForEach([&](const Key&, std::string_view v) -> Status {
    total += v.size();
    return Status::OK();
  });
  keys.push_back(layer.summary().key_start);
  keys.push_back(layer.summary().key_start.Next());
  for (const Key& k : keys) {
    (void)layer.Get(k);
    (void)layer.Get(k.Next());
  }
  return total == size_t(-1) ? 1 : 0;
}

}  // namespace p2l
