// Disk B-tree builder and reader (image-layer.md §5): structural facts of §5.6 and §11, the
// squeeze/flush rules, generic key lengths, Scan-from-key semantics.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "keyspace/key.h"
#include "layer/btree_builder.h"
#include "layer/btree_format.h"
#include "layer/btree_reader.h"
#include "storage/memory_reader.h"
#include "util/coding.h"

using namespace p2l;

namespace {

std::string RelKeyBytes(uint32_t rel, uint32_t blk) {
  Key k{0, 1663, 5, rel, 0, blk};
  auto e = k.Encode();
  return std::string(reinterpret_cast<const char*>(e.data()), e.size());
}

struct Tree {
  std::string blocks;
  uint32_t root = 0;
  uint32_t nodes() const { return uint32_t(blocks.size() / 8192); }
  const uint8_t* node(uint32_t r) const { return U8(blocks.data() + size_t(r) * 8192); }
};

Tree Build(size_t key_len, const std::vector<std::string>& keys) {
  BTreeBuilder b(key_len);
  for (size_t i = 0; i < keys.size(); i++) {
    REQUIRE(b.Append(U8(keys[i]), 8192 + i * 7).ok());
  }
  auto root = b.Finish();
  REQUIRE(root.ok());
  Tree t;
  t.blocks = b.blocks();
  t.root = *root;
  CHECK(t.root == t.nodes() - 1);
  return t;
}

std::vector<std::string> Contiguous(uint32_t n, uint32_t first = 0) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (uint32_t i = 0; i < n; i++) keys.push_back(RelKeyBytes(16384, first + i));
  return keys;
}

// Reads the whole tree back through BTreeReader and compares keys and values.
void CheckScan(size_t key_len, const Tree& t, const std::vector<std::string>& keys) {
  auto file = NewMemoryReader("tree", t.blocks);
  BTreeReader r(file.get(), 0, t.nodes(), t.root, key_len);
  size_t i = 0;
  Status st = r.Scan(nullptr, [&](const uint8_t* k, uint64_t v, bool*) -> Status {
    REQUIRE(i < keys.size());
    CHECK(std::memcmp(k, keys[i].data(), key_len) == 0);
    CHECK(v == 8192 + i * 7);
    i++;
    return Status::OK();
  });
  CHECK_MESSAGE(st.ok(), st.ToString());
  CHECK(i == keys.size());
}

}  // namespace

TEST_CASE("layer btree: node capacity 355 without prefix, 356 splits") {
  // Keys whose first byte differs between first and last, so a squeeze finds no prefix.
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < 356; i++) {
    std::string k(18, '\0');
    k[0] = char(i / 2);
    k[1] = char(i % 2);
    keys.push_back(k);
  }
  std::vector<std::string> k355(keys.begin(), keys.begin() + 355);
  Tree a = Build(18, k355);
  REQUIRE(a.nodes() == 1);
  CHECK(DecodeBE16(a.node(0)) == 355);
  CHECK((a.node(0)[3] == 0 && a.node(0)[4] == 18));
  CheckScan(18, a, k355);

  Tree b = Build(18, keys);
  REQUIRE(b.nodes() == 3);
  CHECK(DecodeBE16(b.node(0)) == 355);
  CHECK(DecodeBE16(b.node(1)) == 1);
  CHECK((b.node(2)[2] == 1 && DecodeBE16(b.node(2)) == 2));
  CheckScan(18, b, keys);
}

TEST_CASE("layer btree: squeeze effect stays when the retry fails on a prefix mismatch") {
  // 355 keys of relation A fill the leaf; the 356th (relation B) fails on size, the squeeze gives
  // p = 16, the retry fails on the prefix, and the leaf is flushed with p = 16, n = 355.
  std::vector<std::string> keys = Contiguous(355);
  keys.push_back(RelKeyBytes(16385, 0));
  Tree t = Build(18, keys);
  REQUIRE(t.nodes() == 3);
  CHECK(DecodeBE16(t.node(0)) == 355);
  CHECK((t.node(0)[3] == 16 && t.node(0)[4] == 2));
  CHECK((DecodeBE16(t.node(1)) == 1 && t.node(1)[3] == 0 && t.node(1)[4] == 18));
  CheckScan(18, t, keys);
}

