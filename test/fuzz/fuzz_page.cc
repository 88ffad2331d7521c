// libFuzzer target: page header checks and data checksums (lib/pg/page.h) through p2l::FuzzPage
// (a page carrying its own correct checksum is never reported as a checksum failure).
// Seeds: corpus/page/ (real heap, btree, fsm and vm pages of PostgreSQL 14-17).
#include <cstddef>
#include <cstdint>

#include "pg/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (p2l::FuzzPage(data, size) != 0) __builtin_trap();
  return 0;
}
