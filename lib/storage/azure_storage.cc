#include "storage/azure_storage.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "storage/azure_xml.h"
#include "storage/backends.h"
#include "util/parallel.h"
#include "util/parse_number.h"

namespace p2l {

namespace {

constexpr uint64_t kMaxBlocks = 50000;                 // blocks per blob
constexpr uint64_t kMaxBlockSize = 4000ull << 20;      // per Put Block (API 2019-12-12+)
constexpr uint64_t kMaxPutBlobSize = 5000ull << 20;    // per Put Blob (API 2019-12-12+)
constexpr uint64_t kDefaultBlockSize = 16ull << 20;
constexpr uint64_t kMinBlockSize = 1024;               // PGDATA2LAYERS_AZURE_BLOCK_SIZE lower bound

using http::Is2xx;

// Printable form of user-given text for messages.
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(char(c));
    }
  }
  if (s.size() > 200) out += "...";
  return out;
}

bool ValidAccountName(std::string_view a) {
  if (a.size() < 3 || a.size() > 24) return false;
  for (char c : a) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool ValidContainerName(std::string_view c) {
  if (c.size() < 3 || c.size() > 63) return false;
  for (char ch : c) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  }
  if (c.front() == '-' || c.back() == '-') return false;
  return c.find("--") == std::string_view::npos;
}

// Splits "container[/prefix]" and validates both.
Status ParseContainerPath(std::string_view url, std::string_view path, AzureUrl* u) {
  const size_t slash = path.find('/');
  std::string_view container = path.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  if (container.empty()) {
    return Status::Usage(fmt::format("{}: no container (use az://ACCOUNT/CONTAINER[/PREFIX])", Printable(url)));
  }
  if (!ValidContainerName(container)) {
    return Status::Usage(fmt::format(
        "{}: invalid Azure container name \"{}\" (3-63 of a-z 0-9 -, starting and ending with a letter or digit)",
        Printable(url), Printable(container)));
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (!prefix.empty()) {
    Status st = ValidateObjectName(prefix);
    if (!st.ok()) return Status::Usage(fmt::format("{}: bad prefix: {}", Printable(url), st.message()));
  }
  u->container = std::string(container);
  u->prefix = std::string(prefix);
  return Status::OK();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

// True for "127.0.0.1", "[::1]", "localhost" (with or without ":port").
bool IsLocalOrIpHost(std::string_view hostport) {
  if (hostport.starts_with("[")) return true;  // IPv6 literal
  std::string_view host = hostport.substr(0, hostport.find(':'));
  if (Lower(host) == "localhost") return true;
  if (host.empty()) return false;
  for (char c : host) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

Result<std::string> Md5Base64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr) != 1) {
    return Status::Internal("MD5 digest failed");
  }
  return azure::Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

// base64(MD5) of `len` bytes of `fd` at `off` (the Content-MD5 the service verifies).
Result<std::string> Md5OfFileRange(int fd, uint64_t off, uint64_t len, std::string_view what) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1) return Status::Internal("MD5 init failed");
  std::vector<char> buf(size_t(std::min<uint64_t>(len, 1 << 20)) + 1);
  uint64_t done = 0;
  while (done < len) {
    const size_t want = size_t(std::min<uint64_t>(buf.size(), len - done));
    ssize_t r = ::pread(fd, buf.data(), want, off_t(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      return Status::Io(fmt::format("{}: reading the staged file at offset {}: {}", what, off + done,
                                    r == 0 ? "unexpected end of file" : std::strerror(errno)));
    }
    if (EVP_DigestUpdate(ctx.get(), buf.data(), size_t(r)) != 1) return Status::Internal("MD5 update failed");
    done += uint64_t(r);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &mdlen) != 1) return Status::Internal("MD5 final failed");
  return azure::Base64Encode(std::string_view(reinterpret_cast<const char*>(md), mdlen));
}

