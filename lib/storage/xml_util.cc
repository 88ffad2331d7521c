#include "storage/xml_util.h"

#include <fmt/format.h>

#include <exception>

namespace p2l::xml {

std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view s = n.name();
  size_t colon = s.find(':');
  return colon == std::string_view::npos ? s : s.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == name) return c;
  }
  return pugi::xml_node();
}

std::string_view Text(const pugi::xml_node& n) { return n ? std::string_view(n.child_value()) : std::string_view(); }

std::string Sanitize(std::string_view s, size_t max) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7f ? char(c) : '?');
  if (s.size() > max) out += "...";
  return out;
}

Status Load(pugi::xml_document* doc, std::string_view xml, uint64_t max_bytes, std::string_view what) {
  if (xml.size() > max_bytes) {
    return Status::InvalidInput(fmt::format("{}: XML document of {} bytes is larger than the {} bytes allowed", what,
                                            xml.size(), max_bytes));
  }
  pugi::xml_parse_result r;
  try {
    r = doc->load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  } catch (const std::exception& e) {
    return Status::InvalidInput(fmt::format("{}: XML parse failed: {}", what, e.what()));
  }
  if (!r) {
    return Status::InvalidInput(
        fmt::format("{}: malformed XML at offset {}: {}", what, uint64_t(r.offset), r.description()));
  }
  return Status::OK();
}

}  // namespace p2l::xml
