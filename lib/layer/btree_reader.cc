#include "layer/btree_reader.h"

#include <fmt/format.h>

#include <cstring>

#include "layer/btree_format.h"
#include "util/coding.h"

namespace p2l {

namespace {

// Compares the full key `key` with entry i of v (prefix ‖ suffix_i).
int CompareEntry(const uint8_t* key, const BTreeNodeView& v, uint32_t i) {
  int c = std::memcmp(key, v.prefix, v.prefix_len);
  if (c != 0) return c;
  return std::memcmp(key + v.prefix_len, v.suffix(i), v.suffix_len);
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; i++) s += fmt::format("{:02X}", p[i]);
  return s;
}

}  // namespace

Status ParseBTreeNode(const uint8_t* b, size_t key_len, BTreeNodeView* v) {
  v->n = DecodeBE16(b);
  v->level = b[2];
  v->prefix_len = b[3];
  v->suffix_len = b[4];
  if (v->n == 0) return Status::InvalidInput("node has n = 0 entries");
  if (size_t(v->prefix_len) + v->suffix_len != key_len) {
    return Status::InvalidInput(fmt::format("prefix length {} + suffix length {} != key length {}",
                                            v->prefix_len, v->suffix_len, key_len));
  }
  const size_t used = kBTreeNodeHeaderSize + v->prefix_len +
                      size_t(v->n) * (v->suffix_len + kBTreeValueSize);
  if (used > kBTreeNodeSize) {
    return Status::InvalidInput(fmt::format("{} entries of {}+5 bytes need {} bytes, more than {}",
                                            v->n, v->suffix_len, used, kBTreeNodeSize));
  }
  v->prefix = b + kBTreeNodeHeaderSize;
  v->suffixes = v->prefix + v->prefix_len;
  v->values = v->suffixes + size_t(v->n) * v->suffix_len;
  for (uint32_t i = 1; i < v->n; i++) {
    if (std::memcmp(v->suffix(i - 1), v->suffix(i), v->suffix_len) >= 0) {
      return Status::InvalidInput(
          fmt::format("keys out of order: entry {} is not greater than entry {}", i, i - 1));
    }
  }
  for (uint32_t i = 0; i < v->n; i++) {
    const uint8_t tag = v->value(i)[0];
    if (v->level == 0 && (tag & 0x80) != 0) {
      return Status::InvalidInput(
          fmt::format("leaf entry {}: value byte 0 is 0x{:02X}, top bit must be 0", i, tag));
    }
    if (v->level != 0 && tag != kBTreeInternalTag) {
      return Status::InvalidInput(fmt::format(
          "internal entry {}: value byte 0 is 0x{:02X}, must be 0x80", i, tag));
    }
  }
  return Status::OK();
}

BTreeReader::BTreeReader(RandomReader* file, uint64_t start_blk, uint32_t num_nodes,
                         uint32_t root, size_t key_len)
    : file_(file), start_blk_(start_blk), num_nodes_(num_nodes), root_(root), key_len_(key_len) {
  // Sized once so node views (pointers into the frames' blocks) never move.
  frames_.resize(kMaxBTreeLevel + 2);
}

std::string BTreeReader::Where(uint32_t node) const {
  return fmt::format("{}: B-tree node {} (block {}, offset {})", file_->info().name, node,
                     start_blk_ + node, (start_blk_ + node) * kBTreeNodeSize);
}

void BTreeReader::FullKey(const BTreeNodeView& v, uint32_t i, std::string* out) const {
  out->assign(reinterpret_cast<const char*>(v.prefix), v.prefix_len);
  out->append(reinterpret_cast<const char*>(v.suffix(i)), v.suffix_len);
}

Status BTreeReader::Load(uint32_t node, size_t depth) {
  if (node >= num_nodes_) {
    return Status::InvalidInput(fmt::format(
        "{}: B-tree points to node {}, outside the index of {} node(s) starting at block {}",
        file_->info().name, node, num_nodes_, start_blk_));
  }
  if (depth >= frames_.size()) {
    return Status::InvalidInput(fmt::format("{}: B-tree deeper than {} levels", Where(node),
                                            frames_.size()));
  }
  Frame& f = frames_[depth];
  if (f.node == int64_t(node)) return Status::OK();
  f.node = -1;
  f.block.resize(kBTreeNodeSize);
  P2L_RETURN_IF_ERROR(
      file_->ReadAt((start_blk_ + node) * kBTreeNodeSize, kBTreeNodeSize, f.block.data()));
  nodes_read_++;
  Status st = ParseBTreeNode(f.block.data(), key_len_, &f.view);
  if (!st.ok()) return st.WithContext(Where(node));
  f.node = node;
  return Status::OK();
}

