#include "storage/object_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

namespace p2l {

namespace {

constexpr uint64_t kMaxListPages = 1000000;

void SortByName(std::vector<ObjectInfo>* objects) {
  std::sort(objects->begin(), objects->end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
}

// A staged object of a remote store: a local temp file, uploaded on Commit, removed when destroyed.
class FileStagedObject : public StagedObject {
 public:
  FileStagedObject(ObjectStore* s, std::string name, std::string path)
      : s_(s), name_(std::move(name)), path_(std::move(path)) {}
  ~FileStagedObject() override { ::unlink(path_.c_str()); }
  const std::string& local_path() const override { return path_; }
  Status Commit() override {
    if (committed_) return Status::Internal(fmt::format("{}: committed twice", s_->Describe(name_)));
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Io(fmt::format("{}: open staged file: {}", path_, std::strerror(errno)));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      return Status::Io(fmt::format("{}: fstat: {}", path_, std::strerror(e)));
    }
    Status r = s_->UploadFile(name_, fd, uint64_t(st.st_size));
    ::close(fd);
    if (r.ok()) committed_ = true;
    return r;
  }

 private:
  ObjectStore* s_;
  std::string name_;
  std::string path_;
  bool committed_ = false;
};

class ObjectReader : public RandomReader {
 public:
  ObjectReader(ObjectStore* s, ObjectInfo info) : s_(s), info_(std::move(info)) {}
  const ObjectInfo& info() const override { return info_; }
  Status ReadAt(uint64_t offset, uint64_t len, uint8_t* out) override {
    if (offset > info_.size || len > info_.size - offset) {
      return Status::Internal(fmt::format("{}: read of [{}, +{}) past the size {}", s_->Describe(info_.name), offset,
                                          len, info_.size));
    }
    if (len == 0) return Status::OK();
    return s_->ReadRange(info_, offset, len, out);
  }

