#include "layer/summary.h"

#include <fmt/format.h>

#include "layer/format.h"
#include "util/coding.h"

namespace p2l {

std::string EncodeSummary(const ImageLayerSummary& s) {
  std::string out;
  out.reserve(kSummarySize);
  PutBE16(&out, s.magic);
  PutBE16(&out, s.format_version);
  out.append(reinterpret_cast<const char*>(s.tenant.bytes.data()), 16);
  out.append(reinterpret_cast<const char*>(s.timeline.bytes.data()), 16);
  uint8_t k[kKeySize];
  s.key_start.EncodeTo(k);
  out.append(reinterpret_cast<const char*>(k), kKeySize);
  s.key_end.EncodeTo(k);
  out.append(reinterpret_cast<const char*>(k), kKeySize);
  PutBE64(&out, s.lsn);
  PutBE32(&out, s.index_start_blk);
  PutBE32(&out, s.index_root_blk);
  return out;
}

std::string EncodeSummaryBlock(const ImageLayerSummary& s) {
  std::string out = EncodeSummary(s);
  out.resize(kLayerBlockSize, '\0');
  return out;
}

Result<ImageLayerSummary> DecodeSummary(const uint8_t* p, size_t len, const std::string& name) {
  if (len < kSummarySize) {
    return Status::InvalidInput(
        fmt::format("{}: image layer summary needs {} bytes, only {} available", name,
                    kSummarySize, len));
  }
  ImageLayerSummary s;
  s.magic = DecodeBE16(p + 0);
  s.format_version = DecodeBE16(p + 2);
  std::copy(p + 4, p + 20, s.tenant.bytes.begin());
  std::copy(p + 20, p + 36, s.timeline.bytes.begin());
  s.key_start = Key::Decode(p + 36);
  s.key_end = Key::Decode(p + 54);
  s.lsn = DecodeBE64(p + 72);
  s.index_start_blk = DecodeBE32(p + 80);
  s.index_root_blk = DecodeBE32(p + 84);
  return s;
}

Status CheckSummaryMatches(const ImageLayerSummary& s, const TenantId& tenant,
                           const Key& key_start, const Key& key_end, uint64_t lsn,
                           const std::string& name) {
  if (s.magic != kImageFileMagic) {
    return Status::InvalidInput(fmt::format("{}: summary magic 0x{:04X}, expected 0x{:04X}", name,
                                            s.magic, kImageFileMagic));
  }
  if (s.format_version != kStorageFormatVersion) {
    return Status::InvalidInput(fmt::format("{}: summary format_version {}, expected {}", name,
                                            s.format_version, kStorageFormatVersion));
  }
  if (s.tenant != tenant) {
    return Status::InvalidInput(fmt::format("{}: summary tenant_id {}, expected {}", name,
                                            s.tenant.ToHex(), tenant.ToHex()));
  }
  if (s.key_start != key_start) {
    return Status::InvalidInput(fmt::format("{}: summary key_range.start {}, expected {}", name,
                                            s.key_start.ToHex(), key_start.ToHex()));
  }
  if (s.key_end != key_end) {
    return Status::InvalidInput(fmt::format("{}: summary key_range.end {}, expected {}", name,
                                            s.key_end.ToHex(), key_end.ToHex()));
  }
  if (s.lsn != lsn) {
    return Status::InvalidInput(
        fmt::format("{}: summary lsn {:016X}, expected {:016X}", name, s.lsn, lsn));
  }
  return Status::OK();
}

}  // namespace p2l
