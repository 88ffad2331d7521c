// Helpers for reading the XML documents of object stores (S3, Azure) with pugixml.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "util/status.h"

namespace p2l::xml {

// Local name of an element, without a namespace prefix ("s3:Key" → "Key").
std::string_view LocalName(const pugi::xml_node& n);
// The first child element of `parent` with local name `name`, or a null node.
pugi::xml_node Child(const pugi::xml_node& parent, std::string_view name);
// The text of an element ("" for a null node).
std::string_view Text(const pugi::xml_node& n);
// Printable ASCII for messages: other bytes become '?', at most `max` bytes (then "...").
std::string Sanitize(std::string_view s, size_t max);
// Parses `xml` (at most max_bytes, UTF-8) into *doc; kInvalidInput naming `what` otherwise.
Status Load(pugi::xml_document* doc, std::string_view xml, uint64_t max_bytes, std::string_view what);

}  // namespace p2l::xml
