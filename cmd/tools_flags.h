// Flags shared by the read-side subcommands (inspect, verify, export): remote storage access and
// where the destination is. Flag parsing only.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "storage/storage.h"
#include "util/status.h"

namespace p2l::cmd {

struct ToolStorageFlags {
  std::string endpoint, region;
  int max_retries = 8;
  int concurrency = 16;
};

inline void AddToolStorageFlags(CLI::App* sub, ToolStorageFlags& f) {
  sub->add_option("--endpoint", f.endpoint, "S3/Azure endpoint URL (e.g. http://127.0.0.1:9000)");
  sub->add_option("--region", f.region, "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)");
  sub->add_option("--s3-concurrency", f.concurrency, "Concurrent requests per remote storage")
      ->capture_default_str();
  sub->add_option("--max-retries", f.max_retries, "Retries of transient remote failures")->capture_default_str();
}

inline Result<StorageOptions> ToStorageOptions(const ToolStorageFlags& f) {
  StorageOptions o;
  o.endpoint = f.endpoint;
  o.region = f.region;
  if (f.concurrency < 1 || f.concurrency > 1024) return Status::Usage("--s3-concurrency must be 1..1024");
  if (f.max_retries < 0 || f.max_retries > 100) return Status::Usage("--max-retries must be 0..100");
  o.concurrency = f.concurrency;
  o.max_retries = f.max_retries;
  return o;
}

// The destination given either as --dest or as the first positional argument (not both).
inline Result<std::string> PickDest(const std::string& flag, const std::string& positional) {
  if (!flag.empty() && !positional.empty() && flag != positional) {
    return Status::Usage("give the destination once: --dest or the positional DEST");
  }
  if (flag.empty() && positional.empty()) return Status::Usage("--dest (or DEST) is required");
  return flag.empty() ? positional : flag;
}

}  // namespace p2l::cmd
