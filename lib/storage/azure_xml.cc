#include "storage/azure_xml.h"

#include <fmt/format.h>

#include <pugixml.hpp>

#include "storage/xml_util.h"
#include "util/parse_number.h"

namespace p2l {

using namespace xml;  // LocalName, Child, Text, Sanitize

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The Name of a Blob or BlobPrefix, decoded when Encoded="true".
Result<std::string> EntryName(const pugi::xml_node& entry, uint64_t index, std::string_view what) {
  pugi::xml_node n = Child(entry, "Name");
  if (!n) return Status::InvalidInput(fmt::format("{}: entry {} has no Name", what, index));
  std::string_view raw = Text(n);
  if (std::string_view(n.attribute("Encoded").value()) == "true") {
    std::string decoded;
    if (!PercentDecode(raw, &decoded)) {
      return Status::InvalidInput(
          fmt::format("{}: entry {}: bad percent-encoding in the encoded name \"{}\"", what, index, Sanitize(raw, 200)));
    }
    return decoded;
  }
  return std::string(raw);
}

}  // namespace

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (in.size() - i < 3) return false;
    const int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(char(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string QuoteETag(std::string_view etag) {
  if (etag.empty()) return std::string();
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return std::string(etag);
  return "\"" + std::string(etag) + "\"";
}

Result<AzureListPage> ParseAzureListPage(std::string_view xml, std::string_view root, std::string_view what) {
  pugi::xml_document doc;
  P2L_RETURN_IF_ERROR(xml::Load(&doc, xml, kMaxAzureXmlBytes, what));
  pugi::xml_node top = doc.document_element();
  if (!top || LocalName(top) != "EnumerationResults") {
    return Status::InvalidInput(fmt::format("{}: not an EnumerationResults document (root element \"{}\")", what,
                                            Sanitize(top ? top.name() : "", 60)));
  }
  AzureListPage page;
  page.next_marker = std::string(Text(Child(top, "NextMarker")));
  if (page.next_marker.size() > kMaxAzureMarkerBytes) {
    return Status::InvalidInput(
        fmt::format("{}: NextMarker of {} bytes is too long", what, page.next_marker.size()));
  }
  for (unsigned char c : page.next_marker) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidInput(fmt::format("{}: NextMarker contains a control byte", what));
    }
  }
  uint64_t entries = 0;
  pugi::xml_node blobs = Child(top, "Blobs");
  for (pugi::xml_node c = blobs.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view kind = LocalName(c);
    if (kind != "Blob" && kind != "BlobPrefix") continue;
    if (++entries > kMaxAzureListEntries) {
      return Status::InvalidInput(fmt::format("{}: more than {} entries in one page", what, kMaxAzureListEntries));
    }
    P2L_ASSIGN_OR_RETURN(std::string name, EntryName(c, entries, what));
    if (kind == "Blob") {
      if (!std::string_view(name).starts_with(root)) {
        return Status::InvalidInput(fmt::format("{}: blob \"{}\" is outside the prefix \"{}\"", what,
                                                Sanitize(name, 200), Sanitize(root, 200)));
      }
      std::string_view rel = std::string_view(name).substr(root.size());
      pugi::xml_node props = Child(c, "Properties");
      uint64_t size = 0;
      std::string_view size_text = Text(Child(props, "Content-Length"));
      if (!ParseU64(size_text, &size)) {
        return Status::InvalidInput(fmt::format("{}: blob \"{}\": bad Content-Length \"{}\"", what, Sanitize(name, 200),
                                                Sanitize(size_text, 40)));
      }
      if (Text(Child(props, "ResourceType")) == "directory") continue;  // HNS directory entry
      if (rel.ends_with('/') && size == 0) continue;                    // "directory marker" blob
      Status st = ValidateObjectName(rel);
      if (!st.ok()) return st.WithContext(what);
      std::string_view etag = Text(Child(props, "Etag"));
      if (etag.empty()) etag = Text(Child(props, "ETag"));
      if (etag.size() > 1024) {
        return Status::InvalidInput(fmt::format("{}: blob \"{}\": Etag too long", what, Sanitize(rel, 200)));
      }
      for (unsigned char ch : etag) {
        if (ch < 0x20 || ch >= 0x7f) {
          return Status::InvalidInput(fmt::format("{}: blob \"{}\": Etag has a non-printable byte", what,
                                                  Sanitize(rel, 200)));
        }
      }
      page.objects.push_back(ObjectInfo{std::string(rel), size, QuoteETag(etag)});
    } else {
      std::string_view p = name;
      if (!p.starts_with(root) || p.size() <= root.size() + 1 || !p.ends_with('/')) {
        return Status::InvalidInput(fmt::format("{}: blob prefix \"{}\" is not \"{}<name>/\"", what, Sanitize(p, 200),
                                                Sanitize(root, 200)));
      }
      std::string_view rel = p.substr(root.size());
      Status st = ValidateObjectName(rel.substr(0, rel.size() - 1));
      if (!st.ok()) return st.WithContext(what);
      page.prefixes.emplace_back(rel);
    }
  }
  return page;
}

AzureErrorInfo ParseAzureError(std::string_view xml) {
  AzureErrorInfo info;
  if (xml.empty() || xml.size() > kMaxAzureXmlBytes) return info;
  pugi::xml_document doc;
  if (!xml::Load(&doc, xml, kMaxAzureXmlBytes, "").ok()) return info;
  pugi::xml_node top = doc.document_element();
  if (!top || LocalName(top) != "Error") return info;
  info.code = Sanitize(Text(Child(top, "Code")), 100);
  std::string_view msg = Text(Child(top, "Message"));
  msg = msg.substr(0, msg.find_first_of("\r\n"));  // "...\nRequestId:...\nTime:..."
  info.message = Sanitize(msg, 300);
  return info;
}

std::string BuildAzureBlockList(const std::vector<std::string>& block_ids) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const std::string& id : block_ids) {
    out += "<Latest>";
    for (char c : id) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        default: out.push_back(c);
      }
    }
    out += "</Latest>";
  }
  out += "</BlockList>";
  return out;
}

}  // namespace p2l
