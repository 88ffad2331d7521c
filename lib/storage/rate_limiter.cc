#include "storage/rate_limiter.h"

#include <algorithm>
#include <thread>

namespace p2l {

RateLimiter::RateLimiter(uint64_t rate, uint64_t burst)
    : rate_(rate),
      burst_(burst ? burst : std::max<uint64_t>(rate, 64 << 10)),
      tokens_(double(burst_)),
      last_(Clock::now()) {}

void RateLimiter::Acquire(uint64_t n) {
  if (rate_ == 0) return;
  while (n > 0) {
    const uint64_t want = std::min(n, burst_);
    std::chrono::duration<double> wait{0};
    {
      std::lock_guard<std::mutex> l(mu_);
      const auto now = Clock::now();
      tokens_ = std::min(double(burst_),
                         tokens_ + std::chrono::duration<double>(now - last_).count() * double(rate_));
      last_ = now;
      // Take the tokens now (possibly going negative) and sleep off the debt outside the lock:
      // concurrent callers queue up fairly behind each other.
      tokens_ -= double(want);
      if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / double(rate_));
    }
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
    n -= want;
  }
}

void Semaphore::Acquire() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return count_ > 0; });
  --count_;
}

void Semaphore::Release() {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++count_;
  }
  cv_.notify_one();
}

}  // namespace p2l
