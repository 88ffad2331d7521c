// `pgdata2layers export`: flags → Export (lib/tools/export.h). Exit 0 when the files were written
// and everything was consistent, 3 when inconsistencies were found (the files are still written).
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "tools/export.h"
#include "tools/timeline_reader.h"
#include "util/events.h"

namespace p2l::cmd {

namespace {
struct ExportFlags {
  std::string dest, dest_pos, out, out_pos, tenant, timeline;
  std::optional<uint32_t> shard_count;
  bool no_sync = false;
  ToolStorageFlags storage;
};

Status Run(const ExportFlags& f, const GlobalOptions& g, int* exit_code) {
  P2L_ASSIGN_OR_RETURN(std::string dest_url, PickDest(f.dest, f.dest_pos));
  if (!f.out.empty() && !f.out_pos.empty() && f.out != f.out_pos) {
    return Status::Usage("give the output directory once: --out or the positional OUT");
  }
  ExportOptions o;
  o.out_dir = f.out.empty() ? f.out_pos : f.out;
  if (o.out_dir.empty()) return Status::Usage("--out (or OUT) is required");
  o.shard_count = f.shard_count;
  o.sync = !f.no_sync;
  P2L_ASSIGN_OR_RETURN(StorageOptions so, ToStorageOptions(f.storage));
  P2L_ASSIGN_OR_RETURN(auto dest, OpenStorage(dest_url, so));
  P2L_RETURN_IF_ERROR(ResolveTimeline(*dest, f.tenant, f.timeline, &o.tenant, &o.timeline));
  P2L_ASSIGN_OR_RETURN(ExportReport r, Export(*dest, o, StdoutEvents(g.json)));
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
  sub->add_option("DEST", f->dest_pos, "Same as --dest");
  sub->add_option("OUT", f->out_pos, "Same as --out");
  sub->add_option("--dest", f->dest, "Pageserver remote storage root: local path, s3://... or az://...");
  sub->add_option("--out", f->out, "Existing local directory to write the files into");
  sub->add_option("--tenant-id", f->tenant, "Tenant id (default: the only tenant in DEST)");
  sub->add_option("--timeline-id", f->timeline, "Timeline id (default: the tenant's only timeline)");
  sub->add_option("--shard-count", f->shard_count, "The shard set to read when DEST holds several");
  sub->add_flag("--no-sync", f->no_sync, "Do not sync the file system at the end");
  AddToolStorageFlags(sub, f->storage);
  AddCommonFlags(sub, g);
  sub->callback([f, &g, exit_code] {
    Status st = ApplyCommonFlags(g);
    if (st.ok()) st = Run(*f, g, exit_code);
    if (!st.ok()) *exit_code = ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
