#include "import/import.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "import/executor.h"
#include "import/job_writer.h"
#include "import/pgdata_marker.h"
#include "import/plan.h"
#include "import/source_options.h"
#include "import/timeline_state.h"
#include "index/index_part.h"
#include "index/remote_layout.h"
#include "layer/layer_name.h"
#include "storage/backends.h"
#include "util/log.h"
#include "util/parallel.h"

namespace p2l {

namespace {

using Clock = std::chrono::steady_clock;

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < len; i++) out += fmt::format("{:02x}", md[i]);
  return out;
}

// Threads for the per-object/per-directory checks and deletes, which wait on I/O.
int IoThreads(size_t jobs) { return int(std::min<size_t>(jobs * 2, 64)); }

class Importer {
 public:
  Importer(const ImportOptions& o, EventSink& ev) : o_(o), ev_(ev), t0_(Clock::now()) {}

  Result<ImportSummary> Run();

 private:
  Status Setup();
  Result<ImportSummary> RunSteps();
  Status LockedRun();
  Status LoadState(ExistingImport kind, const std::optional<TimelineIndex>& cur);
  Status DeleteTimelineLayers(bool only_unreferenced);
  Status VerifyRecordedLayers(const std::optional<TimelineIndex>& cur);
  Status Execute();
  Status Checkpoint(uint64_t completed);
  Status RecheckSources();
  Status Finish();
  Status WriteIndex();
  void AlreadyComplete(const TimelineIndex& cur);

  const ImportOptions& o_;
  EventSink& ev_;
  const Clock::time_point t0_;
  size_t threads_ = 1;
  std::unique_ptr<Storage> src_, dst_;
  std::string tl_dir_;
  std::unique_ptr<Lease> lease_;
  std::unique_ptr<CompletionPublisher> pub_;
  const int64_t start_nanos_ = NowUnixNanos();
  ImportPlan plan_;
  IndexPart idx_;
  std::vector<char> skip_;     // per job (0-based): done by an earlier run
  ImportSummary sum_;
  bool refused_ = false;       // PreflightSource failed: nothing was written, nothing is published
};

Status Importer::Setup() {
  if (o_.checkpoint_every == 0) return Status::Usage("--checkpoint-every must be at least 1");
  if (o_.soft_size_limit < kMinSoftSizeLimit) {
    return Status::Usage(fmt::format("--soft-size-limit must be at least {} bytes", kMinSoftSizeLimit));
  }
  if (o_.max_range < 8192) return Status::Usage("--max-range must be at least 8192 bytes (one page)");
  threads_ = o_.jobs == 0 ? OrderedExecutor::DefaultThreads() : o_.jobs;
  if (threads_ > 1024) return Status::Usage(fmt::format("--jobs {} is more than 1024", threads_));

  const bool generated_tenant = !o_.tenant, generated_timeline = !o_.timeline;
  sum_.tenant = o_.tenant ? *o_.tenant : TenantId::Random();
  sum_.timeline = o_.timeline ? *o_.timeline : TimelineId::Random();
  if (generated_tenant) LogInfo("generated tenant id {}", sum_.tenant.ToHex());
  if (generated_timeline) LogInfo("generated timeline id {}", sum_.timeline.ToHex());
  sum_.idempotency_key = o_.idempotency_key.empty()
                             ? DefaultIdempotencyKey(o_.source, sum_.tenant, sum_.timeline)
                             : o_.idempotency_key;

  // --no-sync holds for every local write of the run: layers, index, lease and the status object
  // (an fsync of the small status object would, on ext4, wait for the layers' data too).
  StorageOptions base = o_.storage;
  base.sync = o_.sync;
  // A local source follows the tablespace links in pg_tblspc/ (source_options.h).
  P2L_ASSIGN_OR_RETURN(src_, OpenSource(o_.source, ForSide(base, o_.source_side)));
  P2L_ASSIGN_OR_RETURN(dst_, OpenStorage(o_.dest, ForSide(base, o_.dest_side)));
  if (!o_.sync && dst_->IsLocal()) {
    LogInfo("--no-sync: the layers and index are not fsynced; an operating-system crash can lose or corrupt "
            "them (rerun with --restart after one)");
  }
  // Before any work, so that bad completion flags fail fast.
  if (o_.completion.notify_format == "neon" && !o_.completion.notify_url.empty() && o_.shard.IsSharded()) {
    return Status::Usage(fmt::format(
        "--notify-format neon is tenant-scoped (one notification after every shard is done): run shard {} "
        "without --notify-url and send it with `pgdata2layers notify` once all {} shards are done "
        "(scripts/import-sharded.sh does both)", o_.shard.IndexString(), o_.shard.count));
  }
  P2L_ASSIGN_OR_RETURN(pub_, CompletionPublisher::Open(o_.completion, src_.get(), base, ev_));
  tl_dir_ = TimelinePath(sum_.tenant, o_.shard, sum_.timeline);
  sum_.index_object = IndexPartPath(sum_.tenant, o_.shard, sum_.timeline, o_.generation);

  LogInfo("import {} -> {}: tenant {} timeline {} shard {} generation {}, idempotency key \"{}\"", src_->Url(),
          dst_->Url(), sum_.tenant.ToHex(), sum_.timeline.ToHex(), o_.shard.IndexString(), o_.generation,
          sum_.idempotency_key);
  ev_.Emit("started", {{"source", src_->Url()},
                       {"dest", dst_->Url()},
                       {"tenant_id", sum_.tenant.ToHex()},
                       {"timeline_id", sum_.timeline.ToHex()},
                       {"tenant_shard_id", sum_.tenant.ToHex() + o_.shard.Suffix()},
                       {"shard", o_.shard.IndexString()},
                       {"generation", o_.generation},
                       {"idempotency_key", sum_.idempotency_key},
                       {"generated_tenant_id", generated_tenant},
                       {"generated_timeline_id", generated_timeline}});
  return Status::OK();
}

