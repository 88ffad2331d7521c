#include "import/executor.h"

#include <algorithm>

namespace p2l {

OrderedExecutor::OrderedExecutor(size_t n, size_t threads, size_t window, Fn fn, bool stop_on_error)
    : n_(n),
      window_(std::max<size_t>({window, threads, 1})),
      fn_(std::move(fn)),
      stop_on_error_(stop_on_error),
      done_(n, 0),
      results_(n) {
  threads = std::max<size_t>(1, std::min(threads, std::max<size_t>(n, 1)));
  threads_.reserve(threads);
  for (size_t t = 0; t < threads; t++) threads_.emplace_back([this] { Worker(); });
}

OrderedExecutor::~OrderedExecutor() {
  Cancel();
  Join();
}

size_t OrderedExecutor::DefaultThreads() {
  unsigned c = std::thread::hardware_concurrency();
  return c == 0 ? 1 : c;
}

void OrderedExecutor::Worker() {
  for (;;) {
    size_t item;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [this] { return cancelled_ || next_ >= n_ || next_ < consumed_ + window_; });
      if (cancelled_ || next_ >= n_) return;
      item = next_++;
    }
    Status st = fn_(item, cancelled_);
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!st.ok()) {
        if (first_error_.ok()) first_error_ = st;
        if (stop_on_error_) cancelled_ = true;
      }
      results_[item] = std::move(st);
      done_[item] = 1;
    }
    cv_.notify_all();
  }
}

Status OrderedExecutor::Wait(size_t i) {
  if (i >= n_) return Status::Internal("OrderedExecutor::Wait: item out of range");
  std::unique_lock<std::mutex> lk(mu_);
  if (consumed_ < i + 1) consumed_ = i + 1;   // allows workers to move the window forward
  cv_.notify_all();
  cv_.wait(lk, [this, i] { return done_[i] || (cancelled_ && i >= next_); });
  // The first failure is the cause of every later one (stop_on_error: the cancellation it set off).
  if (!done_[i] || (!results_[i].ok() && stop_on_error_)) {
    if (!first_error_.ok()) return first_error_;
  }
  if (!done_[i]) return Status::Internal("cancelled");
  return results_[i];
}

void OrderedExecutor::Cancel() {
  {
    std::lock_guard<std::mutex> g(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

void OrderedExecutor::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace p2l
