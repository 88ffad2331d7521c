// index_part.json: index-part-and-import.md §1 (text forms), §2.4.2 (legacy metadata), §2.5
// (import_pgdata), §2.8 (example documents A-E), §8 (the real mixed_workload sample).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "index/index_part.h"

using namespace p2l;

namespace {

std::string ReadFile(const std::string& path, bool* found = nullptr) {
  std::ifstream f(path, std::ios::binary);
  if (found) *found = bool(f);
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Data(const std::string& name) {
  bool found = false;
  std::string s = ReadFile("../data/index/" + name, &found);
  REQUIRE_MESSAGE(found, "missing test data ../data/index/" << name);
  return s;
}

int64_t Nanos(std::string_view s) {
  auto r = ParseNaiveDateTime(s);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

Result<IndexPart> Parse(std::string_view json) { return IndexPart::Parse(json, "index_part.json-00000001"); }

std::string ErrorOf(std::string_view json) {
  auto r = Parse(json);
  if (r.ok()) return "";
  return r.status().message();
}

const char* kLayer0 = "000000000000000000000000000000000000-000000067F00000005000040000000000000__000000000169C3D0";
const char* kLayer1 = "000000067F00000005000040000000000000-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF__000000000169C3D0";
const char* kLayerAll = "000000000000000000000000000000000000-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF__000000000169C3D0";
const char* kLocation =
    R"({"AwsS3":{"region":"us-east-2","bucket":"example-import-bucket","key":"imports/3f6b1c2e9a0d4e7f8a1b2c3d4e5f6071"}})";

TimelineMetadata ImportedMetadata() {
  TimelineMetadata m;
  m.disk_consistent_lsn = 0x169C3D8;
  m.prev_record_lsn = 0x169C3D0;
  m.ancestor_lsn = 0;
  m.latest_gc_cutoff_lsn = 0x169C3D0;
  m.initdb_lsn = 0x169C3D0;
  m.pg_version = 16;
  return m;
}

ImportPgdata InProgressRecord() {
  ImportPgdata ip;
  ip.state = ImportPgdata::State::kInProgress;
  ip.idempotency_key = "aZ3kP0qR7sT1uV5wX9yB";
  ip.location_json = kLocation;
  ip.started_at_nanos = 1748859330LL * 1000000000 + 123456789;
  return ip;
}

IndexPart ExampleA() {
  IndexPart ip;
  ip.version = 15;
  ip.import_pgdata = InProgressRecord();
  ip.metadata.pg_version = 15;
  return ip;
}

IndexPart ExampleB() {
  IndexPart ip = ExampleA();
  ip.layer_metadata[kLayer0] = LayerFileMetadata{9125888, 1, "0000"};
  ip.disk_consistent_lsn = 0x169C3D8;
  ip.metadata = ImportedMetadata();
  return ip;
}

IndexPart ExampleC() {
  IndexPart ip = ExampleB();
  ImportPgdata& d = *ip.import_pgdata;
  d.state = ImportPgdata::State::kDone;
  d.location_json.clear();
  d.finished_at_nanos = 1748859664LL * 1000000000 + 500000000;
  ip.layer_metadata[kLayer1] = LayerFileMetadata{134422528, 2, "0000"};
  return ip;
}

IndexPart ExampleD() {
  IndexPart ip;
  ip.has_version = false;
  ip.version = 0;
  ip.has_lineage = false;
  ip.layer_metadata[kLayerAll] = LayerFileMetadata{143548416, std::nullopt, "0000"};
  ip.disk_consistent_lsn = 0x169C3D8;
  ip.metadata = ImportedMetadata();
  return ip;
}

IndexPart ExampleE() {
  IndexPart ip;
  ip.layer_metadata[kLayerAll] = LayerFileMetadata{35913728, 3, "0104"};
  ip.disk_consistent_lsn = 0x169C3D8;
  ip.metadata = ImportedMetadata();
  return ip;
}

// Minimal valid document with one field replaced by `snippet` (raw JSON text).
std::string DocWith(const std::string& layer_entry, const std::string& extra = "",
                    const std::string& metadata = "") {
  std::string md = metadata.empty()
                       ? R"({"disk_consistent_lsn":"0/169C3D8","prev_record_lsn":"0/169C3D0","ancestor_timeline":null,"ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/169C3D0","initdb_lsn":"0/169C3D0","pg_version":16})"
                       : metadata;
  return std::string(R"({"version":15,)") + extra + R"("layer_metadata":{")" + kLayerAll + R"(":)" +
         layer_entry + R"(},"disk_consistent_lsn":"0/169C3D8","metadata_bytes":)" + md + "}";
}

std::vector<uint8_t> Unhex(const std::string& h) {
  std::vector<uint8_t> out;
  std::string clean;
  for (char c : h) if (c != ' ') clean.push_back(c);
  for (size_t i = 0; i + 1 < clean.size(); i += 2) out.push_back(uint8_t(std::stoi(clean.substr(i, 2), nullptr, 16)));
  return out;
}

std::string JsonArray(std::vector<uint8_t> bytes) {
  bytes.resize(512, 0);
  std::string s = "[";
  for (size_t i = 0; i < bytes.size(); i++) {
    if (i) s += ",";
    s += std::to_string(bytes[i]);
  }
  return s + "]";
}

// Example C's metadata in the legacy binary form (§2.4.2).
const char* kLegacyC =
    "175d78c6 0036 0004 000000000169c3d8 01 000000000169c3d0 00 0000000000000000 000000000169c3d0 "
    "000000000169c3d0 00000010";

}  // namespace

// ---- primitive text forms ------------------------------------------------------------------

TEST_CASE("index_part: LSN text form") {
  CHECK(LsnToString(0) == "0/0");
  CHECK(LsnToString(0x16960E8) == "0/16960E8");
  CHECK(LsnToString(0x1BCB5734CD8ull) == "1BC/B5734CD8");
  CHECK(LsnToString(0xFFFFFFFFFFFFFFFFull) == "FFFFFFFF/FFFFFFFF");
  for (const char* s : {"0/169C3D0", "0/169c3d0", " 0/169C3D0 ", "00000000/0169C3D0", "+0/+169C3D0"}) {
    auto r = ParseLsn(s);
    REQUIRE_MESSAGE(r.ok(), s);
    CHECK(*r == 0x169C3D0u);
  }
  CHECK(*ParseLsn("1BC/B5734CD8") == 0x1BCB5734CD8ull);
  for (const char* s : {"", "/", "0/", "/0", "169C3D0", "0/1/2", "0x0/1", "1/100000000", "g/0", "-1/0", "0 /1"}) {
    CHECK_MESSAGE(!ParseLsn(s).ok(), s);
  }
}

TEST_CASE("index_part: NaiveDateTime format (chrono: 0/3/6/9 fraction digits)") {
  int64_t base = 1748859330LL * 1000000000;
  CHECK(FormatNaiveDateTime(base) == "2025-06-02T10:15:30");
  CHECK(FormatNaiveDateTime(base + 123000000) == "2025-06-02T10:15:30.123");
  CHECK(FormatNaiveDateTime(base + 500000000) == "2025-06-02T10:15:30.500");
  CHECK(FormatNaiveDateTime(base + 123456000) == "2025-06-02T10:15:30.123456");
  CHECK(FormatNaiveDateTime(base + 123456789) == "2025-06-02T10:15:30.123456789");
  CHECK(FormatNaiveDateTime(base + 1000) == "2025-06-02T10:15:30.000001");
  CHECK(FormatNaiveDateTime(base + 1) == "2025-06-02T10:15:30.000000001");
  CHECK(FormatNaiveDateTime(0) == "1970-01-01T00:00:00");
  CHECK(FormatNaiveDateTime(-1) == "1969-12-31T23:59:59.999999999");
  CHECK(FormatNaiveDateTime(1731489822LL * 1000000000 + 123000000) == "2024-11-13T09:23:42.123");
  CHECK(FormatNaiveDateTime(Nanos("2024-02-29T23:59:59")) == "2024-02-29T23:59:59");
}

TEST_CASE("index_part: NaiveDateTime parse") {
  int64_t base = 1748859330LL * 1000000000;
  CHECK(Nanos("2025-06-02T10:15:30") == base);
  CHECK(Nanos("2025-06-02T10:15:30.1") == base + 100000000);
  CHECK(Nanos("2025-06-02T10:15:30.12") == base + 120000000);
  CHECK(Nanos("2025-06-02T10:15:30.1234") == base + 123400000);
  CHECK(Nanos("2025-06-02T10:15:30.123456789") == base + 123456789);
  CHECK(Nanos("2025-06-02T10:15:30.1234567891234") == base + 123456789);  // beyond 9: ignored
  CHECK(Nanos("1969-12-31T23:59:59.5") == -500000000);
  CHECK(Nanos("2000-02-29T00:00:00") == 951782400LL * 1000000000);
  for (const char* s : {"2025-06-02T10:15:30Z", "2025-06-02T10:15:30+00:00", "2025-06-02 10:15:30",
                        "2025-06-02T10:15:30.", "2025-06-02T10:15", "2025-06-02", "2025-13-01T00:00:00",
                        "2025-02-29T00:00:00", "1900-02-29T00:00:00", "2025-06-31T00:00:00",
                        "2025-06-02T24:00:00", "2025-06-02T10:60:00", "2025-06-02T10:15:61",
                        "25-06-02T10:15:30", "2025-6-02T10:15:30", "", "0001-01-01T00:00:00",
                        "2025-06-02T10:15:30.123 "}) {
    CHECK_MESSAGE(!ParseNaiveDateTime(s).ok(), s);
  }
}

// ---- §2.8 examples -------------------------------------------------------------------------

TEST_CASE("index_part: writer output equals the spec's examples A-E byte for byte") {
  CHECK(ExampleA().ToJson() == Data("example_a.json"));
  CHECK(ExampleB().ToJson() == Data("example_b.json"));
  CHECK(ExampleC().ToJson() == Data("example_c.json"));
  CHECK(ExampleD().ToJson() == Data("example_d.json"));
  CHECK(ExampleE().ToJson() == Data("example_e.json"));
  for (const IndexPart& ip : {ExampleA(), ExampleB(), ExampleC(), ExampleD(), ExampleE()}) {
    CHECK_MESSAGE(ip.Validate().ok(), ip.Validate().ToString());
  }
}

TEST_CASE("index_part: parsing examples A-E gives the model; write(parse(x)) == x") {
  struct Ex { const char* file; IndexPart model; };
  const Ex exs[] = {
      {"example_a.json", ExampleA()},        {"example_a_pretty.json", ExampleA()},
      {"example_b.json", ExampleB()},        {"example_b_pretty.json", ExampleB()},
      {"example_c.json", ExampleC()},        {"example_c_pretty.json", ExampleC()},
      {"example_d.json", ExampleD()},        {"example_e.json", ExampleE()},
  };
  for (const Ex& ex : exs) {
    CAPTURE(ex.file);
    auto r = Parse(Data(ex.file));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->version == ex.model.version);
    CHECK(r->has_version == ex.model.has_version);
    CHECK(r->has_lineage == ex.model.has_lineage);
    CHECK(r->import_pgdata == ex.model.import_pgdata);
    CHECK(r->layer_metadata == ex.model.layer_metadata);
    CHECK(r->disk_consistent_lsn == ex.model.disk_consistent_lsn);
    CHECK(r->metadata == ex.model.metadata);
    CHECK(r->progress == ex.model.progress);
    CHECK(r->other_fields == ex.model.other_fields);
    CHECK(*r == ex.model);
    std::string compact = ex.model.ToJson();
    CHECK(r->ToJson() == compact);
  }
}

TEST_CASE("index_part: example D has version 0 when parsed") {
  auto r = Parse(Data("example_d.json"));
  REQUIRE(r.ok());
  CHECK(r->version == 0u);
  CHECK_FALSE(r->has_version);
  CHECK_FALSE(r->import_pgdata.has_value());
  CHECK(r->layer_metadata.at(kLayerAll).shard == "0000");
  CHECK_FALSE(r->layer_metadata.at(kLayerAll).generation.has_value());
}

TEST_CASE("index_part: default model writes version 15 and lineage {}") {
  IndexPart ip;
  ip.metadata.pg_version = 17;
  CHECK(ip.ToJson() ==
        R"({"version":15,"layer_metadata":{},"disk_consistent_lsn":"0/0","metadata_bytes":{"disk_consistent_lsn":"0/0","prev_record_lsn":null,"ancestor_timeline":null,"ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/0","initdb_lsn":"0/0","pg_version":17},"lineage":{}})");
}

// ---- our extension -------------------------------------------------------------------------

TEST_CASE("index_part: pgdata2layers progress is last and exact in u64") {
  IndexPart ip = ExampleE();
  ip.progress = ImportProgress{0xFEDCBA9876543210ull, 62, 32, 268435456};
  ip.other_fields["zzz_unknown"] = R"({"a":1})";
  ip.other_fields["deleted_at"] = R"("2023-07-31T09:00:00.123")";
  std::string js = ip.ToJson();
  const std::string tail =
      R"("lineage":{},"zzz_unknown":{"a":1},"pgdata2layers":{"plan_fingerprint":18364758544493064720,"jobs":62,"completed":32,"soft_size_limit":268435456}})";
  CHECK(js.substr(js.size() - tail.size()) == tail);
  CHECK(js.rfind(R"({"version":15,"deleted_at":"2023-07-31T09:00:00.123","layer_metadata")", 0) == 0);
  auto r = Parse(js);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->progress->plan_fingerprint == 0xFEDCBA9876543210ull);
  CHECK(*r == ip);
  CHECK(r->ToJson() == js);

