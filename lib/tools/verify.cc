// Import verification (see verify.h; keyspace-and-sharding.md §4.4-§4.5 placement, §5.3 layer
// contents; index-part-and-import.md §2.7 load checks, §3 layout).
#include "tools/verify.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <map>
#include <memory>
#include <set>

#include "import/plan.h"
#include "index/index_part.h"
#include "keyspace/keys.h"
#include "keyspace/values.h"
#include "layer/layer_name.h"
#include "layer/summary.h"
#include "pg/controlfile.h"
#include "tools/describe.h"
#include "tools/layer_stream.h"
#include "tools/plan_stream.h"
#include "tools/servability.h"
#include "tools/timeline_reader.h"
#include "util/log.h"

namespace p2l {

namespace {

std::string KeyText(const Key& k) { return fmt::format("{} ({})", k.ToHex(), DescribeKey(k)); }

// Collects the problems of one shard, listing at most `limit` per check (the rest counted).
class Problems {
 public:
  Problems(std::string shard, size_t limit, VerifyReport* report, EventSink& events)
      : shard_(std::move(shard)), limit_(limit), report_(report), events_(events) {}
  ~Problems() { Flush(); }

  // Lists the problem unless `check` already listed `limit` (default: the per-check limit).
  void Add(const std::string& check, const std::string& msg, std::optional<size_t> limit = {}) {
    auto& [n, lim] = counts_[check];
    lim = limit.value_or(limit_);
    n++;
    if (n <= lim) Emit(msg);
  }
  void Flush() {
    for (auto& [check, e] : counts_) {
      auto& [n, lim] = e;
      if (n > lim) Emit(fmt::format("... and {} more {} problems", n - lim, check));
      n = std::min(n, lim);
    }
  }