void Importer::AlreadyComplete(const TimelineIndex& cur) {
  sum_.already_complete = true;
  sum_.index_object = cur.object;
  idx_ = cur.index;   // the completion report reads the Done record
  sum_.layers = cur.index.layer_metadata.size();
  for (const auto& [name, lm] : cur.index.layer_metadata) sum_.layer_bytes += lm.file_size;
  if (cur.index.progress) sum_.jobs = cur.index.progress->jobs;
  LogInfo("{}: import already complete (idempotency key \"{}\", {} layers, {} bytes); nothing to do",
          dst_->Describe(cur.object), sum_.idempotency_key, sum_.layers, sum_.layer_bytes);
}

// Every end of a run that got past Setup (ids and storages known) is published
// (completion.h): success → status object + notification (their failure is the result: exit 4/6
// with the layers and the Done index intact); failure → best-effort error publication, the
// import's own error is kept. Runs after the lease is released.
Result<ImportSummary> Importer::Run() {
  P2L_RETURN_IF_ERROR(Setup());
  Result<ImportSummary> r = RunSteps();
  if (refused_) return r;   // refused before writing anything: no status object, no notification
  CompletionReport rep = ReportFromIndex(idx_, sum_.tenant, sum_.timeline, o_.shard);
  rep.idempotency_key = sum_.idempotency_key;
  if (rep.started_at_nanos == 0) rep.started_at_nanos = start_nanos_;   // failed before the index existed
  if (!r.ok() || rep.finished_at_nanos == 0) rep.finished_at_nanos = NowUnixNanos();
  P2L_RETURN_IF_ERROR(pub_->Finish(rep, r.ok() ? Status::OK() : r.status()));
  return r;
}

