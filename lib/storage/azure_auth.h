// Azure Blob Storage authorization: Shared Key signing, SAS tokens, connection strings.
//
// Shared Key (Blob service, versions 2009-09-19 and later; "Authorize with Shared Key" in the
// Azure Storage REST reference):
//
//   Authorization: SharedKey <account>:base64(HMAC-SHA256(base64decode(key), StringToSign))
//   StringToSign = VERB "\n"
//                  Content-Encoding "\n" Content-Language "\n" Content-Length "\n"
//                  Content-MD5 "\n" Content-Type "\n" Date "\n" If-Modified-Since "\n"
//                  If-Match "\n" If-None-Match "\n" If-Unmodified-Since "\n" Range "\n"
//                  CanonicalizedHeaders CanonicalizedResource
//   * Content-Length is the empty string when it is 0 (versions 2015-02-21 and later); every
//     absent header is the empty string. We always send x-ms-date, so Date is empty.
//   * CanonicalizedHeaders: every x-ms-* header, name lowercased, sorted by name (bytes), runs of
//     whitespace in the value replaced by one space and the value trimmed, "name:value\n"; a
//     name that occurs several times has its values joined by ','.
//   * CanonicalizedResource: "/" account + the URI path exactly as sent (percent-encoded; for
//     path-style emulator URLs it starts with "/account" again), then for every query parameter,
//     sorted by lowercased name: "\n" name ":" decoded value (values of a repeated name joined by
//     ',' after sorting them).
//
// SAS: a query string ("sv=...&sig=...") appended to every request URL; nothing is signed.
// Connection strings: "Name=Value;Name=Value" as the Azure tools accept them (names are
// case-insensitive; values may contain '='): DefaultEndpointsProtocol, AccountName, AccountKey,
// BlobEndpoint, SharedAccessSignature, EndpointSuffix, UseDevelopmentStorage=true.
//
// Secrets (account keys, SAS signatures, connection strings) never appear in a Status message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/http.h"
#include "util/status.h"

namespace p2l::azure {

// The REST API version we speak (x-ms-version). Azurite 3.35 accepts it even in strict mode;
// it allows Put Blob up to 5000 MiB, blocks up to 4000 MiB and 50,000 blocks per blob.
inline constexpr const char* kApiVersion = "2021-08-06";

// The well-known Azurite / storage emulator account (public, documented by Microsoft).
inline constexpr const char* kDevStoreAccount = "devstoreaccount1";
inline constexpr const char* kDevStoreKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
inline constexpr const char* kDevStoreBlobEndpoint = "http://127.0.0.1:10000/devstoreaccount1";

// Standard base64 (RFC 4648 §4) with padding.
std::string Base64Encode(std::string_view data);
// Strict decoding: standard alphabet, length a multiple of 4, '=' only as final padding, no
// whitespace. nullopt when `text` is not such base64.
std::optional<std::string> Base64Decode(std::string_view text);

// Decoded query parameters of a request, in any order (the string-to-sign sorts them).
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The Shared Key string-to-sign (see the top of this file). `path` is the URI path as sent
// (percent-encoded, starting with '/'); `content_length` is the body length (0 = no body).
std::string SharedKeyStringToSign(std::string_view method, const http::Headers& headers, uint64_t content_length,
                                  std::string_view account, std::string_view path, const QueryParams& query);

// base64(HMAC-SHA256(key, string_to_sign)); `key` is the decoded account key (raw bytes).
std::string SharedKeySignature(std::string_view key, std::string_view string_to_sign);

// The current time as an RFC 1123 date for x-ms-date: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDateNow();

// A parsed connection string. Only the fields the Blob service needs; others are ignored.
struct ConnectionString {
  std::string protocol;         // DefaultEndpointsProtocol ("http" or "https"; "" = unset)
  std::string account;          // AccountName
  std::string key;              // AccountKey, still base64 (validated)
  std::string blob_endpoint;    // BlobEndpoint, without trailing '/'
  std::string sas;              // SharedAccessSignature, normalized (no leading '?')
  std::string endpoint_suffix;  // EndpointSuffix ("" = unset)
  bool development = false;     // UseDevelopmentStorage=true: Azurite defaults filled in
};
// Parses `text`; `source` names it in messages ("AZURE_STORAGE_CONNECTION_STRING"). Errors
// (kUsage) name the offending part by its position and name, never by its value.
Result<ConnectionString> ParseConnectionString(std::string_view text, std::string_view source);

// Normalizes a SAS token: strips a leading '?', checks it is a query string of name=value pairs
// of printable characters that includes "sig". kUsage naming `source`, never the token.
Result<std::string> NormalizeSasToken(std::string_view sas, std::string_view source);

}  // namespace p2l::azure
