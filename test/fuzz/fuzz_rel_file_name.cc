// libFuzzer target: relation / SLRU / two-phase file name parsers (lib/pg/relfile.h,
// lib/pg/twophase.h) through p2l::FuzzRelFileName (parsed names must round-trip).
// Seeds: corpus/rel_file_name/.
#include <cstddef>
#include <cstdint>

#include "pg/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (p2l::FuzzRelFileName(data, size) != 0) __builtin_trap();
  return 0;
}
