// The S3 XML documents we read and write (pugixml), with every field checked:
//   ListObjectsV2 result (ListBucketResult), Error, InitiateMultipartUploadResult, and the
//   CompleteMultipartUpload request body.
// Inputs are bounded (kMaxS3XmlBytes) before parsing; pugixml does not expand custom entities or
// load external ones, so entity-expansion bombs stay literal text and fail the name checks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

constexpr uint64_t kMaxS3XmlBytes = 16 << 20;
constexpr size_t kMaxS3ListEntries = 10000;  // per page (S3 returns at most 1000)

struct S3ListPage {
  std::vector<ObjectInfo> objects;    // names relative to the storage root (prefix stripped), validated
  std::vector<std::string> prefixes;  // relative to the root, ending in '/', validated
  bool truncated = false;
  std::string next_token;             // non-empty iff truncated
};

// Parses one ListObjectsV2 page. `root` is the storage prefix including its trailing '/' ("" for
// the bucket root): every Key and CommonPrefix must start with it; the rest must pass
// ValidateObjectName (prefixes: without their trailing '/'). Zero-byte "directory marker" keys
// ending in '/' are skipped. Checks KeyCount (when present) against the entries, IsTruncated
// against NextContinuationToken. `what` names the listing in messages ("s3://b/p/ (page 3)").
Result<S3ListPage> ParseS3ListPage(std::string_view xml, std::string_view root, std::string_view what);

struct S3ErrorInfo {
  std::string code;     // e.g. "NoSuchKey"; empty when the body is not an S3 error document
  std::string message;  // sanitized: printable ASCII, at most 300 bytes
  std::string bucket;   // BucketName when present
};
// Never fails: a body that is not an <Error> document yields empty fields.
S3ErrorInfo ParseS3Error(std::string_view xml);

// UploadId of an InitiateMultipartUploadResult.
Result<std::string> ParseS3InitiateMultipart(std::string_view xml, std::string_view what);

struct S3Part {
  int number = 0;
  std::string etag;
};
// <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"..."</ETag></Part>...
std::string BuildS3CompleteMultipart(const std::vector<S3Part>& parts);

}  // namespace p2l
