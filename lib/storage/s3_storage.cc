#include "storage/s3_storage.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <ctime>
#include <cstdlib>
#include <optional>
#include <thread>

#include "storage/backends.h"
#include "storage/s3_xml.h"
#include "util/log.h"
#include "util/parallel.h"
#include "util/parse_number.h"

namespace p2l {

namespace {

constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr uint64_t kMinPartSize = 5ull << 20;  // S3: every part but the last is >= 5 MiB
constexpr uint64_t kMaxParts = 10000;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return kUnsignedPayload;
  std::string out;
  for (unsigned i = 0; i < len; i++) out += fmt::format("{:02x}", md[i]);
  return out;
}

using http::Is2xx;

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate).
std::optional<time_t> ParseHttpDate(std::string_view s) {
  if (s.size() > 64) return std::nullopt;
  const std::string str(s);
  struct tm tm = {};
  const char* end = ::strptime(str.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return ::timegm(&tm);
}

}  // namespace

std::string S3Region(const StorageOptions& opts) {
  if (!opts.region.empty()) return opts.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string v = Env((opts.env_prefix + name).c_str()); !v.empty()) return v;
  }
  return "us-east-1";
}

Result<S3Config> S3ConfigFromEnv(std::string_view bucket, std::string_view prefix, const StorageOptions& opts) {
  S3Config c;
  c.bucket = std::string(bucket);
  c.prefix = std::string(prefix);
  c.env_prefix = opts.env_prefix;
  auto env = [&](const char* name) { return Env((c.env_prefix + name).c_str()); };
  c.endpoint = opts.endpoint;
  std::string ep_from = "--endpoint";  // where the endpoint came from, for messages
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (!c.endpoint.empty()) break;
    c.endpoint = env(name);
    ep_from = c.env_prefix + name;
  }
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (c.endpoint.find('@') != std::string::npos) {  // (the value is not shown: it holds a secret)
    return Status::Usage(fmt::format(
        "S3 endpoint of {0} must not contain credentials (use {1}AWS_ACCESS_KEY_ID/{1}AWS_SECRET_ACCESS_KEY)",
        ep_from, c.env_prefix));
  }
  if (!c.endpoint.empty() && !c.endpoint.starts_with("http://") && !c.endpoint.starts_with("https://")) {
    return Status::Usage(
        fmt::format("S3 endpoint \"{}\" ({}) must start with http:// or https://", c.endpoint, ep_from));
  }
  if (!c.endpoint.empty()) {
    const std::string_view rest = std::string_view(c.endpoint).substr(c.endpoint.find("://") + 3);
    if (rest.find_first_of("/?#") != std::string_view::npos) {
      return Status::Usage(fmt::format("S3 endpoint \"{}\" ({}) must be scheme://host[:port] without a path",
                                       c.endpoint, ep_from));
    }
  }
  c.region = S3Region(opts);
  for (char ch : c.region) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
      return Status::Usage(fmt::format("invalid S3 region \"{0}\" (from --region, {1}AWS_REGION or "
                                       "{1}AWS_DEFAULT_REGION): a-z 0-9 -",
                                       c.region, c.env_prefix));
    }
  }
  c.access_key = env("AWS_ACCESS_KEY_ID");
  c.secret_key = env("AWS_SECRET_ACCESS_KEY");
  c.session_token = env("AWS_SESSION_TOKEN");
  if (c.access_key.empty() || c.secret_key.empty()) {
    return Status::Usage(fmt::format(
        "s3://{0}: no S3 credentials: set {1}AWS_ACCESS_KEY_ID and {1}AWS_SECRET_ACCESS_KEY", c.bucket, c.env_prefix));
  }
  return c;
}

Result<std::unique_ptr<Storage>> OpenS3Storage(std::string_view url, const StorageOptions& opts) {
  P2L_ASSIGN_OR_RETURN(StorageUrl u, ParseStorageUrl(url));
  if (u.kind != StorageUrl::Kind::kS3) return Status::Usage(fmt::format("{}: not an s3:// URL", url));
  P2L_ASSIGN_OR_RETURN(S3Config cfg, S3ConfigFromEnv(u.bucket, u.prefix, opts));
  std::string shown = "s3://" + u.bucket + (u.prefix.empty() ? "" : "/" + u.prefix);
  return std::unique_ptr<Storage>(new S3Storage(shown, std::move(cfg), opts));
}

