#include "import/timeline_state.h"

#include <fmt/format.h>

namespace p2l {

namespace {

constexpr std::string_view kIndexBase = "index_part.json";
constexpr uint64_t kMaxIndexSize = 64ull << 20;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// none < any generation; otherwise numeric.
bool Lower(const std::optional<uint32_t>& a, const std::optional<uint32_t>& b) {
  if (!a) return bool(b);
  if (!b) return false;
  return *a < *b;
}

}  // namespace

std::optional<IndexObjectName> ParseIndexObjectName(std::string_view base) {
  if (base == kIndexBase) return IndexObjectName{std::string(base), std::nullopt};
  if (base.size() != kIndexBase.size() + 9 || base.substr(0, kIndexBase.size()) != kIndexBase ||
      base[kIndexBase.size()] != '-') {
    return std::nullopt;
  }
  uint32_t gen = 0;
  for (char c : base.substr(kIndexBase.size() + 1)) {
    int v = HexValue(c);
    if (v < 0) return std::nullopt;
    gen = (gen << 4) | uint32_t(v);
  }
  return IndexObjectName{std::string(base), gen};
}

std::optional<IndexObjectName> SelectLatestIndex(const std::vector<std::string>& base_names,
                                                 std::optional<uint32_t> max_generation) {
  std::optional<IndexObjectName> best;
  for (const std::string& n : base_names) {
    std::optional<IndexObjectName> p = ParseIndexObjectName(n);
    if (!p) continue;
    if (max_generation && p->generation && *p->generation > *max_generation) continue;
    // Equal generations spelled differently (upper/lower hex): keep the first in name order.
    if (!best || Lower(best->generation, p->generation)) best = std::move(p);
  }
  return best;
}

Result<std::optional<TimelineIndex>> ReadLatestIndexPart(Storage& dest, std::string_view timeline_dir) {
  const std::string dir = std::string(timeline_dir) + "/";
  P2L_ASSIGN_OR_RETURN(Listing listing, dest.List(dir));
  std::vector<std::string> bases;
  bases.reserve(listing.objects.size());
  for (const ObjectInfo& o : listing.objects) {
    std::string_view n = o.name;
    if (n.size() > dir.size() && n.substr(0, dir.size()) == dir) bases.emplace_back(n.substr(dir.size()));
  }
  std::optional<IndexObjectName> pick = SelectLatestIndex(bases);
  if (!pick) return std::optional<TimelineIndex>();
  TimelineIndex ti;
  ti.object = dir + pick->name;
  ti.generation = pick->generation;
  P2L_ASSIGN_OR_RETURN(std::string body, dest.ReadAll(ti.object, kMaxIndexSize));
  P2L_ASSIGN_OR_RETURN(ti.index, IndexPart::Parse(body, dest.Describe(ti.object)));
  return std::optional<TimelineIndex>(std::move(ti));
}

Result<ExistingImport> ClassifyExistingIndex(const std::optional<TimelineIndex>& cur, std::string_view key,
                                             uint32_t generation, std::string_view where) {
  if (!cur) return ExistingImport::kNone;
  const IndexPart& idx = cur->index;
  if (!idx.import_pgdata) {
    return Status::TimelineTaken(fmt::format(
        "{}: the timeline already exists and was not created by an import (its index_part.json has no "
        "import_pgdata record); choose another --timeline-id",
        where));
  }
  const ImportPgdata& ip = *idx.import_pgdata;
  const bool done = ip.state == ImportPgdata::State::kDone;
  if (ip.idempotency_key != key) {
    return Status::TimelineTaken(fmt::format(
        "{}: an import with a different idempotency key is {} there (recorded \"{}\", ours \"{}\"); rerun with "
        "--idempotency-key \"{}\" to continue that import, or choose another --timeline-id",
        where, done ? "complete" : "in progress", ip.idempotency_key, key, ip.idempotency_key));
  }
  if (done) return ExistingImport::kDoneSameKey;
  if (cur->generation && *cur->generation > generation) {
    return Status::Conflict(fmt::format(
        "{}: the import in progress was last written in generation {} (object {}), higher than --generation {}; "
        "an index written in generation {} would be ignored. Rerun with --generation {} or higher",
        where, *cur->generation, cur->object, generation, generation, *cur->generation));
  }
  return ExistingImport::kInProgressSameKey;
}

}  // namespace p2l
