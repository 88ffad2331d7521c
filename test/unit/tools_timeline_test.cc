// Timeline discovery (tenant shard directories, index generations, layer objects), the shard
// stream, the plan stream and inspect.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "import/plan.h"
#include "layer/image_layer_reader.h"
#include "storage/memory_reader.h"
#include "tools/inspect.h"
#include "tools/layer_stream.h"
#include "tools/plan_stream.h"
#include "tools/timeline_reader.h"
#include "tools_test_util.h"

using namespace p2l;
using namespace p2l::toolstest;

namespace {

ObjectInfo Obj(std::string name) {
  ObjectInfo o;
  o.name = std::move(name);
  return o;
}

// Collects events for inspection.
class CaptureEvents : public EventSink {
 public:
  bool enabled() const override { return true; }
  void Emit(std::string_view event, nlohmann::json fields) override {
    fields["event"] = std::string(event);
    lines.push_back(fields);
  }
  std::vector<nlohmann::json> lines;
};

}  // namespace

TEST_CASE("ParseTenantShardDir") {
  const std::string t = "3aa8fcc61f6d357410b7de754b1d9001";
  auto u = ParseTenantShardDir(t);
  REQUIRE(u);
  CHECK(u->count == 0);
  CHECK(u->tenant == Tenant());
  auto s = ParseTenantShardDir(t + "-0104");
  REQUIRE(s);
  CHECK(s->number == 1);
  CHECK(s->count == 4);
  CHECK(ParseTenantShardDir(t + "-0001"));
  CHECK_FALSE(ParseTenantShardDir(t + "-0404"));   // number >= count
  CHECK_FALSE(ParseTenantShardDir(t + "-0000"));   // count 0 has no suffix
  CHECK_FALSE(ParseTenantShardDir(t + "_0104"));
  CHECK_FALSE(ParseTenantShardDir(t + "-01g4"));
  CHECK_FALSE(ParseTenantShardDir(t.substr(1)));
  CHECK_FALSE(ParseTenantShardDir("../" + t.substr(3)));
}

TEST_CASE("PickIndexPart takes the highest generation") {
  std::vector<ObjectInfo> objs = {Obj("d/index_part.json"), Obj("d/index_part.json-00000002"),
                                  Obj("d/index_part.json-0000000a"), Obj("d/index_part.json-00000003.tmp"),
                                  Obj("d/index_part.json-zz"), Obj("d/000-111__22-00000001")};
  auto c = PickIndexPart(objs, "d/");
  REQUIRE(c.ok());
  CHECK(c->object == "d/index_part.json-0000000a");
  CHECK(c->generation == 10u);
  auto legacy = PickIndexPart({Obj("d/index_part.json")}, "d/");
  REQUIRE(legacy.ok());
  CHECK(!legacy->generation);
  auto none = PickIndexPart({Obj("d/index_part.json.1234.___temp")}, "d/");
  CHECK(none.status().code() == Code::kNotFound);
}

TEST_CASE("SplitObjectUrl") {
  std::string root, name;
  REQUIRE(SplitObjectUrl("s3://bucket/a/b/layer", &root, &name).ok());
  CHECK(root == "s3://bucket/a/b");
  CHECK(name == "layer");
  REQUIRE(SplitObjectUrl("layer", &root, &name).ok());
  CHECK(root == ".");
  REQUIRE(SplitObjectUrl("/layer", &root, &name).ok());
  CHECK(root == "/");
  CHECK(SplitObjectUrl("s3://bucket/", &root, &name).code() == Code::kUsage);
  CHECK(SplitObjectUrl("s3://layer", &root, &name).code() == Code::kUsage);
}

