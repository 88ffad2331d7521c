#include "storage/azure_auth.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>

namespace p2l::azure {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

// Trims the value and replaces each run of spaces/tabs by one space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool IsPrintableAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8 | uint8_t(data[i + 2]);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t(uint8_t(data[i])) << 16;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const uint32_t v = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad++;
  if (text.size() >= 2 && text[text.size() - 2] == '=') pad++;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    for (int k = 0; k < 4; k++) {
      const char c = text[i + size_t(k)];
      if (c == '=' && last && k >= 4 - int(pad)) {
        v[k] = 0;
        continue;
      }
      v[k] = B64Value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const uint32_t w = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
    out.push_back(char((w >> 16) & 0xff));
    if (!(last && pad == 2)) out.push_back(char((w >> 8) & 0xff));
    if (!(last && pad >= 1)) out.push_back(char(w & 0xff));
    // Non-canonical padding bits (e.g. "QR==") are rejected: they would decode ambiguously.
    if (last && pad == 2 && (w & 0xffff) != 0) return std::nullopt;
    if (last && pad == 1 && (w & 0xff) != 0) return std::nullopt;
  }
  return out;
}

std::string SharedKeyStringToSign(std::string_view method, const http::Headers& headers, uint64_t content_length,
                                  std::string_view account, std::string_view path, const QueryParams& query) {
  auto h = [&](std::string_view name) { return std::string(headers.Get(name).value_or("")); };
  std::string sts;
  sts.reserve(512);
  sts.append(method);
  sts.push_back('\n');
  sts += h("Content-Encoding") + "\n";
  sts += h("Content-Language") + "\n";
  sts += (content_length == 0 ? std::string() : std::to_string(content_length)) + "\n";
  sts += h("Content-MD5") + "\n";
  sts += h("Content-Type") + "\n";
  sts += h("Date") + "\n";
  sts += h("If-Modified-Since") + "\n";
  sts += h("If-Match") + "\n";
  sts += h("If-None-Match") + "\n";
  sts += h("If-Unmodified-Since") + "\n";
  sts += h("Range") + "\n";

  // CanonicalizedHeaders.
  std::map<std::string, std::string> xms;  // sorted by lowercased name (bytes)
  for (const auto& f : headers.fields()) {
    std::string name = Lower(f.name);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (!name.starts_with("x-ms-")) continue;
    auto [it, inserted] = xms.try_emplace(name, CanonicalHeaderValue(f.value));
    if (!inserted) it->second += "," + CanonicalHeaderValue(f.value);
  }
  for (const auto& [name, value] : xms) sts += name + ":" + value + "\n";

  // CanonicalizedResource.
  sts.push_back('/');
  sts.append(account);
  sts.append(path.empty() ? std::string_view("/") : path);
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [name, value] : query) params[Lower(name)].push_back(value);
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    sts += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); i++) {
      if (i > 0) sts.push_back(',');
      sts += values[i];
    }
  }
  return sts;
}

std::string SharedKeySignature(std::string_view key, std::string_view string_to_sign) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(string_to_sign.data()),
           string_to_sign.size(), md, &len) == nullptr) {
    return std::string();  // the server refuses an empty signature: a clear 403
  }
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string HttpDateNow() {
  const time_t now = ::time(nullptr);
  struct tm tm;
  ::gmtime_r(&now, &tm);
  char buf[64];
  const size_t n = ::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);  // "C" locale names
  return std::string(buf, n);
}

Result<std::string> NormalizeSasToken(std::string_view sas, std::string_view source) {
  while (!sas.empty() && (sas.front() == ' ' || sas.front() == '\t')) sas.remove_prefix(1);
  while (!sas.empty() && (sas.back() == ' ' || sas.back() == '\t' || sas.back() == '\n' || sas.back() == '\r')) {
    sas.remove_suffix(1);
  }
  if (!sas.empty() && sas.front() == '?') sas.remove_prefix(1);
  if (sas.empty()) return Status::Usage(fmt::format("{}: the SAS token is empty", source));
  if (sas.size() > 8192) return Status::Usage(fmt::format("{}: the SAS token is longer than 8192 bytes", source));
  if (!IsPrintableAscii(sas) || sas.find('#') != std::string_view::npos) {
    return Status::Usage(fmt::format("{}: the SAS token contains spaces, '#' or non-printable characters", source));
  }
  bool has_sig = false;
  size_t start = 0, index = 1;
  while (start <= sas.size()) {
    size_t end = sas.find('&', start);
    if (end == std::string_view::npos) end = sas.size();
    std::string_view part = sas.substr(start, end - start);
    const size_t eq = part.find('=');
    if (part.empty() || eq == 0 || eq == std::string_view::npos) {
      return Status::Usage(
          fmt::format("{}: the SAS token is not a query string (part {} is not name=value)", source, index));
    }
    if (part.substr(0, eq) == "sig") has_sig = true;
    start = end + 1;
    index++;
  }
  if (!has_sig) return Status::Usage(fmt::format("{}: the SAS token has no sig= parameter", source));
  return std::string(sas);
}

