// Timeline discovery and layer opening (index-part-and-import.md §3.1 object keys, §3.3 index
// choice among generations; keyspace-and-sharding.md §4.6 shard suffixes).
#include "tools/timeline_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "index/remote_layout.h"

namespace p2l {

namespace {

constexpr uint64_t kMaxIndexSize = 64ull << 20;     // index-part spec reader bound
constexpr uint64_t kMaxManifestSize = 16ull << 20;
constexpr std::string_view kIndexBase = "index_part.json";
constexpr std::string_view kManifestBase = "tenant-manifest-";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly `n` hex digits.
bool ParseHexN(std::string_view s, size_t n, uint64_t* out) {
  if (s.size() != n) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = HexDigit(c);
    if (d < 0) return false;
    v = (v << 4) | uint64_t(d);
  }
  *out = v;
  return true;
}

std::string_view BaseName(std::string_view name) {
  const size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

// "a/b/" -> "a/b/"; "a/b" -> "a/b/".
std::string DirName(std::string_view dir) {
  std::string d(dir);
  if (!d.empty() && d.back() != '/') d += '/';
  return d;
}

// Shard directories of `tenant` found under tenants/.
Result<std::vector<TenantShardDir>> TenantShardDirs(Storage& dest, const TenantId* tenant) {
  P2L_ASSIGN_OR_RETURN(Listing l, dest.List("tenants/"));
  std::vector<TenantShardDir> out;
  for (const std::string& p : l.prefixes) {
    std::string_view name = p;
    if (!name.empty() && name.back() == '/') name.remove_suffix(1);
    auto d = ParseTenantShardDir(BaseName(name));
    if (!d) continue;
    if (tenant != nullptr && d->tenant != *tenant) continue;
    out.push_back(*d);
  }
  return out;
}

ShardIdentity IdentityOf(const TenantShardDir& d) {
  ShardIdentity s;
  s.number = d.number;
  s.count = d.count;
  return s;
}

}  // namespace

std::optional<TenantShardDir> ParseTenantShardDir(std::string_view name) {
  if (name.size() != 32 && name.size() != 37) return std::nullopt;
  auto id = Id16::FromHex(name.substr(0, 32));
  if (!id.ok()) return std::nullopt;
  TenantShardDir d;
  d.tenant = *id;
  if (name.size() == 37) {
    uint64_t nn, cc;
    if (name[32] != '-' || !ParseHexN(name.substr(33, 2), 2, &nn) ||
        !ParseHexN(name.substr(35, 2), 2, &cc)) {
      return std::nullopt;
    }
    if (cc == 0 || nn >= cc) return std::nullopt;
    d.number = uint8_t(nn);
    d.count = uint8_t(cc);
  }
  return d;
}

Result<IndexChoice> PickIndexPart(const std::vector<ObjectInfo>& objects, std::string_view dir) {
  std::optional<IndexChoice> best;
  for (const ObjectInfo& o : objects) {
    std::string_view base = BaseName(o.name);
    if (base.substr(0, kIndexBase.size()) != kIndexBase) continue;
    std::string_view rest = base.substr(kIndexBase.size());
    std::optional<uint32_t> gen;
    if (!rest.empty()) {
      uint64_t g;
      if (rest[0] != '-' || !ParseHexN(rest.substr(1), 8, &g)) continue;  // temp files etc.
      gen = uint32_t(g);
    }
    // "none" sorts before every generation (index-part-and-import.md §3.2).
    const bool better = !best || (gen && (!best->generation || *gen > *best->generation));
    if (better) best = IndexChoice{o.name, gen};
  }
  if (!best) return Status::NotFound(fmt::format("{}: no index_part.json object", dir));
  return *best;
}

Result<std::vector<TenantId>> ListTenants(Storage& dest) {
  P2L_ASSIGN_OR_RETURN(auto dirs, TenantShardDirs(dest, nullptr));
  std::set<TenantId> ids;
  for (const auto& d : dirs) ids.insert(d.tenant);
  return std::vector<TenantId>(ids.begin(), ids.end());
}

Result<std::vector<ShardIdentity>> FindTimelineShards(Storage& dest, const TenantId& tenant,
                                                      const TimelineId& timeline) {
  P2L_ASSIGN_OR_RETURN(auto dirs, TenantShardDirs(dest, &tenant));
  std::vector<ShardIdentity> out;
  for (const auto& d : dirs) {
    ShardIdentity s = IdentityOf(d);
    const std::string tl_dir = TimelinePath(tenant, s, timeline) + "/";
    P2L_ASSIGN_OR_RETURN(Listing l, dest.List(tl_dir));
    if (PickIndexPart(l.objects, tl_dir).ok()) out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const ShardIdentity& a, const ShardIdentity& b) {
    return std::pair(a.count, a.number) < std::pair(b.count, b.number);
  });
  return out;
}

