// RunParallel (util/parallel.h): every item runs once; the error is the lowest-index one.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "util/parallel.h"

namespace p2l {

TEST_CASE("RunParallel: every item once, any thread count, nothing for n = 0") {
  for (int threads : {1, 3, 64}) {
    CAPTURE(threads);
    std::vector<std::atomic<int>> runs(50);
    REQUIRE(RunParallel(runs.size(), threads, [&](uint64_t i) {
              runs[i]++;
              return Status::OK();
            }).ok());
    for (auto& r : runs) CHECK(r.load() == 1);
  }
  CHECK(RunParallel(0, 4, [](uint64_t) { return Status::Internal("never called"); }).ok());
}

TEST_CASE("RunParallel: the error of the lowest failed index, whatever failed first in time") {
  // Item 3 fails late, item 9 at once: the answer is item 3's, as a sequential loop would give.
  std::atomic<bool> nine_failed{false};
  Status st = RunParallel(20, 4, [&](uint64_t i) -> Status {
    if (i == 3) {
      for (int k = 0; k < 200 && !nine_failed.load(); k++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return Status::InvalidInput("item 3");
    }
    if (i == 9) {
      nine_failed = true;
      return Status::InvalidInput("item 9");
    }
    return Status::OK();
  });
  CHECK(nine_failed.load());
  CHECK(st.message() == "item 3");
  // One thread: the loop stops at the first failure.
  std::atomic<int> ran{0};
  st = RunParallel(10, 1, [&](uint64_t i) -> Status {
    ran++;
    return i == 2 ? Status::Io("item 2") : Status::OK();
  });
  CHECK(st.message() == "item 2");
  CHECK(ran.load() == 3);
}

}  // namespace p2l
