// fault_proxy: an HTTP/1.1 reverse proxy on 127.0.0.1 that injects failures, for testing the
// retry logic of the remote storage clients against a local S3 (or Azure) server.
//
//   fault_proxy --upstream 127.0.0.1:PORT [--port N] [--port-file FILE] [--fail-rate 0.3]
//               [--seed N] [--kinds reset,500,503,truncate,stall] [--stall-seconds 10]
//               [--max-seconds 1800] [--verbose] [--log-heads FILE] [--latency-ms N]
//               [--match SUBSTRING]
//
// Requests are forwarded byte-exactly (the head as received, including Host, so SigV4/SharedKey
// signatures made for the proxy's address stay valid). On a fraction --fail-rate of requests
// (decided by a PRNG seeded with --seed) one of --kinds happens instead:
//   reset     the client connection is reset (RST) without forwarding the request
//   500, 503  an S3-style XML error answer (InternalError / SlowDown), connection closed
//   truncate  the request is forwarded; the answer's head and only half its body are sent, then
//             the connection is closed (Content-Length promised more)
//   stall     nothing is answered for --stall-seconds, then the connection is closed
//   403, 404, 412  an S3-style XML error answer (AccessDenied / NoSuchKey / PreconditionFailed),
//             as a server that refuses the credentials, lost the object, or holds another version
//             of it would send (not retried by a client: each is final)
// --match SUBSTRING: only requests whose request line ("GET /bucket/key?query HTTP/1.1") contains
// SUBSTRING can be faulted; every other request is forwarded untouched (and draws no random number,
// so the faults on matching requests do not depend on the others).
// --fail-rate 1 makes every request fail. The listening port is printed on stdout
// ("PORT\n") and written to --port-file. Counters go to stderr at exit (SIGTERM/SIGINT) and every
// fault is logged with --verbose. Simple by design: a thread per connection, blocking sockets,
// bounded loops; it exits by itself after --max-seconds. --log-heads FILE appends the head of every
// request received (request line and header lines, ending with an empty line) to FILE, so tests can
// check what a client really sent (e.g. which headers a SigV4 signature covers).
// --latency-ms N (0..10000, default 0) delays every request by N ms once its head and body have been
// received, before anything else happens to it (forwarded, or faulted): a model of one network round
// trip per request to a remote endpoint (scripts/bench.sh uses it with --fail-rate 0). Connection
// set-up is not delayed, and requests on different connections are delayed concurrently.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Config {
  std::string upstream_host = "127.0.0.1";
  int upstream_port = 0;
  int port = 0;
  std::string port_file;
  double fail_rate = 0.0;
  uint64_t seed = 1;
  std::vector<std::string> kinds = {"reset", "500", "503", "truncate", "stall"};
  int stall_seconds = 10;
  int max_seconds = 1800;
  bool verbose = false;
  std::string log_heads;
  int latency_ms = 0;
  std::string match;
};

Config g_cfg;
std::mutex g_log_mu;
std::mutex g_rng_mu;
std::mt19937_64 g_rng;
std::atomic<uint64_t> g_requests{0}, g_forwarded{0};
constexpr int kKinds = 8;
std::atomic<uint64_t> g_faults[kKinds];
const char* kKindNames[kKinds] = {"reset", "500", "503", "truncate", "stall", "403", "404", "412"};
std::atomic<bool> g_stop{false};

constexpr size_t kMaxHead = 64 << 10;
constexpr uint64_t kMaxBody = 1ull << 30;
constexpr long kMaxLatencyMs = 10000;

void Log(const char* fmt, const std::string& a, const std::string& b = "") {
  if (g_cfg.verbose) std::fprintf(stderr, fmt, a.c_str(), b.c_str());
}

// ---------------------------------------------------------------------------------------- socket I/O

// A buffered reader over a socket.
struct Conn {
  int fd = -1;
  std::string buf;  // read but not yet consumed
  bool eof = false;

