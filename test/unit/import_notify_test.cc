// Tests for lib/import/notify.{h,cc}: URL validation and redaction, duration flags, backoff
// bounds, Retry-After, and PostNotification against a scripted HTTP server in this process
// (retries until 2xx, Retry-After honoured, permanent refusals, endpoint down / stalled until the
// deadline, bearer token, no credentials in messages or events).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "import/notify.h"
#include "import_test_http_server.h"

namespace p2l {

using std::chrono::milliseconds;
using testing::CapturingEvents;
using testing::NotifyTestServer;

namespace {

// Options that retry quickly; `sleeps` (if given) records the waits instead of sleeping.
NotifyOptions Fast(const std::string& url, milliseconds timeout, std::vector<milliseconds>* sleeps = nullptr) {
  NotifyOptions o;
  o.url = url;
  o.timeout = timeout;
  o.initial_backoff = milliseconds(20);
  o.max_backoff = milliseconds(100);
  if (sleeps != nullptr) o.sleep = [sleeps](milliseconds d) { sleeps->push_back(d); };
  return o;
}

bool Contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// A header's value in a recorded request head (case-insensitive name), or "".
std::string HeaderOf(const std::string& head, const std::string& name) {
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos && colon == name.size()) {
      bool eq = true;
      for (size_t i = 0; i < colon; i++) eq &= std::tolower(line[i]) == std::tolower(name[i]);
      if (eq) {
        std::string v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        return v;
      }
    }
    pos = eol + 2;
  }
  return "";
}

}  // namespace

TEST_CASE("notify: URL validation") {
  CHECK(ValidateNotifyUrl("http://127.0.0.1:8080/hook").ok());
  CHECK(ValidateNotifyUrl("https://example.com/a?b=c").ok());
  CHECK(ValidateNotifyUrl("HTTPS://example.com").ok());
  CHECK(ValidateNotifyUrl("http://user:pw@[::1]:80/x").ok());
  for (const char* bad : {"", "ftp://host/x", "file:///etc/passwd", "127.0.0.1:80/x", "http://", "http:///x",
                          "http://:80/x", "http://host/a b", "http://host/\n", "s3://bucket/x"}) {
    CAPTURE(bad);
    Status st = ValidateNotifyUrl(bad);
    CHECK(st.code() == Code::kUsage);
    CHECK(Contains(st.message(), "--notify-url"));
  }
  CHECK(ValidateNotifyUrl("http://h/" + std::string(5000, 'a')).code() == Code::kUsage);
  // The message never shows the password.
  Status st = ValidateNotifyUrl("ftp://alice:s3cret@host/x");
  CHECK(!Contains(st.message(), "s3cret"));
  CHECK(Contains(st.message(), "only http:// and https://"));
}

TEST_CASE("notify: URL redaction") {
  CHECK(RedactNotifyUrl("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook");
  CHECK(RedactNotifyUrl("https://alice:s3cret@host:443/p") == "https://<redacted>@host:443/p");
  CHECK(RedactNotifyUrl("https://alice@host/p") == "https://<redacted>@host/p");
  CHECK(RedactNotifyUrl("http://h/p?a=1&token=abc&api_key=k&X-Sig=s&b=2") ==
        "http://h/p?a=1&token=<redacted>&api_key=<redacted>&X-Sig=<redacted>&b=2");
  CHECK(RedactNotifyUrl("http://h/p?Password=x&AUTH=y&credential=z") ==
        "http://h/p?Password=<redacted>&AUTH=<redacted>&credential=<redacted>");
  CHECK(RedactNotifyUrl("http://u:p@h/p?secret=1#frag") == "http://<redacted>@h/p?secret=<redacted>");
  // '@' in the path or query is not userinfo.
  CHECK(RedactNotifyUrl("http://h/a@b?c=d@e") == "http://h/a@b?c=d@e");
  CHECK(RedactNotifyUrl("http://h/p?flag&x=") == "http://h/p?flag&x=");
}

TEST_CASE("notify: --notify-timeout syntax") {
  auto ms = [](std::string_view s) {
    auto r = ParseNotifyTimeout(s);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return r->count();
  };
  CHECK(ms("30s") == 30000);
  CHECK(ms("10m") == 600000);
  CHECK(ms("2h") == 7200000);
  CHECK(ms("1h30m") == 5400000);
  CHECK(ms("500ms") == 500);
  CHECK(ms("1d") == 86400000);
  CHECK(ms("90") == 90000);
  CHECK(ms("0") == 0);
  CHECK(ms("0s") == 0);
  CHECK(ms("7d") == 7 * 86400000LL);
  for (const char* bad : {"", "s", "10x", "-5s", "1.5h", "10 m", "8d", "1h30", "99999999999999s", "m10"}) {
    CAPTURE(bad);
    auto r = ParseNotifyTimeout(bad);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kUsage);
    CHECK(Contains(r.status().message(), "--notify-timeout"));
  }
  CHECK(FormatNotifyDuration(milliseconds(600000)) == "10m");
  CHECK(FormatNotifyDuration(milliseconds(5400000)) == "1h30m");
  CHECK(FormatNotifyDuration(milliseconds(5000)) == "5s");
  CHECK(FormatNotifyDuration(milliseconds(1500)) == "1s500ms");
  CHECK(FormatNotifyDuration(milliseconds(0)) == "0s");
}