S3Storage::S3Storage(std::string url, S3Config cfg, const StorageOptions& opts)
    : ObjectStore(std::move(url), cfg.prefix, opts, ObjectStoreWords{"s3", "common prefixes", "a continuation token"}),
      cfg_(std::move(cfg)) {
  if (!cfg_.endpoint.empty()) {
    base_url_ = cfg_.endpoint + "/" + cfg_.bucket;  // path-style
  } else if (cfg_.bucket.find('.') != std::string::npos) {
    base_url_ = fmt::format("https://s3.{}.amazonaws.com/{}", cfg_.region, cfg_.bucket);
  } else {
    base_url_ = fmt::format("https://{}.s3.{}.amazonaws.com", cfg_.bucket, cfg_.region);
  }
}


http::Request S3Storage::MakeRequest(std::string method, std::string_view key, std::string_view query) const {
  http::Request r;
  r.method = std::move(method);
  r.url = base_url_;
  if (!key.empty()) {
    r.url += "/";
    r.url += http::UriEncode(key, /*keep_slash=*/true);
  } else if (base_url_.find('/', base_url_.find("://") + 3) == std::string::npos) {
    r.url += "/";  // virtual-host style bucket URL: canonical URI "/"
  }
  if (!query.empty()) {
    r.url += "?";
    r.url += query;
  }
  r.aws_sigv4 = http::AwsSigV4{fmt::format("aws:amz:{}:s3", cfg_.region), cfg_.access_key, cfg_.secret_key};
  r.headers.Add("x-amz-content-sha256", kUnsignedPayload);
  if (!cfg_.session_token.empty()) r.headers.Add("x-amz-security-token", cfg_.session_token);
  r.max_response_bytes = kMaxS3XmlBytes;
  return r;
}

Status S3Storage::ErrorFor(const http::Response& r, std::string_view what) const {
  const S3ErrorInfo e = ParseS3Error(r.body);
  std::string detail = e.code.empty() ? fmt::format("HTTP {}", r.status)
                                      : fmt::format("HTTP {} {}: {}", r.status, e.code, e.message);
  if (e.code == "SignatureDoesNotMatch" || e.code == "InvalidAccessKeyId" || e.code == "InvalidToken" ||
      e.code == "ExpiredToken" || e.code == "AuthorizationHeaderMalformed" ||
      (r.status == 403 && e.code.empty())) {
    return Status::Io(fmt::format(
        "{0}: the S3 credentials were refused ({1}{2}{3}); check {5}AWS_ACCESS_KEY_ID, {5}AWS_SECRET_ACCESS_KEY, "
        "{5}AWS_SESSION_TOKEN and the region \"{4}\"",
        what, fmt::format("HTTP {}", r.status), e.code.empty() ? "" : " ", e.code, cfg_.region, cfg_.env_prefix));
  }
  if (e.code == "NoSuchBucket") {
    return Status::NotFound(fmt::format("{}: bucket \"{}\" does not exist (HTTP {} NoSuchBucket)", what,
                                        cfg_.bucket, r.status));
  }
  if (r.status == 404) return Status::NotFound(fmt::format("{}: {}", what, detail));
  if (r.status == 412) return Status::SourceChanged(fmt::format("{}: {} (the object changed)", what, detail));
  if (r.attempts > 1) detail += fmt::format(" (after {} attempts)", r.attempts);
  return Status::Io(fmt::format("{}: {}", what, detail));
}

http::Request S3Storage::KeyRequest(std::string method, std::string_view key) const {
  return MakeRequest(std::move(method), key, "");
}

// ---------------------------------------------------------------------------------------- listing

