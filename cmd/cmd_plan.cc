// `pgdata2layers plan`: a dry run of the import planner. Reads pg_control and the source listing,
// prints the jobs (one image layer each) and writes nothing.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "import/plan.h"
#include "import/progress.h"
#include "index/index_part.h"
#include "index/remote_layout.h"
#include "import/source_options.h"
#include "layer/layer_name.h"
#include "util/events.h"
#include "util/log.h"

namespace p2l::cmd {

namespace {

struct PlanFlags {
  std::string source;
  uint32_t shard_count = 0;
  uint32_t shard_number = 0;
  uint32_t stripe_size = kDefaultStripeSize;
  std::string soft_size_limit = "256MiB";
  bool allow_unclean_shutdown = false;
  std::string tablespaces = "refuse";
  bool show_tasks = false;
  bool all_shards = false;
  uint32_t generation = 1;
  ToolStorageFlags storage;
};


const char* KindName(ImportTask::Kind k) {
  switch (k) {
    case ImportTask::Kind::kSingleKey: return "single";
    case ImportTask::Kind::kObjectValue: return "object";
    case ImportTask::Kind::kRelBlocks: return "rel";
    case ImportTask::Kind::kSlruBlocks: return "slru";
  }
  return "?";
}

std::string ShardText(const ShardIdentity& s) {
  if (s.count == 0) return fmt::format("unsharded (stripe {} pages)", s.stripe_size);
  return fmt::format("{} of {} ({}), stripe {} pages", s.number, s.count, s.IndexString(), s.stripe_size);
}

std::string LayerNameOf(const ImportJob& j, uint64_t lsn) { return ImageLayerName{j.start, j.end, lsn}.ToString(); }

nlohmann::json TaskJson(const ImportTask& t) {
  nlohmann::json o = {{"kind", KindName(t.kind)},
                      {"key_start", t.start.ToHex()},
                      {"key_end", t.end.ToHex()},
                      {"pages_on_shard", t.local_pages}};
  if (t.kind == ImportTask::Kind::kSingleKey) {
    o["value_len"] = t.value.size();
  } else {
    o["object"] = t.object.name;
    o["size"] = t.object.size;
    if (t.kind != ImportTask::Kind::kObjectValue) {
      o["first_block"] = t.first_block;
      o["nblocks"] = t.nblocks;
    }
  }
  return o;
}

void PrintTask(const ImportTask& t) {
  std::string what;
  if (t.kind == ImportTask::Kind::kSingleKey) {
    what = fmt::format("value {} bytes", t.value.size());
  } else if (t.kind == ImportTask::Kind::kObjectValue) {
    what = fmt::format("{} ({} bytes)", t.object.name, t.object.size);
  } else {
    what = fmt::format("{} blocks {}..{} ({} pages)", t.object.name, t.first_block, uint64_t(t.first_block) + t.nblocks,
                       t.nblocks);
  }
  std::printf("    %-6s %s-%s pages=%u %s\n", KindName(t.kind), t.start.ToHex().c_str(), t.end.ToHex().c_str(),
              t.local_pages, what.c_str());
}

// Bytes of the layer data this job writes on its shard (pages on the shard x 8 KiB).
uint64_t ShardBytes(const ImportJob& j) { return j.LocalPages() * 8192; }

uint64_t LayerCount(const ImportPlan& plan) {
  uint64_t n = 0;
  for (const ImportJob& j : plan.jobs) n += j.EmptyForShard() ? 0 : 1;
  return n;
}

uint64_t TotalShardBytes(const ImportPlan& plan) { return plan.TotalLocalPages() * 8192; }

// What each --tablespaces mode does with the user tablespaces of the plan.
std::string ModeEffect(TablespaceMode m, bool any) {
  if (!any) return "nothing to do (no user tablespace)";
  switch (m) {
    case TablespaceMode::kRefuse: return "the import is refused (exit 3), nothing written";
    case TablespaceMode::kSkip: return "their relations are left out, each listed";
    case TablespaceMode::kKeep: return "imported with their own spcnode (not servable by a Neon pageserver)";
  }
  return "?";
}

nlohmann::json TablespacesJson(const ImportPlan& plan) {
  nlohmann::json list = nlohmann::json::array();
  for (const UserTablespace& t : plan.tablespaces) {
    list.push_back({{"oid", t.oid},
                    {"location", t.location.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.location)},
                    {"databases", t.databases},
                    {"relations", t.relations},
                    {"bytes", t.bytes}});
  }
  nlohmann::json modes = nlohmann::json::object();
  for (TablespaceMode m : {TablespaceMode::kRefuse, TablespaceMode::kSkip, TablespaceMode::kKeep}) {
    modes[TablespaceModeName(m)] = ModeEffect(m, !plan.tablespaces.empty());
  }
  return {{"mode", TablespaceModeName(plan.tablespace_mode)},
          {"user_tablespaces", std::move(list)},
          {"skipped_relations", plan.skipped_relations.size()},
          {"modes", std::move(modes)}};
}

void PrintTablespacesText(const ImportPlan& plan) {
  std::printf("tablespaces: --tablespaces %s, %zu user tablespace(s)\n", TablespaceModeName(plan.tablespace_mode),
              plan.tablespaces.size());
  for (const UserTablespace& t : plan.tablespaces) {
    std::string dbs;
    for (uint32_t d : t.databases) dbs += (dbs.empty() ? "" : ",") + std::to_string(d);
    std::printf("  tablespace %u: location %s, databases %s, %llu relations, %llu bytes\n", t.oid,
                t.location.empty() ? "unknown" : t.location.c_str(), dbs.c_str(), (unsigned long long)t.relations,
                (unsigned long long)t.bytes);
  }
  if (plan.tablespaces.empty()) return;
  for (TablespaceMode m : {TablespaceMode::kRefuse, TablespaceMode::kSkip, TablespaceMode::kKeep}) {
    std::printf("  %s: %s%s\n", TablespaceModeName(m), ModeEffect(m, true).c_str(),
                m == plan.tablespace_mode ? " (this plan)" : "");
  }
}

void EmitPlanJson(const PlanFlags& f, const ImportPlan& plan, const std::string& source_url) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const ImportJob& j : plan.jobs) {
    const std::string name = LayerNameOf(j, plan.base_lsn);
    nlohmann::json o = {{"index", j.index},
                        {"key_start", j.start.ToHex()},
                        {"key_end", j.end.ToHex()},
                        {"layer_name", name},
                        {"layer_file", j.EmptyForShard() ? nlohmann::json(nullptr)
                                                         : nlohmann::json(name + GenerationSuffix(f.generation))},
                        {"estimated_bytes", j.estimated_bytes},
                        {"estimated_shard_bytes", ShardBytes(j)},
                        {"tasks", j.tasks.size()},
                        {"pages_on_shard", j.LocalPages()},
                        {"empty_for_shard", j.EmptyForShard()}};
    if (f.show_tasks) {
      nlohmann::json tl = nlohmann::json::array();
      for (const ImportTask& t : j.tasks) tl.push_back(TaskJson(t));
      o["task_list"] = std::move(tl);
    }
    jobs.push_back(std::move(o));
  }
  StdoutEvents(true).Emit(
      "plan", {{"source", source_url},
               {"layout", plan.pgdata_prefix.empty() ? "pgdata" : "bucket"},
               {"pg_version", plan.control.pg_major},
               {"catalog_version", plan.control.catalog_version},
               {"system_identifier", plan.control.system_identifier},
               {"base_lsn", LsnToString(plan.base_lsn)},
               {"base_lsn_hex", fmt::format("{:016X}", plan.base_lsn)},
               {"shard", {{"number", plan.shard.number}, {"count", plan.shard.count},
                          {"stripe_size", plan.shard.stripe_size}, {"index", plan.shard.IndexString()}}},
               {"soft_size_limit", plan.soft_size_limit},
               {"generation", f.generation},
               {"fingerprint", fmt::format("{:016X}", plan.Fingerprint())},
               {"job_count", plan.jobs.size()},
               {"layer_count", LayerCount(plan)},
               {"task_count", plan.TaskCount()},
               {"total_estimated_bytes", plan.TotalEstimatedBytes()},
               {"total_estimated_shard_bytes", TotalShardBytes(plan)},
               {"total_pages_on_shard", plan.TotalLocalPages()},
               {"source_objects", plan.source_objects.size()},
               {"warnings", plan.warnings},
               {"tablespaces", TablespacesJson(plan)},
               {"jobs", std::move(jobs)}});
}

