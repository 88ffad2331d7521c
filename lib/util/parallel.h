// RunParallel: a small fork-join loop for independent, mostly I/O-bound work items (the parts of
// a multipart upload, the blocks of an Azure block upload).
#pragma once

#include <cstdint>
#include <functional>

#include "util/status.h"

namespace p2l {

// Runs fn(i) for every i in [0, n) on up to `threads` threads (the calling thread is one of
// them; clamped to [1, n]). After the first failure no new item is started; the error returned
// is the first one that happened (in time, not in index order). fn must be thread-safe.
Status RunParallel(uint64_t n, int threads, const std::function<Status(uint64_t i)>& fn);

}  // namespace p2l
