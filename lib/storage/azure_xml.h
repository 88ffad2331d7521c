// The Azure Blob Storage XML documents we read and write (pugixml), with every field checked:
//   List Blobs result (EnumerationResults), Error, and the Put Block List request body.
// Inputs are bounded (kMaxAzureXmlBytes) before parsing; pugixml does not expand custom entities
// or load external ones, so entity-expansion bombs stay literal text and fail the name checks.
//
// List Blobs (REST reference "List Blobs"), the parts we use:
//   <EnumerationResults ServiceEndpoint=".." ContainerName="..">
//     <Prefix>..</Prefix> <Marker>..</Marker> <MaxResults>..</MaxResults> <Delimiter>/</Delimiter>
//     <Blobs>
//       <Blob><Name>..</Name><Properties><Etag>..</Etag><Content-Length>..</Content-Length>
//             [<ResourceType>directory</ResourceType>] ...</Properties></Blob>
//       <BlobPrefix><Name>dir/</Name></BlobPrefix>
//     </Blobs>
//     <NextMarker>..</NextMarker>      (empty or absent on the last page)
//   </EnumerationResults>
// A <Name Encoded="true"> holds a percent-encoded name (names with characters XML cannot carry);
// it is decoded before the checks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

constexpr uint64_t kMaxAzureXmlBytes = 16 << 20;
constexpr size_t kMaxAzureListEntries = 10000;  // per page (Azure returns at most 5000)
constexpr size_t kMaxAzureMarkerBytes = 4096;

struct AzureListPage {
  std::vector<ObjectInfo> objects;    // names relative to the storage root (prefix stripped), validated
  std::vector<std::string> prefixes;  // relative to the root, ending in '/', validated
  std::string next_marker;            // "" on the last page
};

// Parses one List Blobs page. `root` is the storage prefix including its trailing '/' ("" for
// the container root): every Name must start with it; the rest must pass ValidateObjectName
// (prefixes: without their trailing '/'). Skipped: zero-byte names ending in '/' ("directory
// markers") and entries with <ResourceType>directory</ResourceType> (hierarchical-namespace
// accounts list directories as blobs). ObjectInfo::version is the ETag in its quoted HTTP form
// ("\"0x8D...\"", the form HEAD/GET answers carry), whether the listing quoted it or not.
// `what` names the listing in messages ("az://acct/cont/p/ (listing page 3)").
Result<AzureListPage> ParseAzureListPage(std::string_view xml, std::string_view root, std::string_view what);

struct AzureErrorInfo {
  std::string code;     // e.g. "BlobNotFound"; empty when the body is not an error document
  std::string message;  // first line of Message, sanitized: printable ASCII, at most 300 bytes
};
// Never fails: a body that is not an <Error> document yields empty fields. (The
// AuthenticationErrorDetail element, which echoes the string-to-sign, is never read.)
AzureErrorInfo ParseAzureError(std::string_view xml);

// <?xml ...?><BlockList><Latest>id</Latest>...</BlockList>; ids are base64 (no escaping needed,
// but escaped anyway).
std::string BuildAzureBlockList(const std::vector<std::string>& block_ids);

// The ETag in its quoted HTTP form: "abc" → "\"abc\"", "\"abc\"" unchanged, "" unchanged.
std::string QuoteETag(std::string_view etag);

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out);

}  // namespace p2l