Result<ConnectionString> ParseConnectionString(std::string_view text, std::string_view source) {
  ConnectionString cs;
  if (text.size() > 16384) return Status::Usage(fmt::format("{}: longer than 16384 bytes", source));
  bool have_key = false;
  size_t start = 0, index = 0;
  std::map<std::string, int> seen;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    start = end + 1;
    index++;
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t' || part.front() == '\n' || part.front() == '\r')) {
      part.remove_prefix(1);
    }
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t' || part.back() == '\n' || part.back() == '\r')) {
      part.remove_suffix(1);
    }
    if (part.empty()) continue;  // "a=b;;c=d" and a trailing ';'
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::Usage(fmt::format("{}: part {} is not Name=Value", source, index));
    }
    std::string_view raw_name = part.substr(0, eq);
    while (!raw_name.empty() && (raw_name.back() == ' ' || raw_name.back() == '\t')) raw_name.remove_suffix(1);
    std::string name = Lower(raw_name);
    std::string_view value = part.substr(eq + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    // Names are ours to print (sanitized): values are not (they hold keys and signatures).
    std::string shown;
    for (unsigned char c : raw_name.substr(0, 40)) shown.push_back(c >= 0x20 && c < 0x7f ? char(c) : '?');
    if (++seen[name] > 1) return Status::Usage(fmt::format("{}: {} is given twice", source, shown));
    if (name == "defaultendpointsprotocol") {
      const std::string p = Lower(value);
      if (p != "http" && p != "https") {
        return Status::Usage(fmt::format("{}: DefaultEndpointsProtocol must be http or https", source));
      }
      cs.protocol = p;
    } else if (name == "accountname") {
      cs.account = std::string(value);
    } else if (name == "accountkey") {
      if (!Base64Decode(value).has_value() || value.empty()) {
        return Status::Usage(fmt::format("{}: AccountKey is not valid base64", source));
      }
      cs.key = std::string(value);
      have_key = true;
    } else if (name == "blobendpoint") {
      std::string ep(value);
      while (!ep.empty() && ep.back() == '/') ep.pop_back();
      if (!ep.starts_with("http://") && !ep.starts_with("https://")) {
        return Status::Usage(fmt::format("{}: BlobEndpoint must start with http:// or https://", source));
      }
      cs.blob_endpoint = std::move(ep);
    } else if (name == "sharedaccesssignature") {
      P2L_ASSIGN_OR_RETURN(cs.sas, NormalizeSasToken(value, fmt::format("{}: SharedAccessSignature", source)));
    } else if (name == "endpointsuffix") {
      std::string suffix(value);
      while (!suffix.empty() && suffix.front() == '.') suffix.erase(0, 1);
      for (char c : suffix) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
          return Status::Usage(fmt::format("{}: EndpointSuffix is not a host name suffix", source));
        }
      }
      cs.endpoint_suffix = Lower(suffix);
    } else if (name == "usedevelopmentstorage") {
      if (Lower(value) != "true") {
        return Status::Usage(fmt::format("{}: UseDevelopmentStorage must be true when given", source));
      }
      cs.development = true;
    }
    // Other names (QueueEndpoint, TableEndpoint, FileEndpoint, DevelopmentStorageProxyUri, ...)
    // do not concern the Blob service.
  }
  if (cs.development) {
    if (cs.account.empty()) cs.account = kDevStoreAccount;
    if (!have_key && cs.sas.empty()) cs.key = kDevStoreKey;
    if (cs.blob_endpoint.empty()) cs.blob_endpoint = kDevStoreBlobEndpoint;
  }
  if (cs.key.empty() && cs.sas.empty()) {
    return Status::Usage(fmt::format("{}: has neither AccountKey nor SharedAccessSignature", source));
  }
  if (!cs.key.empty() && cs.account.empty()) {
    return Status::Usage(fmt::format("{}: has an AccountKey but no AccountName", source));
  }
  if (cs.account.empty() && cs.blob_endpoint.empty()) {
    return Status::Usage(fmt::format("{}: has neither AccountName nor BlobEndpoint", source));
  }
  return cs;
}

}  // namespace p2l::azure