TEST_CASE("timeline discovery over shards and generations") {
  TempDir dest;
  const KV kv = SyntheticCluster(16);
  for (uint32_t n = 0; n < 2; n++) {
    TimelineSpec spec;
    spec.shard = ShardIdentity::Make(n, 2, 1).value();
    spec.bounds = ThreeLayers();
    WriteTimeline(dest.path(), spec, kv);
  }
  TimelineSpec u;   // an unsharded import of the same timeline, generation 3
  u.generation = 3;
  u.bounds = ThreeLayers();
  WriteTimeline(dest.path(), u, kv);
  // an older index generation with garbage must be ignored
  WriteFile(dest.path() + "/tenants/" + Tenant().ToHex() + "/timelines/" + Timeline().ToHex() +
                "/index_part.json-00000002",
            "garbage");
  // a directory of another tenant and junk
  WriteFile(dest.path() + "/tenants/00000000000000000000000000000001/timelines/x/readme", "x");
  std::filesystem::create_directories(dest.path() + "/tenants/not-a-tenant");
  auto st = OpenDir(dest.path());

  auto tenants = ListTenants(*st);
  REQUIRE(tenants.ok());
  CHECK(tenants->size() == 2);
  auto shards = FindTimelineShards(*st, Tenant(), Timeline());
  REQUIRE(shards.ok());
  REQUIRE(shards->size() == 3);
  CHECK((*shards)[0].count == 0);
  CHECK((*shards)[1].IndexString() == "0002");
  CHECK((*shards)[2].IndexString() == "0102");
  auto tls = ListTimelines(*st, Tenant());
  REQUIRE(tls.ok());
  REQUIRE(tls->size() == 1);
  CHECK((*tls)[0] == Timeline());

  TenantId t;
  TimelineId tl;
  CHECK(ResolveTimeline(*st, "", "", &t, &tl).code() == Code::kUsage);   // two tenants
  REQUIRE(ResolveTimeline(*st, Tenant().ToHex(), "", &t, &tl).ok());
  CHECK(tl == Timeline());
  CHECK(ResolveTimeline(*st, "xyz", "", &t, &tl).code() == Code::kUsage);

  auto u_tl = LoadShardTimeline(*st, Tenant(), Timeline(), (*shards)[0]);
  REQUIRE(u_tl.ok());
  CHECK(u_tl->index_object.generation == 3u);
  CHECK(u_tl->layers.size() == 3);
  auto s1 = LoadShardTimeline(*st, Tenant(), Timeline(), (*shards)[2]);
  REQUIRE(s1.ok());
  REQUIRE(!s1->layers.empty());
  for (const auto& l : s1->layers) {
    CHECK(l.object.find("tenants/" + Tenant().ToHex() + "-0102/timelines/") == 0);
    CHECK(l.object.substr(l.object.size() - 9) == "-00000001");
    auto r = OpenLayer(*st, l);
    REQUIRE(r.ok());
    CHECK((*r)->summary().key_start == l.parsed.key_start);
  }
  // a layer object with the wrong size is refused
  const LayerRef& l0 = s1->layers[0];
  {
    std::ofstream out(dest.path() + "/" + l0.object, std::ios::binary | std::ios::app);
    out << "x";
  }
  auto bad = OpenLayer(*st, l0);
  CHECK(bad.status().code() == Code::kInvalidInput);
  CHECK(bad.status().message().find("file_size") != std::string::npos);
  std::filesystem::remove(dest.path() + "/" + l0.object);
  CHECK(OpenLayer(*st, l0).status().code() == Code::kNotFound);
}

TEST_CASE("manifest stripe size") {
  TempDir dest;
  auto st = OpenDir(dest.path());
  ShardIdentity s = ShardIdentity::Make(1, 4, 8).value();
  auto none = ReadManifestStripeSize(*st, Tenant(), s);
  REQUIRE(none.ok());
  CHECK(!none->has_value());
  const std::string dir = dest.path() + "/tenants/" + Tenant().ToHex() + "-0104/";
  WriteFile(dir + "tenant-manifest-00000001.json", R"({"version":2,"stripe_size":32768,"offloaded_timelines":[]})");
  WriteFile(dir + "tenant-manifest-00000002.json", R"({"version":2,"stripe_size":2048,"offloaded_timelines":[]})");
  auto m = ReadManifestStripeSize(*st, Tenant(), s);
  REQUIRE(m.ok());
  CHECK(**m == 2048u);
  WriteFile(dir + "tenant-manifest-00000003.json", "{not json");
  CHECK(ReadManifestStripeSize(*st, Tenant(), s).status().code() == Code::kInvalidInput);
}

