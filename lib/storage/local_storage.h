// LocalStorage: a Storage rooted at a local directory.
//
// * Listings are one readdir per directory, objects sorted by name bytes, sub-directories as
//   prefixes. A name from readdir that fails ValidateObjectName is an error (kInvalidInput).
// * Symbolic links: only entries directly inside a directory named in
//   StorageOptions::follow_symlinks_in (e.g. "pg_tblspc/") are followed, and only when they point
//   to a directory; any other symlink is kInvalidInput naming it. A followed link that leads back
//   to a directory already on the path (dev/ino) is a loop: kInvalidInput.
// * Versions are "<mtime_ns>-<inode>". Readers use pread on one fd (posix_fadvise SEQUENTIAL) and
//   re-check size/version with fstat every kStatEvery reads and on the read that reaches the end.
// * Writes are atomic and durable: temp file "<name>.<random>.___temp" in the destination
//   directory, fsync, rename (or link() for PutIfAbsent), fsync of the directory. Without
//   StorageOptions::sync the fsyncs are left out: still atomic, no longer durable.
#pragma once

#include <sys/stat.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"

namespace p2l {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_ = -1;
};

// "<mtime_ns>-<inode>"
std::string LocalFileVersion(const struct stat& st);

class LocalStorage : public Storage {
 public:
  // `url` is what the user wrote (for Url()); `root` the directory path.
  LocalStorage(std::string url, std::string root, const StorageOptions& opts);

  std::string Url() const override { return url_; }
  std::string Describe(std::string_view name) const override;
  bool IsLocal() const override { return true; }

  Result<Listing> List(std::string_view dir) override;
  Result<std::vector<ObjectInfo>> ListRecursive(std::string_view prefix) override;
  Result<ObjectInfo> Stat(std::string_view name) override;
  Result<std::unique_ptr<RandomReader>> OpenReader(std::string_view name,
                                                   const ObjectInfo* expect = nullptr) override;
  Result<std::string> ReadAll(std::string_view name, uint64_t max_size) override;
  Status Put(std::string_view name, std::string_view data) override;
  Status PutIfAbsent(std::string_view name, std::string_view data) override;
  Result<std::unique_ptr<StagedObject>> Stage(std::string_view name) override;
  Status Delete(std::string_view name) override;

  const std::string& root() const { return root_; }

 private:
  struct DirId {
    dev_t dev;
    ino_t ino;
  };
  // Opens directory `dir` ("" = root; no trailing '/') applying the symlink policy. With
  // `create`, missing directories (and the root) are created. kNotFound when absent.
  // `path_ids` receives the dev/ino of each directory from the root to `dir`.
  Result<UniqueFd> OpenDir(std::string_view dir, bool create, std::vector<DirId>* path_ids = nullptr);
  // Opens entry `comp` (a directory) of the directory `parent_name` (fd `parent`), applying the
  // symlink policy; a directory already in `path_ids` is a loop, otherwise its id is appended.
  Result<UniqueFd> OpenSubdir(int parent, std::string_view parent_name, std::string_view comp,
                              std::vector<DirId>* path_ids);
  bool FollowsLinksIn(std::string_view dir) const;
  // Splits a validated object name into its directory ("" for the root) and base name.
  static void SplitName(std::string_view name, std::string_view* dir, std::string_view* base);
  // Lists one opened directory `dir` (fd consumed) into objects/prefixes; with `recurse_into`
  // the sub-directories are returned with their ids for the recursion.
  struct Entry {
    std::string name;  // full name relative to root
    bool is_dir = false;
    ObjectInfo info;
  };
  Result<std::vector<Entry>> ReadDirectory(UniqueFd fd, std::string_view dir);
  Status ListRecursiveInto(std::string_view dir, std::string_view prefix, std::vector<DirId>* path_ids,
                           std::vector<ObjectInfo>* out);
  // Writes `data` to a fresh temp file next to `name`; returns the dir fd and temp base name.
  Status WriteTemp(std::string_view name, std::string_view data, UniqueFd* dir_fd, std::string* tmp_base);

  // OpenDir for readers: with StorageOptions::reuse_read_dirs, from the cache below.
  Result<std::shared_ptr<UniqueFd>> DirForReading(std::string_view dir);

  std::string url_;
  std::string root_;
  std::vector<std::string> follow_in_;  // directory names without trailing '/'
  const bool reuse_read_dirs_;
  const bool sync_;   // StorageOptions::sync
  std::mutex dirs_mu_;
  std::map<std::string, std::shared_ptr<UniqueFd>, std::less<>> read_dirs_;   // at most kMaxReadDirs
};

}  // namespace p2l
