// `pgdata2layers status`: the import state of one timeline in every shard directory of a tenant
// found in the destination ("tenants/<tenant>" and "tenants/<tenant>-NNCC"), read from each shard's
// highest-generation index_part.json (timeline_state.h) and its lease object (lease.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "import/lease.h"
#include "storage/storage.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

struct ShardImportStatus {
  enum class State {
    kNotStarted,   // no index_part for the timeline in this shard directory
    kInProgress,   // import_pgdata InProgress
    kDone,         // import_pgdata Done
    kNotImport,    // an index without import_pgdata: an ordinary timeline
  };
  std::string tenant_shard_id;      // directory name under tenants/
  std::string shard = "0000";       // ShardIndex "NNCC"
  State state = State::kNotStarted;
  std::string index_object;         // the index read (empty when not started)
  std::optional<uint32_t> generation;
  std::string idempotency_key;
  bool has_progress = false;        // our pgdata2layers progress record is present
  uint64_t jobs_done = 0, jobs_total = 0;
  int64_t started_at_nanos = 0;
  std::optional<int64_t> finished_at_nanos;
  uint64_t layers = 0, bytes = 0;
  std::optional<LeaseRecord> lease;  // present while an importer holds (or crashed holding) it
  // Done shards: servable by a Neon pageserver as far as DBDIR tells (no user tablespace, read
  // from the layer holding DBDIR; lib/tools/servability.h). Unset when not checked or unreadable
  // (servability_error says why). `verify` runs every servability rule.
  std::optional<bool> servable;
  std::vector<uint32_t> user_tablespaces;
  std::string servability_error;
};

const char* StateName(ShardImportStatus::State s);   // "not started", "in progress", "done", "not an import"

// Every shard directory of `tenant` (sorted by name), each with the state of `timeline`.
Result<std::vector<ShardImportStatus>> GetImportStatus(Storage& dest, const TenantId& tenant,
                                                       const TimelineId& timeline);

// Human text (one line per shard) and the --json object {"tenant_id","timeline_id","shards":[...]}.
std::string FormatImportStatus(const TenantId& tenant, const TimelineId& timeline,
                               const std::vector<ShardImportStatus>& shards);
nlohmann::json ImportStatusJson(const TenantId& tenant, const TimelineId& timeline,
                                const std::vector<ShardImportStatus>& shards);

}  // namespace p2l