std::string ErrorCode(const http::Response& r, const AzureErrorInfo& e) {
  if (!e.code.empty()) return e.code;
  auto h = r.headers.Get("x-ms-error-code");
  if (!h) return std::string();
  std::string out;
  for (unsigned char c : h->substr(0, 100)) out.push_back(c >= 0x20 && c < 0x7f ? char(c) : '?');
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------- config

Result<AzureUrl> ParseAzureUrl(std::string_view url) {
  AzureUrl u;
  if (url.starts_with("az://")) {
    std::string_view rest = url.substr(5);
    if (rest.find_first_of("?#") != std::string_view::npos) {
      return Status::Usage(fmt::format(
          "{}: az:// URLs take no query string (give a SAS token in AZURE_STORAGE_SAS_TOKEN)", Printable(url)));
    }
    const size_t slash = rest.find('/');
    std::string_view account = rest.substr(0, slash);
    if (!ValidAccountName(account)) {
      return Status::Usage(fmt::format("{}: invalid Azure storage account name \"{}\" (3-24 of a-z 0-9)",
                                       Printable(url), Printable(account)));
    }
    u.account = std::string(account);
    P2L_RETURN_IF_ERROR(ParseContainerPath(
        url, slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1), &u));
    u.shown = "az://" + u.account + "/" + u.container + (u.prefix.empty() ? "" : "/" + u.prefix);
    return u;
  }
  if (url.starts_with("https://") || url.starts_with("http://")) {
    const std::string_view scheme = url.substr(0, url.find("://"));
    std::string_view rest = url.substr(scheme.size() + 3);
    if (rest.find('#') != std::string_view::npos) {
      return Status::Usage(fmt::format("{}: a URL fragment ('#') is not allowed", Printable(url.substr(0, url.find('?')))));
    }
    std::string_view query;
    if (size_t q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    const size_t slash = rest.find('/');
    const std::string host = Lower(rest.substr(0, slash));
    const std::string shown_base = std::string(scheme) + "://" + host;
    if (host.find('@') != std::string::npos) {
      return Status::Usage(fmt::format("{}://...: credentials in the URL's host part are not allowed", scheme));
    }
    const std::string_view suffix = ".blob.core.windows.net";
    if (!std::string_view(host).ends_with(suffix)) {
      return Status::Usage(fmt::format("{}: not an Azure blob URL (https://ACCOUNT.blob.core.windows.net/CONTAINER)",
                                       Printable(shown_base)));
    }
    const std::string_view account = std::string_view(host).substr(0, host.size() - suffix.size());
    if (!ValidAccountName(account)) {
      return Status::Usage(fmt::format("{}: invalid Azure storage account name \"{}\" (3-24 of a-z 0-9)",
                                       Printable(shown_base), Printable(account)));
    }
    u.account = std::string(account);
    std::string path;
    if (!PercentDecode(slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1), &path)) {
      return Status::Usage(fmt::format("{}: bad percent-encoding in the path", Printable(shown_base)));
    }
    P2L_RETURN_IF_ERROR(ParseContainerPath(shown_base + "/" + path, path, &u));
    u.endpoint = shown_base;
    u.shown = shown_base + "/" + u.container + (u.prefix.empty() ? "" : "/" + u.prefix);
    if (!query.empty()) {
      P2L_ASSIGN_OR_RETURN(u.sas, azure::NormalizeSasToken(query, u.shown + " (the query string of the URL)"));
    }
    return u;
  }
  return Status::Usage(fmt::format(
      "{}: not an Azure URL (az://ACCOUNT/CONTAINER[/PREFIX] or https://ACCOUNT.blob.core.windows.net/CONTAINER)",
      Printable(url.substr(0, url.find('?')))));
}

