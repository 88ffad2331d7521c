// Helpers for the plan tests: synthetic PGDATA trees in a temporary directory, with a real
// pg_control from test/data/pg/ and files of chosen sizes (sparse, made with ftruncate).
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "import/plan.h"
#include "import/source_options.h"
#include "pg/controlfile.h"
#include "storage/storage.h"
#include "util/coding.h"

namespace p2l::plantest {

namespace fs = std::filesystem;

inline std::string ReadTestData(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path << " (tests run from test/unit/)");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Base LSNs of the test/data/pg control files (test/data/pg/README.md).
inline uint64_t TestControlBaseLsn(int major) {
  switch (major) {
    case 14: return 0x19B86D0;
    case 15: return 0x17AF138;
    case 16: return 0x178E490;
    case 17: return 0x178E1B8;
  }
  return 0;
}
inline uint32_t TestCatalogVersion(int major) {
  switch (major) {
    case 14: return 202107181;
    case 15: return 202209061;
    case 16: return 202307071;
    case 17: return 202406281;
  }
  return 0;
}

// pg<major>_control with `state` patched in (offset 16) and the CRC recomputed.
inline std::string ControlBytes(int major, uint32_t state = 1) {
  std::string b = ReadTestData("../data/pg/pg" + std::to_string(major) + "_control");
  REQUIRE(b.size() == 8192);
  EncodeLE32(reinterpret_cast<uint8_t*>(b.data()) + 16, state);
  const uint32_t crc = Crc32c(reinterpret_cast<const uint8_t*>(b.data()), 288);
  EncodeLE32(reinterpret_cast<uint8_t*>(b.data()) + 288, crc);
  return b;
}

class TempPgdata {
 public:
  explicit TempPgdata(int major = 16, std::string prefix = "") : major_(major), prefix_(std::move(prefix)) {
    std::string t = (fs::temp_directory_path() / "p2l-plan-test.XXXXXX").string();
    char* p = ::mkdtemp(t.data());
    REQUIRE(p != nullptr);
    root_ = p;
  }
  ~TempPgdata() {
    std::error_code ec;
    fs::remove_all(root_, ec);
    for (const fs::path& x : extra_) fs::remove_all(x, ec);
  }
  TempPgdata(const TempPgdata&) = delete;
  TempPgdata& operator=(const TempPgdata&) = delete;

  int major() const { return major_; }
  const fs::path& root() const { return root_; }
  // Full path of a PGDATA-relative name, as Storage::Describe prints it.
  std::string Path(const std::string& rel) const { return (root_ / (prefix_ + rel)).string(); }
  uint64_t RelmapSize() const { return major_ >= 16 ? 524 : 512; }

  // A file of `size` bytes (sparse: only the size is set), parents created.
  void File(const std::string& rel, uint64_t size) const {
    const fs::path p = root_ / (prefix_ + rel);
    fs::create_directories(p.parent_path());
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, off_t(size)) == 0);
    ::close(fd);
  }
  void Write(const std::string& rel, const std::string& data) const {
    const fs::path p = root_ / (prefix_ + rel);
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << data;
  }
  void Dir(const std::string& rel) const { fs::create_directories(root_ / (prefix_ + rel)); }
  void Remove(const std::string& rel) const { fs::remove_all(root_ / (prefix_ + rel)); }
  void Blocks(const std::string& rel, uint64_t nblocks) const { File(rel, nblocks * 8192); }

  // A directory outside the root (removed with this object) for tablespace links.
  fs::path OutsideDir() {
    std::string t = (fs::temp_directory_path() / "p2l-plan-tblspc.XXXXXX").string();
    char* p = ::mkdtemp(t.data());
    REQUIRE(p != nullptr);
    extra_.emplace_back(p);
    return extra_.back();
  }
  void Symlink(const fs::path& target, const std::string& rel) const {
    const fs::path p = root_ / (prefix_ + rel);
    fs::create_directories(p.parent_path());
    fs::create_directory_symlink(target, p);
  }

  // The smallest valid PGDATA: pg_control, global relmap, database 1 with its relmap and
  // PG_VERSION, one segment in each SLRU.
  void Minimal(uint32_t state = 1) {
    Write("global/pg_control", ControlBytes(major_, state));
    File("global/pg_filenode.map", RelmapSize());
    Database(1);
    File("pg_xact/0000", 8192);
    File("pg_multixact/members/0000", 8192);
    File("pg_multixact/offsets/0000", 8192);
  }
  void Database(uint32_t db) const {
    File("base/" + std::to_string(db) + "/pg_filenode.map", RelmapSize());
    Write("base/" + std::to_string(db) + "/PG_VERSION", std::to_string(major_) + "\n");
  }

  std::unique_ptr<Storage> Open(bool follow_tblspc = true) const {
    StorageOptions o;
    auto s = follow_tblspc ? OpenSource(root_.string(), o) : OpenStorage(root_.string(), o);
    REQUIRE(s.ok());
    return std::move(s).value();
  }

  Result<ImportPlan> Plan(const PlanOptions& opts = PlanOptions()) const {
    auto s = Open();
    return BuildPlan(*s, opts);
  }

 private:
  int major_;
  std::string prefix_;
  fs::path root_;
  std::vector<fs::path> extra_;
};

// All tasks of a plan in order.
inline std::vector<const ImportTask*> AllTasks(const ImportPlan& p) {
  std::vector<const ImportTask*> out;
  for (const ImportJob& j : p.jobs) {
    for (const ImportTask& t : j.tasks) out.push_back(&t);
  }
  return out;
}

inline std::string Hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s.push_back(d[c >> 4]);
    s.push_back(d[c & 15]);
  }
  return s;
}

inline PlanOptions Sharded(uint32_t number, uint32_t count, uint32_t stripe = 2048,
                           uint64_t soft_limit = 256ull << 20) {
  PlanOptions o;
  auto s = ShardIdentity::Make(number, count, stripe);
  REQUIRE(s.ok());
  o.shard = *s;
  o.soft_size_limit = soft_limit;
  return o;
}

}  // namespace p2l::plantest
