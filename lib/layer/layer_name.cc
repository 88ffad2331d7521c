// Image layer names (image-layer.md §7.1-§7.3).
#include "layer/layer_name.h"

#include <fmt/format.h>

namespace p2l {

namespace {

bool ParseHex(std::string_view t, size_t max_digits, uint64_t* out) {
  if (t.empty() || t.size() > max_digits) return false;
  uint64_t v = 0;
  for (char c : t) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = (v << 4) | uint64_t(d);
  }
  *out = v;
  return true;
}

Status Bad(std::string_view s, std::string_view why) {
  return Status::InvalidInput(fmt::format("layer name '{}': {}", s, why));
}

}  // namespace

std::string ImageLayerName::ToString() const {
  return fmt::format("{}-{}__{:016X}", key_start.ToHex(), key_end.ToHex(), lsn);
}

Result<ImageLayerName> ImageLayerName::Parse(std::string_view s,
                                             std::optional<uint32_t>* generation) {
  if (generation != nullptr) generation->reset();
  // 1. <start>-<end>__<rest>: each key exactly 36 hex digits.
  const size_t us = s.find("__");
  if (us == std::string_view::npos) return Bad(s, "no '__' between key range and LSN");
  std::string_view left = s.substr(0, us), right = s.substr(us + 2);
  const size_t dash = left.find('-');
  if (dash == std::string_view::npos) return Bad(s, "no '-' between the two keys");
  std::string_view start_text = left.substr(0, dash), end_text = left.substr(dash + 1);
  if (start_text.size() != 36 || end_text.size() != 36) {
    return Bad(s, "keys must be exactly 36 hex digits each");
  }
  auto start = Key::FromHex(start_text);
  if (!start.ok()) return Bad(s, start.status().message());
  auto end = Key::FromHex(end_text);
  if (!end.ok()) return Bad(s, end.status().message());

  // 2. <lsn>[-v1-<gen>|-<gen>]; anything else after '-' is a delta layer's LSN range.
  const size_t rd = right.find('-');
  std::string_view lsn_text = right.substr(0, rd);
  uint64_t lsn;
  if (!ParseHex(lsn_text, 16, &lsn)) return Bad(s, "LSN must be 1 to 16 hex digits");
  std::optional<uint32_t> gen;
  if (rd != std::string_view::npos) {
    std::string_view suffix = right.substr(rd + 1);
    uint64_t g;
    if (!suffix.empty() && suffix[0] == 'v') {
      if (suffix.size() != 11 || suffix.substr(0, 3) != "v1-" || !ParseHex(suffix.substr(3), 8, &g)) {
        return Bad(s, "generation suffix must be -v1-XXXXXXXX (8 hex digits)");
      }
    } else if (suffix.size() == 8 && ParseHex(suffix, 8, &g)) {
      // §7.3 item 5: Neon would also read this as a delta layer with LSN range lsn..g.
      if (g > lsn) return Bad(s, "ambiguous: generation suffix greater than the LSN");
    } else {
      return Bad(s, "not an image layer name (delta layer LSN range or unknown suffix)");
    }
    gen = uint32_t(g);
  }
  if (generation != nullptr) *generation = gen;
  ImageLayerName n;
  n.key_start = *start;
  n.key_end = *end;
  n.lsn = lsn;
  return n;
}

}  // namespace p2l
