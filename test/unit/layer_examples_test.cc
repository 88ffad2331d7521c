// Worked examples of image-layer.md §9 (A-E) and §10.1: written bytes must hash to the spec's
// SHA-256 values, node bytes must be as listed, and reading back must return the same data.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

#include "layer/blob.h"
#include "layer/btree_format.h"
#include "layer/file_reader.h"
#include "layer/image_layer_reader.h"
#include "layer/image_layer_writer.h"
#include "layer_test_util.h"
#include "util/coding.h"

using namespace p2l;
using namespace p2l::layertest;

namespace {

struct Written {
  std::string bytes;
  uint64_t size = 0;
};

Written WriteLayer(const TempDir& dir, const Key& start, const Key& end, uint64_t lsn,
                   const std::vector<std::pair<Key, std::string>>& kv,
                   const TenantId& tenant = ExampleTenant(),
                   const TimelineId& timeline = ExampleTimeline(),
                   ImageLayerWriterOptions opts = {}) {
  const std::string path = dir.File("layer");
  auto w = ImageLayerWriter::Create(path, tenant, timeline, start, end, lsn, opts);
  REQUIRE(w.ok());
  for (const auto& [k, v] : kv) REQUIRE((*w)->Put(k, v).ok());
  auto size = (*w)->Finish();
  REQUIRE_MESSAGE(size.ok(), size.status().ToString());
  Written out;
  out.size = *size;
  out.bytes = ReadWholeFile(path);
  CHECK(out.bytes.size() == out.size);
  return out;
}

std::string Part(const std::string& s, size_t a, size_t b) { return s.substr(a, b - a); }

// Reads the layer back from disk and compares every key/value and Get.
void CheckReadBack(const TempDir& dir, const std::vector<std::pair<Key, std::string>>& kv) {
  auto f = OpenLocalFileReader(dir.File("layer"));
  REQUIRE(f.ok());
  auto r = ImageLayerReader::Open(std::move(*f));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  size_t i = 0;
  Status st = (*r)->ForEach([&](const Key& k, std::string_view v) -> Status {
    REQUIRE(i < kv.size());
    CHECK(k == kv[i].first);
    CHECK(v == kv[i].second);
    i++;
    return Status::OK();
  });
  CHECK_MESSAGE(st.ok(), st.ToString());
  CHECK(i == kv.size());
  for (const auto& [k, v] : kv) {
    auto g = (*r)->Get(k);
    REQUIRE(g.ok());
    REQUIRE(g->has_value());
    CHECK(**g == v);
  }
}

std::vector<std::pair<Key, std::string>> ModPages(uint32_t count) {
  std::vector<std::pair<Key, std::string>> kv;
  for (uint32_t i = 0; i < count; i++) kv.emplace_back(RelKey(i), std::string(8192, char(i % 256)));
  return kv;
}

}  // namespace

TEST_CASE("layer example A: three 8192-byte pages") {
  TempDir dir;
  std::vector<std::pair<Key, std::string>> kv;
  for (int i = 0; i < 3; i++) kv.emplace_back(RelKey(i), std::string(8192, char(0x11 * (i + 1))));
  Written w = WriteLayer(dir, RelKey(0), RelKey(3), kExampleLsn, kv);
  REQUIRE(w.size == 49152);
  CHECK(Sha256Hex(w.bytes) == "128645326f20e8a3482d9478ac43887fec6153e25736d301095a38bae15c84d5");
  CHECK(Sha256Hex(Part(w.bytes, 0, 8192)) ==
        "255869c0ee89a7e90130970b0461518cc02d35f5cb932f9fd13d9d0bbeaedc4e");
  CHECK(Sha256Hex(Part(w.bytes, 8192, 40960)) ==
        "279f94fb3edfd3052c262ae2be2d587848c26dbcaa95e7d8255be7ded2388e2f");
  CHECK(Sha256Hex(Part(w.bytes, 40960, 49152)) ==
        "b9b7b89c57b7983cd1b51606dbee82235be4424d0a2b8d0e3c752778581cb1f2");

  // Summary bytes.
  const std::string summary_hex =
      "5A600003" "00112233445566778899AABBCCDDEEFF" "0F1E2D3C4B5A69788796A5B4C3D2E1F0"
      "000000067F00000005000040000000000000" "000000067F00000005000040000000000003"
      "0000000001696070" "00000005" "00000000";
  std::string got;
  for (int i = 0; i < 88; i++) got += fmt::format("{:02X}", uint8_t(w.bytes[i]));
  CHECK(got == summary_hex);
  CHECK(w.bytes.find_first_not_of('\0', 88) == 8192);
  // Blob headers.
  CHECK(Part(w.bytes, 8192, 8196) == std::string("\x80\x00\x20\x00", 4));
  CHECK(Part(w.bytes, 16388, 16392) == std::string("\x80\x00\x20\x00", 4));
  // Root node at 0xA000.
  const uint8_t* node = U8(w.bytes.data() + 40960);
  CHECK(DecodeBE16(node) == 3);
  CHECK(node[2] == 0);
  CHECK(node[3] == 0);
  CHECK(node[4] == 18);
  for (int i = 0; i < 3; i++) {
    auto k = RelKey(i).Encode();
    CHECK(std::memcmp(node + 5 + 18 * i, k.data(), 18) == 0);
  }
  CHECK(DecodeValue40(node + 59) == 8192);
  CHECK(DecodeValue40(node + 64) == 16388);
  CHECK(DecodeValue40(node + 69) == 24584);
  CHECK(Part(w.bytes, 40960 + 74, 49152).find_first_not_of('\0') == std::string::npos);
  CheckReadBack(dir, kv);
}

