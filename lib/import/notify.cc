#include "import/notify.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "storage/http.h"
#include "util/log.h"

namespace p2l {

namespace {

using std::chrono::milliseconds;

bool ContainsIgnoreCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); i++) {
    if (http::EqualsIgnoreCase(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

bool IsSecretParam(std::string_view name) {
  static constexpr std::string_view kWords[] = {"token", "key", "secret", "pass", "sig", "auth", "cred"};
  for (std::string_view w : kWords) {
    if (ContainsIgnoreCase(name, w)) return true;
  }
  return false;
}

// Printable, bounded excerpt of an error answer's body for messages.
std::string BodyExcerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) {
    out.push_back((c >= 0x20 && c < 0x7f) ? c : ' ');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > 200) out += "...";
  return out;
}

std::string DescribeAnswer(const http::Response& r) {
  std::string s = fmt::format("HTTP {}", r.status);
  std::string ex = BodyExcerpt(r.body);
  if (!ex.empty()) s += fmt::format(" ({})", ex);
  return s;
}

// The transport error of an attempt without the "POST <url>: " prefix HttpClient puts in front
// (we add the redacted URL ourselves; HttpClient's redaction does not know token= parameters).
std::string TransportDetail(const Status& st, std::string_view method, std::string_view raw_url) {
  std::string m = st.message();
  const std::string prefix = fmt::format("{} {}: ", method, http::RedactUrl(raw_url));
  if (m.compare(0, prefix.size(), prefix) == 0) m.erase(0, prefix.size());
  return m;
}

}  // namespace

// ------------------------------------------------------------------------------------ URLs

std::string RedactNotifyUrl(std::string_view url) {
  std::string out;
  // Fragment: never sent, dropped.
  if (size_t h = url.find('#'); h != std::string_view::npos) url = url.substr(0, h);
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    const size_t auth_start = scheme + 3;
    size_t auth_end = url.find_first_of("/?", auth_start);
    if (auth_end == std::string_view::npos) auth_end = url.size();
    const size_t at = url.substr(auth_start, auth_end - auth_start).rfind('@');
    if (at != std::string_view::npos) {
      out.append(url.substr(0, auth_start));
      out.append("<redacted>@");
      url.remove_prefix(auth_start + at + 1);
    }
  }
  const size_t q = url.find('?');
  if (q == std::string_view::npos) {
    out.append(url);
    return out;
  }
  out.append(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  bool first = true;
  while (true) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && IsSecretParam(part.substr(0, eq))) {
      out.append(part.substr(0, eq));
      out.append("=<redacted>");
    } else {
      out.append(part);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Status ValidateNotifyUrl(std::string_view url) {
  if (url.empty()) return Status::Usage("--notify-url: empty URL");
  if (url.size() > 4096) {
    return Status::Usage(fmt::format("--notify-url: URL of {} bytes is longer than 4096 bytes", url.size()));
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return Status::Usage(fmt::format(
          "--notify-url {}: URL contains a space or control byte (percent-encode it)",
          RedactNotifyUrl(url)));
    }
  }
  size_t scheme_end = url.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? std::string_view() : url.substr(0, scheme_end);
  if (!http::EqualsIgnoreCase(scheme, "http") && !http::EqualsIgnoreCase(scheme, "https")) {
    return Status::Usage(fmt::format(
        "--notify-url {}: only http:// and https:// URLs are supported", RedactNotifyUrl(url)));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') == std::string_view::npos ? host.size() : host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty() || host == "[]") {
    return Status::Usage(fmt::format("--notify-url {}: the URL has no host", RedactNotifyUrl(url)));
  }
  return Status::OK();
}

// ------------------------------------------------------------------------------------ durations

