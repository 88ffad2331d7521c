#include "storage/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <thread>

#include "util/log.h"

namespace p2l::http {

// ---------------------------------------------------------------------------------------- Headers

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void Headers::Add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

void Headers::Set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const Field& f) { return EqualsIgnoreCase(f.name, name); });
  Add(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------- encoding

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [k, v] : params) {
    k = UriEncode(k, false);
    v = UriEncode(v, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  std::string out;
  // Drop "user:password@" from the authority.
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    size_t auth_start = scheme + 3;
    size_t auth_end = url.find_first_of("/?#", auth_start);
    if (auth_end == std::string_view::npos) auth_end = url.size();
    size_t at = url.substr(auth_start, auth_end - auth_start).rfind('@');
    if (at != std::string_view::npos) {
      out.append(url.substr(0, auth_start));
      url.remove_prefix(auth_start + at + 1);
    }
  }
  size_t q = url.find('?');
  if (q == std::string_view::npos) {
    out.append(url);
    return out;
  }
  out.append(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  bool first = true;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    if (!first) out.push_back('&');
    first = false;
    static const char* kSecret[] = {"sig", "signature", "x-amz-signature", "x-amz-credential",
                                    "x-amz-security-token"};
    bool secret = false;
    for (const char* s : kSecret) secret |= EqualsIgnoreCase(key, s);
    if (secret && eq != std::string_view::npos) {
      out.append(key);
      out.append("=<redacted>");
    } else {
      out.append(part);
    }
  }
  return out;
}

bool DefaultShouldRetry(const Attempt& a) {
  if (!a.transport.ok()) return a.transient;
  if (a.response == nullptr) return false;
  const long s = a.response->status;
  return s == 408 || s == 429 || (s >= 500 && s != 501 && s != 505);
}

// ---------------------------------------------------------------------------------------- pool

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IsTransientCurlError(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct HttpClient::Pool {
  std::mutex mu;
  std::vector<CURL*> free_handles;
  CURLSH* share = nullptr;
  std::mutex share_locks[CURL_LOCK_DATA_LAST];

  Pool() {
    share = curl_share_init();
    if (share != nullptr) {
      curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Pool::Lock);
      curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Pool::Unlock);
      curl_share_setopt(share, CURLSHOPT_USERDATA, this);
      curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
      curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
  }
  ~Pool() {
    for (CURL* h : free_handles) curl_easy_cleanup(h);
    if (share != nullptr) curl_share_cleanup(share);
  }
  static void Lock(CURL*, curl_lock_data d, curl_lock_access, void* p) {
    static_cast<Pool*>(p)->share_locks[d < CURL_LOCK_DATA_LAST ? d : 0].lock();
  }
  static void Unlock(CURL*, curl_lock_data d, void* p) {
    static_cast<Pool*>(p)->share_locks[d < CURL_LOCK_DATA_LAST ? d : 0].unlock();
  }
  CURL* Get() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (!free_handles.empty()) {
        CURL* h = free_handles.back();
        free_handles.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Put(CURL* h) {
    std::lock_guard<std::mutex> l(mu);
    free_handles.push_back(h);
  }
};

HttpClient::HttpClient(HttpClientOptions opts)
    : opts_(std::move(opts)),
      limiter_(std::make_unique<RateLimiter>(opts_.max_bandwidth)),
      sem_(opts_.concurrency) {
  GlobalInit();
  pool_ = std::make_unique<Pool>();
}

HttpClient::~HttpClient() = default;

// ---------------------------------------------------------------------------------------- one attempt

namespace {

struct Transfer {
  Request* req = nullptr;
  Response* resp = nullptr;
  RateLimiter* limiter = nullptr;
  bool head = false;
  // Upload state.
  uint64_t upload_pos = 0;
  Status upload_error;
  // Download state.
  bool too_large = false;
  bool head_complete = false;  // the final answer's head ended with its empty line
  uint64_t announced_length = 0;
  bool has_length = false;
  Status sink_error;
  std::string header_error;
};

size_t HeaderCallback(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  const size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new response head (an interim 1xx or the final one): start over.
    t->resp->headers.Clear();
    t->has_length = false;
    t->head_complete = false;
    long status = 0;
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos) {
      std::string_view code = line.substr(sp + 1, 3);
      std::from_chars(code.data(), code.data() + code.size(), status);
    }
    t->resp->status = status;
    return len;
  }
  if (line.empty()) {
    if (t->resp->status >= 200) t->head_complete = true;
    // End of a head. Refuse an announced 2xx body that is larger than allowed before reading it.
    if (Is2xx(t->resp->status) && !t->head && t->has_length &&
        t->announced_length > t->req->max_response_bytes) {
      t->too_large = true;
      return 0;  // aborts the transfer
    }
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;  // folded/garbage line: ignore
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (EqualsIgnoreCase(name, "content-length")) {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc() && ptr == value.data() + value.size()) {
      t->has_length = true;
      t->announced_length = v;
    }
  }
  if (t->resp->headers.fields().size() < 200) {  // bounded: a hostile server can't bloat memory
    t->resp->headers.Add(std::string(name.substr(0, 256)), std::string(value.substr(0, 8192)));
  }
  return len;
}

