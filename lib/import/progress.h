// Import progress, computed from the import's event stream (events.h) rather than from inside the
// importer: ProgressSink decorates the EventSink given to RunImport, forwards every event
// unchanged and follows "started", "plan", "job_done", "waiting_for_pgdata" and "done". After
// "plan", every "job_done" and "done" it emits a "progress" event (to the wrapped sink, i.e.
// stdout with --json) and shows progress on stderr:
//   kLine: one live status line, redrawn as events arrive and every `line_interval` (a terminal);
//   kLog:  an INFO log line every `log_interval` seconds (logs, CI, cron);
//   kNone: nothing on stderr (the JSON "progress" events are still emitted).
// Progress never goes backwards and is 100 % after "done". Byte and page counts are exact when
// the importer puts "estimated_bytes"/"pages" in its job_done events ("pages" in "plan");
// otherwise the fraction is jobs done / jobs, and bytes are the source bytes read.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "util/events.h"

namespace p2l {

struct ProgressSnapshot {
  std::string shard;            // "0104"; "" when unsharded or unknown
  bool planned = false;         // a "plan" (or "done") event was seen
  bool waiting = false;         // waiting for the status/pgdata marker
  bool finished = false;        // "done" seen
  uint64_t jobs_done = 0, jobs_total = 0, jobs_skipped = 0;
  uint64_t bytes_done = 0, bytes_total = 0;   // estimated source bytes (see above)
  uint64_t pages_done = 0, pages_total = 0;   // pages_total 0 = unknown
  double percent = 0;           // 0..100, monotonic
  double elapsed_seconds = 0;   // since the sink was created
  double rate_bytes_per_second = 0;   // bytes done by this run / time since "plan"
  double eta_seconds = -1;      // -1 = unknown
};

// "[shard 0104] 45.2% | jobs 12/40 | 1.2 GiB/2.7 GiB | pages 3456/10000 | 85.3 MiB/s | ETA 0:00:18"
std::string FormatProgressLine(const ProgressSnapshot& s);
// The fields of a "progress" event.
nlohmann::json ProgressJson(const ProgressSnapshot& s);
// "1.5 KiB", "12 B"
std::string HumanBytes(uint64_t n);

class ProgressSink : public EventSink {
 public:
  enum class Display { kNone, kLine, kLog };
  using Clock = std::chrono::steady_clock;

  ProgressSink(EventSink& next, Display display, double log_interval_seconds = 10,
               double line_interval_seconds = 0.5);
  ~ProgressSink() override;   // Stop()
  ProgressSink(const ProgressSink&) = delete;
  ProgressSink& operator=(const ProgressSink&) = delete;

  // Always true: progress follows the events even when the wrapped sink drops them.
  bool enabled() const override { return true; }
  void Emit(std::string_view event, nlohmann::json fields = nlohmann::json::object()) override;

  // Stops the timer and removes the live line (idempotent). Call before printing the final result.
  void Stop();
  ProgressSnapshot Snapshot();

 private:
  void Update(std::string_view event, const nlohmann::json& f);   // mu_ held
  ProgressSnapshot SnapshotLocked();                              // mu_ held
  void Show(const ProgressSnapshot& s, bool force_log);           // mu_ held
  void Ticker();

  EventSink& next_;
  const Display display_;
  const double log_interval_, line_interval_;
  const Clock::time_point t0_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread ticker_;

  std::string shard_;
  bool planned_ = false, waiting_ = false, finished_ = false, exact_ = false;
  uint64_t jobs_done_ = 0, jobs_total_ = 0, jobs_skipped_ = 0;
  uint64_t bytes_done_ = 0, bytes_total_ = 0, bytes_skipped_ = 0;
  uint64_t pages_done_ = 0, pages_total_ = 0;
  double percent_ = 0, percent_skipped_ = 0;
  Clock::time_point plan_time_{}, last_log_{};
};

}  // namespace p2l
