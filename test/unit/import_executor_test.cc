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
  // An item that never started reports the failure that stopped the work, not a cancellation.
  Status never = ex.Wait(100);
  CHECK(never.code() == Code::kIo);
  CHECK(never.message() == "boom");
  ex.Join();
  CHECK(started < 20);
}

TEST_CASE("OrderedExecutor reports the true error, not the cancellation of a running item") {
  // Item 1 is running when item 2 fails; it sees the cancellation and returns its own
  // "cancelled" status. The consumer waits for item 1 first: it must get item 2's error (the
  // cause), as with one thread — never the cancellation (issue 19, part 1).
  for (size_t threads : {2, 3, 8}) {
    CAPTURE(threads);
    OrderedExecutor ex(50, threads, threads * 2 + 2, [&](size_t i, const std::atomic<bool>& cancelled) -> Status {
      if (i == 2) return Status::SourceChanged("base/5/16384: changed since planning");
      if (i == 1) {
        while (!cancelled) ::usleep(200);   // returns only after item 2 has failed
        return Status::Internal("cancelled");
      }
      return Status::OK();
    });
    CHECK(ex.Wait(0).ok());
    Status st = ex.Wait(1);
    CHECK(st.code() == Code::kSourceChanged);
    CHECK(st.message() == "base/5/16384: changed since planning");
    CHECK(ex.Wait(2).code() == Code::kSourceChanged);
    CHECK(ex.Wait(3).code() == Code::kSourceChanged);   // never started (or cancelled)
  }
}

TEST_CASE("OrderedExecutor: the first failure in time is reported by every later item") {
  // Item 5 fails first; item 3 fails afterwards for a reason of its own that was set off by the
  // first (for example a shared connection pool shutting down). The consumer reaches item 3
  // first and must be told the first failure.
  OrderedExecutor ex(10, 8, 20, [&](size_t i, const std::atomic<bool>& cancelled) -> Status {
    if (i == 5) return Status::Io("s3://src/db/pgdata/base/5/1259: HTTP 403 AccessDenied");
    if (i == 3) {
      while (!cancelled) ::usleep(200);
      return Status::Io("connection pool closed");
    }
    return Status::OK();
  });
  for (size_t i = 0; i < 3; i++) CHECK(ex.Wait(i).ok());
  Status st = ex.Wait(3);
  CHECK(st.code() == Code::kIo);
  CHECK(st.message() == "s3://src/db/pgdata/base/5/1259: HTTP 403 AccessDenied");
}

TEST_CASE("OrderedExecutor without stop_on_error reports each item's own status") {
  OrderedExecutor ex(6, 3, 6, [&](size_t i, const std::atomic<bool>&) -> Status {
    if (i == 4) return Status::Io("four");
    if (i == 1) return Status::InvalidInput("one");
    return Status::OK();
  }, /*stop_on_error=*/false);
  CHECK(ex.Wait(0).ok());
  CHECK(ex.Wait(1).message() == "one");
  CHECK(ex.Wait(2).ok());
  CHECK(ex.Wait(3).ok());
  CHECK(ex.Wait(4).message() == "four");
  CHECK(ex.Wait(5).ok());
}

TEST_CASE("OrderedExecutor with zero items") {
  OrderedExecutor ex(0, 4, 4, [](size_t, const std::atomic<bool>&) { return Status::OK(); });
  ex.Join();
  CHECK(ex.Wait(0).code() == Code::kInternal);
}

}  // namespace p2l