Result<milliseconds> ParseNotifyTimeout(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::Usage(fmt::format(
        "--notify-timeout '{}': {} (examples: 30s, 10m, 2h, 1h30m, 500ms)", text, why));
  };
  if (text.empty()) return bad("empty duration");
  constexpr int64_t kMax = int64_t(7) * 24 * 3600 * 1000;
  int64_t total = 0;
  std::string_view s = text;
  bool any = false;
  while (!s.empty()) {
    size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') digits++;
    if (digits == 0) return bad("expected a number");
    if (digits > 12) return bad("number too large");
    int64_t n = 0;
    std::from_chars(s.data(), s.data() + digits, n);
    s.remove_prefix(digits);
    size_t ulen = 0;
    while (ulen < s.size() && std::isalpha(static_cast<unsigned char>(s[ulen]))) ulen++;
    std::string_view unit = s.substr(0, ulen);
    s.remove_prefix(ulen);
    int64_t mult = 0;
    if (unit.empty()) {
      if (any || !s.empty()) return bad("a unit is required after every number but a lone one");
      mult = 1000;  // a bare number is seconds
    } else if (unit == "ms") {
      mult = 1;
    } else if (unit == "s") {
      mult = 1000;
    } else if (unit == "m") {
      mult = 60 * 1000;
    } else if (unit == "h") {
      mult = 3600 * 1000;
    } else if (unit == "d") {
      mult = 24 * 3600 * 1000;
    } else {
      return bad(fmt::format("unknown unit '{}'", unit));
    }
    if (n > kMax / mult) return bad("longer than 7 days");
    total += n * mult;
    if (total > kMax) return bad("longer than 7 days");
    any = true;
  }
  return milliseconds(total);
}

std::string FormatNotifyDuration(milliseconds d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0s";
  std::string out;
  const int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
  if (h > 0) out += fmt::format("{}h", h);
  if (m > 0) out += fmt::format("{}m", m);
  if (s > 0) out += fmt::format("{}s", s);
  if (rest > 0) out += fmt::format("{}ms", rest);
  return out;
}

// ------------------------------------------------------------------------------------ backoff

milliseconds NotifyBackoff(milliseconds initial, milliseconds cap, int retry, double u) {
  const int64_t base = std::max<int64_t>(initial.count(), 1);
  const int64_t max = std::max<int64_t>(cap.count(), 1);
  const int shift = std::clamp(retry - 1, 0, 40);
  int64_t ceiling = max;
  if (shift < 62 && base <= (max >> shift)) ceiling = std::min(max, base << shift);
  if (!(u >= 0.0)) u = 0.0;  // also NaN
  if (u >= 1.0) u = std::nextafter(1.0, 0.0);
  const int64_t half = ceiling / 2;
  return milliseconds(half + int64_t(double(ceiling - half) * u));
}

std::optional<milliseconds> ParseRetryAfter(std::string_view v, std::chrono::system_clock::time_point now) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (v.size() > 9) return milliseconds(int64_t(999999999) * 1000);
    int64_t secs = 0;
    std::from_chars(v.data(), v.data() + v.size(), secs);
    return milliseconds(secs * 1000);
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  if (v.size() > 64) return std::nullopt;
  std::string s(v);
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const time_t when = timegm(&tm);
  if (when == time_t(-1)) return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(when);
  if (at <= now) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(at - now);
}

bool NotifyStatusIsTransient(long s) { return s == 408 || s == 425 || s == 429 || (s >= 500 && s <= 599); }

// ------------------------------------------------------------------------------------ options

Result<NotifyFormat> ParseNotifyFormat(std::string_view text) {
  if (text == "default") return NotifyFormat::kDefault;
  if (text == "neon") return NotifyFormat::kNeon;
  return Status::Usage(fmt::format("--notify-format '{}': expected neon or default", text));
}

const char* NotifyFormatName(NotifyFormat f) { return f == NotifyFormat::kNeon ? "neon" : "default"; }

