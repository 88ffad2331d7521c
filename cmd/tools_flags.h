// Flags shared by several subcommands: remote storage access (every subcommand that reads or
// writes S3/Azure) and which imported timeline to read (verify, export, status). Flag parsing only.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "storage/storage.h"
#include "tools/timeline_reader.h"
#include "util/ids.h"
#include "util/status.h"

namespace p2l::cmd {

struct ToolStorageFlags {
  std::string endpoint, region, env_prefix;
  int max_retries = 8;
  int concurrency = 16;
};

// --endpoint, --region, --env-prefix, --s3-concurrency, --max-retries.
inline void AddToolStorageFlags(CLI::App* sub, ToolStorageFlags& f) {
  sub->add_option("--endpoint", f.endpoint,
                  "S3/Azure endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or the public service; "
                  "e.g. http://127.0.0.1:9000)");
  sub->add_option("--region", f.region, "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)");
  sub->add_option("--env-prefix", f.env_prefix,
                  "Read the storage environment variables as PREFIX + name (e.g. PROD_AWS_ACCESS_KEY_ID, "
                  "PROD_AZURE_STORAGE_KEY); the plain names are then not used");
  sub->add_option("--s3-concurrency", f.concurrency, "Concurrent requests per remote storage")
      ->capture_default_str();
  sub->add_option("--max-retries", f.max_retries, "Retries of transient remote failures")->capture_default_str();
}

inline Result<StorageOptions> ToStorageOptions(const ToolStorageFlags& f) {
  StorageOptions o;
  o.endpoint = f.endpoint;
  o.region = f.region;
  P2L_RETURN_IF_ERROR(CheckEnvPrefix(f.env_prefix, "--env-prefix"));
  o.env_prefix = f.env_prefix;
  if (f.concurrency < 1 || f.concurrency > 1024) return Status::Usage("--s3-concurrency must be 1..1024");
  if (f.max_retries < 0 || f.max_retries > 100) return Status::Usage("--max-retries must be 0..100");
  o.concurrency = f.concurrency;
  o.max_retries = f.max_retries;
  return o;
}

// Per-side endpoint, region and environment prefix, for commands that read a source and a
// destination (import, verify).
struct SideFlags {
  SideOverrides source, dest;
};

// --source-endpoint, --source-region, --source-env-prefix and the same three for --dest-
// (ForSide in storage.h).
inline void AddSideFlags(CLI::App* sub, SideFlags& f) {
  sub->add_option("--source-endpoint", f.source.endpoint,
                  "Endpoint of the source's S3/Azure storage when it differs from the destination's "
                  "(overrides --endpoint for the source)");
  sub->add_option("--source-region", f.source.region, "S3 region of the source (overrides --region)");
  sub->add_option("--source-env-prefix", f.source.env_prefix,
                  "The source's own credentials: read its storage environment variables as PREFIX + name, "
                  "e.g. SRC_AWS_ACCESS_KEY_ID (overrides --env-prefix for the source)");
  sub->add_option("--dest-endpoint", f.dest.endpoint,
                  "Endpoint of the destination's S3/Azure storage (overrides --endpoint for the destination)");
  sub->add_option("--dest-region", f.dest.region, "S3 region of the destination (overrides --region)");
  sub->add_option("--dest-env-prefix", f.dest.env_prefix,
                  "The destination's own credentials: variables read as PREFIX + name, e.g. DST_AZURE_STORAGE_KEY "
                  "(overrides --env-prefix for the destination)");
}

inline Status CheckSideFlags(const SideFlags& f) {
  P2L_RETURN_IF_ERROR(CheckEnvPrefix(f.source.env_prefix, "--source-env-prefix"));
  return CheckEnvPrefix(f.dest.env_prefix, "--dest-env-prefix");
}

// The destination given either as --dest or as the first positional argument (not both).
inline Result<std::string> PickDest(const std::string& flag, const std::string& positional) {
  if (!flag.empty() && !positional.empty() && flag != positional) {
    return Status::Usage("give the destination once: --dest or the positional DEST");
  }
  if (flag.empty() && positional.empty()) return Status::Usage("--dest (or DEST) is required");
  return flag.empty() ? positional : flag;
}

// Which imported timeline to read: DEST (or --dest), --tenant-id, --timeline-id, and the remote
// storage flags.
struct TimelineFlags {
  std::string dest, dest_pos, tenant, timeline;
  ToolStorageFlags storage;
};

// Adds the positional DEST (first positional: add other positionals after this call), --dest,
// --tenant-id, --timeline-id and the remote storage flags.
inline void AddTimelineFlags(CLI::App* sub, TimelineFlags& f) {
  sub->add_option("DEST", f.dest_pos, "Same as --dest");
  sub->add_option("--dest", f.dest, "Pageserver remote storage root: local path, s3://... or az://...");
  sub->add_option("--tenant-id", f.tenant, "Tenant id, 32 hex digits (default: the only tenant in DEST)");
  sub->add_option("--timeline-id", f.timeline, "Timeline id, 32 hex digits (default: the tenant's only timeline)");
  AddToolStorageFlags(sub, f.storage);
}

// The opened destination and the timeline TimelineFlags name (ResolveTimeline fills in defaults).
struct OpenedTimeline {
  StorageOptions storage;
  std::unique_ptr<Storage> dest;
  TenantId tenant;
  TimelineId timeline;
};

// `sides` (optional): the destination is opened with its --dest-endpoint/-region/-env-prefix.
inline Result<OpenedTimeline> OpenTimeline(const TimelineFlags& f, const SideFlags* sides = nullptr) {
  OpenedTimeline t;
  P2L_ASSIGN_OR_RETURN(std::string url, PickDest(f.dest, f.dest_pos));
  P2L_ASSIGN_OR_RETURN(t.storage, ToStorageOptions(f.storage));
  if (sides != nullptr) P2L_RETURN_IF_ERROR(CheckSideFlags(*sides));
  P2L_ASSIGN_OR_RETURN(t.dest, OpenStorage(url, sides == nullptr ? t.storage : ForSide(t.storage, sides->dest)));
  P2L_RETURN_IF_ERROR(ResolveTimeline(*t.dest, f.tenant, f.timeline, &t.tenant, &t.timeline));
  return t;
}

}  // namespace p2l::cmd