Result<ImportSummary> Importer::RunSteps() {
  const std::string where = dst_->Describe(tl_dir_);

  // Fast path: an import that is already done touches nothing and does not look at the source.
  P2L_ASSIGN_OR_RETURN(std::optional<TimelineIndex> cur, ReadLatestIndexPart(*dst_, tl_dir_));
  P2L_ASSIGN_OR_RETURN(ExistingImport kind, ClassifyExistingIndex(cur, sum_.idempotency_key, o_.generation, where));
  if (kind == ExistingImport::kDoneSameKey) {
    AlreadyComplete(*cur);
    // A run killed between the Done index and the lease release left its lease behind.
    Result<bool> removed = RemoveStaleLease(*dst_, tl_dir_ + "/" + kLeaseBaseName);
    if (!removed.ok()) LogWarn("{}", removed.status().message());
  } else {
    // The status/pgdata marker (pgdata_marker.h).
    if (o_.wait_for_pgdata_seconds) {
      PgdataWaitOptions wo;
      wo.timeout_seconds = *o_.wait_for_pgdata_seconds;
      P2L_RETURN_IF_ERROR(WaitForPgdata(*src_, wo, ev_));
    } else {
      Result<ObjectInfo> pc = src_->Stat("pgdata/global/pg_control");
      if (!pc.ok() && !pc.status().IsNotFound()) return pc.status();
      P2L_RETURN_IF_ERROR(CheckPgdataMarker(*src_, pc.ok()));
    }
    // Unsupported PostgreSQL version, user tablespaces under --tablespaces refuse: stop before the
    // lease, so that the destination stays untouched.
    PlanOptions pre;
    pre.tablespaces = o_.tablespaces;
    pre.allow_unclean_shutdown = o_.allow_unclean_shutdown;
    P2L_RETURN_IF_ERROR(PreflightSource(*src_, pre, &refused_));

    P2L_ASSIGN_OR_RETURN(lease_, Lease::Acquire(*dst_, tl_dir_ + "/" + kLeaseBaseName, sum_.idempotency_key,
                                                o_.lease));
    Status st = LockedRun();
    // A failed (not crashed) run gives the lease back so that a rerun can start at once.
    Status rel = lease_->Release();
    lease_.reset();
    if (!st.ok()) return st;
    if (!rel.ok()) LogWarn("{}", rel.message());
  }

  sum_.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
  ev_.Emit("done", {{"tenant_id", sum_.tenant.ToHex()},
                    {"timeline_id", sum_.timeline.ToHex()},
                    {"shard", o_.shard.IndexString()},
                    {"index", dst_->Describe(sum_.index_object)},
                    {"already_complete", sum_.already_complete},
                    {"resumed", sum_.resumed},
                    {"jobs", sum_.jobs},
                    {"jobs_skipped", sum_.jobs_skipped},
                    {"layers", sum_.layers},
                    {"bytes", sum_.layer_bytes},
                    {"keys", sum_.keys},
                    {"source_bytes", sum_.source_bytes},
                    {"seconds", sum_.seconds}});
  if (!sum_.already_complete) {
    LogInfo("import complete: {} layers, {} bytes, {} jobs ({} done earlier) in {:.1f} s; index {}", sum_.layers,
            sum_.layer_bytes, sum_.jobs, sum_.jobs_skipped, sum_.seconds, dst_->Describe(sum_.index_object));
  }
  return sum_;
}

Status Importer::LockedRun() {
  const std::string where = dst_->Describe(tl_dir_);
  // Read again under the lease: another importer may have progressed or finished meanwhile.
  P2L_ASSIGN_OR_RETURN(std::optional<TimelineIndex> cur, ReadLatestIndexPart(*dst_, tl_dir_));
  P2L_ASSIGN_OR_RETURN(ExistingImport kind, ClassifyExistingIndex(cur, sum_.idempotency_key, o_.generation, where));
  if (kind == ExistingImport::kDoneSameKey) {
    AlreadyComplete(*cur);
    return Status::OK();
  }
  P2L_RETURN_IF_ERROR(LoadState(kind, cur));
  P2L_RETURN_IF_ERROR(Execute());
  P2L_RETURN_IF_ERROR(RecheckSources());
  return Finish();
}

