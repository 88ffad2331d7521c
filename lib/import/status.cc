#include "import/status.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "import/timeline_state.h"
#include "index/index_part.h"
#include "tools/servability.h"

namespace p2l {

namespace {

constexpr uint64_t kMaxLeaseSize = 64 << 10;

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// The ShardIndex of a tenant shard directory name: "<tenant>" → "0000", "<tenant>-NNCC" → "NNCC";
// nullopt when the name is not a directory of `tenant`.
std::optional<std::string> ShardOfDir(std::string_view dir, const std::string& tenant_hex) {
  if (dir.size() < 32) return std::nullopt;
  std::string lower(dir.substr(0, 32));
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (lower != tenant_hex) return std::nullopt;
  if (dir.size() == 32) return std::string("0000");
  if (dir.size() == 37 && dir[32] == '-' && IsHex(dir.substr(33))) {
    std::string s(dir.substr(33));
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  return std::nullopt;
}

}  // namespace

const char* StateName(ShardImportStatus::State s) {
  switch (s) {
    case ShardImportStatus::State::kNotStarted: return "not started";
    case ShardImportStatus::State::kInProgress: return "in progress";
    case ShardImportStatus::State::kDone: return "done";
    case ShardImportStatus::State::kNotImport: return "not an import";
  }
  return "?";
}

namespace {
// The cheap servability check of a Done shard (DBDIR only; `verify` does the rest).
void CheckServable(Storage& dest, const TenantId& tenant, const TimelineId& timeline, ShardImportStatus* s) {
  ShardIdentity shard;
  if (s->shard.size() == 4) {
    shard.number = uint8_t(std::stoul(s->shard.substr(0, 2), nullptr, 16));
    shard.count = uint8_t(std::stoul(s->shard.substr(2, 2), nullptr, 16));
  }
  Result<std::set<uint32_t>> ts = DbDirUserTablespaces(dest, tenant, timeline, shard);
  if (!ts.ok()) {
    s->servability_error = ts.status().message();
    return;
  }
  s->servable = ts->empty();
  s->user_tablespaces.assign(ts->begin(), ts->end());
}
}  // namespace

Result<std::vector<ShardImportStatus>> GetImportStatus(Storage& dest, const TenantId& tenant,
                                                       const TimelineId& timeline) {
  const std::string tenant_hex = tenant.ToHex();
  P2L_ASSIGN_OR_RETURN(Listing tenants, dest.List("tenants/"));
  std::vector<ShardImportStatus> out;
  for (const std::string& prefix : tenants.prefixes) {
    // "tenants/<dir>/"
    if (prefix.size() < 9 || prefix.back() != '/') continue;
    const std::string dir = prefix.substr(8, prefix.size() - 9);
    std::optional<std::string> shard = ShardOfDir(dir, tenant_hex);
    if (!shard) continue;
    ShardImportStatus s;
    s.tenant_shard_id = dir;
    s.shard = *shard;
    const std::string tl_dir = "tenants/" + dir + "/timelines/" + timeline.ToHex();
    P2L_ASSIGN_OR_RETURN(std::optional<TimelineIndex> cur, ReadLatestIndexPart(dest, tl_dir));
    if (cur) {
      const IndexPart& idx = cur->index;
      s.index_object = cur->object;
      s.generation = cur->generation;
      s.layers = idx.layer_metadata.size();
      for (const auto& [name, lm] : idx.layer_metadata) s.bytes += lm.file_size;
      if (idx.progress) {
        s.has_progress = true;
        s.jobs_done = idx.progress->completed;
        s.jobs_total = idx.progress->jobs;
      }
      if (!idx.import_pgdata) {
        s.state = ShardImportStatus::State::kNotImport;
      } else {
        s.state = idx.import_pgdata->state == ImportPgdata::State::kDone ? ShardImportStatus::State::kDone
                                                                         : ShardImportStatus::State::kInProgress;
        s.idempotency_key = idx.import_pgdata->idempotency_key;
        s.started_at_nanos = idx.import_pgdata->started_at_nanos;
        s.finished_at_nanos = idx.import_pgdata->finished_at_nanos;
      }
      if (s.state == ShardImportStatus::State::kDone) CheckServable(dest, tenant, timeline, &s);
    }
    Result<std::string> lease = dest.ReadAll(tl_dir + "/" + kLeaseBaseName, kMaxLeaseSize);
    if (lease.ok()) {
      Result<LeaseRecord> rec = LeaseRecord::Parse(*lease, dest.Describe(tl_dir + "/" + kLeaseBaseName));
      if (rec.ok()) s.lease = *rec;
    } else if (!lease.status().IsNotFound()) {
      return lease.status();
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const ShardImportStatus& a, const ShardImportStatus& b) { return a.tenant_shard_id < b.tenant_shard_id; });
  return out;
}

std::string FormatImportStatus(const TenantId& tenant, const TimelineId& timeline,
                               const std::vector<ShardImportStatus>& shards) {
  std::string out;
  if (shards.empty()) {
    return fmt::format("tenant {} timeline {}: not started (no directory of the tenant under tenants/)\n",
                       tenant.ToHex(), timeline.ToHex());
  }
  const int64_t now = int64_t(std::time(nullptr));
  for (const ShardImportStatus& s : shards) {
    std::string line = fmt::format("{} timeline {}: {}", s.tenant_shard_id, timeline.ToHex(), StateName(s.state));
    switch (s.state) {
      case ShardImportStatus::State::kNotStarted:
        break;
      case ShardImportStatus::State::kInProgress:
        if (s.has_progress) {
          line += fmt::format(", {}/{} jobs checkpointed", s.jobs_done, s.jobs_total);
        }
        line += fmt::format(", {} layers ({} bytes) so far, started {}", s.layers, s.bytes,
                            FormatNaiveDateTime(s.started_at_nanos));
        break;
      case ShardImportStatus::State::kDone:
        line += fmt::format(", finished {}, {} layers, {} bytes",
                            s.finished_at_nanos ? FormatNaiveDateTime(*s.finished_at_nanos) : "?", s.layers, s.bytes);
        break;
      case ShardImportStatus::State::kNotImport:
        line += fmt::format(", {} layers", s.layers);
        break;
    }
    if (!s.index_object.empty()) line += fmt::format(" [{}]", s.index_object);
    if (s.lease) line += fmt::format("; lease held by {}", s.lease->Describe(now));
    if (s.servable && !*s.servable) {
      line += fmt::format("; NOT servable by a Neon pageserver: user tablespace(s) {}", fmt::join(s.user_tablespaces, ", "));
    } else if (!s.servability_error.empty()) {
      line += fmt::format("; servability not checked: {}", s.servability_error);
    }
    out += line + "\n";
  }
  return out;
}

nlohmann::json ImportStatusJson(const TenantId& tenant, const TimelineId& timeline,
                                const std::vector<ShardImportStatus>& shards) {
  nlohmann::json arr = nlohmann::json::array();
  for (const ShardImportStatus& s : shards) {
    nlohmann::json j = {{"tenant_shard_id", s.tenant_shard_id}, {"shard", s.shard}, {"state", StateName(s.state)}};
    if (!s.index_object.empty()) {
      j["index"] = s.index_object;
      j["generation"] = s.generation ? nlohmann::json(*s.generation) : nlohmann::json(nullptr);
      j["layers"] = s.layers;
      j["bytes"] = s.bytes;
    }
    if (s.state == ShardImportStatus::State::kInProgress || s.state == ShardImportStatus::State::kDone) {
      j["idempotency_key"] = s.idempotency_key;
      j["started_at"] = FormatNaiveDateTime(s.started_at_nanos);
      if (s.finished_at_nanos) j["finished_at"] = FormatNaiveDateTime(*s.finished_at_nanos);
    }
    if (s.has_progress) {
      j["jobs_done"] = s.jobs_done;
      j["jobs_total"] = s.jobs_total;
    }
    if (s.servable) {
      j["servable"] = *s.servable;
      j["user_tablespaces"] = s.user_tablespaces;
    }
    if (!s.servability_error.empty()) j["servability_error"] = s.servability_error;
    if (s.lease) {
      j["lease"] = {{"host", s.lease->host}, {"pid", s.lease->pid}, {"expires", s.lease->expires},
                    {"renewed", s.lease->renewed}};
    }
    arr.push_back(std::move(j));
  }
  return {{"tenant_id", tenant.ToHex()}, {"timeline_id", timeline.ToHex()}, {"shards", std::move(arr)}};
}

}  // namespace p2l
