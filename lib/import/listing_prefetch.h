// PrefetchingLister: a Storage that forwards every call to another one and lists sub-directories
// ahead. When List(dir) answers for a directory the predicate picks, the listings of all its
// sub-directories start in the background (at most `threads` at a time); a later List() of one of
// them takes the answer instead of sending its own request. A depth-first walk of a remote source
// (base/<db>/ for every database, the tablespaces) then waits for about one round trip per level
// instead of one per directory. Answers are exactly what inner.List() returns; listings fetched
// ahead and never asked for are dropped. Used for planning from remote sources (BENCHMARKS.md).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/storage.h"

namespace p2l {

class PrefetchingLister : public Storage {
 public:
  // pick(dir): list the sub-directories of `dir` (no trailing '/') ahead?
  using Pick = std::function<bool(std::string_view dir)>;

  PrefetchingLister(Storage& inner, size_t threads, Pick pick);
  ~PrefetchingLister() override;   // stops and joins; listings in flight finish first
  PrefetchingLister(const PrefetchingLister&) = delete;
  PrefetchingLister& operator=(const PrefetchingLister&) = delete;

  std::string Url() const override { return inner_.Url(); }
  std::string Describe(std::string_view name) const override { return inner_.Describe(name); }
  bool IsLocal() const override { return inner_.IsLocal(); }
  Result<Listing> List(std::string_view dir) override;
  Result<std::vector<ObjectInfo>> ListRecursive(std::string_view prefix) override {
    return inner_.ListRecursive(prefix);
  }
  Result<ObjectInfo> Stat(std::string_view name) override { return inner_.Stat(name); }
  Result<std::unique_ptr<RandomReader>> OpenReader(std::string_view name, const ObjectInfo* expect) override {
    return inner_.OpenReader(name, expect);
  }
  Result<std::string> ReadAll(std::string_view name, uint64_t max_size) override {
    return inner_.ReadAll(name, max_size);
  }
  Status Put(std::string_view name, std::string_view data) override { return inner_.Put(name, data); }
  Status PutIfAbsent(std::string_view name, std::string_view data) override {
    return inner_.PutIfAbsent(name, data);
  }
  Result<std::unique_ptr<StagedObject>> Stage(std::string_view name) override { return inner_.Stage(name); }
  Status Delete(std::string_view name) override { return inner_.Delete(name); }

  // Listings answered from the read-ahead so far (for tests).
  size_t prefetch_hits() const;

 private:
  struct Entry {
    std::optional<Result<Listing>> result;   // set when the listing is done
  };
  void Worker();
  void Enqueue(const Listing& l, std::string_view dir);

  Storage& inner_;
  const Pick pick_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry, std::less<>> entries_;   // by directory, no trailing '/'
  std::deque<std::string> queue_;
  bool stop_ = false;
  size_t hits_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace p2l
