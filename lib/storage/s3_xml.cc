#include "storage/s3_xml.h"

#include <fmt/format.h>

#include <pugixml.hpp>

#include "storage/xml_util.h"
#include "util/parse_number.h"

namespace p2l {

using namespace xml;  // LocalName, Child, Text, Sanitize

Result<S3ListPage> ParseS3ListPage(std::string_view xml, std::string_view root, std::string_view what) {
  pugi::xml_document doc;
  P2L_RETURN_IF_ERROR(xml::Load(&doc, xml, kMaxS3XmlBytes, what));
  pugi::xml_node top = doc.document_element();
  if (!top || LocalName(top) != "ListBucketResult") {
    return Status::InvalidInput(fmt::format("{}: not a ListBucketResult document (root element \"{}\")", what,
                                            Sanitize(top ? top.name() : "", 60)));
  }
  S3ListPage page;
  std::string_view trunc = Text(Child(top, "IsTruncated"));
  if (trunc == "true") {
    page.truncated = true;
  } else if (trunc != "false") {
    return Status::InvalidInput(fmt::format("{}: IsTruncated is \"{}\", not true/false", what, Sanitize(trunc, 40)));
  }
  if (page.truncated) {
    page.next_token = std::string(Text(Child(top, "NextContinuationToken")));
    if (page.next_token.empty()) {
      return Status::InvalidInput(fmt::format("{}: IsTruncated is true but NextContinuationToken is missing", what));
    }
    if (page.next_token.size() > 4096) {
      return Status::InvalidInput(fmt::format("{}: NextContinuationToken of {} bytes is too long", what,
                                              page.next_token.size()));
    }
  }
  uint64_t entries = 0;
  for (pugi::xml_node c = top.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view n = LocalName(c);
    if (n != "Contents" && n != "CommonPrefixes") continue;
    if (++entries > kMaxS3ListEntries) {
      return Status::InvalidInput(fmt::format("{}: more than {} entries in one page", what, kMaxS3ListEntries));
    }
    if (n == "Contents") {
      pugi::xml_node keyn = Child(c, "Key");
      if (!keyn) return Status::InvalidInput(fmt::format("{}: Contents entry {} has no Key", what, entries));
      std::string_view key = Text(keyn);
      if (!key.starts_with(root)) {
        return Status::InvalidInput(fmt::format("{}: key \"{}\" is outside the prefix \"{}\"", what,
                                                Sanitize(key, 200), Sanitize(root, 200)));
      }
      std::string_view rel = key.substr(root.size());
      uint64_t size = 0;
      std::string_view size_text = Text(Child(c, "Size"));
      if (!ParseU64(size_text, &size)) {
        return Status::InvalidInput(fmt::format("{}: key \"{}\": bad Size \"{}\"", what, Sanitize(key, 200),
                                                Sanitize(size_text, 40)));
      }
      if (rel.ends_with('/') && size == 0) continue;  // "directory marker" object
      Status st = ValidateObjectName(rel);
      if (!st.ok()) return st.WithContext(what);
      std::string_view etag = Text(Child(c, "ETag"));
      if (etag.size() > 1024) return Status::InvalidInput(fmt::format("{}: key \"{}\": ETag too long", what, rel));
      page.objects.push_back(ObjectInfo{std::string(rel), size, std::string(etag)});
    } else {
      std::string_view p = Text(Child(c, "Prefix"));
      if (!p.starts_with(root) || p.size() <= root.size() || !p.ends_with('/')) {
        return Status::InvalidInput(fmt::format("{}: common prefix \"{}\" is not \"{}<name>/\"", what,
                                                Sanitize(p, 200), Sanitize(root, 200)));
      }
      std::string_view rel = p.substr(root.size());
      Status st = ValidateObjectName(rel.substr(0, rel.size() - 1));
      if (!st.ok()) return st.WithContext(what);
      page.prefixes.emplace_back(rel);
    }
  }
  if (pugi::xml_node kc = Child(top, "KeyCount")) {
    uint64_t count = 0;
    if (!ParseU64(Text(kc), &count)) {
      return Status::InvalidInput(fmt::format("{}: bad KeyCount \"{}\"", what, Sanitize(Text(kc), 40)));
    }
    if (count != entries) {
      return Status::InvalidInput(
          fmt::format("{}: KeyCount {} but the page holds {} keys and common prefixes", what, count, entries));
    }
  }
  if (page.truncated && entries == 0) {
    return Status::InvalidInput(fmt::format("{}: IsTruncated is true on an empty page", what));
  }
  return page;
}

S3ErrorInfo ParseS3Error(std::string_view xml) {
  S3ErrorInfo info;
  if (xml.empty() || xml.size() > kMaxS3XmlBytes) return info;
  pugi::xml_document doc;
  if (!xml::Load(&doc, xml, kMaxS3XmlBytes, "").ok()) return info;
  pugi::xml_node top = doc.document_element();
  if (!top || LocalName(top) != "Error") return info;
  info.code = Sanitize(Text(Child(top, "Code")), 100);
  info.message = Sanitize(Text(Child(top, "Message")), 300);
  info.bucket = Sanitize(Text(Child(top, "BucketName")), 100);
  return info;
}

Result<std::string> ParseS3InitiateMultipart(std::string_view xml, std::string_view what) {
  pugi::xml_document doc;
  P2L_RETURN_IF_ERROR(xml::Load(&doc, xml, kMaxS3XmlBytes, what));
  pugi::xml_node top = doc.document_element();
  if (!top || LocalName(top) != "InitiateMultipartUploadResult") {
    return Status::InvalidInput(fmt::format("{}: not an InitiateMultipartUploadResult document", what));
  }
  std::string_view id = Text(Child(top, "UploadId"));
  if (id.empty() || id.size() > 2048) {
    return Status::InvalidInput(fmt::format("{}: missing or oversized UploadId", what));
  }
  for (unsigned char c : id) {
    if (c < 0x20 || c >= 0x7f) return Status::InvalidInput(fmt::format("{}: UploadId has a non-printable byte", what));
  }
  return std::string(id);
}

std::string BuildS3CompleteMultipart(const std::vector<S3Part>& parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const S3Part& p : parts) {
    std::string etag;
    for (char c : p.etag) {  // XML-escape (ETags are quoted strings)
      switch (c) {
        case '"': etag += "&quot;"; break;
        case '&': etag += "&amp;"; break;
        case '<': etag += "&lt;"; break;
        case '>': etag += "&gt;"; break;
        default: etag.push_back(c);
      }
    }
    out += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", p.number, etag);
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace p2l
