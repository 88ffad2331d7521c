// Entry point for a libFuzzer harness (test/fuzz/) of the Azure listing parser. It never
// crashes on its own: it returns 0 normally and 1 when a property is broken (see
// lib/storage/fuzz_entry.h for the S3 counterpart).
#pragma once

#include <cstddef>
#include <cstdint>

namespace p2l {

// ParseAzureListPage on the bytes (root "" and "pgdata/"); every name it returns must pass
// ValidateObjectName, prefixes must end in '/', versions must be quoted or empty, the marker must
// be bounded; ParseAzureError never fails and returns bounded printable fields.
int FuzzAzureListingParser(const uint8_t* data, size_t size);

}  // namespace p2l