Result<AzureConfig> AzureConfigFrom(const AzureUrl& u, const StorageOptions& opts, const EnvLookup& env) {
  AzureConfig c;
  c.account = u.account;
  c.container = u.container;
  c.prefix = u.prefix;
  c.shown = u.shown;
  std::string cs_endpoint;  // endpoint implied by the connection string, if one was used
  auto decode_key = [&](std::string_view b64, std::string_view source) -> Status {
    std::optional<std::string> k = azure::Base64Decode(b64);
    if (!k || k->empty()) {
      return Status::Usage(fmt::format("{}: {} is not a valid base64 account key (the value is not shown)", u.shown,
                                       source));
    }
    c.key = std::move(*k);
    c.credential_source = std::string(source);
    return Status::OK();
  };

  // The credential and endpoint variables, read as opts.env_prefix + NAME (storage.h).
  const auto var = [&](std::string_view name) { return opts.env_prefix + std::string(name); };
  const auto penv = [&](std::string_view name) { return env(var(name).c_str()); };
  if (!u.sas.empty()) {
    c.sas = u.sas;
    c.credential_source = "the SAS token in the URL";
  } else if (std::string text = penv("AZURE_STORAGE_CONNECTION_STRING"); !text.empty()) {
    const std::string cs_var = var("AZURE_STORAGE_CONNECTION_STRING");
    P2L_ASSIGN_OR_RETURN(azure::ConnectionString cs, azure::ParseConnectionString(text, cs_var));
    if (!cs.account.empty() && cs.account != u.account) {
      return Status::Usage(fmt::format("{}: {} is for account \"{}\", but the URL names account \"{}\"", u.shown,
                                       cs_var, Printable(cs.account), u.account));
    }
    if (!cs.key.empty()) {
      P2L_RETURN_IF_ERROR(decode_key(cs.key, "the AccountKey of " + cs_var));
      c.credential_source = cs_var + " (AccountKey)";
    } else {
      c.sas = cs.sas;
      c.credential_source = cs_var + " (SharedAccessSignature)";
    }
    if (!cs.blob_endpoint.empty()) {
      cs_endpoint = cs.blob_endpoint;
    } else if (!cs.protocol.empty() || !cs.endpoint_suffix.empty()) {
      cs_endpoint = fmt::format("{}://{}.blob.{}", cs.protocol.empty() ? "https" : cs.protocol, u.account,
                                cs.endpoint_suffix.empty() ? "core.windows.net" : cs.endpoint_suffix);
    }
  } else if (std::string key = penv("AZURE_STORAGE_KEY"), alias = penv("AZURE_STORAGE_ACCESS_KEY");
             !key.empty() || !alias.empty()) {
    const std::string source = var(key.empty() ? "AZURE_STORAGE_ACCESS_KEY" : "AZURE_STORAGE_KEY");
    const std::string account = penv("AZURE_STORAGE_ACCOUNT");
    if (!account.empty() && account != u.account) {
      return Status::Usage(fmt::format("{}: {} is \"{}\", but the URL names account \"{}\" ({} "
                                       "is the key of one account)",
                                       u.shown, var("AZURE_STORAGE_ACCOUNT"), Printable(account), u.account, source));
    }
    P2L_RETURN_IF_ERROR(decode_key(key.empty() ? alias : key, source));
  } else if (std::string sas = penv("AZURE_STORAGE_SAS_TOKEN"); !sas.empty()) {
    c.credential_source = var("AZURE_STORAGE_SAS_TOKEN");
    P2L_ASSIGN_OR_RETURN(c.sas, azure::NormalizeSasToken(sas, c.credential_source));
  } else {
    return Status::Usage(fmt::format(
        "{0}: no Azure credentials: set {1}AZURE_STORAGE_KEY (with {1}AZURE_STORAGE_ACCOUNT={2}), "
        "{1}AZURE_STORAGE_SAS_TOKEN or {1}AZURE_STORAGE_CONNECTION_STRING, or give a SAS token in an https:// URL",
        u.shown, opts.env_prefix, u.account));
  }

  // Endpoint.
  std::string ep = opts.endpoint;
  std::string ep_source = "--endpoint";
  if (ep.empty()) {
    ep_source = var("AZURE_STORAGE_ENDPOINT");
    ep = env(ep_source.c_str());
  }
  if (ep.empty()) {
    ep = cs_endpoint;
    ep_source = "the connection string's BlobEndpoint";
  }
  if (ep.empty()) ep = u.endpoint;
  if (ep.empty()) ep = "https://" + u.account + ".blob.core.windows.net";
  while (!ep.empty() && ep.back() == '/') ep.pop_back();
  if (!ep.starts_with("http://") && !ep.starts_with("https://")) {
    return Status::Usage(fmt::format("Azure endpoint \"{}\" ({}) must start with http:// or https://", Printable(ep),
                                     ep_source));
  }
  const size_t host_start = ep.find("://") + 3;
  if (ep.find_first_of("?#@") != std::string::npos || ep.size() == host_start) {
    return Status::Usage(fmt::format("Azure endpoint ({}) must be scheme://host[:port][/path] without credentials, "
                                     "query or fragment",
                                     ep_source));
  }
  for (unsigned char ch : ep) {
    if (ch <= 0x20 || ch >= 0x7f) {
      return Status::Usage(fmt::format("Azure endpoint \"{}\" ({}) contains a space or non-ASCII byte", Printable(ep),
                                       ep_source));
    }
  }
  if (ep.find('/', host_start) == std::string::npos && IsLocalOrIpHost(std::string_view(ep).substr(host_start))) {
    ep += "/" + u.account;  // emulator layout: path-style account
  }
  c.endpoint = std::move(ep);

  // Upload block size (a tuning knob; also lets tests exercise Put Block with small layers).
  if (std::string bs = env("PGDATA2LAYERS_AZURE_BLOCK_SIZE"); !bs.empty()) {
    if (!ParseU64(bs, &c.block_size) || c.block_size < kMinBlockSize || c.block_size > kMaxBlockSize) {
      return Status::Usage(fmt::format("PGDATA2LAYERS_AZURE_BLOCK_SIZE \"{}\" is not a byte count from {} to {}",
                                       Printable(bs), kMinBlockSize, kMaxBlockSize));
    }
  }
  return c;
}