size_t WriteCallback(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  const size_t len = size * n;
  Response* r = t->resp;
  if (!Is2xx(r->status)) {
    // Error body: keep the first max_error_body_bytes, drop the rest.
    const uint64_t room = t->req->max_error_body_bytes > r->body.size()
                              ? t->req->max_error_body_bytes - r->body.size()
                              : 0;
    r->body.append(data, size_t(std::min<uint64_t>(room, len)));
    r->body_bytes += len;
    return len;
  }
  if (r->body_bytes + len > t->req->max_response_bytes) {
    t->too_large = true;
    return 0;
  }
  t->limiter->Acquire(len);
  if (t->req->sink) {
    Status st = t->req->sink(r->body_bytes, data, len);
    if (!st.ok()) {
      t->sink_error = std::move(st);
      return 0;
    }
  } else {
    r->body.append(data, len);
  }
  r->body_bytes += len;
  return len;
}

size_t ReadCallback(char* buf, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  Request* req = t->req;
  const uint64_t total = req->body_fd >= 0 ? req->body_length : req->body.size();
  if (t->upload_pos >= total) return 0;
  const size_t want = size_t(std::min<uint64_t>(size * n, total - t->upload_pos));
  size_t got = 0;
  if (req->body_fd >= 0) {
    while (got < want) {
      ssize_t r = ::pread(req->body_fd, buf + got, want - got, off_t(req->body_offset + t->upload_pos + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        t->upload_error = Status::Io(fmt::format(
            "reading upload body at offset {}: {}", req->body_offset + t->upload_pos + got,
            r == 0 ? "unexpected end of file (file shrank?)" : std::strerror(errno)));
        return CURL_READFUNC_ABORT;
      }
      got += size_t(r);
    }
  } else {
    std::memcpy(buf, req->body.data() + t->upload_pos, want);
    got = want;
  }
  t->limiter->Acquire(got);
  t->upload_pos += got;
  return got;
}

int SeekCallback(void* p, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(p);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->upload_pos = uint64_t(offset);
  return CURL_SEEKFUNC_OK;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

Attempt HttpClient::ExecuteOnce(Request& req, Response* resp) {
  *resp = Response();
  Attempt a;
  a.response = nullptr;
  if (req.sign) {
    Status st = req.sign(req);
    if (!st.ok()) {
      a.transport = st;
      return a;
    }
  }
  const std::string what = fmt::format("{} {}", req.method, RedactUrl(req.url));
  CURL* h = pool_->Get();
  if (h == nullptr) {
    a.transport = Status::Io(what + ": cannot create a libcurl handle");
    return a;
  }
  curl_easy_reset(h);

  Transfer t;
  t.req = &req;
  t.resp = resp;
  t.limiter = limiter_.get();
  t.head = req.method == "HEAD";
  char errbuf[CURL_ERROR_SIZE] = {0};
  const long timeout = req.timeout_seconds > 0 ? req.timeout_seconds : opts_.timeout_seconds;

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (pool_->share != nullptr) curl_easy_setopt(h, CURLOPT_SHARE, pool_->share);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
  // Stall detection: fewer than 1 byte/s for `timeout` seconds aborts (CURLE_OPERATION_TIMEDOUT).
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, timeout);
  curl_easy_setopt(h, CURLOPT_USERAGENT, opts_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &HeaderCallback);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteCallback);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");

  const uint64_t body_len = req.body_fd >= 0 ? req.body_length : req.body.size();
  std::unique_ptr<curl_slist, SlistDeleter> hdrs;
  auto add_header = [&](const std::string& line) {
    curl_slist* n = curl_slist_append(hdrs.get(), line.c_str());
    if (n != nullptr) {
      (void)hdrs.release();
      hdrs.reset(n);
    }
  };
  for (const auto& f : req.headers.fields()) {
    // "Name;" is libcurl's syntax for a header with an empty value.
    add_header(f.value.empty() ? f.name + ";" : f.name + ": " + f.value);
  }

  if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || req.method == "POST") {
    if (req.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(body_len));
    } else {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body_len));
      // libcurl would add "Content-Type: application/x-www-form-urlencoded": suppress it unless
      // the caller chose one (Azure signs Content-Type). Not with SigV4: libcurl 7.88 would sign
      // the removed header ("content-type;") and the server would compute another signature.
      if (!req.headers.Has("Content-Type") && !req.aws_sigv4) add_header("Content-Type:");
    }
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadCallback);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &SeekCallback);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
    // No waiting for "100 Continue": send the body at once. (Removing the header with "Expect:"
    // is not possible with SigV4: libcurl 7.88 signs the removed header as "expect;".)
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    if (!req.headers.Has("Expect") && !req.aws_sigv4) add_header("Expect:");
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (hdrs) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs.get());
  if (req.aws_sigv4) {
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req.aws_sigv4->provider.c_str());
    curl_easy_setopt(h, CURLOPT_USERNAME, req.aws_sigv4->access_key.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, req.aws_sigv4->secret_key.c_str());
  }

  const CURLcode rc = curl_easy_perform(h);
  // Clear pointers to stack data and credentials before the handle goes back to the pool.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_USERNAME, nullptr);
  curl_easy_setopt(h, CURLOPT_PASSWORD, nullptr);
  pool_->Put(h);

  if (t.too_large) {
    a.transport = Status::InvalidInput(
        t.has_length
            ? fmt::format("{}: response body of {} bytes is larger than the {} bytes allowed", what,
                          t.announced_length, req.max_response_bytes)
            : fmt::format("{}: response body is larger than the {} bytes allowed", what,
                          req.max_response_bytes));
    return a;
  }
  if (!t.sink_error.ok()) {
    a.transport = t.sink_error;
    return a;
  }
  if (!t.upload_error.ok()) {
    a.transport = t.upload_error.WithContext(what);
    return a;
  }
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    a.transport = Status::Io(fmt::format("{}: {}", what, detail));
    a.transient = IsTransientCurlError(rc);
    return a;
  }
  // A connection closed inside the head can look like a complete answer to libcurl.
  if (!t.head_complete) {
    a.transport = Status::Io(fmt::format("{}: connection closed inside the answer's head", what));
    a.transient = true;
    return a;
  }
  // libcurl reports a short body as CURLE_PARTIAL_FILE; double-check for 2xx answers.
  if (Is2xx(resp->status) && !t.head && t.has_length && resp->body_bytes != t.announced_length) {
    a.transport = Status::Io(fmt::format("{}: got {} body bytes, Content-Length said {}", what,
                                         resp->body_bytes, t.announced_length));
    a.transient = true;
    return a;
  }
  a.response = resp;
  return a;
}