TEST_CASE("notify: backoff bounds (1 s doubling, capped at 30 s, equal jitter)") {
  const milliseconds init(1000), cap(30000);
  // Ceilings: 1, 2, 4, 8, 16, 30, 30, ... seconds.
  const int64_t ceilings[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  for (int k = 1; k <= 8; k++) {
    CAPTURE(k);
    const int64_t c = ceilings[k - 1];
    CHECK(NotifyBackoff(init, cap, k, 0.0).count() == c / 2);
    CHECK(NotifyBackoff(init, cap, k, 0.999999).count() <= c);
    CHECK(NotifyBackoff(init, cap, k, 0.999999).count() >= c - 1);
    for (double u : {0.1, 0.5, 0.9}) {
      const int64_t d = NotifyBackoff(init, cap, k, u).count();
      CHECK(d >= c / 2);
      CHECK(d <= c);
    }
  }
  // Huge retry counts neither overflow nor pass the cap; odd u values are clamped.
  for (int k : {31, 62, 63, 64, 1000, 1 << 30}) {
    CHECK(NotifyBackoff(init, cap, k, 0.5).count() <= 30000);
    CHECK(NotifyBackoff(init, cap, k, 0.5).count() >= 15000);
  }
  CHECK(NotifyBackoff(init, cap, 1, -3.0).count() == 500);
  CHECK(NotifyBackoff(init, cap, 1, 7.0).count() <= 1000);
  CHECK(NotifyBackoff(init, cap, 0, 0.0).count() == 500);
}

TEST_CASE("notify: Retry-After") {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(ParseRetryAfter("120", now) == milliseconds(120000));
  CHECK(ParseRetryAfter(" 0 ", now) == milliseconds(0));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now) == milliseconds(30000));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now) == milliseconds(0));
  CHECK(!ParseRetryAfter("", now));
  CHECK(!ParseRetryAfter("soon", now));
  CHECK(!ParseRetryAfter("-5", now));
  CHECK(!ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT trailing", now));
  CHECK(ParseRetryAfter("99999999999999999999", now).has_value());  // huge: clamped, no overflow
  CHECK(NotifyStatusIsTransient(503));
  CHECK(NotifyStatusIsTransient(500));
  CHECK(NotifyStatusIsTransient(429));
  CHECK(NotifyStatusIsTransient(408));
  CHECK(!NotifyStatusIsTransient(400));
  CHECK(!NotifyStatusIsTransient(404));
  CHECK(!NotifyStatusIsTransient(301));
}

TEST_CASE("notify: MakeNotifyOptions reads the bearer token from the environment") {
  ::unsetenv(kNotifyTokenEnv);
  auto o = MakeNotifyOptions("http://127.0.0.1:1/x", "2h");
  REQUIRE(o.ok());
  CHECK(o->timeout == milliseconds(7200000));
  CHECK(o->bearer_token.empty());
  CHECK(o->initial_backoff == milliseconds(1000));
  CHECK(o->max_backoff == milliseconds(30000));

  ::setenv(kNotifyTokenEnv, "tok-123.abc", 1);
  o = MakeNotifyOptions("http://127.0.0.1:1/x", "10m");
  REQUIRE(o.ok());
  CHECK(o->bearer_token == "tok-123.abc");

  ::setenv(kNotifyTokenEnv, "bad token\r\nX-Evil: 1", 1);
  o = MakeNotifyOptions("http://127.0.0.1:1/x", "10m");
  REQUIRE(!o.ok());
  CHECK(o.status().code() == Code::kUsage);
  CHECK(!Contains(o.status().message(), "bad token"));
  CHECK(Contains(o.status().message(), kNotifyTokenEnv));
  ::unsetenv(kNotifyTokenEnv);

  CHECK(MakeNotifyOptions("ftp://h/x", "10m").status().code() == Code::kUsage);
  CHECK(MakeNotifyOptions("http://h/x", "ten minutes").status().code() == Code::kUsage);
}

