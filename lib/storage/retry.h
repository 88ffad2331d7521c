// RetryPolicy: how often and how long to wait between attempts of a transient failure.
// Exponential backoff with "full jitter": before retry k (k = 1, 2, ...) sleep a uniformly random
// time in [0, min(max_delay, base_delay * 2^(k-1))]. A Retry-After the server sent is honoured
// as a lower bound (capped at max_delay).
#pragma once

#include <chrono>
#include <cstdint>

namespace p2l {

struct RetryPolicy {
  int max_retries = 8;                                   // retries after the first attempt
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{20000};
};

// The sleep before retry number `retry` (1-based), full jitter, at least `min_delay`.
std::chrono::milliseconds BackoffDelay(const RetryPolicy& p, int retry,
                                       std::chrono::milliseconds min_delay = std::chrono::milliseconds(0));

}  // namespace p2l
