// Reader of Neon's disk B-tree (image-layer.md §5.2-§5.4) that never trusts the file: every node
// is validated before use (n >= 1, U <= 8192, p + s == key length, strictly increasing keys, value
// tags), levels must decrease by exactly one down to the leaves, child pointers must lie inside
// the index, keys must lie inside the separator bounds of their parent and increase strictly over
// the whole scan, and depth is bounded. Errors name the file, the node and its block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

// Levels above this are rejected (18-byte keys: a 3-level tree already holds > 10^8 keys).
inline constexpr unsigned kMaxBTreeLevel = 32;

// A validated view of one node block (pointers into the block).
struct BTreeNodeView {
  uint32_t n = 0;
  uint8_t level = 0;
  uint8_t prefix_len = 0;
  uint8_t suffix_len = 0;
  const uint8_t* prefix = nullptr;
  const uint8_t* suffixes = nullptr;
  const uint8_t* values = nullptr;
  const uint8_t* suffix(uint32_t i) const { return suffixes + size_t(i) * suffix_len; }
  const uint8_t* value(uint32_t i) const { return values + size_t(i) * 5; }
};

// Parses and validates one 8192-byte node block for keys of key_len bytes. Error messages carry
// no file context (the caller adds it).
Status ParseBTreeNode(const uint8_t* block, size_t key_len, BTreeNodeView* v);

class BTreeReader {
 public:
  // Nodes live at absolute blocks start_blk + r for r in [0, num_nodes); the root is node `root`.
  // `file` must outlive the reader.
  BTreeReader(RandomReader* file, uint64_t start_blk, uint32_t num_nodes, uint32_t root,
              size_t key_len);

  // Called for each leaf entry in key order with the full key (key_len bytes) and its 40-bit
  // value. A non-OK status stops the scan and is returned; setting *stop ends it with OK.
  using Visitor = std::function<Status(const uint8_t* key, uint64_t value, bool* stop)>;

  // Leaf entries from the first key >= from (every entry when from == nullptr).
  Status Scan(const uint8_t* from, const Visitor& fn);

  uint64_t nodes_read() const { return nodes_read_; }

 private:
  struct Frame {
    std::vector<uint8_t> block;
    int64_t node = -1;  // cached node number, -1 = none
    BTreeNodeView view;
  };
  Status Load(uint32_t node, size_t depth);
  Status Visit(uint32_t node, size_t depth, int expected_level, const std::string* lo,
               const std::string* hi, const uint8_t* from, const Visitor& fn, bool* stop);
  std::string Where(uint32_t node) const;
  void FullKey(const BTreeNodeView& v, uint32_t i, std::string* out) const;

  RandomReader* file_;
  uint64_t start_blk_;
  uint32_t num_nodes_;
  uint32_t root_;
  size_t key_len_;
  std::vector<Frame> frames_;  // one per depth
  std::string last_key_;
  bool have_last_ = false;
  uint64_t nodes_read_ = 0;
};

}  // namespace p2l
