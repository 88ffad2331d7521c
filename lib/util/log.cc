#include "util/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace p2l {

static std::atomic<int> g_level{int(LogLevel::kInfo)};
static std::mutex g_mu;                 // guards stderr writes, g_shard and g_status
static std::string g_shard;             // "shard 0104" or ""
static std::string g_status;            // the status line currently drawn, or ""
static thread_local std::string t_context;

void SetLogLevel(LogLevel level) { g_level = int(level); }
LogLevel GetLogLevel() { return LogLevel(g_level.load()); }

Result<LogLevel> ParseLogLevel(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn" || s == "warning") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  if (s == "off") return LogLevel::kOff;
  return Status::Usage(fmt::format("--log-level \"{}\": expected debug, info, warn, error or off", s));
}

void SetLogShard(std::string_view shard_index) {
  std::lock_guard<std::mutex> g(g_mu);
  g_shard = shard_index.empty() ? std::string() : "shard " + std::string(shard_index);
}

ScopedLogContext::ScopedLogContext(std::string label) : saved_(std::move(t_context)) {
  t_context = saved_.empty() ? std::move(label) : saved_ + " " + label;
}
ScopedLogContext::~ScopedLogContext() { t_context = std::move(saved_); }

static std::string ContextLocked() {
  if (g_shard.empty()) return t_context;
  return t_context.empty() ? g_shard : g_shard + " " + t_context;
}

std::string LogContext() {
  std::lock_guard<std::mutex> g(g_mu);
  return ContextLocked();
}

void SetLogStatusLine(std::string_view text) {
  std::lock_guard<std::mutex> g(g_mu);
  if (text.empty() && g_status.empty()) return;
  const bool keep = !text.empty() && text.back() == '\n';   // the final line stays as a line
  if (keep) text.remove_suffix(1);
  std::string out = "\r" + std::string(text) + "\x1b[K" + (keep ? "\n" : "");
  g_status = keep ? std::string() : std::string(text);
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

void LogLine(LogLevel level, std::string_view msg) {
  static const char* kNames[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  if (level >= LogLevel::kOff) return;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard<std::mutex> g(g_mu);
  const std::string ctx = ContextLocked();
  std::string line = fmt::format("{}.{:03d}Z {} {}{}\n", ts, int(ms % 1000), kNames[int(level)],
                                 ctx.empty() ? std::string() : "[" + ctx + "] ", msg);
  if (!g_status.empty()) line = "\r\x1b[K" + line + g_status;   // erase, log, redraw
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace p2l
