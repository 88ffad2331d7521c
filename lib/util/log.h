// Human logs on stderr: "<UTC timestamp> <LEVEL> [shard NNCC job N] message" (the bracket only
// when there is a context). Thread-safe, one line per call. Machine-readable events go to stdout
// through events.h, never through here.
//
// Context: SetLogShard() labels every line of the process (one import = one shard);
// ScopedLogContext adds a label (e.g. "job 12") to the lines of the current thread while alive.
// Status line: a progress display (progress.h) may keep one unterminated line at the bottom of a
// terminal; LogLine erases it, writes the log line and draws it again.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "util/status.h"

namespace p2l {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
Result<LogLevel> ParseLogLevel(std::string_view s);   // debug|info|warn|error|off
void LogLine(LogLevel level, std::string_view msg);

// "shard 0104" in every line from now on ("" = none).
void SetLogShard(std::string_view shard_index);

class ScopedLogContext {
 public:
  explicit ScopedLogContext(std::string label);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  std::string saved_;
};

// The "[...]" context of log lines written by this thread now ("" when none), e.g. "shard 0104 job 3".
std::string LogContext();

// Replaces the status line ("\r<text>\x1b[K"); "" removes it; "<text>\n" draws it and leaves it as a line.
void SetLogStatusLine(std::string_view text);

template <typename... Args>
void LogDebug(fmt::format_string<Args...> f, Args&&... a) {
  if (GetLogLevel() <= LogLevel::kDebug) LogLine(LogLevel::kDebug, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... a) {
  if (GetLogLevel() <= LogLevel::kInfo) LogLine(LogLevel::kInfo, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void LogWarn(fmt::format_string<Args...> f, Args&&... a) {
  if (GetLogLevel() <= LogLevel::kWarn) LogLine(LogLevel::kWarn, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void LogError(fmt::format_string<Args...> f, Args&&... a) {
  if (GetLogLevel() <= LogLevel::kError) LogLine(LogLevel::kError, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace p2l