  ip.progress->plan_fingerprint = UINT64_MAX;
  r = Parse(ip.ToJson());
  REQUIRE(r.ok());
  CHECK(r->progress->plan_fingerprint == UINT64_MAX);

  std::string bad = DocWith(R"({"file_size":1})", "",
                            "") ;
  bad.pop_back();
  CHECK(ErrorOf(bad + R"(,"pgdata2layers":{"plan_fingerprint":1,"jobs":2,"completed":3,"soft_size_limit":4}})")
            .find("pgdata2layers.completed") != std::string::npos);
  CHECK(ErrorOf(bad + R"(,"pgdata2layers":{"plan_fingerprint":1.5,"jobs":2,"completed":1,"soft_size_limit":4}})")
            .find("pgdata2layers.plan_fingerprint: expected unsigned integer") != std::string::npos);
  CHECK(ErrorOf(bad + R"(,"pgdata2layers":{"jobs":2,"completed":1,"soft_size_limit":4}})")
            .find("missing field \"plan_fingerprint\"") != std::string::npos);
}

// ---- unknown and optional fields -----------------------------------------------------------

TEST_CASE("index_part: unknown fields are kept and written back; optional order is Neon's") {
  std::string in = R"({"version":9,"timeline_layers":["x"],"gc_blocking":{"started_at":"2024-07-19T09:00:00.123","reasons":["DetachAncestor"]},"layer_metadata":{},"disk_consistent_lsn":"0/16960E8","metadata_bytes":{"disk_consistent_lsn":"0/16960E8","prev_record_lsn":"0/1696070","ancestor_timeline":"e2bfd8c633d713d279e6fcd2bcc15b6d","ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/1696070","initdb_lsn":"0/1696070","pg_version":14},"lineage":{"reparenting_history_truncated":true,"reparenting_history":["e1bfd8c633d713d279e6fcd2bcc15b6d"],"original_ancestor":["e2bfd8c633d713d279e6fcd2bcc15b6d","0/15A7618","2024-05-07T18:52:36.322426563"]},"archived_at":"2023-04-29T09:00:00.123","last_aux_file_policy":"V2","rel_size_migration":"legacy","l2_lsn":"0/16960E8","gc_compaction":{"last_completed_lsn":"0/16960E8"},"marked_invisible_at":"2023-07-31T09:00:00.123","rel_size_migrated_at":"0/16960E8","deleted_at":null,"missing_layers":[]})";
  auto r = Parse(in);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->version == 9u);
  CHECK(r->metadata.ancestor_timeline.has_value());
  CHECK(r->metadata.ancestor_timeline->ToHex() == "e2bfd8c633d713d279e6fcd2bcc15b6d");
  CHECK(r->other_fields.count("deleted_at") == 0);  // null = absent
  CHECK(r->other_fields.count("timeline_layers") == 1);
  CHECK(r->other_fields.count("missing_layers") == 1);
  std::string out = r->ToJson();
  // Pageserver order for known fields, then unknown ones sorted.
  std::vector<std::string> order = {"\"version\"", "\"archived_at\"", "\"layer_metadata\"",
                                    "\"disk_consistent_lsn\"", "\"metadata_bytes\"", "\"lineage\"",
                                    "\"gc_blocking\"", "\"last_aux_file_policy\"", "\"rel_size_migration\"",
                                    "\"l2_lsn\"", "\"gc_compaction\"", "\"marked_invisible_at\"",
                                    "\"rel_size_migrated_at\"", "\"missing_layers\"", "\"timeline_layers\""};
  size_t prev = 0;
  for (const auto& k : order) {
    size_t at = out.find(k + ":");
    CHECK_MESSAGE(at != std::string::npos, k);
    CHECK_MESSAGE(at >= prev, k);
    prev = at;
  }
  auto again = Parse(out);
  REQUIRE(again.ok());
  CHECK(*again == *r);
  CHECK(again->ToJson() == out);
}