Result<ObjectListPage> S3Storage::ListPage(std::string_view key_prefix, bool delimiter, const std::string& token,
                                           std::string_view what) {
  std::vector<std::pair<std::string, std::string>> q = {{"list-type", "2"}};
  if (delimiter) q.push_back({"delimiter", "/"});
  if (!key_prefix.empty()) q.push_back({"prefix", std::string(key_prefix)});
  if (!token.empty()) q.push_back({"continuation-token", token});
  http::Request req = MakeRequest("GET", "", http::CanonicalQuery(std::move(q)));
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, what));
  // A listing of a missing "directory" is empty, but a missing bucket is an error.
  if (!Is2xx(resp.status)) return ErrorFor(resp, what);
  P2L_ASSIGN_OR_RETURN(S3ListPage page, ParseS3ListPage(resp.body, root_, what));
  return ObjectListPage{std::move(page.objects), std::move(page.prefixes), std::move(page.next_token)};
}

// ---------------------------------------------------------------------------------------- reading

Status S3Storage::CheckBucket() {
  if (bucket_ok_.load()) return Status::OK();
  http::Request req = MakeRequest("HEAD", "", "");
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, url_));
  if (resp.status == 404) {
    return Status::NotFound(fmt::format("{}: bucket \"{}\" does not exist (HTTP 404 to HEAD bucket)", url_, cfg_.bucket));
  }
  if (!Is2xx(resp.status)) return ErrorFor(resp, url_);
  bucket_ok_ = true;
  return Status::OK();
}

Result<ObjectInfo> S3Storage::Stat(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  http::Request req = MakeRequest("HEAD", Key(name), "");
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (resp.status == 404) {
    // HEAD answers have no body, so a missing bucket looks like a missing key: ask the bucket once.
    P2L_RETURN_IF_ERROR(CheckBucket());
    return Status::NotFound(fmt::format("{}: no such object (HTTP 404)", Describe(name)));
  }
  if (!Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  ObjectInfo info;
  info.name = std::string(name);
  auto cl = resp.headers.Get("Content-Length");
  if (!cl || !ParseU64(*cl, &info.size)) {
    return Status::InvalidInput(fmt::format("{}: HEAD answer without a valid Content-Length", Describe(name)));
  }
  info.version = std::string(resp.headers.Get("ETag").value_or(""));
  return info;
}

Status S3Storage::ReadRange(const ObjectInfo& info, uint64_t offset, uint64_t len, uint8_t* out) {
  const std::string what = Describe(info.name);
  const uint64_t last = offset + len - 1;
  http::Request req = MakeRequest("GET", Key(info.name), "");
  PrepareRangedGet(&req, "Range", offset, len, info.version, out);
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, what));
  if (resp.status == 412) {
    return Status::SourceChanged(fmt::format("{}: changed since planning (HTTP 412: ETag is no longer {})", what,
                                             info.version));
  }
  if (resp.status == 404) return Status::SourceChanged(fmt::format("{}: object disappeared (HTTP 404)", what));
  if (resp.status == 416) {
    return Status::SourceChanged(fmt::format("{}: range {}-{} not satisfiable (HTTP 416): the object shrank", what,
                                             offset, last));
  }
  if (!Is2xx(resp.status)) return ErrorFor(resp, what);
  if (!info.version.empty()) {
    auto etag = resp.headers.Get("ETag");
    if (etag && *etag != info.version) {
      return Status::SourceChanged(
          fmt::format("{}: changed since planning (ETag {} -> {})", what, info.version, *etag));
    }
  }
  return CheckRangedAnswer(resp, offset, len, info.size, what, /*say_changed=*/true);
}

Result<std::unique_ptr<RandomReader>> S3Storage::OpenReader(std::string_view name, const ObjectInfo* expect) {
  // What planning listed (size + ETag) is enough: every ranged GET carries If-Match and checks the
  // ETag and the Content-Range total, so a change is still detected — without a HEAD per object.
  // An empty object is never read, so only a HEAD can tell that it changed.
  if (expect != nullptr && !expect->version.empty() && expect->size > 0) {
    P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
    return NewReader(ObjectInfo{std::string(name), expect->size, expect->version});
  }
  Result<ObjectInfo> info = Stat(name);
  if (!info.ok()) {
    if (expect != nullptr && info.status().IsNotFound()) {
      return Status::SourceChanged(fmt::format("{}: object disappeared since planning", Describe(name)));
    }
    return info.status();
  }
  if (expect != nullptr) {
    if (expect->size != info->size || (!expect->version.empty() && expect->version != info->version)) {
      return Status::SourceChanged(fmt::format("{}: changed since planning (size {} -> {}, ETag {} -> {})",
                                               Describe(name), expect->size, info->size, expect->version,
                                               info->version));
    }
  }
  return NewReader(std::move(info).value());
}

