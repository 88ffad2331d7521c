// Tests for lib/storage/http.{h,cc}, rate_limiter and retry against a scripted HTTP server on
// 127.0.0.1 (in this process): bounded bodies, retries of 5xx and truncated answers, sinks,
// uploads from a file range, redaction of credentials in errors.

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/http.h"
#include "storage/rate_limiter.h"
#include "storage/retry.h"
#include "test_http_server.h"

namespace p2l {

namespace {

using ScriptedServer = testing::ScriptedHttpServer;  // raw answers, one per connection

std::string Answer(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra + "\r\n" + body;
}

http::HttpClient Client(int retries = 3) {
  http::HttpClientOptions o;
  o.retry.max_retries = retries;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  o.timeout_seconds = 5;
  return http::HttpClient(o);
}

}  // namespace

TEST_CASE("HttpClient: body, case-insensitive headers, sink offsets") {
  ScriptedServer srv({Answer(200, "hello world", "ETag: \"abc\"\r\n")});
  auto c = Client();
  http::Request r;
  r.url = srv.url();
  std::string got(11, '?');
  r.sink = [&](uint64_t off, const char* d, size_t n) -> Status {
    got.replace(size_t(off), n, d, n);
    return Status::OK();
  };
  auto resp = c.Execute(r);
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(resp->body.empty());  // went to the sink
  CHECK(resp->body_bytes == 11);
  CHECK(got == "hello world");
  CHECK(resp->headers.Get("etag") == std::optional<std::string_view>("\"abc\""));
  CHECK(resp->headers.Get("ETAG").has_value());
  CHECK(resp->attempts == 1);
}

TEST_CASE("HttpClient: a Content-Length above the maximum is refused before reading, not retried") {
  ScriptedServer srv({Answer(200, std::string(1000, 'x'))});
  auto c = Client();
  http::Request r;
  r.url = srv.url();
  r.max_response_bytes = 100;
  auto resp = c.Execute(r);
  CHECK(resp.status().code() == Code::kInvalidInput);
  CHECK(resp.status().message().find("1000 bytes") != std::string::npos);
  CHECK(srv.requests() == 1);
}

TEST_CASE("HttpClient: a body without length is cut at the maximum") {
  ScriptedServer srv({"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'y')});
  auto c = Client();
  http::Request r;
  r.url = srv.url();
  r.max_response_bytes = 100;
  CHECK(c.Execute(r).status().code() == Code::kInvalidInput);
}

TEST_CASE("HttpClient: 5xx and truncated answers are retried; 4xx are not") {
  {
    ScriptedServer srv({Answer(500, "<Error><Code>InternalError</Code></Error>"), Answer(200, "ok")});
    auto c = Client();
    http::Request r;
    r.url = srv.url();
    auto resp = c.Execute(r);
    REQUIRE(resp.ok());
    CHECK(resp->status == 200);
    CHECK(resp->body == "ok");
    CHECK(resp->attempts == 2);
  }
  {
    // Content-Length 10, 5 bytes, close; then a good answer.
    ScriptedServer srv({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345", Answer(200, "0123456789")});
    auto c = Client();
    http::Request r;
    r.url = srv.url();
    std::vector<uint64_t> offsets;
    r.sink = [&](uint64_t off, const char*, size_t) -> Status {
      offsets.push_back(off);
      return Status::OK();
    };
    auto resp = c.Execute(r);
    REQUIRE(resp.ok());
    CHECK(resp->attempts == 2);
    CHECK(resp->body_bytes == 10);
    CHECK(offsets.front() == 0);
  }
  {
    ScriptedServer srv({Answer(503, "<Error><Code>SlowDown</Code></Error>")});
    auto c = Client(2);
    http::Request r;
    r.url = srv.url();
    auto resp = c.Execute(r);
    REQUIRE(resp.ok());
    CHECK(resp->status == 503);
    CHECK(resp->attempts == 3);
    CHECK(srv.requests() == 3);
  }
  {
    ScriptedServer srv({Answer(404, "<Error><Code>NoSuchKey</Code></Error>")});
    auto c = Client();
    http::Request r;
    r.url = srv.url();
    r.max_response_bytes = 1;  // applies to 2xx only: the error body is kept
    auto resp = c.Execute(r);
    REQUIRE(resp.ok());
    CHECK(resp->status == 404);
    CHECK(resp->attempts == 1);
    CHECK(resp->body.find("NoSuchKey") != std::string::npos);
  }
}

TEST_CASE("HttpClient: a sink error aborts without retry") {
  ScriptedServer srv({Answer(200, "data")});
  auto c = Client();
  http::Request r;
  r.url = srv.url();
  r.sink = [](uint64_t, const char*, size_t) { return Status::SourceChanged("stop here"); };
  auto resp = c.Execute(r);
  CHECK(resp.status().code() == Code::kSourceChanged);
  CHECK(srv.requests() == 1);
}

TEST_CASE("HttpClient: connection failures give kIo without credentials in the message") {
  // A port that nothing listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(fd);
  auto c = Client(1);
  http::Request r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/b/k?X-Amz-Signature=SIGSECRET&a=1";
  r.aws_sigv4 = http::AwsSigV4{"aws:amz:us-east-1:s3", "AKIDSECRET", "TOPSECRET"};
  auto resp = c.Execute(r);
  CHECK(resp.status().code() == Code::kIo);
  const std::string& m = resp.status().message();
  CHECK(m.find("gave up after 2 attempts") != std::string::npos);
  CHECK(m.find("SIGSECRET") == std::string::npos);
  CHECK(m.find("TOPSECRET") == std::string::npos);
  CHECK(m.find("AKIDSECRET") == std::string::npos);
}

TEST_CASE("HttpClient: PUT bodies from memory and from a file range; sign hook runs per attempt") {
  ScriptedServer srv({Answer(500, ""), Answer(200, ""), Answer(200, "")});
  auto c = Client();
  char path[] = "/tmp/p2l-http-test.XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string content = "0123456789abcdefghij";
  REQUIRE(::write(fd, content.data(), content.size()) == ssize_t(content.size()));
  http::Request r;
  r.method = "PUT";
  r.url = srv.url();
  r.body_fd = fd;
  r.body_offset = 5;
  r.body_length = 10;
  int signs = 0;
  r.sign = [&](http::Request& req) {
    signs++;
    req.headers.Set("Authorization", "attempt " + std::to_string(signs));
    return Status::OK();
  };
  auto resp = c.Execute(r);
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(signs == 2);
  http::Request m;
  m.method = "POST";
  m.url = srv.url();
  m.body = "<xml/>";
  REQUIRE(c.Execute(m).ok());
  auto bodies = srv.bodies();
  REQUIRE(bodies.size() == 3);
  CHECK(bodies[0] == "56789abcde");
  CHECK(bodies[1] == "56789abcde");
  CHECK(bodies[2] == "<xml/>");
  ::close(fd);
  ::unlink(path);
}

TEST_CASE("RateLimiter and BackoffDelay") {
  RateLimiter unlimited(0);
  unlimited.Acquire(1ull << 40);  // returns at once
  RateLimiter rl(1 << 20, 64 << 10);
  const auto t0 = std::chrono::steady_clock::now();
  rl.Acquire(64 << 10);  // the burst
  rl.Acquire(256 << 10);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(secs >= 0.2);
  CHECK(secs < 2.0);

  RetryPolicy p;
  p.base_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  for (int k = 1; k < 40; k++) {
    auto d = BackoffDelay(p, k);
    CHECK(d.count() >= 0);
    CHECK(d.count() <= std::min<int64_t>(1000, int64_t(100) << std::min(k - 1, 20)));
  }
  CHECK(BackoffDelay(p, 1, std::chrono::milliseconds(700)).count() >= 700);
  CHECK(BackoffDelay(p, 1, std::chrono::milliseconds(5000)).count() <= 1000);
}

}  // namespace p2l
