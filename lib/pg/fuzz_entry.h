// Entry points for libFuzzer harnesses (test/fuzz/): each feeds arbitrary bytes to one parser of
// this area and checks properties that must hold for every input. They never crash on their own:
// they return 0 normally and 1 when a property is broken, so a harness does
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
//     if (p2l::FuzzControlFile(d, n) != 0) __builtin_trap();
//     return 0;
//   }
// (Sanitizers catch memory errors inside the parsers themselves.)
#pragma once

#include <cstddef>
#include <cstdint>

namespace p2l {

// ControlFile::Parse on the bytes; on success checks size bounds, the CRC, the major version,
// BaseLsn() alignment and CheckpointBytes() == bytes [40, 128).
int FuzzControlFile(const uint8_t* data, size_t size);
// ParseRelFileName, ParseSlruSegmentName and ParseTwoPhaseFileName on the bytes as a name;
// a parsed relation name must round-trip through RelFileNameString.
int FuzzRelFileName(const uint8_t* data, size_t size);
// CheckPage on the first 8192 bytes (zero-padded), with and without checksums; a page whose
// pd_checksum is set to PgChecksumPage must not be reported as kBadChecksum.
int FuzzPage(const uint8_t* data, size_t size);

}  // namespace p2l