// ---------------------------------------------------------------------------------------- writing

Status S3Storage::Put(std::string_view name, std::string_view data) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  http::Request req = MakeRequest("PUT", Key(name), "");
  req.headers.Set("x-amz-content-sha256", Sha256Hex(data));
  req.body = data;
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (!Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  return Status::OK();
}

// PutIfAbsent: HEAD, then PUT with "If-None-Match: *".
//  * AWS S3 (since 2024) and most S3-compatible stores evaluate If-None-Match on PUT atomically:
//    a concurrent creator gets 412 → kConflict. That is the real guarantee.
//  * The test server (s3rver) ignores If-None-Match; there only the HEAD protects, and two
//    writers racing between HEAD and PUT can both "win". This is documented in the man page.
//  * A retried PUT whose first attempt did succeed (answer lost) sees 412: when the object's
//    content equals ours, that is our own write and not a conflict.
Status S3Storage::PutIfAbsent(std::string_view name, std::string_view data) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  Result<ObjectInfo> existing = Stat(name);
  if (existing.ok()) return Status::Conflict(fmt::format("{}: already exists", Describe(name)));
  if (!existing.status().IsNotFound()) return existing.status();
  http::Request req = MakeRequest("PUT", Key(name), "");
  req.headers.Set("x-amz-content-sha256", Sha256Hex(data));
  req.headers.Add("If-None-Match", "*");
  req.body = data;
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (resp.status == 412 || resp.status == 409) {
    if (resp.attempts > 1) {
      Result<std::string> cur = ReadAll(name, data.size());
      if (cur.ok() && *cur == data) return Status::OK();
    }
    return Status::Conflict(fmt::format("{}: already exists (HTTP {})", Describe(name), resp.status));
  }
  if (!Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  return Status::OK();
}

