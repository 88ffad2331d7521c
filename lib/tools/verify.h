// `pgdata2layers verify`: checks an imported timeline in a destination, shard by shard.
//
// Structure (always): the chosen index_part.json parses and records a finished import
// (import_pgdata Done); every listed layer object exists with exactly file_size bytes, opens as
// an image layer, its summary matches its name (key range, LSN) and the tenant/timeline; a full
// scan finds keys strictly increasing and inside the layer's range; the shard's layer ranges do
// not overlap; every layer LSN equals initdb_lsn (and is not beyond disk_consistent_lsn); no key
// is disposable for the shard (keyspace-and-sharding.md §4.4); the keys every shard must hold
// are there (§4.5); size and directory values decode; across shards, the LSN, pg_version and
// the keys every shard holds (with their values) agree.
//
// Servability (always, lib/tools/servability.h): Neon's rules for serving a basebackup and page
// requests, per shard. Violations caused only by user tablespaces (spcnode not 1663/1664) go to
// `unservable` (the timeline is intact but a Neon pageserver cannot serve it); every other
// violation is a problem.
//
// Content (with a source): the import plan of each shard is rebuilt from the source
// (BuildPlan) and the layers are compared with what it implies, key by key and byte for byte,
// streaming both sides in key order; the set of layers must be exactly the plan's jobs that put
// at least one key. The first max_diffs differences are reported with decoded key descriptions.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keyspace/shard.h"
#include "storage/storage.h"
#include "util/events.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l {

struct VerifyOptions {
  TenantId tenant;
  TimelineId timeline;
  // Only these shards (count, and optionally number); otherwise every shard found.
  std::optional<uint32_t> shard_count;
  std::optional<uint32_t> shard_number;
  // Stripe size for the disposability check and the plan; otherwise the tenant manifest's, or
  // the default (2048 pages).
  std::optional<uint32_t> stripe_size;
  Storage* source = nullptr;          // compare with the plan built from this PGDATA
  bool allow_unclean_shutdown = false;
  size_t max_diffs = 20;              // differences reported in detail (all are counted)
  size_t max_problems_per_check = 20; // repeated per-key problems listed per shard and check
  // Every key found is written here as "<36 hex> <NNCC shard index>" lines ("" = no file).
  std::string keys_out;
};

struct ShardVerifyResult {
  std::string shard;              // "NNCC"
  std::string index_object;       // chosen index object ("" when none)
  uint64_t layers = 0;
  uint64_t keys = 0;
  uint64_t value_bytes = 0;
  bool compared_with_source = false;
  uint64_t source_keys = 0;       // keys the plan implies
  uint64_t differences = 0;       // key/value differences with the source
  // What every shard of one import must agree on (compared across shards by Verify): the LSN,
  // the PostgreSQL version, and the keys every shard holds (DBDIR, RELDIR, relmaps, rel sizes,
  // two-phase, control file, checkpoint: ShardIdentity::IsKeyGlobal) with their values.
  bool scanned = false;           // the index loaded and the layers were read
  uint64_t lsn = 0;               // disk_consistent_lsn
  uint32_t pg_version = 0;
  uint64_t global_keys = 0;
  uint64_t global_digest = 0;     // xxHash64 of the global keys and values, in key order
};

struct VerifyReport {
  std::vector<ShardVerifyResult> shards;
  std::vector<std::string> problems;   // each names the shard and what is wrong
  std::vector<std::string> notes;      // informational (e.g. assumed stripe size)
  // Servability violations due to user tablespaces only (each names the shard).
  std::vector<std::string> unservable;
  std::set<uint32_t> user_tablespaces;  // their OIDs
  bool ok() const { return problems.empty(); }
  bool servable() const { return problems.empty() && unservable.empty(); }
};

// Verifies the timeline; problems found are collected in the report (never a Status). A Status
// is returned only when verification itself cannot proceed (no shard found, destination
// unreadable, bad options, keys_out not writable). Human progress goes to the log; each problem
// is also emitted as a "problem" event and each shard as a "shard" event.
Result<VerifyReport> Verify(Storage& dest, const VerifyOptions& opts, EventSink& events);

}  // namespace p2l
