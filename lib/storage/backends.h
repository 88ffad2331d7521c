// The storage backends behind OpenStorage (storage.cc), and the URL syntax that selects them.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "storage/storage.h"

namespace p2l {

// A parsed storage URL (see OpenStorage in storage.h for the accepted forms).
struct StorageUrl {
  enum class Kind { kLocal, kS3, kAzure };
  Kind kind = Kind::kLocal;
  std::string path;    // kLocal: the directory ("file:///abs" → "/abs")
  std::string bucket;  // kS3: bucket name
  std::string prefix;  // kS3: key prefix without leading/trailing '/' ("" = bucket root)
};

// Parses `url`; kUsage for an unknown scheme, a bad bucket name or a prefix that is not a valid
// object name. Azure URLs are only classified (kAzure): the Azure backend parses them itself.
Result<StorageUrl> ParseStorageUrl(std::string_view url);

// Backend factories (local_storage.cc, s3_storage.cc, azure_storage.cc).
Result<std::unique_ptr<Storage>> OpenLocalStorage(std::string_view url, std::string_view dir,
                                                  const StorageOptions& opts);
Result<std::unique_ptr<Storage>> OpenS3Storage(std::string_view url, const StorageOptions& opts);
// The region the S3 backend signs for with `opts`: opts.region, else the environment's
// AWS_REGION, AWS_DEFAULT_REGION (read with opts.env_prefix), else "us-east-1". Not validated.
std::string S3Region(const StorageOptions& opts);
// Implemented by the Azure backend (lib/storage/azure_storage.cc): "az://account/container[/prefix]"
// or "https://<account>.blob.core.windows.net/<container>[/prefix]".
Result<std::unique_ptr<Storage>> OpenAzureStorage(std::string_view url, const StorageOptions& opts);

}  // namespace p2l
