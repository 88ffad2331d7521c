// libFuzzer target: the image layer reader (summary, disk B-tree, blobs, zstd) through
// p2l::FuzzImageLayerReader (lib/layer/fuzz_entry.h). Seeds: corpus/image_layer_reader/, layers
// written by our writer (gen_layer_seeds.cc).
#include <cstddef>
#include <cstdint>

#include "layer/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (p2l::FuzzImageLayerReader(data, size) != 0) __builtin_trap();
  return 0;
}