TEST_CASE("layer btree: a p = 16 leaf is flushed early where field6 crosses 65536") {
  std::vector<std::string> keys = Contiguous(2000, 65536 - 500);
  Tree t = Build(18, keys);
  CHECK(DecodeBE16(t.node(0)) == 500);
  CHECK((t.node(0)[3] == 16 && t.node(0)[4] == 2));
  CHECK(DecodeBE16(t.node(1)) == 1167);
  CheckScan(18, t, keys);
}

TEST_CASE("layer btree: index sizes of §11 and the emission order of §5.6") {
  struct {
    uint32_t n, index_blocks;
  } table[] = {{1, 1}, {10, 1}, {100, 1}, {1000, 1}, {2048, 3}, {16384, 16}, {131072, 114},
               {1048576, 905}};
  for (auto [n, want] : table) {
    CAPTURE(n);
    BTreeBuilder b(18);
    for (uint32_t i = 0; i < n; i++) REQUIRE(b.Append(U8(RelKeyBytes(16384, i)), 8192 + i).ok());
    REQUIRE(b.Finish().ok());
    CHECK(b.num_nodes() == want);
  }
  // 1 300 000 contiguous keys: 1022 leaves, level-1 node at 1022, more leaves, level-1 node at
  // 1122, level-2 root at 1123.
  BTreeBuilder b(18);
  for (uint32_t i = 0; i < 1300000; i++) REQUIRE(b.Append(U8(RelKeyBytes(16384, i)), 8192 + i).ok());
  auto root = b.Finish();
  REQUIRE(root.ok());
  CHECK(*root == 1123);
  REQUIRE(b.num_nodes() == 1124);
  for (uint32_t r = 0; r < b.num_nodes(); r++) {
    uint8_t level = uint8_t(b.blocks()[size_t(r) * 8192 + 2]);
    uint8_t want = r == 1123 ? 2 : (r == 1022 || r == 1122) ? 1 : 0;
    if (level != want) {
      CAPTURE(r);
      CHECK(level == want);
    }
  }
  // Level-1 nodes typically end up with s = 3 (1021 entries).
  const uint8_t* n1022 = U8(b.blocks().data() + 1022 * 8192);
  CHECK(DecodeBE16(n1022) == 1021);
  CHECK(n1022[4] == 3);
}

TEST_CASE("layer btree: generic key lengths round trip and Scan from a key") {
  std::mt19937_64 rng(42);
  for (size_t key_len : {size_t(1), size_t(8), size_t(18), size_t(26), size_t(64)}) {
    CAPTURE(key_len);
    for (size_t count : {size_t(1), size_t(200), size_t(3000), size_t(20000)}) {
      if (key_len == 1 && count > 256) continue;
      CAPTURE(count);
      std::vector<std::string> keys;
      if (key_len == 1) {
        for (size_t i = 0; i < count; i++) keys.push_back(std::string(1, char(i)));
      } else {
        // Clustered keys (shared prefixes like delta keys) mixed with random ones.
        while (keys.size() < count * 2) {
          std::string k(key_len, '\0');
          for (size_t j = 0; j < key_len; j++) k[j] = char(rng() % (j < key_len / 2 ? 3 : 256));
          keys.push_back(k);
        }
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        if (keys.size() > count) keys.resize(count);
      }
      Tree t = Build(key_len, keys);
      CheckScan(key_len, t, keys);

      auto file = NewMemoryReader("tree", t.blocks);
      BTreeReader r(file.get(), 0, t.nodes(), t.root, key_len);
      for (int q = 0; q < 200; q++) {
        std::string from(key_len, '\0');
        if (q % 2 == 0) {
          from = keys[rng() % keys.size()];
        } else {
          for (auto& c : from) c = char(rng());
        }
        auto it = std::lower_bound(keys.begin(), keys.end(), from);
        std::string got;
        bool any = false;
        Status st = r.Scan(U8(from), [&](const uint8_t* k, uint64_t, bool* stop) -> Status {
          got.assign(reinterpret_cast<const char*>(k), key_len);
          any = true;
          *stop = true;
          return Status::OK();
        });
        REQUIRE(st.ok());
        if (it == keys.end()) {
          CHECK(!any);
        } else {
          CHECK(any);
          CHECK(got == *it);
        }
      }
    }
  }
}

