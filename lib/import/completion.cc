#include "import/completion.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "import/source_layout.h"
#include "import/status.h"
#include "util/log.h"

namespace p2l {

namespace {

using ojson = nlohmann::ordered_json;

constexpr size_t kMaxErrorBytes = 4096;
constexpr uint64_t kMaxStatusObjectBytes = 64 << 10;

nlohmann::ordered_json TimeOrNull(int64_t nanos) {
  if (nanos == 0) return nullptr;
  return FormatRfc3339Micros(nanos);
}

ojson ErrorOrNull(const std::optional<std::string>& error) {
  if (!error) return nullptr;
  std::string e = error->empty() ? std::string("unknown error") : *error;
  if (e.size() > kMaxErrorBytes) {
    e.resize(kMaxErrorBytes);
    e += "...";
  }
  return e;
}

// Invalid UTF-8 (e.g. an odd object name inside an error message) is replaced, never thrown.
std::string Dump(const ojson& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool SkipsPublication(Code c) {
  return c == Code::kUsage || c == Code::kConflict || c == Code::kTimelineTaken;
}

}  // namespace

// ------------------------------------------------------------------------------------ documents

std::string TenantShardIdString(const TenantId& tenant, const ShardIdentity& shard) {
  return tenant.ToHex() + shard.Suffix();
}

std::string StatusObjectName(const ShardIdentity& shard) { return "status/shard-" + shard.IndexString(); }

std::string FormatRfc3339Micros(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1000000000;
  int64_t sub = unix_nanos % 1000000000;
  if (sub < 0) {
    sub += 1000000000;
    secs -= 1;
  }
  std::time_t t = std::time_t(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "1970-01-01T00:00:00.000000Z";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, int(sub / 1000));
}

CompletionReport ReportFromIndex(const IndexPart& index, const TenantId& tenant,
                                 const TimelineId& timeline, const ShardIdentity& shard) {
  CompletionReport r;
  r.tenant_id = tenant;
  r.timeline_id = timeline;
  r.shard = shard;
  if (index.import_pgdata) {
    r.idempotency_key = index.import_pgdata->idempotency_key;
    r.started_at_nanos = index.import_pgdata->started_at_nanos;
    r.finished_at_nanos = index.import_pgdata->finished_at_nanos.value_or(0);
  }
  r.layers = index.layer_metadata.size();
  for (const auto& [name, meta] : index.layer_metadata) r.bytes += meta.file_size;
  return r;
}

std::string StatusObjectBody(const CompletionReport& r, const std::optional<std::string>& error) {
  ojson j = ojson::object();
  j["done"] = !error.has_value();
  j["idempotency_key"] = r.idempotency_key;
  j["tenant_shard_id"] = TenantShardIdString(r.tenant_id, r.shard);
  j["timeline_id"] = r.timeline_id.ToHex();
  j["started_at"] = TimeOrNull(r.started_at_nanos);
  j["finished_at"] = TimeOrNull(r.finished_at_nanos);
  j["layers"] = r.layers;
  j["bytes"] = r.bytes;
  j["error"] = ErrorOrNull(error);
  return Dump(j) + "\n";
}

std::string NotificationBody(const CompletionReport& r, const std::optional<std::string>& error) {
  ojson j = ojson::object();
  j["tenant_shard_id"] = TenantShardIdString(r.tenant_id, r.shard);
  j["tenant_id"] = r.tenant_id.ToHex();
  j["timeline_id"] = r.timeline_id.ToHex();
  j["shard"] = r.shard.IndexString();
  j["idempotency_key"] = r.idempotency_key;
  j["status"] = error ? "error" : "done";
  j["error"] = ErrorOrNull(error);
  j["layers"] = r.layers;
  j["bytes"] = r.bytes;
  return Dump(j);
}

std::string NotificationBodyFor(NotifyFormat format, const CompletionReport& r,
                                const std::optional<std::string>& error) {
  if (format == NotifyFormat::kNeon) {
    return NeonImportCompleteBody(r.tenant_id.ToHex(), r.timeline_id.ToHex(), error);
  }
  return NotificationBody(r, error);
}

std::string TenantNotificationBody(const TenantId& tenant, const TimelineId& timeline, uint32_t shard_count,
                                   const std::optional<std::string>& error) {
  ojson j = ojson::object();
  j["tenant_id"] = tenant.ToHex();
  j["timeline_id"] = timeline.ToHex();
  j["shard_count"] = shard_count;
  j["status"] = error ? "error" : "done";
  j["error"] = error ? ojson(*error) : ojson(nullptr);
  return Dump(j);
}

// ------------------------------------------------------------------------------------ tenant

Status NotifyTenantImport(Storage& dest, const TenantNotifyRequest& req, const NotifyOptions& notify,
                          EventSink& events) {
  const std::string what = fmt::format("tenant {} timeline {} in {}", req.tenant.ToHex(), req.timeline.ToHex(),
                                       dest.Url());
  P2L_ASSIGN_OR_RETURN(std::vector<ShardImportStatus> found, GetImportStatus(dest, req.tenant, req.timeline));
  std::map<std::string, const ShardImportStatus*> by_shard;
  for (const ShardImportStatus& s : found) by_shard[s.shard] = &s;
  // The expected shards.
  uint32_t count = 0;
  if (req.shard_count) {
    count = *req.shard_count;
    if (count > 255) return Status::Usage(fmt::format("--shard-count {}: at most 255", count));
  } else {
    if (found.empty()) return Status::InvalidInput(fmt::format("{}: no shard directory found", what));
    std::optional<uint32_t> seen;
    for (const ShardImportStatus& s : found) {
      const uint32_t c = uint32_t(std::stoul(s.shard.substr(2, 2), nullptr, 16));
      if (seen && *seen != c) {
        return Status::InvalidInput(fmt::format(
            "{}: shard directories of different shard counts ({} and {}); pass --shard-count", what, *seen, c));
      }
      seen = c;
    }
    count = *seen;
  }
  std::vector<std::string> expected;
  if (count == 0) {
    expected.push_back("0000");
  } else {
    for (uint32_t i = 0; i < count; i++) expected.push_back(fmt::format("{:02x}{:02x}", i, count));
  }
  for (const auto& [shard, msg] : req.shard_errors) {
    if (std::find(expected.begin(), expected.end(), shard) == expected.end()) {
      return Status::Usage(fmt::format("--shard-error {}: not a shard of this import (shard count {})", shard, count));
    }
  }
  ojson failed = ojson::object();
  std::vector<std::string> pending;
  for (const std::string& shard : expected) {
    auto it = by_shard.find(shard);
    const bool done = it != by_shard.end() && it->second->state == ShardImportStatus::State::kDone;
    auto err = req.shard_errors.find(shard);
    if (done) {
      if (err != req.shard_errors.end()) {
        LogWarn("shard {}: its index_part.json says Done; --shard-error for it ignored", shard);
      }
      continue;
    }
    const char* state = it == by_shard.end() ? "no shard directory" : StateName(it->second->state);
    if (err != req.shard_errors.end()) {
      failed[shard] = err->second;
    } else {
      pending.push_back(fmt::format("{} ({})", shard, state));
    }
  }
  if (!pending.empty()) {
    std::string list;
    for (const std::string& p : pending) list += (list.empty() ? "" : ", ") + p;
    return Status::InvalidInput(fmt::format(
        "{}: not every shard is done: {}; nothing was sent (finish the import, or pass --shard-error NNCC=MESSAGE "
        "for a shard that failed)", what, list));
  }
  std::optional<std::string> error;
  if (!failed.empty()) error = Dump(failed);
  events.Emit("tenant_notify", {{"tenant_id", req.tenant.ToHex()},
                                {"timeline_id", req.timeline.ToHex()},
                                {"shards", expected.size()},
                                {"failed", failed.size()},
                                {"format", NotifyFormatName(notify.format)}});
  LogInfo("{}: {} of {} shard{} done; notifying {}", what, expected.size() - failed.size(), expected.size(),
          expected.size() == 1 ? "" : "s", RedactNotifyUrl(notify.url));
  const std::string body = notify.format == NotifyFormat::kNeon
                               ? NeonImportCompleteBody(req.tenant.ToHex(), req.timeline.ToHex(), error)
                               : TenantNotificationBody(req.tenant, req.timeline, count, error);
  auto res = PostNotification(notify, body, events);
  if (!res.ok()) return res.status().WithContext(what);
  if (error) {
    return Status::InvalidInput(fmt::format("{}: failure notified: shards failed: {}", what, *error));
  }
  return Status::OK();
}

// ------------------------------------------------------------------------------------ publisher

Result<std::unique_ptr<CompletionPublisher>> CompletionPublisher::Open(
    const CompletionFlags& flags, Storage* source, const StorageOptions& storage_opts, EventSink& events) {
  std::optional<NotifyOptions> notify;
  if (!flags.notify_url.empty()) {
    P2L_ASSIGN_OR_RETURN(NotifyFormat format, ParseNotifyFormat(flags.notify_format));
    P2L_ASSIGN_OR_RETURN(NotifyOptions n, MakeNotifyOptions(flags.notify_url, flags.notify_timeout, format,
                                                            flags.notify_token_file));
    notify = std::move(n);
  } else {
    // Still check the syntax: a typo in --notify-timeout is an error even without --notify-url.
    P2L_RETURN_IF_ERROR(ParseNotifyTimeout(flags.notify_timeout).status());
    P2L_RETURN_IF_ERROR(ParseNotifyFormat(flags.notify_format).status());
    if (!flags.notify_token_file.empty()) {
      P2L_RETURN_IF_ERROR(ReadNotifyTokenFile(flags.notify_token_file).status());
    }
  }
  if (!flags.status_dest.empty()) {
    auto st = OpenStorage(flags.status_dest, storage_opts);
    if (!st.ok()) return st.status().WithContext("--status-dest");
    std::unique_ptr<Storage> owned = std::move(st).value();
    Storage* dest = owned.get();
    return std::make_unique<CompletionPublisher>(dest, false, std::move(notify), events, std::move(owned));
  }
  if (source == nullptr) return Status::Internal("CompletionPublisher::Open: no source storage");
  // The default is Neon's protocol: status/ beside pgdata/ in the import bucket. A plain local
  // PGDATA directory (global/pg_control at its top) is not such a location: writing there would
  // change the cluster's own directory, so no status object unless --status-dest asks for one.
  if (source->IsLocal()) {
    Result<SourceLayout> layout = DetectSourceLayout(*source);
    if (layout.ok() && !layout->bucket_layout()) {
      LogInfo("{} is a plain PGDATA directory: no status object is written into it (pass --status-dest URL "
              "to write one elsewhere)", source->Url());
      return std::make_unique<CompletionPublisher>(nullptr, false, std::move(notify), events);
    }
  }
  return std::make_unique<CompletionPublisher>(source, true, std::move(notify), events);
}

CompletionPublisher::CompletionPublisher(Storage* status_dest, bool status_dest_is_source,
                                         std::optional<NotifyOptions> notify, EventSink& events,
                                         std::unique_ptr<Storage> owned)
    : owned_(std::move(owned)),
      status_dest_(status_dest),
      status_dest_is_source_(status_dest_is_source),
      notify_(std::move(notify)),
      events_(events) {}

std::string CompletionPublisher::StatusLocation(const ShardIdentity& shard) const {
  return status_dest_ != nullptr ? status_dest_->Describe(StatusObjectName(shard)) : StatusObjectName(shard);
}

Status CompletionPublisher::WriteStatus(const CompletionReport& r, const std::optional<std::string>& error) {
  if (status_dest_ == nullptr) return Status::OK();   // none for a plain local PGDATA (Open)
  const std::string name = StatusObjectName(r.shard);
  const std::string body = StatusObjectBody(r, error);
  // A rerun of a finished import finds the same document: it is left untouched (no new mtime/ETag).
  Result<std::string> existing = status_dest_->ReadAll(name, kMaxStatusObjectBytes);
  const bool unchanged = existing.ok() && *existing == body;
  if (!unchanged) {
    P2L_RETURN_IF_ERROR(PutStatus(name, body));
  }
  LogInfo("status object {} {} (done={})", status_dest_->Describe(name), unchanged ? "is up to date" : "written",
          !error.has_value());
  events_.Emit("status_written", {{"object", status_dest_->Describe(name)},
                                  {"shard", r.shard.IndexString()},
                                  {"done", !error.has_value()},
                                  {"unchanged", unchanged}});
  return Status::OK();
}

Status CompletionPublisher::PutStatus(const std::string& name, const std::string& body) {
  Status st = status_dest_->Put(name, body);
  if (!st.ok()) {
    std::string msg = fmt::format("writing the status object {}: {}", status_dest_->Describe(name), st.message());
    if (status_dest_is_source_) {
      msg += "; the status object goes to the source location by default — if it is read-only, "
             "pass --status-dest URL to write status objects elsewhere";
    } else {
      msg += " (--status-dest)";
    }
    // Whatever the backend called it (a missing or non-directory parent is kNotFound locally),
    // failing to write our own output is an I/O failure (exit 4), not bad input.
    return Status::Io(std::move(msg));
  }
  return Status::OK();
}

Status CompletionPublisher::PublishDone(const CompletionReport& r) {
  P2L_RETURN_IF_ERROR(WriteStatus(r, std::nullopt));
  if (!notify_) return Status::OK();
  auto res = PostNotification(*notify_, NotificationBodyFor(notify_->format, r, std::nullopt), events_);
  if (!res.ok()) {
    return res.status().WithContext(fmt::format(
        "shard {} imported (layers and index_part.json are complete; rerun the import to retry the "
        "notification)", TenantShardIdString(r.tenant_id, r.shard)));
  }
  return Status::OK();
}

bool CompletionPublisher::AlreadyDone(const CompletionReport& r) {
  if (status_dest_ == nullptr) return false;
  auto data = status_dest_->ReadAll(StatusObjectName(r.shard), kMaxStatusObjectBytes);
  if (!data.ok()) return false;  // absent or unreadable: nothing to protect
  try {
    auto j = nlohmann::json::parse(*data);
    if (!j.is_object()) return false;
    auto done = j.find("done");
    auto key = j.find("idempotency_key");
    return done != j.end() && done->is_boolean() && done->get<bool>() && key != j.end() &&
           key->is_string() && key->get<std::string>() == r.idempotency_key;
  } catch (const std::exception&) {
    return false;  // not ours or damaged: overwritten
  }
}

void CompletionPublisher::PublishFailure(const CompletionReport& r, const Status& error) {
  if (error.ok() || SkipsPublication(error.code())) return;
  if (AlreadyDone(r)) {
    LogWarn("{} already records a finished import with idempotency key '{}': not overwritten with "
            "this run's error, no error notification sent",
            StatusLocation(r.shard), r.idempotency_key);
    return;
  }
  const std::optional<std::string> msg = error.message();
  Status st = WriteStatus(r, msg);
  if (!st.ok()) LogWarn("could not publish the failure: {}", st.message());
  if (notify_) {
    auto res = PostNotification(*notify_, NotificationBodyFor(notify_->format, r, msg), events_);
    if (!res.ok()) LogWarn("could not deliver the error notification: {}", res.status().message());
  }
}

Status CompletionPublisher::Finish(const CompletionReport& r, const Status& import_status) {
  if (import_status.ok()) return PublishDone(r);
  PublishFailure(r, import_status);
  return import_status;
}

}  // namespace p2l