Result<std::unique_ptr<Storage>> OpenAzureStorage(std::string_view url, const StorageOptions& opts) {
  P2L_ASSIGN_OR_RETURN(AzureUrl u, ParseAzureUrl(url));
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  P2L_ASSIGN_OR_RETURN(AzureConfig cfg, AzureConfigFrom(u, opts, env));
  return std::unique_ptr<Storage>(new AzureStorage(std::move(cfg), opts));
}

// ---------------------------------------------------------------------------------------- requests

AzureStorage::AzureStorage(AzureConfig cfg, const StorageOptions& opts)
    : ObjectStore(cfg.shown, cfg.prefix, opts, ObjectStoreWords{"az", "blob prefixes", "a NextMarker"}),
      cfg_(std::move(cfg)) {
  if (cfg_.block_size != 0) opts_.multipart_threshold = opts_.part_size = cfg_.block_size;
  const size_t host_start = cfg_.endpoint.find("://") + 3;
  const size_t path_start = cfg_.endpoint.find('/', host_start);
  origin_ = cfg_.endpoint.substr(0, path_start);
  endpoint_path_ = path_start == std::string::npos ? "" : cfg_.endpoint.substr(path_start);
}

http::Request AzureStorage::KeyRequest(std::string method, std::string_view blob) const {
  return MakeRequest(std::move(method), blob, {});
}

std::string AzureStorage::ShowName(std::string_view name) const { return Printable(name); }