// ---------------------------------------------------------------------------------------- retries

Result<Response> HttpClient::Execute(Request& req, const RetryClassifier& classifier) {
  const RetryClassifier& should_retry = classifier ? classifier : RetryClassifier(DefaultShouldRetry);
  const int max_retries = std::max(0, opts_.retry.max_retries);
  Response resp;
  std::string last_reason;
  for (int attempt = 0;; attempt++) {
    Attempt a;
    {
      SemaphoreGuard g(&sem_);
      a = ExecuteOnce(req, &resp);
    }
    resp.attempts = attempt + 1;
    const bool retry = should_retry(a);
    if (a.transport.ok() && !retry) return resp;
    if (!a.transport.ok() && !retry) return a.transport;
    last_reason = a.transport.ok() ? fmt::format("{} {}: HTTP {}", req.method, RedactUrl(req.url),
                                                 resp.status)
                                   : a.transport.message();
    if (attempt >= max_retries) {
      if (a.transport.ok()) return resp;  // the caller turns the last status into an error
      return Status::Io(fmt::format("{} (gave up after {} attempts)", last_reason, attempt + 1));
    }
    std::chrono::milliseconds min_delay(0);
    if (a.transport.ok()) {
      if (auto ra = resp.headers.Get("Retry-After")) {
        int secs = 0;
        auto [p, ec] = std::from_chars(ra->data(), ra->data() + ra->size(), secs);
        if (ec == std::errc() && secs > 0) min_delay = std::chrono::milliseconds(int64_t(secs) * 1000);
      }
    }
    const auto delay = BackoffDelay(opts_.retry, attempt + 1, min_delay);
    LogDebug("retry {}/{} in {} ms: {}", attempt + 1, max_retries, delay.count(), last_reason);
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace p2l::http
