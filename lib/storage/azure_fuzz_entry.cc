#include "storage/azure_fuzz_entry.h"

#include <string_view>

#include "storage/azure_xml.h"

namespace p2l {

int FuzzAzureListingParser(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  for (std::string_view root : {std::string_view(), std::string_view("pgdata/")}) {
    Result<AzureListPage> page = ParseAzureListPage(xml, root, "fuzz");
    if (!page.ok()) continue;
    if (page->next_marker.size() > kMaxAzureMarkerBytes) return 1;
    if (page->objects.size() + page->prefixes.size() > kMaxAzureListEntries) return 1;
    for (const ObjectInfo& o : page->objects) {
      if (!ValidateObjectName(o.name).ok()) return 1;
      if (!o.version.empty() && (o.version.size() < 2 || o.version.front() != '"' || o.version.back() != '"')) return 1;
    }
    for (const std::string& p : page->prefixes) {
      if (p.empty() || p.back() != '/') return 1;
      if (!ValidateObjectName(std::string_view(p).substr(0, p.size() - 1)).ok()) return 1;
    }
  }
  const AzureErrorInfo e = ParseAzureError(xml);
  if (e.code.size() > 103 || e.message.size() > 303) return 1;
  for (unsigned char c : e.code + e.message) {
    if (c < 0x20 || c >= 0x7f) return 1;
  }
  return 0;
}

}  // namespace p2l
