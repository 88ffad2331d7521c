// Entry points for libFuzzer harnesses (test/fuzz/) of the storage area. They never crash on
// their own: they return 0 normally and 1 when a property is broken (see lib/pg/fuzz_entry.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace p2l {

// ParseS3ListPage on the bytes (root "" and "pgdata/"); every name it returns must pass
// ValidateObjectName and stay under the root, IsTruncated must come with a token; ParseS3Error
// never fails.
int FuzzS3ListingParser(const uint8_t* data, size_t size);

}  // namespace p2l
