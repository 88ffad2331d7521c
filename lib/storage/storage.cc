// OpenStorage (URL dispatch), ValidateObjectName, JoinName.
#include "storage/storage.h"

#include <fmt/format.h>

#include "storage/backends.h"

#if __has_include("storage/azure_storage.h")
#define P2L_HAVE_AZURE 1
#else
#define P2L_HAVE_AZURE 0
#endif

namespace p2l {

namespace {

// Printable form of a name for messages: control bytes and backslashes as \xNN.
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(char(c));
    }
  }
  if (s.size() > 200) out += "...";
  return out;
}

// S3 bucket names: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit.
bool ValidBucketName(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return alnum(b.front()) && alnum(b.back());
}

}  // namespace

Status ValidateObjectName(std::string_view name) {
  if (name.empty()) return Status::InvalidInput("invalid object name: empty");
  if (name.size() > 1024) {
    return Status::InvalidInput(
        fmt::format("invalid object name \"{}\": {} bytes is longer than 1024", Printable(name), name.size()));
  }
  if (name.front() == '/') {
    return Status::InvalidInput(fmt::format("invalid object name \"{}\": absolute", Printable(name)));
  }
  for (size_t i = 0; i < name.size(); i++) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidInput(fmt::format("invalid object name \"{}\": control byte 0x{:02x} at offset {}",
                                              Printable(name), c, i));
    }
    if (c == '\\') {
      return Status::InvalidInput(
          fmt::format("invalid object name \"{}\": backslash at offset {}", Printable(name), i));
    }
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view comp = name.substr(start, end - start);
    if (comp.empty()) {
      return Status::InvalidInput(
          fmt::format("invalid object name \"{}\": empty path component at offset {}", Printable(name), start));
    }
    if (comp == "." || comp == "..") {
      return Status::InvalidInput(
          fmt::format("invalid object name \"{}\": \"{}\" component", Printable(name), comp));
    }
    start = end + 1;
  }
  return Status::OK();
}

std::string JoinName(std::string_view a, std::string_view b) {
  while (!a.empty() && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out;
  out.reserve(a.size() + 1 + b.size());
  out.append(a);
  out.push_back('/');
  out.append(b);
  return out;
}

Result<StorageUrl> ParseStorageUrl(std::string_view url) {
  StorageUrl u;
  if (url.empty()) return Status::Usage("empty storage location");
  if (url.starts_with("s3://")) {
    std::string_view rest = url.substr(5);
    size_t slash = rest.find('/');
    std::string_view bucket = rest.substr(0, slash);
    std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (!ValidBucketName(bucket)) {
      return Status::Usage(fmt::format("{}: invalid S3 bucket name \"{}\" (3-63 of a-z 0-9 . -)",
                                       Printable(url), Printable(bucket)));
    }
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (!prefix.empty()) {
      Status st = ValidateObjectName(prefix);
      if (!st.ok()) return Status::Usage(fmt::format("{}: bad prefix: {}", Printable(url), st.message()));
    }
    u.kind = StorageUrl::Kind::kS3;
    u.bucket = std::string(bucket);
    u.prefix = std::string(prefix);
    return u;
  }
  if (url.starts_with("az://")) {
    u.kind = StorageUrl::Kind::kAzure;
    return u;
  }
  if (url.starts_with("https://") || url.starts_with("http://")) {
    std::string_view rest = url.substr(url.find("://") + 3);
    std::string_view host = rest.substr(0, rest.find('/'));
    if (host.ends_with(".blob.core.windows.net")) {
      u.kind = StorageUrl::Kind::kAzure;
      return u;
    }
    return Status::Usage(fmt::format(
        "{}: unsupported URL (use a local path, file:///path, s3://bucket/prefix, az://account/container/prefix "
        "or https://ACCOUNT.blob.core.windows.net/container/prefix; for an S3-compatible endpoint use "
        "s3://bucket with --endpoint)",
        Printable(url)));
  }
  if (url.starts_with("file://")) {
    std::string_view path = url.substr(7);
    if (path.empty() || path.front() != '/') {
      return Status::Usage(fmt::format("{}: file URLs must be file:///absolute/path", Printable(url)));
    }
    u.path = std::string(path);
    return u;
  }
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos && url.find('/') > scheme) {
    return Status::Usage(fmt::format("{}: unsupported URL scheme \"{}\"", Printable(url), url.substr(0, scheme)));
  }
  for (unsigned char c : url) {
    if (c == 0) return Status::Usage("storage path contains a NUL byte");
  }
  u.path = std::string(url);
  return u;
}

StorageOptions ForSide(StorageOptions base, const SideOverrides& side) {
  if (!side.endpoint.empty()) base.endpoint = side.endpoint;
  if (!side.region.empty()) base.region = side.region;
  if (!side.env_prefix.empty()) base.env_prefix = side.env_prefix;
  return base;
}

Status CheckEnvPrefix(std::string_view prefix, std::string_view flag) {
  bool ok = prefix.size() <= 64;
  for (char c : prefix) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    return Status::Usage(fmt::format("{} \"{}\": an environment-variable prefix is up to 64 of A-Z a-z 0-9 _",
                                     flag, Printable(prefix)));
  }
  return Status::OK();
}

Result<std::unique_ptr<Storage>> OpenStorage(std::string_view url, const StorageOptions& opts) {
  P2L_ASSIGN_OR_RETURN(StorageUrl u, ParseStorageUrl(url));
  switch (u.kind) {
    case StorageUrl::Kind::kLocal:
      return OpenLocalStorage(url, u.path, opts);
    case StorageUrl::Kind::kS3:
      return OpenS3Storage(url, opts);
    case StorageUrl::Kind::kAzure:
#if P2L_HAVE_AZURE
      return OpenAzureStorage(url, opts);
#else
      return Status::Usage(fmt::format("{}: Azure Blob Storage support is not built in", url));
#endif
  }
  return Status::Internal("OpenStorage: unknown storage kind");
}

}  // namespace p2l