http::Request AzureStorage::MakeRequest(std::string method, std::string_view blob, azure::QueryParams query) const {
  http::Request r;
  r.method = std::move(method);
  std::string path = endpoint_path_ + "/" + cfg_.container;
  if (!blob.empty()) {
    path += "/";
    path += http::UriEncode(blob, /*keep_slash=*/true);
  }
  std::string q;
  for (const auto& [name, value] : query) {
    if (!q.empty()) q.push_back('&');
    q += http::UriEncode(name, false) + "=" + http::UriEncode(value, false);
  }
  if (!cfg_.sas.empty()) {
    if (!q.empty()) q.push_back('&');
    q += cfg_.sas;
  }
  r.url = origin_ + path + (q.empty() ? "" : "?" + q);
  r.headers.Add("x-ms-version", azure::kApiVersion);
  r.max_response_bytes = kMaxAzureXmlBytes;
  if (!cfg_.key.empty()) {
    // Runs before every attempt: a fresh x-ms-date, then the signature over what is sent.
    r.sign = [this, path = std::move(path), query = std::move(query)](http::Request& req) -> Status {
      req.headers.Set("x-ms-date", azure::HttpDateNow());
      const uint64_t len = req.body_fd >= 0 ? req.body_length : req.body.size();
      const std::string sts = azure::SharedKeyStringToSign(req.method, req.headers, len, cfg_.account, path, query);
      const std::string sig = azure::SharedKeySignature(cfg_.key, sts);
      if (sig.empty()) return Status::Internal("HMAC-SHA256 failed while signing an Azure request");
      req.headers.Set("Authorization", "SharedKey " + cfg_.account + ":" + sig);
      return Status::OK();
    };
  }
  return r;
}

Status AzureStorage::ErrorFor(const http::Response& r, std::string_view what) const {
  const AzureErrorInfo e = ParseAzureError(r.body);
  const std::string code = ErrorCode(r, e);
  std::string detail = code.empty() ? fmt::format("HTTP {}", r.status)
                                    : e.message.empty() ? fmt::format("HTTP {} {}", r.status, code)
                                                        : fmt::format("HTTP {} {}: {}", r.status, code, e.message);
  // Azure answers a bad signature with 403 AuthenticationFailed; Azurite with 403
  // AuthorizationFailure "Server failed to authenticate the request..." (HEAD answers carry only
  // the code). An account key may do everything: with Shared Key, AuthorizationFailure is always
  // a refused key, never a missing permission.
  const bool refused = code == "AuthenticationFailed" || code == "InvalidAuthenticationInfo" || r.status == 401 ||
                       (r.status == 403 && code.empty()) ||
                       (code == "AuthorizationFailure" &&
                        (!cfg_.key.empty() || e.message.find("authenticate") != std::string::npos));
  if (refused) {
    return Status::Io(fmt::format(
        "{}: the Azure credentials were refused (HTTP {}{}{}); check {} (account \"{}\", endpoint {})", what,
        r.status, code.empty() ? "" : " ", code, cfg_.credential_source, cfg_.account, cfg_.endpoint));
  }
  if (code.starts_with("Authorization") || code == "InsufficientAccountPermissions") {
    return Status::Io(fmt::format("{}: not allowed ({}); the credentials from {} lack a permission for this "
                                  "operation", what, detail, cfg_.credential_source));
  }
  if (code == "ContainerNotFound") {
    return Status::NotFound(fmt::format("{}: container \"{}\" does not exist in account \"{}\" (HTTP {} "
                                        "ContainerNotFound)", what, cfg_.container, cfg_.account, r.status));
  }
  if (code == "ContainerBeingDeleted" || code == "ContainerDisabled") {
    return Status::Io(fmt::format("{}: container \"{}\" of account \"{}\" is not usable ({})", what, cfg_.container,
                                  cfg_.account, detail));
  }
  if (r.status == 404) return Status::NotFound(fmt::format("{}: {}", what, detail));
  if (r.status == 412) return Status::SourceChanged(fmt::format("{}: {} (the blob changed)", what, detail));
  if (r.attempts > 1) detail += fmt::format(" (after {} attempts)", r.attempts);
  return Status::Io(fmt::format("{}: {}", what, detail));
}


// ---------------------------------------------------------------------------------------- listing

Result<ObjectListPage> AzureStorage::ListPage(std::string_view blob_prefix, bool delimiter, const std::string& marker,
                                              std::string_view what) {
  azure::QueryParams q = {{"restype", "container"}, {"comp", "list"}};
  if (!blob_prefix.empty()) q.push_back({"prefix", std::string(blob_prefix)});
  if (delimiter) q.push_back({"delimiter", "/"});
  if (!marker.empty()) q.push_back({"marker", marker});
  http::Request req = MakeRequest("GET", "", std::move(q));
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, what));
  if (!Is2xx(resp.status)) return ErrorFor(resp, what);
  P2L_ASSIGN_OR_RETURN(AzureListPage page, ParseAzureListPage(resp.body, root_, what));
  return ObjectListPage{std::move(page.objects), std::move(page.prefixes), std::move(page.next_marker)};
}