TEST_CASE("layer example B: 1000 pages, one squeezed root leaf") {
  TempDir dir;
  auto kv = ModPages(1000);
  Written w = WriteLayer(dir, RelKey(0), RelKey(1000), kExampleLsn, kv);
  REQUIRE(w.size == 8216576);
  CHECK(Sha256Hex(w.bytes) == "27743355170605980b4c31bc363f8a2d5f7e9dc6be3aae1e2dea9f0a75a7ca87");
  CHECK(Sha256Hex(Part(w.bytes, 1002 * 8192, 1003 * 8192)) ==
        "601c58d05b0273c63836c61ed09b58a04e7c318c92c2512637c0aea99c8b70ed");
  CHECK(Part(w.bytes, 80, 88) == std::string("\x00\x00\x03\xEA\x00\x00\x00\x00", 8));
  const uint8_t* node = U8(w.bytes.data() + 1002 * 8192);
  CHECK(DecodeBE16(node) == 1000);
  CHECK(node[2] == 0);
  CHECK(node[3] == 16);
  CHECK(node[4] == 2);
  // Last value: 8192 + 999 * 8196.
  CHECK(DecodeValue40(node + 5 + 16 + 2000 + 999 * 5) == 8192 + 999ull * 8196);
  CheckReadBack(dir, kv);
}

TEST_CASE("layer example C: 2048 pages, two leaves and a root") {
  TempDir dir;
  auto kv = ModPages(2048);
  Written w = WriteLayer(dir, RelKey(0), RelKey(2048), kExampleLsn, kv);
  REQUIRE(w.size == 16818176);
  CHECK(Sha256Hex(w.bytes) == "8034271f7a98a02e71a7990a69a6046e03846b460cdaac7c9014487cd37203a8");
  CHECK(Sha256Hex(Part(w.bytes, 2050 * 8192, 2053 * 8192)) ==
        "da4356c4f920f7a42b560f35704d9a12c857095816990640179b6b89c8aa3781");
  CHECK(Part(w.bytes, 80, 88) == std::string("\x00\x00\x08\x02\x00\x00\x00\x02", 8));
  const uint8_t* n0 = U8(w.bytes.data() + 2050 * 8192);
  CHECK(DecodeBE16(n0) == 1167);
  CHECK((n0[2] == 0 && n0[3] == 16 && n0[4] == 2));
  const uint8_t* n1 = U8(w.bytes.data() + 2051 * 8192);
  CHECK(DecodeBE16(n1) == 881);
  CHECK((n1[2] == 0 && n1[3] == 16 && n1[4] == 2));
  CHECK(DecodeBE16(n1 + 5 + 16) == 0x048F);
  const uint8_t* root = U8(w.bytes.data() + 2052 * 8192);
  CHECK(DecodeBE16(root) == 2);
  CHECK((root[2] == 1 && root[3] == 0 && root[4] == 18));
  CHECK(std::memcmp(root + 5, RelKey(0).Encode().data(), 18) == 0);
  CHECK(std::memcmp(root + 23, RelKey(0x48F).Encode().data(), 18) == 0);
  CHECK(std::string(reinterpret_cast<const char*>(root + 41), 10) ==
        std::string("\x80\x00\x00\x00\x00\x80\x00\x00\x00\x01", 10));
  CheckReadBack(dir, kv);
}

