// Tests for lib/pg/controlfile.{h,cc} and crc32c.cc on real pg_control files of PG 14-17
// (test/data/pg/, made by regenerate.sh; expected values come from pg_controldata's output
// stored next to each file).

#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "pg/controlfile.h"
#include "util/coding.h"

namespace p2l {
namespace {

std::string ReadTestFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path << " (tests run from test/unit/)");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// pg_controldata's "Key:   value" lines.
std::map<std::string, std::string> ReadControlData(int major) {
  std::istringstream in(ReadTestFile("../data/pg/pg" + std::to_string(major) + "_controldata.txt"));
  std::map<std::string, std::string> m;
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(' ', colon + 1);
    m[line.substr(0, colon)] = v == std::string::npos ? "" : line.substr(v);
  }
  return m;
}

// "0/178E1B8" -> LSN
uint64_t ParseLsnText(const std::string& s) {
  size_t slash = s.find('/');
  REQUIRE(slash != std::string::npos);
  return (std::stoull(s.substr(0, slash), nullptr, 16) << 32) | std::stoull(s.substr(slash + 1), nullptr, 16);
}

std::string ControlPath(int major) { return "../data/pg/pg" + std::to_string(major) + "_control"; }

// Re-seals a modified pg_control: recomputes the CRC-32C over [0, 288) into offset 288.
void Reseal(std::string* raw) {
  uint8_t* p = reinterpret_cast<uint8_t*>(raw->data());
  EncodeLE32(p + 288, Crc32c(p, 288));
}

Status ParseStatus(const std::string& raw) { return ControlFile::Parse(raw, "global/pg_control").status(); }

bool Contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("Crc32c check value and chaining") {
  const std::string s = "123456789";
  CHECK(Crc32c(U8(s), s.size()) == 0xE3069283u);
  CHECK(Crc32c(nullptr, 0) == 0u);
  // Continuing a CRC over a split input gives the same result.
  for (size_t cut = 0; cut <= s.size(); cut++) {
    uint32_t a = Crc32c(U8(s), cut);
    CHECK(Crc32c(U8(s) + cut, s.size() - cut, a) == 0xE3069283u);
  }
  // 32 zero bytes / 32 0xFF bytes (RFC 3720 B.4 test vectors).
  std::string zeros(32, '\0'), ones(32, '\xff');
  CHECK(Crc32c(U8(zeros), 32) == 0x8A9136AAu);
  CHECK(Crc32c(U8(ones), 32) == 0x62A8AB43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; i++) inc[i] = char(i);
  CHECK(Crc32c(U8(inc), 32) == 0x46DD794Eu);
}

TEST_CASE("ControlFile parses real pg_control files of PG 14-17") {
  const std::map<int, uint32_t> kCatalog = {
      {14, 202107181}, {15, 202209061}, {16, 202307071}, {17, 202406281}};
  for (int major : {14, 15, 16, 17}) {
    CAPTURE(major);
    const std::string raw = ReadTestFile(ControlPath(major));
    REQUIRE(raw.size() == 8192);  // PostgreSQL writes PG_CONTROL_FILE_SIZE
    auto want = ReadControlData(major);
    auto r = ControlFile::Parse(raw, "global/pg_control");
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    const ControlFile& cf = *r;
    CHECK(cf.pg_major == major);
    CHECK(cf.catalog_version == kCatalog.at(major));
    CHECK(std::to_string(cf.catalog_version) == want["Catalog version number"]);
    CHECK(std::to_string(cf.pg_control_version) == want["pg_control version number"]);
    CHECK(cf.pg_control_version == (major == 17 ? 1700u : 1300u));
    CHECK(std::to_string(cf.system_identifier) == want["Database system identifier"]);
    CHECK(std::string(DbStateName(cf.state)) == "shut down");
    CHECK(want["Database cluster state"] == "shut down");
    CHECK(cf.CleanlyShutDown());
    CHECK(cf.checkpoint_lsn == ParseLsnText(want["Latest checkpoint location"]));
    CHECK(cf.redo_lsn == ParseLsnText(want["Latest checkpoint's REDO location"]));
    CHECK(cf.redo_lsn == cf.checkpoint_lsn);  // clean shutdown checkpoint (§7.5)
    CHECK(cf.BaseLsn() == ((cf.checkpoint_lsn + 7) & ~uint64_t(7)));
    CHECK(std::to_string(cf.data_checksum_version) == want["Data page checksum version"]);
    CHECK(cf.data_checksum_version == 1);
    CHECK(cf.HasChecksums());
    CHECK(std::to_string(cf.blcksz) == want["Database block size"]);
    CHECK(std::to_string(cf.relseg_size) == want["Blocks per segment of large relation"]);
    CHECK(std::to_string(cf.xlog_blcksz) == want["WAL block size"]);
    CHECK(std::to_string(cf.xlog_seg_size) == want["Bytes per WAL segment"]);
    CHECK(cf.raw == raw);

    const std::string cp = cf.CheckpointBytes();
    REQUIRE(cp.size() == 88);
    CHECK(cp == raw.substr(40, 88));
    CHECK(DecodeLE64(U8(cp)) == cf.redo_lsn);
    CHECK(std::to_string(DecodeLE32(U8(cp) + 8)) == want["Latest checkpoint's TimeLineID"]);
    CHECK(std::to_string(DecodeLE32(U8(cp) + 32)) == want["Latest checkpoint's NextOID"]);
    if (major == 17) CHECK(DecodeLE32(U8(cp) + 20) == 1);  // wal_level = replica (§2.4)
  }
}