 private:
  void Emit(const std::string& msg) {
    std::string full = fmt::format("shard {}: {}", shard_, msg);
    LogError("verify: {}", full);
    events_.Emit("problem", {{"shard", shard_}, {"message", msg}});
    report_->problems.push_back(std::move(full));
  }
  std::string shard_;
  size_t limit_;
  VerifyReport* report_;
  EventSink& events_;
  std::map<std::string, std::pair<size_t, size_t>> counts_;   // check -> (count, limit)
};

// Checks that a value under a well-known key decodes; "" when fine.
std::string CheckValue(const Key& k, std::string_view v, int pg_major, std::string* control) {
  const std::string what = k.ToHex();
  Status st;
  if (k == kDbDirKey) {
    st = DbDirectory::Decode(v, what).status();
  } else if (IsRelSizeKey(k)) {
    st = DecodeRelSize(v, what).status();
  } else if (IsRelDirKey(k)) {
    st = RelDirectory::Decode(v, what).status();
  } else if (IsRelBlockKey(k) || IsSlruBlockKey(k)) {
    if (v.size() != kBlockSize) return fmt::format("page value has {} bytes, expected 8192", v.size());
  } else if (IsSlruSegmentSizeKey(k)) {
    st = DecodeSlruSegmentSize(v, what).status();
  } else if (IsSlruDirKey(k)) {
    st = SlruSegmentDirectory::Decode(v, what).status();
  } else if (k == kTwoPhaseDirKey) {
    st = pg_major >= 17 ? TwoPhaseDirectoryV17::Decode(v, what).status() : TwoPhaseDirectory::Decode(v, what).status();
  } else if (k == kControlFileKey) {
    st = ControlFile::Parse(v, what).status();
    if (st.ok()) *control = std::string(v);
  } else if (k == kCheckpointKey) {
    if (v.size() != 88) return fmt::format("CheckPoint value has {} bytes, expected 88", v.size());
  }
  return st.ok() ? "" : st.message();
}

std::string FirstDifference(std::string_view a, std::string_view b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) i++;
  return fmt::format("layer value {} bytes, source {} bytes, first difference at byte {}", a.size(), b.size(), i);
}

struct ShardContext {
  Storage& dest;
  const VerifyOptions& opts;
  EventSink& events;
  VerifyReport* report;
  std::FILE* keys_out;
};

// Builds the plan of `shard` from the source, using the import's soft size limit when recorded.
Result<ImportPlan> PlanFor(const ShardContext& c, const ShardIdentity& shard, const IndexPart& index) {
  PlanOptions po;
  po.shard = shard;
  po.allow_unclean_shutdown = c.opts.allow_unclean_shutdown;
  po.verify_pages = false;
  if (index.progress && index.progress->soft_size_limit > 0) po.soft_size_limit = index.progress->soft_size_limit;
  // The import's --tablespaces mode is not recorded, but its plan fingerprint is: a source with
  // user tablespaces was imported with keep (the fingerprint of the full plan) or with skip (that
  // of the plan without them). refuse never produces a timeline.
  po.tablespaces = TablespaceMode::kKeep;
  P2L_ASSIGN_OR_RETURN(ImportPlan plan, BuildPlan(*c.opts.source, po));
  if (!plan.tablespaces.empty() && index.progress && plan.Fingerprint() != index.progress->plan_fingerprint) {
    po.tablespaces = TablespaceMode::kSkip;
    P2L_ASSIGN_OR_RETURN(ImportPlan skipped, BuildPlan(*c.opts.source, po));
    if (skipped.Fingerprint() == index.progress->plan_fingerprint) return skipped;
  }
  return plan;
}

void VerifyShard(const ShardContext& c, ShardIdentity shard) {
  const std::string sid = shard.IndexString();
  Problems problems(sid, c.opts.max_problems_per_check, c.report, c.events);
  ShardVerifyResult res;
  res.shard = sid;

  auto loaded = LoadShardTimeline(c.dest, c.opts.tenant, c.opts.timeline, shard);
  if (!loaded.ok()) {
    problems.Add("index", loaded.status().message());
    c.report->shards.push_back(res);
    return;
  }
  ShardTimeline& tl = *loaded;
  res.index_object = tl.index_object.object;
  res.layers = tl.layers.size();
  const std::string index_where = c.dest.Describe(tl.index_object.object);
  const IndexPart& ix = tl.index;
  const TimelineMetadata& md = ix.metadata;
  LogInfo("verify: shard {}: {} ({} layers)", sid, index_where, tl.layers.size());

  // ---- index ----------------------------------------------------------------------------------
  if (!ix.import_pgdata) {
    problems.Add("index", fmt::format("{}: no import_pgdata record", index_where));
  } else if (ix.import_pgdata->state != ImportPgdata::State::kDone) {
    problems.Add("index", fmt::format("{}: import_pgdata is InProgress, not Done (the import did not finish)", index_where));
  }
  if (md.disk_consistent_lsn == 0) problems.Add("index", fmt::format("{}: disk_consistent_lsn is 0/0", index_where));
  if (md.ancestor_timeline) problems.Add("index", fmt::format("{}: an imported timeline has an ancestor", index_where));
  if (tl.layers.empty()) problems.Add("index", fmt::format("{}: lists no layers", index_where));

  // ---- layer names, ranges and objects --------------------------------------------------------
  std::vector<LayerRef> good;
  for (size_t i = 0; i < tl.layers.size(); i++) {
    const LayerRef& l = tl.layers[i];
    const std::string where = c.dest.Describe(l.object);
    bool ok = true;
    if (!(l.parsed.key_start < l.parsed.key_end)) {
      problems.Add("range", fmt::format("layer {}: empty or inverted key range", l.name));
      ok = false;
    }
    if (i > 0 && l.parsed.key_start < tl.layers[i - 1].parsed.key_end) {
      problems.Add("range", fmt::format("layers {} and {} overlap", tl.layers[i - 1].name, l.name));
      ok = false;
    }
    if (l.parsed.lsn != md.initdb_lsn) {
      problems.Add("lsn", fmt::format("layer {}: LSN {} is not initdb_lsn {}", l.name, LsnToString(l.parsed.lsn),
                                      LsnToString(md.initdb_lsn)));
    }
    if (l.parsed.lsn > md.disk_consistent_lsn) {
      problems.Add("lsn", fmt::format("layer {}: LSN {} is beyond disk_consistent_lsn {} (the pageserver would delete it)",
                                      l.name, LsnToString(l.parsed.lsn), LsnToString(md.disk_consistent_lsn)));
    }
    auto reader = OpenLayer(c.dest, l);
    if (!reader.ok()) {
      problems.Add("object", reader.status().message());
      continue;
    }
    const ImageLayerSummary& s = (*reader)->summary();
    Status st = CheckSummaryMatches(s, c.opts.tenant, l.parsed.key_start, l.parsed.key_end, l.parsed.lsn, where);
    if (!st.ok()) {
      problems.Add("summary", st.message());
      ok = false;
    }
    if (s.timeline != c.opts.timeline) {
      problems.Add("summary", fmt::format("{}: summary timeline {} is not {}", where, s.timeline.ToHex(),
                                          c.opts.timeline.ToHex()));
    }
    if (ok) good.push_back(l);
  }

  // ---- scan (and compare) ---------------------------------------------------------------------
  std::optional<ImportPlan> plan;
  if (c.opts.source != nullptr) {
    auto p = PlanFor(c, shard, ix);
    if (!p.ok()) {
      problems.Add("source", fmt::format("cannot build the import plan from the source: {}", p.status().message()));
    } else {
      plan = std::move(*p);
      res.compared_with_source = true;
      if (ix.progress && ix.progress->plan_fingerprint != plan->Fingerprint()) {
        c.report->notes.push_back(fmt::format(
            "shard {}: the plan built from the source has fingerprint {:016x}, the import recorded {:016x} "
            "(the source objects or the import options differ; contents are compared anyway)",
            sid, plan->Fingerprint(), ix.progress->plan_fingerprint));
      }
      if (plan->base_lsn != md.initdb_lsn) {
        problems.Add("source", fmt::format("source base LSN {} is not the index's initdb_lsn {}",
                                           LsnToString(plan->base_lsn), LsnToString(md.initdb_lsn)));
      }
    }
  }

  ShardStreamOptions so;
  so.continue_on_error = true;
  ShardStream stream(c.dest, good, so);
  std::unique_ptr<PlanStream> expected;
  if (plan) expected = std::make_unique<PlanStream>(*c.opts.source, *plan);

  std::vector<uint64_t> keys_per_layer(good.size(), 0);
  std::vector<bool> job_has_keys(plan ? plan->jobs.size() : 0, false);
  ServabilityChecker servable(shard, md.pg_version);
  res.scanned = true;
  res.lsn = md.disk_consistent_lsn;
  res.pg_version = md.pg_version;
  std::unique_ptr<XXH64_state_t, decltype(&XXH64_freeState)> global_hash(XXH64_createState(), &XXH64_freeState);
  if (global_hash) XXH64_reset(global_hash.get(), 0);
  for (const LayerRef& l : tl.layers) servable.AddLayer(l.parsed.key_start, l.parsed.key_end, l.parsed.lsn);
  std::string control;
  std::string checkpoint;
  const int pg_major = int(md.pg_version);

  StreamItem a;
  bool have_a = false, a_done = false;
  Key e_key;
  std::string e_val;
  uint32_t e_job = 0;
  bool have_e = false, e_done = (expected == nullptr);
  auto diff = [&](const std::string& msg) {
    res.differences++;
    problems.Add("difference", msg, c.opts.max_diffs);
  };
  // Next layer key (checked as it comes), skipping layers that fail (reported).
  auto pull_a = [&] {
    while (!have_a && !a_done) {
      auto n = stream.Next(&a);
      if (!n.ok()) {
        problems.Add("scan", n.status().message());
        a_done = true;
      } else if (!*n) {
        a_done = true;
      } else if (!a.error.ok()) {
        problems.Add("scan", a.error.message());
      } else {
        have_a = true;
      }
    }
    if (!have_a) return;
    const LayerRef& l = good[a.layer];
    keys_per_layer[a.layer]++;
    res.keys++;
    res.value_bytes += a.value.size();
    if (a.key < l.parsed.key_start || !(a.key < l.parsed.key_end)) {
      problems.Add("key range", fmt::format("layer {}: key {} outside its range", l.name, KeyText(a.key)));
    }
    servable.AddKey(a.key, a.value);
    if (shard.IsKeyGlobal(a.key) && global_hash) {
      const auto kb = a.key.Encode();
      const uint64_t vlen = a.value.size();
      XXH64_update(global_hash.get(), kb.data(), kb.size());
      XXH64_update(global_hash.get(), &vlen, sizeof(vlen));
      XXH64_update(global_hash.get(), a.value.data(), a.value.size());
      res.global_keys++;
    }
    std::string bad = CheckValue(a.key, a.value, pg_major, &control);
    if (!bad.empty()) problems.Add("value", fmt::format("layer {}: key {}: {}", l.name, KeyText(a.key), bad));
    if (a.key == kCheckpointKey) checkpoint = a.value;
    if (c.keys_out != nullptr) std::fprintf(c.keys_out, "%s %s\n", a.key.ToHex().c_str(), sid.c_str());
  };
  auto pull_e = [&] {
    if (have_e || e_done) return;
    auto n = expected->Next(&e_key, &e_val, &e_job);
    if (!n.ok()) {
      problems.Add("source", fmt::format("reading the source: {}", n.status().message()));
      e_done = true;
    } else if (!*n) {
      e_done = true;
    } else {
      have_e = true;
      res.source_keys++;
      job_has_keys[e_job] = true;
    }
  };
  for (;;) {
    pull_a();
    pull_e();
    if (!have_a && !have_e) break;
    if (expected == nullptr) {
      have_a = false;
      continue;
    }
    if (have_a && (!have_e || a.key < e_key)) {
      diff(fmt::format("key {} in layer {} is not implied by the source", KeyText(a.key), good[a.layer].name));
      have_a = false;
    } else if (!have_a || e_key < a.key) {
      diff(fmt::format("key {} implied by the source is missing from the layers", KeyText(e_key)));
      have_e = false;
    } else {
      if (a.value != e_val) {
        diff(fmt::format("key {} in layer {}: value differs from the source: {}", KeyText(a.key),
                         good[a.layer].name, FirstDifference(a.value, e_val)));
      }
      have_a = have_e = false;
    }
  }

  for (size_t i = 0; i < good.size(); i++) {
    if (keys_per_layer[i] == 0) problems.Add("layer", fmt::format("layer {} holds no keys", good[i].name));
  }
  for (const ServabilityViolation& v : servable.Finish(c.opts.max_problems_per_check)) {
    if (v.tablespace) {
      std::string full = fmt::format("shard {}: {}", sid, v.message);
      LogWarn("verify: not servable by a Neon pageserver: {}", full);
      c.events.Emit("unservable", {{"shard", sid}, {"rule", v.rule}, {"message", v.message}});
      c.report->unservable.push_back(std::move(full));
    } else {
      problems.Add(v.rule, v.message, size_t(-1));
    }
  }
  c.report->user_tablespaces.insert(servable.user_tablespaces().begin(), servable.user_tablespaces().end());
  if (!control.empty() && !checkpoint.empty() && control.size() >= 128 && control.substr(40, 88) != checkpoint) {
    problems.Add("value", "the checkpoint value is not bytes [40, 128) of the controlfile value");
  }
  if (!control.empty()) {
    auto cf = ControlFile::Parse(control, "controlfile value");
    if (cf.ok() && cf->BaseLsn() != md.initdb_lsn) {
      problems.Add("lsn", fmt::format("controlfile base LSN {} is not initdb_lsn {}", LsnToString(cf->BaseLsn()),
                                      LsnToString(md.initdb_lsn)));
    }
    if (cf.ok() && uint32_t(cf->pg_major) != md.pg_version) {
      problems.Add("index", fmt::format("pg_version {} but the controlfile is PostgreSQL {}", md.pg_version, cf->pg_major));
    }
  }
  if (plan) {
    // The layers must be exactly the jobs that put at least one key (§5.3).
    std::set<std::string> want, have;
    for (size_t j = 0; j < plan->jobs.size(); j++) {
      if (!job_has_keys[j]) continue;
      ImageLayerName n{plan->jobs[j].start, plan->jobs[j].end, plan->base_lsn};
      want.insert(n.ToString());
    }
    for (const LayerRef& l : tl.layers) have.insert(l.name);
    for (const auto& n : want) {
      if (!have.count(n)) problems.Add("layer set", fmt::format("the plan implies layer {}, the index does not list it", n));
    }
    for (const auto& n : have) {
      if (!want.count(n)) problems.Add("layer set", fmt::format("the index lists layer {}, which the plan does not imply", n));
    }
  }
  problems.Flush();
  if (global_hash) res.global_digest = XXH64_digest(global_hash.get());
  LogInfo("verify: shard {}: {} layers, {} keys, {} value bytes{}", sid, res.layers, res.keys, res.value_bytes,
          res.compared_with_source ? fmt::format("; source: {} keys, {} differences", res.source_keys, res.differences) : "");
  c.events.Emit("shard", {{"shard", sid},
                          {"index", res.index_object},
                          {"layers", res.layers},
                          {"keys", res.keys},
                          {"value_bytes", res.value_bytes},
                          {"compared_with_source", res.compared_with_source},
                          {"source_keys", res.source_keys},
                          {"differences", res.differences}});
  c.report->shards.push_back(res);
}

}  // namespace