TEST_CASE("layer example D: the smallest layer") {
  TempDir dir;
  std::vector<std::pair<Key, std::string>> kv = {{RelKey(7), std::string("\x01\x02\x03\x04", 4)}};
  Written w = WriteLayer(dir, RelKey(7), RelKey(8), kExampleLsn, kv);
  REQUIRE(w.size == 24576);
  CHECK(Sha256Hex(w.bytes) == "4c1db5186d7551104f527251f398e70536809dbc581357078a5d3385155486d4");
  CHECK(Part(w.bytes, 8192, 8197) == std::string("\x04\x01\x02\x03\x04", 5));
  const uint8_t* root = U8(w.bytes.data() + 16384);
  CHECK(std::string(reinterpret_cast<const char*>(root), 5) == std::string("\x00\x01\x00\x00\x12", 5));
  CHECK(DecodeValue40(root + 23) == 8192);
  CheckReadBack(dir, kv);
}

TEST_CASE("layer example E: zstd frame of an all-zero page as Neon's streaming encoder") {
  ZstdCompressor c(1);
  std::string frame;
  REQUIRE(c.Compress(std::string(8192, '\0'), &frame).ok());
  const std::string want("\x28\xB5\x2F\xFD\x00\x48\x4D\x00\x00\x10\x00\x00\x01\x00\xFB\xDF\x03\x2C",
                         18);
  CHECK(frame == want);
  uint8_t h[4];
  REQUIRE(EncodeBlobHeader(uint32_t(frame.size()), true, h) == 4);
  CHECK(std::string(reinterpret_cast<char*>(h), 4) == std::string("\x90\x00\x00\x12", 4));

  // In a layer: the compressed blob is 22 bytes; a random page stays raw.
  TempDir dir;
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
  ImageLayerWriterOptions opts;
  opts.zstd = true;
  Written w = WriteLayer(dir, RelKey(0), RelKey(4), kExampleLsn, kv, ExampleTenant(),
                         ExampleTimeline(), opts);
  CHECK(Part(w.bytes, 8192, 8192 + 22) == std::string("\x90\x00\x00\x12", 4) + want);
  CHECK(Part(w.bytes, 8192 + 22, 8192 + 26) == std::string("\x80\x00\x20\x00", 4));
  CHECK(uint8_t(w.bytes[8192 + 26 + 8192]) == 127);  // < 128: 1-byte header, never compressed
  CHECK((uint8_t(w.bytes[8192 + 26 + 8192 + 128]) & 0xF0) == 0x90);  // 128 'a': compressed
  CheckReadBack(dir, kv);
}

TEST_CASE("layer §10.1: image_layer_rewrite 8192-key layer") {
  TempDir dir;
  const Key start = Key::FromHex("000000067F00000001000000AE0000000000").value();
  const Key end = Key::FromHex("000000067F00000001000000AE0000002000").value();
  std::vector<std::pair<Key, std::string>> kv;
  for (uint32_t i = 0; i < 0x2000; i++) {
    Key k;
    REQUIRE(start.Add(i, &k));
    kv.emplace_back(k, std::string("\x01\x02\x03\x04", 4));
  }
  Written w = WriteLayer(dir, start, end, 0xDEADBEEF0000ull, kv, Id16::Random(), Id16::Random());
  CHECK(w.size == 122880);
  CHECK(Sha256Hex(Part(w.bytes, 8192, 122880)) ==
        "fe1c1698595626ee8786f004b0a3437c9253af226ce2ac9889d3f643cebef1cb");
  CHECK(Sha256Hex(Part(w.bytes, 8192, 49152)) ==
        "e1fe4692b020f50752cacabb43941aba1783f0b1a4d4aad73071ecd937fddc1c");
  CHECK(Sha256Hex(Part(w.bytes, 49152, 122880)) ==
        "8c2e9b059368a254d8543be2b7b6b8367cf4ae795a7c75b2531c45db89bed6a6");
  CheckReadBack(dir, kv);
}