Result<std::string> ReadNotifyTokenFile(std::string_view path) {
  constexpr size_t kMaxToken = 8192;
  const std::string p(path);
  auto bad = [&](std::string_view why) {
    return Status::Usage(fmt::format("--notify-token-file {}: {}", p, why));
  };
  if (p.empty()) return bad("empty file name");
  struct stat sb {};
  if (::stat(p.c_str(), &sb) != 0) return bad(fmt::format("cannot read it: {}", std::strerror(errno)));
  if (!S_ISREG(sb.st_mode)) return bad("not a regular file");
  if (uint64_t(sb.st_size) > kMaxToken + 2) {
    return bad(fmt::format("{} bytes, a bearer token is at most {} bytes", uint64_t(sb.st_size), kMaxToken));
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) return bad(fmt::format("cannot open it: {}", std::strerror(errno)));
  std::string tok(kMaxToken + 3, '\0');
  in.read(tok.data(), std::streamsize(tok.size()));
  if (in.bad()) return bad("read error");
  tok.resize(size_t(in.gcount()));
  if (!tok.empty() && tok.back() == '\n') tok.pop_back();
  if (!tok.empty() && tok.back() == '\r') tok.pop_back();
  if (tok.empty()) return bad("the file is empty (it must hold the bearer token)");
  if (tok.size() > kMaxToken) return bad(fmt::format("a bearer token is at most {} bytes", kMaxToken));
  for (unsigned char c : tok) {
    if (c < 0x21 || c > 0x7e) {
      return bad("holds a space, control or non-ASCII byte, or more than one line (not a valid bearer token)");
    }
  }
  return tok;
}

std::string NeonImportCompleteUrl(std::string_view base) {
  // A query string (rare for a base URL, but kept) stays after the path.
  std::string_view query;
  if (size_t q = base.find('?'); q != std::string_view::npos) {
    query = base.substr(q);
    base = base.substr(0, q);
  }
  std::string out(base);
  if (out.empty() || out.back() != '/') out.push_back('/');
  out += "import_complete";
  out.append(query);
  return out;
}

