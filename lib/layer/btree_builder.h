// Bulk loader of Neon's disk B-tree, reproducing Neon's builder exactly so the index bytes are
// identical (image-layer.md §5.5): append-only, bottom-up, one open node per level, prefix
// compression ("squeeze") only when an add fails, parents emitted right after the child whose
// downlink overflowed them, root last.
//
// Generic in the key length (18 for image layers, 26 for delta layers) so it can be tested on
// other key sizes. Nodes are kept serialized in memory (~7 bytes per contiguous key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace p2l {

class BTreeBuilder {
 public:
  // key_len in [1, 255].
  explicit BTreeBuilder(size_t key_len);

  // Appends a leaf entry. Keys must be strictly increasing; value <= 0x7F_FFFF_FFFF. Violations
  // are kInternal (the caller broke the contract) and leave the builder unchanged.
  Status Append(const uint8_t* key, uint64_t value);
  uint64_t num_entries() const { return num_entries_; }

  // Flushes every open node bottom-up and emits the root last. Returns the root's node number
  // (= num_nodes() - 1). An empty tree cannot be finished (kInternal). Call once.
  Result<uint32_t> Finish();

  // The serialized nodes in emission order, num_nodes() * 8192 bytes. Complete after Finish().
  const std::string& blocks() const { return blocks_; }
  uint32_t num_nodes() const { return uint32_t(blocks_.size() / 8192); }

 private:
  struct Node {
    uint8_t level = 0;
    std::string prefix;     // P
    size_t suffix_len = 0;  // s
    size_t used = 5;        // U = 5 + p + n*(s+5)
    size_t n = 0;
    std::string suffixes;   // n * s bytes
    std::string values;     // n * 5 bytes
  };

  bool TryAdd(Node* node, const uint8_t* key, const uint8_t* value);
  bool Squeeze(Node* node);
  // INSERT into the top node of the stack; may flush it (cascading) and replace it.
  void Insert(const uint8_t* key, const uint8_t* value);
  // FLUSH the node at the top of the stack (stack_.back()).
  void FlushTop();
  void Serialize(const Node& node);

  size_t key_len_;
  std::vector<Node> stack_;  // stack_[0] = highest level, back() = the open leaf
  std::string blocks_;
  std::string last_key_;
  uint64_t num_entries_ = 0;
  bool finished_ = false;
};

}  // namespace p2l