TEST_CASE("index_part: validation of known optional fields") {
  std::string base = DocWith(R"({"file_size":1})");
  base.pop_back();
  auto err = [&](const std::string& extra) { return ErrorOf(base + "," + extra + "}"); };
  CHECK(err(R"("deleted_at":"2023-07-31T09:00:00Z")").find("deleted_at") != std::string::npos);
  CHECK(err(R"("l2_lsn":5)").find("l2_lsn: expected LSN string") != std::string::npos);
  CHECK(err(R"("gc_blocking":{"started_at":"2024-07-19T09:00:00","reasons":["Bogus"]})").find("gc_blocking.reasons[0]") != std::string::npos);
  CHECK(err(R"("rel_size_migration":"Legacy")").find("rel_size_migration") != std::string::npos);
  CHECK(err(R"("last_aux_file_policy":"v3")").find("last_aux_file_policy") != std::string::npos);
  CHECK(err(R"("lineage":null)").find("lineage: expected object, got null") != std::string::npos);
  CHECK(err(R"("lineage":{"original_ancestor":["x","0/1","2024-05-07T18:52:36"]})").find("lineage.original_ancestor[0]") != std::string::npos);
  CHECK(err(R"("gc_compaction":{})").find("missing field \"last_completed_lsn\"") != std::string::npos);
  CHECK(err(R"("import_pgdata":null)") == "");
  CHECK(err(R"("whatever":[1,2.5,"x",null,{"a":-3}])") == "");
}

