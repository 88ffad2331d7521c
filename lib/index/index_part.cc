// index_part.json reader and writer (index-part-and-import.md §1, §2).
//
// Reading: the input is bounded (64 MiB, nesting depth 64, checked by a non-recursive pre-scan
// before nlohmann builds anything), parsed with nlohmann::json (integers that fit u64 stay
// integers; nothing we model goes through double), then walked with explicit type checks. Every
// error names the object (`what`) and the JSON path. Unknown top-level fields are kept as
// compact JSON text and written back.
//
// Writing: hand-made compact JSON so that the field order is the pageserver's serialization
// order (nlohmann's object type would sort the keys).
#include "index/index_part.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/coding.h"

namespace p2l {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxIndexPartBytes = size_t(64) << 20;
constexpr int kMaxDepth = 64;
constexpr size_t kLegacyMetadataSize = 512;

// ---- CRC-32C (Castagnoli, reflected 0x82F63B78), for the legacy metadata bytes (§2.4.2) ----

struct Crc32cTable {
  uint32_t t[256];
  constexpr Crc32cTable() : t() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0u);
      t[i] = c;
    }
  }
};
constexpr Crc32cTable kCrcTable;

uint32_t Crc32cOf(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) c = kCrcTable.t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// ---- calendar (proleptic Gregorian, UTC) ----

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = int64_t(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// ---- JSON output helpers ----

// serde_json string escaping: '"', '\\', \b \f \n \r \t, other control bytes as \u00xx;
// everything else (including '/' and non-ASCII UTF-8) verbatim.
void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// Compact writer for one JSON object: Key() emits the separator and the quoted key.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  std::string* Key(std::string_view k) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(out_, k);
    out_->push_back(':');
    return out_;
  }
  void String(std::string_view k, std::string_view v) { AppendJsonString(Key(k), v); }
  void Uint(std::string_view k, uint64_t v) { Key(k)->append(fmt::format("{}", v)); }
  void Raw(std::string_view k, std::string_view json) {
    Key(k)->append(json.empty() ? std::string_view("null") : json);
  }
  void Close() { out_->push_back('}'); }

 private:
  std::string* out_;
  bool first_ = true;
};

// ---- input bounds ----

// Nesting depth of `text` without recursion: counts '[' / '{' outside strings. Exact for valid
// JSON; for invalid JSON it is exact up to the first error, which is all the parser will build.
Status CheckDepth(std::string_view text, std::string_view what) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (in_string) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        return Status::InvalidInput(fmt::format(
            "{}: JSON nesting deeper than {} levels at byte offset {}", what, kMaxDepth, i));
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) depth--;
    }
  }
  return Status::OK();
}

// Keeps error messages bounded when a path component comes from a hostile document.
std::string Clip(std::string_view s) {
  if (s.size() <= 120) return std::string(s);
  return std::string(s.substr(0, 120)) + "...";
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return Clip(key);
  return std::string(path) + "." + Clip(key);
}

const char* TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    case Json::value_t::number_unsigned: return "unsigned integer";
    case Json::value_t::number_integer: return "negative integer";
    case Json::value_t::number_float: return "floating-point number (or integer out of u64 range)";
    default: return "unsupported value";
  }
}

// Typed access with errors of the form "<what>: <path>: <problem>".
class Reader {
 public:
  explicit Reader(std::string_view what) : what_(what) {}

  Status Error(std::string_view path, std::string_view msg) const {
    if (path.empty()) return Status::InvalidInput(fmt::format("{}: {}", what_, msg));
    return Status::InvalidInput(fmt::format("{}: {}: {}", what_, path, msg));
  }
  Status TypeError(std::string_view path, std::string_view expected, const Json& j) const {
    return Error(path, fmt::format("expected {}, got {}", expected, TypeName(j)));
  }

  Status Object(const Json& j, std::string_view path) const {
    if (!j.is_object()) return TypeError(path, "object", j);
    return Status::OK();
  }
  // Member of an object, or nullptr when absent.
  static const Json* Find(const Json& obj, std::string_view key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }
  Result<const Json*> Required(const Json& obj, std::string_view key, std::string_view path) const {
    const Json* v = Find(obj, key);
    if (!v) return Error(path, fmt::format("missing field \"{}\"", key));
    return v;
  }

  Result<uint64_t> U64(const Json& j, std::string_view path) const {
    if (!j.is_number_unsigned()) return TypeError(path, "unsigned integer", j);
    return j.get<uint64_t>();
  }
  Result<uint32_t> U32(const Json& j, std::string_view path) const {
    P2L_ASSIGN_OR_RETURN(uint64_t v, U64(j, path));
    if (v > 0xFFFFFFFFull) return Error(path, fmt::format("{} does not fit in u32", v));
    return uint32_t(v);
  }
  Result<std::string> String(const Json& j, std::string_view path) const {
    if (!j.is_string()) return TypeError(path, "string", j);
    return j.get<std::string>();
  }
  Result<uint64_t> Lsn(const Json& j, std::string_view path) const {
    if (!j.is_string()) return TypeError(path, "LSN string \"HI/LO\"", j);
    auto r = ParseLsn(j.get_ref<const std::string&>());
    if (!r.ok()) return Error(path, r.status().message());
    return *r;
  }
  Result<int64_t> DateTime(const Json& j, std::string_view path) const {
    if (!j.is_string()) return TypeError(path, "date-time string", j);
    auto r = ParseNaiveDateTime(j.get_ref<const std::string&>());
    if (!r.ok()) return Error(path, r.status().message());
    return *r;
  }
  Result<TimelineId> Id(const Json& j, std::string_view path) const {
    if (!j.is_string()) return TypeError(path, "32-hex-digit id string", j);
    auto r = Id16::FromHex(j.get_ref<const std::string&>());
    if (!r.ok()) return Error(path, r.status().message());
    return *r;
  }