  bool Fill() {
    if (eof) return false;
    char tmp[64 << 10];
    for (;;) {
      ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof = true;
        return false;
      }
      buf.append(tmp, size_t(n));
      return true;
    }
  }
  // Reads through "\r\n\r\n"; false on EOF/oversize.
  bool ReadHead(std::string* head) {
    for (;;) {
      size_t p = buf.find("\r\n\r\n");
      if (p != std::string::npos) {
        *head = buf.substr(0, p + 4);
        buf.erase(0, p + 4);
        return true;
      }
      if (buf.size() > kMaxHead) return false;
      if (!Fill()) return false;
    }
  }
  bool ReadLine(std::string* line) {
    for (;;) {
      size_t p = buf.find("\r\n");
      if (p != std::string::npos) {
        *line = buf.substr(0, p + 2);
        buf.erase(0, p + 2);
        return true;
      }
      if (buf.size() > kMaxHead) return false;
      if (!Fill()) return false;
    }
  }
  bool ReadExact(uint64_t n, std::string* out) {
    while (buf.size() < n) {
      if (!Fill()) return false;
    }
    out->append(buf, 0, size_t(n));
    buf.erase(0, size_t(n));
    return true;
  }
};

bool SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}
bool SendAll(int fd, const std::string& s) { return SendAll(fd, s.data(), s.size()); }

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Value of a header in a raw head ("" when absent), case-insensitive.
std::string HeaderValue(const std::string& head, const std::string& name) {
  const std::string lname = Lower(name) + ":";
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    size_t start = pos + 2;
    size_t end = head.find("\r\n", start);
    if (end == std::string::npos) break;
    std::string line = head.substr(start, end - start);
    if (Lower(line.substr(0, lname.size())) == lname) {
      std::string v = line.substr(lname.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
      return v;
    }
    pos = end;
  }
  return "";
}

// Reads a body framed by `head` (Content-Length or chunked) from `c`, appending the raw bytes
// (chunk framing included) to `out`. `until_eof` when neither is present (responses only).
bool ReadBody(Conn& c, const std::string& head, bool until_eof, std::string* out) {
  if (Lower(HeaderValue(head, "Transfer-Encoding")).find("chunked") != std::string::npos) {
    for (int i = 0; i < 10000000; i++) {
      std::string line;
      if (!c.ReadLine(&line)) return false;
      out->append(line);
      const uint64_t n = std::strtoull(line.c_str(), nullptr, 16);
      if (n > kMaxBody) return false;
      if (n == 0) {  // trailers until an empty line
        for (int k = 0; k < 1000; k++) {
          if (!c.ReadLine(&line)) return false;
          out->append(line);
          if (line == "\r\n") return true;
        }
        return false;
      }
      if (!c.ReadExact(n + 2, out)) return false;
      if (out->size() > kMaxBody) return false;
    }
    return false;
  }
  std::string cl = HeaderValue(head, "Content-Length");
  if (!cl.empty()) {
    const uint64_t n = std::strtoull(cl.c_str(), nullptr, 10);
    if (n > kMaxBody) return false;
    return c.ReadExact(n, out);
  }
  if (until_eof) {
    while (c.Fill()) {
      if (c.buf.size() > kMaxBody) return false;
    }
    out->append(c.buf);
    c.buf.clear();
  }
  return true;
}