TEST_CASE("ControlFile: a 296-byte prefix parses; bytes past the CRC are not checked") {
  std::string raw = ReadTestFile(ControlPath(16));
  CHECK(ControlFile::Parse(raw.substr(0, 296), "x").ok());
  raw[300] = '\x55';
  raw[8191] = '\x01';
  CHECK(ControlFile::Parse(raw, "x").ok());
}

TEST_CASE("ControlFile: every flipped byte in [0, 292) is a CRC error") {
  const std::string good = ReadTestFile(ControlPath(17));
  for (size_t i = 0; i < 292; i++) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
      std::string raw = good;
      raw[i] = char(uint8_t(raw[i]) ^ mask);
      Status st = ParseStatus(raw);
      CAPTURE(i);
      REQUIRE(!st.ok());
      CHECK(st.code() == Code::kInvalidInput);
      CHECK(Contains(st.message(), "global/pg_control: CRC-32C mismatch"));
      CHECK(Contains(st.message(), "offset 288"));
    }
  }
}

TEST_CASE("ControlFile: size limits") {
  const std::string good = ReadTestFile(ControlPath(15));
  Status st = ParseStatus("");
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(Contains(st.message(), "global/pg_control: file is empty"));
  for (size_t n : {size_t(1), size_t(40), size_t(288), size_t(292), size_t(295)}) {
    st = ParseStatus(good.substr(0, n));
    CAPTURE(n);
    CHECK(st.code() == Code::kInvalidInput);
    CHECK(Contains(st.message(), "size " + std::to_string(n) + " is too small"));
    CHECK(Contains(st.message(), "296"));
  }
  st = ParseStatus(good + std::string(1, '\0'));  // 8193 bytes
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(Contains(st.message(), "size 8193 is too large"));
  CHECK(Contains(st.message(), "8192"));
}

TEST_CASE("ControlFile: unknown catalog version is named") {
  for (uint32_t cat : {202307070u, 202007201u /* PG13 */, 202506291u, 0u}) {
    std::string raw = ReadTestFile(ControlPath(16));
    EncodeLE32(reinterpret_cast<uint8_t*>(raw.data()) + 12, cat);
    Reseal(&raw);
    Status st = ParseStatus(raw);
    CAPTURE(cat);
    CHECK(st.code() == Code::kInvalidInput);
    CHECK(Contains(st.message(), "catalog_version_no " + std::to_string(cat)));
    CHECK(Contains(st.message(), "offset 12"));
    CHECK(Contains(st.message(), "202406281"));
  }
}

TEST_CASE("ControlFile: PostgreSQL 13 and 18 are named, with the range Neon serves") {
  struct Case {
    uint32_t cat, ctl;
    const char* want;
  };
  for (const Case& c : {Case{202007201u, 1300u, "PostgreSQL 13 or older"}, Case{201909212u, 1201u, "PostgreSQL 13 or older"},
                        Case{202506291u, 1800u, "PostgreSQL 18 cluster"}, Case{202606011u, 1900u, "PostgreSQL 19 cluster"},
                        Case{202506291u, 1700u, "PostgreSQL 18 or newer"}}) {
    std::string raw = ReadTestFile(ControlPath(16));
    EncodeLE32(reinterpret_cast<uint8_t*>(raw.data()) + 8, c.ctl);
    EncodeLE32(reinterpret_cast<uint8_t*>(raw.data()) + 12, c.cat);
    Reseal(&raw);
    Status st = ParseStatus(raw);
    CAPTURE(c.cat);
    CHECK(st.code() == Code::kInvalidInput);
    CHECK(Contains(st.message(), c.want));
    CHECK(Contains(st.message(), std::string(kServedVersionsText)));
    CHECK(Contains(st.message(), "PostgreSQL 14-17"));
  }
}

