// Image layer names (image-layer.md §7): format, parse with generation suffixes, rejections, and
// every name of a real Neon index (test/data/layer/mixed_workload_layer_names.txt).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "layer/layer_name.h"

using namespace p2l;

TEST_CASE("layer name: format") {
  ImageLayerName n;
  n.key_start = Key{0, 1663, 5, 16384, 0, 0};
  n.key_end = Key{0, 1663, 5, 16384, 0, 3};
  n.lsn = 0x1696070;
  CHECK(n.ToString() ==
        "000000067F00000005000040000000000000-000000067F00000005000040000000000003__0000000001696070");
  n.lsn = 0xDEADBEEF0000ull;
  CHECK(n.ToString().substr(73) == "__0000DEADBEEF0000");
  CHECK(n.ToString().size() == 91);
}

TEST_CASE("layer name: parse accepted forms") {
  const std::string base =
      "000000067F00000005000040000000000000-000000067F00000005000040000000000003__0000000001696070";
  std::optional<uint32_t> gen;
  auto a = ImageLayerName::Parse(base, &gen);
  REQUIRE(a.ok());
  CHECK(!gen.has_value());
  CHECK(a->key_start == Key{0, 1663, 5, 16384, 0, 0});
  CHECK(a->key_end == Key{0, 1663, 5, 16384, 0, 3});
  CHECK(a->lsn == 0x1696070);
  CHECK(a->ToString() == base);

  auto b = ImageLayerName::Parse(base + "-v1-00000001", &gen);
  REQUIRE(b.ok());
  CHECK(gen == std::optional<uint32_t>(1));
  auto c = ImageLayerName::Parse(base + "-0000000a", &gen);
  REQUIRE(c.ok());
  CHECK(gen == std::optional<uint32_t>(10));
  CHECK(ImageLayerName::Parse(base + "-v1-fffffffe", &gen).ok());
  CHECK(gen == std::optional<uint32_t>(0xfffffffe));
  // Without the out-parameter.
  CHECK(ImageLayerName::Parse(base + "-00000002").ok());
  // Lower-case keys and a short LSN are accepted on parse (Neon does), written back upper-case.
  auto d = ImageLayerName::Parse(
      "000000067f00000005000040000000000000-000000067f00000005000040000000000003__1696070");
  REQUIRE(d.ok());
  CHECK(d->ToString() == base);
}

TEST_CASE("layer name: rejections") {
  const std::string keys =
      "000000067F00000005000040000000000000-000000067F00000005000040000000000003";
  const char* bad[] = {
      "",
      "garbage",
      "000000067F00000005000040000000000000__0000000001696070",          // one key only
      "000000067F0000000500004000000000000-000000067F00000005000040000000000003__01",  // 35 digits
      "000000067F00000005000040000000000000-000000067F000000050000400000000000030__01",
      "00000006XF00000005000040000000000000-000000067F00000005000040000000000003__01",
  };
  for (const char* s : bad) {
    CAPTURE(s);
    auto r = ImageLayerName::Parse(s);
    CHECK(!r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
  }
  const char* bad_suffix[] = {
      "__",                                      // empty LSN
      "__00000000016960701",                     // 17 digits
      "__000000000169607G",                      // not hex
      "__0000000001696070-0000000001696071",     // delta layer
      "__0000000001696070-0000000001696071-v1-00000001",
      "__0000000001696070-v2-00000001",
      "__0000000001696070-v1-0000001",
      "__0000000001696070-0000001",
      "__0000000001696070-0000000g",
      "__0000000000000000-00000001",             // ambiguous with a delta range (§7.3 item 5)
  };
  for (const char* s : bad_suffix) {
    std::string name = keys + s;
    CAPTURE(name);
    auto r = ImageLayerName::Parse(name);
    CHECK(!r.ok());
    if (!r.ok()) CHECK(r.status().message().find(name) != std::string::npos);
  }
}

TEST_CASE("layer name: every name of Neon's mixed_workload index") {
  std::ifstream in("../data/layer/mixed_workload_layer_names.txt");
  REQUIRE(in.good());
  std::string line;
  int images = 0, deltas = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind, name;
    uint64_t size = 0;
    ls >> kind >> name >> size;
    CAPTURE(name);
    auto r = ImageLayerName::Parse(name);
    if (kind == "image") {
      images++;
      REQUIRE(r.ok());
      CHECK(r->ToString() == name);
      CHECK(size % 8192 == 0);
      CHECK(size >= 24576);
    } else {
      deltas++;
      CHECK(!r.ok());
    }
  }
  CHECK(images == 802);
  CHECK(deltas == 762);
}
