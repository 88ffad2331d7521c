// Helpers of the notification tests (import_notify_test.cc, import_completion_test.cc): a scripted
// notification endpoint, an event recorder and a closed port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_http_server.h"
#include "util/events.h"

namespace p2l::testing {

// The notification endpoint: answers carry a "{}" body (none for 204/304) and url() is /notify.
class NotifyTestServer : public ScriptedHttpServer {
 public:
  // A complete answer with `status` and extra header lines ("Name: value\r\n...").
  static Action Answer(int status, const std::string& extra = "") {
    const std::string body = status == 204 || status == 304 ? "" : "{}";
    std::string ans = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
    if (extra.find("Content-Length") == std::string::npos) {
      ans += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    return ans + "Connection: close\r\n" + extra + "\r\n" + body;
  }
  explicit NotifyTestServer(std::vector<Action> script) : ScriptedHttpServer(std::move(script), "/notify") {}
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
