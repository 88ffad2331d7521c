// A tiny scripted HTTP/1.1 server on 127.0.0.1 (in the test process) for the notification tests
// (import_notify_test.cc, import_completion_test.cc). Each connection carries one request; the
// k-th request gets the k-th scripted action (the last one repeats):
//   Answer(status, extra headers)  a complete answer, then close
//   Reset()                        close the connection with RST, no answer
//   Stall()                        read the request, answer nothing, hold the connection open
// Every request's head and body are recorded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "util/events.h"

namespace p2l::testing {

class NotifyTestServer {
 public:
  struct Action {
    enum Kind { kAnswer, kReset, kStall } kind = kAnswer;
    int status = 200;
    std::string extra_headers;  // "Name: value\r\n..."
  };
  static Action Answer(int status, std::string extra = "") { return {Action::kAnswer, status, std::move(extra)}; }
  static Action Reset() { return {Action::kReset, 0, ""}; }
  static Action Stall() { return {Action::kStall, 0, ""}; }

  struct Received {
    std::string head;  // request line + header lines
    std::string body;
  };

  explicit NotifyTestServer(std::vector<Action> script) : script_(std::move(script)) {
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
  ~NotifyTestServer() {
    stop_ = true;
    ::shutdown(lfd_, SHUT_RDWR);
    ::close(lfd_);
    thread_.join();
    for (int fd : held_) ::close(fd);
  }
  NotifyTestServer(const NotifyTestServer&) = delete;
  NotifyTestServer& operator=(const NotifyTestServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/notify") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_.load(); }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }

 private:
  void Run() {
    size_t next = 0;
    while (!stop_) {
      pollfd p{lfd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(lfd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[65536];
      size_t head_end = std::string::npos;
      while (head_end == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        req.append(buf, size_t(n));
        head_end = req.find("\r\n\r\n");
      }
      size_t want = 0;
      if (head_end != std::string::npos) {
        for (const char* name : {"Content-Length: ", "content-length: "}) {
          size_t cl = req.find(name);
          if (cl != std::string::npos && cl < head_end) want = std::strtoull(req.c_str() + cl + 16, nullptr, 10);
        }
      }
      while (head_end != std::string::npos && req.size() < head_end + 4 + want) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        req.append(buf, size_t(n));
      }
      if (head_end != std::string::npos) {
        std::lock_guard<std::mutex> l(mu_);
        received_.push_back({req.substr(0, head_end), req.substr(head_end + 4)});
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
      const std::string body = act.status == 204 || act.status == 304 ? "" : "{}";
      std::string ans = "HTTP/1.1 " + std::to_string(act.status) + " X\r\n";
      if (act.extra_headers.find("Content-Length") == std::string::npos) {
        ans += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      }
      ans += "Connection: close\r\n" + act.extra_headers + "\r\n" + body;
      size_t off = 0;
      while (off < ans.size()) {
        ssize_t n = ::send(c, ans.data() + off, ans.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += size_t(n);
      }
      ::close(c);
    }
  }

  std::vector<Action> script_;
  int lfd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<Received> received_;
  std::vector<int> held_;  // stalled connections (server thread only until join)
};

// Records emitted events (name + fields).
class CapturingEvents : public EventSink {
 public:
  bool enabled() const override { return true; }
  void Emit(std::string_view event, nlohmann::json fields) override {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back({std::string(event), std::move(fields)});
  }
  std::vector<std::pair<std::string, nlohmann::json>> events() {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  std::vector<nlohmann::json> Named(std::string_view name) {
    std::vector<nlohmann::json> out;
    for (auto& [n, f] : events()) {
      if (n == name) out.push_back(f);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, nlohmann::json>> events_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
inline int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace p2l::testing
