// HttpClient: the HTTP(S) client shared by the remote storage backends (S3, Azure), on libcurl.
//
// One HttpClient per Storage. It owns
//   * a pool of CURL easy handles (reused: keep-alive connections, TLS sessions) plus a CURLSH
//     share for the DNS and TLS-session caches,
//   * a semaphore bounding concurrent requests (HttpClientOptions::concurrency),
//   * a shared token-bucket RateLimiter for the bytes of all requests (max_bandwidth),
//   * the retry loop (RetryPolicy + a classifier the caller may replace).
// It is thread-safe: any thread may call Execute at any time.
//
// A request body comes from memory (Request::body) or from a file range (Request::body_fd); a
// response body goes to Response::body (bounded by Request::max_response_bytes) or, for 2xx
// answers, to Request::sink. Bodies are bounded: a Content-Length above the caller's maximum is
// refused before any body byte is read, and reading stops (error) once the maximum is passed.
//
// Signing: S3 sets Request::aws_sigv4 (libcurl's CURLOPT_AWS_SIGV4 signs each attempt); Azure
// sets Request::sign, a hook run before every attempt (so x-ms-date is fresh on retries) that
// adds its own Authorization header. Credentials never appear in logs or error messages: messages
// name the method and the URL with signature/credential query parameters redacted.
//
// Error model of Execute():
//   * a transport failure (connect error, reset, timeout, truncated body) that is still failing
//     after the retries → kIo (kTimeout is not used: a network timeout is an I/O failure here);
//   * a body larger than allowed → kInvalidInput (never retried);
//   * an error returned by the sink or sign hook → returned as is (never retried);
//   * any HTTP answer, 2xx or not, → a Response. Retryable statuses (5xx, 408, 429 by default) are
//     retried first; the last answer is returned when retries run out. The caller turns a non-2xx
//     Response into a Status that names the object (it knows the S3/Azure error format).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/rate_limiter.h"
#include "storage/retry.h"
#include "util/status.h"

namespace p2l::http {

// Header list with case-insensitive lookup (HTTP field names are case-insensitive).
class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };
  void Add(std::string name, std::string value);
  // Replaces every field of that name (case-insensitive) by one.
  void Set(std::string name, std::string value);
  // The first value of that field, if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  const std::vector<Field>& fields() const { return fields_; }
  void Clear() { fields_.clear(); }

 private:
  std::vector<Field> fields_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Receives 2xx response body bytes. `offset` is the position of data[0] in the body of the
// current attempt: a retried request starts again at offset 0, so a sink that writes at
// out + offset needs no reset. A non-OK Status aborts the request (not retried).
using BodySink = std::function<Status(uint64_t offset, const char* data, size_t len)>;

struct AwsSigV4 {
  std::string provider;    // CURLOPT_AWS_SIGV4 value, e.g. "aws:amz:us-east-1:s3"
  std::string access_key;
  std::string secret_key;
};

struct Request;
// Runs before each attempt; may add/replace headers (e.g. x-ms-date + Authorization).
using SignHook = std::function<Status(Request& req)>;

struct Request {
  std::string method = "GET";   // GET, HEAD, PUT, POST, DELETE
  // Full URL with the query already encoded (S3: sorted + RFC 3986, see s3_storage.cc).
  std::string url;
  Headers headers;

  // Request body: either in memory...
  std::string_view body;
  // ...or `body_length` bytes of file `body_fd` starting at `body_offset` (pread; the fd is not
  // owned). Used when body_fd >= 0. PUT/POST always send Content-Length (never chunked).
  int body_fd = -1;
  uint64_t body_offset = 0;
  uint64_t body_length = 0;

  // The largest 2xx response body accepted (bytes). Larger: kInvalidInput, not retried.
  uint64_t max_response_bytes = 1 << 20;
  // The largest non-2xx (error) body kept in Response::body; more is silently dropped.
  uint64_t max_error_body_bytes = 64 << 10;
  // If set, 2xx body bytes go here instead of Response::body.
  BodySink sink;

  std::optional<AwsSigV4> aws_sigv4;
  SignHook sign;

  // 0 = the client's default (HttpClientOptions::timeout_seconds). Applies to connecting and to
  // stalls (no byte moved for this long); there is no limit on a transfer that makes progress.
  int timeout_seconds = 0;
};

inline bool Is2xx(long status) { return status >= 200 && status < 300; }

struct Response {
  long status = 0;
  Headers headers;
  std::string body;        // the (bounded) body unless a sink took it
  uint64_t body_bytes = 0; // body bytes received in the final attempt (sink or not)
  int attempts = 0;        // how many attempts were made (1 = no retry)
};

struct HttpClientOptions {
  int concurrency = 16;        // concurrent requests in flight (semaphore)
  uint64_t max_bandwidth = 0;  // bytes/s summed over uploads+downloads of all requests; 0 = off
  int timeout_seconds = 60;    // default per-request connect/stall timeout
  RetryPolicy retry;           // max_retries, backoff
  std::string user_agent = "pgdata2layers";
};

// Outcome of one attempt, as seen by a classifier.
struct Attempt {
  Status transport;            // OK when an HTTP answer came back
  bool transient = false;      // transport failure worth retrying (reset, timeout, truncation)
  const Response* response = nullptr;  // set when transport is OK
};
// Decides whether an attempt is retried. The default (DefaultShouldRetry) retries transient
// transport failures and statuses 408, 429 and 5xx.
using RetryClassifier = std::function<bool(const Attempt&)>;
bool DefaultShouldRetry(const Attempt& a);

// "GET http://host/path?x-amz-signature=<redacted>" pieces for messages.
std::string RedactUrl(std::string_view url);

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions opts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `req` with retries (see the error model above). `classifier` defaults to
  // DefaultShouldRetry.
  Result<Response> Execute(Request& req, const RetryClassifier& classifier = nullptr);

  // One attempt, no retry, no semaphore (Execute's building block; exposed for tests).
  Attempt ExecuteOnce(Request& req, Response* resp);

  const HttpClientOptions& options() const { return opts_; }
  RateLimiter* rate_limiter() { return limiter_.get(); }

 private:
  struct Pool;
  HttpClientOptions opts_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<Pool> pool_;
  Semaphore sem_;
};

// Percent-encodes per RFC 3986 (unreserved A-Z a-z 0-9 - . _ ~ kept, uppercase hex). With
// keep_slash, '/' is kept (for paths).
std::string UriEncode(std::string_view s, bool keep_slash);
// Builds "k1=v1&k2=v2" sorted by (encoded) name then value, each part UriEncode'd: the canonical
// form SigV4 needs (libcurl 7.88 does not canonicalise the query itself, FINDINGS.md §1).
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

}  // namespace p2l::http
