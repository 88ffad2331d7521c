// Tests for lib/import/pgdata_marker.{h,cc}: strict marker parsing, the wait loop (injected clock
// and sleep), the no-wait rules, and timeout parsing.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "import/pgdata_marker.h"
#include "storage/storage.h"
#include "util/events.h"

namespace fs = std::filesystem;

namespace p2l {

namespace {

struct MarkerDir {
  fs::path path;
  MarkerDir() {
    std::string t = (fs::temp_directory_path() / "p2l-marker-test.XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~MarkerDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void Write(const std::string& rel, const std::string& data) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel, std::ios::binary) << data;
  }
  std::unique_ptr<Storage> Open() const {
    auto s = OpenStorage(path.string(), StorageOptions());
    REQUIRE(s.ok());
    return std::move(s).value();
  }
};

}  // namespace

TEST_CASE("ParsePgdataMarker accepts {\"done\": bool} and ignores other members") {
  auto r = ParsePgdataMarker(R"({"done":true})", "m");
  REQUIRE(r.ok());
  CHECK(*r);
  r = ParsePgdataMarker(R"({"done": false, "extra": [1,2]})", "m");
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  r = ParsePgdataMarker("  {\"command\":\"pgdata\", \"done\" : true}\n", "m");
  REQUIRE(r.ok());
  CHECK(*r);
}

TEST_CASE("ParsePgdataMarker rejects anything else, naming the object") {
  for (const char* bad : {"", "true", "[]", "{}", R"({"done":"true"})", R"({"done":1})", R"({"done":null})",
                          R"({"done":true,"done":true})", R"({"done":true)", R"({"Done":true})"}) {
    auto r = ParsePgdataMarker(bad, "bucket/status/pgdata");
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) {
      CHECK(r.status().code() == Code::kInvalidInput);
      CHECK(r.status().message().find("bucket/status/pgdata") != std::string::npos);
    }
  }
  // Nested "done" keys do not count as the top-level member.
  auto r = ParsePgdataMarker(R"({"x":{"done":true},"done":false})", "m");
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  // Size bound.
  std::string big = R"({"done":true,"pad":")" + std::string(kPgdataMarkerMaxSize, 'a') + "\"}";
  r = ParsePgdataMarker(big, "m");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("larger than") != std::string::npos);
}

TEST_CASE("ParseWaitTimeout") {
  CHECK(*ParseWaitTimeout("30s") == 30);
  CHECK(*ParseWaitTimeout("10m") == 600);
  CHECK(*ParseWaitTimeout("2h") == 7200);
  CHECK(*ParseWaitTimeout("1d") == 86400);
  CHECK(*ParseWaitTimeout("45") == 45);
  for (const char* bad : {"", "s", "0s", "-5s", "1.5h", "10x", "31d", "h10", "99999999999"}) {
    auto r = ParseWaitTimeout(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) CHECK(r.status().code() == Code::kUsage);
  }
}

TEST_CASE("ReadPgdataMarker and CheckPgdataMarker on a local source") {
  MarkerDir d;
  auto s = d.Open();
  CHECK(*ReadPgdataMarker(*s) == PgdataMarkerState::kAbsent);
  // Plain PGDATA: the marker is not consulted at all, even a broken one.
  d.Write("status/pgdata", "garbage");
  CHECK(CheckPgdataMarker(*s, /*bucket_layout=*/false).ok());
  // Bucket layout: a present marker is honoured.
  CHECK(CheckPgdataMarker(*s, true).code() == Code::kInvalidInput);
  d.Write("status/pgdata", R"({"done":false})");
  CHECK(*ReadPgdataMarker(*s) == PgdataMarkerState::kNotDone);
  Status st = CheckPgdataMarker(*s, true);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message().find("--wait-for-pgdata") != std::string::npos);
  d.Write("status/pgdata", R"({"done":true})");
  CHECK(CheckPgdataMarker(*s, true).ok());
  // Absent with the bucket layout on a local source: fine.
  fs::remove(d.path / "status/pgdata");
  CHECK(CheckPgdataMarker(*s, true).ok());
}

TEST_CASE("WaitForPgdata polls with doubling backoff capped at 30 s, then times out") {
  MarkerDir d;
  auto s = d.Open();
  using namespace std::chrono;
  steady_clock::time_point now{};
  std::vector<int64_t> sleeps;
  PgdataWaitOptions o;
  o.timeout_seconds = 100;
  o.now = [&] { return now; };
  o.sleep = [&](milliseconds ms) {
    sleeps.push_back(ms.count());
    now += ms;
  };
  Status st = WaitForPgdata(*s, o, NullEvents());
  CHECK(st.code() == Code::kTimeout);
  CHECK(st.message().find("status/pgdata") != std::string::npos);
  // 1+2+4+8+16+30+30 = 91, then the 9 s left.
  CHECK(sleeps == std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 30000, 30000, 9000});
}

TEST_CASE("WaitForPgdata returns once the marker says done") {
  MarkerDir d;
  auto s = d.Open();
  int polls = 0;
  PgdataWaitOptions o;
  o.timeout_seconds = 3600;
  o.sleep = [&](std::chrono::milliseconds) {
    if (++polls == 2) d.Write("status/pgdata", R"({"done":false})");
    if (polls == 3) d.Write("status/pgdata", R"({"done":true})");
  };
  CHECK(WaitForPgdata(*s, o, NullEvents()).ok());
  CHECK(polls == 3);
  // A malformed marker is an error at once, not a reason to keep waiting.
  d.Write("status/pgdata", R"({"done":"yes"})");
  polls = 0;
  CHECK(WaitForPgdata(*s, o, NullEvents()).code() == Code::kInvalidInput);
  CHECK(polls == 0);
}

}  // namespace p2l
