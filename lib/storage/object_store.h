// ObjectStore: what the remote backends (S3Storage, AzureStorage) have in common — a Storage on
// a bucket/container with an optional key prefix as root, spoken to through one HttpClient.
//
// It implements the parts that do not depend on the service: Url/Describe, the listing page loop
// (page cap, loop guard on repeated continuation tokens), List (direct-children checks, sorting),
// ListRecursive, ReadAll, Stage (a local staging file uploaded by UploadFile on Commit). The
// backend provides requests, error mapping, one listing page and the upload.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/http.h"
#include "storage/storage.h"

namespace p2l {

// Part size for uploading `size` bytes in at most `max_parts` parts of `part_size` bytes: the
// given size, or (when it would need more parts) the smallest whole number of MiB that fits.
uint64_t FitPartSize(uint64_t size, uint64_t part_size, uint64_t max_parts);
// Number of parts of `part_size` bytes for `size` bytes (1 for an empty object).
uint64_t PartCount(uint64_t size, uint64_t part_size);

// Ranged GETs of [offset, offset+len) of an object of `size` bytes into `out`.
// Adds "<range_header>: bytes=offset-last" and (unless empty) "If-Match: version", bounds the
// answer to len bytes and writes it into out[0, len).
void PrepareRangedGet(http::Request* req, std::string_view range_header, uint64_t offset, uint64_t len,
                      const std::string& version, uint8_t* out);
// The checks of a 2xx answer to such a GET: 206 with "Content-Range: bytes offset-last/size"
// (anything else is kSourceChanged: the object changed; with `say_changed` the message says
// "changed since planning"), or 200 for a whole-object range; exactly len bytes.
Status CheckRangedAnswer(const http::Response& resp, uint64_t offset, uint64_t len, uint64_t size,
                         std::string_view what, bool say_changed);

// One page of a listing, names relative to the storage root (validated by the page parser).
struct ObjectListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> prefixes;
  std::string next;  // continuation token/marker; "" on the last page
};

// Words naming backend-specific things in messages.
struct ObjectStoreWords {
  const char* staging_tag;  // staging files are <tmp>/p2l-<tag>-stage.XXXXXX
  const char* prefixes;     // "common prefixes"
  const char* token;        // "a continuation token"
};

class ObjectStore : public Storage {
 public:
  std::string Url() const override { return url_; }
  std::string Describe(std::string_view name) const override;

  Result<Listing> List(std::string_view dir) override;
  Result<std::vector<ObjectInfo>> ListRecursive(std::string_view prefix) override;
  Result<std::string> ReadAll(std::string_view name, uint64_t max_size) override;
  Result<std::unique_ptr<StagedObject>> Stage(std::string_view name) override;

  // The key (S3) / blob name (Azure) of an object name: "prefix/name".
  std::string Key(std::string_view name) const { return root_ + std::string(name); }
  // client().Execute with `what` (the object's address) added to transport errors.
  Result<http::Response> Send(http::Request& req, std::string_view what);
  // The Status for a non-2xx answer about `what`.
  virtual Status ErrorFor(const http::Response& r, std::string_view what) const = 0;
  // Uploads `size` bytes of `fd` as object `name` (staged objects).
  virtual Status UploadFile(std::string_view name, int fd, uint64_t size) = 0;
  // One ranged GET of [offset, offset+len) of the object `info` (0 < len, within info.size) into
  // out, checked against info (version, size): the readers of NewReader call it.
  virtual Status ReadRange(const ObjectInfo& info, uint64_t offset, uint64_t len, uint8_t* out) = 0;
  http::HttpClient& client() { return *client_; }
  const StorageOptions& options() const { return opts_; }

 protected:
  // `url`: Url(); `prefix`: the root inside the bucket/container, without leading/trailing '/'.
  ObjectStore(std::string url, std::string_view prefix, const StorageOptions& opts, ObjectStoreWords words);

  // A RandomReader of `info` reading through ReadRange.
  std::unique_ptr<RandomReader> NewReader(ObjectInfo info);
  // A signed request without query for `key` (Key(name)).
  virtual http::Request KeyRequest(std::string method, std::string_view key) const = 0;
  // One page of the listing of keys starting with key_prefix (with delimiter '/' or not) after
  // `token` ("" = the first page). `what` names the page in messages.
  virtual Result<ObjectListPage> ListPage(std::string_view key_prefix, bool delimiter, const std::string& token,
                                          std::string_view what) = 0;
  // A listed name as shown in messages.
  virtual std::string ShowName(std::string_view name) const { return std::string(name); }

  const std::string url_;
  StorageOptions opts_;
  const std::string root_;  // key prefix of the storage root: "prefix/" or ""
  std::unique_ptr<http::HttpClient> client_;

 private:
  // All pages of one listing.
  Status ListPages(std::string_view key_prefix, bool delimiter, std::string_view what,
                   std::vector<ObjectInfo>* objects, std::vector<std::string>* prefixes);
  // An error naming the first object a sorted listing holds twice.
  Status CheckNoDuplicates(const std::vector<ObjectInfo>& objects, std::string_view what) const;

  const ObjectStoreWords words_;
};

}  // namespace p2l