TEST_CASE("ShardStream reads a shard's layers in key order with bounded batches") {
  TempDir dest;
  KV kv = SyntheticCluster(16);
  TimelineSpec spec;
  spec.bounds = ThreeLayers();
  WriteTimeline(dest.path(), spec, kv);
  auto st = OpenDir(dest.path());
  auto tl = LoadShardTimeline(*st, Tenant(), Timeline(), ShardIdentity::Unsharded());
  REQUIRE(tl.ok());
  REQUIRE(tl->layers.size() == 3);
  ShardStreamOptions so;
  so.batch_bytes = 10000;       // about one page per batch
  so.max_queued_bytes = 20000;
  {
    ShardStream s(*st, tl->layers, so);
    StreamItem it;
    auto expect = kv.begin();
    size_t n = 0;
    for (;;) {
      auto more = s.Next(&it);
      REQUIRE(more.ok());
      if (!*more) break;
      REQUIRE(expect != kv.end());
      CHECK(it.key == expect->first);
      CHECK(it.value == expect->second);
      ++expect;
      n++;
    }
    CHECK(expect == kv.end());
    CHECK(n == kv.size());
  }
  {
    // stopping early joins the reader thread without hanging
    ShardStream s(*st, tl->layers, so);
    StreamItem it;
    REQUIRE(*s.Next(&it));
  }
  {
    // a missing layer: an error, or an error item followed by the next layers
    std::filesystem::remove(dest.path() + "/" + tl->layers[1].object);
    ShardStream s(*st, tl->layers);
    StreamItem it;
    Status err;
    for (;;) {
      auto more = s.Next(&it);
      if (!more.ok()) {
        err = more.status();
        break;
      }
      REQUIRE(*more);
    }
    CHECK(err.code() == Code::kNotFound);
    so.continue_on_error = true;
    ShardStream c(*st, tl->layers, so);
    size_t errors = 0, items = 0;
    for (;;) {
      auto more = c.Next(&it);
      REQUIRE(more.ok());
      if (!*more) break;
      if (!it.error.ok()) errors++;
      else items++;
    }
    CHECK(errors == 1);
    CHECK(items > 0);
  }
}

TEST_CASE("ShardStream rejects overlapping layers") {
  TempDir dest;
  KV kv = SyntheticCluster(16);
  TimelineSpec a;
  WriteTimeline(dest.path(), a, kv);   // one layer [MIN, MAX)
  auto st = OpenDir(dest.path());
  auto tl = LoadShardTimeline(*st, Tenant(), Timeline(), ShardIdentity::Unsharded());
  REQUIRE(tl.ok());
  std::vector<LayerRef> twice = {tl->layers[0], tl->layers[0]};
  ShardStream s(*st, twice);
  StreamItem it;
  Status err;
  for (;;) {
    auto more = s.Next(&it);
    if (!more.ok()) {
      err = more.status();
      break;
    }
    REQUIRE(*more);
  }
  CHECK(err.code() == Code::kInvalidInput);
  CHECK(err.message().find("overlap") != std::string::npos);
}

TEST_CASE("PlanStream yields single keys, object values and local blocks") {
  TempDir src;
  // a 5-block segment whose block b holds byte b, a relmap object
  std::string seg;
  for (int b = 0; b < 5; b++) seg += std::string(8192, char(b));
  WriteFile(src.Sub("base/5/16384"), seg);
  WriteFile(src.Sub("base/5/pg_filenode.map"), "relmap");
  auto st = OpenDir(src.path());
  ImportPlan plan;
  plan.shard = ShardIdentity::Make(1, 2, 1).value();
  ImportJob job;
  job.start = Key::Min();
  job.end = Key::Max();
  ImportTask single;
  single.kind = ImportTask::Kind::kSingleKey;
  single.start = kDbDirKey;
  single.end = kDbDirKey.Next();
  single.value = "dbdir";
  ImportTask obj;
  obj.kind = ImportTask::Kind::kObjectValue;
  obj.start = RelmapFileKey(1663, 5);
  obj.end = obj.start.Next();
  obj.object = st->Stat("base/5/pg_filenode.map").value();
  ImportTask blocks;
  const RelTag t{1663, 5, 16384, 0};
  blocks.kind = ImportTask::Kind::kRelBlocks;
  blocks.start = RelBlockKey(t, 0);
  blocks.end = RelBlockKey(t, 5);
  blocks.object = st->Stat("base/5/16384").value();
  blocks.nblocks = 5;
  job.tasks = {single, obj, blocks};
  plan.jobs = {job};
  PlanStream ps(*st, plan);
  Key k;
  std::string v;
  uint32_t j;
  REQUIRE(*ps.Next(&k, &v, &j));
  CHECK(k == kDbDirKey);
  CHECK(v == "dbdir");
  REQUIRE(*ps.Next(&k, &v, &j));
  CHECK(v == "relmap");
  std::vector<uint32_t> got;
  for (;;) {
    auto more = ps.Next(&k, &v, &j);
    REQUIRE(more.ok());
    if (!*more) break;
    CHECK(j == 0);
    CHECK(v == std::string(8192, char(k.field6)));
    got.push_back(k.field6);
  }
  std::vector<uint32_t> want;
  for (uint32_t b = 0; b < 5; b++) {
    if (!plan.shard.IsKeyDisposable(RelBlockKey(t, b))) want.push_back(b);
  }
  CHECK(got == want);
  CHECK(!want.empty());
  // a changed source object is reported
  WriteFile(src.Sub("base/5/pg_filenode.map"), "relmap-changed");
  PlanStream ps2(*st, plan);
  REQUIRE(*ps2.Next(&k, &v, &j));
  auto r = ps2.Next(&k, &v, &j);
  CHECK(!r.ok());
}