 private:
  std::string_view what_;
};

// ---- layer names (§2.3; image-layer.md §7) ----

bool IsHex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

uint64_t HexU64(std::string_view s) {  // s: <= 16 hex digits, checked by the caller
  uint64_t v = 0;
  for (char c : s) {
    int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    v = (v << 4) | uint64_t(d);
  }
  return v;
}

// "<36 hex>-<36 hex>__<16 hex>" (image) or "...__<16 hex>-<16 hex>" (delta), optionally followed
// by "-<8 hex>" or "-v..." (tolerated like the pageserver). Key start < end; delta LSN start < end.
Status CheckLayerName(const Reader& rd, std::string_view name, std::string_view path) {
  auto bad = [&](std::string_view why) {
    return rd.Error(path, fmt::format("invalid layer name: {}", why));
  };
  if (name.size() < 36 + 1 + 36 + 2 + 16) return bad("too short");
  std::string_view ks = name.substr(0, 36), ke = name.substr(37, 36);
  if (!IsHex(ks) || name[36] != '-' || !IsHex(ke) || name.substr(73, 2) != "__") {
    return bad("expected <36 hex>-<36 hex>__<LSN>");
  }
  if (ks.size() == 36 && ke.size() == 36) {
    std::string a(ks), b(ke);
    for (auto& c : a) c = char(std::toupper(static_cast<unsigned char>(c)));
    for (auto& c : b) c = char(std::toupper(static_cast<unsigned char>(c)));
    if (!(a < b)) return bad("key range start is not below its end");
  }
  std::string_view rest = name.substr(75);
  if (rest.size() < 16 || !IsHex(rest.substr(0, 16))) return bad("expected a 16-hex-digit LSN");
  uint64_t lsn0 = HexU64(rest.substr(0, 16));
  rest.remove_prefix(16);
  if (rest.size() >= 17 && rest[0] == '-' && IsHex(rest.substr(1, 16)) &&
      (rest.size() == 17 || rest[17] == '-')) {
    uint64_t lsn1 = HexU64(rest.substr(1, 16));
    if (!(lsn0 < lsn1)) return bad("delta LSN range start is not below its end");
    rest.remove_prefix(17);
  }
  if (rest.empty()) return Status::OK();
  if (rest.size() == 9 && rest[0] == '-' && IsHex(rest.substr(1))) return Status::OK();
  if (rest.size() >= 2 && rest.substr(0, 2) == "-v") return Status::OK();
  return bad("unexpected trailing text");
}

bool IsShardIndex(std::string_view s) { return s.size() == 4 && IsHex(s); }

// ---- metadata (§2.4) ----

Status CheckPgVersion(const Reader& rd, uint32_t v, std::string_view path) {
  if (v < 14 || v > 17) {
    return rd.Error(path, fmt::format("unsupported PostgreSQL major version {} (expected 14..17)", v));
  }
  return Status::OK();
}

Result<TimelineMetadata> ParseMetadataObject(const Reader& rd, const Json& j, const std::string& path) {
  TimelineMetadata m;
  const Json* v;
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "disk_consistent_lsn", path));
  P2L_ASSIGN_OR_RETURN(m.disk_consistent_lsn, rd.Lsn(*v, Join(path, "disk_consistent_lsn")));
  if ((v = Reader::Find(j, "prev_record_lsn")) && !v->is_null()) {
    P2L_ASSIGN_OR_RETURN(m.prev_record_lsn, rd.Lsn(*v, Join(path, "prev_record_lsn")));
  }
  if ((v = Reader::Find(j, "ancestor_timeline")) && !v->is_null()) {
    P2L_ASSIGN_OR_RETURN(m.ancestor_timeline, rd.Id(*v, Join(path, "ancestor_timeline")));
  }
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "ancestor_lsn", path));
  P2L_ASSIGN_OR_RETURN(m.ancestor_lsn, rd.Lsn(*v, Join(path, "ancestor_lsn")));
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "latest_gc_cutoff_lsn", path));
  P2L_ASSIGN_OR_RETURN(m.latest_gc_cutoff_lsn, rd.Lsn(*v, Join(path, "latest_gc_cutoff_lsn")));
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "initdb_lsn", path));
  P2L_ASSIGN_OR_RETURN(m.initdb_lsn, rd.Lsn(*v, Join(path, "initdb_lsn")));
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "pg_version", path));
  P2L_ASSIGN_OR_RETURN(m.pg_version, rd.U32(*v, Join(path, "pg_version")));
  P2L_RETURN_IF_ERROR(CheckPgVersion(rd, m.pg_version, Join(path, "pg_version")));
  return m;
}