Result<std::vector<TimelineId>> ListTimelines(Storage& dest, const TenantId& tenant) {
  P2L_ASSIGN_OR_RETURN(auto dirs, TenantShardDirs(dest, &tenant));
  std::set<TimelineId> ids;
  for (const auto& d : dirs) {
    const std::string tl_root = TenantShardPath(tenant, IdentityOf(d)) + "/timelines/";
    P2L_ASSIGN_OR_RETURN(Listing l, dest.List(tl_root));
    for (const std::string& p : l.prefixes) {
      std::string_view name = p;
      if (!name.empty() && name.back() == '/') name.remove_suffix(1);
      auto id = Id16::FromHex(BaseName(name));
      if (id.ok()) ids.insert(*id);
    }
  }
  return std::vector<TimelineId>(ids.begin(), ids.end());
}

Result<std::optional<uint32_t>> ReadManifestStripeSize(Storage& dest, const TenantId& tenant,
                                                       const ShardIdentity& shard) {
  const std::string dir = TenantShardPath(tenant, shard) + "/";
  P2L_ASSIGN_OR_RETURN(Listing l, dest.List(dir));
  std::optional<std::pair<uint32_t, std::string>> best;
  for (const ObjectInfo& o : l.objects) {
    std::string_view base = BaseName(o.name);
    // tenant-manifest-XXXXXXXX.json
    if (base.size() != kManifestBase.size() + 8 + 5 || base.substr(0, kManifestBase.size()) != kManifestBase ||
        base.substr(base.size() - 5) != ".json") {
      continue;
    }
    uint64_t g;
    if (!ParseHexN(base.substr(kManifestBase.size(), 8), 8, &g)) continue;
    if (!best || g > best->first) best = std::pair(uint32_t(g), o.name);
  }
  if (!best) return std::optional<uint32_t>();
  P2L_ASSIGN_OR_RETURN(std::string text, dest.ReadAll(best->second, kMaxManifestSize));
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object() || !j.contains("stripe_size") || j["stripe_size"].is_null()) {
      return std::optional<uint32_t>();
    }
    const auto& s = j["stripe_size"];
    if (!s.is_number_unsigned() || s.get<uint64_t>() == 0 || s.get<uint64_t>() > 0xFFFFFFFFull) {
      return Status::InvalidInput(fmt::format("{}: stripe_size: expected an integer 1..4294967295",
                                              dest.Describe(best->second)));
    }
    return std::optional<uint32_t>(uint32_t(s.get<uint64_t>()));
  } catch (const std::exception& e) {
    return Status::InvalidInput(fmt::format("{}: not valid JSON: {}", dest.Describe(best->second), e.what()));
  }
}

Result<ShardTimeline> LoadShardTimeline(Storage& dest, const TenantId& tenant,
                                        const TimelineId& timeline, const ShardIdentity& shard) {
  ShardTimeline st;
  st.shard = shard;
  st.dir = DirName(TimelinePath(tenant, shard, timeline));
  P2L_ASSIGN_OR_RETURN(Listing l, dest.List(st.dir));
  P2L_ASSIGN_OR_RETURN(st.index_object, PickIndexPart(l.objects, dest.Describe(st.dir)));
  const std::string where = dest.Describe(st.index_object.object);
  P2L_ASSIGN_OR_RETURN(std::string json, dest.ReadAll(st.index_object.object, kMaxIndexSize));
  P2L_ASSIGN_OR_RETURN(st.index, IndexPart::Parse(json, where));
  for (const auto& [name, meta] : st.index.layer_metadata) {
    auto parsed = ImageLayerName::Parse(name);
    if (!parsed.ok()) {
      return Status::InvalidInput(fmt::format("{}: layer_metadata: {}", where, parsed.status().message()));
    }
    // The parse accepts a generation suffix; a layer_metadata key must not carry one.
    if (parsed->ToString() != name) {
      return Status::InvalidInput(fmt::format(
          "{}: layer_metadata: '{}' is not a canonical image layer name (expected '{}')", where, name,
          parsed->ToString()));
    }
    uint64_t shard_bits;
    if (!ParseHexN(meta.shard, 4, &shard_bits)) {
      return Status::InvalidInput(fmt::format("{}: layer_metadata.{}.shard: '{}' is not 4 hex digits",
                                              where, name, meta.shard));
    }
    LayerRef ref;
    ref.name = name;
    ref.parsed = *parsed;
    ref.meta = meta;
    ref.object = LayerPathFromIndex(tenant, timeline, name, meta.shard, meta.generation);
    P2L_RETURN_IF_ERROR(ValidateObjectName(ref.object).WithContext(where));
    st.layers.push_back(std::move(ref));
  }
  std::sort(st.layers.begin(), st.layers.end(), [](const LayerRef& a, const LayerRef& b) {
    return std::tie(a.parsed.key_start, a.parsed.key_end, a.name) <
           std::tie(b.parsed.key_start, b.parsed.key_end, b.name);
  });
  return st;
}

