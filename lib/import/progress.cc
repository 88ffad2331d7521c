#include "import/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "util/log.h"

namespace p2l {

namespace {

// A non-negative integer field (unsigned or signed in the JSON model), else `dflt`.
bool Has(const nlohmann::json& f, const char* name) {
  auto it = f.find(name);
  return it != f.end() && (it->is_number_unsigned() || (it->is_number_integer() && it->get<int64_t>() >= 0));
}
uint64_t U64(const nlohmann::json& f, const char* name, uint64_t dflt = 0) {
  if (!Has(f, name)) return dflt;
  const auto& v = f.at(name);
  return v.is_number_unsigned() ? v.get<uint64_t>() : uint64_t(v.get<int64_t>());
}

std::string Duration(double s) {
  const uint64_t t = uint64_t(std::max(0.0, s));
  return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
}

}  // namespace

std::string HumanBytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = double(n) / 1024;
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    u++;
  }
  return fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string FormatProgressLine(const ProgressSnapshot& s) {
  std::string line = s.shard.empty() ? std::string() : fmt::format("[shard {}] ", s.shard);
  if (s.waiting && !s.planned) {
    return line + fmt::format("waiting for the PGDATA (status/pgdata marker) | {}", Duration(s.elapsed_seconds));
  }
  if (!s.planned) return line + fmt::format("planning | {}", Duration(s.elapsed_seconds));
  line += fmt::format("{:5.1f}% | jobs {}/{} | {}/{}", s.percent, s.jobs_done, s.jobs_total, HumanBytes(s.bytes_done),
                      HumanBytes(s.bytes_total));
  if (s.pages_total > 0) line += fmt::format(" | pages {}/{}", s.pages_done, s.pages_total);
  line += fmt::format(" | {}/s", HumanBytes(uint64_t(s.rate_bytes_per_second)));
  if (s.finished) return line + fmt::format(" | done in {}", Duration(s.elapsed_seconds));
  return line + (s.eta_seconds >= 0 ? " | ETA " + Duration(s.eta_seconds) : std::string(" | ETA ?"));
}

nlohmann::json ProgressJson(const ProgressSnapshot& s) {
  nlohmann::json j = {{"shard", s.shard},
                      {"percent", std::round(s.percent * 100) / 100},
                      {"jobs_done", s.jobs_done},
                      {"jobs_total", s.jobs_total},
                      {"jobs_skipped", s.jobs_skipped},
                      {"bytes_done", s.bytes_done},
                      {"bytes_total", s.bytes_total},
                      {"pages_done", s.pages_done},
                      {"pages_total", s.pages_total},
                      {"elapsed_seconds", std::round(s.elapsed_seconds * 1000) / 1000},
                      {"rate_bytes_per_second", uint64_t(s.rate_bytes_per_second)}};
  j["eta_seconds"] = s.eta_seconds >= 0 ? nlohmann::json(std::round(s.eta_seconds * 10) / 10) : nlohmann::json(nullptr);
  return j;
}

ProgressSink::ProgressSink(EventSink& next, Display display, double log_interval_seconds,
                           double line_interval_seconds)
    : next_(next),
      display_(display),
      log_interval_(std::max(0.1, log_interval_seconds)),
      line_interval_(std::max(0.05, line_interval_seconds)),
      t0_(Clock::now()),
      last_log_(t0_) {
  if (display_ != Display::kNone) ticker_ = std::thread([this] { Ticker(); });
}

ProgressSink::~ProgressSink() { Stop(); }

void ProgressSink::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (display_ == Display::kLine) {
    std::lock_guard<std::mutex> g(mu_);
    if (finished_) {
      SetLogStatusLine(FormatProgressLine(SnapshotLocked()) + "\n");   // the final line stays
    } else {
      SetLogStatusLine("");
    }
  }
}

void ProgressSink::Emit(std::string_view event, nlohmann::json fields) {
  std::lock_guard<std::mutex> g(mu_);
  const bool done = event == "done";
  // "progress" follows the event it reflects, except that the final one (100 %) precedes "done".
  if (!done) next_.Emit(event, fields);
  if (fields.is_object()) Update(event, fields);
  if (event == "plan" || event == "job_done" || done || event == "waiting_for_pgdata") {
    ProgressSnapshot s = SnapshotLocked();
    if (event != "waiting_for_pgdata") next_.Emit("progress", ProgressJson(s));
    Show(s, done || event == "plan");
  }
  if (done) next_.Emit(event, std::move(fields));
}

