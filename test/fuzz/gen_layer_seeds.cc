// Writes the seed layers of the image_layer_reader fuzz target with our writer:
//   gen_layer_seeds OUTDIR
// OUTDIR/example_a (image-layer.md §9 A: three 8192-byte pages), example_d (§9 D: the smallest
// layer), example_e_zstd (§9 E's inputs with zstd: a compressed and a raw page, 127/128-byte
// values), rewrite_8192 (§10.1 shape: 8192 small values, a multi-node B-tree, fixed ids) and
// mixed_keys (non-relation keys: relmap, SLRU, aux, with values of many sizes). Deterministic:
// running it again gives the same bytes (test/fuzz/run.sh does not call it; the output is
// checked in under test/fuzz/corpus/image_layer_reader/).
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "keyspace/key.h"
#include "layer/image_layer_writer.h"
#include "util/ids.h"

using namespace p2l;

namespace {

Key RelKey(uint32_t b) { return Key{0, 1663, 5, 16384, 0, b}; }

int Write(const std::string& path, const Key& start, const Key& end,
          const std::vector<std::pair<Key, std::string>>& kv, bool zstd) {
  ImageLayerWriterOptions opts;
  opts.zstd = zstd;
  opts.sync = false;
  auto tenant = Id16::FromHex("00112233445566778899aabbccddeeff");
  auto timeline = Id16::FromHex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  if (!tenant.ok() || !timeline.ok()) return 1;
  auto w = ImageLayerWriter::Create(path, *tenant, *timeline, start, end, 0x0000000001696070ull, opts);
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
    return 1;
  }
  for (const auto& [k, v] : kv) {
    Status st = (*w)->Put(k, v);
    if (!st.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), st.ToString().c_str());
      return 1;
    }
  }
  auto size = (*w)->Finish();
  if (!size.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), size.status().ToString().c_str());
    return 1;
  }
  std::printf("%s: %llu bytes, %zu keys\n", path.c_str(), static_cast<unsigned long long>(*size),
              kv.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_layer_seeds OUTDIR\n");
    return 2;
  }
  const std::string out = argv[1];
  int bad = 0;
  {
    std::vector<std::pair<Key, std::string>> kv;
    for (int i = 0; i < 3; i++) kv.emplace_back(RelKey(i), std::string(8192, char(0x11 * (i + 1))));
    bad |= Write(out + "/example_a", RelKey(0), RelKey(3), kv, false);
  }
  bad |= Write(out + "/example_d", RelKey(7), RelKey(8), {{RelKey(7), std::string("\x01\x02\x03\x04", 4)}},
               false);
  {
    std::string random_page(8192, '\0');
    uint32_t x = 12345;
    for (auto& ch : random_page) {
      x = x * 1103515245 + 12345;
      ch = char(x >> 24);
    }
    std::vector<std::pair<Key, std::string>> kv = {{RelKey(0), std::string(8192, '\0')},
                                                   {RelKey(1), random_page},
                                                   {RelKey(2), std::string(127, 'a')},
                                                   {RelKey(3), std::string(128, 'a')}};
    bad |= Write(out + "/example_e_zstd", RelKey(0), RelKey(4), kv, true);
  }
  {
    auto start = Key::FromHex("000000067F00000001000000AE0000000000");
    auto end = Key::FromHex("000000067F00000001000000AE0000002000");
    if (!start.ok() || !end.ok()) return 1;
    std::vector<std::pair<Key, std::string>> kv;
    for (uint32_t i = 0; i < 0x2000; i++) {
      Key k;
      if (!start->Add(i, &k)) return 1;
      kv.emplace_back(k, std::string("\x01\x02\x03\x04", 4));
    }
    bad |= Write(out + "/rewrite_8192", *start, *end, kv, false);
  }
  {
    // Keys of several kinds in key order, values from 0 to 300 bytes (short blob headers and
    // long ones), some compressible.
    std::vector<std::pair<Key, std::string>> kv;
    const Key keys[] = {
        Key{0x00, 1663, 5, 0, 0, 0},          // relmap of db 5
        Key{0x00, 1663, 5, 16384, 0, 0},      // a relation page
        Key{0x00, 1663, 5, 16384, 1, 2},      // its FSM
        Key{0x00, 1663, 5, 16384, 2, 0},      // its VM
        Key{0x01, 0, 0, 0, 0, 0},             // SLRU clog dir
        Key{0x01, 0, 0, 0, 0, 1},             // SLRU clog segment 0 block 1
        Key{0x01, 1, 0, 0, 0, 0},             // multixact offsets
        Key{0x02, 0, 0, 0, 0, 0},             // twophase dir
        Key{0x03, 0, 0, 0, 0, 0},             // control file
        Key{0x03, 0, 0, 0, 0, 1},             // checkpoint
        Key{0x62, 0, 0, 0, 0, 0},             // aux file
    };
    size_t i = 0;
    for (const Key& k : keys) {
      std::string v(i * 30, char('A' + i));
      if (i % 3 == 1) {
        for (size_t j = 0; j < v.size(); j++) v[j] = char(j * 7 + i);
      }
      kv.emplace_back(k, v);
      i++;
    }
    Key end = Key{0x62, 0, 0, 0, 0, 1};
    bad |= Write(out + "/mixed_keys", kv.front().first, end, kv, true);
  }
  return bad;
}