void PrintPlanText(const PlanFlags& f, const ImportPlan& plan, const std::string& source_url) {
  std::printf("source: %s (%s layout)\n", source_url.c_str(),
              plan.pgdata_prefix.empty() ? "plain PGDATA" : "Neon import bucket, pgdata/");
  std::printf("PostgreSQL %d (catalog version %u), system identifier %llu\n", plan.control.pg_major,
              plan.control.catalog_version, (unsigned long long)plan.control.system_identifier);
  std::printf("base LSN: %s (%016llX)\n", LsnToString(plan.base_lsn).c_str(), (unsigned long long)plan.base_lsn);
  std::printf("shard: %s\n", ShardText(plan.shard).c_str());
  std::printf("soft size limit: %llu bytes (%s)\n", (unsigned long long)plan.soft_size_limit,
              HumanBytes(plan.soft_size_limit).c_str());
  std::printf("jobs: %zu, layers: %llu, tasks: %zu, source objects: %zu, pages on this shard: %llu\n",
              plan.jobs.size(), (unsigned long long)LayerCount(plan), plan.TaskCount(), plan.source_objects.size(),
              (unsigned long long)plan.TotalLocalPages());
  std::printf("total estimated bytes: %llu (%s) read, %llu (%s) on this shard\n",
              (unsigned long long)plan.TotalEstimatedBytes(), HumanBytes(plan.TotalEstimatedBytes()).c_str(),
              (unsigned long long)TotalShardBytes(plan), HumanBytes(TotalShardBytes(plan)).c_str());
  std::printf("fingerprint: %016llX\n", (unsigned long long)plan.Fingerprint());
  PrintTablespacesText(plan);
  for (const ImportJob& j : plan.jobs) {
    std::printf("job %u: %s estimated_bytes=%llu shard_bytes=%llu tasks=%zu pages=%llu%s\n", j.index,
                LayerNameOf(j, plan.base_lsn).c_str(), (unsigned long long)j.estimated_bytes,
                (unsigned long long)ShardBytes(j), j.tasks.size(), (unsigned long long)j.LocalPages(),
                j.EmptyForShard() ? " (no keys on this shard: no layer)" : "");
    if (f.show_tasks) {
      for (const ImportTask& t : j.tasks) PrintTask(t);
    }
  }
  if (!plan.warnings.empty()) std::printf("warnings: %zu (see stderr)\n", plan.warnings.size());
}