// Legacy form: 512 bytes = {u32be crc32c of [8,size), u16be size, u16be format} + bincode BE
// body + zero padding. Format 4 has pg_version; format 3 does not (reads as 14).
Result<TimelineMetadata> DecodeLegacyMetadata(const Reader& rd, const uint8_t* b, const std::string& path) {
  uint32_t crc = DecodeBE32(b);
  uint16_t size = DecodeBE16(b + 4);
  uint16_t format = DecodeBE16(b + 6);
  if (size < 8 || size > kLegacyMetadataSize) {
    return rd.Error(path, fmt::format("legacy metadata size field {} is outside 8..512", size));
  }
  uint32_t actual = Crc32cOf(b + 8, size - 8);
  if (actual != crc) {
    return rd.Error(path, fmt::format("legacy metadata checksum mismatch: header 0x{:08x}, computed 0x{:08x}",
                                      crc, actual));
  }
  if (format != 3 && format != 4) {
    return rd.Error(path, fmt::format("unsupported legacy metadata format version {}", format));
  }
  size_t pos = 8;
  const size_t end = size;
  auto need = [&](size_t n, const char* field) -> Status {
    if (end - pos < n) {
      return rd.Error(path, fmt::format("legacy metadata body truncated at {} (offset {})", field, pos));
    }
    return Status::OK();
  };
  auto tag = [&](const char* field, bool* present) -> Status {
    P2L_RETURN_IF_ERROR(need(1, field));
    uint8_t t = b[pos++];
    if (t > 1) {
      return rd.Error(path, fmt::format("legacy metadata {} option tag is {}, not 0 or 1", field, t));
    }
    *present = t == 1;
    return Status::OK();
  };
  TimelineMetadata m;
  P2L_RETURN_IF_ERROR(need(8, "disk_consistent_lsn"));
  m.disk_consistent_lsn = DecodeBE64(b + pos);
  pos += 8;
  bool present = false;
  P2L_RETURN_IF_ERROR(tag("prev_record_lsn", &present));
  if (present) {
    P2L_RETURN_IF_ERROR(need(8, "prev_record_lsn"));
    m.prev_record_lsn = DecodeBE64(b + pos);
    pos += 8;
  }
  P2L_RETURN_IF_ERROR(tag("ancestor_timeline", &present));
  if (present) {
    P2L_RETURN_IF_ERROR(need(16, "ancestor_timeline"));
    TimelineId id;
    std::copy(b + pos, b + pos + 16, id.bytes.begin());
    m.ancestor_timeline = id;
    pos += 16;
  }
  P2L_RETURN_IF_ERROR(need(24, "ancestor_lsn/latest_gc_cutoff_lsn/initdb_lsn"));
  m.ancestor_lsn = DecodeBE64(b + pos);
  m.latest_gc_cutoff_lsn = DecodeBE64(b + pos + 8);
  m.initdb_lsn = DecodeBE64(b + pos + 16);
  pos += 24;
  if (format == 4) {
    P2L_RETURN_IF_ERROR(need(4, "pg_version"));
    m.pg_version = DecodeBE32(b + pos);
    pos += 4;
  } else {
    m.pg_version = 14;
  }
  if (pos != end) {
    return rd.Error(path, fmt::format("legacy metadata body has {} trailing bytes", end - pos));
  }
  if (m.disk_consistent_lsn % 8 != 0) {
    return rd.Error(path, fmt::format("legacy metadata disk_consistent_lsn {} is not 8-byte aligned",
                                      LsnToString(m.disk_consistent_lsn)));
  }
  P2L_RETURN_IF_ERROR(CheckPgVersion(rd, m.pg_version, path));
  return m;
}

Result<TimelineMetadata> ParseMetadata(const Reader& rd, const Json& j, const std::string& path) {
  if (j.is_object()) return ParseMetadataObject(rd, j, path);
  if (!j.is_array()) return rd.TypeError(path, "object or array of 512 bytes", j);
  if (j.size() != kLegacyMetadataSize) {
    return rd.Error(path, fmt::format("legacy metadata array has {} elements, expected 512", j.size()));
  }
  uint8_t bytes[kLegacyMetadataSize];
  for (size_t i = 0; i < kLegacyMetadataSize; i++) {
    std::string ep = fmt::format("{}[{}]", path, i);
    P2L_ASSIGN_OR_RETURN(uint64_t v, rd.U64(j[i], ep));
    if (v > 255) return rd.Error(ep, fmt::format("byte value {} is larger than 255", v));
    bytes[i] = uint8_t(v);
  }
  return DecodeLegacyMetadata(rd, bytes, path);
}

// ---- import_pgdata (§2.5) ----

