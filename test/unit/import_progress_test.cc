// Tests for lib/import/progress.{h,cc}: progress derived from the import's event stream.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "import/progress.h"
#include "util/log.h"

namespace p2l {

namespace {

class RecordingSink : public EventSink {
 public:
  bool enabled() const override { return false; }   // like stdout without --json
  void Emit(std::string_view event, nlohmann::json fields) override {
    names.emplace_back(event);
    all.push_back(std::move(fields));
  }
  std::vector<std::string> names;
  std::vector<nlohmann::json> all;
};

std::vector<nlohmann::json> ProgressEvents(const RecordingSink& r) {
  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < r.names.size(); i++) {
    if (r.names[i] == "progress") out.push_back(r.all[i]);
  }
  return out;
}

}  // namespace

TEST_CASE("ProgressSink: job counts, monotonic percent, 100 % right before done") {
  RecordingSink rec;
  ProgressSink p(rec, ProgressSink::Display::kNone);
  CHECK(p.enabled());
  p.Emit("started", {{"shard", "0104"}});
  p.Emit("plan", {{"jobs", 4}, {"bytes", 4000}});
  p.Emit("job_done", {{"index", 1}, {"skipped", true}, {"bytes", 10}});
  p.Emit("job_done", {{"index", 2}, {"skipped", false}, {"source_bytes", 900}});
  p.Emit("checkpoint", {{"completed", 2}});
  p.Emit("job_done", {{"index", 3}, {"skipped", false}, {"source_bytes", 5000}});
  p.Emit("job_done", {{"index", 4}, {"skipped", false}, {"source_bytes", 10}});
  ProgressSnapshot before = p.Snapshot();
  CHECK(before.percent < 100);
  p.Emit("done", {{"jobs", 4}});
  const std::vector<std::string> want = {"started", "plan", "progress", "job_done", "progress", "job_done", "progress",
                                         "checkpoint", "job_done", "progress", "job_done", "progress", "progress",
                                         "done"};
  CHECK(rec.names == want);
  auto prog = ProgressEvents(rec);
  REQUIRE(prog.size() == 6);
  double last = -1;
  for (const auto& e : prog) {
    CHECK(e["percent"].get<double>() >= last);
    last = e["percent"].get<double>();
    CHECK(e["shard"] == "0104");
  }
  CHECK(prog[0]["percent"] == 0);
  CHECK(prog[1]["percent"] == 25);   // job-based without estimated_bytes
  CHECK(prog[1]["jobs_skipped"] == 1);
  CHECK(prog.back()["percent"] == 100);
  CHECK(prog.back()["jobs_done"] == 4);
  CHECK(prog.back()["eta_seconds"] == 0);
}

TEST_CASE("ProgressSink: exact bytes and pages when job_done carries estimates") {
  RecordingSink rec;
  ProgressSink p(rec, ProgressSink::Display::kNone);
  p.Emit("plan", {{"jobs", 2}, {"bytes", 1000}, {"pages", 10}});
  p.Emit("job_done", {{"estimated_bytes", 250}, {"pages", 3}, {"skipped", false}});
  ProgressSnapshot s = p.Snapshot();
  CHECK(s.percent == doctest::Approx(25));
  CHECK(s.bytes_done == 250);
  CHECK(s.pages_done == 3);
  CHECK(s.pages_total == 10);
  p.Emit("job_done", {{"estimated_bytes", 750}, {"pages", 7}, {"skipped", false}});
  CHECK(p.Snapshot().percent == doctest::Approx(99.9));   // 100 % only with "done"
  p.Emit("done", nlohmann::json::object());
  s = p.Snapshot();
  CHECK(s.percent == 100);
  CHECK(s.bytes_done == 1000);
  const std::string line = FormatProgressLine(s);
  CHECK(line.find("100.0% | jobs 2/2") != std::string::npos);
  CHECK(line.find("pages 10/10") != std::string::npos);
}

TEST_CASE("ProgressSink: an already complete import goes straight to 100 %") {
  RecordingSink rec;
  ProgressSink p(rec, ProgressSink::Display::kNone);
  p.Emit("started", {{"shard", "0000"}});
  p.Emit("done", {{"jobs", 7}, {"already_complete", true}});
  auto prog = ProgressEvents(rec);
  REQUIRE(prog.size() == 1);
  CHECK(prog[0]["percent"] == 100);
  CHECK(prog[0]["jobs_done"] == 7);
  CHECK(prog[0]["shard"] == "");   // unsharded
}

TEST_CASE("FormatProgressLine and HumanBytes") {
  ProgressSnapshot s;
  s.shard = "0204";
  CHECK(FormatProgressLine(s).rfind("[shard 0204] planning", 0) == 0);
  s.waiting = true;
  CHECK(FormatProgressLine(s).find("waiting for the PGDATA") != std::string::npos);
  s.planned = true;
  s.percent = 45.3;
  s.jobs_done = 12;
  s.jobs_total = 40;
  s.bytes_done = 3 << 20;
  s.bytes_total = 10 << 20;
  s.eta_seconds = 3725;
  CHECK(FormatProgressLine(s) == "[shard 0204]  45.3% | jobs 12/40 | 3.0 MiB/10.0 MiB | 0 B/s | ETA 1:02:05");
  CHECK(HumanBytes(12) == "12 B");
  CHECK(HumanBytes(1536) == "1.5 KiB");
}

TEST_CASE("log context: shard and scoped labels") {
  SetLogShard("0104");
  CHECK(LogContext() == "shard 0104");
  {
    ScopedLogContext job("job 3");
    CHECK(LogContext() == "shard 0104 job 3");
  }
  CHECK(LogContext() == "shard 0104");
  SetLogShard("");
  CHECK(LogContext().empty());
}

}  // namespace p2l