Status RunPlan(const PlanFlags& f, const GlobalOptions& g) {
  P2L_RETURN_IF_ERROR(ApplyCommonFlags(g));
  if (f.all_shards && f.shard_count < 2) return Status::Usage("--all-shards needs --shard-count of 2 or more");
  PlanOptions opts;
  P2L_ASSIGN_OR_RETURN(opts.shard, ShardIdentity::Make(f.shard_number, f.shard_count, f.stripe_size));
  P2L_ASSIGN_OR_RETURN(opts.soft_size_limit, ParseByteSize(f.soft_size_limit, "--soft-size-limit"));
  opts.allow_unclean_shutdown = f.allow_unclean_shutdown;
  P2L_ASSIGN_OR_RETURN(opts.tablespaces, ParseTablespaceMode(f.tablespaces));

  P2L_ASSIGN_OR_RETURN(StorageOptions so, ToStorageOptions(f.storage));
  P2L_ASSIGN_OR_RETURN(std::unique_ptr<Storage> source, OpenSource(f.source, so));
  const uint32_t first = f.all_shards ? 0 : f.shard_number;
  const uint32_t last = f.all_shards ? f.shard_count - 1 : f.shard_number;
  std::vector<std::string> totals;
  for (uint32_t n = first; n <= last; n++) {
    P2L_ASSIGN_OR_RETURN(opts.shard, ShardIdentity::Make(n, f.shard_count, f.stripe_size));
    P2L_ASSIGN_OR_RETURN(ImportPlan plan, BuildPlan(*source, opts));
    if (n == first) {
      for (const std::string& w : plan.warnings) LogWarn("{}", w);
      for (const SkippedRelation& r : plan.skipped_relations) {
        LogWarn("{}", SkippedRelationText(r));
        if (g.json) {
          StdoutEvents(true).Emit("tablespace_relation_skipped", {{"tablespace", r.spcnode},
                                                                  {"database", r.dbnode},
                                                                  {"relnode", r.relnode},
                                                                  {"forks", r.forks},
                                                                  {"bytes", r.bytes}});
        }
      }
    }
    if (g.json) {
      EmitPlanJson(f, plan, source->Url());
      continue;
    }
    if (f.all_shards) std::printf("%s=== shard %s ===\n", n == first ? "" : "\n", plan.shard.IndexString().c_str());
    PrintPlanText(f, plan, source->Url());
    totals.push_back(fmt::format("shard {}: {} layers, {} pages, {} bytes ({})", plan.shard.IndexString(),
                                 LayerCount(plan), plan.TotalLocalPages(), TotalShardBytes(plan),
                                 HumanBytes(TotalShardBytes(plan))));
  }
  if (f.all_shards && !g.json) {
    std::printf("\nestimated bytes per shard:\n");
    for (const std::string& t : totals) std::printf("  %s\n", t.c_str());
  }
  return Status::OK();
}

}  // namespace