// ---- metadata forms ------------------------------------------------------------------------

TEST_CASE("index_part: metadata under the alias key \"metadata\"") {
  std::string doc = DocWith(R"({"file_size":1})");
  size_t at = doc.find("\"metadata_bytes\"");
  doc.replace(at, 16, "\"metadata\"");
  auto r = Parse(doc);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->metadata == ImportedMetadata());
  CHECK(r->ToJson().find("\"metadata_bytes\":{") != std::string::npos);
  // Both keys: error.
  std::string both = doc;
  both.pop_back();
  both += R"(,"metadata_bytes":{"disk_consistent_lsn":"0/169C3D8","ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/169C3D0","initdb_lsn":"0/169C3D0","pg_version":16}})";
  CHECK(ErrorOf(both).find("duplicate field") != std::string::npos);
}

TEST_CASE("index_part: optional metadata fields may be missing; required ones may not") {
  auto r = Parse(DocWith(R"({"file_size":1})", "",
                         R"({"disk_consistent_lsn":"0/169C3D8","ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/169C3D0","initdb_lsn":"0/169C3D0","pg_version":16,"extra":true})"));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK_FALSE(r->metadata.prev_record_lsn.has_value());
  CHECK_FALSE(r->metadata.ancestor_timeline.has_value());
  std::string e = ErrorOf(DocWith(R"({"file_size":1})", "",
                                  R"({"disk_consistent_lsn":"0/169C3D8","ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/169C3D0","initdb_lsn":"0/169C3D0"})"));
  CHECK(e == "index_part.json-00000001: metadata_bytes: missing field \"pg_version\"");
  e = ErrorOf(DocWith(R"({"file_size":1})", "",
                      R"({"disk_consistent_lsn":"0/169C3D8","ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/169C3D0","initdb_lsn":"0/169C3D0","pg_version":18})"));
  CHECK(e.find("metadata_bytes.pg_version: unsupported PostgreSQL major version 18") != std::string::npos);
  e = ErrorOf(DocWith(R"({"file_size":1})", "",
                      R"({"disk_consistent_lsn":23651288,"ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/169C3D0","initdb_lsn":"0/169C3D0","pg_version":16})"));
  CHECK(e.find("metadata_bytes.disk_consistent_lsn: expected LSN string") != std::string::npos);
  e = ErrorOf(DocWith(R"({"file_size":1})", "",
                      R"({"disk_consistent_lsn":"0/169C3D8","ancestor_timeline":"xyz","ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/169C3D0","initdb_lsn":"0/169C3D0","pg_version":16})"));
  CHECK(e.find("metadata_bytes.ancestor_timeline") != std::string::npos);
}

