// `pgdata2layers export`: flags → Export (lib/tools/export.h). Exit 0 when the files were written
// and everything was consistent, 3 when inconsistencies were found (the files are still written).
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "tools/export.h"
#include "util/events.h"

namespace p2l::cmd {

namespace {
struct ExportFlags {
  TimelineFlags timeline;
  std::string out, out_pos;
  std::optional<uint32_t> shard_count;
  bool no_sync = false;
};

Status Run(const ExportFlags& f, const GlobalOptions& g, int* exit_code) {
  if (!f.out.empty() && !f.out_pos.empty() && f.out != f.out_pos) {
    return Status::Usage("give the output directory once: --out or the positional OUT");
  }
  ExportOptions o;
  o.out_dir = f.out.empty() ? f.out_pos : f.out;
  if (o.out_dir.empty()) return Status::Usage("--out (or OUT) is required");
  o.shard_count = f.shard_count;
  o.sync = !f.no_sync;
  P2L_ASSIGN_OR_RETURN(OpenedTimeline t, OpenTimeline(f.timeline));
  o.tenant = t.tenant;
  o.timeline = t.timeline;
  P2L_ASSIGN_OR_RETURN(ExportReport r, Export(*t.dest, o, StdoutEvents(g.json)));
  if (!g.json) {
    std::printf("export: %llu keys from %llu layers (%s) -> %llu files, %llu bytes in %s\n",
                (unsigned long long)r.keys, (unsigned long long)r.layers,
                r.shard_count == 0 ? "unsharded" : fmt::format("{} shards", r.shard_count).c_str(),
                (unsigned long long)r.files, (unsigned long long)r.bytes, o.out_dir.c_str());
    for (const auto& m : r.inconsistencies) std::printf("INCONSISTENCY: %s\n", m.c_str());
    if (r.inconsistency_count > r.inconsistencies.size()) {
      std::printf("... and %llu more inconsistencies\n",
                  (unsigned long long)(r.inconsistency_count - r.inconsistencies.size()));
    }
    std::fflush(stdout);
  }
  if (!r.ok()) {
    std::fprintf(stderr, "error: export finished with %llu inconsistencies (files were written)\n",
                 (unsigned long long)r.inconsistency_count);
    *exit_code = ExitCodeFor(Code::kInvalidInput);
  } else {
    *exit_code = 0;
  }
  return Status::OK();
}
}  // namespace

void RegisterExport(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<ExportFlags>();
  CLI::App* sub = app.add_subcommand(
      "export",
      "Rebuild PostgreSQL files (relation segments incl. tablespaces, pg_filenode.map, pg_control, SLRU "
      "segments, pg_twophase files) from the layers of all shards of an imported timeline into an existing "
      "directory, typically a copy of the original PGDATA without those files.");
  AddTimelineFlags(sub, f->timeline);
  sub->add_option("OUT", f->out_pos, "Same as --out");
  sub->add_option("--out", f->out, "Existing local directory to write the files into");
  sub->add_option("--shard-count", f->shard_count, "The shard set to read when DEST holds several");
  sub->add_flag("--no-sync", f->no_sync, "Do not sync the file system at the end");
  AddCommonFlags(sub, g);
  sub->callback([f, &g, exit_code] {
    Status st = ApplyCommonFlags(g);
    if (st.ok()) st = Run(*f, g, exit_code);
    if (!st.ok()) *exit_code = ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
