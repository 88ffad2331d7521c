// Machine-readable events (--json): one compact JSON object per line on stdout, each with
// "event" (name), "ts" (UTC RFC 3339 with milliseconds) and event-specific fields. The schema is
// documented in man/pgdata2layers.1 (JSON OUTPUT). Without --json events are dropped.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace p2l {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual bool enabled() const = 0;
  // Adds "event" and "ts" and writes the line (thread-safe, flushed).
  virtual void Emit(std::string_view event, nlohmann::json fields = nlohmann::json::object()) = 0;
};

// Writes JSON lines to stdout when `enabled`, otherwise drops everything.
EventSink& StdoutEvents(bool enabled);
// Drops everything (library callers, tests).
EventSink& NullEvents();

}  // namespace p2l