TEST_CASE("ControlFile: bool bytes must be 0 or 1") {
  const std::pair<size_t, const char*> kBools[] = {
      {56, "fullPageWrites"}, {168, "backupEndRequired"}, {176, "wal_log_hints"},
      {200, "track_commit_timestamp"}, {248, "float8ByVal"}};
  for (auto [off, field] : kBools) {
    for (uint8_t v : {uint8_t(0), uint8_t(1), uint8_t(2), uint8_t(0xFF)}) {
      std::string raw = ReadTestFile(ControlPath(14));
      raw[off] = char(v);
      Reseal(&raw);
      Status st = ParseStatus(raw);
      CAPTURE(off);
      CAPTURE(int(v));
      if (v <= 1) {
        CHECK(st.ok());
      } else {
        CHECK(st.code() == Code::kInvalidInput);
        CHECK(Contains(st.message(), field));
        CHECK(Contains(st.message(), "offset " + std::to_string(off) + " is " + std::to_string(v)));
        CHECK(Contains(st.message(), "expected 0 or 1"));
      }
    }
  }
}

TEST_CASE("ControlFile: block and segment sizes other than 8192/131072 are refused") {
  auto with_u32 = [](size_t off, uint32_t v) {
    std::string raw = ReadTestFile(ControlPath(17));
    EncodeLE32(reinterpret_cast<uint8_t*>(raw.data()) + off, v);
    Reseal(&raw);
    return ParseStatus(raw);
  };
  Status st = with_u32(216, 16384);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(Contains(st.message(), "cluster built with BLCKSZ=16384 is not supported"));
  CHECK(Contains(st.message(), "offset 216"));
  st = with_u32(216, 0xFFFFFFFFu);
  CHECK(Contains(st.message(), "BLCKSZ=4294967295 is not supported"));
  st = with_u32(216, 0);
  CHECK(Contains(st.message(), "BLCKSZ=0 is not supported"));
  st = with_u32(220, 262144);
  CHECK(st.code() == Code::kInvalidInput);
  CHECK(Contains(st.message(), "RELSEG_SIZE=262144 blocks is not supported"));
  CHECK(Contains(st.message(), "offset 220"));
  // WAL sizes are not used by the import and not checked.
  CHECK(with_u32(228, 1 << 20).ok());
}

TEST_CASE("ControlFile: state range, names and checkpoint LSN") {
  for (uint32_t state = 0; state <= 8; state++) {
    std::string raw = ReadTestFile(ControlPath(15));
    EncodeLE32(reinterpret_cast<uint8_t*>(raw.data()) + 16, state);
    Reseal(&raw);
    auto r = ControlFile::Parse(raw, "global/pg_control");
    CAPTURE(state);
    if (state <= 6) {
      REQUIRE(r.ok());
      CHECK(r->state == state);
      CHECK(r->CleanlyShutDown() == (state == 1));
    } else {
      CHECK(Contains(r.status().message(), "state at offset 16 is " + std::to_string(state)));
      CHECK(Contains(r.status().message(), "expected 0..6"));
    }
  }
  CHECK(std::string(DbStateName(0)) == "starting up");
  CHECK(std::string(DbStateName(2)) == "shut down in recovery");
  CHECK(std::string(DbStateName(6)) == "in production");
  CHECK(std::string(DbStateName(7)) == "unknown (7)");
  CHECK(std::string(DbStateName(0xFFFFFFFFu)) == "unknown (4294967295)");

  auto with_lsn = [](uint64_t lsn) {
    std::string raw = ReadTestFile(ControlPath(17));
    EncodeLE64(reinterpret_cast<uint8_t*>(raw.data()) + 32, lsn);
    Reseal(&raw);
    return ControlFile::Parse(raw, "global/pg_control");
  };
  auto r = with_lsn(0);
  CHECK(Contains(r.status().message(), "checkPoint LSN at offset 32 is 0/0"));
  r = with_lsn(0x14D89D1);
  REQUIRE(r.ok());
  CHECK(r->BaseLsn() == 0x14D89D8);
  r = with_lsn(0x14D89D8);
  REQUIRE(r.ok());
  CHECK(r->BaseLsn() == 0x14D89D8);
  r = with_lsn(0xFFFFFFFFFFFFFFF0ull);
  REQUIRE(r.ok());
  CHECK(r->BaseLsn() == 0xFFFFFFFFFFFFFFF0ull);
  r = with_lsn(0xFFFFFFFFFFFFFFF1ull);
  CHECK(Contains(r.status().message(), "too large"));
  r = with_lsn(~uint64_t(0));
  CHECK(!r.ok());
}

}  // namespace p2l