void RegisterPlan(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<PlanFlags>();
  CLI::App* sub = app.add_subcommand(
      "plan",
      "Dry run: read pg_control and the source listing and print the import plan (one image layer per job). "
      "Writes nothing.");
  sub->add_option("--source,source", f->source,
                  "The PGDATA: a local directory (plain PGDATA or a Neon import bucket with pgdata/), "
                  "s3://bucket/prefix or az://account/container/prefix")
      ->required();
  sub->add_option("--shard-count", f->shard_count, "Number of shards (0 = unsharded, legacy)")->capture_default_str();
  sub->add_option("--shard-number", f->shard_number, "This shard's number, 0-based")->capture_default_str();
  sub->add_option("--stripe-size", f->stripe_size, "Shard stripe size in 8 KiB pages")->capture_default_str();
  sub->add_option("--soft-size-limit", f->soft_size_limit,
                  "Job (layer) size soft limit, bytes with an optional unit (256MiB, 512KiB, 1GiB)")
      ->capture_default_str();
  sub->add_flag("--allow-unclean-shutdown", f->allow_unclean_shutdown,
                "Plan a cluster that was not shut down cleanly (the data may be inconsistent)");
  sub->add_option("--tablespaces", f->tablespaces,
                  "User tablespaces, as import decides: refuse (exit 3), skip (leave them out, listed) or keep")
      ->check(CLI::IsMember({"refuse", "skip", "keep"}))
      ->capture_default_str();
  sub->add_flag("--tasks", f->show_tasks, "Also list every task of every job");
  sub->add_flag("--all-shards", f->all_shards,
                "Plan every shard 0..count-1 (one plan each, then the estimated bytes per shard)");
  sub->add_option("--generation", f->generation, "Generation whose layer file names to show (layer_file)")
      ->capture_default_str();
  AddToolStorageFlags(sub, f->storage);
  AddCommonFlags(sub, g);
  sub->callback([f, &g, exit_code]() {
    Status st = RunPlan(*f, g);
    *exit_code = st.ok() ? 0 : ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