// Externally tagged enum: an object with exactly one key, the variant name.
Result<std::pair<std::string, const Json*>> Variant(const Reader& rd, const Json& j,
                                                    const std::string& path) {
  P2L_RETURN_IF_ERROR(rd.Object(j, path));
  if (j.size() != 1) {
    return rd.Error(path, fmt::format("expected an object with exactly one variant key, got {} keys", j.size()));
  }
  auto it = j.begin();
  return std::make_pair(it.key(), &it.value());
}

// Validates Location and returns it re-serialized in the pageserver's field order.
Result<std::string> ParseLocation(const Reader& rd, const Json& j, const std::string& path) {
  P2L_ASSIGN_OR_RETURN(auto var, Variant(rd, j, path));
  std::string vpath = Join(path, var.first);
  P2L_RETURN_IF_ERROR(rd.Object(*var.second, vpath));
  std::string out;
  ObjectWriter outer(&out);
  if (var.first == "AwsS3") {
    ObjectWriter inner(outer.Key("AwsS3"));
    for (const char* f : {"region", "bucket", "key"}) {
      const Json* v;
      P2L_ASSIGN_OR_RETURN(v, rd.Required(*var.second, f, vpath));
      P2L_ASSIGN_OR_RETURN(std::string s, rd.String(*v, Join(vpath, f)));
      inner.String(f, s);
    }
    inner.Close();
  } else if (var.first == "LocalFs") {
    ObjectWriter inner(outer.Key("LocalFs"));
    const Json* v;
    P2L_ASSIGN_OR_RETURN(v, rd.Required(*var.second, "path", vpath));
    P2L_ASSIGN_OR_RETURN(std::string s, rd.String(*v, Join(vpath, "path")));
    inner.String("path", s);
    inner.Close();
  } else {
    return rd.Error(path, fmt::format("unknown variant \"{}\", expected AwsS3 or LocalFs", Clip(var.first)));
  }
  outer.Close();
  return out;
}

Result<ImportPgdata> ParseImportPgdata(const Reader& rd, const Json& j) {
  const std::string root = "import_pgdata";
  P2L_ASSIGN_OR_RETURN(auto v1, Variant(rd, j, root));
  if (v1.first != "V1") {
    return rd.Error(root, fmt::format("unknown variant \"{}\", expected V1", Clip(v1.first)));
  }
  std::string v1path = root + ".V1";
  P2L_ASSIGN_OR_RETURN(auto st, Variant(rd, *v1.second, v1path));
  std::string spath = Join(v1path, st.first);
  ImportPgdata ip;
  if (st.first == "InProgress") {
    ip.state = ImportPgdata::State::kInProgress;
  } else if (st.first == "Done") {
    ip.state = ImportPgdata::State::kDone;
  } else {
    return rd.Error(v1path, fmt::format("unknown variant \"{}\", expected InProgress or Done", Clip(st.first)));
  }
  const Json& o = *st.second;
  P2L_RETURN_IF_ERROR(rd.Object(o, spath));
  const Json* v;
  P2L_ASSIGN_OR_RETURN(v, rd.Required(o, "idempotency_key", spath));
  P2L_ASSIGN_OR_RETURN(ip.idempotency_key, rd.String(*v, Join(spath, "idempotency_key")));
  if (ip.state == ImportPgdata::State::kInProgress) {
    P2L_ASSIGN_OR_RETURN(v, rd.Required(o, "location", spath));
    P2L_ASSIGN_OR_RETURN(ip.location_json, ParseLocation(rd, *v, Join(spath, "location")));
  }
  P2L_ASSIGN_OR_RETURN(v, rd.Required(o, "started_at", spath));
  P2L_ASSIGN_OR_RETURN(ip.started_at_nanos, rd.DateTime(*v, Join(spath, "started_at")));
  if (ip.state == ImportPgdata::State::kDone) {
    P2L_ASSIGN_OR_RETURN(v, rd.Required(o, "finished_at", spath));
    P2L_ASSIGN_OR_RETURN(ip.finished_at_nanos, rd.DateTime(*v, Join(spath, "finished_at")));
  }
  return ip;
}

// ---- layer_metadata (§2.3) ----

Result<LayerFileMetadata> ParseLayerMetadata(const Reader& rd, const Json& j, const std::string& path) {
  P2L_RETURN_IF_ERROR(rd.Object(j, path));
  LayerFileMetadata lm;
  const Json* v;
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "file_size", path));
  P2L_ASSIGN_OR_RETURN(lm.file_size, rd.U64(*v, Join(path, "file_size")));
  if ((v = Reader::Find(j, "generation")) && !v->is_null()) {
    P2L_ASSIGN_OR_RETURN(lm.generation, rd.U32(*v, Join(path, "generation")));
  }
  if ((v = Reader::Find(j, "shard"))) {
    std::string sp = Join(path, "shard");
    P2L_ASSIGN_OR_RETURN(std::string s, rd.String(*v, sp));
    if (!IsShardIndex(s)) {
      return rd.Error(sp, fmt::format("expected 4 hex digits (shard number, count), got \"{}\"", Clip(s)));
    }
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    lm.shard = s;
  }
  return lm;
}

// ---- our extension (§ pgdata2layers) ----