TEST_CASE("inspect prints the summary and decoded keys") {
  TempDir dest;
  KV kv = SyntheticCluster(16);
  TimelineSpec spec;
  spec.bounds = ThreeLayers();
  WriteTimeline(dest.path(), spec, kv);
  auto st = OpenDir(dest.path());
  auto tl = LoadShardTimeline(*st, Tenant(), Timeline(), ShardIdentity::Unsharded());
  REQUIRE(tl.ok());
  const LayerRef& first = tl->layers[0];
  const std::string path = dest.path() + "/" + first.object;
  auto bytes = ReadFile(path);
  auto reader = ImageLayerReader::Open(NewMemoryReader(first.object, bytes));
  REQUIRE(reader.ok());
  std::vector<std::string> lines;
  InspectOptions o;
  REQUIRE(InspectReader(**reader, first.object, o, [&](const std::string& l) { lines.push_back(l); }, NullEvents()).ok());
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  INFO(all);
  CHECK(all.find("magic:           0x5A60 (image layer)") != std::string::npos);
  CHECK(all.find("tenant:          " + Tenant().ToHex()) != std::string::npos);
  CHECK(all.find("lsn:             0/14DDE08 (00000000014DDE08)") != std::string::npos);
  CHECK(all.find("name:            matches the summary (generation 00000001)") != std::string::npos);
  CHECK(all.find("dbdir = 3 databases: 1663/5, 1664/0, 16500/5 (no relmap)") != std::string::npos);
  CHECK(all.find("rel 1663/5/16384 main blk 9") != std::string::npos);
  // blk 10 is the summary's key_end, but its key belongs to the next layer: no key line
  CHECK(all.find("key_end:         000000067F0000000500004000000000000A  rel 1663/5/16384 main blk 10") !=
        std::string::npos);
  CHECK(all.find("\n" + RelBlockKey(RelTag{1663, 5, 16384, 0}, 10).ToHex() + " ") == std::string::npos);
  // blobs are packed after the summary block: dbdir at 8192 (1-byte header + 35 bytes), then relmap
  CHECK(all.find(RelmapFileKey(1663, 5).ToHex() + "         8228      524  relmap 1663/5") != std::string::npos);

  // --values adds hex lines; a renamed object is flagged
  o.values = true;
  lines.clear();
  REQUIRE(InspectReader(**reader, "000000000000000000000000000000000000-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF__00000000014DDE08",
                        o, [&](const std::string& l) { lines.push_back(l); }, NullEvents())
              .ok());
  all.clear();
  for (const auto& l : lines) all += l + "\n";
  CHECK(all.find("MISMATCH") != std::string::npos);
  CHECK(all.find("    000000  0000000000000003") != std::string::npos);   // dbdir value: count 3

  CaptureEvents ev;
  o.values = false;
  REQUIRE(InspectReader(**reader, first.object, o, [](const std::string&) { FAIL("no human lines with --json"); }, ev).ok());
  REQUIRE(ev.lines.size() > 2);
  CHECK(ev.lines[0]["event"] == "layer");
  CHECK(ev.lines[0]["keys"].get<uint64_t>() == ev.lines.size() - 1);
  CHECK(ev.lines[1]["event"] == "key");
  CHECK(ev.lines[1]["key"] == kDbDirKey.ToHex());
  CHECK(ev.lines[1]["desc"] == "dbdir");

  // InspectLayer on a local path (output to stdout is not captured here)
  InspectOptions summary_only;
  summary_only.keys = false;
  CHECK(InspectLayer(path, StorageOptions{}, summary_only, NullEvents()).ok());
  CHECK(InspectLayer(path + ".missing", StorageOptions{}, summary_only, NullEvents()).code() != Code::kOk);
}
