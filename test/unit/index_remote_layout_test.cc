// Remote object keys: index-part-and-import.md §3.1 and the objects of examples C and E (§2.8).
#include <doctest/doctest.h>

#include "index/remote_layout.h"

using namespace p2l;

namespace {

Id16 Id(const char* hex) {
  auto r = Id16::FromHex(hex);
  REQUIRE(r.ok());
  return *r;
}

const char* kLayer0 = "000000000000000000000000000000000000-000000067F00000005000040000000000000__000000000169C3D0";
const char* kLayer1 = "000000067F00000005000040000000000000-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF__000000000169C3D0";
const char* kLayerAll = "000000000000000000000000000000000000-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF__000000000169C3D0";

}  // namespace

TEST_CASE("remote_layout: example C objects (unsharded)") {
  TenantId t = Id("8f2c0c6e1d3b4a5f9e7d6c5b4a392817");
  TimelineId tl = Id("1a2b3c4d5e6f708192a3b4c5d6e7f801");
  ShardIdentity u = ShardIdentity::Unsharded();
  const std::string root =
      "tenants/8f2c0c6e1d3b4a5f9e7d6c5b4a392817/timelines/1a2b3c4d5e6f708192a3b4c5d6e7f801/";
  CHECK(TenantShardPath(t, u) == "tenants/8f2c0c6e1d3b4a5f9e7d6c5b4a392817");
  CHECK(TimelinePath(t, u, tl) + "/" == root);
  CHECK(IndexPartPath(t, u, tl, 2) == root + "index_part.json-00000002");
  CHECK(LayerPath(t, u, tl, kLayer0, 1) == root + std::string(kLayer0) + "-00000001");
  CHECK(LayerPath(t, u, tl, kLayer1, 2) == root + std::string(kLayer1) + "-00000002");
  CHECK(LayerPathFromIndex(t, tl, kLayer1, "0000", 2) == root + std::string(kLayer1) + "-00000002");
  // No generation: no suffix (example D).
  CHECK(IndexPartPath(t, u, tl, std::nullopt) == root + "index_part.json");
  CHECK(LayerPath(t, u, tl, kLayerAll, std::nullopt) == root + std::string(kLayerAll));
}

TEST_CASE("remote_layout: example E objects (shard 1 of 4)") {
  TenantId t = Id("8f2c0c6e1d3b4a5f9e7d6c5b4a392817");
  TimelineId tl = Id("1a2b3c4d5e6f708192a3b4c5d6e7f801");
  auto s = ShardIdentity::Make(1, 4, 2048);
  REQUIRE(s.ok());
  const std::string root =
      "tenants/8f2c0c6e1d3b4a5f9e7d6c5b4a392817-0104/timelines/1a2b3c4d5e6f708192a3b4c5d6e7f801/";
  CHECK(IndexPartPath(t, *s, tl, 3) == root + "index_part.json-00000003");
  CHECK(LayerPath(t, *s, tl, kLayerAll, 3) == root + std::string(kLayerAll) + "-00000003");
  CHECK(LayerPathFromIndex(t, tl, kLayerAll, "0104", 3) == root + std::string(kLayerAll) + "-00000003");
}

TEST_CASE("remote_layout: suffixes") {
  CHECK(GenerationSuffix(std::nullopt) == "");
  CHECK(GenerationSuffix(0) == "-00000000");
  CHECK(GenerationSuffix(1) == "-00000001");
  CHECK(GenerationSuffix(0xFFFFFFFF) == "-ffffffff");
  CHECK(GenerationSuffix(0xABC) == "-00000abc");
  CHECK(ShardIndexSuffix("0000") == "");
  CHECK(ShardIndexSuffix("0001") == "-0001");
  CHECK(ShardIndexSuffix("0008") == "-0008");
  CHECK(ShardIndexSuffix("0d11") == "-0d11");
  auto one = ShardIdentity::Make(0, 1, 2048);
  REQUIRE(one.ok());
  CHECK(TenantShardPath(Id("072f1291a5310026820b2fe4b2968934"), *one) ==
        "tenants/072f1291a5310026820b2fe4b2968934-0001");
}
