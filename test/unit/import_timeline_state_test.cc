// Tests for lib/import/timeline_state.{h,cc}: index object names, selection by generation, reading
// the current index of a timeline, and what an existing index means for an import.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "import/timeline_state.h"
#include "storage/storage.h"

namespace fs = std::filesystem;

namespace p2l {

namespace {

struct Dir {
  fs::path path;
  Dir() {
    std::string t = (fs::temp_directory_path() / "p2l-tlstate-test.XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void Write(const std::string& rel, const std::string& data) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel, std::ios::binary) << data;
  }
};

IndexPart ImportIndex(ImportPgdata::State state, const std::string& key) {
  IndexPart idx;
  idx.metadata.pg_version = 16;
  idx.metadata.disk_consistent_lsn = idx.disk_consistent_lsn = 0x169C3D8;
  ImportPgdata ip;
  ip.state = state;
  ip.idempotency_key = key;
  ip.started_at_nanos = 1700000000000000000;
  if (state == ImportPgdata::State::kDone) {
    ip.finished_at_nanos = 1700000001000000000;
  } else {
    ip.location_json = R"({"LocalFs":{"path":"/x"}})";
  }
  idx.import_pgdata = ip;
  return idx;
}

}  // namespace

TEST_CASE("ParseIndexObjectName") {
  auto n = ParseIndexObjectName("index_part.json");
  REQUIRE(n);
  CHECK_FALSE(n->generation);
  n = ParseIndexObjectName("index_part.json-0000000a");
  REQUIRE(n);
  CHECK(*n->generation == 10);
  n = ParseIndexObjectName("index_part.json-FFFFFFFF");
  REQUIRE(n);
  CHECK(*n->generation == 0xFFFFFFFFu);
  for (const char* bad : {"index_part.json-1", "index_part.json-000000001", "index_part.json-0000000g",
                          "index_part.json-00000001.0123456789abcdef.___temp", "index_part.jso", "xindex_part.json",
                          "index_part.json_00000001", "pgdata2layers.lease"}) {
    CHECK_MESSAGE(!ParseIndexObjectName(bad), bad);
  }
}

TEST_CASE("SelectLatestIndex: highest generation, none lowest, optional upper bound") {
  std::vector<std::string> names = {"index_part.json", "index_part.json-00000002", "index_part.json-0000000a",
                                    "index_part.json-00000003", "index_part.json-0000000b.abc.___temp",
                                    "000000000000000000000000000000000000-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF__"
                                    "000000000169C3D0-00000001"};
  auto p = SelectLatestIndex(names);
  REQUIRE(p);
  CHECK(p->name == "index_part.json-0000000a");
  p = SelectLatestIndex(names, 5);
  REQUIRE(p);
  CHECK(p->name == "index_part.json-00000003");
  p = SelectLatestIndex(names, 1);
  REQUIRE(p);
  CHECK(p->name == "index_part.json");
  CHECK_FALSE(p->generation);
  CHECK_FALSE(SelectLatestIndex({"foo", "bar"}));
  p = SelectLatestIndex({"index_part.json-00000000"});
  REQUIRE(p);
  CHECK(*p->generation == 0);   // generation 0 is real and above "none"
  p = SelectLatestIndex({"index_part.json-00000000", "index_part.json"});
  CHECK(*p->generation == 0);
}

TEST_CASE("ReadLatestIndexPart reads the highest generation") {
  Dir d;
  auto s = OpenStorage(d.path.string(), StorageOptions());
  REQUIRE(s.ok());
  const std::string tl = "tenants/8f2c0c6e1d3b4a5f9e7d6c5b4a392817/timelines/1a2b3c4d5e6f708192a3b4c5d6e7f801";
  auto none = ReadLatestIndexPart(**s, tl);
  REQUIRE(none.ok());
  CHECK_FALSE(*none);

  d.Write(tl + "/index_part.json-00000001", ImportIndex(ImportPgdata::State::kInProgress, "a").ToJson());
  d.Write(tl + "/index_part.json-00000002", ImportIndex(ImportPgdata::State::kDone, "b").ToJson());
  d.Write(tl + "/index_part.json-00000003.0011223344556677.___temp", "partial garbage");
  auto cur = ReadLatestIndexPart(**s, tl);
  REQUIRE(cur.ok());
  REQUIRE(*cur);
  CHECK((*cur)->object == tl + "/index_part.json-00000002");
  CHECK(*(*cur)->generation == 2);
  CHECK((*cur)->index.import_pgdata->idempotency_key == "b");

  // A corrupt current index is an error naming it (never silently skipped to an older one).
  d.Write(tl + "/index_part.json-00000004", "{not json");
  cur = ReadLatestIndexPart(**s, tl);
  REQUIRE_FALSE(cur.ok());
  CHECK(cur.status().message().find("index_part.json-00000004") != std::string::npos);
}

TEST_CASE("ClassifyExistingIndex") {
  const std::string where = "dest/tl";
  CHECK(*ClassifyExistingIndex(std::nullopt, "k", 1, where) == ExistingImport::kNone);

  TimelineIndex ti;
  ti.object = "x/index_part.json-00000001";
  ti.generation = 1;
  ti.index = ImportIndex(ImportPgdata::State::kDone, "k");
  CHECK(*ClassifyExistingIndex(ti, "k", 1, where) == ExistingImport::kDoneSameKey);
  CHECK(*ClassifyExistingIndex(ti, "k", 7, where) == ExistingImport::kDoneSameKey);
  auto r = ClassifyExistingIndex(ti, "other", 1, where);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTimelineTaken);
  CHECK(r.status().message().find("\"k\"") != std::string::npos);
  CHECK(r.status().message().find("complete") != std::string::npos);

  ti.index = ImportIndex(ImportPgdata::State::kInProgress, "k");
  CHECK(*ClassifyExistingIndex(ti, "k", 1, where) == ExistingImport::kInProgressSameKey);
  CHECK(*ClassifyExistingIndex(ti, "k", 2, where) == ExistingImport::kInProgressSameKey);
  r = ClassifyExistingIndex(ti, "other", 1, where);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTimelineTaken);
  CHECK(r.status().message().find("in progress") != std::string::npos);

  ti.generation = 5;   // written in a higher generation than ours: ours would be shadowed
  r = ClassifyExistingIndex(ti, "k", 3, where);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kConflict);
  CHECK(r.status().message().find("--generation 5") != std::string::npos);

  ti.index.import_pgdata.reset();   // an ordinary timeline
  r = ClassifyExistingIndex(ti, "k", 9, where);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTimelineTaken);
  CHECK(r.status().message().find("not created by an import") != std::string::npos);
}

}  // namespace p2l
