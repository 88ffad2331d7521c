// Image layer reader robustness: each corruption is rejected with a clear error naming the layer
// (and offset/block), never a crash; zstd layers round trip; the fuzz entry survives mutations.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "layer/fuzz_entry.h"
#include "layer/image_layer_reader.h"
#include "layer/image_layer_writer.h"
#include "layer_test_util.h"
#include "storage/memory_reader.h"
#include "util/coding.h"

using namespace p2l;
using namespace p2l::layertest;

namespace {

constexpr const char* kName = "corrupt-layer";

std::string MakeLayer(const std::vector<std::pair<Key, std::string>>& kv, const Key& start,
                      const Key& end, ImageLayerWriterOptions opts = {}) {
  TempDir dir;
  opts.sync = false;
  auto w = ImageLayerWriter::Create(dir.File("l"), ExampleTenant(), ExampleTimeline(), start, end,
                                    kExampleLsn, opts);
  REQUIRE(w.ok());
  for (const auto& [k, v] : kv) REQUIRE((*w)->Put(k, v).ok());
  REQUIRE((*w)->Finish().ok());
  return ReadWholeFile(dir.File("l"));
}

// Example D: one key, key(7) = 01 02 03 04. Blob at 8192, root leaf at 16384.
std::string LayerD() {
  return MakeLayer({{RelKey(7), std::string("\x01\x02\x03\x04", 4)}}, RelKey(7), RelKey(8));
}

// 1200 contiguous keys with 4-byte values: S = 2, leaf0 (block 2, n=1167), leaf1 (block 3,
// n=33, p=0), root (block 4, level 1, two entries).
std::vector<std::pair<Key, std::string>> KV1200() {
  std::vector<std::pair<Key, std::string>> kv;
  for (uint32_t i = 0; i < 1200; i++) {
    std::string v;
    PutBE32(&v, i);
    kv.emplace_back(RelKey(i), v);
  }
  return kv;
}
std::string Layer1200() { return MakeLayer(KV1200(), RelKey(0), RelKey(1200)); }

// Example A: three raw 8192-byte blobs (headers at 8192, 16388, 24584), root at 40960.
std::string LayerA() {
  std::vector<std::pair<Key, std::string>> kv;
  for (int i = 0; i < 3; i++) kv.emplace_back(RelKey(i), std::string(8192, char(0x11 * (i + 1))));
  return MakeLayer(kv, RelKey(0), RelKey(3));
}

void Put8(std::string* s, size_t off, uint8_t v) { (*s)[off] = char(v); }

// Opens and reads everything (ForEach, ForEachKey, Get of key(0..2), key(7)); returns the first
// error. Also feeds the bytes to the fuzz entry.
Status OpenAndRead(const std::string& bytes, ImageLayerReaderOptions opts = {}) {
  FuzzImageLayerReader(U8(bytes), bytes.size());
  auto r = ImageLayerReader::Open(NewMemoryReader(kName, bytes), opts);
  if (!r.ok()) return r.status();
  Status first;
  Status st = (*r)->ForEach([](const Key&, std::string_view) { return Status::OK(); });
  if (!st.ok() && first.ok()) first = st;
  st = (*r)->ForEachKey([](const Key&, uint64_t) { return Status::OK(); });
  if (!st.ok() && first.ok()) first = st;
  for (uint32_t b : {0u, 1u, 2u, 7u, 1199u}) {
    auto g = (*r)->Get(RelKey(b));
    if (!g.ok() && first.ok()) first = g.status();
  }
  return first;
}

void ExpectError(const std::string& bytes, const std::string& fragment,
                 ImageLayerReaderOptions opts = {}) {
  Status st = OpenAndRead(bytes, opts);
  CAPTURE(st.ToString());
  REQUIRE(!st.ok());
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(st.message().find(kName) != std::string::npos);
  CHECK(st.message().find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("layer reader: intact layers read without error") {
  CHECK(OpenAndRead(LayerD()).ok());
  CHECK(OpenAndRead(Layer1200()).ok());
  CHECK(OpenAndRead(LayerA()).ok());
  auto r = ImageLayerReader::Open(NewMemoryReader(kName, Layer1200()));
  REQUIRE(r.ok());
  CHECK((*r)->num_index_nodes() == 3);
  CHECK((*r)->summary().index_start_blk == 2);
  CHECK((*r)->summary().index_root_blk == 2);
  CHECK((*r)->summary().tenant == ExampleTenant());
  CHECK((*r)->summary().timeline == ExampleTimeline());
  CHECK((*r)->summary().lsn == kExampleLsn);
  CHECK((*r)->file_size() == 40960);
  uint64_t n = 0, last = 0;
  REQUIRE((*r)->ForEachKey([&](const Key& k, uint64_t off) -> Status {
                CHECK(k == RelKey(uint32_t(n)));
                CHECK(off == 8192 + n * 5);
                last = off;
                n++;
                return Status::OK();
              }).ok());
  CHECK(n == 1200);
  // A non-OK status from the callback stops the scan and is returned.
  int calls = 0;
  Status st = (*r)->ForEach([&](const Key&, std::string_view) -> Status {
    return ++calls == 10 ? Status::Conflict("stop here") : Status::OK();
  });
  CHECK(st.code() == Code::kConflict);
  CHECK(calls == 10);
  // Absent keys, outside and inside the range.
  auto g = (*r)->Get(RelKey(1200));
  REQUIRE(g.ok());
  CHECK(!g->has_value());
  g = (*r)->Get(Key{0, 1663, 5, 16383, 0, 5});
  REQUIRE(g.ok());
  CHECK(!g->has_value());
}

TEST_CASE("layer reader: summary corruption") {
  // Each case writes bytes {offset, value} into the summary of LayerD() and expects an error.
  struct Case {
    const char* name;
    std::vector<std::pair<size_t, uint8_t>> bytes;
    const char* error;
  };
  const Case cases[] = {
      {"bad magic", {{0, 0x12}}, "bad magic 0x1260"},
      {"delta layer magic", {{1, 0x61}}, "delta layer"},
      {"bad format version", {{3, 0x02}}, "format_version 2"},
      {"index_start_blk outside the file", {{83, 0x03}}, "index_start_blk 3"},
      {"index_start_blk 0", {{83, 0x00}}, "index_start_blk 0"},
      {"index_root_blk outside the index", {{87, 0x01}}, "index_root_blk 1"},
      {"empty key range", {{71, 0x07}}, "empty key range"},  // key_end = key(7) = key_start
      // key_start = key(8), key_end = key(9)
      {"key outside the summary's range", {{53, 0x08}, {71, 0x09}}, "outside the layer's key range"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    std::string d = LayerD();
    for (const auto& [off, v] : c.bytes) Put8(&d, off, v);
    ExpectError(d, c.error);
  }
}

TEST_CASE("layer reader: truncated files") {
  std::string d = LayerD();
  ExpectError(d.substr(0, 50), "truncated");
  ExpectError(d.substr(0, 8192 + 100), "not a multiple of 8192");
  ExpectError(d.substr(0, 16384), "index_start_blk 2");
  std::string big = Layer1200();
  ExpectError(big.substr(0, big.size() - 8192), "index_root_blk 2");
  ExpectError(std::string(), "truncated");
}

TEST_CASE("layer reader: B-tree corruption") {
  std::string t = Layer1200();
  const size_t leaf1 = 3 * 8192, root = 4 * 8192;
  SUBCASE("child pointer outside the file") {
    Put8(&t, root + 46 + 4, 0x63);  // root entry 1 -> node 99
    ExpectError(t, "outside the index");
  }
  SUBCASE("child pointer to the root itself (cycle)") {
    Put8(&t, root + 46 + 4, 0x02);
    ExpectError(t, "level 1, expected 0");
  }
  SUBCASE("keys out of order inside a leaf") {
    // Swap entries 0 and 1 of leaf1 (p = 0, s = 18).
    std::string k0 = t.substr(leaf1 + 5, 18), k1 = t.substr(leaf1 + 23, 18);
    t.replace(leaf1 + 5, 18, k1);
    t.replace(leaf1 + 23, 18, k0);
    ExpectError(t, "keys out of order");
  }
  SUBCASE("separator does not bound the left child") {
    Put8(&t, root + 23 + 17, 0x05);  // root key 1 = key(0x405) < leaf0's last key
    Put8(&t, root + 23 + 16, 0x04);
    ExpectError(t, "not below the next separator");
  }
  SUBCASE("keys out of order across leaves") {
    // Point both root entries at leaf0: the second visit repeats keys.
    Put8(&t, root + 46 + 4, 0x00);
    std::string st = OpenAndRead(t).ToString();
    CHECK(!OpenAndRead(t).ok());
    CHECK(st.find(kName) != std::string::npos);
  }
  SUBCASE("n = 0 node") {
    Put8(&t, leaf1 + 0, 0);
    Put8(&t, leaf1 + 1, 0);
    ExpectError(t, "n = 0");
  }
  SUBCASE("bad internal value byte") {
    Put8(&t, root + 41, 0x81);
    ExpectError(t, "must be 0x80");
  }
  SUBCASE("leaf value with the top bit set") {
    Put8(&t, leaf1 + 5 + 33 * 18, 0x80);
    ExpectError(t, "top bit must be 0");
  }
  SUBCASE("prefix + suffix length != 18") {
    Put8(&t, leaf1 + 4, 17);
    ExpectError(t, "!= key length 18");
  }
  SUBCASE("node larger than a block") {
    Put8(&t, leaf1 + 0, 0x10);  // n = 4129
    ExpectError(t, "more than 8192");
  }
  SUBCASE("root level above the limit") {
    Put8(&t, root + 2, 200);
    ExpectError(t, "root level 200");
  }
  SUBCASE("level does not decrease by one") {
    Put8(&t, root + 2, 2);
    ExpectError(t, "level 0, expected 1");
  }
  SUBCASE("errors name the block") {
    Put8(&t, leaf1 + 4, 17);
    Status st = OpenAndRead(t);
    CHECK(st.message().find("node 1 (block 3, offset 24576)") != std::string::npos);
  }
}

TEST_CASE("layer reader: leaf offsets and blob corruption") {
  SUBCASE("leaf offset below the value area") {
    std::string d = LayerD();
    Put8(&d, 16384 + 23 + 3, 0x00);  // offset 0
    ExpectError(d, "outside the value area [8192, 16384)");
  }
  SUBCASE("leaf offset in the index area") {
    std::string d = LayerD();
    Put8(&d, 16384 + 23 + 3, 0x40);  // offset 16384 = S*8192
    ExpectError(d, "outside the value area");
  }
  SUBCASE("leaf offsets not increasing") {
    std::string a = LayerA();
    Put8(&a, 40960 + 64 + 3, 0x20);  // entry 1 -> offset 8192, same as entry 0
    Put8(&a, 40960 + 64 + 4, 0x00);
    ExpectError(a, "not greater than the previous key's offset");
  }
  SUBCASE("blob length past the end of the file") {
    std::string d = LayerD();
    d.replace(8192, 4, std::string("\x80\x01\x00\x00", 4));  // L = 65536
    ExpectError(d, "before the end of the value area at 16384");
  }
  SUBCASE("blob length past the next blob") {
    std::string a = LayerA();
    Put8(&a, 8192 + 3, 0x01);  // L = 8193
    ExpectError(a, "before the next blob at 16388");
  }
  SUBCASE("bad compression nibble") {
    std::string a = LayerA();
    Put8(&a, 8192, 0xA0);
    ExpectError(a, "invalid compression byte 0xA0");
    Status st = OpenAndRead(a);
    CHECK(st.message().find("at offset 8192") != std::string::npos);
  }
  SUBCASE("4-byte header cut by the next blob") {
    // Two 1-byte blobs; make the first header byte 0x80 so it needs 4 bytes but has a 2-byte span.
    std::string l = MakeLayer({{RelKey(0), "a"}, {RelKey(1), "b"}}, RelKey(0), RelKey(2));
    Put8(&l, 8192, 0x80);
    ExpectError(l, "only 2 byte(s) left");
  }
}

TEST_CASE("layer reader: zstd layers") {
  std::vector<std::pair<Key, std::string>> kv;
  std::mt19937 rng(1);
  for (uint32_t i = 0; i < 300; i++) {
    std::string v;
    switch (i % 4) {
      case 0: v = std::string(8192, '\0'); break;
      case 1: v = std::string(i, char(i)); break;
      case 2:
        v.resize(8192);
        for (auto& c : v) c = char(rng());
        break;
      case 3: v = std::string(100000 + i, char(i)); break;
    }
    kv.emplace_back(RelKey(i), v);
  }
  ImageLayerWriterOptions opts;
  opts.zstd = true;
  std::string l = MakeLayer(kv, RelKey(0), RelKey(300), opts);
  auto r = ImageLayerReader::Open(NewMemoryReader(kName, l));
  REQUIRE(r.ok());
  size_t i = 0;
  REQUIRE((*r)->ForEach([&](const Key& k, std::string_view v) -> Status {
                CHECK(k == kv[i].first);
                CHECK(v == kv[i].second);
                i++;
                return Status::OK();
              }).ok());
  CHECK(i == kv.size());
  for (uint32_t j : {0u, 3u, 150u, 299u}) {
    auto g = (*r)->Get(RelKey(j));
    REQUIRE(g.ok());
    REQUIRE(g->has_value());
    CHECK(**g == kv[j].second);
  }
  // The first blob (a zero page) is the 22-byte zstd blob of example E.
  CHECK(uint8_t(l[8192]) == 0x90);

  SUBCASE("decompressed size cap") {
    ImageLayerReaderOptions small;
    small.max_decompressed_blob = 4096;
    ExpectError(l, "more than 4096 bytes", small);
  }
  SUBCASE("corrupt frame") {
    Put8(&l, 8192 + 4, 0x00);  // zstd magic destroyed
    ExpectError(l, "does not decode");
  }
  SUBCASE("truncated frame (length shortened)") {
    Put8(&l, 8192 + 3, 0x11);  // 17 of 18 frame bytes
    ExpectError(l, "offset 8192");
  }
}

TEST_CASE("layer reader: fuzz entry survives random mutations") {
  const std::string bases[] = {Layer1200(), LayerD(), LayerA()};
  std::mt19937_64 rng(2024);
  int errors = 0;
  for (const std::string& base : bases) {
    for (int iter = 0; iter < 400; iter++) {
      std::string m = base;
      int edits = 1 + int(rng() % 4);
      for (int e = 0; e < edits; e++) {
        size_t pos;
        switch (rng() % 4) {
          case 0: pos = rng() % 88; break;                                  // summary
          case 1: pos = m.size() - 3 * 8192 + rng() % (3 * 8192); break;   // index
          case 2: pos = 8192 + rng() % 64; break;                           // first blobs
          default: pos = rng() % m.size(); break;
        }
        m[pos] = char(rng() % 5 == 0 ? 0xFF : rng());
      }
      if (rng() % 10 == 0) m.resize(rng() % m.size());
      errors += FuzzImageLayerReader(U8(m), m.size()) != 0;
    }
  }
  CHECK(errors == 0);
  CHECK(FuzzImageLayerReader(nullptr, 0) == 0);
}