// ---------------------------------------------------------------------------------------- reading

Status AzureStorage::CheckContainer() {
  if (container_ok_.load()) return Status::OK();
  http::Request req = MakeRequest("HEAD", "", {{"restype", "container"}});
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, cfg_.shown));
  if (resp.status == 404) {
    return Status::NotFound(fmt::format("{}: container \"{}\" does not exist in account \"{}\" (HTTP 404)", cfg_.shown,
                                        cfg_.container, cfg_.account));
  }
  if (!Is2xx(resp.status)) {
    // A SAS for blobs only may not read container properties: that is no evidence of absence.
    if (resp.status == 403 && !cfg_.sas.empty()) return Status::OK();
    return ErrorFor(resp, cfg_.shown);
  }
  container_ok_ = true;
  return Status::OK();
}

Result<ObjectInfo> AzureStorage::Stat(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  http::Request req = MakeRequest("HEAD", Key(name), {});
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (resp.status == 404) {
    // HEAD answers have no body; x-ms-error-code tells a missing blob from a missing container.
    const std::string code = ErrorCode(resp, AzureErrorInfo());
    if (code == "ContainerNotFound") return ErrorFor(resp, Describe(name));
    if (code != "BlobNotFound") P2L_RETURN_IF_ERROR(CheckContainer());
    return Status::NotFound(fmt::format("{}: no such blob (HTTP 404{}{})", Describe(name), code.empty() ? "" : " ",
                                        code));
  }
  if (!Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  ObjectInfo info;
  info.name = std::string(name);
  auto cl = resp.headers.Get("Content-Length");
  if (!cl || !ParseU64(*cl, &info.size)) {
    return Status::InvalidInput(fmt::format("{}: HEAD answer without a valid Content-Length", Describe(name)));
  }
  info.version = QuoteETag(resp.headers.Get("ETag").value_or(""));
  return info;
}

Status AzureStorage::ReadRange(const ObjectInfo& info, uint64_t offset, uint64_t len, uint8_t* out) {
  const std::string what = Describe(info.name);
  const uint64_t last = offset + len - 1;
  http::Request req = MakeRequest("GET", Key(info.name), {});
  PrepareRangedGet(&req, "x-ms-range", offset, len, info.version, out);
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, what));
  if (resp.status == 412) {
    return Status::SourceChanged(fmt::format("{}: changed since planning (HTTP 412: ETag is no longer {})", what,
                                             info.version));
  }
  if (resp.status == 404) {
    Status st = ErrorFor(resp, what);
    if (st.message().find("ContainerNotFound") != std::string::npos) return st;
    return Status::SourceChanged(fmt::format("{}: blob disappeared (HTTP 404)", what));
  }
  if (resp.status == 416) {
    return Status::SourceChanged(fmt::format("{}: range {}-{} not satisfiable (HTTP 416): the blob shrank", what,
                                             offset, last));
  }
  if (!Is2xx(resp.status)) return ErrorFor(resp, what);
  if (!info.version.empty()) {
    auto etag = resp.headers.Get("ETag");
    if (!etag || QuoteETag(*etag) != info.version) {
      return Status::SourceChanged(fmt::format("{}: changed since planning (ETag {} -> {})", what, info.version,
                                               etag ? std::string(*etag) : std::string("(missing)")));
    }
  }
  return CheckRangedAnswer(resp, offset, len, info.size, what, /*say_changed=*/false);
}

