// Property test: random sorted key sets (1 .. 200000 keys; contiguous, sparse and random 18-byte
// keys) with random small values, raw or zstd: write -> read back identical; Get finds every key
// and none of a sample of absent keys.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "layer/image_layer_reader.h"
#include "layer/image_layer_writer.h"
#include "layer_test_util.h"
#include "storage/memory_reader.h"

using namespace p2l;
using namespace p2l::layertest;

namespace {

enum class Dist { kContiguous, kSparse, kRandom };

std::vector<Key> MakeKeys(Dist dist, size_t n, std::mt19937_64& rng) {
  std::vector<Key> keys;
  keys.reserve(n);
  switch (dist) {
    case Dist::kContiguous: {
      Key k{0, 1663, 5, 16384, 0, uint32_t(rng() % 100000)};
      for (size_t i = 0; i < n; i++) {
        keys.push_back(k);
        k = k.Next();
      }
      break;
    }
    case Dist::kSparse: {
      // Several relations and forks, blocks with random gaps.
      Key k{0, 1663, 5, 16384, 0, 0};
      for (size_t i = 0; i < n; i++) {
        keys.push_back(k);
        uint32_t r = uint32_t(rng() % 1000);
        Key next;
        if (r == 0) {
          k = Key{0, 1663, 5, k.field4 + 1 + uint32_t(rng() % 50), 0, uint32_t(rng() % 10)};
        } else if (r == 1 && k.field5 < 3) {
          k = Key{0, 1663, 5, k.field4, uint8_t(k.field5 + 1), 0};
        } else if (k.Add(1 + uint32_t(rng() % (r < 900 ? 2 : 70000)), &next)) {
          k = next;
        }
      }
      break;
    }
    case Dist::kRandom: {
      while (keys.size() < n) {
        uint8_t b[kKeySize];
        for (auto& c : b) c = uint8_t(rng());
        keys.push_back(Key::Decode(b));
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      break;
    }
  }
  return keys;
}

std::string RandomValue(std::mt19937_64& rng, bool large_set) {
  size_t len;
  uint32_t r = uint32_t(rng() % 1000);
  if (r < 700) len = rng() % 16;
  else if (r < (large_set ? 999u : 950u)) len = 100 + rng() % 60;  // around the 128-byte boundary
  else len = 8192;
  std::string v(len, '\0');
  const bool compressible = rng() % 2 == 0;
  for (size_t i = 0; i < len; i++) v[i] = compressible ? char(i / 16) : char(rng());
  return v;
}

void RunCase(Dist dist, size_t n, bool zstd, uint64_t seed) {
  CAPTURE(int(dist));
  CAPTURE(n);
  CAPTURE(zstd);
  std::mt19937_64 rng(seed);
  std::vector<Key> keys = MakeKeys(dist, n, rng);
  REQUIRE(!keys.empty());
  std::vector<std::string> values;
  values.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); i++) values.push_back(RandomValue(rng, n > 10000));
  const Key start = keys.front();
  const Key end = keys.back() == Key::Max() ? keys.back() : keys.back().Next();
  if (keys.back() == Key::Max()) {
    keys.pop_back();
    values.pop_back();
  }

  TempDir dir;
  ImageLayerWriterOptions opts;
  opts.zstd = zstd;
  opts.buffer_size = 64 << 10;
  opts.sync = false;
  auto w = ImageLayerWriter::Create(dir.File("l"), ExampleTenant(), ExampleTimeline(), start, end,
                                    kExampleLsn, opts);
  REQUIRE(w.ok());
  for (size_t i = 0; i < keys.size(); i++) REQUIRE((*w)->Put(keys[i], values[i]).ok());
  CHECK((*w)->num_keys() == keys.size());
  auto size = (*w)->Finish();
  REQUIRE(size.ok());
  std::string bytes = ReadWholeFile(dir.File("l"));
  REQUIRE(bytes.size() == *size);
  REQUIRE(bytes.size() % 8192 == 0);

  ImageLayerReaderOptions ropts;
  ropts.scan_chunk_size = 1 << 16;  // many chunk boundaries
  auto r = ImageLayerReader::Open(NewMemoryReader("prop", std::move(bytes)), ropts);
  REQUIRE(r.ok());
  size_t i = 0;
  bool same = true;
  Status st = (*r)->ForEach([&](const Key& k, std::string_view v) -> Status {
    if (i >= keys.size() || k != keys[i] || v != values[i]) same = false;
    i++;
    return Status::OK();
  });
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(same);
  CHECK(i == keys.size());

  // Get: every key (a sample of at most 20000 for the large sets) and absent keys.
  size_t step = std::max<size_t>(1, keys.size() / 20000);
  size_t bad = 0;
  for (size_t j = 0; j < keys.size(); j += step) {
    auto g = (*r)->Get(keys[j]);
    if (!g.ok() || !g->has_value() || **g != values[j]) bad++;
  }
  CHECK(bad == 0);
  size_t false_hits = 0;
  for (int j = 0; j < 2000; j++) {
    Key probe;
    switch (j % 4) {
      case 0: probe = keys[rng() % keys.size()].Next(); break;
      case 1: {
        uint8_t b[kKeySize];
        for (auto& c : b) c = uint8_t(rng());
        probe = Key::Decode(b);
        break;
      }
      case 2: probe = Key::Min(); break;
      default: probe = end; break;
    }
    if (std::binary_search(keys.begin(), keys.end(), probe)) continue;
    auto g = (*r)->Get(probe);
    if (!g.ok() || g->has_value()) false_hits++;
  }
  CHECK(false_hits == 0);
}

}  // namespace

TEST_CASE("layer property: random key sets round trip") {
  const size_t sizes[] = {1, 2, 355, 356, 1167, 1168, 5000, 200000};
  uint64_t seed = 1;
  for (size_t n : sizes) {
    for (Dist d : {Dist::kContiguous, Dist::kSparse, Dist::kRandom}) {
      RunCase(d, n, /*zstd=*/seed % 3 == 0, seed);
      seed++;
    }
  }
}