TEST_CASE("notify: retries 503 until a 2xx, one accepted POST with the exact body") {
  NotifyTestServer srv({NotifyTestServer::Answer(503), NotifyTestServer::Answer(503),
                        NotifyTestServer::Answer(503), NotifyTestServer::Answer(200)});
  std::vector<milliseconds> sleeps;
  CapturingEvents ev;
  NotifyOptions o = Fast(srv.url(), milliseconds(10000), &sleeps);
  o.bearer_token = "secret-token-xyz";
  const std::string body = R"({"status":"done","x":1})";
  auto r = PostNotification(o, body, ev);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->attempts == 4);
  CHECK(r->http_status == 200);
  CHECK(srv.requests() == 4);
  auto got = srv.received();
  REQUIRE(got.size() == 4);
  for (const auto& g : got) {
    CHECK(g.body == body);
    CHECK(g.head.rfind("POST /notify HTTP/1.1", 0) == 0);
    CHECK(HeaderOf(g.head, "Content-Type") == "application/json");
    CHECK(HeaderOf(g.head, "Authorization") == "Bearer secret-token-xyz");
    CHECK(HeaderOf(g.head, "Content-Length") == std::to_string(body.size()));
    CHECK(HeaderOf(g.head, "Expect").empty());
  }
  // Three waits, each within its backoff bound (equal jitter on 20, 40, 80 ms ceilings).
  REQUIRE(sleeps.size() == 3);
  CHECK(sleeps[0] >= milliseconds(10));
  CHECK(sleeps[0] <= milliseconds(20));
  CHECK(sleeps[1] >= milliseconds(20));
  CHECK(sleeps[1] <= milliseconds(40));
  CHECK(sleeps[2] >= milliseconds(40));
  CHECK(sleeps[2] <= milliseconds(80));
  auto retries = ev.Named("notify_retry");
  REQUIRE(retries.size() == 3);
  CHECK(retries[0]["attempt"] == 1);
  CHECK(retries[0]["http_status"] == 503);
  CHECK(retries[2]["attempt"] == 3);
  auto done = ev.Named("notified");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["attempts"] == 4);
  CHECK(done[0]["http_status"] == 200);
  CHECK(done[0]["url"] == srv.url());
  // The token is never in an event.
  for (auto& [n, f] : ev.events()) CHECK(!Contains(f.dump(), "secret-token-xyz"));
}

TEST_CASE("notify: resets and 500/429 are retried; any 2xx is success") {
  NotifyTestServer srv({NotifyTestServer::Reset(), NotifyTestServer::Answer(500),
                        NotifyTestServer::Answer(429), NotifyTestServer::Answer(204)});
  CapturingEvents ev;
  std::vector<milliseconds> sleeps;
  auto r = PostNotification(Fast(srv.url(), milliseconds(10000), &sleeps), "{}", ev);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->attempts == 4);
  CHECK(r->http_status == 204);
  auto retries = ev.Named("notify_retry");
  REQUIRE(retries.size() == 3);
  CHECK(retries[0]["http_status"].is_null());
  CHECK(retries[1]["http_status"] == 500);
  CHECK(retries[2]["http_status"] == 429);
}

TEST_CASE("notify: a 2xx answer with a wrong Content-Length still counts as delivered") {
  // 204 must not have a body; this receiver announces one anyway.
  NotifyTestServer srv({NotifyTestServer::Answer(204, "Content-Length: 5\r\n")});
  auto r = PostNotification(Fast(srv.url(), milliseconds(10000)), "{}", NullEvents());
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->attempts == 1);
  CHECK(srv.requests() == 1);
}

