// Human logs on stderr: "<UTC timestamp> <LEVEL> [context] message". Thread-safe, one line per
// call. Machine-readable events go to stdout through events.h, never through here.
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
