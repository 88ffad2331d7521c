// libFuzzer target: the S3 ListObjectsV2 page parser and the S3 error parser
// (lib/storage/s3_xml.h) through p2l::FuzzS3ListingParser: every accepted name is a valid object
// name under the root. Seeds: corpus/s3_listing_parser/. Dictionary: dict/xml.dict.
#include <cstddef>
#include <cstdint>

#include "storage/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (p2l::FuzzS3ListingParser(data, size) != 0) __builtin_trap();
  return 0;
}
