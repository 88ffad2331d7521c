// §10.1 shard variants: the 8192-key layer re-filtered for shard 0/2/3 of 4 (stripe 0x800) keeps
// the full key range; sizes and SHA-256 of [8192, end) as in the spec. Shard 1 gets no keys, and
// an empty layer cannot be finished.
#include <doctest/doctest.h>

#include <string>

#include "keyspace/shard.h"
#include "layer/image_layer_writer.h"
#include "layer_test_util.h"

using namespace p2l;
using namespace p2l::layertest;

TEST_CASE("layer §10.1: shard-filtered variants of the 8192-key layer") {
  const Key start = Key::FromHex("000000067F00000001000000AE0000000000").value();
  const Key end = Key::FromHex("000000067F00000001000000AE0000002000").value();
  struct Case {
    uint32_t number;
    uint32_t keys;
    uint64_t size;
    const char* sha;
  } cases[] = {
      {0, 0x800, 49152, "70679316edfcff5364074b1bfa2b60e6a2b56b633ab3db069f7c9a1c88ca647d"},
      {1, 0, 0, nullptr},
      {2, 0x800, 49152, "113091fca9afbe0ec163f23b80c40ed561250e107a30bbea87f467135da7a912"},
      {3, 0x1000, 73728, "cdda59eb45fdb2e6553514694703746e5aa33d4711e4489733eabd15221de069"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.number);
    auto shard = ShardIdentity::Make(c.number, 4, 0x800);
    REQUIRE(shard.ok());
    TempDir dir;
    auto w = ImageLayerWriter::Create(dir.File("layer"), Id16::Random(), Id16::Random(), start,
                                      end, 0xDEADBEEF0000ull);
    REQUIRE(w.ok());
    for (uint32_t i = 0; i < 0x2000; i++) {
      Key k;
      REQUIRE(start.Add(i, &k));
      if (shard->IsKeyDisposable(k)) continue;
      REQUIRE((*w)->Put(k, std::string("\x01\x02\x03\x04", 4)).ok());
    }
    CHECK((*w)->num_keys() == c.keys);
    auto size = (*w)->Finish();
    if (c.keys == 0) {
      CHECK(!size.ok());
      CHECK(size.status().code() == Code::kInternal);
      continue;
    }
    REQUIRE(size.ok());
    CHECK(*size == c.size);
    std::string bytes = ReadWholeFile(dir.File("layer"));
    REQUIRE(bytes.size() == c.size);
    CHECK(Sha256Hex(std::string_view(bytes).substr(8192)) == c.sha);
  }
}
