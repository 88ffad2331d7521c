// RateLimiter: a token bucket shared by all threads (bytes per second), and Semaphore: a counting
// semaphore with a runtime limit (std::counting_semaphore needs a compile-time maximum).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace p2l {

// Token bucket: `rate` tokens (bytes) per second, holding at most `burst` tokens (default: one
// second's worth, at least 64 KiB). Acquire(n) blocks until n tokens were taken; n larger than
// the burst is taken in burst-sized steps. rate 0 = unlimited (Acquire returns at once).
class RateLimiter {
 public:
  explicit RateLimiter(uint64_t rate_bytes_per_sec, uint64_t burst = 0);
  void Acquire(uint64_t n);
  uint64_t rate() const { return rate_; }

 private:
  using Clock = std::chrono::steady_clock;
  const uint64_t rate_;
  const uint64_t burst_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_;
};

class Semaphore {
 public:
  explicit Semaphore(int count) : count_(count < 1 ? 1 : count) {}
  void Acquire();
  void Release();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;
};

// RAII holder of one Semaphore unit.
class SemaphoreGuard {
 public:
  explicit SemaphoreGuard(Semaphore* s) : s_(s) { s_->Acquire(); }
  ~SemaphoreGuard() { s_->Release(); }
  SemaphoreGuard(const SemaphoreGuard&) = delete;
  SemaphoreGuard& operator=(const SemaphoreGuard&) = delete;

 private:
  Semaphore* s_;
};

}  // namespace p2l
