// S3Storage: a Storage on an S3 bucket (AWS or any S3-compatible endpoint), "s3://bucket[/prefix]".
//
// Configuration the AWS way: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
// (sent as x-amz-security-token), AWS_REGION / AWS_DEFAULT_REGION (default us-east-1),
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; StorageOptions::endpoint and ::region override the
// environment. With StorageOptions::env_prefix P every one of these is read as P + NAME instead.
// A custom endpoint is addressed path-style (http://host:port/bucket/key); real AWS
// virtual-host style (https://bucket.s3.REGION.amazonaws.com/key; path-style for dotted buckets).
//
// Signing: libcurl's CURLOPT_AWS_SIGV4 ("aws:amz:REGION:s3"). libcurl 7.88 neither sorts nor
// encodes the query for the canonical request, nor adds x-amz-content-sha256: every query here is
// built by http::CanonicalQuery and every request carries x-amz-content-sha256 (the SHA-256 of
// in-memory bodies, UNSIGNED-PAYLOAD for file uploads and body-less requests).
//
// Requests: ListObjectsV2 (delimiter '/', continuation tokens, loop guard), HEAD (Stat), ranged
// GET with If-Match <etag> (412 or a different ETag → kSourceChanged; Content-Range and the byte
// count are checked), PUT, PutIfAbsent (HEAD, then PUT with If-None-Match: * — see the .cc for
// what each server guarantees), multipart upload for staged objects above multipart_threshold,
// DELETE. Errors: "s3://bucket/key: HTTP <status> <Code>: <Message>"; transient failures
// (timeouts, resets, 5xx, 408, 429, 503 SlowDown) are retried by the HttpClient.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "storage/http.h"
#include "storage/object_store.h"

namespace p2l {

struct S3Config {
  std::string bucket;
  std::string prefix;        // no leading/trailing '/'; "" = bucket root
  std::string endpoint;      // "http(s)://host[:port]" without trailing '/'; "" = AWS
  std::string region;
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string env_prefix;    // StorageOptions::env_prefix: the variables were read as env_prefix + NAME
};

// Fills endpoint/region/credentials from `opts` and the environment.
Result<S3Config> S3ConfigFromEnv(std::string_view bucket, std::string_view prefix, const StorageOptions& opts);

class S3Storage : public ObjectStore {
 public:
  S3Storage(std::string url, S3Config cfg, const StorageOptions& opts);

  Result<ObjectInfo> Stat(std::string_view name) override;
  Result<std::unique_ptr<RandomReader>> OpenReader(std::string_view name,
                                                   const ObjectInfo* expect = nullptr) override;
  Status Put(std::string_view name, std::string_view data) override;
  Status PutIfAbsent(std::string_view name, std::string_view data) override;
  Status Delete(std::string_view name) override;

  // A signed request for `key` ("" = the bucket) with an already canonical query ("" = none).
  http::Request MakeRequest(std::string method, std::string_view key, std::string_view query) const;
  // The Status for a non-2xx answer about `what` (an s3:// address).
  Status ErrorFor(const http::Response& r, std::string_view what) const override;
  // Uploads `size` bytes of `fd` as object `name` (single PUT or multipart).
  Status UploadFile(std::string_view name, int fd, uint64_t size) override;
  Status ReadRange(const ObjectInfo& info, uint64_t offset, uint64_t len, uint8_t* out) override;

 protected:
  http::Request KeyRequest(std::string method, std::string_view key) const override;
  Result<ObjectListPage> ListPage(std::string_view key_prefix, bool delimiter, const std::string& token,
                                  std::string_view what) override;

 private:
  Status MultipartUpload(std::string_view name, int fd, uint64_t size);
  // kNotFound naming the bucket when it does not exist (checked once, then cached).
  Status CheckBucket();

  S3Config cfg_;
  std::string base_url_;      // requests go to base_url_ + "/" + encoded key
  std::atomic<bool> bucket_ok_{false};
};

}  // namespace p2l