namespace {

// Every shard of one import is a view of the same cluster at the same LSN: a pageserver serving
// the tenant answers metadata requests (DBDIR, RELDIR, relation sizes, two-phase, control file)
// from whichever shard it asks, so these must be identical on all of them (Neon's
// pageserver_api shard.rs: such keys are "global", stored on every shard). Compared against the
// first scanned shard.
void CheckAcrossShards(VerifyReport* report, EventSink& events) {
  const ShardVerifyResult* first = nullptr;
  for (const ShardVerifyResult& s : report->shards) {
    if (!s.scanned) continue;
    if (first == nullptr) {
      first = &s;
      continue;
    }
    std::string what;
    if (s.lsn != first->lsn) {
      what = fmt::format("its LSN is {}, shard {}'s is {}", LsnToString(s.lsn), first->shard, LsnToString(first->lsn));
    } else if (s.pg_version != first->pg_version) {
      what = fmt::format("its pg_version is {}, shard {}'s is {}", s.pg_version, first->shard, first->pg_version);
    } else if (s.global_keys != first->global_keys || s.global_digest != first->global_digest) {
      what = fmt::format(
          "its keys held by every shard (DBDIR, RELDIR, relation maps and sizes, two-phase, control file, "
          "checkpoint: {} keys) differ from shard {}'s ({} keys)",
          s.global_keys, first->shard, first->global_keys);
    }
    if (what.empty()) continue;
    std::string msg = fmt::format("shard {}: the shards do not describe the same cluster: {}", s.shard, what);
    LogError("verify: {}", msg);
    events.Emit("problem", {{"shard", s.shard}, {"message", msg}});
    report->problems.push_back(std::move(msg));
  }
}

}  // namespace

