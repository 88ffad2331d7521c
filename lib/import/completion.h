// Completion publication of an import (issue #5): when one shard's import ends, successfully or
// not, it is published through
//   1. a per-shard status object "status/shard-<NNCC>" (NNCC = ShardIdentity::IndexString(),
//      "0000" unsharded) under the status destination: --status-dest URL, by default the source
//      location itself (the only place of the source we ever write to is this "status/" prefix)
//      — except a plain local PGDATA directory (global/pg_control at its top), which is never
//      written to: without --status-dest it gets no status object; written with Storage::Put
//      (atomic replace);
//   2. optionally, a JSON POST to --notify-url (import/notify.h: retries until 2xx or
//      --notify-timeout).
//
// Status object (compact JSON + "\n", fields in this order):
//   {"done": true|false, "idempotency_key": "...", "tenant_shard_id": "<tenant>[-NNCC]",
//    "timeline_id": "<hex>", "started_at": "<RFC 3339 UTC, µs>"|null, "finished_at": ...,
//    "layers": N, "bytes": N, "error": null|"message"}
// Notification body (compact JSON, fields in this order):
//   {"tenant_shard_id": "...", "tenant_id": "<hex>", "timeline_id": "<hex>", "shard": "NNCC",
//    "idempotency_key": "...", "status": "done"|"error", "error": null|"message",
//    "layers": N, "bytes": N}
// tenant_shard_id is Neon's TenantShardId text: the tenant alone for a legacy unsharded
// destination (count 0), else "<tenant>-NNCC" (index-part-and-import.md §1, TenantShardId).
//
// Success is all-or-error: the status object, then the notification; the first failure is the
// import's result (the layers and the Done index stay; a rerun of the finished import publishes
// again — at-least-once). A failed import is published best effort (done=false + "error") and
// never changes the import's own error; failures that are not about this import's work (usage
// errors, kConflict: another import owns the destination) publish nothing, and a status object
// that already says done for the same idempotency key is never overwritten by an error.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "import/notify.h"
#include "index/index_part.h"
#include "keyspace/shard.h"
#include "storage/storage.h"
#include "util/events.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

// What is published about one shard's import.
struct CompletionReport {
  TenantId tenant_id;
  TimelineId timeline_id;
  ShardIdentity shard;
  std::string idempotency_key;
  int64_t started_at_nanos = 0;    // unix ns; 0 = unknown (null)
  int64_t finished_at_nanos = 0;   // unix ns; 0 = unknown (null); for a failure: when it failed
  uint64_t layers = 0;             // image layers of this shard's index (so far, on failure)
  uint64_t bytes = 0;              // their total file size
};

// From a shard's index_part.json (the "already done" path and the end of a fresh import): the
// idempotency key and started/finished times of import_pgdata (when present), the number of
// layers and the sum of their file_size.
CompletionReport ReportFromIndex(const IndexPart& index, const TenantId& tenant,
                                 const TimelineId& timeline, const ShardIdentity& shard);

// "<tenant hex>" (count 0) or "<tenant hex>-NNCC".
std::string TenantShardIdString(const TenantId& tenant, const ShardIdentity& shard);
// "status/shard-NNCC".
std::string StatusObjectName(const ShardIdentity& shard);
// "2024-11-19T09:02:41.123456Z".
std::string FormatRfc3339Micros(int64_t unix_nanos);

// The documents. `error`: nullopt = done; otherwise the failure message (bounded to 4096 bytes,
// invalid UTF-8 replaced).
std::string StatusObjectBody(const CompletionReport& r, const std::optional<std::string>& error);
std::string NotificationBody(const CompletionReport& r, const std::optional<std::string>& error);

// The completion flags of `import`, as given on the command line.
struct CompletionFlags {
  std::string status_dest;            // --status-dest URL; empty = the source location (none for a plain local PGDATA)
  std::string notify_url;             // --notify-url URL; empty = no notification
  std::string notify_timeout = "10m"; // --notify-timeout (30s, 10m, 2h, ...)
  std::string notify_format = "default";  // --notify-format default|neon (notify.h)
  std::string notify_token_file;      // --notify-token-file FILE; empty = $PGDATA2LAYERS_NOTIFY_TOKEN
};

// The notification body of one shard's import in the chosen format: NotificationBody for the
// default format, NeonImportCompleteBody (tenant, timeline, error) for neon.
std::string NotificationBodyFor(NotifyFormat format, const CompletionReport& r,
                                const std::optional<std::string>& error);