Result<ImportProgress> ParseProgress(const Reader& rd, const Json& j) {
  const std::string path = "pgdata2layers";
  P2L_RETURN_IF_ERROR(rd.Object(j, path));
  ImportProgress p;
  struct F { const char* name; uint64_t* dst; } fields[] = {
      {"plan_fingerprint", &p.plan_fingerprint},
      {"jobs", &p.jobs},
      {"completed", &p.completed},
      {"soft_size_limit", &p.soft_size_limit},
  };
  for (const F& f : fields) {
    const Json* v;
    P2L_ASSIGN_OR_RETURN(v, rd.Required(j, f.name, path));
    P2L_ASSIGN_OR_RETURN(*f.dst, rd.U64(*v, Join(path, f.name)));
  }
  if (p.completed > p.jobs) {
    return rd.Error(Join(path, "completed"), fmt::format("{} exceeds jobs {}", p.completed, p.jobs));
  }
  return p;
}

// ---- fields we only validate and keep as raw JSON (§2.6) ----

Status CheckLineage(const Reader& rd, const Json& j) {
  const std::string path = "lineage";
  P2L_RETURN_IF_ERROR(rd.Object(j, path));
  const Json* v;
  if ((v = Reader::Find(j, "reparenting_history_truncated")) && !v->is_boolean()) {
    return rd.TypeError(Join(path, "reparenting_history_truncated"), "boolean", *v);
  }
  if ((v = Reader::Find(j, "reparenting_history"))) {
    std::string hp = Join(path, "reparenting_history");
    if (!v->is_array()) return rd.TypeError(hp, "array", *v);
    for (size_t i = 0; i < v->size(); i++) {
      P2L_RETURN_IF_ERROR(rd.Id((*v)[i], fmt::format("{}[{}]", hp, i)).status());
    }
  }
  if ((v = Reader::Find(j, "original_ancestor")) && !v->is_null()) {
    std::string ap = Join(path, "original_ancestor");
    if (!v->is_array() || v->size() != 3) return rd.Error(ap, "expected [timeline id, LSN, date-time]");
    P2L_RETURN_IF_ERROR(rd.Id((*v)[0], ap + "[0]").status());
    P2L_RETURN_IF_ERROR(rd.Lsn((*v)[1], ap + "[1]").status());
    P2L_RETURN_IF_ERROR(rd.DateTime((*v)[2], ap + "[2]").status());
  }
  return Status::OK();
}

Status CheckGcBlocking(const Reader& rd, const Json& j) {
  const std::string path = "gc_blocking";
  P2L_RETURN_IF_ERROR(rd.Object(j, path));
  const Json* v;
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "started_at", path));
  P2L_RETURN_IF_ERROR(rd.DateTime(*v, Join(path, "started_at")).status());
  P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "reasons", path));
  std::string rp = Join(path, "reasons");
  if (!v->is_array()) return rd.TypeError(rp, "array", *v);
  for (size_t i = 0; i < v->size(); i++) {
    std::string ep = fmt::format("{}[{}]", rp, i);
    P2L_ASSIGN_OR_RETURN(std::string r, rd.String((*v)[i], ep));
    if (r != "Manual" && r != "DetachAncestor") {
      return rd.Error(ep, fmt::format("unknown gc blocking reason \"{}\"", Clip(r)));
    }
  }
  return Status::OK();
}

Status CheckKnownOptional(const Reader& rd, const std::string& key, const Json& j) {
  if (key == "deleted_at" || key == "archived_at" || key == "marked_invisible_at") {
    return rd.DateTime(j, key).status();
  }
  if (key == "l2_lsn" || key == "rel_size_migrated_at") return rd.Lsn(j, key).status();
  if (key == "gc_compaction") {
    P2L_RETURN_IF_ERROR(rd.Object(j, key));
    const Json* v;
    P2L_ASSIGN_OR_RETURN(v, rd.Required(j, "last_completed_lsn", key));
    return rd.Lsn(*v, Join(key, "last_completed_lsn")).status();
  }
  if (key == "gc_blocking") return CheckGcBlocking(rd, j);
  if (key == "last_aux_file_policy") {
    P2L_ASSIGN_OR_RETURN(std::string s, rd.String(j, key));
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (s != "v1" && s != "v2" && s != "cross-validation") {
      return rd.Error(key, fmt::format("unknown aux file policy \"{}\"", Clip(s)));
    }
    return Status::OK();
  }
  if (key == "rel_size_migration") {
    P2L_ASSIGN_OR_RETURN(std::string s, rd.String(j, key));
    if (s != "legacy" && s != "migrating" && s != "migrated") {
      return rd.Error(key, fmt::format("unknown rel size migration state \"{}\"", Clip(s)));
    }
    return Status::OK();
  }
  return Status::OK();
}

// Known optional top-level fields we do not model, in the pageserver's order: the first two
// come before import_pgdata, the rest after lineage.
constexpr const char* kBeforeImport[] = {"deleted_at", "archived_at"};
constexpr const char* kAfterLineage[] = {"gc_blocking",   "last_aux_file_policy", "rel_size_migration",
                                         "l2_lsn",        "gc_compaction",        "marked_invisible_at",
                                         "rel_size_migrated_at"};

