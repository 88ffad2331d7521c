// RunParallel: a small fork-join loop for independent, mostly I/O-bound work items (the parts of
// a multipart upload, the blocks of an Azure block upload, the import's per-directory checks).
#pragma once

#include <cstdint>
#include <functional>

#include "util/status.h"

namespace p2l {

// Runs fn(i) for every i in [0, n) on up to `threads` threads (the calling thread is one of
// them; clamped to [1, n]). Items are started in index order; after a failure no new item is
// started. The error returned is that of the failed item of lowest index, the same whatever the
// timing: every item below a failed one was started and ran to its end. fn must be thread-safe.
Status RunParallel(uint64_t n, int threads, const std::function<Status(uint64_t i)>& fn);

}  // namespace p2l
