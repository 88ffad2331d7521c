// Storage: where bytes live. The import, verify, export and status code only ever talk to this
// interface; local directories, S3 (any S3-compatible endpoint) and Azure Blob Storage implement it.
//
// Names are relative to the storage root, '/'-separated, never absolute, with no empty, "." or ".."
// components and no NUL/control bytes (ValidateObjectName). A name that came from a listing is
// validated before use, so nothing read from a listing can escape the root.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace p2l {

struct ObjectInfo {
  std::string name;     // relative to the root
  uint64_t size = 0;
  // Change detector recorded at planning and re-checked on every read: the ETag on S3/Azure,
  // "<mtime_ns>-<inode>" for local files. Empty when the backend cannot tell.
  std::string version;
};

struct Listing {
  std::vector<ObjectInfo> objects;     // direct children that are objects, sorted by name (bytes)
  std::vector<std::string> prefixes;   // direct "sub-directories": full names relative to root, ending in '/'
};

struct StorageOptions {
  // Remote backends.
  std::string endpoint;          // S3: --endpoint / AWS_ENDPOINT_URL; Azure: endpoint override
  std::string region;            // S3: --region / AWS_REGION / AWS_DEFAULT_REGION
  int max_retries = 8;           // transient failures (timeouts, resets, 5xx, 429/503) per request
  int concurrency = 16;          // concurrent requests to this storage
  uint64_t max_bandwidth = 0;    // bytes per second over all requests, 0 = unlimited
  uint64_t multipart_threshold = 64ull << 20;  // uploads larger than this go in parts
  uint64_t part_size = 16ull << 20;
  std::string tmp_dir;           // where staged objects of remote destinations are written
  // Local backend: follow symbolic links found directly in these directories (PostgreSQL's
  // pg_tblspc/); every other symlink is reported as an error. Link loops are errors.
  std::vector<std::string> follow_symlinks_in;
  // Local backend: keep the directories opened by OpenReader (after the same checks) and open the
  // next files of the same directory relative to them, instead of walking the path again per file.
  // For sources, which the import only reads; a directory replaced meanwhile keeps being read from
  // the one opened first (the import re-lists every directory at the end to detect such changes).
  bool reuse_read_dirs = false;
  // Local backend: make every write durable (fsync of the file and of its directory) before it is
  // reported done. False (`import --no-sync`): writes are still atomic (temp file + rename), so a
  // killed process leaves nothing half-written, but an operating-system crash may lose them.
  bool sync = true;
  int timeout_seconds = 60;      // per request (connect + transfer stall)
  // Remote backends: read the backend's environment variables (AWS_ACCESS_KEY_ID, AWS_REGION,
  // AZURE_STORAGE_KEY, ...; see s3_storage.h, azure_storage.h) as env_prefix + NAME, and only so:
  // with a prefix the plain names are not consulted (one side's credentials never reach the other).
  // "" = the plain names. --env-prefix, --source-env-prefix, --dest-env-prefix.
  std::string env_prefix;
};

// A random-access reader of one object, opened after checking it against what planning saw.
class RandomReader {
 public:
  virtual ~RandomReader() = default;
  virtual const ObjectInfo& info() const = 0;
  // Reads exactly [offset, offset+len) into out. Reading past the recorded size, a short read, or
  // a changed object (size/version differ from info()) is an error naming the object.
  virtual Status ReadAt(uint64_t offset, uint64_t len, uint8_t* out) = 0;
};

// The bytes of a new object being written. Write them to local_path(); Commit() makes the object
// visible under its name, complete and durable (local: fsync + rename + fsync dir; remote: upload
// as one complete object, multipart for large ones). Destroying an uncommitted StagedObject
// removes the partial bytes; a crash leaves at most a temp file that a rerun ignores.
class StagedObject {
 public:
  virtual ~StagedObject() = default;
  virtual const std::string& local_path() const = 0;
  virtual Status Commit() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The root as the user wrote it (credentials never included), and an object's full address,
  // for messages: "s3://bucket/prefix/pgdata/base/5/16384".
  virtual std::string Url() const = 0;
  virtual std::string Describe(std::string_view name) const = 0;
  virtual bool IsLocal() const { return false; }

  // One level below `dir` ("" for the root, otherwise a name ending in '/'). Paginates. A
  // directory that does not exist lists as empty (object stores have no directories).
  virtual Result<Listing> List(std::string_view dir) = 0;
  // Every object whose name starts with `prefix` (no delimiter).
  virtual Result<std::vector<ObjectInfo>> ListRecursive(std::string_view prefix) = 0;
  // kNotFound when absent.
  virtual Result<ObjectInfo> Stat(std::string_view name) = 0;
  // Opens for random reads. With `expect`, a size or version different from it is kSourceChanged.
  virtual Result<std::unique_ptr<RandomReader>> OpenReader(std::string_view name,
                                                           const ObjectInfo* expect = nullptr) = 0;
  // Whole object; refuses (kInvalidInput) objects larger than max_size without reading them.
  virtual Result<std::string> ReadAll(std::string_view name, uint64_t max_size) = 0;

  // Creates or replaces a small object atomically.
  virtual Status Put(std::string_view name, std::string_view data) = 0;
  // Creates the object only if no object of that name exists; kConflict otherwise. Used for the
  // destination lock/lease (see man page for the guarantees of each backend).
  virtual Status PutIfAbsent(std::string_view name, std::string_view data) = 0;
  virtual Result<std::unique_ptr<StagedObject>> Stage(std::string_view name) = 0;
  // Absent objects are not an error.
  virtual Status Delete(std::string_view name) = 0;
};

// "path/to/dir", "file:///abs", "s3://bucket[/prefix]", "az://account/container[/prefix]" or
// "https://<account>.blob.core.windows.net/<container>[/prefix]".
Result<std::unique_ptr<Storage>> OpenStorage(std::string_view url, const StorageOptions& opts);

// What one side (source or destination) of a command that reads one storage and writes or compares
// another sets for itself (--source-endpoint, --dest-region, --source-env-prefix, ...); "" = as
// the shared options say.
struct SideOverrides {
  std::string endpoint, region, env_prefix;
};

// `base` with the side's non-empty endpoint, region and environment prefix put in.
StorageOptions ForSide(StorageOptions base, const SideOverrides& side);

// An environment-variable prefix must be usable in a variable name: [A-Za-z0-9_]*, at most 64
// bytes. `flag` names it in the error.
Status CheckEnvPrefix(std::string_view prefix, std::string_view flag);

// Rejects empty names, leading '/', empty/"."/".." components, NUL and other control bytes,
// backslashes, and names longer than 1024 bytes. The error names the offending text.
Status ValidateObjectName(std::string_view name);
// a + "/" + b without doubling slashes ("" + b = b).
std::string JoinName(std::string_view a, std::string_view b);

}  // namespace p2l
