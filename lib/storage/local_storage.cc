#include "storage/local_storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>

#include "storage/backends.h"

namespace p2l {

namespace {

constexpr const char* kTempSuffix = ".___temp";
// Re-check size/version every this many ReadAt calls (and on the read that reaches the end).
constexpr uint64_t kStatEvery = 16;

std::string Errno(int e) { return std::strerror(e); }

std::string RandomHex() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

Status WriteAllFd(int fd, std::string_view data, const std::string& what) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, std::min<size_t>(left, 1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Io(fmt::format("{}: write: {}", what, n < 0 ? Errno(errno) : "no progress"));
    p += n;
    left -= size_t(n);
  }
  return Status::OK();
}

// fsync(fd) unless `sync` is false (StorageOptions::sync).
Status FsyncFd(bool sync, int fd, const std::string& what) {
  if (sync && ::fsync(fd) != 0) return Status::Io(fmt::format("{}: fsync: {}", what, Errno(errno)));
  return Status::OK();
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

std::string LocalFileVersion(const struct stat& st) {
  const uint64_t ns = uint64_t(st.st_mtim.tv_sec) * 1000000000ull + uint64_t(st.st_mtim.tv_nsec);
  return fmt::format("{}-{}", ns, uint64_t(st.st_ino));
}

Result<std::unique_ptr<Storage>> OpenLocalStorage(std::string_view url, std::string_view dir,
                                                  const StorageOptions& opts) {
  std::string root(dir);
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty()) return Status::Usage("empty local directory path");
  return std::unique_ptr<Storage>(new LocalStorage(std::string(url), root, opts));
}

LocalStorage::LocalStorage(std::string url, std::string root, const StorageOptions& opts)
    : url_(std::move(url)), root_(std::move(root)), reuse_read_dirs_(opts.reuse_read_dirs), sync_(opts.sync) {
  for (std::string d : opts.follow_symlinks_in) {
    while (!d.empty() && d.back() == '/') d.pop_back();
    follow_in_.push_back(d);
  }
}

std::string LocalStorage::Describe(std::string_view name) const {
  if (name.empty()) return root_;
  return root_ == "/" ? "/" + std::string(name) : root_ + "/" + std::string(name);
}

bool LocalStorage::FollowsLinksIn(std::string_view dir) const {
  return std::find(follow_in_.begin(), follow_in_.end(), dir) != follow_in_.end();
}

void LocalStorage::SplitName(std::string_view name, std::string_view* dir, std::string_view* base) {
  size_t slash = name.rfind('/');
  if (slash == std::string_view::npos) {
    *dir = std::string_view();
    *base = name;
  } else {
    *dir = name.substr(0, slash);
    *base = name.substr(slash + 1);
  }
}

// ---------------------------------------------------------------------------------------- walking

Result<UniqueFd> LocalStorage::OpenSubdir(int parent, std::string_view parent_name, std::string_view comp,
                                          std::vector<DirId>* path_ids) {
  const std::string full = JoinName(parent_name, comp);
  const std::string c(comp);
  int fd = ::openat(parent, c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  // On a symlink, O_NOFOLLOW gives ELOOP, or ENOTDIR together with O_DIRECTORY (Linux).
  const int open_err = fd < 0 ? errno : 0;
  bool is_link = false;
  if (fd < 0 && (open_err == ELOOP || open_err == ENOTDIR)) {
    struct stat lst;
    is_link = ::fstatat(parent, c.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode);
  }
  if (is_link) {
    // A symbolic link: followed only directly inside the configured directories.
    if (!FollowsLinksIn(parent_name)) {
      return Status::InvalidInput(fmt::format(
          "{}: is a symbolic link; symbolic links are only followed directly inside {}", Describe(full),
          follow_in_.empty() ? std::string("no directory") : fmt::format("{}/", fmt::join(follow_in_, "/, "))));
    }
    fd = ::openat(parent, c.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      if (e == ENOTDIR) {
        return Status::InvalidInput(fmt::format("{}: symbolic link does not point to a directory", Describe(full)));
      }
      if (e == ENOENT) return Status::InvalidInput(fmt::format("{}: dangling symbolic link", Describe(full)));
      if (e == ELOOP) return Status::InvalidInput(fmt::format("{}: symbolic link loop", Describe(full)));
      return Status::Io(fmt::format("{}: {}", Describe(full), Errno(e)));
    }
  } else if (fd < 0) {
    const int e = open_err;
    if (e == ENOENT) return Status::NotFound(fmt::format("{}: no such directory", Describe(full)));
    if (e == ENOTDIR) return Status::NotFound(fmt::format("{}: not a directory", Describe(full)));
    return Status::Io(fmt::format("{}: {}", Describe(full), Errno(e)));
  }
  UniqueFd ufd(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Io(fmt::format("{}: fstat: {}", Describe(full), Errno(errno)));
  for (const DirId& id : *path_ids) {
    if (id.dev == st.st_dev && id.ino == st.st_ino) {
      return Status::InvalidInput(
          fmt::format("{}: symbolic link loop (leads back to a directory on its own path)", Describe(full)));
    }
  }
  path_ids->push_back({st.st_dev, st.st_ino});
  return ufd;
}

Result<UniqueFd> LocalStorage::OpenDir(std::string_view dir, bool create, std::vector<DirId>* path_ids) {
  std::vector<DirId> local_ids;
  std::vector<DirId>& ids = path_ids ? *path_ids : local_ids;
  ids.clear();
  int rfd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0 && errno == ENOENT && create) {
    // Create the root (mkdir -p).
    std::string p;
    size_t pos = 0;
    while (pos <= root_.size()) {
      size_t next = root_.find('/', pos);
      if (next == std::string::npos) next = root_.size();
      p = root_.substr(0, next);
      if (!p.empty() && ::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::Io(fmt::format("{}: mkdir: {}", p, Errno(errno)));
      }
      pos = next + 1;
    }
    rfd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (rfd < 0) {
    const int e = errno;
    if (e == ENOENT) return Status::NotFound(fmt::format("{}: no such directory", root_));
    return Status::Io(fmt::format("{}: {}", root_, Errno(e)));
  }
  UniqueFd cur(rfd);
  struct stat st;
  if (::fstat(cur.get(), &st) != 0) return Status::Io(fmt::format("{}: fstat: {}", root_, Errno(errno)));
  ids.push_back({st.st_dev, st.st_ino});
  if (dir.empty()) return cur;
  size_t pos = 0;
  while (pos <= dir.size()) {
    size_t next = dir.find('/', pos);
    if (next == std::string_view::npos) next = dir.size();
    std::string_view parent = dir.substr(0, pos == 0 ? 0 : pos - 1);
    std::string_view comp = dir.substr(pos, next - pos);
    Result<UniqueFd> sub = OpenSubdir(cur.get(), parent, comp, &ids);
    if (!sub.ok() && sub.status().IsNotFound() && create) {
      const std::string c(comp);
      if (::mkdirat(cur.get(), c.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::Io(fmt::format("{}: mkdir: {}", Describe(dir.substr(0, next)), Errno(errno)));
      }
      // Make the new directory entry durable.
      P2L_RETURN_IF_ERROR(FsyncFd(sync_, cur.get(), Describe(parent)));
      sub = OpenSubdir(cur.get(), parent, comp, &ids);
    }
    if (!sub.ok()) return sub.status();
    cur = std::move(sub).value();   // OpenSubdir appended its dev/ino to ids
    pos = next + 1;
  }
  return cur;
}

// ---------------------------------------------------------------------------------------- listing

Result<std::vector<LocalStorage::Entry>> LocalStorage::ReadDirectory(UniqueFd fd, std::string_view dir) {
  const int dfd = fd.get();
  // fdopendir takes the fd; keep our own for fstatat.
  int dup_fd = ::fcntl(dfd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return Status::Io(fmt::format("{}: dup: {}", Describe(dir), Errno(errno)));
  DIR* d = ::fdopendir(dup_fd);
  if (d == nullptr) {
    ::close(dup_fd);
    return Status::Io(fmt::format("{}: opendir: {}", Describe(dir), Errno(errno)));
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, &::closedir);
  std::vector<Entry> out;
  const bool follow = FollowsLinksIn(dir);
  for (;;) {
    errno = 0;
    struct dirent* de = ::readdir(d);
    if (de == nullptr) {
      if (errno != 0) return Status::Io(fmt::format("{}: readdir: {}", Describe(dir), Errno(errno)));
      break;
    }
    std::string_view base(de->d_name);
    if (base == "." || base == "..") continue;
    Entry e;
    e.name = JoinName(dir, base);
    Status vs = ValidateObjectName(e.name);
    if (!vs.ok()) return vs.WithContext(Describe(dir));
    struct stat st;
    if (::fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // vanished while listing
      return Status::Io(fmt::format("{}: stat: {}", Describe(e.name), Errno(errno)));
    }
    if (S_ISLNK(st.st_mode)) {
      if (!follow) {
        return Status::InvalidInput(fmt::format(
            "{}: is a symbolic link; symbolic links are only followed directly inside {}", Describe(e.name),
            follow_in_.empty() ? std::string("no directory") : fmt::format("{}/", fmt::join(follow_in_, "/, "))));
      }
      if (::fstatat(dfd, de->d_name, &st, 0) != 0) {
        const int err = errno;
        if (err == ENOENT) return Status::InvalidInput(fmt::format("{}: dangling symbolic link", Describe(e.name)));
        if (err == ELOOP) return Status::InvalidInput(fmt::format("{}: symbolic link loop", Describe(e.name)));
        return Status::Io(fmt::format("{}: stat: {}", Describe(e.name), Errno(err)));
      }
      if (!S_ISDIR(st.st_mode)) {
        return Status::InvalidInput(fmt::format("{}: symbolic link does not point to a directory", Describe(e.name)));
      }
    }
    if (S_ISDIR(st.st_mode)) {
      e.is_dir = true;
    } else if (S_ISREG(st.st_mode)) {
      e.info.name = e.name;
      e.info.size = uint64_t(st.st_size);
      e.info.version = LocalFileVersion(st);
    } else {
      return Status::InvalidInput(
          fmt::format("{}: not a regular file or directory (mode {:o})", Describe(e.name), unsigned(st.st_mode)));
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

Result<Listing> LocalStorage::List(std::string_view dir) {
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  if (!dir.empty()) P2L_RETURN_IF_ERROR(ValidateObjectName(dir).WithContext(Describe("")));
  Result<UniqueFd> fd = OpenDir(dir, false);
  if (!fd.ok()) {
    if (fd.status().IsNotFound()) return Listing{};
    return fd.status();
  }
  P2L_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadDirectory(std::move(fd).value(), dir));
  Listing l;
  for (Entry& e : entries) {
    if (e.is_dir) {
      l.prefixes.push_back(e.name + "/");
    } else {
      l.objects.push_back(std::move(e.info));
    }
  }
  return l;
}

Status LocalStorage::ListRecursiveInto(std::string_view dir, std::string_view prefix,
                                       std::vector<DirId>* path_ids, std::vector<ObjectInfo>* out) {
  Result<UniqueFd> fd = OpenDir(dir, false, path_ids);
  if (!fd.ok()) {
    if (fd.status().IsNotFound()) return Status::OK();
    return fd.status();
  }
  P2L_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadDirectory(std::move(fd).value(), dir));
  for (Entry& e : entries) {
    // Only names that can still match the prefix: "e.name" starts with prefix, or (directories)
    // prefix starts with "e.name/".
    if (e.is_dir) {
      const std::string as_dir = e.name + "/";
      if (!(std::string_view(as_dir).starts_with(prefix) || prefix.starts_with(as_dir))) continue;
      P2L_RETURN_IF_ERROR(ListRecursiveInto(e.name, prefix, path_ids, out));
    } else if (std::string_view(e.name).starts_with(prefix)) {
      out->push_back(std::move(e.info));
    }
  }
  return Status::OK();
}

Result<std::vector<ObjectInfo>> LocalStorage::ListRecursive(std::string_view prefix) {
  // Start at the deepest directory that the prefix names completely.
  std::string_view dir;
  size_t slash = prefix.rfind('/');
  if (slash != std::string_view::npos) dir = prefix.substr(0, slash);
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  if (!dir.empty()) P2L_RETURN_IF_ERROR(ValidateObjectName(dir).WithContext(Describe("")));
  std::vector<ObjectInfo> out;
  std::vector<DirId> ids;
  P2L_RETURN_IF_ERROR(ListRecursiveInto(dir, prefix, &ids, &out));
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return out;
}

// ---------------------------------------------------------------------------------------- reading

Result<ObjectInfo> LocalStorage::Stat(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(Describe("")));
  std::string_view dir, base;
  SplitName(name, &dir, &base);
  Result<UniqueFd> dfd = OpenDir(dir, false);
  if (!dfd.ok()) {
    if (dfd.status().IsNotFound()) return Status::NotFound(fmt::format("{}: no such file", Describe(name)));
    return dfd.status();
  }
  struct stat st;
  const std::string b(base);
  if (::fstatat(dfd->get(), b.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::NotFound(fmt::format("{}: no such file", Describe(name)));
    return Status::Io(fmt::format("{}: stat: {}", Describe(name), Errno(errno)));
  }
  if (S_ISLNK(st.st_mode)) {
    return Status::InvalidInput(fmt::format("{}: is a symbolic link, not a regular file", Describe(name)));
  }
  if (!S_ISREG(st.st_mode)) return Status::NotFound(fmt::format("{}: not a regular file", Describe(name)));
  return ObjectInfo{std::string(name), uint64_t(st.st_size), LocalFileVersion(st)};
}

namespace {

class LocalReader : public RandomReader {
 public:
  LocalReader(UniqueFd fd, ObjectInfo info, std::string path)
      : fd_(std::move(fd)), info_(std::move(info)), path_(std::move(path)) {}
  const ObjectInfo& info() const override { return info_; }

  Status ReadAt(uint64_t offset, uint64_t len, uint8_t* out) override {
    if (offset > info_.size || len > info_.size - offset) {
      return Status::Internal(fmt::format("{}: read of [{}, +{}) past the size {}", path_, offset, len, info_.size));
    }
    uint64_t done = 0;
    while (done < len) {
      const size_t chunk = size_t(std::min<uint64_t>(len - done, 1u << 30));
      ssize_t n = ::pread(fd_.get(), out + done, chunk, off_t(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Io(fmt::format("{}: read at offset {}: {}", path_, offset + done, Errno(errno)));
      if (n == 0) {
        return Status::SourceChanged(fmt::format("{}: file shrank while reading: end of file at offset {}, expected {} bytes",
                                                 path_, offset + done, info_.size));
      }
      done += uint64_t(n);
    }
    const uint64_t k = reads_.fetch_add(1, std::memory_order_relaxed);
    if (k % kStatEvery == kStatEvery - 1 || offset + len == info_.size) return Recheck();
    return Status::OK();
  }

  Status Recheck() {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return Status::Io(fmt::format("{}: fstat: {}", path_, Errno(errno)));
    const std::string v = LocalFileVersion(st);
    if (uint64_t(st.st_size) != info_.size || v != info_.version) {
      return Status::SourceChanged(fmt::format("{}: file changed while reading (size {} -> {}, version {} -> {})",
                                               path_, info_.size, uint64_t(st.st_size), info_.version, v));
    }
    return Status::OK();
  }

 private:
  UniqueFd fd_;
  ObjectInfo info_;
  std::string path_;
  std::atomic<uint64_t> reads_{0};
};

}  // namespace

Result<std::shared_ptr<UniqueFd>> LocalStorage::DirForReading(std::string_view dir) {
  constexpr size_t kMaxReadDirs = 256;
  if (reuse_read_dirs_) {
    std::lock_guard<std::mutex> g(dirs_mu_);
    auto it = read_dirs_.find(dir);
    if (it != read_dirs_.end()) return it->second;
  }
  P2L_ASSIGN_OR_RETURN(UniqueFd fd, OpenDir(dir, false));
  auto shared = std::make_shared<UniqueFd>(std::move(fd));
  if (reuse_read_dirs_) {
    std::lock_guard<std::mutex> g(dirs_mu_);
    if (read_dirs_.size() >= kMaxReadDirs) read_dirs_.clear();   // bounded: readers hold their own refs
    read_dirs_.emplace(std::string(dir), shared);
  }
  return shared;
}

Result<std::unique_ptr<RandomReader>> LocalStorage::OpenReader(std::string_view name, const ObjectInfo* expect) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(Describe("")));
  std::string_view dir, base;
  SplitName(name, &dir, &base);
  Result<std::shared_ptr<UniqueFd>> dfd = DirForReading(dir);
  if (!dfd.ok()) {
    if (dfd.status().IsNotFound()) {
      if (expect != nullptr) return Status::SourceChanged(fmt::format("{}: file disappeared since planning", Describe(name)));
      return Status::NotFound(fmt::format("{}: no such file", Describe(name)));
    }
    return dfd.status();
  }
  const std::string b(base);
  int fd = ::openat((*dfd)->get(), b.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) {
      if (expect != nullptr) return Status::SourceChanged(fmt::format("{}: file disappeared since planning", Describe(name)));
      return Status::NotFound(fmt::format("{}: no such file", Describe(name)));
    }
    if (e == ELOOP) return Status::InvalidInput(fmt::format("{}: is a symbolic link, not a regular file", Describe(name)));
    return Status::Io(fmt::format("{}: open: {}", Describe(name), Errno(e)));
  }
  UniqueFd ufd(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Io(fmt::format("{}: fstat: {}", Describe(name), Errno(errno)));
  if (!S_ISREG(st.st_mode)) return Status::InvalidInput(fmt::format("{}: not a regular file", Describe(name)));
  ObjectInfo info{std::string(name), uint64_t(st.st_size), LocalFileVersion(st)};
  if (expect != nullptr) {
    if (expect->size != info.size || (!expect->version.empty() && expect->version != info.version)) {
      return Status::SourceChanged(fmt::format("{}: changed since planning (size {} -> {}, version {} -> {})",
                                               Describe(name), expect->size, info.size, expect->version,
                                               info.version));
    }
  }
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<RandomReader>(new LocalReader(std::move(ufd), std::move(info), Describe(name)));
}

Result<std::string> LocalStorage::ReadAll(std::string_view name, uint64_t max_size) {
  P2L_ASSIGN_OR_RETURN(auto reader, OpenReader(name));
  const uint64_t size = reader->info().size;
  if (size > max_size) {
    return Status::InvalidInput(fmt::format("{}: {} bytes is larger than the {} bytes allowed", Describe(name),
                                            size, max_size));
  }
  std::string out(size_t(size), '\0');
  if (size > 0) P2L_RETURN_IF_ERROR(reader->ReadAt(0, size, reinterpret_cast<uint8_t*>(out.data())));
  return out;
}

// ---------------------------------------------------------------------------------------- writing

Status LocalStorage::WriteTemp(std::string_view name, std::string_view data, UniqueFd* dir_fd, std::string* tmp_base) {
  std::string_view dir, base;
  SplitName(name, &dir, &base);
  P2L_ASSIGN_OR_RETURN(*dir_fd, OpenDir(dir, true));
  *tmp_base = fmt::format("{}.{}{}", base, RandomHex(), kTempSuffix);
  const std::string what = Describe(JoinName(dir, *tmp_base));
  int fd = ::openat(dir_fd->get(), tmp_base->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Io(fmt::format("{}: create: {}", what, Errno(errno)));
  UniqueFd f(fd);
  Status st = WriteAllFd(fd, data, what);
  if (st.ok()) st = FsyncFd(sync_, fd, what);
  if (!st.ok()) ::unlinkat(dir_fd->get(), tmp_base->c_str(), 0);
  return st;
}

Status LocalStorage::Put(std::string_view name, std::string_view data) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(Describe("")));
  UniqueFd dfd;
  std::string tmp;
  P2L_RETURN_IF_ERROR(WriteTemp(name, data, &dfd, &tmp));
  std::string_view dir, base;
  SplitName(name, &dir, &base);
  const std::string b(base);
  if (::renameat(dfd.get(), tmp.c_str(), dfd.get(), b.c_str()) != 0) {
    const int e = errno;
    ::unlinkat(dfd.get(), tmp.c_str(), 0);
    return Status::Io(fmt::format("{}: rename: {}", Describe(name), Errno(e)));
  }
  return FsyncFd(sync_, dfd.get(), Describe(dir));
}

Status LocalStorage::PutIfAbsent(std::string_view name, std::string_view data) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(Describe("")));
  UniqueFd dfd;
  std::string tmp;
  P2L_RETURN_IF_ERROR(WriteTemp(name, data, &dfd, &tmp));
  std::string_view dir, base;
  SplitName(name, &dir, &base);
  const std::string b(base);
  // link() fails with EEXIST atomically if the name exists; the content is complete when visible.
  const int rc = ::linkat(dfd.get(), tmp.c_str(), dfd.get(), b.c_str(), 0);
  const int e = errno;
  ::unlinkat(dfd.get(), tmp.c_str(), 0);
  if (rc != 0) {
    if (e == EEXIST) return Status::Conflict(fmt::format("{}: already exists", Describe(name)));
    return Status::Io(fmt::format("{}: link: {}", Describe(name), Errno(e)));
  }
  return FsyncFd(sync_, dfd.get(), Describe(dir));
}

namespace {

class LocalStaged : public StagedObject {
 public:
  LocalStaged(bool sync, UniqueFd dir_fd, std::string dir_desc, std::string tmp_base, std::string final_base,
              std::string local_path, std::string final_desc)
      : sync_(sync),
        dir_fd_(std::move(dir_fd)),
        dir_desc_(std::move(dir_desc)),
        tmp_base_(std::move(tmp_base)),
        final_base_(std::move(final_base)),
        local_path_(std::move(local_path)),
        final_desc_(std::move(final_desc)) {}
  ~LocalStaged() override {
    if (!committed_) ::unlinkat(dir_fd_.get(), tmp_base_.c_str(), 0);
  }
  const std::string& local_path() const override { return local_path_; }

  Status Commit() override {
    if (committed_) return Status::Internal(fmt::format("{}: committed twice", final_desc_));
    if (sync_) {
      int fd = ::openat(dir_fd_.get(), tmp_base_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return Status::Io(fmt::format("{}: open for fsync: {}", local_path_, Errno(errno)));
      UniqueFd f(fd);
      P2L_RETURN_IF_ERROR(FsyncFd(true, fd, local_path_));
    }
    if (::renameat(dir_fd_.get(), tmp_base_.c_str(), dir_fd_.get(), final_base_.c_str()) != 0) {
      return Status::Io(fmt::format("{}: rename to {}: {}", local_path_, final_desc_, Errno(errno)));
    }
    committed_ = true;
    return FsyncFd(sync_, dir_fd_.get(), dir_desc_);
  }

 private:
  const bool sync_;
  UniqueFd dir_fd_;
  std::string dir_desc_, tmp_base_, final_base_, local_path_, final_desc_;
  bool committed_ = false;
};

}  // namespace

Result<std::unique_ptr<StagedObject>> LocalStorage::Stage(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(Describe("")));
  std::string_view dir, base;
  SplitName(name, &dir, &base);
  P2L_ASSIGN_OR_RETURN(UniqueFd dfd, OpenDir(dir, true));
  std::string tmp = fmt::format("{}.{}{}", base, RandomHex(), kTempSuffix);
  int fd = ::openat(dfd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Io(fmt::format("{}: create: {}", Describe(JoinName(dir, tmp)), Errno(errno)));
  ::close(fd);
  return std::unique_ptr<StagedObject>(new LocalStaged(sync_, std::move(dfd), Describe(dir), tmp, std::string(base),
                                                       Describe(JoinName(dir, tmp)), Describe(name)));
}

Status LocalStorage::Delete(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(Describe("")));
  std::string_view dir, base;
  SplitName(name, &dir, &base);
  Result<UniqueFd> dfd = OpenDir(dir, false);
  if (!dfd.ok()) return dfd.status().IsNotFound() ? Status::OK() : dfd.status();
  const std::string b(base);
  if (::unlinkat(dfd->get(), b.c_str(), 0) != 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::Io(fmt::format("{}: unlink: {}", Describe(name), Errno(errno)));
  }
  return FsyncFd(sync_, dfd->get(), Describe(dir));
}

}  // namespace p2l
