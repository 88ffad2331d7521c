// Layer dump (image-layer.md §3 summary fields, §5 index; key descriptions keyspace-and-sharding.md
// §1.2).
#include "tools/inspect.h"

#include <fmt/format.h>

#include <cstdio>
#include <vector>

#include "index/index_part.h"
#include "layer/file_reader.h"
#include "layer/format.h"
#include "layer/layer_name.h"
#include "layer/summary.h"
#include "tools/describe.h"
#include "tools/timeline_reader.h"

namespace p2l {

namespace {

std::string_view BaseName(std::string_view name) {
  const size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

// "matches the summary", a mismatch, or "not an image layer name".
std::string NameCheck(const ImageLayerSummary& s, std::string_view name) {
  std::optional<uint32_t> gen;
  auto parsed = ImageLayerName::Parse(BaseName(name), &gen);
  if (!parsed.ok()) return "not an image layer name (not checked)";
  Status st = CheckSummaryMatches(s, s.tenant, parsed->key_start, parsed->key_end, parsed->lsn,
                                  std::string(BaseName(name)));
  if (!st.ok()) return "MISMATCH: " + st.message();
  return gen ? fmt::format("matches the summary (generation {:08x})", *gen) : "matches the summary";
}

}  // namespace

Status InspectReader(ImageLayerReader& reader, std::string_view name, const InspectOptions& opts,
                     const LineSink& out, EventSink& events) {
  const ImageLayerSummary& s = reader.summary();
  // Keys and blob offsets first (index only), so the summary can show the key count.
  std::vector<uint64_t> offsets;
  uint64_t nkeys = 0;
  P2L_RETURN_IF_ERROR(reader.ForEachKey([&](const Key&, uint64_t off) {
    nkeys++;
    if (opts.keys) offsets.push_back(off);
    return Status::OK();
  }));
  const std::string name_check = NameCheck(s, name);
  const bool json = events.enabled();
  if (json) {
    events.Emit("layer", {{"name", std::string(name)},
                          {"magic", fmt::format("0x{:04X}", s.magic)},
                          {"format_version", s.format_version},
                          {"tenant_id", s.tenant.ToHex()},
                          {"timeline_id", s.timeline.ToHex()},
                          {"key_start", s.key_start.ToHex()},
                          {"key_end", s.key_end.ToHex()},
                          {"lsn", LsnToString(s.lsn)},
                          {"index_start_blk", s.index_start_blk},
                          {"index_root_blk", s.index_root_blk},
                          {"index_nodes", reader.num_index_nodes()},
                          {"file_size", reader.file_size()},
                          {"keys", nkeys},
                          {"name_check", name_check}});
  } else {
    out(fmt::format("layer:           {}", name));
    out(fmt::format("magic:           0x{:04X}{}", s.magic, s.magic == kImageFileMagic ? " (image layer)" : ""));
    out(fmt::format("format_version:  {}", s.format_version));
    out(fmt::format("tenant:          {}", s.tenant.ToHex()));
    out(fmt::format("timeline:        {}", s.timeline.ToHex()));
    out(fmt::format("key_start:       {}  {}", s.key_start.ToHex(), DescribeKey(s.key_start)));
    out(fmt::format("key_end:         {}  {}", s.key_end.ToHex(), DescribeKey(s.key_end)));
    out(fmt::format("lsn:             {} ({:016X})", LsnToString(s.lsn), s.lsn));
    out(fmt::format("index_start_blk: {}", s.index_start_blk));
    out(fmt::format("index_root_blk:  {} (block {} of the file)", s.index_root_blk,
                    uint64_t(s.index_start_blk) + s.index_root_blk));
    out(fmt::format("index_nodes:     {}", reader.num_index_nodes()));
    out(fmt::format("file_size:       {}", reader.file_size()));
    out(fmt::format("keys:            {}", nkeys));
    out(fmt::format("name:            {}", name_check));
  }
  if (!opts.keys) return Status::OK();
  if (!json) out(fmt::format("{:<36} {:>12} {:>8}  {}", "KEY", "BLOB_OFFSET", "LEN", "DESCRIPTION"));
  size_t i = 0;
  return reader.ForEach([&](const Key& k, std::string_view v) -> Status {
    if (i >= offsets.size()) {
      return Status::InvalidInput(fmt::format("{}: the value scan found more keys than the index scan ({})",
                                              name, offsets.size()));
    }
    const uint64_t off = offsets[i++];
    std::string desc = DescribeKey(k);
    std::string decoded = DescribeValue(k, v);
    if (json) {
      nlohmann::json j = {{"key", k.ToHex()}, {"offset", off}, {"len", v.size()}, {"desc", desc}};
      if (!decoded.empty()) j["value_desc"] = decoded;
      if (opts.values) j["value"] = HexBytes(v);
      events.Emit("key", std::move(j));
    } else {
      if (!decoded.empty()) desc += " = " + decoded;
      out(fmt::format("{} {:>12} {:>8}  {}", k.ToHex(), off, v.size(), desc));
      if (opts.values) {
        // 32 bytes (64 hex digits) per line, indented, with the offset inside the value.
        for (size_t p = 0; p < v.size(); p += 32) {
          out(fmt::format("    {:06x}  {}", p, HexBytes(v.substr(p, 32))));
        }
      }
    }
    return Status::OK();
  });
}

Status InspectLayer(std::string_view url, const StorageOptions& storage_opts,
                    const InspectOptions& opts, EventSink& events) {
  std::unique_ptr<RandomReader> file;
  std::string shown(url);
  const bool remote = url.find("://") != std::string_view::npos && url.substr(0, 7) != "file://";
  std::unique_ptr<Storage> storage;
  if (remote) {
    std::string root, name;
    P2L_RETURN_IF_ERROR(SplitObjectUrl(url, &root, &name));
    P2L_ASSIGN_OR_RETURN(storage, OpenStorage(root, storage_opts));
    shown = storage->Describe(name);
    P2L_ASSIGN_OR_RETURN(file, storage->OpenReader(name));
  } else {
    std::string path(url.substr(0, 7) == "file://" ? url.substr(7) : url);
    P2L_ASSIGN_OR_RETURN(file, OpenLocalFileReader(path));
  }
  auto reader = ImageLayerReader::Open(std::move(file));
  if (!reader.ok()) return reader.status().WithContext(shown);
  auto print = [](const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  };
  Status st = InspectReader(**reader, shown, opts, print, events);
  std::fflush(stdout);
  return st;
}

}  // namespace p2l