bool IsOrderedKey(std::string_view k) {
  static const std::set<std::string_view> kKnown = {
      "version",       "deleted_at",         "archived_at",          "import_pgdata",
      "layer_metadata", "disk_consistent_lsn", "metadata_bytes",      "metadata",
      "lineage",       "gc_blocking",        "last_aux_file_policy", "rel_size_migration",
      "l2_lsn",        "gc_compaction",      "marked_invisible_at",  "rel_size_migrated_at",
      "pgdata2layers"};
  return kKnown.count(k) > 0;
}

bool IsKnownOptional(std::string_view k) {
  for (const char* f : kBeforeImport) if (k == f) return true;
  for (const char* f : kAfterLineage) if (k == f) return true;
  return false;
}

// Records the first duplicate object key seen while parsing (std::map would silently keep one).
struct DuplicateKeyTracker {
  struct Frame {
    bool is_object = false;
    std::set<std::string> keys;
    std::string key;
  };
  std::vector<Frame> stack;
  std::string duplicate_path;  // empty = none

  bool OnEvent(Json::parse_event_t ev, const Json& parsed) {
    switch (ev) {
      case Json::parse_event_t::object_start: stack.push_back(Frame{true, {}, {}}); break;
      case Json::parse_event_t::array_start: stack.push_back(Frame{false, {}, {}}); break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!stack.empty() && parsed.is_string()) {
          Frame& f = stack.back();
          f.key = parsed.get<std::string>();
          if (!f.keys.insert(f.key).second && duplicate_path.empty()) {
            std::string p;
            for (const Frame& fr : stack) p = fr.is_object ? Join(p, fr.key) : p + "[]";
            duplicate_path = p;
          }
        }
        break;
      case Json::parse_event_t::value: break;
    }
    return true;
  }
};

void WriteMetadata(std::string* out, const TimelineMetadata& m) {
  ObjectWriter w(out);
  w.String("disk_consistent_lsn", LsnToString(m.disk_consistent_lsn));
  if (m.prev_record_lsn) {
    w.String("prev_record_lsn", LsnToString(*m.prev_record_lsn));
  } else {
    w.Raw("prev_record_lsn", "null");
  }
  if (m.ancestor_timeline) {
    w.String("ancestor_timeline", m.ancestor_timeline->ToHex());
  } else {
    w.Raw("ancestor_timeline", "null");
  }
  w.String("ancestor_lsn", LsnToString(m.ancestor_lsn));
  w.String("latest_gc_cutoff_lsn", LsnToString(m.latest_gc_cutoff_lsn));
  w.String("initdb_lsn", LsnToString(m.initdb_lsn));
  w.Uint("pg_version", m.pg_version);
  w.Close();
}

void WriteImportPgdata(std::string* out, const ImportPgdata& ip) {
  ObjectWriter root(out);
  ObjectWriter v1(root.Key("V1"));
  bool done = ip.state == ImportPgdata::State::kDone;
  ObjectWriter st(v1.Key(done ? "Done" : "InProgress"));
  st.String("idempotency_key", ip.idempotency_key);
  if (!done) st.Raw("location", ip.location_json);
  st.String("started_at", FormatNaiveDateTime(ip.started_at_nanos));
  if (done) {
    // Validate() reports a missing finished_at; the writer falls back to started_at.
    st.String("finished_at", FormatNaiveDateTime(ip.finished_at_nanos.value_or(ip.started_at_nanos)));
  }
  st.Close();
  v1.Close();
  root.Close();
}

Result<IndexPart> ParseDocument(const Json& doc, const Reader& rd) {
  if (!doc.is_object()) return rd.TypeError("", "a JSON object at the top level", doc);
  IndexPart ip;
  ip.has_version = false;
  ip.version = 0;
  ip.has_lineage = false;

  if (doc.contains("metadata_bytes") && doc.contains("metadata")) {
    return rd.Error("metadata_bytes", "duplicate field: both \"metadata_bytes\" and its alias \"metadata\" are present");
  }
  bool have_layers = false, have_dcl = false, have_md = false;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (key == "version") {
      P2L_ASSIGN_OR_RETURN(ip.version, rd.U32(v, key));
      ip.has_version = true;
    } else if (key == "import_pgdata") {
      if (!v.is_null()) {
        P2L_ASSIGN_OR_RETURN(ip.import_pgdata, ParseImportPgdata(rd, v));
      }
    } else if (key == "layer_metadata") {
      P2L_RETURN_IF_ERROR(rd.Object(v, key));
      for (auto lit = v.begin(); lit != v.end(); ++lit) {
        std::string lpath = Join(key, lit.key());
        P2L_RETURN_IF_ERROR(CheckLayerName(rd, lit.key(), lpath));
        P2L_ASSIGN_OR_RETURN(LayerFileMetadata lm, ParseLayerMetadata(rd, lit.value(), lpath));
        ip.layer_metadata.emplace(lit.key(), std::move(lm));
      }
      have_layers = true;
    } else if (key == "disk_consistent_lsn") {
      P2L_ASSIGN_OR_RETURN(ip.disk_consistent_lsn, rd.Lsn(v, key));
      have_dcl = true;
    } else if (key == "metadata_bytes" || key == "metadata") {
      P2L_ASSIGN_OR_RETURN(ip.metadata, ParseMetadata(rd, v, key));
      have_md = true;
    } else if (key == "pgdata2layers") {
      if (!v.is_null()) {
        P2L_ASSIGN_OR_RETURN(ip.progress, ParseProgress(rd, v));
      }
    } else if (key == "lineage") {
      P2L_RETURN_IF_ERROR(CheckLineage(rd, v));
      ip.has_lineage = true;
      if (!v.empty()) ip.other_fields[key] = v.dump();
    } else if (IsKnownOptional(key)) {
      if (v.is_null()) continue;  // an Option field given as null reads as absent
      P2L_RETURN_IF_ERROR(CheckKnownOptional(rd, key, v));
      ip.other_fields[key] = v.dump();
    } else {
      ip.other_fields[key] = v.dump();  // unknown: kept verbatim (compact)
    }
  }
  if (!have_layers) return rd.Error("", "missing field \"layer_metadata\"");
  if (!have_dcl) return rd.Error("", "missing field \"disk_consistent_lsn\"");
  if (!have_md) return rd.Error("", "missing field \"metadata_bytes\"");
  return ip;
}

}  // namespace

