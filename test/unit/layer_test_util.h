// Helpers shared by the layer_*_test.cc unit tests.
#pragma once

#include <openssl/sha.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "keyspace/key.h"
#include "layer/image_layer_writer.h"
#include "util/ids.h"

namespace p2l::layertest {

inline std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory under $TMPDIR (or /tmp), removed with its files on destruction.
class TempDir {
 public:
  TempDir() {
    const char* t = getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/p2l-layer-test-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    path_ = p ? p : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    if (path_ != "/tmp") std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Id16 IdFromHex(std::string_view hex) { return Id16::FromHex(hex).value(); }

// §9 common inputs.
inline TenantId ExampleTenant() { return IdFromHex("00112233445566778899aabbccddeeff"); }
inline TimelineId ExampleTimeline() { return IdFromHex("0f1e2d3c4b5a69788796a5b4c3d2e1f0"); }
inline constexpr uint64_t kExampleLsn = 0x0000000001696070ull;
// spc 1663, db 5, rel 16384, fork 0, block b.
inline Key RelKey(uint32_t b) { return Key{0, 1663, 5, 16384, 0, b}; }

}  // namespace p2l::layertest
