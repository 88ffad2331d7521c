// Property checks behind the libFuzzer entry points; see fuzz_entry.h.

#include "pg/fuzz_entry.h"

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pg/controlfile.h"
#include "pg/page.h"
#include "pg/relfile.h"
#include "pg/twophase.h"
#include "util/coding.h"

namespace p2l {

int FuzzControlFile(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto r = ControlFile::Parse(bytes, "fuzz/pg_control");
  if (!r.ok()) return r.status().message().rfind("fuzz/pg_control: ", 0) == 0 ? 0 : 1;
  const ControlFile& cf = *r;
  if (size < kControlFileDataSize || size > kControlFileMaxSize) return 1;
  if (Crc32c(data, 288) != DecodeLE32(data + 288)) return 1;
  if (cf.pg_major < 14 || cf.pg_major > 17) return 1;
  if (cf.raw != bytes) return 1;
  const uint64_t base = cf.BaseLsn();
  if (base % 8 != 0 || base < cf.checkpoint_lsn || base - cf.checkpoint_lsn >= 8) return 1;
  if (base + 8 < base) return 1;  // disk_consistent_lsn = base + 8 must not wrap
  if (cf.CheckpointBytes() != bytes.substr(40, 88)) return 1;
  if (DbStateName(cf.state) == nullptr) return 1;
  return 0;
}

int FuzzRelFileName(const uint8_t* data, size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  if (auto r = ParseRelFileName(name)) {
    if (r->fork > kInitFork) return 1;
    auto again = ParseRelFileName(RelFileNameString(*r));
    if (!again || again->relnode != r->relnode || again->fork != r->fork || again->segno != r->segno) {
      return 1;
    }
  }
  (void)ParseSlruSegmentName(name);
  for (int major : {14, 17}) {
    if (auto x = ParseTwoPhaseFileName(name, major)) {
      if (TwoPhaseFileName(*x, major) != name) return 1;
    }
  }
  return 0;
}

int FuzzPage(const uint8_t* data, size_t size) {
  std::vector<uint8_t> page(kBlockSize, 0);
  std::memcpy(page.data(), data, size < kBlockSize ? size : kBlockSize);
  uint32_t blkno = size >= kBlockSize + 4 ? DecodeLE32(data + kBlockSize) : 0;
  std::string why;
  PageCheck plain = CheckPage(page.data(), blkno, false, &why);
  if (plain == PageCheck::kBadChecksum) return 1;
  uint16_t sum = PgChecksumPage(page.data(), blkno);
  if (sum == 0) return 1;
  page[8] = uint8_t(sum);
  page[9] = uint8_t(sum >> 8);
  if (CheckPage(page.data(), blkno, true, &why) == PageCheck::kBadChecksum) return 1;
  return 0;
}

}  // namespace p2l
