// The (key, value) pairs an import plan implies, in key order, read from the source on demand
// (keyspace-and-sharding.md §5.3: single keys put their value, RelBlocks tasks every
// non-disposable block of their segment file, SlruBlocks tasks every block). Used by verify
// --source to compare layers with their source without holding either in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "import/plan.h"
#include "keyspace/key.h"
#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

class PlanStream {
 public:
  // `source` and `plan` must outlive the stream.
  PlanStream(Storage& source, const ImportPlan& plan);

  // The next expected pair, with the 0-based index of the job (layer) it belongs to; false at
  // the end. Source read errors (including a changed source object) are returned.
  Result<bool> Next(Key* key, std::string* value, uint32_t* job);

 private:
  Status StartTask();
  // Reads the next chunk of local blocks of the current block task into chunk_.
  Status FillChunk();

  Storage& source_;
  const ImportPlan& plan_;
  size_t job_ = 0, task_ = 0;
  bool in_task_ = false;
  // Block task state: next block number to consider, end (exclusive), loaded chunk.
  uint32_t next_blk_ = 0, end_blk_ = 0;
  std::unique_ptr<RandomReader> reader_;
  std::string chunk_;
  uint32_t chunk_first_ = 0, chunk_count_ = 0, chunk_pos_ = 0;
  bool have_last_ = false;
  Key last_;
};

}  // namespace p2l
