// libFuzzer-ready entry point for the image layer reader: opens `data` as a layer through the
// memory reader, runs Open, ForEachKey, ForEach and a few Gets, ignoring the errors. Must never
// crash, hang or allocate without bound on any input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace p2l {

int FuzzImageLayerReader(const uint8_t* data, size_t size);

}  // namespace p2l