TEST_CASE("notify: Retry-After is a lower bound on the wait") {
  NotifyTestServer srv({NotifyTestServer::Answer(503, "Retry-After: 3\r\n"), NotifyTestServer::Answer(200)});
  std::vector<milliseconds> sleeps;
  auto r = PostNotification(Fast(srv.url(), milliseconds(10000), &sleeps), "{}", NullEvents());
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->attempts == 2);
  REQUIRE(sleeps.size() == 1);
  CHECK(sleeps[0] == milliseconds(3000));
}

TEST_CASE("notify: a Retry-After beyond the deadline ends in kTimeout without another attempt") {
  NotifyTestServer srv({NotifyTestServer::Answer(503, "Retry-After: 3600\r\n"), NotifyTestServer::Answer(200)});
  std::vector<milliseconds> sleeps;
  auto r = PostNotification(Fast(srv.url(), milliseconds(5000), &sleeps), "{}", NullEvents());
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTimeout);
  CHECK(srv.requests() == 1);
  REQUIRE(sleeps.size() == 1);
  CHECK(sleeps[0] <= milliseconds(5000));
}

TEST_CASE("notify: a permanent refusal (4xx) is not retried") {
  NotifyTestServer srv({NotifyTestServer::Answer(404), NotifyTestServer::Answer(200)});
  auto r = PostNotification(Fast(srv.url(), milliseconds(10000)), "{}", NullEvents());
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kIo);
  CHECK(srv.requests() == 1);
  CHECK(Contains(r.status().message(), "HTTP 404"));
  CHECK(Contains(r.status().message(), srv.url()));
}

TEST_CASE("notify: endpoint down longer than the timeout -> kTimeout naming URL and last error") {
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::ClosedPort()) + "/hook";
  CapturingEvents ev;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = PostNotification(Fast(url, milliseconds(1000)), "{}", ev);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTimeout);
  CHECK(ExitCodeFor(r.status().code()) == 6);
  const std::string& m = r.status().message();
  CHECK(Contains(m, url));
  CHECK(Contains(m, "not delivered within --notify-timeout 1s"));
  CHECK(Contains(m, "last error:"));
  CHECK(Contains(m, "onnect"));  // "Couldn't connect" / "Connection refused"
  CHECK(took >= milliseconds(900));
  CHECK(took < milliseconds(4000));
  CHECK(ev.Named("notify_retry").size() >= 3);
  CHECK(ev.Named("notified").empty());
}

TEST_CASE("notify: timeout 0 means exactly one attempt") {
  NotifyTestServer srv({NotifyTestServer::Answer(503), NotifyTestServer::Answer(200)});
  auto r = PostNotification(Fast(srv.url(), milliseconds(0)), "{}", NullEvents());
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTimeout);
  CHECK(srv.requests() == 1);
  CHECK(Contains(r.status().message(), "HTTP 503"));
}

TEST_CASE("notify: a stalled receiver is cut off by the deadline") {
  NotifyTestServer srv({NotifyTestServer::Stall()});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = PostNotification(Fast(srv.url(), milliseconds(1500)), "{}", NullEvents());
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTimeout);
  CHECK(took < milliseconds(6000));
}

TEST_CASE("notify: credentials never appear in messages or events") {
  NotifyTestServer srv({NotifyTestServer::Answer(500)});
  const std::string url = "http://alice:pw-SECRET@127.0.0.1:" + std::to_string(srv.port()) +
                          "/hook?access_token=TOKEN-SECRET&id=7";
  CapturingEvents ev;
  NotifyOptions o = Fast(url, milliseconds(200));
  o.bearer_token = "BEARER-SECRET";
  auto r = PostNotification(o, "{}", ev);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTimeout);
  const std::string& m = r.status().message();
  CHECK(!Contains(m, "SECRET"));
  CHECK(Contains(m, "http://<redacted>@127.0.0.1:"));
  CHECK(Contains(m, "access_token=<redacted>&id=7"));
  for (auto& [n, f] : ev.events()) {
    CAPTURE(f.dump());
    CHECK(!Contains(f.dump(), "SECRET"));
  }
  // The explicit bearer token is what the server gets.
  auto got = srv.received();
  REQUIRE(!got.empty());
  CHECK(HeaderOf(got[0].head, "Authorization") == "Bearer BEARER-SECRET");
}

}  // namespace p2l