// Plans, and decides between a fresh start, a resume and a restart.
Status Importer::LoadState(ExistingImport kind, const std::optional<TimelineIndex>& cur) {
  const std::string where = dst_->Describe(tl_dir_);
  bool resume = kind == ExistingImport::kInProgressSameKey;
  if (resume && !cur->index.progress && !o_.restart) {
    return Status::Conflict(fmt::format(
        "{}: an import with our idempotency key is in progress but its index has no pgdata2layers progress "
        "record (it was not started by pgdata2layers); rerun with --restart to start it over", where));
  }
  if (resume && o_.restart) {
    LogInfo("--restart: deleting the layers of the unfinished import in {} and starting over", where);
    resume = false;
  }
  uint64_t soft = o_.soft_size_limit;
  if (resume && cur->index.progress->soft_size_limit != soft) {
    soft = cur->index.progress->soft_size_limit;
    LogInfo("resuming with the soft size limit the import started with: {} bytes", soft);
  }
  if (soft < kMinSoftSizeLimit) {
    return Status::InvalidInput(fmt::format("{}: recorded soft_size_limit {} is too small", where, soft));
  }

  PlanOptions po;
  po.shard = o_.shard;
  po.soft_size_limit = soft;
  po.allow_unclean_shutdown = o_.allow_unclean_shutdown;
  po.verify_pages = true;
  po.tablespaces = o_.tablespaces;
  LogInfo("planning: listing {}", src_->Url());
  P2L_ASSIGN_OR_RETURN(plan_, BuildPlan(*src_, po));
  for (const std::string& w : plan_.warnings) LogWarn("{}", w);
  for (const SkippedRelation& r : plan_.skipped_relations) {
    LogWarn("{}", SkippedRelationText(r));
    ev_.Emit("tablespace_relation_skipped", {{"tablespace", r.spcnode},
                                             {"database", r.dbnode},
                                             {"relnode", r.relnode},
                                             {"forks", r.forks},
                                             {"bytes", r.bytes}});
  }
  if (o_.tablespaces == TablespaceMode::kKeep && !plan_.tablespaces.empty()) {
    LogWarn("--tablespaces keep: {} user tablespace(s) imported with their own spcnode; a Neon pageserver cannot "
            "serve this timeline (for export back to PostgreSQL or archives only)",
            plan_.tablespaces.size());
  }
  const uint64_t fp = plan_.Fingerprint();
  sum_.jobs = plan_.jobs.size();
  LogInfo("plan: {} jobs, {} bytes estimated, {} source objects, base LSN {}, PostgreSQL {}, fingerprint {:016x}",
          plan_.jobs.size(), plan_.TotalEstimatedBytes(), plan_.source_objects.size(), LsnToString(plan_.base_lsn),
          plan_.control.pg_major, fp);

  // The timeline metadata of an import (index-part-and-import.md §2.9 item 5, §4.3 step 3).
  TimelineMetadata md;
  md.disk_consistent_lsn = plan_.base_lsn + 8;
  md.prev_record_lsn = plan_.base_lsn;
  md.ancestor_lsn = 0;
  md.latest_gc_cutoff_lsn = plan_.base_lsn;
  md.initdb_lsn = plan_.base_lsn;
  md.pg_version = uint32_t(plan_.control.pg_major);

  ImportProgress progress{fp, plan_.jobs.size(), 0, soft};
  skip_.assign(plan_.jobs.size(), 0);

  if (resume) {
    const ImportProgress& rec = *cur->index.progress;
    if (rec.plan_fingerprint != fp || rec.jobs != plan_.jobs.size()) {
      return Status::SourceChanged(fmt::format(
          "{}: the source changed since this import started: plan fingerprint {:016x} with {} jobs now, {:016x} "
          "with {} jobs recorded in {}; rerun with --restart to start the import over",
          src_->Url(), fp, plan_.jobs.size(), rec.plan_fingerprint, rec.jobs, dst_->Describe(cur->object)));
    }
    if (cur->index.metadata.initdb_lsn != plan_.base_lsn) {
      return Status::SourceChanged(fmt::format(
          "{}: the source's checkpoint LSN is {} but the import in progress recorded {}; rerun with --restart",
          src_->Url(), LsnToString(plan_.base_lsn), LsnToString(cur->index.metadata.initdb_lsn)));
    }
    idx_ = cur->index;
    idx_.metadata = md;
    idx_.disk_consistent_lsn = md.disk_consistent_lsn;
    progress.completed = rec.completed;
    idx_.progress = progress;
    sum_.resumed = true;
    P2L_RETURN_IF_ERROR(VerifyRecordedLayers(cur));
    // Leftovers of the interrupted run (temp files) are removed; unreferenced layers are removed at the end.
    P2L_RETURN_IF_ERROR(DeleteTimelineLayers(/*only_unreferenced=*/true));
  } else {
    if (cur) {
      // --restart: nothing of the unfinished import is kept.
      P2L_RETURN_IF_ERROR(DeleteTimelineLayers(/*only_unreferenced=*/false));
    }
    idx_ = IndexPart{};
    ImportPgdata ip;
    ip.state = ImportPgdata::State::kInProgress;
    ip.idempotency_key = sum_.idempotency_key;
    // The region the S3 backend signs the source's requests for.
    ip.location_json = SourceLocationJson(o_.source, S3Region(ForSide(o_.storage, o_.source_side)));
    ip.started_at_nanos = NowUnixNanos();
    idx_.import_pgdata = ip;
    idx_.metadata = md;
    idx_.disk_consistent_lsn = md.disk_consistent_lsn;
    idx_.progress = progress;
    // The first index: InProgress, final metadata, no layer — before any layer is written.
    P2L_RETURN_IF_ERROR(lease_->Healthy());
    P2L_RETURN_IF_ERROR(WriteIndex());
  }

  for (char s : skip_) sum_.jobs_skipped += s ? 1 : 0;
  ev_.Emit("plan", {{"jobs", plan_.jobs.size()},
                    {"bytes", plan_.TotalEstimatedBytes()},
                    {"pages", plan_.TotalLocalPages()},
                    {"source_objects", plan_.source_objects.size()},
                    {"base_lsn", LsnToString(plan_.base_lsn)},
                    {"pg_version", plan_.control.pg_major},
                    {"fingerprint", fmt::format("{:016x}", fp)},
                    {"soft_size_limit", soft},
                    {"resumed", resume},
                    {"jobs_to_run", plan_.jobs.size() - sum_.jobs_skipped},
                    {"jobs_skipped", sum_.jobs_skipped}});
  if (resume) {
    LogInfo("resuming: {} of {} jobs were done by an earlier run", sum_.jobs_skipped, plan_.jobs.size());
  }
  return Status::OK();
}

