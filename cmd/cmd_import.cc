// `pgdata2layers import`: flags → ImportOptions → RunImport (lib/import/import.h).
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "import/import.h"
#include "import/pgdata_marker.h"
#include "import/source_options.h"
#include "keyspace/shard.h"
#include "util/events.h"
#include "util/ids.h"
#include "util/log.h"

namespace p2l::cmd {

namespace {

// --idempotency-key: 1..256 printable ASCII characters without spaces. The key is written into
// index_part.json, the lease and log lines: a control character could forge a log line, and a huge
// key would make the lease unreadable for every later run (issue 19, part 6).
CLI::Validator IdempotencyKeyValidator() {
  return CLI::Validator(
      [](std::string& key) -> std::string {
        constexpr size_t kMaxKey = 256;
        if (key.empty()) return "the idempotency key is empty";
        if (key.size() > kMaxKey) {
          return fmt::format("the idempotency key has {} characters; at most {} are allowed", key.size(), kMaxKey);
        }
        for (size_t i = 0; i < key.size(); i++) {
          const unsigned char c = static_cast<unsigned char>(key[i]);
          if (c < 0x21 || c > 0x7e) {
            return fmt::format("the idempotency key has byte 0x{:02x} at position {}: only printable ASCII "
                               "without spaces (0x21..0x7e) is allowed",
                               unsigned(c), i);
          }
        }
        return {};
      },
      "KEY");
}

struct ImportFlags {
  std::string source, dest, tenant, timeline, idempotency_key, compression = "none";
  std::string soft_size_limit = "256MiB", max_range = "4MiB", max_bandwidth = "0";
  std::optional<uint32_t> shard_count, shard_number;
  uint32_t stripe_size = kDefaultStripeSize;
  uint32_t generation = 1;
  uint32_t jobs = 0;
  uint32_t checkpoint_every = 8;
  bool restart = false, allow_unclean = false, ignore_checksums = false, no_sync = false;
  std::string wait_for_pgdata;
  std::string tablespaces = "refuse";
  CLI::Option* wait_opt = nullptr;
  std::string tmp_dir;
  ToolStorageFlags storage;
  SideFlags sides;
  CompletionFlags completion;
};

Result<ImportOptions> ToOptions(const ImportFlags& f) {
  ImportOptions o;
  o.source = f.source;
  o.dest = f.dest;
  if (!f.tenant.empty()) {
    Result<TenantId> t = TenantId::FromHex(f.tenant);
    if (!t.ok()) return Status::Usage("--tenant-id: " + t.status().message());
    o.tenant = *t;
  }
  if (!f.timeline.empty()) {
    Result<TimelineId> t = TimelineId::FromHex(f.timeline);
    if (!t.ok()) return Status::Usage("--timeline-id: " + t.status().message());
    o.timeline = *t;
  }
  // No --shard-count: unsharded (count 0, no tenant directory suffix). --shard-count 1 → "-0001".
  if (f.shard_count) {
    if (*f.shard_count > 255) return Status::Usage(fmt::format("--shard-count {} is more than 255", *f.shard_count));
    P2L_ASSIGN_OR_RETURN(o.shard, ShardIdentity::Make(f.shard_number.value_or(0), *f.shard_count, f.stripe_size));
  } else if (f.shard_number && *f.shard_number != 0) {
    return Status::Usage("--shard-number needs --shard-count");
  } else {
    o.shard = ShardIdentity::Unsharded();
  }
  o.generation = f.generation;
  o.jobs = f.jobs;
  P2L_ASSIGN_OR_RETURN(o.soft_size_limit, ParseByteSize(f.soft_size_limit, "--soft-size-limit"));
  P2L_ASSIGN_OR_RETURN(o.max_range, ParseByteSize(f.max_range, "--max-range"));
  if (f.compression == "zstd") {
    o.zstd = true;
  } else if (f.compression != "none") {
    return Status::Usage(fmt::format("--compression: \"{}\" is not none or zstd", f.compression));
  }
  o.idempotency_key = f.idempotency_key;
  o.checkpoint_every = f.checkpoint_every;
  o.restart = f.restart;
  o.allow_unclean_shutdown = f.allow_unclean;
  P2L_ASSIGN_OR_RETURN(o.tablespaces, ParseTablespaceMode(f.tablespaces));
  o.ignore_checksum_failures = f.ignore_checksums;
  o.sync = !f.no_sync;
  if (f.wait_opt != nullptr && f.wait_opt->count() > 0) {
    if (f.wait_for_pgdata.empty()) {
      o.wait_for_pgdata_seconds = kDefaultPgdataWaitSeconds;
    } else {
      P2L_ASSIGN_OR_RETURN(int64_t s, ParseWaitTimeout(f.wait_for_pgdata));
      o.wait_for_pgdata_seconds = s;
    }
  }
  P2L_ASSIGN_OR_RETURN(o.storage, ToStorageOptions(f.storage));
  P2L_ASSIGN_OR_RETURN(o.storage.max_bandwidth, ParseByteSize(f.max_bandwidth, "--max-bandwidth"));
  o.storage.tmp_dir = f.tmp_dir;
  P2L_RETURN_IF_ERROR(CheckSideFlags(f.sides));
  o.source_side = f.sides.source;
  o.dest_side = f.sides.dest;
  o.completion = f.completion;
  return o;
}

}  // namespace

void RegisterImport(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<ImportFlags>();
  CLI::App* sub = app.add_subcommand(
      "import",
      "Import a PGDATA (a stopped cluster's data directory, or a Neon import bucket with pgdata/) into image "
      "layers + index_part.json in a pageserver remote storage. Resumable and idempotent: rerun the same command "
      "after an interruption.");
  sub->add_option("--source", f->source, "PGDATA: local path, s3://bucket/prefix or az://account/container/prefix")
      ->required();
  sub->add_option("--dest", f->dest, "Pageserver remote storage root: local path, s3://... or az://...")->required();
  sub->add_option("--tenant-id", f->tenant, "Tenant id (32 hex digits); generated and printed when absent");
  sub->add_option("--timeline-id", f->timeline, "Timeline id (32 hex digits); generated and printed when absent");
  sub->add_option("--shard-count", f->shard_count, "Shard count (absent: unsharded; 1: one shard, suffix -0001)");
  sub->add_option("--shard-number", f->shard_number, "This shard's number, 0..count-1 (default 0)");
  sub->add_option("--stripe-size", f->stripe_size, "Stripe size in pages (default 2048)")->capture_default_str();
  sub->add_option("--generation", f->generation, "Generation of the objects written (default 1)")
      ->capture_default_str();
  sub->add_option("--jobs", f->jobs, "Concurrent jobs, 1..1024 (default: number of cores)")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--soft-size-limit", f->soft_size_limit, "Target source bytes per layer (default 256MiB)")
      ->capture_default_str();
  sub->add_option("--compression", f->compression,
                  "none (default: byte-identical to Neon with compression disabled) or zstd")
      ->check(CLI::IsMember({"none", "zstd"}))
      ->capture_default_str();
  sub->add_option("--idempotency-key", f->idempotency_key,
                  "Import identity, 1..256 printable ASCII characters without spaces (default: derived from "
                  "source URL + tenant + timeline)")
      ->check(IdempotencyKeyValidator());
  sub->add_option("--checkpoint-every", f->checkpoint_every, "Rewrite index_part every N completed jobs (default 8)")
      ->capture_default_str();
  sub->add_flag("--restart", f->restart, "Discard an unfinished import of this timeline and start over");
  sub->add_flag("--allow-unclean-shutdown", f->allow_unclean,
                "Import a cluster that was not shut down cleanly (its last changes may be missing)");
  sub->add_option("--tablespaces", f->tablespaces,
                  "User tablespaces: refuse (exit 3, nothing written: Neon cannot serve them), skip (leave their "
                  "relations out, each listed) or keep (import them: not servable by Neon)")
      ->check(CLI::IsMember({"refuse", "skip", "keep"}))
      ->capture_default_str();
  sub->add_flag("--ignore-checksum-failures", f->ignore_checksums,
                "Import pages that fail verification as they are (with a warning)");
  sub->add_option("--max-range", f->max_range, "Largest single read of relation data (default 4MiB)")
      ->capture_default_str();
  f->wait_opt = sub->add_option("--wait-for-pgdata", f->wait_for_pgdata,
                                "Wait until <source>/status/pgdata says {\"done\": true} (timeout, default 1h: "
                                "e.g. 30s, 10m, 2h)")
                    ->expected(0, 1);
  AddToolStorageFlags(sub, f->storage);
  AddSideFlags(sub, f->sides);
  sub->add_option("--max-bandwidth", f->max_bandwidth, "Bytes per second per remote storage (0 = unlimited)");
  sub->add_flag("--no-sync", f->no_sync,
                "Do not fsync local writes (layers, index, status object): faster, but an OS crash can lose "
                "or corrupt them; for scratch copies and tests, like pg_basebackup --no-sync");
  sub->add_option("--tmp-dir", f->tmp_dir, "Where layers for remote destinations are staged (default TMPDIR)");
  sub->add_option("--status-dest", f->completion.status_dest,
                  "Where the per-shard status object status/shard-NNCC is written (default: the source "
                  "location when remote or in import-bucket layout; none for a plain local PGDATA)");
  sub->add_option("--notify-url", f->completion.notify_url,
                  "POST a JSON completion notification to this http(s) URL, retried until 2xx "
                  "(bearer token from PGDATA2LAYERS_NOTIFY_TOKEN)");
  sub->add_option("--notify-timeout", f->completion.notify_timeout,
                  "Give up notifying after this long, then exit 6 (e.g. 30s, 10m, 2h)")
      ->capture_default_str();
  sub->add_option("--notify-format", f->completion.notify_format,
                  "neon: PUT <url>/import_complete {tenant_id, timeline_id, error} as Neon's storage controller "
                  "sends (unsharded imports; sharded: `pgdata2layers notify`); default: the POST document")
      ->check(CLI::IsMember({"default", "neon"}))
      ->capture_default_str();
  sub->add_option("--notify-token-file", f->completion.notify_token_file,
                  "Read the notification's bearer token from FILE (trailing newline stripped; checked before "
                  "any work)");
  AddCommonFlags(sub, g);
  AddProgressFlags(sub, g);

  sub->callback([f, &g, exit_code] {
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    auto fail = [&](const Status& failed) {
      *exit_code = ReportFailure(failed, g);
      EmitSummary(g, "import", *exit_code, seconds(), {{"kind", CodeName(failed.code())}, {"error", failed.message()}});
    };
    Status st = ApplyCommonFlags(g);
    Result<ProgressSink::Display> display = ProgressDisplay(g);
    if (st.ok() && !display.ok()) st = display.status();
    Result<ImportOptions> o = st.ok() ? ToOptions(*f) : Result<ImportOptions>(st);
    if (!o.ok()) return fail(o.status());
    SetLogShard(o->shard.count == 0 ? "" : o->shard.IndexString());
    // Progress is a listener on the import's events (lib/import/progress.h).
    ProgressSink progress(StdoutEvents(g.json), *display, g.progress_interval);
    Result<ImportSummary> r = RunImport(*o, progress);
    progress.Stop();
    if (!r.ok()) return fail(r.status());
    if (!g.json && r->already_complete) {
      std::fprintf(stderr, "already complete: %s\n", r->index_object.c_str());
    }
    *exit_code = 0;
    EmitSummary(g, "import", 0, seconds(),
                {{"tenant_id", r->tenant.ToHex()},
                 {"timeline_id", r->timeline.ToHex()},
                 {"shard", o->shard.IndexString()},
                 {"index_object", r->index_object},
                 {"already_complete", r->already_complete},
                 {"resumed", r->resumed},
                 {"jobs", r->jobs},
                 {"jobs_skipped", r->jobs_skipped},
                 {"layers", r->layers},
                 {"bytes", r->layer_bytes},
                 {"keys", r->keys},
                 {"source_bytes", r->source_bytes}});
  });
}

}  // namespace p2l::cmd