Result<VerifyReport> Verify(Storage& dest, const VerifyOptions& opts, EventSink& events) {
  VerifyReport report;
  if (opts.shard_number && !opts.shard_count) return Status::Usage("--shard-number needs --shard-count");
  P2L_ASSIGN_OR_RETURN(auto shards, FindTimelineShards(dest, opts.tenant, opts.timeline));
  if (shards.empty()) {
    return Status::NotFound(fmt::format("{}: no shard of tenant {} has timeline {}", dest.Url(),
                                        opts.tenant.ToHex(), opts.timeline.ToHex()));
  }
  std::vector<ShardIdentity> selected;
  std::map<uint32_t, std::set<uint32_t>> by_count;
  for (const ShardIdentity& s : shards) {
    if (opts.shard_count && s.count != *opts.shard_count) continue;
    if (opts.shard_number && s.number != *opts.shard_number) continue;
    selected.push_back(s);
    by_count[s.count].insert(s.number);
  }
  if (selected.empty()) {
    return Status::NotFound(fmt::format("{}: timeline {} of tenant {} has no shard {}{}", dest.Url(),
                                        opts.timeline.ToHex(), opts.tenant.ToHex(),
                                        opts.shard_number ? fmt::format("{}", *opts.shard_number) : "",
                                        fmt::format(" of count {}", opts.shard_count.value_or(0))));
  }
  if (!opts.shard_number) {
    // A shard set must be complete.
    for (const auto& [count, numbers] : by_count) {
      for (uint32_t n = 0; n < std::max<uint32_t>(count, 1); n++) {
        if (!numbers.count(n)) {
          std::string msg = fmt::format("shard {:02x}{:02x} of the {}-shard set is missing", n, count, count);
          events.Emit("problem", {{"shard", fmt::format("{:02x}{:02x}", n, count)}, {"message", msg}});
          report.problems.push_back(msg);
        }
      }
    }
  }

  std::FILE* keys_out = nullptr;
  if (!opts.keys_out.empty()) {
    keys_out = std::fopen(opts.keys_out.c_str(), "w");
    if (keys_out == nullptr) return Status::Io(fmt::format("{}: cannot create: {}", opts.keys_out, std::strerror(errno)));
  }
  ShardContext ctx{dest, opts, events, &report, keys_out};
  for (ShardIdentity s : selected) {
    uint32_t stripe = kDefaultStripeSize;
    if (opts.stripe_size) {
      stripe = *opts.stripe_size;
    } else if (s.count >= 2) {
      auto m = ReadManifestStripeSize(dest, opts.tenant, s);
      if (m.ok() && m->has_value()) {
        stripe = **m;
      } else {
        report.notes.push_back(fmt::format("shard {}: no stripe size recorded{}; assuming {} pages (--stripe-size to change)",
                                           s.IndexString(), m.ok() ? "" : " (" + m.status().message() + ")", stripe));
      }
    }
    if (stripe == 0) return Status::Usage("--stripe-size must be at least 1");
    s.stripe_size = stripe;
    VerifyShard(ctx, s);
  }
  if (keys_out != nullptr && std::fclose(keys_out) != 0) {
    return Status::Io(fmt::format("{}: write failed: {}", opts.keys_out, std::strerror(errno)));
  }
  CheckAcrossShards(&report, events);
  for (const auto& n : report.notes) LogInfo("verify: note: {}", n);
  return report;
}

}  // namespace p2l