// `pgdata2layers notify`: one tenant-scoped notification after every shard of a tenant's import
// has finished (Neon notifies once per tenant import; scripts/import-sharded.sh runs the shards
// without --notify-url, then this). Reads every shard directory's index_part.json (status.h):
//   - `shard_count`: the expected shard count (0 = unsharded, "0000"); nullopt = the count of the
//     directories found (all must agree). Every expected shard must have a directory.
//   - a shard whose import_pgdata is Done is done, whatever `shard_errors` says about it;
//   - a shard not Done with an entry in `shard_errors` (keyed "NNCC") failed with that message;
//   - a shard not Done without one: kInvalidInput naming it and its state, NOTHING is sent (the
//     import is still running or was never started: notifying now would be premature).
// All done → the notification says success (error null); some failed → its "error" is the JSON
// text of {"NNCC": "message", ...} (Neon's storage controller reports shard errors the same way),
// and the call returns kInvalidInput naming the failed shards once the notification is delivered.
// Emits "tenant_notify" {tenant_id, timeline_id, shards, failed, format} before sending.
struct TenantNotifyRequest {
  TenantId tenant;
  TimelineId timeline;
  std::optional<uint32_t> shard_count;
  std::map<std::string, std::string> shard_errors;   // "NNCC" -> message
};
Status NotifyTenantImport(Storage& dest, const TenantNotifyRequest& req, const NotifyOptions& notify,
                          EventSink& events);
// The default-format tenant document: {"tenant_id","timeline_id","shard_count","status":"done"|
// "error","error": null|"..."}.
std::string TenantNotificationBody(const TenantId& tenant, const TimelineId& timeline, uint32_t shard_count,
                                   const std::optional<std::string>& error);

class CompletionPublisher {
 public:
  // Validates the flags (kUsage: bad URL, duration or token) and opens --status-dest when given
  // (with `storage_opts`). `source` is the import's source storage: the default status
  // destination. Not owned; must outlive the publisher. Call it before the import does any work
  // so that bad flags fail fast.
  static Result<std::unique_ptr<CompletionPublisher>> Open(const CompletionFlags& flags,
                                                           Storage* source,
                                                           const StorageOptions& storage_opts,
                                                           EventSink& events);

  // The parts directly (tests, other callers). `status_dest` is not owned unless `owned` holds
  // it; `status_dest_is_source` adds the "--status-dest" hint to a failed write.
  CompletionPublisher(Storage* status_dest, bool status_dest_is_source,
                      std::optional<NotifyOptions> notify, EventSink& events,
                      std::unique_ptr<Storage> owned = nullptr);

  // The end of an import: `import_status` OK → PublishDone (its Status is the result);
  // otherwise PublishFailure and `import_status` is returned unchanged.
  Status Finish(const CompletionReport& r, const Status& import_status);

  // Writes the done=true status object, then notifies "done". Emits "status_written" and
  // "notified"/"notify_retry". Errors: the failed Put (kIo; names the object and, when writing
  // into the source, says to pass --status-dest), the notification's kTimeout / kIo.
  Status PublishDone(const CompletionReport& r);
  // Best effort: status object done=false + error, then notify "error"; failures are logged as
  // warnings only. Does nothing for kUsage/kConflict errors or when the existing status object
  // already records done=true for r.idempotency_key.
  void PublishFailure(const CompletionReport& r, const Status& error);

  // The status object's address, e.g. "s3://bucket/prefix/status/shard-0104".
  std::string StatusLocation(const ShardIdentity& shard) const;
  bool notify_enabled() const { return notify_.has_value(); }
  const std::optional<NotifyOptions>& notify_options() const { return notify_; }
  // Tests: shorten the notification's backoff/sleep.
  std::optional<NotifyOptions>& mutable_notify_options() { return notify_; }

 private:
  // Writes the status object unless it already has exactly this content (a rerun of a finished
  // import modifies nothing); emits "status_written" {object, shard, done, unchanged}.
  Status WriteStatus(const CompletionReport& r, const std::optional<std::string>& error);
  Status PutStatus(const std::string& name, const std::string& body);
  bool AlreadyDone(const CompletionReport& r);

  std::unique_ptr<Storage> owned_;
  Storage* status_dest_;
  bool status_dest_is_source_;
  std::optional<NotifyOptions> notify_;
  EventSink& events_;
};

}  // namespace p2l
