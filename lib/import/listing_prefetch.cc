#include "import/listing_prefetch.h"

#include <utility>

namespace p2l {

namespace {

std::string_view TrimSlashes(std::string_view dir) {
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  return dir;
}

}  // namespace

PrefetchingLister::PrefetchingLister(Storage& inner, size_t threads, Pick pick)
    : inner_(inner), pick_(std::move(pick)) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; i++) threads_.emplace_back([this] { Worker(); });
}

PrefetchingLister::~PrefetchingLister() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

size_t PrefetchingLister::prefetch_hits() const {
  std::lock_guard<std::mutex> g(mu_);
  return hits_;
}

void PrefetchingLister::Worker() {
  for (;;) {
    std::string dir;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      dir = std::move(queue_.front());
      queue_.pop_front();
    }
    Result<Listing> r = inner_.List(dir + "/");
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = entries_.find(dir);
      if (it != entries_.end()) {
        it->second.result.emplace(std::move(r));
      }
    }
    cv_.notify_all();
  }
}

// Under mu_: queue the sub-directories of a listing of `dir` when the predicate picks it.
void PrefetchingLister::Enqueue(const Listing& l, std::string_view dir) {
  if (!pick_(dir)) return;
  bool added = false;
  for (const std::string& p : l.prefixes) {
    std::string sub(TrimSlashes(p));
    if (sub.empty() || entries_.count(sub) != 0) continue;
    entries_.emplace(sub, Entry{});
    queue_.push_back(std::move(sub));
    added = true;
  }
  if (added) cv_.notify_all();
}

Result<Listing> PrefetchingLister::List(std::string_view dir_in) {
  const std::string_view dir = TrimSlashes(dir_in);
  std::optional<Result<Listing>> r;
  {
    std::unique_lock<std::mutex> lk(mu_);
    auto it = entries_.find(dir);
    if (it != entries_.end()) {
      // Queued or in flight: wait for it (a queued one is taken by a worker, never dropped
      // before the destructor).
      cv_.wait(lk, [&] { return it->second.result.has_value(); });
      r = std::move(it->second.result);
      entries_.erase(it);
      hits_++;
    }
  }
  if (!r) r.emplace(inner_.List(dir_in));
  if (r->ok()) {
    std::lock_guard<std::mutex> g(mu_);
    Enqueue(r->value(), dir);
  }
  return std::move(*r);
}

}  // namespace p2l