TEST_CASE("index_part: legacy 512-byte metadata (§2.4.2)") {
  SUBCASE("example C bytes") {
    std::vector<uint8_t> b = Unhex(kLegacyC);
    REQUIRE(b.size() == 54);
    std::string json = JsonArray(b);
    CHECK(json.rfind("[23,93,120,198,0,54,0,4,0,0,0,0,1,105,195,216,1,", 0) == 0);
    auto r = Parse(DocWith(R"({"file_size":1})", "", json));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->metadata == ImportedMetadata());
    // Written back in the object form.
    CHECK(r->ToJson() == DocWith(R"({"file_size":1})"));  // the input had no lineage
  }
  SUBCASE("IDX v1 test vector (dcl 0/16960E8, PG14)") {
    std::vector<uint8_t> b = {113, 11, 159, 210, 0, 54, 0, 4, 0, 0, 0, 0, 1, 105, 96, 232, 1, 0, 0, 0, 0, 1, 105, 96, 112, 0,
                              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 105, 96, 112, 0, 0, 0, 0, 1, 105, 96, 112, 0, 0, 0, 14};
    auto r = Parse(DocWith(R"({"file_size":9007199254741001})", "", JsonArray(b)));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->metadata.disk_consistent_lsn == 0x16960E8u);
    CHECK(r->metadata.prev_record_lsn == std::optional<uint64_t>(0x1696070));
    CHECK_FALSE(r->metadata.ancestor_timeline.has_value());
    CHECK(r->metadata.latest_gc_cutoff_lsn == 0x1696070u);
    CHECK(r->metadata.initdb_lsn == 0x1696070u);
    CHECK(r->metadata.pg_version == 14u);
    CHECK(r->layer_metadata.begin()->second.file_size == 9007199254741001ull);  // > 2^53, exact
    CHECK(r->ToJson().find("\"file_size\":9007199254741001") != std::string::npos);
  }
  SUBCASE("MD vector with ancestor (size 70, crc 0x4A689E69)") {
    std::vector<uint8_t> b = Unhex(
        "4a689e69 0046 0004 0000000000000200 01 0000000000000100 01 11223344556677881122334455667788 "
        "0000000000000000 0000000000000000 0000000000000000 00000010");
    REQUIRE(b.size() == 70);
    CHECK(b[0] == 74);
    CHECK(b[1] == 104);
    auto r = Parse(DocWith(R"({"file_size":1})", "", JsonArray(b)));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->metadata.ancestor_timeline->ToHex() == "11223344556677881122334455667788");
    CHECK(r->metadata.disk_consistent_lsn == 0x200u);
    CHECK(r->metadata.prev_record_lsn == std::optional<uint64_t>(0x100));
  }
  SUBCASE("rejections") {
    std::vector<uint8_t> b = Unhex(kLegacyC);
    std::vector<uint8_t> bad = b;
    bad[20] ^= 1;  // body byte: CRC mismatch
    CHECK(ErrorOf(DocWith(R"({"file_size":1})", "", JsonArray(bad))).find("checksum mismatch") != std::string::npos);
    bad = b;
    bad[7] = 5;  // format 5
    CHECK(ErrorOf(DocWith(R"({"file_size":1})", "", JsonArray(bad))).find("format version 5") != std::string::npos);
    std::string short_arr = JsonArray(b);
    short_arr = short_arr.substr(0, short_arr.rfind(',')) + "]";  // 511 elements
    CHECK(ErrorOf(DocWith(R"({"file_size":1})", "", short_arr)).find("511 elements") != std::string::npos);
    std::string big = JsonArray(b);
    big.replace(big.size() - 2, 1, "256");  // last element 256
    CHECK(ErrorOf(DocWith(R"({"file_size":1})", "", big)).find("metadata_bytes[511]: byte value 256") != std::string::npos);
    std::string neg = JsonArray(b);
    neg.replace(neg.size() - 2, 1, "-1");
    CHECK(ErrorOf(DocWith(R"({"file_size":1})", "", neg)).find("metadata_bytes[511]: expected unsigned integer, got negative integer") != std::string::npos);
  }
}