void ProgressSink::Update(std::string_view event, const nlohmann::json& f) {
  if (event == "started") {
    auto it = f.find("shard");
    if (it != f.end() && it->is_string() && *it != "0000") shard_ = it->get<std::string>();
  } else if (event == "waiting_for_pgdata") {
    waiting_ = true;
  } else if (event == "plan") {
    planned_ = true;
    waiting_ = false;
    plan_time_ = Clock::now();
    jobs_total_ = U64(f, "jobs");
    bytes_total_ = U64(f, "bytes");
    pages_total_ = U64(f, "pages");
  } else if (event == "job_done") {
    const bool skipped = f.value("skipped", false);
    exact_ = Has(f, "estimated_bytes");
    const uint64_t bytes = exact_ ? U64(f, "estimated_bytes") : U64(f, "source_bytes");
    jobs_done_++;
    bytes_done_ += bytes;
    pages_done_ += U64(f, "pages");
    if (skipped) {
      jobs_skipped_++;
      bytes_skipped_ += bytes;
    }
    double frac = 0;
    if (exact_ && bytes_total_ > 0) {
      frac = double(std::min(bytes_done_, bytes_total_)) / double(bytes_total_);
    } else if (jobs_total_ > 0) {
      frac = double(std::min(jobs_done_, jobs_total_)) / double(jobs_total_);
    }
    // Never 100 % before "done" (the final index is still to be written), never backwards.
    percent_ = std::max(percent_, std::min(99.9, frac * 100));
    if (skipped) percent_skipped_ = percent_;
  } else if (event == "done") {
    finished_ = true;
    waiting_ = false;
    if (!planned_) {   // already complete: no plan event
      planned_ = true;
      jobs_total_ = U64(f, "jobs");
      jobs_skipped_ = jobs_total_;
    }
    jobs_done_ = std::max(jobs_done_, jobs_total_);
    // Exact mode: every estimated byte is done. Otherwise bytes_done counts the bytes actually
    // read (a shard reads only its own pages), which becomes the total.
    if (exact_ || bytes_total_ == 0) {
      bytes_done_ = std::max(bytes_done_, bytes_total_);
    } else {
      bytes_total_ = bytes_done_;
    }
    if (pages_total_ > 0) pages_done_ = std::max(pages_done_, pages_total_);
    percent_ = 100;
  }
}

ProgressSnapshot ProgressSink::SnapshotLocked() {
  ProgressSnapshot s;
  const auto now = Clock::now();
  s.shard = shard_;
  s.planned = planned_;
  s.waiting = waiting_;
  s.finished = finished_;
  s.jobs_done = jobs_done_;
  s.jobs_total = jobs_total_;
  s.jobs_skipped = jobs_skipped_;
  s.bytes_done = bytes_done_;
  s.bytes_total = bytes_total_;
  s.pages_done = pages_done_;
  s.pages_total = pages_total_;
  s.percent = percent_;
  s.elapsed_seconds = std::chrono::duration<double>(now - t0_).count();
  if (planned_) {
    const double run = std::chrono::duration<double>(now - plan_time_).count();
    if (run > 0.001) s.rate_bytes_per_second = double(bytes_done_ - bytes_skipped_) / run;
    const double gained = percent_ - percent_skipped_;
    if (!finished_ && gained > 0.01 && run > 0.001) s.eta_seconds = run * (100 - percent_) / gained;
    if (finished_) s.eta_seconds = 0;
  }
  return s;
}

ProgressSnapshot ProgressSink::Snapshot() {
  std::lock_guard<std::mutex> g(mu_);
  return SnapshotLocked();
}

void ProgressSink::Show(const ProgressSnapshot& s, bool force_log) {
  if (stop_) return;
  switch (display_) {
    case Display::kNone:
      return;
    case Display::kLine:
      SetLogStatusLine(FormatProgressLine(s));
      return;
    case Display::kLog: {
      const auto now = Clock::now();
      if (!force_log && std::chrono::duration<double>(now - last_log_).count() < log_interval_) return;
      last_log_ = now;
      ProgressSnapshot unlabelled = s;   // the log line's context already names the shard
      unlabelled.shard.clear();
      LogInfo("progress: {}", FormatProgressLine(unlabelled));
      return;
    }
  }
}

void ProgressSink::Ticker() {
  std::unique_lock<std::mutex> lk(mu_);
  const double every = display_ == Display::kLine ? line_interval_ : std::min(log_interval_, 1.0);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::duration<double>(every));
    if (stop_) break;
    if (finished_) continue;
    Show(SnapshotLocked(), false);
  }
}

}  // namespace p2l