Result<std::unique_ptr<RandomReader>> AzureStorage::OpenReader(std::string_view name, const ObjectInfo* expect) {
  Result<ObjectInfo> info = Stat(name);
  if (!info.ok()) {
    if (expect != nullptr && info.status().IsNotFound() &&
        info.status().message().find("ContainerNotFound") == std::string::npos &&
        info.status().message().find("does not exist in account") == std::string::npos) {
      return Status::SourceChanged(fmt::format("{}: blob disappeared since planning", Describe(name)));
    }
    return info.status();
  }
  if (expect != nullptr) {
    if (expect->size != info->size ||
        (!expect->version.empty() && QuoteETag(expect->version) != info->version)) {
      return Status::SourceChanged(fmt::format("{}: changed since planning (size {} -> {}, ETag {} -> {})",
                                               Describe(name), expect->size, info->size, expect->version,
                                               info->version));
    }
  }
  return NewReader(std::move(info).value());
}

// ---------------------------------------------------------------------------------------- writing

Status AzureStorage::PutBlob(std::string_view name, std::string_view data, bool if_absent, http::Response* out) {
  http::Request req = MakeRequest("PUT", Key(name), {});
  req.headers.Add("x-ms-blob-type", "BlockBlob");
  P2L_ASSIGN_OR_RETURN(std::string md5, Md5Base64(data));
  req.headers.Add("Content-MD5", md5);
  if (if_absent) req.headers.Add("If-None-Match", "*");
  req.body = data;
  P2L_ASSIGN_OR_RETURN(*out, Send(req, Describe(name)));
  return Status::OK();
}

Status AzureStorage::Put(std::string_view name, std::string_view data) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  if (data.size() > kMaxPutBlobSize) {
    return Status::InvalidInput(fmt::format("{}: {} bytes is more than one Put Blob takes (use Stage)", Describe(name),
                                            data.size()));
  }
  http::Response resp;
  P2L_RETURN_IF_ERROR(PutBlob(name, data, false, &resp));
  if (!Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  return Status::OK();
}

// PutIfAbsent: Put Blob with "If-None-Match: *". Azure (and Azurite) evaluate the condition
// atomically with the write: of two concurrent creators exactly one succeeds, the other gets 409
// BlobAlreadyExists (or 412) → kConflict. A retried Put whose first attempt did succeed (answer
// lost) sees 409 too: when the blob's content equals ours, that was our own write.
Status AzureStorage::PutIfAbsent(std::string_view name, std::string_view data) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  if (data.size() > kMaxPutBlobSize) {
    return Status::InvalidInput(fmt::format("{}: {} bytes is more than one Put Blob takes", Describe(name),
                                            data.size()));
  }
  http::Response resp;
  P2L_RETURN_IF_ERROR(PutBlob(name, data, true, &resp));
  if (resp.status == 412 || resp.status == 409) {
    const std::string code = ErrorCode(resp, ParseAzureError(resp.body));
    if (code == "ContainerNotFound" || code == "ContainerBeingDeleted") return ErrorFor(resp, Describe(name));
    if (resp.attempts > 1) {
      Result<std::string> cur = ReadAll(name, data.size());
      if (cur.ok() && *cur == data) return Status::OK();
    }
    return Status::Conflict(fmt::format("{}: already exists (HTTP {}{}{})", Describe(name), resp.status,
                                        code.empty() ? "" : " ", code));
  }
  if (!Is2xx(resp.status)) return ErrorFor(resp, Describe(name));
  return Status::OK();
}

Status AzureStorage::UploadFile(std::string_view name, int fd, uint64_t size) {
  if (size > opts_.multipart_threshold || size > kMaxPutBlobSize) return BlockUpload(name, fd, size);
  const std::string what = Describe(name);
  P2L_ASSIGN_OR_RETURN(std::string md5, Md5OfFileRange(fd, 0, size, what));
  http::Request req = MakeRequest("PUT", Key(name), {});
  req.headers.Add("x-ms-blob-type", "BlockBlob");
  req.headers.Add("Content-MD5", md5);
  req.body_fd = fd;
  req.body_offset = 0;
  req.body_length = size;
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, what));
  if (!Is2xx(resp.status)) return ErrorFor(resp, what);
  return Status::OK();
}