// ---- import_pgdata -------------------------------------------------------------------------

TEST_CASE("index_part: import_pgdata shapes") {
  std::string base = DocWith(R"({"file_size":1})");
  auto with = [&](const std::string& ip) { return R"({"import_pgdata":)" + ip + "," + base.substr(1); };
  SUBCASE("Done from the IDX test vector") {
    auto r = Parse(with(R"({"V1":{"Done":{"idempotency_key":"specified-by-client-218a5213-5044-4562-a28d-d024c5f057f5","started_at":"2024-11-13T09:23:42.123","finished_at":"2024-11-13T09:42:23.123"}}})"));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->import_pgdata->state == ImportPgdata::State::kDone);
    CHECK(r->import_pgdata->started_at_nanos == 1731489822LL * 1000000000 + 123000000);
    CHECK(FormatNaiveDateTime(*r->import_pgdata->finished_at_nanos) == "2024-11-13T09:42:23.123");
  }
  SUBCASE("InProgress: location re-serialized in the pageserver's field order") {
    auto r = Parse(with(R"({"V1":{"InProgress":{"started_at":"2025-06-02T10:15:30.123456789","location":{"AwsS3":{"key":"imports/3f6b1c2e9a0d4e7f8a1b2c3d4e5f6071","bucket":"example-import-bucket","region":"us-east-2"}},"idempotency_key":"aZ3kP0qR7sT1uV5wX9yB"}}})"));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(*r->import_pgdata == InProgressRecord());
  }
  SUBCASE("InProgress with LocalFs (test builds of Neon)") {
    auto r = Parse(with(R"({"V1":{"InProgress":{"idempotency_key":"k","location":{"LocalFs":{"path":"/abs/path"}},"started_at":"2025-06-02T10:15:30"}}})"));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->import_pgdata->location_json == R"({"LocalFs":{"path":"/abs/path"}})");
    CHECK(r->ToJson().find(R"("import_pgdata":{"V1":{"InProgress":{"idempotency_key":"k","location":{"LocalFs":{"path":"/abs/path"}},"started_at":"2025-06-02T10:15:30"}}})") != std::string::npos);
  }
  SUBCASE("rejections") {
    CHECK(ErrorOf(with(R"({"V1":{"Aborted":{"idempotency_key":"k"}}})")).find("import_pgdata.V1: unknown variant \"Aborted\"") != std::string::npos);
    CHECK(ErrorOf(with(R"({"V2":{}})")).find("unknown variant \"V2\"") != std::string::npos);
    CHECK(ErrorOf(with(R"({"V1":{"Done":{"idempotency_key":"k","started_at":"2024-11-13T09:23:42Z","finished_at":"2024-11-13T09:42:23"}}})"))
              .find("import_pgdata.V1.Done.started_at: invalid date-time") != std::string::npos);
    CHECK(ErrorOf(with(R"({"V1":{"Done":{"idempotency_key":"k","started_at":"2024-11-13T09:23:42"}}})"))
              .find("missing field \"finished_at\"") != std::string::npos);
    CHECK(ErrorOf(with(R"({"V1":{"InProgress":{"idempotency_key":"k","location":{"Gcs":{}},"started_at":"2025-06-02T10:15:30"}}})"))
              .find("location: unknown variant \"Gcs\"") != std::string::npos);
    CHECK(ErrorOf(with(R"({"V1":{"InProgress":{"idempotency_key":"k","location":{"AwsS3":{"region":"r","bucket":"b"}},"started_at":"2025-06-02T10:15:30"}}})"))
              .find("missing field \"key\"") != std::string::npos);
    CHECK(ErrorOf(with(R"({"V1":{"Done":{},"InProgress":{}}})")).find("exactly one variant") != std::string::npos);
    CHECK(ErrorOf(with(R"("V1")")).find("import_pgdata: expected object, got string") != std::string::npos);
    CHECK(ErrorOf(with(R"({"V1":{"Done":{"idempotency_key":7,"started_at":"2024-11-13T09:23:42","finished_at":"2024-11-13T09:42:23"}}})"))
              .find("idempotency_key: expected string, got unsigned integer") != std::string::npos);
  }
}

// ---- rejections ----------------------------------------------------------------------------

