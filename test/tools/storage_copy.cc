// storage_copy: copies every object under one Storage URL to another, in parallel (integration
// tests: uploading a PGDATA to S3/Azure in the import layout, downloading a destination tree).
//
//   storage_copy [options] SRC_URL DST_URL
// Objects are listed with ListRecursive("") on SRC and written under the same names on DST:
// small ones with Put, larger ones (> 4 MiB) through Stage + Commit (block/multipart upload when
// the destination's threshold is passed). Endpoints and credentials come from the environment
// (AWS_ENDPOINT_URL, AZURE_STORAGE_ENDPOINT, AZURE_STORAGE_CONNECTION_STRING, ...).
// Options: --threads N (default 16) --follow-symlinks-in DIR (repeatable, for the source)
//          --tmp-dir DIR --multipart-threshold BYTES --part-size BYTES (destination)
// Prints "copied N objects, B bytes" on stderr. Errors: "storage_copy: MESSAGE", exit code
// ExitCodeFor(code).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/storage.h"
#include "util/status.h"

using namespace p2l;

namespace {

constexpr uint64_t kPutMax = 4 << 20;
constexpr uint64_t kChunk = 4 << 20;

int Fail(const Status& st) {
  std::fprintf(stderr, "storage_copy: %s\n", st.message().c_str());
  return ExitCodeFor(st.code());
}

Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::Io(path + ": write: " + std::strerror(errno));
    p += w;
    n -= size_t(w);
  }
  return Status::OK();
}

// Copies one object through a staged file, in kChunk ranged reads.
Status CopyStaged(Storage& src, Storage& dst, const ObjectInfo& o) {
  P2L_ASSIGN_OR_RETURN(std::unique_ptr<RandomReader> r, src.OpenReader(o.name, &o));
  P2L_ASSIGN_OR_RETURN(std::unique_ptr<StagedObject> staged, dst.Stage(o.name));
  const std::string& path = staged->local_path();
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return Status::Io(path + ": open: " + std::strerror(errno));
  std::vector<uint8_t> buf(size_t(std::min<uint64_t>(kChunk, o.size)));
  Status st;
  for (uint64_t off = 0; off < o.size && st.ok(); off += kChunk) {
    const uint64_t len = std::min<uint64_t>(kChunk, o.size - off);
    st = r->ReadAt(off, len, buf.data());
    if (st.ok()) st = WriteAll(fd, buf.data(), size_t(len), path);
  }
  if (::close(fd) != 0 && st.ok()) st = Status::Io(path + ": close: " + std::strerror(errno));
  P2L_RETURN_IF_ERROR(st);
  return staged->Commit();
}

}  // namespace

int main(int argc, char** argv) {
  StorageOptions src_opts, dst_opts;
  int threads = 16;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "storage_copy: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads") threads = std::max(1, std::stoi(val()));
    else if (a == "--follow-symlinks-in") src_opts.follow_symlinks_in.push_back(val());
    else if (a == "--tmp-dir") dst_opts.tmp_dir = val();
    else if (a == "--multipart-threshold") dst_opts.multipart_threshold = std::stoull(val());
    else if (a == "--part-size") dst_opts.part_size = std::stoull(val());
    else if (a.starts_with("--")) {
      std::fprintf(stderr, "storage_copy: unknown option %s\n", a.c_str());
      return 2;
    } else {
      pos.push_back(a);
    }
  }
  if (pos.size() != 2) {
    std::fprintf(stderr, "usage: storage_copy [options] SRC_URL DST_URL (see test/tools/storage_copy.cc)\n");
    return 2;
  }
  src_opts.concurrency = dst_opts.concurrency = threads;
  Result<std::unique_ptr<Storage>> src = OpenStorage(pos[0], src_opts);
  if (!src.ok()) return Fail(src.status());
  Result<std::unique_ptr<Storage>> dst = OpenStorage(pos[1], dst_opts);
  if (!dst.ok()) return Fail(dst.status());
  Result<std::vector<ObjectInfo>> objects = (*src)->ListRecursive("");
  if (!objects.ok()) return Fail(objects.status());

  std::atomic<size_t> next{0};
  std::atomic<uint64_t> bytes{0};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= objects->size()) return;
      const ObjectInfo& o = (*objects)[i];
      Status st;
      if (o.size <= kPutMax) {
        Result<std::string> data = (*src)->ReadAll(o.name, kPutMax);
        st = data.ok() ? (*dst)->Put(o.name, *data) : data.status();
      } else {
        st = CopyStaged(**src, **dst, o);
      }
      if (!st.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = st;
        next = objects->size();
        return;
      }
      bytes += o.size;
    }
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) ts.emplace_back(worker);
  for (auto& t : ts) t.join();
  if (!first.ok()) return Fail(first);
  std::fprintf(stderr, "storage_copy: copied %zu objects, %llu bytes\n", objects->size(),
               (unsigned long long)bytes.load());
  return 0;
}
