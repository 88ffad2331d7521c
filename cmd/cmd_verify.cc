// `pgdata2layers verify`: flags → Verify (lib/tools/verify.h). Exit 0 when everything checks
// out, 3 with a report of the problems otherwise; 3 also when the timeline is intact but not
// servable by a Neon pageserver (user tablespaces), unless --allow-unservable (then exit 0 with
// a warning).
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "import/source_options.h"
#include "tools/verify.h"
#include "util/events.h"

namespace p2l::cmd {

namespace {
struct VerifyFlags {
  TimelineFlags timeline;
  SideFlags sides;
  std::string source, keys_out;
  std::optional<uint32_t> shard_count, shard_number, stripe_size;
  bool allow_unclean = false;
  bool allow_unservable = false;
  size_t max_diffs = 20;
};

Status Run(const VerifyFlags& f, const GlobalOptions& g, int* exit_code) {
  P2L_ASSIGN_OR_RETURN(OpenedTimeline t, OpenTimeline(f.timeline, &f.sides));
  VerifyOptions o;
  o.tenant = t.tenant;
  o.timeline = t.timeline;
  o.shard_count = f.shard_count;
  o.shard_number = f.shard_number;
  o.stripe_size = f.stripe_size;
  o.allow_unclean_shutdown = f.allow_unclean;
  o.max_diffs = f.max_diffs;
  o.keys_out = f.keys_out;
  std::unique_ptr<Storage> source;
  if (!f.source.empty()) {
    P2L_ASSIGN_OR_RETURN(source, OpenSource(f.source, ForSide(t.storage, f.sides.source)));
    o.source = source.get();
  }
  EventSink& events = StdoutEvents(g.json);
  P2L_ASSIGN_OR_RETURN(VerifyReport r, Verify(*t.dest, o, events));
  uint64_t layers = 0, keys = 0, diffs = 0;
  for (const auto& s : r.shards) {
    layers += s.layers;
    keys += s.keys;
    diffs += s.differences;
  }
  if (!g.json) {
    for (const auto& s : r.shards) {
      std::printf("shard %s: %s: %llu layers, %llu keys, %llu value bytes", s.shard.c_str(), s.index_object.c_str(),
                  (unsigned long long)s.layers, (unsigned long long)s.keys, (unsigned long long)s.value_bytes);
      if (s.compared_with_source) {
        std::printf("; source implies %llu keys, %llu differences", (unsigned long long)s.source_keys,
                    (unsigned long long)s.differences);
      }
      std::printf("\n");
    }
    for (const auto& n : r.notes) std::printf("note: %s\n", n.c_str());
    for (const auto& p : r.problems) std::printf("PROBLEM: %s\n", p.c_str());
    for (const auto& p : r.unservable) std::printf("NOT SERVABLE: %s\n", p.c_str());
    if (r.ok() && !r.unservable.empty()) {
      std::string ts;
      for (uint32_t spc : r.user_tablespaces) ts += fmt::format("{}{}", ts.empty() ? "" : ", ", spc);
      std::printf("verify: %s: intact, but not servable by a Neon pageserver: user tablespace(s) %s (OID; Neon "
                  "serves only pg_default 1663 and pg_global 1664)\n",
                  f.allow_unservable ? "WARNING" : "NOT SERVABLE", ts.c_str());
    }
    if (r.ok() && (r.unservable.empty() || f.allow_unservable)) {
      std::printf("verify: OK: %zu shard(s), %llu layers, %llu keys%s\n", r.shards.size(), (unsigned long long)layers,
                  (unsigned long long)keys, source ? ", identical to the source" : "");
    } else {
      std::printf("verify: FAILED: %zu problem(s)\n", r.problems.size());
    }
    std::fflush(stdout);
  }
  std::vector<std::string> violations = r.problems;
  violations.insert(violations.end(), r.unservable.begin(), r.unservable.end());
  std::vector<uint64_t> tablespaces(r.user_tablespaces.begin(), r.user_tablespaces.end());
  events.Emit("verify", {{"ok", r.ok()},
                         {"servable", r.servable()},
                         {"violations", violations},
                         {"user_tablespaces", tablespaces},
                         {"tenant_id", o.tenant.ToHex()},
                         {"timeline_id", o.timeline.ToHex()},
                         {"shards", r.shards.size()},
                         {"layers", layers},
                         {"keys", keys},
                         {"compared_with_source", source != nullptr},
                         {"differences", diffs},
                         {"problems", r.problems.size()}});
  const bool pass = r.ok() && (r.servable() || f.allow_unservable);
  *exit_code = pass ? 0 : ExitCodeFor(Code::kInvalidInput);
  return Status::OK();
}
}  // namespace

void RegisterVerify(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<VerifyFlags>();
  CLI::App* sub = app.add_subcommand(
      "verify",
      "Check an imported timeline: index_part.json of every shard (import Done), every layer object (size, "
      "summary vs name, key order and range, LSN, shard placement), and with --source that the layers hold "
      "exactly the keys and bytes the PGDATA implies; always Neon's servability rules (DBDIR/RELDIR/relmap/size "
      "keys, two-phase, SLRU, control, key coverage). Exit 0 when all is well, 3 with a report otherwise (also "
      "when intact but not servable by a Neon pageserver because of user tablespaces).");
  AddTimelineFlags(sub, f->timeline);
  sub->add_option("--shard-count", f->shard_count, "Only shards of this count (default: every shard found)");
  sub->add_option("--shard-number", f->shard_number, "Only this shard (needs --shard-count)");
  sub->add_option("--stripe-size", f->stripe_size,
                  "Stripe size in pages (default: the tenant manifest's, else 2048)");
  sub->add_option("--source", f->source, "Also compare with this PGDATA (local path, s3://..., az://...)");
  AddSideFlags(sub, f->sides);
  sub->add_flag("--allow-unclean-shutdown", f->allow_unclean, "The source was imported with --allow-unclean-shutdown");
  sub->add_flag("--allow-unservable", f->allow_unservable,
                "A timeline not servable by a Neon pageserver only because of user tablespaces (--tablespaces keep) "
                "passes with a warning");
  sub->add_option("--max-diffs", f->max_diffs, "Differences with the source listed per shard (all are counted)")
      ->capture_default_str();
  sub->add_option("--keys-out", f->keys_out, "Write every key found as '<key hex> <shard NNCC>' lines to this file");
  AddCommonFlags(sub, g);
  sub->callback([f, &g, exit_code] {
    Status st = ApplyCommonFlags(g);
    if (st.ok()) st = Run(*f, g, exit_code);
    if (!st.ok()) *exit_code = ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