TEST_CASE("index_part: type errors name the object and the JSON path") {
  std::string name = kLayerAll;
  CHECK(ErrorOf(DocWith(R"({"file_size":"143548416"})")) ==
        "index_part.json-00000001: layer_metadata." + name + ".file_size: expected unsigned integer, got string");
  CHECK(ErrorOf(DocWith(R"({"file_size":-1})")).find(".file_size: expected unsigned integer, got negative integer") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":1.0})")).find(".file_size: expected unsigned integer, got floating-point") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":1e3})")).find("got floating-point") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":18446744073709551616})")).find("got floating-point number (or integer out of u64 range)") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":-0})")).find("file_size: expected unsigned integer") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":null})")).find("got null") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":true})")).find("got boolean") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({})")).find("." + name + ": missing field \"file_size\"") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":1,"generation":4294967296})")).find(".generation: 4294967296 does not fit in u32") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":1,"generation":"1"})")).find(".generation: expected unsigned integer, got string") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":1,"shard":"104"})")).find(".shard: expected 4 hex digits") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":1,"shard":4})")).find(".shard: expected string") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"([])")).find(name + ": expected object, got array") != std::string::npos);
  std::string v = DocWith(R"({"file_size":1})");
  v.replace(v.find("\"version\":15"), 12, "\"version\":\"15\"");
  CHECK(ErrorOf(v) == "index_part.json-00000001: version: expected unsigned integer, got string");

  // u64 maximum is exact; no double anywhere.
  auto r = Parse(DocWith(R"({"file_size":18446744073709551615,"generation":4294967295,"shard":"0D11"})"));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->layer_metadata.begin()->second.file_size == UINT64_MAX);
  CHECK(r->layer_metadata.begin()->second.generation == std::optional<uint32_t>(UINT32_MAX));
  CHECK(r->layer_metadata.begin()->second.shard == "0d11");
  CHECK(r->ToJson().find(R"({"file_size":18446744073709551615,"generation":4294967295,"shard":"0d11"})") != std::string::npos);
  // generation null = none
  r = Parse(DocWith(R"({"file_size":1,"generation":null})"));
  REQUIRE(r.ok());
  CHECK_FALSE(r->layer_metadata.begin()->second.generation.has_value());
}

TEST_CASE("index_part: structural rejections") {
  for (const char* top : {"[]", "\"x\"", "1", "null", "true"}) {
    std::string e = ErrorOf(top);
    CHECK_MESSAGE(e.find("expected a JSON object at the top level") != std::string::npos, top << ": " << e);
  }
  CHECK(ErrorOf("").find("invalid JSON") != std::string::npos);
  CHECK(ErrorOf("{").find("invalid JSON") != std::string::npos);
  CHECK(ErrorOf(DocWith(R"({"file_size":1})") + "x").find("invalid JSON") != std::string::npos);
  CHECK(ErrorOf("{\"a\":1,}").find("invalid JSON") != std::string::npos);

  std::string doc = DocWith(R"({"file_size":1})");
  std::string no_layers = doc;
  no_layers.replace(no_layers.find("\"layer_metadata\""), 16, "\"layer_metadataX\"");
  CHECK(ErrorOf(no_layers) == "index_part.json-00000001: missing field \"layer_metadata\"");
  std::string no_dcl = doc;
  const std::string top_dcl = "\"disk_consistent_lsn\":\"0/169C3D8\",";
  no_dcl.erase(no_dcl.find(top_dcl), top_dcl.size());  // the first one is the top-level field
  CHECK(ErrorOf(no_dcl) == "index_part.json-00000001: missing field \"disk_consistent_lsn\"");
  std::string no_md = R"({"layer_metadata":{},"disk_consistent_lsn":"0/0"})";
  CHECK(ErrorOf(no_md) == "index_part.json-00000001: missing field \"metadata_bytes\"");

  // Duplicate keys (nlohmann would silently keep one).
  std::string dup = DocWith(R"({"file_size":1,"file_size":2})");
  CHECK(ErrorOf(dup).find("layer_metadata." + std::string(kLayerAll) + ".file_size: duplicate object key") != std::string::npos);
  std::string dup_top = doc;
  dup_top.insert(1, R"("disk_consistent_lsn":"0/1",)");
  CHECK(ErrorOf(dup_top).find("disk_consistent_lsn: duplicate object key") != std::string::npos);

  // Invalid layer names.
  std::string badname = doc;
  badname.replace(badname.find(kLayerAll), 36, std::string(36, 'G'));
  CHECK(ErrorOf(badname).find("invalid layer name") != std::string::npos);
  std::string inverted = R"({"layer_metadata":{"000000067F00000005000040000000000000-000000000000000000000000000000000000__000000000169C3D0":{"file_size":1}},"disk_consistent_lsn":"0/0","metadata_bytes":{"disk_consistent_lsn":"0/0","ancestor_lsn":"0/0","latest_gc_cutoff_lsn":"0/0","initdb_lsn":"0/0","pg_version":16}})";
  CHECK(ErrorOf(inverted).find("key range start is not below its end") != std::string::npos);
}

