// Completion notification: one JSON document POSTed to --notify-url, retried until the receiver
// answers 2xx or --notify-timeout runs out (issue #5). Delivery is at-least-once: a receiver may
// see the same document more than once (a lost answer, a rerun of a finished import) and must
// deduplicate by (tenant_shard_id, timeline_id, idempotency_key).
//
// Protocol:
//   POST <url>   Content-Type: application/json   [Authorization: Bearer $PGDATA2LAYERS_NOTIFY_TOKEN]
//   2xx                              delivered (the answer's body is ignored)
//   408, 425, 429, 5xx, transport    retried: transient failures (refused, reset, stall, DNS, TLS
//   failures                         handshake) — see NotifyShouldRetry
//   anything else (3xx, other 4xx),  given up at once: kIo naming the URL and the answer (a wrong
//   non-transient transport errors   URL or token does not get better by waiting)
// Waits between attempts: exponential backoff with "equal jitter" — before retry k (k >= 1) a
// uniformly random time in [c/2, c] with c = min(max_backoff, initial_backoff * 2^(k-1)); a
// Retry-After (delta-seconds or HTTP-date) is a lower bound. No attempt starts after the
// deadline (start + timeout) and each attempt's connect/stall timeout is bounded by the time
// left, so the call returns at most ~1 s after the deadline. Out of time: kTimeout naming the
// URL, the number of attempts and the last error.
//
// Secrets: credentials in the URL (user:password@) and token-like query parameters are redacted
// in every log line, event and error (RedactNotifyUrl); the bearer token is never logged.
//
// --notify-format neon: the shape Neon's storage controller uses to tell its control plane that a
// timeline import finished (storage_controller/src/timeline_import.rs, UpcallClient at 6a35a3e9):
//   PUT <base>/import_complete   {"tenant_id": "<hex>", "timeline_id": "<hex>", "error": null|"..."}
// <base> is the URL given (one "/" between it and import_complete); the token goes in
// "Authorization: Bearer". The retry policy above applies unchanged. It is tenant-scoped: one
// notification per tenant import, after every shard is done (NotifyTenantImport, completion.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/events.h"
#include "util/status.h"

namespace p2l {

// The environment variable holding the optional bearer token.
inline constexpr const char* kNotifyTokenEnv = "PGDATA2LAYERS_NOTIFY_TOKEN";

// --notify-format: "default" (our per-shard POST document) or "neon" (see above).
enum class NotifyFormat { kDefault, kNeon };
Result<NotifyFormat> ParseNotifyFormat(std::string_view text);   // kUsage naming the text
const char* NotifyFormatName(NotifyFormat f);                    // "default" / "neon"

struct NotifyOptions {
  NotifyFormat format = NotifyFormat::kDefault;
  std::string method = "POST";                          // "PUT" for the neon format
  std::string url;                                      // http:// or https:// (ValidateNotifyUrl)
  std::chrono::milliseconds timeout{10 * 60 * 1000};    // --notify-timeout: whole delivery budget
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::seconds max_attempt_time{30};            // per-attempt connect/stall bound
  std::string bearer_token;                             // empty: no Authorization header
  // Test hook: replaces the sleep between attempts (default std::this_thread::sleep_for).
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct NotifyResult {
  long http_status = 0;   // the accepting answer's status (2xx)
  int attempts = 0;       // 1 = delivered at the first attempt
};

// Builds NotifyOptions from the flags: validates `url`, parses `timeout_text` (ParseNotifyTimeout)
// and reads the bearer token from `token_file` (--notify-token-file, ReadNotifyTokenFile) or,
// without one, from $PGDATA2LAYERS_NOTIFY_TOKEN (empty/unset: none). For the neon format the
// URL becomes NeonImportCompleteUrl(url) and the method PUT. kUsage for a bad URL, duration,
// token or token file (the token's value is never part of the message).
Result<NotifyOptions> MakeNotifyOptions(std::string_view url, std::string_view timeout_text,
                                        NotifyFormat format = NotifyFormat::kDefault,
                                        std::string_view token_file = {});

// Reads a bearer token from `path`: one trailing "\n" (or "\r\n") is stripped; kUsage naming the
// file when it is missing, unreadable, larger than 8192 bytes, empty, or holds a byte that is
// not printable ASCII (the message never quotes the content).
Result<std::string> ReadNotifyTokenFile(std::string_view path);

// "<base>/import_complete" (no doubled "/" when base ends with one; a query string stays last).
std::string NeonImportCompleteUrl(std::string_view base);
// {"tenant_id":"<hex>","timeline_id":"<hex>","error":null|"..."} (compact, in this order; the
// error bounded to 4096 bytes, invalid UTF-8 replaced).
std::string NeonImportCompleteBody(std::string_view tenant_hex, std::string_view timeline_hex,
                                   const std::optional<std::string>& error);

// Sends `json_body` (opts.method, POST by default) until a 2xx answer or the deadline (see the protocol above). Emits
// "notify_retry" {url, attempt, http_status|null, error, delay_ms} before each wait and
// "notified" {url, attempts, http_status} on success. kTimeout when the time ran out, kIo when
// the receiver refused for good.
Result<NotifyResult> PostNotification(const NotifyOptions& opts, std::string_view json_body,
                                      EventSink& events);

// ---- building blocks (exposed for tests) ----

// Only "http://" and "https://" URLs (scheme case-insensitive) with a non-empty host, no
// whitespace/control bytes and at most 4096 bytes; the message names the redacted URL.
Status ValidateNotifyUrl(std::string_view url);

// The URL for messages: "user:password@" becomes "<redacted>@" and the value of every query
// parameter whose name contains token, key, secret, pass, sig, auth or cred (case-insensitive)
// becomes "<redacted>". A fragment is dropped.
std::string RedactNotifyUrl(std::string_view url);

// "30s", "10m", "2h", "500ms", "1h30m", "90" (seconds), "0" (one attempt, no retries).
// Units ms, s, m, h, d; at most 7 days. kUsage naming the text otherwise.
Result<std::chrono::milliseconds> ParseNotifyTimeout(std::string_view text);
// The inverse for messages: 600000 ms -> "10m", 5400000 -> "1h30m", 1500 -> "1s500ms", 0 -> "0s".
std::string FormatNotifyDuration(std::chrono::milliseconds d);

// The wait before retry `retry` (1-based) given u uniform in [0, 1): equal jitter, see above.
std::chrono::milliseconds NotifyBackoff(std::chrono::milliseconds initial,
                                        std::chrono::milliseconds cap, int retry, double u);

// A Retry-After value: delta-seconds ("120") or an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT")
// relative to `now`. nullopt when absent or unparsable; a date in the past is 0.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// Whether an HTTP status is worth retrying: 408, 425, 429 and 5xx.
bool NotifyStatusIsTransient(long http_status);

}  // namespace p2l