int ConnectUpstream() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(g_cfg.upstream_port));
  ::inet_pton(AF_INET, g_cfg.upstream_host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{120, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

void ResetAndClose(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

int PickFault(const std::string& request_line) {
  if (!g_cfg.match.empty() && request_line.find(g_cfg.match) == std::string::npos) return -1;
  std::lock_guard<std::mutex> l(g_rng_mu);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double x = u(g_rng);
  if (g_cfg.fail_rate <= 0 || x >= g_cfg.fail_rate || g_cfg.kinds.empty()) return -1;
  std::uniform_int_distribution<size_t> k(0, g_cfg.kinds.size() - 1);
  const std::string& kind = g_cfg.kinds[k(g_rng)];
  for (int i = 0; i < kKinds; i++) {
    if (kind == kKindNames[i]) return i;
  }
  return -1;
}

std::string ErrorAnswer(int status) {
  struct Answer {
    int status;
    const char *reason, *code, *message;
  };
  static const Answer kAnswers[] = {
      {500, "Internal Server Error", "InternalError", "We encountered an internal error. Please try again."},
      {503, "Slow Down", "SlowDown", "Please reduce your request rate."},
      {403, "Forbidden", "AccessDenied", "Access Denied"},
      {404, "Not Found", "NoSuchKey", "The specified key does not exist."},
      {412, "Precondition Failed", "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"},
  };
  const Answer* a = &kAnswers[0];
  for (const Answer& x : kAnswers) {
    if (x.status == status) a = &x;
  }
  std::string body = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>") + a->code +
                     "</Code><Message>" + a->message + "</Message><RequestId>fault-proxy</RequestId></Error>";
  return "HTTP/1.1 " + std::to_string(a->status) + " " + a->reason +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// Appends a request head to --log-heads (whole heads only: one writer at a time).
void LogHead(const std::string& head) {
  if (g_cfg.log_heads.empty()) return;
  std::lock_guard<std::mutex> l(g_log_mu);
  FILE* f = std::fopen(g_cfg.log_heads.c_str(), "ab");
  if (f == nullptr) return;
  std::fwrite(head.data(), 1, head.size(), f);
  std::fclose(f);
}

// ---------------------------------------------------------------------------------------- one connection

void Serve(int client_fd) {
  Conn client{client_fd};
  Conn up;
  timeval tv{300, 0};
  ::setsockopt(client_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int one = 1;
  ::setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto close_all = [&]() {
    if (up.fd >= 0) ::close(up.fd);
    up.fd = -1;
  };
  for (int req_no = 0; req_no < 100000 && !g_stop.load(); req_no++) {
    std::string head;
    if (!client.ReadHead(&head)) break;
    std::string body;
    if (!ReadBody(client, head, false, &body)) break;
    g_requests++;
    LogHead(head);
    if (g_cfg.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_cfg.latency_ms));
    const std::string request_line = head.substr(0, head.find("\r\n"));
    const int fault = PickFault(request_line);
    if (fault >= 0) g_faults[fault]++;
    if (fault >= 0) Log("fault %s: %s\n", kKindNames[fault], request_line);
    if (fault == 0) {  // reset
      close_all();
      ResetAndClose(client_fd);
      return;
    }
    if (fault == 1 || fault == 2 || fault >= 5) {
      SendAll(client_fd, ErrorAnswer(std::atoi(kKindNames[fault])));
      break;
    }
    if (fault == 4) {  // stall
      for (int i = 0; i < g_cfg.stall_seconds * 10 && !g_stop.load(); i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      break;
    }
    // Forward the request byte-exactly.
    if (up.fd < 0) {
      up = Conn{ConnectUpstream()};
      if (up.fd < 0) {
        SendAll(client_fd, ErrorAnswer(503));
        break;
      }
    }
    if (!SendAll(up.fd, head) || !SendAll(up.fd, body)) break;
    g_forwarded++;
    const bool is_head = request_line.rfind("HEAD ", 0) == 0;
    // Answer: interim 1xx heads are passed on, then the final one.
    std::string rhead;
    bool ok = false;
    for (int i = 0; i < 10; i++) {
      if (!up.ReadHead(&rhead)) break;
      if (rhead.rfind("HTTP/1.1 1", 0) == 0 || rhead.rfind("HTTP/1.0 1", 0) == 0) {
        if (fault != 3 && !SendAll(client_fd, rhead)) break;
        continue;
      }
      ok = true;
      break;
    }
    if (!ok) break;
    const int status = std::atoi(rhead.c_str() + std::min<size_t>(9, rhead.size()));
    const bool no_body = is_head || status == 204 || status == 304;
    const bool framed = !HeaderValue(rhead, "Content-Length").empty() ||
                        Lower(HeaderValue(rhead, "Transfer-Encoding")).find("chunked") != std::string::npos;
    std::string rbody;
    if (!no_body && !ReadBody(up, rhead, !framed, &rbody)) break;
    if (fault == 3) {  // truncate
      if (rbody.empty()) {
        SendAll(client_fd, rhead.substr(0, rhead.size() / 2));
      } else {
        SendAll(client_fd, rhead);
        SendAll(client_fd, rbody.substr(0, rbody.size() / 2));
      }
      break;
    }
    if (!SendAll(client_fd, rhead) || !SendAll(client_fd, rbody)) break;
    if (!framed && !no_body) break;  // body delimited by EOF
    if (Lower(HeaderValue(head, "Connection")) == "close" || Lower(HeaderValue(rhead, "Connection")) == "close") break;
    if (up.eof) close_all();
  }
  close_all();
  ::close(client_fd);
}

void PrintCounters() {
  std::string faults;
  for (int i = 0; i < kKinds; i++) {
    faults += std::string(i ? ", " : "") + kKindNames[i] + " " + std::to_string(g_faults[i].load());
  }
  std::fprintf(stderr, "fault_proxy: %llu requests, %llu forwarded; faults: %s\n",
               (unsigned long long)g_requests.load(), (unsigned long long)g_forwarded.load(), faults.c_str());
}

void OnSignal(int) {
  PrintCounters();
  std::_Exit(0);
}

int Usage(const char* msg) {
  std::fprintf(stderr, "fault_proxy: %s\n(see the comment at the top of test/tools/fault_proxy.cc)\n", msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fault_proxy: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--upstream") {
      std::string v = val();
      size_t colon = v.rfind(':');
      if (colon == std::string::npos) return Usage("--upstream must be HOST:PORT");
      g_cfg.upstream_host = v.substr(0, colon);
      if (g_cfg.upstream_host == "localhost") g_cfg.upstream_host = "127.0.0.1";
      g_cfg.upstream_port = std::atoi(v.c_str() + colon + 1);
    } else if (a == "--port") {
      g_cfg.port = std::atoi(val().c_str());
    } else if (a == "--port-file") {
      g_cfg.port_file = val();
    } else if (a == "--fail-rate") {
      g_cfg.fail_rate = std::atof(val().c_str());
    } else if (a == "--seed") {
      g_cfg.seed = std::strtoull(val().c_str(), nullptr, 10);
    } else if (a == "--kinds") {
      g_cfg.kinds.clear();
      std::string v = val();
      size_t start = 0;
      while (start <= v.size()) {
        size_t end = v.find(',', start);
        if (end == std::string::npos) end = v.size();
        std::string k = v.substr(start, end - start);
        if (std::find(std::begin(kKindNames), std::end(kKindNames), k) == std::end(kKindNames)) {
          return Usage(("unknown fault kind " + k).c_str());
        }
        g_cfg.kinds.push_back(k);
        start = end + 1;
      }
    } else if (a == "--stall-seconds") {
      g_cfg.stall_seconds = std::atoi(val().c_str());
    } else if (a == "--max-seconds") {
      g_cfg.max_seconds = std::atoi(val().c_str());
    } else if (a == "--log-heads") {
      g_cfg.log_heads = val();
    } else if (a == "--match") {
      g_cfg.match = val();
    } else if (a == "--latency-ms") {
      const std::string v = val();
      char* end = nullptr;
      errno = 0;
      const long ms = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || *end != '\0' || errno != 0 ||
          ms < 0 || ms > kMaxLatencyMs) {
        return Usage(("--latency-ms must be an integer from 0 to " + std::to_string(kMaxLatencyMs) + ", not '" + v + "'").c_str());
      }
      g_cfg.latency_ms = int(ms);
    } else if (a == "--verbose") {
      g_cfg.verbose = true;
    } else {
      return Usage(("unknown argument " + a).c_str());
    }
  }
  if (g_cfg.upstream_port <= 0) return Usage("--upstream HOST:PORT is required");
  if (g_cfg.upstream_host != "127.0.0.1") return Usage("--upstream must be on 127.0.0.1 (tests stay on this machine)");
  g_rng.seed(g_cfg.seed);

  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(g_cfg.port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(lfd, 128) != 0) {
    std::fprintf(stderr, "fault_proxy: cannot listen on 127.0.0.1:%d: %s\n", g_cfg.port, std::strerror(errno));
    return 1;
  }
  socklen_t alen = sizeof(a);
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &alen);
  const int port = ntohs(a.sin_port);
  if (!g_cfg.port_file.empty()) {
    const std::string tmp = g_cfg.port_file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) return Usage("cannot write --port-file");
    std::fprintf(f, "%d\n", port);
    std::fclose(f);
    std::rename(tmp.c_str(), g_cfg.port_file.c_str());
  }
  std::printf("%d\n", port);
  std::fflush(stdout);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  signal(SIGPIPE, SIG_IGN);

  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(std::max(1, g_cfg.max_seconds)));
    std::fprintf(stderr, "fault_proxy: --max-seconds reached, exiting\n");
    PrintCounters();
    std::_Exit(0);
  }).detach();

  for (;;) {
    int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      std::fprintf(stderr, "fault_proxy: accept: %s\n", std::strerror(errno));
      return 1;
    }
    std::thread(Serve, c).detach();
  }
}
