// AzureStorage: a Storage on an Azure Blob Storage container.
//
// URLs (storage.h, OpenStorage):
//   az://ACCOUNT/CONTAINER[/PREFIX]
//   https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX][?SAS]   (path percent-decoded; a
//        query string is taken as a SAS token and never shown in Url() or messages)
//
// Credentials, first match wins:
//   1. a SAS token in the https:// URL;
//   2. AZURE_STORAGE_CONNECTION_STRING (DefaultEndpointsProtocol, AccountName, AccountKey,
//      BlobEndpoint, SharedAccessSignature, EndpointSuffix, UseDevelopmentStorage=true); an
//      AccountName different from the URL's account is an error;
//   3. AZURE_STORAGE_KEY (alias AZURE_STORAGE_ACCESS_KEY): Shared Key for the URL's account;
//      AZURE_STORAGE_ACCOUNT, when set, must name that account;
//   4. AZURE_STORAGE_SAS_TOKEN ("sv=...&sig=...", a leading '?' is allowed).
//   With StorageOptions::env_prefix P the variables (these and AZURE_STORAGE_ENDPOINT) are read
//   as P + NAME instead. Nothing → kUsage naming these variables. A key is Shared Key signing
//   (azure_auth.h); a SAS is appended to every request URL (messages redact sig=). Keys and
//   signatures are never shown.
//
// Endpoint (the account's blob service URL), first match wins:
//   StorageOptions::endpoint (--endpoint), AZURE_STORAGE_ENDPOINT, the connection string's
//   BlobEndpoint (or DefaultEndpointsProtocol://ACCOUNT.blob.EndpointSuffix), the https:// URL's
//   scheme and host, https://ACCOUNT.blob.core.windows.net.
//   An endpoint may have a path: emulators are path-style, http://127.0.0.1:10000/devstoreaccount1
//   (requests go to ENDPOINT/CONTAINER/BLOB). An endpoint without a path whose host is an IP
//   address or "localhost" gets "/ACCOUNT" appended (Azurite's layout). Sovereign clouds: use
//   EndpointSuffix in the connection string, or an endpoint https://ACCOUNT.blob.core.chinacloudapi.cn.
//
// Requests (x-ms-version azure::kApiVersion): List Blobs (delimiter '/', NextMarker pagination,
// loop guard), Get Blob Properties (Stat), ranged Get Blob with x-ms-range and If-Match <etag>
// (412, a different ETag or Content-Range → kSourceChanged), Put Blob (Content-MD5 checked by
// the service), PutIfAbsent = Put Blob with If-None-Match: * (409/412 → kConflict), staged
// objects above multipart_threshold as Put Block (part_size blocks, block ids of equal length,
// each block retried on its own, a few in parallel) + Put Block List, Delete Blob (snapshots
// included). Transient failures (timeouts, resets, 5xx, 408, 429, 503 ServerBusy) are retried
// by the HttpClient with the same retry, bandwidth and concurrency limits as S3.
// Errors: "az://account/container/prefix/name: HTTP <status> <x-ms-error-code>: <Message>";
// a missing container is kNotFound naming account and container; refused credentials are kIo
// naming the credential source.
// Uncommitted blocks of a failed staged upload are not deleted: Azure discards them after a week.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "storage/azure_auth.h"
#include "storage/http.h"
#include "storage/object_store.h"

namespace p2l {

// The pieces of an Azure storage URL.
struct AzureUrl {
  std::string account;
  std::string container;
  std::string prefix;    // no leading/trailing '/'; "" = container root
  std::string endpoint;  // https form: "https://ACCOUNT.blob.core.windows.net"; az:// form: ""
  std::string sas;       // https form: the query string (normalized SAS token); else ""
  std::string shown;     // the URL without credentials, for messages and Storage::Url()
};
// kUsage for anything else than the two forms, a bad account (3-24 of a-z 0-9) or container
// (3-63 of a-z 0-9 -, starting and ending with a letter or digit, no "--") name, a prefix that
// is not a valid object name.
Result<AzureUrl> ParseAzureUrl(std::string_view url);

struct AzureConfig {
  std::string account;
  std::string container;
  std::string prefix;
  std::string endpoint;           // without trailing '/', may have a path
  std::string key;                // decoded account key (raw bytes); "" = not Shared Key
  std::string sas;                // SAS token without '?'; "" = not SAS
  std::string credential_source;  // e.g. "AZURE_STORAGE_KEY", for messages
  std::string shown;              // Url()
  // PGDATA2LAYERS_AZURE_BLOCK_SIZE (bytes, 1024..4000 MiB; 0 = unset): staged objects larger
  // than this are uploaded in blocks of this size (instead of multipart_threshold/part_size).
  uint64_t block_size = 0;
};

// Environment lookup: the value, or "" when unset.
using EnvLookup = std::function<std::string(const char* name)>;
// Resolves credentials and endpoint (see the top of this file) from `opts` and `env`.
Result<AzureConfig> AzureConfigFrom(const AzureUrl& u, const StorageOptions& opts, const EnvLookup& env);

class AzureStorage : public ObjectStore {
 public:
  AzureStorage(AzureConfig cfg, const StorageOptions& opts);

  Result<ObjectInfo> Stat(std::string_view name) override;
  Result<std::unique_ptr<RandomReader>> OpenReader(std::string_view name,
                                                   const ObjectInfo* expect = nullptr) override;
  Status Put(std::string_view name, std::string_view data) override;
  Status PutIfAbsent(std::string_view name, std::string_view data) override;
  Status Delete(std::string_view name) override;

  // A request for `blob` ("" = the container) with decoded query parameters; signed (Shared
  // Key, before every attempt) or carrying the SAS token.
  http::Request MakeRequest(std::string method, std::string_view blob, azure::QueryParams query) const;
  // The Status for a non-2xx answer about `what`.
  Status ErrorFor(const http::Response& r, std::string_view what) const override;
  const AzureConfig& config() const { return cfg_; }
  // Uploads `size` bytes of `fd` as object `name` (one Put Blob, or blocks + block list).
  Status UploadFile(std::string_view name, int fd, uint64_t size) override;
  Status ReadRange(const ObjectInfo& info, uint64_t offset, uint64_t len, uint8_t* out) override;

 protected:
  http::Request KeyRequest(std::string method, std::string_view blob) const override;
  Result<ObjectListPage> ListPage(std::string_view blob_prefix, bool delimiter, const std::string& marker,
                                  std::string_view what) override;
  std::string ShowName(std::string_view name) const override;

 private:
  Status BlockUpload(std::string_view name, int fd, uint64_t size);
  Status PutBlob(std::string_view name, std::string_view data, bool if_absent, http::Response* resp);
  // kNotFound naming account and container when the container does not exist (checked once).
  Status CheckContainer();

  AzureConfig cfg_;
  std::string origin_;           // "http(s)://host[:port]" of the endpoint
  std::string endpoint_path_;    // path of the endpoint ("" or "/devstoreaccount1")
  std::atomic<bool> container_ok_{false};
};

}  // namespace p2l