// Checks the layers a resumed index lists (object exists with the recorded size) and marks the
// jobs that need no rerun. A missing or wrong layer is dropped from the index and its job redone.
Status Importer::VerifyRecordedLayers(const std::optional<TimelineIndex>& cur) {
  std::map<std::string, size_t> job_of;   // layer name -> job (0-based)
  for (size_t j = 0; j < plan_.jobs.size(); j++) job_of[JobLayerName(plan_.jobs[j], plan_.base_lsn)] = j;

  std::vector<std::pair<std::string, LayerFileMetadata>> entries(idx_.layer_metadata.begin(),
                                                                 idx_.layer_metadata.end());
  std::vector<char> ok(entries.size(), 0);
  Status st = RunParallel(entries.size(), IoThreads(threads_), [&](uint64_t i) -> Status {
    const auto& [name, lm] = entries[i];
    const std::string obj = LayerPathFromIndex(sum_.tenant, sum_.timeline, name, lm.shard, lm.generation);
    Result<ObjectInfo> info = dst_->Stat(obj);
    if (!info.ok()) {
      if (!info.status().IsNotFound()) return info.status();
      LogWarn("{}: listed in the index of the unfinished import but missing; its job is redone", dst_->Describe(obj));
      return Status::OK();
    }
    if (info->size != lm.file_size) {
      LogWarn("{}: {} bytes, the index says {}; its job is redone", dst_->Describe(obj), info->size, lm.file_size);
      return Status::OK();
    }
    ok[i] = 1;
    return Status::OK();
  });
  P2L_RETURN_IF_ERROR(st);

  std::set<size_t> listed, verified;
  for (size_t i = 0; i < entries.size(); i++) {
    auto it = job_of.find(entries[i].first);
    if (it == job_of.end()) {
      LogWarn("{}: layer {} is not produced by any job of the plan; dropped from the index",
              dst_->Describe(cur->object), entries[i].first);
      idx_.layer_metadata.erase(entries[i].first);
      continue;
    }
    listed.insert(it->second);
    if (ok[i]) {
      verified.insert(it->second);
    } else {
      idx_.layer_metadata.erase(entries[i].first);
    }
  }
  const uint64_t completed = idx_.progress->completed;
  for (size_t j = 0; j < plan_.jobs.size(); j++) {
    // A completed job without a listed layer had no key for this shard.
    skip_[j] = verified.count(j) || (j < completed && !listed.count(j));
  }
  // The progress record counts the jobs done in order.
  uint64_t prefix = 0;
  while (prefix < plan_.jobs.size() && skip_[prefix]) prefix++;
  idx_.progress->completed = std::min<uint64_t>(completed, prefix);
  return Status::OK();
}