TEST_CASE("index_part: nesting depth and size bounds") {
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  std::string e = ErrorOf(deep);
  CHECK(e.find("nesting deeper than 64") != std::string::npos);
  std::string deep_obj = DocWith(R"({"file_size":1})");
  deep_obj.pop_back();
  deep_obj += ",\"x\":";
  for (int i = 0; i < 1000; i++) deep_obj += "{\"a\":";
  deep_obj += "1";
  for (int i = 0; i < 1000; i++) deep_obj += "}";
  deep_obj += "}";
  CHECK(ErrorOf(deep_obj).find("nesting deeper than 64") != std::string::npos);
  // Brackets inside strings do not count.
  std::string in_str = DocWith(R"({"file_size":1})", "\"note\":\"" + std::string(200, '[') + "\\\"{{{\",");
  CHECK(ErrorOf(in_str) == "");
  // 64 levels are fine, 65 are not.
  auto nested = [](int n) {
    std::string s;
    for (int i = 0; i < n; i++) s += "[";
    for (int i = 0; i < n; i++) s += "]";
    return s;
  };
  CHECK(ErrorOf(nested(64)).find("top level") != std::string::npos);
  CHECK(ErrorOf(nested(65)).find("nesting deeper") != std::string::npos);
  // Size limit.
  std::string huge(size_t(64) << 20, ' ');
  huge += "{}";
  CHECK(ErrorOf(huge).find("64 MiB") != std::string::npos);
}

TEST_CASE("index_part: Validate") {
  IndexPart ip = ExampleC();
  CHECK(ip.Validate().ok());
  IndexPart bad = ip;
  bad.metadata.pg_version = 18;
  CHECK_FALSE(bad.Validate().ok());
  bad = ip;
  bad.disk_consistent_lsn = 0;
  CHECK_FALSE(bad.Validate().ok());
  bad = ip;
  bad.import_pgdata->finished_at_nanos.reset();
  CHECK(bad.Validate().message().find("finished_at") != std::string::npos);
  bad = ExampleA();
  bad.import_pgdata->location_json = "{}";
  CHECK_FALSE(bad.Validate().ok());
  bad = ip;
  bad.layer_metadata.begin()->second.shard = "01";
  CHECK_FALSE(bad.Validate().ok());
  bad = ip;
  bad.layer_metadata["not a layer"] = LayerFileMetadata{};
  CHECK_FALSE(bad.Validate().ok());
  bad = ip;
  bad.progress = ImportProgress{1, 2, 3, 4};
  CHECK_FALSE(bad.Validate().ok());
}

TEST_CASE("index_part: JSON string escaping in names and keys") {
  IndexPart ip = ExampleA();
  ip.import_pgdata->idempotency_key = "q\"b\\s/\n\x01\xc3\xa9";
  std::string js = ip.ToJson();
  CHECK(js.find(R"("idempotency_key":"q\"b\\s/\n\u0001)" "\xc3\xa9\"") != std::string::npos);
  auto r = Parse(js);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->import_pgdata->idempotency_key == ip.import_pgdata->idempotency_key);
}

// ---- the real sample -----------------------------------------------------------------------

TEST_CASE("index_part: Neon's mixed_workload sample (1564 layers) round-trips") {
  bool found = false;
  std::string json = ReadFile("../../../shared/testdata/neon/index_part.json", &found);
  if (!found) {
    MESSAGE("skipped: ../../../shared/testdata/neon/index_part.json not present");
    return;
  }
  auto r = IndexPart::Parse(json, "mixed_workload/index_part.json");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->version == 7u);
  CHECK(r->layer_metadata.size() == 1564u);
  CHECK(r->disk_consistent_lsn == 0x1BCB5734CD8ull);
  CHECK(r->metadata.disk_consistent_lsn == 0x1BCB5734CD8ull);
  CHECK(r->metadata.prev_record_lsn == std::optional<uint64_t>(0x1BCB5734CB0ull));
  CHECK_FALSE(r->metadata.ancestor_timeline.has_value());
  CHECK(r->metadata.latest_gc_cutoff_lsn == 0x1BCB5732690ull);
  CHECK(r->metadata.initdb_lsn == 0x14EE150ull);
  CHECK(r->metadata.pg_version == 16u);
  CHECK(r->other_fields.empty());
  size_t images = 0, gen2 = 0;
  uint32_t gmin = UINT32_MAX, gmax = 0;
  for (const auto& [name, lm] : r->layer_metadata) {
    CHECK(lm.shard == "0008");
    REQUIRE(lm.generation.has_value());
    gmin = std::min(gmin, *lm.generation);
    gmax = std::max(gmax, *lm.generation);
    if (*lm.generation == 2) gen2++;
    if (name.size() == 36 + 1 + 36 + 2 + 16) images++;
  }
  CHECK(images == 802u);
  CHECK(gmin == 1u);
  CHECK(gmax == 239u);
  CHECK(gen2 > 1564u / 2);
  std::string out = r->ToJson();
  auto again = IndexPart::Parse(out, "rewritten");
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(*again == *r);
  CHECK(again->ToJson() == out);
  // Same fields, compact; only the layer order differs (and the file ends with a newline).
  CHECK(out.size() + 1 == json.size());
}