Status BTreeReader::Visit(uint32_t node, size_t depth, int expected_level, const std::string* lo,
                          const std::string* hi, const uint8_t* from, const Visitor& fn,
                          bool* stop) {
  P2L_RETURN_IF_ERROR(Load(node, depth));
  // Copy the view: deeper loads may reuse other frames, but never this depth's frame.
  const BTreeNodeView v = frames_[depth].view;
  if (expected_level < 0) {
    if (v.level > kMaxBTreeLevel) {
      return Status::InvalidInput(fmt::format("{}: root level {} exceeds the limit {}",
                                              Where(node), v.level, kMaxBTreeLevel));
    }
  } else if (v.level != expected_level) {
    return Status::InvalidInput(fmt::format("{}: level {}, expected {} (one below its parent)",
                                            Where(node), v.level, expected_level));
  }
  // Separator bounds from the parent: lo <= every key < hi.
  if (lo != nullptr && CompareEntry(U8(*lo), v, 0) > 0) {
    return Status::InvalidInput(fmt::format("{}: first key is below its parent's separator {}",
                                            Where(node), Hex(U8(*lo), key_len_)));
  }
  if (hi != nullptr && CompareEntry(U8(*hi), v, v.n - 1) <= 0) {
    return Status::InvalidInput(fmt::format(
        "{}: last key is not below the next separator {} of its parent", Where(node),
        Hex(U8(*hi), key_len_)));
  }

  if (v.level == 0) {
    uint32_t start = 0;
    if (from != nullptr) {
      // First entry >= from.
      uint32_t a = 0, b = v.n;
      while (a < b) {
        uint32_t m = a + (b - a) / 2;
        if (CompareEntry(from, v, m) > 0) a = m + 1; else b = m;
      }
      start = a;
    }
    std::string key;
    for (uint32_t i = start; i < v.n; i++) {
      FullKey(v, i, &key);
      if (have_last_ && std::memcmp(last_key_.data(), key.data(), key_len_) >= 0) {
        return Status::InvalidInput(fmt::format("{}: entry {}: key {} is not greater than the "
                                                "previous key {} of the scan",
                                                Where(node), i, Hex(U8(key), key_len_),
                                                Hex(U8(last_key_), key_len_)));
      }
      last_key_ = key;
      have_last_ = true;
      P2L_RETURN_IF_ERROR(fn(U8(key), DecodeValue40(v.value(i)), stop));
      if (*stop) return Status::OK();
    }
    return Status::OK();
  }

  uint32_t start = 0;
  if (from != nullptr) {
    // Last entry <= from, or entry 0 when from is below every key.
    uint32_t a = 0, b = v.n;
    while (a < b) {
      uint32_t m = a + (b - a) / 2;
      if (CompareEntry(from, v, m) >= 0) a = m + 1; else b = m;
    }
    start = a == 0 ? 0 : a - 1;
  }
  std::string child_lo, child_hi;
  for (uint32_t i = start; i < v.n; i++) {
    FullKey(v, i, &child_lo);
    const std::string* hi_i = hi;
    if (i + 1 < v.n) {
      FullKey(v, i + 1, &child_hi);
      hi_i = &child_hi;
    }
    const uint32_t child = DecodeBE32(v.value(i) + 1);
    if (child >= num_nodes_) {
      return Status::InvalidInput(fmt::format(
          "{}: entry {} points to node {}, outside the index of {} node(s)", Where(node), i, child,
          num_nodes_));
    }
    Status st = Visit(child, depth + 1, v.level - 1, &child_lo, hi_i, from, fn, stop);
    if (!st.ok()) return st;
    if (*stop) return Status::OK();
    from = nullptr;  // later children are scanned from their first entry
  }
  return Status::OK();
}

Status BTreeReader::Scan(const uint8_t* from, const Visitor& fn) {
  have_last_ = false;
  last_key_.clear();
  bool stop = false;
  return Visit(root_, 0, -1, nullptr, nullptr, from, fn, &stop);
}

}  // namespace p2l