// Deletes layer objects (and local temp files) in the timeline directory: all of them, or those
// the current index does not reference.
Status Importer::DeleteTimelineLayers(bool only_unreferenced) {
  std::set<std::string> keep;
  if (only_unreferenced) {
    for (const auto& [name, lm] : idx_.layer_metadata) {
      if (lm.shard == o_.shard.IndexString()) keep.insert(name + GenerationSuffix(lm.generation));
    }
  }
  P2L_ASSIGN_OR_RETURN(Listing listing, dst_->List(tl_dir_ + "/"));
  std::vector<std::string> doomed;
  const std::string dir = tl_dir_ + "/";
  for (const ObjectInfo& obj : listing.objects) {
    if (obj.name.size() <= dir.size()) continue;
    const std::string base = obj.name.substr(dir.size());
    const bool temp = base.size() > 8 && base.compare(base.size() - 8, 8, ".___temp") == 0;
    const bool layer = ImageLayerName::Parse(base).ok();
    if (temp || (layer && !keep.count(base))) doomed.push_back(obj.name);
  }
  if (doomed.empty()) return Status::OK();
  LogInfo("deleting {} {} object(s) in {}", doomed.size(), only_unreferenced ? "unreferenced layer/temp" : "layer/temp",
          dst_->Describe(tl_dir_));
  return RunParallel(doomed.size(), IoThreads(threads_), [&](uint64_t i) { return dst_->Delete(doomed[i]); });
}

Status Importer::WriteIndex() {
  P2L_RETURN_IF_ERROR(idx_.Validate().WithContext(dst_->Describe(sum_.index_object)));
  return dst_->Put(sum_.index_object, idx_.ToJson());
}

Status Importer::Checkpoint(uint64_t completed) {
  P2L_RETURN_IF_ERROR(lease_->Healthy());
  idx_.progress->completed = completed;
  P2L_RETURN_IF_ERROR(WriteIndex());
  LogInfo("checkpoint: {}/{} jobs, {} layers", completed, plan_.jobs.size(), idx_.layer_metadata.size());
  ev_.Emit("checkpoint", {{"completed", completed},
                          {"jobs", plan_.jobs.size()},
                          {"layers", idx_.layer_metadata.size()},
                          {"index", dst_->Describe(sum_.index_object)}});
  return Status::OK();
}

