// libFuzzer target: the Azure Blob "List Blobs" parser through p2l::FuzzAzureListingParser.
// fuzz-requires: lib/storage/azure_fuzz_entry.h
// (run.sh builds this target only when that header exists.) Seeds: corpus/azure_listing_parser/.
#include <cstddef>
#include <cstdint>

#include "storage/azure_fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (p2l::FuzzAzureListingParser(data, size) != 0) __builtin_trap();
  return 0;
}
