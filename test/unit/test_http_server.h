// A tiny scripted HTTP/1.1 server on 127.0.0.1 (in the test process) for tests of HTTP clients
// (storage_http_test.cc, import_notify_test.cc, import_completion_test.cc). Each connection
// carries one request; the k-th request gets the k-th scripted action (the last one repeats):
//   a raw answer (any bytes: a complete answer, a truncated one, ...), sent, then the connection
//   is closed
//   Reset()  close the connection with RST, no answer
//   Stall()  read the request, answer nothing, hold the connection open
// Every request's head and body are recorded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

namespace p2l::testing {

class ScriptedHttpServer {
 public:
  struct Action {
    enum Kind { kAnswer, kReset, kStall } kind = kAnswer;
    std::string raw;  // kAnswer: the bytes sent back
    Action(std::string answer) : raw(std::move(answer)) {}  // NOLINT: implicit on purpose
    Action(const char* answer) : raw(answer) {}              // NOLINT
    explicit Action(Kind k) : kind(k) {}
  };
  static Action Reset() { return Action(Action::kReset); }
  static Action Stall() { return Action(Action::kStall); }

  struct Received {
    std::string head;  // request line + header lines
    std::string body;
  };

  // `default_path`: the path url() uses when given none.
  explicit ScriptedHttpServer(std::vector<Action> script, std::string default_path = "/x")
      : script_(std::move(script)), default_path_(std::move(default_path)) {
    REQUIRE(!script_.empty());
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(lfd_, 16) == 0);
    socklen_t len = sizeof(a);
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ScriptedHttpServer() {
    stop_ = true;
    ::shutdown(lfd_, SHUT_RDWR);
    ::close(lfd_);
    thread_.join();
    for (int fd : held_) ::close(fd);
  }
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return url(default_path_); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int requests() const { return requests_.load(); }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }
  std::vector<std::string> bodies() {
    std::vector<std::string> out;
    for (const Received& r : received()) out.push_back(r.body);
    return out;
  }

 private:
  // Reads one request (head, then Content-Length bytes of body) from `c`; false without a head.
  static bool ReadRequest(int c, Received* r) {
    std::string req;
    char buf[65536];
    size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      req.append(buf, size_t(n));
      head_end = req.find("\r\n\r\n");
    }
    size_t want = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      size_t cl = req.find(name);
      if (cl != std::string::npos && cl < head_end) want = std::strtoull(req.c_str() + cl + 16, nullptr, 10);
    }
    while (req.size() < head_end + 4 + want) {
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) break;
      req.append(buf, size_t(n));
    }
    *r = {req.substr(0, head_end), req.substr(head_end + 4)};
    return true;
  }

  void Run() {
    size_t next = 0;
    while (!stop_) {
      pollfd p{lfd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(lfd_, nullptr, nullptr);
      if (c < 0) return;
      Received r;
      if (ReadRequest(c, &r)) {
        std::lock_guard<std::mutex> l(mu_);
        received_.push_back(std::move(r));
      }
      requests_++;
      const Action& act = script_[std::min(next, script_.size() - 1)];
      next++;
      if (act.kind == Action::kStall) {
        held_.push_back(c);
        continue;
      }
      if (act.kind == Action::kReset) {
        linger lg{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        ::close(c);
        continue;
      }
      size_t off = 0;
      while (off < act.raw.size()) {
        ssize_t n = ::send(c, act.raw.data() + off, act.raw.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += size_t(n);
      }
      ::close(c);
    }
  }

  std::vector<Action> script_;
  std::string default_path_;
  int lfd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<Received> received_;
  std::vector<int> held_;  // stalled connections (server thread only until join)
};

}  // namespace p2l::testing