std::string NeonImportCompleteBody(std::string_view tenant_hex, std::string_view timeline_hex,
                                   const std::optional<std::string>& error) {
  constexpr size_t kMaxErrorBytes = 64 << 10;
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["tenant_id"] = std::string(tenant_hex);
  j["timeline_id"] = std::string(timeline_hex);
  if (error) {
    std::string e = error->empty() ? std::string("unknown error") : *error;
    if (e.size() > kMaxErrorBytes) {
      e.resize(kMaxErrorBytes);
      e += "...";
    }
    j["error"] = std::move(e);
  } else {
    j["error"] = nullptr;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<NotifyOptions> MakeNotifyOptions(std::string_view url, std::string_view timeout_text,
                                        NotifyFormat format, std::string_view token_file) {
  P2L_RETURN_IF_ERROR(ValidateNotifyUrl(url));
  NotifyOptions o;
  o.format = format;
  if (format == NotifyFormat::kNeon) {
    o.url = NeonImportCompleteUrl(url);
    o.method = "PUT";
    P2L_RETURN_IF_ERROR(ValidateNotifyUrl(o.url));
  } else {
    o.url = std::string(url);
  }
  P2L_ASSIGN_OR_RETURN(o.timeout, ParseNotifyTimeout(timeout_text));
  if (!token_file.empty()) {
    P2L_ASSIGN_OR_RETURN(o.bearer_token, ReadNotifyTokenFile(token_file));
    return o;
  }
  if (const char* tok = std::getenv(kNotifyTokenEnv); tok != nullptr && *tok != '\0') {
    std::string_view t(tok);
    if (t.size() > 8192) {
      return Status::Usage(fmt::format("${} is longer than 8192 bytes", kNotifyTokenEnv));
    }
    for (unsigned char c : t) {
      if (c < 0x21 || c > 0x7e) {
        return Status::Usage(fmt::format(
            "${} contains a space, control or non-ASCII byte (not a valid bearer token)", kNotifyTokenEnv));
      }
    }
    o.bearer_token = std::string(t);
  }
  return o;
}

// ------------------------------------------------------------------------------------ POST

Result<NotifyResult> PostNotification(const NotifyOptions& opts, std::string_view json_body,
                                      EventSink& events) {
  P2L_RETURN_IF_ERROR(ValidateNotifyUrl(opts.url));
  const std::string shown = RedactNotifyUrl(opts.url);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + opts.timeout;

  http::HttpClientOptions hopts;
  hopts.concurrency = 1;
  hopts.retry.max_retries = 0;  // our loop retries, against the deadline
  hopts.timeout_seconds = int(std::max<int64_t>(opts.max_attempt_time.count(), 1));
  hopts.user_agent = std::string("pgdata2layers/") +
#ifdef PGDATA2LAYERS_VERSION
                     PGDATA2LAYERS_VERSION;
#else
                     "dev";
#endif
  http::HttpClient client(hopts);

  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);

  std::string last_error;
  auto timed_out = [&](int attempts) {
    return Status::Timeout(fmt::format(
        "notification to {} not delivered within --notify-timeout {}: {} attempt{}, last error: {}",
        shown, FormatNotifyDuration(opts.timeout), attempts, attempts == 1 ? "" : "s", last_error));
  };
  for (int attempt = 1;; attempt++) {
    http::Request req;
    req.method = opts.method;
    req.url = opts.url;
    req.body = json_body;
    req.headers.Set("Content-Type", "application/json");
    req.headers.Set("Accept", "application/json, */*");
    if (!opts.bearer_token.empty()) req.headers.Set("Authorization", "Bearer " + opts.bearer_token);
    // The answer's body does not matter: drop it, whatever its size.
    req.max_response_bytes = std::numeric_limits<uint64_t>::max() / 2;
    req.max_error_body_bytes = 4096;
    req.sink = [](uint64_t, const char*, size_t) { return Status::OK(); };
    // Each attempt's connect/stall timeout: the time left (rounded up), within [1 s, max].
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    const int64_t left_s = std::max<int64_t>((left.count() + 999) / 1000, 1);
    req.timeout_seconds = int(std::min<int64_t>(left_s, hopts.timeout_seconds));

    http::Response resp;
    const http::Attempt a = client.ExecuteOnce(req, &resp);
    std::optional<long> status;
    bool retry = false;
    if (a.transport.ok()) {
      status = resp.status;
      if (resp.status >= 200 && resp.status < 300) {
        LogInfo("notification delivered to {} (HTTP {}, {} attempt{})", shown, resp.status, attempt,
                attempt == 1 ? "" : "s");
        events.Emit("notified", {{"url", shown}, {"attempts", attempt}, {"http_status", resp.status}});
        return NotifyResult{resp.status, attempt};
      }
      last_error = DescribeAnswer(resp);
      retry = NotifyStatusIsTransient(resp.status);
    } else if (resp.status >= 200 && resp.status < 300 && a.transient) {
      // The receiver said 2xx and then the answer was cut short or its length was wrong (e.g. a
      // 204 with a Content-Length): it accepted the notification.
      LogInfo("notification delivered to {} (HTTP {}, {} attempt{}; answer incomplete: {})", shown,
              resp.status, attempt, attempt == 1 ? "" : "s", TransportDetail(a.transport, opts.method, opts.url));
      events.Emit("notified", {{"url", shown}, {"attempts", attempt}, {"http_status", resp.status}});
      return NotifyResult{resp.status, attempt};
    } else {
      last_error = TransportDetail(a.transport, opts.method, opts.url);
      retry = a.transient;
    }
    if (!retry) {
      return Status::Io(fmt::format(
          "notification to {} refused: {} (not retried: the receiver must answer 2xx; attempt {})",
          shown, last_error, attempt));
    }
    const auto now = Clock::now();
    if (now >= deadline) return timed_out(attempt);
    milliseconds delay = NotifyBackoff(opts.initial_backoff, opts.max_backoff, attempt, uniform(rng));
    if (a.transport.ok()) {
      if (auto ra = resp.headers.Get("Retry-After")) {
        if (auto d = ParseRetryAfter(*ra, std::chrono::system_clock::now())) delay = std::max(delay, *d);
      }
    }
    const auto remaining = std::chrono::duration_cast<milliseconds>(deadline - now);
    const milliseconds wait = std::min(delay, remaining);
    LogWarn("notification to {} failed (attempt {}): {}; retrying in {} ms", shown, attempt, last_error,
            wait.count());
    nlohmann::json ev = {{"url", shown}, {"attempt", attempt}, {"error", last_error}, {"delay_ms", wait.count()}};
    ev["http_status"] = status ? nlohmann::json(*status) : nlohmann::json(nullptr);
    events.Emit("notify_retry", std::move(ev));
    if (opts.sleep) {
      opts.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    // No attempt starts after the deadline.
    if (delay >= remaining || Clock::now() >= deadline) return timed_out(attempt);
  }
}

}  // namespace p2l