// ---- primitive text forms (§1) ----

std::string LsnToString(uint64_t lsn) {
  return fmt::format("{:X}/{:X}", uint32_t(lsn >> 32), uint32_t(lsn));
}

Result<uint64_t> ParseLsn(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  std::string_view t = s;
  while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
  while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
  auto bad = [&](std::string_view why) {
    return Status::InvalidInput(fmt::format("invalid LSN \"{}\": {}", Clip(s), why));
  };
  size_t slash = t.find('/');
  if (slash == std::string_view::npos) return bad("expected HI/LO");
  if (t.find('/', slash + 1) != std::string_view::npos) return bad("more than one '/'");
  uint64_t halves[2];
  std::string_view parts[2] = {t.substr(0, slash), t.substr(slash + 1)};
  for (int i = 0; i < 2; i++) {
    std::string_view p = parts[i];
    if (!p.empty() && p[0] == '+') p.remove_prefix(1);  // like Rust's u32::from_str_radix
    if (p.empty() || !IsHex(p)) return bad("each half must be hexadecimal");
    uint64_t v = 0;
    for (char c : p) {
      int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      v = (v << 4) | uint64_t(d);
      if (v > 0xFFFFFFFFull) return bad("a half does not fit in 32 bits");
    }
    halves[i] = v;
  }
  return (halves[0] << 32) | halves[1];
}

// chrono's NaiveDateTime debug form: no fraction when nanos == 0, else 3, 6 or 9 digits.
std::string FormatNaiveDateTime(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1000000000;
  int64_t nanos = unix_nanos % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, sod / 3600,
                                (sod / 60) % 60, sod % 60);
  if (nanos == 0) return out;
  if (nanos % 1000000 == 0) return out + fmt::format(".{:03}", nanos / 1000000);
  if (nanos % 1000 == 0) return out + fmt::format(".{:06}", nanos / 1000);
  return out + fmt::format(".{:09}", nanos);
}

Result<int64_t> ParseNaiveDateTime(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidInput(fmt::format("invalid date-time \"{}\": {}", Clip(s), why));
  };
  size_t pos = 0;
  auto digits = [&](size_t n, int64_t* out) {
    if (s.size() - pos < n) return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos += n;
    *out = v;
    return true;
  };
  auto lit = [&](char c) {
    if (pos < s.size() && s[pos] == c) {
      pos++;
      return true;
    }
    return false;
  };
  int64_t Y, M, D, h, mi, sec;
  if (!digits(4, &Y) || !lit('-') || !digits(2, &M) || !lit('-') || !digits(2, &D)) {
    return bad("expected YYYY-MM-DD");
  }
  if (!lit('T')) return bad("expected 'T' between date and time");
  if (!digits(2, &h) || !lit(':') || !digits(2, &mi) || !lit(':') || !digits(2, &sec)) {
    return bad("expected HH:MM:SS");
  }
  int64_t frac = 0;
  if (lit('.')) {
    size_t start = pos, n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) frac = frac * 10 + (s[pos] - '0');  // digits after the 9th are ignored
      n++;
      pos++;
    }
    if (pos == start) return bad("expected digits after '.'");
    for (; n < 9; n++) frac *= 10;
  }
  if (pos != s.size()) return bad("trailing input (no time zone suffix is allowed)");
  if (M < 1 || M > 12) return bad("month out of range");
  if (D < 1 || D > int64_t(DaysInMonth(Y, unsigned(M)))) return bad("day out of range");
  if (h > 23 || mi > 59 || sec > 59) return bad("time out of range");
  int64_t days = DaysFromCivil(Y, unsigned(M), unsigned(D));
  // int64 nanoseconds cover 1677-09-21 .. 2262-04-11.
  constexpr int64_t kMaxSecs = INT64_MAX / 1000000000 - 1;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec;
  if (secs > kMaxSecs || secs < -kMaxSecs) return bad("outside the supported range 1677..2262");
  return secs * 1000000000 + frac;
}

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- IndexPart ----

