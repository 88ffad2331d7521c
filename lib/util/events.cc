#include "util/events.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>
#include <mutex>

namespace p2l {
namespace {

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", ts, int(ms % 1000));
}

class StdoutSink : public EventSink {
 public:
  explicit StdoutSink(bool on) : on_(on) {}
  bool enabled() const override { return on_; }
  void Emit(std::string_view event, nlohmann::json fields) override {
    if (!on_) return;
    nlohmann::json j = nlohmann::json::object();
    j["event"] = std::string(event);
    j["ts"] = NowRfc3339();
    if (fields.is_object()) {
      for (auto& [k, v] : fields.items()) j[k] = v;
    }
    // Invalid UTF-8 in a message (e.g. an odd file name) is replaced, never thrown.
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard<std::mutex> g(mu_);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }

 private:
  bool on_;
  std::mutex mu_;
};

}  // namespace

EventSink& StdoutEvents(bool enabled) {
  static StdoutSink on(true), off(false);
  return enabled ? static_cast<EventSink&>(on) : static_cast<EventSink&>(off);
}

EventSink& NullEvents() { return StdoutEvents(false); }

}  // namespace p2l
