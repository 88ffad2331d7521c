#include "util/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace p2l {

Status RunParallel(uint64_t n, int threads, const std::function<Status(uint64_t i)>& fn) {
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex err_mu;
  uint64_t err_index = UINT64_MAX;   // the failed item of lowest index so far (under err_mu)
  Status first_error;
  auto worker = [&]() {
    for (;;) {
      if (failed.load()) return;
      const uint64_t i = next.fetch_add(1);
      if (i >= n) return;
      Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard<std::mutex> l(err_mu);
        if (i < err_index) {
          err_index = i;
          first_error = std::move(st);
        }
        failed = true;
        return;
      }
    }
  };
  const int nthreads = int(std::clamp<uint64_t>(std::min<uint64_t>(n, uint64_t(std::max(1, threads))), 1, 1024));
  std::vector<std::thread> pool;
  for (int t = 1; t < nthreads; t++) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return first_error;
}

}  // namespace p2l
