// Tests for lib/import/executor.{h,cc}: in-order consumption, bounded concurrency and window,
// cancellation on the first error.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "import/executor.h"

namespace p2l {

TEST_CASE("OrderedExecutor runs every item once and hands results out in order") {
  const size_t n = 200;
  std::vector<std::atomic<int>> runs(n);
  std::atomic<int> running{0}, max_running{0};
  OrderedExecutor ex(n, 4, 8, [&](size_t i, const std::atomic<bool>&) -> Status {
    int r = ++running;
    int m = max_running.load();
    while (r > m && !max_running.compare_exchange_weak(m, r)) {}
    if (i % 7 == 0) ::usleep(2000);   // finish out of order
    runs[i]++;
    running--;
    return Status::OK();
  });
  for (size_t i = 0; i < n; i++) REQUIRE(ex.Wait(i).ok());
  ex.Join();
  for (size_t i = 0; i < n; i++) CHECK(runs[i] == 1);
  CHECK(max_running <= 4);
}

TEST_CASE("OrderedExecutor does not run ahead of the consumer by more than the window") {
  std::atomic<size_t> highest{0};
  OrderedExecutor ex(100, 2, 4, [&](size_t i, const std::atomic<bool>&) -> Status {
    size_t h = highest.load();
    while (i > h && !highest.compare_exchange_weak(h, i)) {}
    return Status::OK();
  });
  REQUIRE(ex.Wait(0).ok());
  ::usleep(50 * 1000);
  CHECK(highest.load() <= 4);   // consumer asked for item 0: items up to 0 + window may start
  for (size_t i = 1; i < 100; i++) REQUIRE(ex.Wait(i).ok());
}

TEST_CASE("OrderedExecutor stops starting items after a failure") {
  std::atomic<int> started{0};
  OrderedExecutor ex(1000, 2, 4, [&](size_t i, const std::atomic<bool>& cancelled) -> Status {
    started++;
    if (i == 3) return Status::Io("boom");
    while (i == 2 && !cancelled) ::usleep(1000);   // a long item notices the cancellation
    return Status::OK();
  });
  CHECK(ex.Wait(0).ok());
  CHECK(ex.Wait(1).ok());
  CHECK(ex.Wait(2).ok());
  Status st = ex.Wait(3);
  CHECK(st.code() == Code::kIo);
  CHECK(ex.Wait(100).code() == Code::kInternal);   // never started
  ex.Join();
  CHECK(started < 20);
}

TEST_CASE("OrderedExecutor with zero items") {
  OrderedExecutor ex(0, 4, 4, [](size_t, const std::atomic<bool>&) { return Status::OK(); });
  ex.Join();
  CHECK(ex.Wait(0).code() == Code::kInternal);
}

}  // namespace p2l