TEST_CASE("layer btree: builder contract errors") {
  BTreeBuilder b(18);
  CHECK(b.Finish().status().code() == Code::kInternal);  // empty
  BTreeBuilder c(18);
  REQUIRE(c.Append(U8(RelKeyBytes(1, 5)), 8192).ok());
  CHECK(c.Append(U8(RelKeyBytes(1, 5)), 8200).code() == Code::kInternal);  // equal key
  CHECK(c.Append(U8(RelKeyBytes(1, 4)), 8200).code() == Code::kInternal);  // smaller key
  CHECK(c.Append(U8(RelKeyBytes(1, 6)), 0x8000000000ull).code() == Code::kInternal);
  REQUIRE(c.Append(U8(RelKeyBytes(1, 6)), 0x7FFFFFFFFFull).ok());
  REQUIRE(c.Finish().ok());
  const uint8_t* v = U8(c.blocks().data() + 5 + 36 + 5);
  CHECK(DecodeValue40(v) == 0x7FFFFFFFFFull);
  CHECK(!c.Finish().ok());
}

TEST_CASE("layer btree: ParseBTreeNode rejects malformed nodes") {
  std::string block(8192, '\0');
  uint8_t* b = reinterpret_cast<uint8_t*>(block.data());
  BTreeNodeView v;
  // n = 0.
  b[4] = 18;
  CHECK(ParseBTreeNode(b, 18, &v).message().find("n = 0") != std::string::npos);
  // p + s != key length.
  EncodeBE16(b, 1);
  b[4] = 17;
  CHECK(!ParseBTreeNode(b, 18, &v).ok());
  // U > 8192.
  b[4] = 18;
  EncodeBE16(b, 357);  // 5 + 357*23 = 8216
  CHECK(ParseBTreeNode(b, 18, &v).message().find("more than 8192") != std::string::npos);
  // Exactly 8192 bytes used is accepted by a reader (U <= 8192): p=0, s=1, n=1365 gives 8195;
  // s = 3, n = 1023: 5 + 15 + 1023*8 = 8204; use p=15 s=3 n=1022: 5+15+1022*8 = 8196 > 8192.
  // p = 17, s = 1, n = 1361: 5 + 17 + 1361*6 = 8188 — fits.
  b[3] = 17;
  b[4] = 1;
  EncodeBE16(b, 1361);
  for (int i = 0; i < 1361; i++) b[5 + 17 + i] = uint8_t(i % 256);  // not increasing after 255
  CHECK(ParseBTreeNode(b, 18, &v).message().find("out of order") != std::string::npos);
  EncodeBE16(b, 200);
  for (int i = 0; i < 200; i++) b[5 + 17 + 200 + i * 5] = 0;
  CHECK(ParseBTreeNode(b, 18, &v).ok());
  // Leaf value with the top bit set; internal value without the 0x80 tag.
  b[5 + 17 + 200] = 0x80;
  CHECK(ParseBTreeNode(b, 18, &v).message().find("top bit") != std::string::npos);
  b[2] = 1;
  b[5 + 17 + 200 + 5] = 0x81;
  CHECK(ParseBTreeNode(b, 18, &v).message().find("must be 0x80") != std::string::npos);
}