std::string IndexPart::ToJson() const {
  std::string out;
  ObjectWriter w(&out);
  auto other = [&](const char* k) {
    auto it = other_fields.find(k);
    if (it != other_fields.end()) w.Raw(k, it->second);
  };
  if (has_version) w.Uint("version", version);
  for (const char* k : kBeforeImport) other(k);
  if (import_pgdata) WriteImportPgdata(w.Key("import_pgdata"), *import_pgdata);
  {
    ObjectWriter lw(w.Key("layer_metadata"));
    for (const auto& [name, lm] : layer_metadata) {
      ObjectWriter ew(lw.Key(name));
      ew.Uint("file_size", lm.file_size);
      if (lm.generation) ew.Uint("generation", *lm.generation);
      if (lm.shard != "0000") ew.String("shard", lm.shard);
      ew.Close();
    }
    lw.Close();
  }
  w.String("disk_consistent_lsn", LsnToString(disk_consistent_lsn));
  WriteMetadata(w.Key("metadata_bytes"), metadata);
  if (has_lineage) {
    auto it = other_fields.find("lineage");
    w.Raw("lineage", it != other_fields.end() ? std::string_view(it->second) : std::string_view("{}"));
  }
  for (const char* k : kAfterLineage) other(k);
  for (const auto& [k, v] : other_fields) {
    if (!IsOrderedKey(k)) w.Raw(k, v);
  }
  if (progress) {
    ObjectWriter pw(w.Key("pgdata2layers"));
    pw.Uint("plan_fingerprint", progress->plan_fingerprint);
    pw.Uint("jobs", progress->jobs);
    pw.Uint("completed", progress->completed);
    pw.Uint("soft_size_limit", progress->soft_size_limit);
    pw.Close();
  }
  w.Close();
  return out;
}

Result<IndexPart> IndexPart::Parse(std::string_view json, std::string_view what) {
  Reader rd(what);
  if (json.size() > kMaxIndexPartBytes) {
    return rd.Error("", fmt::format("{} bytes is larger than the 64 MiB limit for index_part.json", json.size()));
  }
  P2L_RETURN_IF_ERROR(CheckDepth(json, what));
  try {
    DuplicateKeyTracker dups;
    Json::parser_callback_t cb = [&dups](int /*depth*/, Json::parse_event_t ev, Json& parsed) {
      return dups.OnEvent(ev, parsed);
    };
    Json doc = Json::parse(json.begin(), json.end(), cb, /*allow_exceptions=*/true,
                           /*ignore_comments=*/false);
    if (!dups.duplicate_path.empty()) {
      return rd.Error(dups.duplicate_path, "duplicate object key");
    }
    return ParseDocument(doc, rd);
  } catch (const Json::parse_error& e) {
    return rd.Error("", fmt::format("invalid JSON at byte {}: {}", e.byte, e.what()));
  } catch (const std::exception& e) {
    return rd.Error("", fmt::format("cannot parse JSON: {}", e.what()));
  }
}

Status IndexPart::Validate() const {
  Reader rd("index_part");
  P2L_RETURN_IF_ERROR(CheckPgVersion(rd, metadata.pg_version, "metadata_bytes.pg_version"));
  if (disk_consistent_lsn != metadata.disk_consistent_lsn) {
    return rd.Error("disk_consistent_lsn",
                    fmt::format("{} differs from metadata_bytes.disk_consistent_lsn {}",
                                LsnToString(disk_consistent_lsn), LsnToString(metadata.disk_consistent_lsn)));
  }
  for (const auto& [name, lm] : layer_metadata) {
    std::string path = Join("layer_metadata", name);
    P2L_RETURN_IF_ERROR(CheckLayerName(rd, name, path));
    if (!IsShardIndex(lm.shard)) {
      return rd.Error(Join(path, "shard"), fmt::format("\"{}\" is not 4 hex digits", Clip(lm.shard)));
    }
  }
  if (import_pgdata) {
    if (import_pgdata->state == ImportPgdata::State::kDone && !import_pgdata->finished_at_nanos) {
      return rd.Error("import_pgdata.V1.Done.finished_at", "missing");
    }
    if (import_pgdata->state == ImportPgdata::State::kInProgress) {
      if (import_pgdata->location_json.empty()) {
        return rd.Error("import_pgdata.V1.InProgress.location", "missing");
      }
      Status st;
      try {
        Json loc = Json::parse(import_pgdata->location_json);
        st = ParseLocation(rd, loc, "import_pgdata.V1.InProgress.location").status();
      } catch (const std::exception& e) {
        st = rd.Error("import_pgdata.V1.InProgress.location", fmt::format("invalid JSON: {}", e.what()));
      }
      P2L_RETURN_IF_ERROR(st);
    }
  }
  if (progress && progress->completed > progress->jobs) {
    return rd.Error("pgdata2layers.completed",
                    fmt::format("{} exceeds jobs {}", progress->completed, progress->jobs));
  }
  return Status::OK();
}

}  // namespace p2l