Status Importer::Execute() {
  std::vector<size_t> run;   // jobs (0-based) to run, in plan order
  for (size_t j = 0; j < plan_.jobs.size(); j++) {
    if (!skip_[j]) run.push_back(j);
  }
  JobWriterOptions jo;
  jo.tenant = sum_.tenant;
  jo.timeline = sum_.timeline;
  jo.shard = o_.shard;
  jo.lsn = plan_.base_lsn;
  jo.generation = o_.generation;
  jo.zstd = o_.zstd;
  jo.max_range = o_.max_range;
  jo.checksums = plan_.control.HasChecksums();
  jo.ignore_checksum_failures = o_.ignore_checksum_failures;
  jo.sync = o_.sync;
  jo.pg_major = plan_.control.pg_major;

  std::vector<JobOutput> outs(run.size());
  std::unique_ptr<OrderedExecutor> ex;
  if (!run.empty()) {
    ex = std::make_unique<OrderedExecutor>(
        run.size(), threads_, threads_ * 2 + 2, [&](size_t k, const std::atomic<bool>& cancelled) -> Status {
          const ImportJob& job = plan_.jobs[run[k]];
          ScopedLogContext log_ctx(fmt::format("job {}", job.index));
          Result<JobOutput> r = RunImportJob(*src_, *dst_, job, jo, &cancelled);
          if (!r.ok()) return r.status().WithContext(fmt::format("job {}", job.index));
          outs[k] = std::move(r).value();
          return Status::OK();
        });
  }

  const std::string shard_index = o_.shard.IndexString();
  size_t k = 0;
  uint64_t since_checkpoint = 0;
  for (size_t j = 0; j < plan_.jobs.size(); j++) {
    const ImportJob& job = plan_.jobs[j];
    if (skip_[j]) {
      const std::string name = JobLayerName(job, plan_.base_lsn);
      auto it = idx_.layer_metadata.find(name);
      const bool has = it != idx_.layer_metadata.end();
      ev_.Emit("job_done", {{"index", job.index},
                            {"layer", has ? nlohmann::json(name) : nlohmann::json(nullptr)},
                            {"bytes", has ? it->second.file_size : 0},
                            {"keys", 0},
                            {"estimated_bytes", job.estimated_bytes},
                            {"pages", job.LocalPages()},
                            {"skipped", true}});
      continue;
    }
    Status st = ex->Wait(k);
    if (!st.ok()) {
      ex->Cancel();
      return st;
    }
    JobOutput& out = outs[k++];
    if (out.wrote_layer) {
      LayerFileMetadata lm;
      lm.file_size = out.file_size;
      lm.generation = o_.generation;
      lm.shard = shard_index;
      idx_.layer_metadata[out.layer_name] = lm;
    } else {
      idx_.layer_metadata.erase(out.layer_name);
    }
    sum_.keys += out.keys;
    sum_.source_bytes += out.bytes_read;
    LogDebug("job {}/{}: {} keys, {}", job.index, plan_.jobs.size(), out.keys,
             out.wrote_layer ? fmt::format("layer {} ({} bytes)", out.layer_name, out.file_size) : "no layer");
    ev_.Emit("job_done", {{"index", job.index},
                          {"layer", out.wrote_layer ? nlohmann::json(out.layer_name) : nlohmann::json(nullptr)},
                          {"bytes", out.file_size},
                          {"keys", out.keys},
                          {"source_bytes", out.bytes_read},
                          {"estimated_bytes", job.estimated_bytes},
                          {"pages", job.LocalPages()},
                          {"skipped", false}});
    if (++since_checkpoint >= o_.checkpoint_every && j + 1 < plan_.jobs.size()) {
      P2L_RETURN_IF_ERROR(Checkpoint(j + 1));
      since_checkpoint = 0;
    }
  }
  if (ex) ex->Join();
  return Status::OK();
}

