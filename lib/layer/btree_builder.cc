#include "layer/btree_builder.h"

#include <fmt/format.h>

#include <cstring>

#include "layer/btree_format.h"
#include "layer/format.h"

namespace p2l {

BTreeBuilder::BTreeBuilder(size_t key_len) : key_len_(key_len) {
  stack_.emplace_back();  // one empty leaf
}

// TRY-ADD (§5.5): fails on a prefix mismatch, or when U + s + 5 >= 8192 (">=": a node never
// reaches 8192 used bytes).
bool BTreeBuilder::TryAdd(Node* node, const uint8_t* key, const uint8_t* value) {
  if (node->n > 0) {
    if (std::memcmp(key, node->prefix.data(), node->prefix.size()) != 0) return false;
  } else {
    node->suffix_len = key_len_ - node->prefix.size();  // a fresh node has an empty prefix
  }
  if (node->used + node->suffix_len + kBTreeValueSize >= kBTreeNodeSize) return false;
  node->suffixes.append(reinterpret_cast<const char*>(key) + node->prefix.size(),
                        node->suffix_len);
  node->values.append(reinterpret_cast<const char*>(value), kBTreeValueSize);
  node->used += node->suffix_len + kBTreeValueSize;
  node->n++;
  return true;
}

// SQUEEZE (§5.5): move the common prefix q of the first and last suffix into P. Returns whether
// anything changed. The change stays even if the retried add fails.
bool BTreeBuilder::Squeeze(Node* node) {
  if (node->n == 0) return false;
  const size_t s = node->suffix_len;
  const char* a = node->suffixes.data();
  const char* b = node->suffixes.data() + (node->n - 1) * s;
  size_t q = 0;
  while (q < s && a[q] == b[q]) q++;
  if (q == 0) return false;
  node->prefix.append(a, q);
  std::string squeezed;
  squeezed.reserve(node->n * (s - q));
  for (size_t i = 0; i < node->n; i++) squeezed.append(node->suffixes, i * s + q, s - q);
  node->suffixes.swap(squeezed);
  node->suffix_len = s - q;
  node->used = node->used - q * node->n + q;
  return true;
}

// INSERT (§5.5) into the top node of the stack.
void BTreeBuilder::Insert(const uint8_t* key, const uint8_t* value) {
  Node& x = stack_.back();
  if (TryAdd(&x, key, value)) return;
  if (Squeeze(&x) && TryAdd(&x, key, value)) return;
  const uint8_t level = x.level;
  FlushTop();  // x is gone; the top is now x's parent (or a new root)
  Node fresh;
  fresh.level = level;
  TryAdd(&fresh, key, value);  // always succeeds on an empty node
  stack_.push_back(std::move(fresh));
}

// FLUSH (§5.5): emit the top node, create a root above it if it was the root, and insert its
// downlink (first full key, node number) into the parent, which may cascade.
void BTreeBuilder::FlushTop() {
  Node x = std::move(stack_.back());
  stack_.pop_back();
  const uint32_t r = num_nodes();
  Serialize(x);
  if (stack_.empty()) {
    Node root;
    root.level = uint8_t(x.level + 1);
    stack_.push_back(std::move(root));
  }
  std::string first_key = x.prefix;
  first_key.append(x.suffixes, 0, x.suffix_len);
  uint8_t v[kBTreeValueSize];
  EncodeInternalValue(r, v);
  Insert(reinterpret_cast<const uint8_t*>(first_key.data()), v);
}

void BTreeBuilder::Serialize(const Node& node) {
  const size_t base = blocks_.size();
  blocks_.resize(base + kBTreeNodeSize, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(blocks_.data() + base);
  EncodeBE16(p, uint16_t(node.n));
  p[2] = node.level;
  p[3] = uint8_t(node.prefix.size());
  p[4] = uint8_t(node.suffix_len);
  p += kBTreeNodeHeaderSize;
  std::memcpy(p, node.prefix.data(), node.prefix.size());
  p += node.prefix.size();
  std::memcpy(p, node.suffixes.data(), node.suffixes.size());
  p += node.suffixes.size();
  std::memcpy(p, node.values.data(), node.values.size());
}

Status BTreeBuilder::Append(const uint8_t* key, uint64_t value) {
  if (finished_) return Status::Internal("btree builder: Append after Finish");
  if (key_len_ == 0 || key_len_ > 255) {
    return Status::Internal(fmt::format("btree builder: unsupported key length {}", key_len_));
  }
  if (value > kMaxLeafValue) {
    return Status::Internal(
        fmt::format("btree builder: value 0x{:X} exceeds 0x7FFFFFFFFF", value));
  }
  if (num_entries_ > 0 && std::memcmp(key, last_key_.data(), key_len_) <= 0) {
    return Status::Internal("btree builder: keys not strictly increasing");
  }
  last_key_.assign(reinterpret_cast<const char*>(key), key_len_);
  uint8_t v[kBTreeValueSize];
  EncodeLeafValue(value, v);
  Insert(key, v);
  num_entries_++;
  return Status::OK();
}

Result<uint32_t> BTreeBuilder::Finish() {
  if (finished_) return Status::Internal("btree builder: Finish called twice");
  if (num_entries_ == 0) return Status::Internal("btree builder: cannot finish an empty tree");
  finished_ = true;
  while (stack_.size() > 1) FlushTop();
  Serialize(stack_.back());
  stack_.clear();
  return num_nodes() - 1;
}

}  // namespace p2l