Result<std::unique_ptr<ImageLayerReader>> OpenLayer(Storage& dest, const LayerRef& layer,
                                                    const ImageLayerReaderOptions& opts) {
  const std::string where = dest.Describe(layer.object);
  auto info = dest.Stat(layer.object);
  if (!info.ok()) {
    if (info.status().IsNotFound()) {
      return Status::NotFound(fmt::format("{}: layer object listed in the index does not exist", where));
    }
    return info.status();
  }
  if (info->size != layer.meta.file_size) {
    return Status::InvalidInput(fmt::format("{}: object has {} bytes, the index says file_size {}",
                                            where, info->size, layer.meta.file_size));
  }
  P2L_ASSIGN_OR_RETURN(auto file, dest.OpenReader(layer.object, &*info));
  auto r = ImageLayerReader::Open(std::move(file), opts);
  if (!r.ok()) return r.status().WithContext(where);
  return r;
}

Status SplitObjectUrl(std::string_view url, std::string* root, std::string* name) {
  const size_t slash = url.rfind('/');
  if (slash == std::string_view::npos) {
    *root = ".";
    *name = std::string(url);
  } else {
    *root = std::string(url.substr(0, slash));
    *name = std::string(url.substr(slash + 1));
    if (root->empty()) *root = "/";
  }
  if (name->empty()) return Status::Usage(fmt::format("'{}': names a directory, not an object", url));
  const size_t scheme = root->find("://");
  if (scheme != std::string::npos && root->size() <= scheme + 3) {
    return Status::Usage(fmt::format("'{}': no bucket/container before the object name", url));
  }
  if (root->size() >= 2 && root->substr(root->size() - 2) == ":/") {
    return Status::Usage(fmt::format("'{}': no bucket/container before the object name", url));
  }
  return Status::OK();
}

}  // namespace p2l

namespace p2l {

Status ResolveTimeline(Storage& dest, std::string_view tenant_hex, std::string_view timeline_hex,
                       TenantId* tenant, TimelineId* timeline) {
  auto join = [](const std::vector<Id16>& ids) {
    std::string s;
    for (const auto& id : ids) s += (s.empty() ? "" : ", ") + id.ToHex();
    return s;
  };
  if (!tenant_hex.empty()) {
    auto t = TenantId::FromHex(tenant_hex);
    if (!t.ok()) return Status::Usage("--tenant-id: " + t.status().message());
    *tenant = *t;
  } else {
    P2L_ASSIGN_OR_RETURN(auto all, ListTenants(dest));
    if (all.empty()) return Status::NotFound(fmt::format("{}: no tenants/ directory with a tenant", dest.Url()));
    if (all.size() > 1) {
      return Status::Usage(fmt::format("{}: several tenants ({}); choose one with --tenant-id", dest.Url(), join(all)));
    }
    *tenant = all[0];
  }
  if (!timeline_hex.empty()) {
    auto t = TimelineId::FromHex(timeline_hex);
    if (!t.ok()) return Status::Usage("--timeline-id: " + t.status().message());
    *timeline = *t;
  } else {
    P2L_ASSIGN_OR_RETURN(auto all, ListTimelines(dest, *tenant));
    if (all.empty()) {
      return Status::NotFound(fmt::format("{}: tenant {} has no timelines", dest.Url(), tenant->ToHex()));
    }
    if (all.size() > 1) {
      return Status::Usage(fmt::format("{}: tenant {} has several timelines ({}); choose one with --timeline-id",
                                       dest.Url(), tenant->ToHex(), join(all)));
    }
    *timeline = all[0];
  }
  return Status::OK();
}

}  // namespace p2l