 private:
  ObjectStore* s_;
  ObjectInfo info_;
};

}  // namespace

uint64_t FitPartSize(uint64_t size, uint64_t part_size, uint64_t max_parts) {
  if ((size + part_size - 1) / part_size > max_parts) {
    part_size = ((size + max_parts - 1) / max_parts + (1 << 20) - 1) & ~uint64_t((1 << 20) - 1);
  }
  return part_size;
}

uint64_t PartCount(uint64_t size, uint64_t part_size) {
  return size == 0 ? 1 : (size + part_size - 1) / part_size;
}

// ---------------------------------------------------------------------------------------- ranged GET

void PrepareRangedGet(http::Request* req, std::string_view range_header, uint64_t offset, uint64_t len,
                      const std::string& version, uint8_t* out) {
  req->headers.Add(std::string(range_header), fmt::format("bytes={}-{}", offset, offset + len - 1));
  if (!version.empty()) req->headers.Add("If-Match", version);
  req->max_response_bytes = len;
  req->sink = [out, len](uint64_t off, const char* data, size_t n) -> Status {
    if (off > len || n > len - off) return Status::Internal("ranged GET sink overflow");
    std::memcpy(out + off, data, n);
    return Status::OK();
  };
}

Status CheckRangedAnswer(const http::Response& resp, uint64_t offset, uint64_t len, uint64_t size,
                         std::string_view what, bool say_changed) {
  if (resp.status == 206) {
    auto cr = resp.headers.Get("Content-Range");
    const std::string want = fmt::format("bytes {}-{}/{}", offset, offset + len - 1, size);
    if (!cr || *cr != want) {
      // A different total means the object changed size.
      const std::string got = cr ? std::string(*cr) : std::string("(missing)");
      return Status::SourceChanged(
          say_changed ? fmt::format("{}: changed since planning (Content-Range \"{}\", expected \"{}\")", what, got, want)
                      : fmt::format("{}: Content-Range \"{}\", expected \"{}\"", what, got, want));
    }
  } else if (!(resp.status == 200 && offset == 0 && len == size)) {
    return Status::Io(fmt::format("{}: HTTP {} to a ranged GET (expected 206 Partial Content)", what, resp.status));
  }
  if (resp.body_bytes != len) {
    return Status::Io(fmt::format("{}: ranged GET at offset {} returned {} bytes, expected {}", what, offset,
                                  resp.body_bytes, len));
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------- ObjectStore

ObjectStore::ObjectStore(std::string url, std::string_view prefix, const StorageOptions& opts, ObjectStoreWords words)
    : url_(std::move(url)),
      opts_(opts),
      root_(prefix.empty() ? "" : std::string(prefix) + "/"),
      words_(words) {
  http::HttpClientOptions ho;
  ho.concurrency = std::max(1, opts.concurrency);
  ho.max_bandwidth = opts.max_bandwidth;
  ho.timeout_seconds = opts.timeout_seconds > 0 ? opts.timeout_seconds : 60;
  ho.retry.max_retries = std::max(0, opts.max_retries);
  client_ = std::make_unique<http::HttpClient>(ho);
}

std::string ObjectStore::Describe(std::string_view name) const {
  return name.empty() ? url_ : url_ + "/" + std::string(name);
}

Result<http::Response> ObjectStore::Send(http::Request& req, std::string_view what) {
  Result<http::Response> r = client_->Execute(req);
  if (!r.ok()) return r.status().WithContext(what);
  return r;
}

Status ObjectStore::ListPages(std::string_view key_prefix, bool delimiter, std::string_view what,
                              std::vector<ObjectInfo>* objects, std::vector<std::string>* prefixes) {
  std::string token;
  std::set<std::string> seen_tokens;
  for (uint64_t page_no = 1;; page_no++) {
    if (page_no > kMaxListPages) {
      return Status::InvalidInput(fmt::format("{}: more than {} listing pages", what, kMaxListPages));
    }
    const std::string page_what = fmt::format("{} (listing page {})", what, page_no);
    P2L_ASSIGN_OR_RETURN(ObjectListPage page, ListPage(key_prefix, delimiter, token, page_what));
    for (ObjectInfo& o : page.objects) objects->push_back(std::move(o));
    if (prefixes != nullptr) {
      for (std::string& p : page.prefixes) prefixes->push_back(std::move(p));
    } else if (!page.prefixes.empty()) {
      return Status::InvalidInput(fmt::format("{}: {} in a listing without delimiter", page_what, words_.prefixes));
    }
    if (page.next.empty()) return Status::OK();
    if (!seen_tokens.insert(page.next).second) {
      return Status::InvalidInput(
          fmt::format("{}: the server repeated {} (listing loop)", page_what, words_.token));
    }
    token = std::move(page.next);
  }
}

// A listing names each object once (S3 and Azure list keys in strictly increasing order); a name
// seen twice means a broken or hostile server, and planning from it would import the object twice
// or mistake it for a missing one. `objects` is sorted.
Status ObjectStore::CheckNoDuplicates(const std::vector<ObjectInfo>& objects, std::string_view what) const {
  for (size_t i = 1; i < objects.size(); i++) {
    if (objects[i].name == objects[i - 1].name) {
      return Status::InvalidInput(
          fmt::format("{}: the listing returned \"{}\" twice", what, ShowName(objects[i].name)));
    }
  }
  return Status::OK();
}

Result<Listing> ObjectStore::List(std::string_view dir) {
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  if (!dir.empty()) P2L_RETURN_IF_ERROR(ValidateObjectName(dir).WithContext(url_));
  const std::string rel_dir = dir.empty() ? "" : std::string(dir) + "/";
  Listing l;
  std::vector<ObjectInfo> objects;
  std::vector<std::string> prefixes;
  P2L_RETURN_IF_ERROR(ListPages(root_ + rel_dir, true, Describe(rel_dir), &objects, &prefixes));
  for (ObjectInfo& o : objects) {
    std::string_view rest = std::string_view(o.name).substr(std::min(o.name.size(), rel_dir.size()));
    if (!o.name.starts_with(rel_dir) || rest.find('/') != std::string_view::npos) {
      return Status::InvalidInput(
          fmt::format("{}: listing returned \"{}\", not a direct child", Describe(rel_dir), ShowName(o.name)));
    }
    l.objects.push_back(std::move(o));
  }
  for (std::string& p : prefixes) {
    std::string_view rest = std::string_view(p).substr(std::min(p.size(), rel_dir.size()));
    if (!p.starts_with(rel_dir) || rest.size() < 2 || rest.find('/') != rest.size() - 1) {
      return Status::InvalidInput(
          fmt::format("{}: listing returned prefix \"{}\", not a direct child", Describe(rel_dir), ShowName(p)));
    }
    l.prefixes.push_back(std::move(p));
  }
  SortByName(&l.objects);
  P2L_RETURN_IF_ERROR(CheckNoDuplicates(l.objects, Describe(rel_dir)));
  std::sort(l.prefixes.begin(), l.prefixes.end());
  l.prefixes.erase(std::unique(l.prefixes.begin(), l.prefixes.end()), l.prefixes.end());
  return l;
}

Result<std::vector<ObjectInfo>> ObjectStore::ListRecursive(std::string_view prefix) {
  for (unsigned char c : prefix) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidInput(fmt::format("{}: control byte in listing prefix", url_));
  }
  std::vector<ObjectInfo> objects;
  P2L_RETURN_IF_ERROR(ListPages(root_ + std::string(prefix), false, Describe(prefix), &objects, nullptr));
  for (const ObjectInfo& o : objects) {
    if (!o.name.starts_with(prefix)) {
      return Status::InvalidInput(
          fmt::format("{}: listing returned \"{}\" outside the prefix", Describe(prefix), ShowName(o.name)));
    }
  }
  SortByName(&objects);
  P2L_RETURN_IF_ERROR(CheckNoDuplicates(objects, Describe(prefix)));
  return objects;
}

std::unique_ptr<RandomReader> ObjectStore::NewReader(ObjectInfo info) {
  return std::make_unique<ObjectReader>(this, std::move(info));
}

Result<std::string> ObjectStore::ReadAll(std::string_view name, uint64_t max_size) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  http::Request req = KeyRequest("GET", Key(name));
  req.max_response_bytes = max_size;
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (!http::Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  return std::move(resp.body);
}

Result<std::unique_ptr<StagedObject>> ObjectStore::Stage(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  std::string dir = opts_.tmp_dir;
  if (dir.empty()) {
    const char* t = std::getenv("TMPDIR");
    dir = t != nullptr && *t != '\0' ? t : "/tmp";
  }
  std::string tmpl = fmt::format("{}/p2l-{}-stage.XXXXXX", dir, words_.staging_tag);
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    return Status::Io(fmt::format("{}: cannot create a staging file in {}: {}", Describe(name), dir,
                                  std::strerror(errno)));
  }
  ::close(fd);
  return std::unique_ptr<StagedObject>(new FileStagedObject(this, std::string(name), tmpl));
}

}  // namespace p2l
