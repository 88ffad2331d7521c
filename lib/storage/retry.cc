#include "storage/retry.h"

#include <algorithm>
#include <random>

namespace p2l {

std::chrono::milliseconds BackoffDelay(const RetryPolicy& p, int retry,
                                       std::chrono::milliseconds min_delay) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int shift = std::clamp(retry - 1, 0, 30);
  const int64_t base = std::max<int64_t>(p.base_delay.count(), 1);
  const int64_t cap = std::max<int64_t>(p.max_delay.count(), 1);
  const int64_t ceiling = (base > (cap >> shift)) ? cap : std::min(cap, base << shift);
  std::uniform_int_distribution<int64_t> d(0, ceiling);
  const int64_t lo = std::min<int64_t>(min_delay.count(), cap);
  return std::chrono::milliseconds(std::max(d(rng), lo));
}

}  // namespace p2l
