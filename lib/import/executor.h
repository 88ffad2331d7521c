// A small thread pool that runs numbered work items and lets one consumer wait for them in order
// (Neon's FuturesOrdered, keyspace-and-sharding.md §5.5): items start in index order, at most
// `threads` at a time and at most `window` ahead of the item the consumer waits for, so finished
// but not yet consumed work stays bounded. After Cancel() (or the first failure, when
// stop_on_error) no new item starts; running items see cancelled() and should return early.
//
// The error reported is the TRUE cause: once an item has failed, the items that were running
// typically return early with some "cancelled" status of their own, and items that never started
// have none; Wait() on any of those returns the first failure (in time) instead, so the consumer
// that waits in index order never reports a cancellation as the reason the work stopped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "util/status.h"

namespace p2l {

class OrderedExecutor {
 public:
  using Fn = std::function<Status(size_t item, const std::atomic<bool>& cancelled)>;

  // Starts `threads` workers over items [0, n). window >= threads (raised if smaller).
  OrderedExecutor(size_t n, size_t threads, size_t window, Fn fn, bool stop_on_error = true);
  ~OrderedExecutor();   // cancels and joins
  OrderedExecutor(const OrderedExecutor&) = delete;
  OrderedExecutor& operator=(const OrderedExecutor&) = delete;

  // Blocks until item i (i must be the next unconsumed index) has finished; returns its status,
  // except that any failure after the first one (an item cancelled by it, or one that never
  // started) reports the first failure's status. After an external Cancel() with no failure, an
  // item that never started reports kInternal "cancelled".
  Status Wait(size_t i);
  void Cancel();
  // Joins the workers (after Cancel() or when every item ran).
  void Join();

  // Default worker count: the number of cores (at least 1).
  static size_t DefaultThreads();

 private:
  void Worker();

  const size_t n_;
  const size_t window_;
  Fn fn_;
  const bool stop_on_error_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_ = 0;        // next item to start
  size_t consumed_ = 0;    // items the consumer has waited for
  std::vector<char> done_;
  std::vector<Status> results_;
  Status first_error_;     // the first item failure, in time (under mu_)
  std::atomic<bool> cancelled_{false};
  std::vector<std::thread> threads_;
};

}  // namespace p2l