// Put Block for each block_size slice (each request retried on its own by the HttpClient, a few
// in parallel), then Put Block List naming them in order. Block ids: base64 of
// "p2l-<12 random hex>-<7-digit index>" (24 bytes → 32 characters, no padding): all of one
// length, as Azure requires, and unique to this upload so that blocks left by another (failed or
// concurrent) upload of the same blob are never committed. Put Block List with <Latest> is
// idempotent: a retry after a lost answer finds the blocks committed and commits them again.
Status AzureStorage::BlockUpload(std::string_view name, int fd, uint64_t size) {
  const std::string what = Describe(name);
  const std::string blob = Key(name);
  const uint64_t block_size =
      FitPartSize(size, opts_.part_size == 0 ? kDefaultBlockSize : std::min(opts_.part_size, kMaxBlockSize), kMaxBlocks);
  if (block_size > kMaxBlockSize) {
    return Status::InvalidInput(fmt::format("{}: {} bytes is more than a block blob can hold", what, size));
  }
  const uint64_t nblocks = PartCount(size, block_size);

  unsigned char rnd[6];
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) return Status::Internal("RAND_bytes failed");
  std::string tag;
  for (unsigned char b : rnd) tag += fmt::format("{:02x}", b);
  std::vector<std::string> ids(nblocks);
  for (uint64_t i = 0; i < nblocks; i++) ids[i] = azure::Base64Encode(fmt::format("p2l-{}-{:07d}", tag, i));

  P2L_RETURN_IF_ERROR(RunParallel(nblocks, std::min(std::max(1, opts_.concurrency), 8), [&](uint64_t i) -> Status {
    const uint64_t off = i * block_size;
    const uint64_t len = std::min(block_size, size - off);
    const std::string block_what = fmt::format("{} (block {}/{})", what, i + 1, nblocks);
    P2L_ASSIGN_OR_RETURN(std::string md5, Md5OfFileRange(fd, off, len, block_what));
    http::Request up = MakeRequest("PUT", blob, {{"comp", "block"}, {"blockid", ids[i]}});
    up.headers.Add("Content-MD5", md5);
    up.body_fd = fd;
    up.body_offset = off;
    up.body_length = len;
    P2L_ASSIGN_OR_RETURN(http::Response r, Send(up, block_what));
    if (!Is2xx(r.status)) return ErrorFor(r, block_what);
    return Status::OK();
  }));

  const std::string body = BuildAzureBlockList(ids);
  const std::string list_what = what + " (Put Block List)";
  http::Request commit = MakeRequest("PUT", blob, {{"comp", "blocklist"}});
  P2L_ASSIGN_OR_RETURN(std::string md5, Md5Base64(body));
  commit.headers.Add("Content-MD5", md5);
  commit.headers.Add("Content-Type", "application/xml");
  commit.body = body;
  P2L_ASSIGN_OR_RETURN(http::Response cr, Send(commit, list_what));
  if (!Is2xx(cr.status)) return ErrorFor(cr, list_what);

  P2L_ASSIGN_OR_RETURN(ObjectInfo info, Stat(name));
  if (info.size != size) {
    return Status::Io(fmt::format("{}: after Put Block List the blob has {} bytes, expected {}", what, info.size,
                                  size));
  }
  return Status::OK();
}


Status AzureStorage::Delete(std::string_view name) {
  P2L_RETURN_IF_ERROR(ValidateObjectName(name).WithContext(url_));
  http::Request req = MakeRequest("DELETE", Key(name), {});
  req.headers.Add("x-ms-delete-snapshots", "include");
  P2L_ASSIGN_OR_RETURN(http::Response resp, Send(req, Describe(name)));
  if (Is2xx(resp.status)) return Status::OK();
  const std::string code = ErrorCode(resp, ParseAzureError(resp.body));
  if (resp.status == 404 && code != "ContainerNotFound") return Status::OK();
  return ErrorFor(resp, Describe(name));
}

}  // namespace p2l