// After all layers are durable, every planned source object must still be as planning saw it (same size and
// version): a source that changes during the import could have given layers that mix old and new
// contents. One listing per directory of the plan (in parallel) rather than one stat/HEAD per
// object: planning listed the same directories, so the answers are comparable, and a directory of
// 1000 objects costs one request on S3 (5000 on Azure) and one readdir locally.
Status Importer::RecheckSources() {
  const auto& objs = plan_.source_objects;
  std::map<std::string_view, std::vector<const ObjectInfo*>> by_dir;
  for (const ObjectInfo& o : objs) {
    const size_t slash = o.name.rfind('/');
    by_dir[slash == std::string::npos ? std::string_view() : std::string_view(o.name).substr(0, slash + 1)]
        .push_back(&o);
  }
  std::vector<std::pair<std::string_view, std::vector<const ObjectInfo*>>> dirs(std::make_move_iterator(by_dir.begin()),
                                                                               std::make_move_iterator(by_dir.end()));
  return RunParallel(dirs.size(), IoThreads(threads_), [&](uint64_t i) -> Status {
    const auto& [dir, wanted] = dirs[i];
    P2L_ASSIGN_OR_RETURN(Listing now, src_->List(dir));
    std::unordered_map<std::string_view, const ObjectInfo*> listed;
    listed.reserve(now.objects.size());
    for (const ObjectInfo& o : now.objects) listed.emplace(o.name, &o);
    for (const ObjectInfo* want : wanted) {
      auto it = listed.find(want->name);
      if (it == listed.end()) {
        return Status::SourceChanged(fmt::format("{}: disappeared during the import", src_->Describe(want->name)));
      }
      const ObjectInfo& cur = *it->second;
      if (cur.size != want->size ||
          (!want->version.empty() && !cur.version.empty() && cur.version != want->version)) {
        return Status::SourceChanged(fmt::format(
            "{}: changed during the import (size {} -> {}, version {} -> {}); the layers may mix old and new "
            "contents, so the import is not marked done; rerun with --restart once the source is stable",
            src_->Describe(want->name), want->size, cur.size, want->version, cur.version));
      }
    }
    return Status::OK();
  });
}

Status Importer::Finish() {
  ImportPgdata& ip = *idx_.import_pgdata;
  ip.state = ImportPgdata::State::kDone;
  ip.location_json.clear();
  ip.finished_at_nanos = NowUnixNanos();
  idx_.progress->completed = plan_.jobs.size();
  if (idx_.layer_metadata.empty()) {
    return Status::InvalidInput(fmt::format("{}: the import produced no layer (a timeline without ancestor needs at "
                                            "least one)", src_->Url()));
  }
  P2L_RETURN_IF_ERROR(lease_->Healthy());
  P2L_RETURN_IF_ERROR(WriteIndex());
  sum_.layers = idx_.layer_metadata.size();
  for (const auto& [name, lm] : idx_.layer_metadata) sum_.layer_bytes += lm.file_size;
  // Layers of interrupted runs that the final index does not list (e.g. written in another generation).
  Status gc = DeleteTimelineLayers(/*only_unreferenced=*/true);
  if (!gc.ok()) LogWarn("cleaning up unreferenced layers: {}", gc.message());
  return Status::OK();
}

}  // namespace

std::string CanonicalSourceUrl(std::string_view url) {
  Result<StorageUrl> u = ParseStorageUrl(url);
  std::string s(url);
  if (!u.ok()) return s;
  switch (u->kind) {
    case StorageUrl::Kind::kLocal: {
      std::error_code ec;
      std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(u->path, ec), ec);
      if (ec) p = std::filesystem::absolute(u->path, ec).lexically_normal();
      s = p.string();
      while (s.size() > 1 && s.back() == '/') s.pop_back();
      return s;
    }
    case StorageUrl::Kind::kS3:
      return "s3://" + u->bucket + (u->prefix.empty() ? "" : "/" + u->prefix);
    case StorageUrl::Kind::kAzure:
      while (s.size() > 1 && s.back() == '/') s.pop_back();
      return s;
  }
  return s;
}

std::string DefaultIdempotencyKey(std::string_view source_url, const TenantId& tenant, const TimelineId& timeline) {
  const std::string material = fmt::format("pgdata2layers idempotency key v1\n{}\n{}\n{}\n",
                                           CanonicalSourceUrl(source_url), tenant.ToHex(), timeline.ToHex());
  return "p2l-" + Sha256Hex(material).substr(0, 32);
}

std::string SourceLocationJson(std::string_view source_url, std::string_view region) {
  nlohmann::json loc;
  Result<StorageUrl> u = ParseStorageUrl(source_url);
  if (u.ok() && u->kind == StorageUrl::Kind::kS3) {
    loc["AwsS3"] = {{"region", std::string(region)}, {"bucket", u->bucket}, {"key", u->prefix}};
  } else {
    loc["LocalFs"] = {{"path", CanonicalSourceUrl(source_url)}};
  }
  return loc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<ImportSummary> RunImport(const ImportOptions& opts, EventSink& events) {
  Importer imp(opts, events);
  return imp.Run();
}

}  // namespace p2l