Status S3Storage::UploadFile(std::string_view name, int fd, uint64_t size) {
  if (size > opts_.multipart_threshold) return MultipartUpload(name, fd, size);
  http::Request req = MakeRequest("PUT", Key(name), "");
  req.body_fd = fd;
  req.body_offset = 0;
  req.body_length = size;
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (!Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  return Status::OK();
}

Status S3Storage::MultipartUpload(std::string_view name, int fd, uint64_t size) {
  const std::string what = Describe(name);
  const std::string key = Key(name);
  const uint64_t part_size = FitPartSize(size, std::max(opts_.part_size, kMinPartSize), kMaxParts);
  const uint64_t nparts = PartCount(size, part_size);

  // 1. CreateMultipartUpload. (The query "uploads=" is the canonical form of "uploads".)
  http::Request create = MakeRequest("POST", key, "uploads=");
  P2L_ASSIGN_OR_RETURN(http::Response cr, Send(create, what + " (CreateMultipartUpload)"));
  if (!Is2xx(cr.status)) return ErrorFor(cr, what + " (CreateMultipartUpload)");
  P2L_ASSIGN_OR_RETURN(std::string upload_id, ParseS3InitiateMultipart(cr.body, what + " (CreateMultipartUpload)"));
  const std::string id_query = http::CanonicalQuery({{"uploadId", upload_id}});

  auto abort = [&](Status st) -> Status {
    http::Request ab = MakeRequest("DELETE", key, id_query);
    Result<http::Response> ar = client_->Execute(ab);
    if (!ar.ok() || !Is2xx(ar->status)) {
      LogWarn("{}: aborting multipart upload {} failed; the bucket may keep its parts until a lifecycle rule "
              "removes them", what, upload_id);
    }
    return st;
  };

  // 2. UploadPart, each part retried independently by the HttpClient; a few parts in parallel.
  std::vector<S3Part> parts(nparts);
  Status upload_st = RunParallel(nparts, std::min(std::max(1, opts_.concurrency), 4), [&](uint64_t i) -> Status {
    const uint64_t off = i * part_size;
    const uint64_t len = std::min(part_size, size - off);
    http::Request up = MakeRequest(
        "PUT", key, http::CanonicalQuery({{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}}));
    up.body_fd = fd;
    up.body_offset = off;
    up.body_length = len;
    const std::string part_what = fmt::format("{} (part {}/{})", what, i + 1, nparts);
    P2L_ASSIGN_OR_RETURN(http::Response r, Send(up, part_what));
    if (!Is2xx(r.status)) return ErrorFor(r, part_what);
    auto etag = r.headers.Get("ETag");
    if (!etag || etag->empty()) return Status::Io(fmt::format("{}: UploadPart answer has no ETag", part_what));
    parts[i] = S3Part{int(i + 1), std::string(*etag)};
    return Status::OK();
  });
  if (!upload_st.ok()) return abort(upload_st);

  // 3. CompleteMultipartUpload. S3 may answer 200 with an <Error> body. When an attempt may have
  //    reached the server but its answer was lost, the retry fails (S3: 404 NoSuchUpload; s3rver:
  //    500) although the object was created: then no more retries, and the upload counts as done
  //    when the object has our size and was modified at or after the server's Date of the
  //    CreateMultipartUpload answer (both times from the server's clock).
  const std::string body = BuildS3CompleteMultipart(parts);
  const std::string complete_what = what + " (CompleteMultipartUpload)";
  std::optional<time_t> created_at;
  if (auto d = cr.headers.Get("Date")) created_at = ParseHttpDate(*d);
  bool maybe_done = false;
  auto completed_by_us = [&]() -> bool {
    if (!maybe_done || !created_at) return false;
    http::Request head = MakeRequest("HEAD", key, "");
    Result<http::Response> h = client_->Execute(head);
    if (!h.ok() || !Is2xx(h->status)) return false;
    uint64_t len = 0;
    auto cl = h->headers.Get("Content-Length");
    auto lm = h->headers.Get("Last-Modified");
    if (!cl || !ParseU64(*cl, &len) || len != size || !lm) return false;
    std::optional<time_t> modified = ParseHttpDate(*lm);
    return modified && *modified >= *created_at;
  };
  bool done_by_us = false;
  const http::RetryClassifier classifier = [&](const http::Attempt& a) {
    if (!a.transport.ok()) {
      if (a.transient) maybe_done = true;
      return a.transient;
    }
    const bool retry = http::DefaultShouldRetry(a);
    if (retry && maybe_done && completed_by_us()) {
      done_by_us = true;
      return false;
    }
    return retry;
  };
  for (int attempt = 0;; attempt++) {
    http::Request done = MakeRequest("POST", key, id_query);
    done.headers.Set("x-amz-content-sha256", Sha256Hex(body));
    done.headers.Add("Content-Type", "application/xml");
    done.body = body;
    Result<http::Response> r = client_->Execute(done, classifier);
    if (done_by_us) break;
    if (!r.ok()) {
      if (completed_by_us()) break;
      return abort(r.status().WithContext(complete_what));
    }
    const S3ErrorInfo e = ParseS3Error(r->body);
    if (Is2xx(r->status) && e.code.empty()) break;
    if (completed_by_us()) break;
    if (Is2xx(r->status) && (e.code == "InternalError" || e.code == "SlowDown") && attempt < opts_.max_retries) {
      maybe_done = true;  // a 200 answer: the server did process a request
      std::this_thread::sleep_for(BackoffDelay(client_->options().retry, attempt + 1));
      continue;
    }
    return abort(ErrorFor(*r, complete_what));
  }
  // 4. The object must now have exactly our size.
  P2L_ASSIGN_OR_RETURN(ObjectInfo info, Stat(name));
  if (info.size != size) {
    return Status::Io(fmt::format("{}: after the multipart upload the object has {} bytes, expected {}", what,
                                  info.size, size));
  }
  return Status::OK();
}


Status S3Storage::Delete(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  http::Request req = MakeRequest("DELETE", Key(name), "");
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (Is2xx(resp.status)) return Status::OK();
  const S3ErrorInfo e = ParseS3Error(resp.body);
  if (resp.status == 404 && e.code != "NoSuchBucket") return Status::OK();
  return ErrorFor(resp, Describe(name));
}

}  // namespace p2l
