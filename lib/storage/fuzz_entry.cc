#include "storage/fuzz_entry.h"

#include <string_view>

#include "storage/s3_xml.h"

namespace p2l {

int FuzzS3ListingParser(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  for (std::string_view root : {std::string_view(), std::string_view("pgdata/")}) {
    Result<S3ListPage> page = ParseS3ListPage(xml, root, "fuzz");
    if (!page.ok()) continue;
    if (page->truncated == page->next_token.empty()) return 1;
    for (const ObjectInfo& o : page->objects) {
      if (!ValidateObjectName(o.name).ok()) return 1;
    }
    for (const std::string& p : page->prefixes) {
      if (p.empty() || p.back() != '/') return 1;
      if (!ValidateObjectName(std::string_view(p).substr(0, p.size() - 1)).ok()) return 1;
    }
  }
  (void)ParseS3Error(xml);
  return 0;
}

}  // namespace p2l
