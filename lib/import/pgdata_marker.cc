#include "import/pgdata_marker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "util/log.h"

namespace p2l {

Result<bool> ParsePgdataMarker(std::string_view json, std::string_view what) {
  if (json.size() > kPgdataMarkerMaxSize) {
    return Status::InvalidInput(fmt::format("{}: {} bytes is larger than the {} bytes allowed for the marker",
                                            what, json.size(), kPgdataMarkerMaxSize));
  }
  int done_keys = 0;
  nlohmann::json j;
  try {
    // The callback counts top-level "done" keys (nlohmann keeps the last of duplicates silently).
    j = nlohmann::json::parse(
        json,
        [&done_keys](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
          if (ev == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string() &&
              parsed.get_ref<const std::string&>() == "done") {
            done_keys++;
          }
          return true;
        },
        /*allow_exceptions=*/true);
  } catch (const std::exception& e) {
    return Status::InvalidInput(fmt::format("{}: not valid JSON: {}", what, e.what()));
  }
  if (!j.is_object()) {
    return Status::InvalidInput(fmt::format("{}: expected a JSON object like {{\"done\": true}}, got {}", what,
                                            j.type_name()));
  }
  if (done_keys > 1) return Status::InvalidInput(fmt::format("{}: member \"done\" appears {} times", what, done_keys));
  auto it = j.find("done");
  if (it == j.end()) return Status::InvalidInput(fmt::format("{}: member \"done\" is missing", what));
  if (!it->is_boolean()) {
    return Status::InvalidInput(fmt::format("{}: member \"done\": expected true or false, got {}", what,
                                            it->type_name()));
  }
  return it->get<bool>();
}

Result<PgdataMarkerState> ReadPgdataMarker(Storage& source) {
  Result<std::string> body = source.ReadAll(kPgdataMarkerName, kPgdataMarkerMaxSize);
  if (!body.ok()) {
    if (body.status().IsNotFound()) return PgdataMarkerState::kAbsent;
    return body.status();
  }
  P2L_ASSIGN_OR_RETURN(bool done, ParsePgdataMarker(*body, source.Describe(kPgdataMarkerName)));
  return done ? PgdataMarkerState::kDone : PgdataMarkerState::kNotDone;
}

Result<int64_t> ParseWaitTimeout(std::string_view text) {
  std::string_view s = text;
  if (s.empty()) return Status::Usage("--wait-for-pgdata: empty timeout");
  int64_t mult = 1;
  switch (s.back()) {
    case 's': mult = 1; s.remove_suffix(1); break;
    case 'm': mult = 60; s.remove_suffix(1); break;
    case 'h': mult = 3600; s.remove_suffix(1); break;
    case 'd': mult = 86400; s.remove_suffix(1); break;
    default: break;
  }
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::Usage(fmt::format(
        "--wait-for-pgdata: \"{}\" is not a duration (a number followed by s, m, h or d, e.g. 30s, 10m, 2h)", text));
  }
  int64_t v = std::stoll(std::string(s)) * mult;
  if (v <= 0 || v > 30 * 86400) {
    return Status::Usage(fmt::format("--wait-for-pgdata: \"{}\" must be between 1s and 30d", text));
  }
  return v;
}

Status WaitForPgdata(Storage& source, const PgdataWaitOptions& opts, EventSink& events) {
  auto now = opts.now ? opts.now : [] { return std::chrono::steady_clock::now(); };
  auto sleep = opts.sleep ? opts.sleep : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  const auto deadline = now() + std::chrono::seconds(opts.timeout_seconds);
  int64_t backoff = std::max<int64_t>(1, opts.initial_backoff_ms);
  const std::string where = source.Describe(kPgdataMarkerName);
  for (int poll = 1;; poll++) {
    P2L_ASSIGN_OR_RETURN(PgdataMarkerState st, ReadPgdataMarker(source));
    if (st == PgdataMarkerState::kDone) {
      if (poll > 1) LogInfo("{} says done; continuing", where);
      return Status::OK();
    }
    const char* state = st == PgdataMarkerState::kAbsent ? "absent" : "not done";
    const auto t = now();
    if (t >= deadline) {
      return Status::Timeout(fmt::format("{}: still {} after waiting {} s (--wait-for-pgdata); the producer of "
                                         "the PGDATA has not finished",
                                         where, state, opts.timeout_seconds));
    }
    const int64_t left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - t).count();
    const int64_t wait_ms = std::min(backoff, std::max<int64_t>(1, left_ms));
    LogInfo("waiting for {} ({}), poll {}, next check in {:.1f} s", where, state, poll, double(wait_ms) / 1000.0);
    events.Emit("waiting_for_pgdata",
                {{"marker", where}, {"state", state}, {"poll", poll}, {"next_check_ms", wait_ms}});
    sleep(std::chrono::milliseconds(wait_ms));
    backoff = std::min(backoff * 2, std::max<int64_t>(backoff, opts.max_backoff_ms));
  }
}

Status CheckPgdataMarker(Storage& source, bool bucket_layout) {
  const bool remote = !source.IsLocal();
  if (!remote && !bucket_layout) return Status::OK();   // a plain local PGDATA has no marker
  P2L_ASSIGN_OR_RETURN(PgdataMarkerState st, ReadPgdataMarker(source));
  const std::string where = source.Describe(kPgdataMarkerName);
  switch (st) {
    case PgdataMarkerState::kDone:
      return Status::OK();
    case PgdataMarkerState::kNotDone:
      return Status::InvalidInput(fmt::format(
          "{} says {{\"done\": false}}: the PGDATA upload is not finished; rerun later or pass --wait-for-pgdata "
          "to wait for it", where));
    case PgdataMarkerState::kAbsent: {
      if (!remote) return Status::OK();
      // A wrong prefix deserves its own message rather than a missing marker.
      P2L_ASSIGN_OR_RETURN(Listing root, source.List(""));
      if (root.objects.empty() && root.prefixes.empty()) {
        return Status::NotFound(fmt::format(
            "{}: nothing is stored under this prefix (wrong bucket prefix?); expected the PGDATA under {} and the "
            "marker {}", source.Url(), source.Describe("pgdata/"), where));
      }
      return Status::NotFound(fmt::format(
          "{} does not exist: a remote source must carry the {{\"done\": true}} marker written after the PGDATA "
          "upload; pass --wait-for-pgdata to wait for it", where));
    }
  }
  return Status::Internal("unreachable marker state");
}

}  // namespace p2l
