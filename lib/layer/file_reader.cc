#include "layer/file_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace p2l {

namespace {

class LocalFileReader : public RandomReader {
 public:
  LocalFileReader(int fd, ObjectInfo info) : fd_(fd), info_(std::move(info)) {}
  ~LocalFileReader() override { ::close(fd_); }
  const ObjectInfo& info() const override { return info_; }

  Status ReadAt(uint64_t offset, uint64_t len, uint8_t* out) override {
    if (offset > info_.size || len > info_.size - offset) {
      return Status::InvalidInput(fmt::format("{}: read of {} bytes at offset {} past the end ({} "
                                              "bytes)",
                                              info_.name, len, offset, info_.size));
    }
    while (len > 0) {
      ssize_t r = ::pread(fd_, out, len, off_t(offset));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::Io(fmt::format("{}: read at offset {} failed: {}", info_.name, offset,
                                      std::strerror(errno)));
      }
      if (r == 0) {
        return Status::SourceChanged(fmt::format(
            "{}: file ended at offset {}, before its recorded size {} (changed while reading)",
            info_.name, offset, info_.size));
      }
      out += r;
      offset += uint64_t(r);
      len -= uint64_t(r);
    }
    return Status::OK();
  }

 private:
  int fd_;
  ObjectInfo info_;
};

}  // namespace

Result<std::unique_ptr<RandomReader>> OpenLocalFileReader(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string msg = fmt::format("{}: cannot open: {}", path, std::strerror(e));
    if (e == ENOENT) return Status::NotFound(msg);
    return Status::Io(msg);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Status::Io(fmt::format("{}: fstat failed: {}", path, std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidInput(fmt::format("{}: not a regular file", path));
  }
  ObjectInfo info;
  info.name = path;
  info.size = uint64_t(st.st_size);
  info.version = fmt::format("{}-{}",
                             int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                             uint64_t(st.st_ino));
  return std::unique_ptr<RandomReader>(new LocalFileReader(fd, std::move(info)));
}

}  // namespace p2l
