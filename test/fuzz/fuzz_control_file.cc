// libFuzzer target: ControlFile::Parse (lib/pg/controlfile.h) through p2l::FuzzControlFile, which
// checks the properties every accepted pg_control must have. Seeds: corpus/control_file/.
#include <cstddef>
#include <cstdint>

#include "pg/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (p2l::FuzzControlFile(data, size) != 0) __builtin_trap();
  return 0;
}
