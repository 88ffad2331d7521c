// A RandomReader over bytes held in memory (tests, fuzzing, small downloaded objects).
#pragma once

#include <memory>
#include <string>

#include "storage/storage.h"

namespace p2l {

// Owns `data`; info() = {name, data.size(), version}.
std::unique_ptr<RandomReader> NewMemoryReader(std::string name, std::string data,
                                              std::string version = "");

}  // namespace p2l
