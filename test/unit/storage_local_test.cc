// Tests for lib/storage/local_storage.{h,cc}: listing, stat, readers (change detection), writes
// (Put, PutIfAbsent, Stage/Commit), Delete, the symlink policy and loop detection.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "storage/storage.h"

namespace fs = std::filesystem;

namespace p2l {

namespace {

// A fresh temporary directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "p2l-storage-test.XXXXXX").string();
    char* p = ::mkdtemp(t.data());
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void Write(const std::string& rel, const std::string& data) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel, std::ios::binary) << data;
  }
  std::string Read(const std::string& rel) const {
    std::ifstream in(path / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

std::unique_ptr<Storage> Open(const TempDir& d, std::vector<std::string> follow = {}, bool sync = true) {
  StorageOptions o;
  o.follow_symlinks_in = std::move(follow);
  o.sync = sync;
  auto s = OpenStorage(d.path.string(), o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

std::vector<std::string> Names(const std::vector<ObjectInfo>& v) {
  std::vector<std::string> out;
  for (const auto& o : v) out.push_back(o.name);
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("LocalStorage: List one level, sorted by bytes, directories as prefixes") {
  TempDir d;
  d.Write("PG_VERSION", "17\n");
  d.Write("base/1/1259", std::string(8192, 'x'));
  d.Write("base/1/1259.1", "a");
  d.Write("base/1/1259_fsm", "b");
  d.Write("global/pg_control", "c");
  d.Write("Zeta", "z");
  fs::create_directories(d.path / "empty");
  auto s = Open(d);
  auto l = s->List("");
  REQUIRE(l.ok());
  CHECK(Names(l->objects) == V{"PG_VERSION", "Zeta"});
  CHECK(l->prefixes == V{"base/", "empty/", "global/"});
  CHECK(l->objects[0].size == 3);
  CHECK(!l->objects[0].version.empty());

  auto b = s->List("base/1/");
  REQUIRE(b.ok());
  CHECK(Names(b->objects) == V{"base/1/1259", "base/1/1259.1", "base/1/1259_fsm"});
  CHECK(b->prefixes.empty());
  // Without the trailing slash too; a missing directory lists as empty.
  CHECK(s->List("base/1").ok());
  auto none = s->List("nope/");
  REQUIRE(none.ok());
  CHECK(none->objects.empty());
  CHECK(s->List("../").status().code() == Code::kInvalidInput);

  auto r = s->ListRecursive("");
  REQUIRE(r.ok());
  CHECK(Names(*r) == V{"PG_VERSION", "Zeta", "base/1/1259", "base/1/1259.1", "base/1/1259_fsm", "global/pg_control"});
  auto rb = s->ListRecursive("base/1/1259.");
  REQUIRE(rb.ok());
  CHECK(Names(*rb) == V{"base/1/1259.1"});
  auto rg = s->ListRecursive("g");
  REQUIRE(rg.ok());
  CHECK(Names(*rg) == V{"global/pg_control"});
}

TEST_CASE("LocalStorage: a name readdir returns that is not a valid object name is an error") {
  TempDir d;
  d.Write("ok", "1");
  d.Write("bad\nname", "2");
  auto s = Open(d);
  auto l = s->List("");
  CHECK(l.status().code() == Code::kInvalidInput);
  CHECK(l.status().message().find("control byte") != std::string::npos);
}

TEST_CASE("LocalStorage: Stat, readers, ReadAll limits, change detection") {
  TempDir d;
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); i++) data[i] = char(i * 7);
  d.Write("base/5/16384", data);
  auto s = Open(d);
  auto st = s->Stat("base/5/16384");
  REQUIRE(st.ok());
  CHECK(st->size == data.size());
  CHECK(st->version.find('-') != std::string::npos);
  CHECK(s->Stat("base/5/nope").status().code() == Code::kNotFound);
  CHECK(s->Stat("nodir/x").status().code() == Code::kNotFound);
  CHECK(s->Stat("base/5").status().code() == Code::kNotFound);
  CHECK(s->Stat("/etc/passwd").status().code() == Code::kInvalidInput);
  CHECK(s->Stat("../x").status().code() == Code::kInvalidInput);

  auto r = s->OpenReader("base/5/16384", &*st);
  REQUIRE(r.ok());
  std::string buf(1000, '\0');
  REQUIRE((*r)->ReadAt(5000, 1000, reinterpret_cast<uint8_t*>(buf.data())).ok());
  CHECK(buf == data.substr(5000, 1000));
  CHECK((*r)->ReadAt(99999, 2, reinterpret_cast<uint8_t*>(buf.data())).code() == Code::kInternal);
  CHECK((*r)->ReadAt(0, 0, reinterpret_cast<uint8_t*>(buf.data())).ok());

  auto all = s->ReadAll("base/5/16384", 100000);
  REQUIRE(all.ok());
  CHECK(*all == data);
  auto small = s->ReadAll("base/5/16384", 99999);
  CHECK(small.status().code() == Code::kInvalidInput);
  CHECK(small.status().message().find("16384") != std::string::npos);

  // A different expectation → kSourceChanged naming the file.
  ObjectInfo other = *st;
  other.size += 1;
  auto changed = s->OpenReader("base/5/16384", &other);
  CHECK(changed.status().code() == Code::kSourceChanged);
  CHECK(changed.status().message().find("base/5/16384") != std::string::npos);
  other = *st;
  other.version = "1-2";
  CHECK(s->OpenReader("base/5/16384", &other).status().code() == Code::kSourceChanged);
  CHECK(s->OpenReader("base/5/gone", &*st).status().code() == Code::kSourceChanged);

  // The file changes after opening: the read that reaches the end notices.
  d.Write("base/5/16384", data.substr(0, 50000));  // truncates in place (same inode)
  Status rs = (*r)->ReadAt(99000, 1000, reinterpret_cast<uint8_t*>(buf.data()));
  CHECK(rs.code() == Code::kSourceChanged);
  CHECK(rs.message().find("base/5/16384") != std::string::npos);
}

static void CheckWrites(bool sync) {
  CAPTURE(sync);
  TempDir d;
  auto s = Open(d, {}, sync);
  REQUIRE(s->Put("a/b/c.json", "{}").ok());
  CHECK(d.Read("a/b/c.json") == "{}");
  REQUIRE(s->Put("a/b/c.json", "{\"x\":1}").ok());
  CHECK(d.Read("a/b/c.json") == "{\"x\":1}");

  REQUIRE(s->PutIfAbsent("lock", "me").ok());
  Status again = s->PutIfAbsent("lock", "you");
  CHECK(again.code() == Code::kConflict);
  CHECK(d.Read("lock") == "me");

  {
    auto st = s->Stage("layers/L1");
    REQUIRE(st.ok());
    const std::string tmp = (*st)->local_path();
    CHECK(tmp.find(".___temp") != std::string::npos);
    CHECK(fs::path(tmp).parent_path() == d.path / "layers");
    std::ofstream(tmp, std::ios::binary) << "layer bytes";
    REQUIRE((*st)->Commit().ok());
    CHECK(d.Read("layers/L1") == "layer bytes");
    CHECK(!fs::exists(tmp));
  }
  std::string abandoned;
  {
    auto st = s->Stage("layers/L2");
    REQUIRE(st.ok());
    abandoned = (*st)->local_path();
    std::ofstream(abandoned, std::ios::binary) << "partial";
    CHECK(fs::exists(abandoned));
  }
  CHECK(!fs::exists(abandoned));  // uncommitted: removed
  CHECK(!fs::exists(d.path / "layers/L2"));
  // No temp files left behind.
  auto l = s->List("layers/");
  REQUIRE(l.ok());
  CHECK(Names(l->objects) == V{"layers/L1"});

  REQUIRE(s->Delete("layers/L1").ok());
  CHECK(!fs::exists(d.path / "layers/L1"));
  CHECK(s->Delete("layers/L1").ok());
  CHECK(s->Delete("no/such/dir/x").ok());
  CHECK(s->Put("../escape", "x").code() == Code::kInvalidInput);

  // A destination root that does not exist yet is created by the first write.
  TempDir d2;
  StorageOptions o;
  o.sync = sync;
  auto s2 = OpenStorage((d2.path / "new/root").string(), o);
  REQUIRE(s2.ok());
  auto empty = (*s2)->List("");
  REQUIRE(empty.ok());
  CHECK(empty->objects.empty());
  REQUIRE((*s2)->Put("x", "1").ok());
  CHECK(d2.Read("new/root/x") == "1");
}

TEST_CASE("LocalStorage: Put, PutIfAbsent, Stage/Commit, Delete") {
  // The same results whether the writes are fsynced or not (StorageOptions::sync, import --no-sync).
  CheckWrites(true);
  CheckWrites(false);
}

TEST_CASE("LocalStorage: symlink policy") {
  TempDir d, ts;
  ts.Write("PG_17_202406281/5/16500", "tablespace data");
  d.Write("PG_VERSION", "17");
  fs::create_directories(d.path / "pg_tblspc");
  fs::create_directory_symlink(ts.path, d.path / "pg_tblspc/16407");

  // Followed inside pg_tblspc/.
  auto s = Open(d, {"pg_tblspc/"});
  auto l = s->List("pg_tblspc/");
  REQUIRE(l.ok());
  CHECK(l->prefixes == V{"pg_tblspc/16407/"});
  auto r = s->ListRecursive("");
  REQUIRE(r.ok());
  CHECK(Names(*r) == V{"PG_VERSION", "pg_tblspc/16407/PG_17_202406281/5/16500"});
  auto st = s->Stat("pg_tblspc/16407/PG_17_202406281/5/16500");
  REQUIRE(st.ok());
  CHECK(st->size == 15);
  auto all = s->ReadAll("pg_tblspc/16407/PG_17_202406281/5/16500", 100);
  REQUIRE(all.ok());
  CHECK(*all == "tablespace data");

  // Not followed without the option: an error naming the link.
  auto s0 = Open(d);
  auto l0 = s0->ListRecursive("");
  CHECK(l0.status().code() == Code::kInvalidInput);
  CHECK(l0.status().message().find("pg_tblspc/16407") != std::string::npos);
  CHECK(s0->Stat("pg_tblspc/16407/PG_17_202406281/5/16500").status().code() == Code::kInvalidInput);

  // A symlink elsewhere (even with the option) is an error.
  fs::create_directory_symlink(ts.path, d.path / "base");
  auto lb = s->List("");
  CHECK(lb.status().code() == Code::kInvalidInput);
  CHECK(lb.status().message().find("base") != std::string::npos);
  fs::remove(d.path / "base");
  // A file symlink is an error, also directly in the root.
  fs::create_symlink(d.path / "PG_VERSION", d.path / "PG_LINK");
  CHECK(s->List("").status().code() == Code::kInvalidInput);
  CHECK(s->Stat("PG_LINK").status().code() == Code::kInvalidInput);
  CHECK(s->OpenReader("PG_LINK").status().code() == Code::kInvalidInput);
  fs::remove(d.path / "PG_LINK");
  // A symlink in pg_tblspc/ that points to a file, or nowhere.
  fs::create_symlink(d.path / "PG_VERSION", d.path / "pg_tblspc/1");
  auto lf = s->List("pg_tblspc/");
  CHECK(lf.status().code() == Code::kInvalidInput);
  CHECK(lf.status().message().find("does not point to a directory") != std::string::npos);
  fs::remove(d.path / "pg_tblspc/1");
  fs::create_symlink(d.path / "nowhere", d.path / "pg_tblspc/2");
  CHECK(s->List("pg_tblspc/").status().code() == Code::kInvalidInput);
  fs::remove(d.path / "pg_tblspc/2");
  CHECK(s->List("pg_tblspc/").ok());
}

TEST_CASE("LocalStorage: symlink loops are detected") {
  TempDir d;
  d.Write("PG_VERSION", "17");
  fs::create_directories(d.path / "pg_tblspc");
  fs::create_directory_symlink(d.path, d.path / "pg_tblspc/1");  // back to the root
  auto s = Open(d, {"pg_tblspc"});
  auto r = s->ListRecursive("");
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("loop") != std::string::npos);
  CHECK(s->Stat("pg_tblspc/1/PG_VERSION").status().code() == Code::kInvalidInput);
  // A self-referencing link.
  fs::remove(d.path / "pg_tblspc/1");
  fs::create_directory_symlink("2", d.path / "pg_tblspc/2");
  auto r2 = s->ListRecursive("");
  CHECK(r2.status().code() == Code::kInvalidInput);
}

}  // namespace p2l
