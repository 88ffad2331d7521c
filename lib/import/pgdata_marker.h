// The "status/pgdata" marker of a Neon import bucket (index-part-and-import.md §4.2): the producer
// (fast_import) writes {"done": true} at "<root>/status/pgdata" only after every pgdata/ object
// is uploaded. The import must not read the PGDATA of a bucket before that.
//
// Rules used here:
//  * --wait-for-pgdata[=TIMEOUT]: poll until {"done": true}, backoff 1 s doubling to 30 s, a log
//    line and a "waiting_for_pgdata" event per poll; past the timeout kTimeout.
//  * Without it: a remote source (S3/Azure) must have a done marker (absent or not done is an
//    error suggesting --wait-for-pgdata); a local source honours a marker only when it uses the
//    bucket layout (<root>/pgdata/global/pg_control) and the marker exists.
//  * The marker is at most 64 KiB and parsed strictly: a JSON object whose "done" member is a
//    boolean (present exactly once); other members are ignored, as the pageserver does.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/storage.h"
#include "util/events.h"
#include "util/status.h"

namespace p2l {

inline constexpr const char* kPgdataMarkerName = "status/pgdata";
inline constexpr uint64_t kPgdataMarkerMaxSize = 64 << 10;
inline constexpr int64_t kDefaultPgdataWaitSeconds = 3600;

enum class PgdataMarkerState { kAbsent, kNotDone, kDone };

// Parses the marker's bytes; `what` names the object in errors. true = {"done": true}.
Result<bool> ParsePgdataMarker(std::string_view json, std::string_view what);

// Reads the marker of `source` (bounded, strict).
Result<PgdataMarkerState> ReadPgdataMarker(Storage& source);

// "30s", "10m", "2h", "1d" or a plain number of seconds; > 0 and at most 30 days. kUsage
// otherwise.
Result<int64_t> ParseWaitTimeout(std::string_view text);

struct PgdataWaitOptions {
  int64_t timeout_seconds = kDefaultPgdataWaitSeconds;
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 30000;
  // Injected for tests; defaults sleep for real.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::steady_clock::time_point()> now;
};

// Polls until the marker says done. kTimeout after `timeout_seconds`; read errors other than
// "absent"/"not done" (I/O, malformed marker) are returned at once.
Status WaitForPgdata(Storage& source, const PgdataWaitOptions& opts, EventSink& events);

// The check without waiting (rules above). `bucket_layout`: the source has pgdata/global/pg_control.
Status CheckPgdataMarker(Storage& source, bool bucket_layout);

}  // namespace p2l
