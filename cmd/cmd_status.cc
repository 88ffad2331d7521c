// `pgdata2layers status`: flags → GetImportStatus (lib/import/status.h).
#include <cstdio>
#include <memory>
#include <string>

#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "import/status.h"
#include "storage/storage.h"
#include "util/events.h"
#include "util/ids.h"

namespace p2l::cmd {

namespace {

Status Run(const TimelineFlags& f, const GlobalOptions& g) {
  P2L_RETURN_IF_ERROR(ApplyCommonFlags(g));
  P2L_ASSIGN_OR_RETURN(OpenedTimeline t, OpenTimeline(f));
  P2L_ASSIGN_OR_RETURN(std::vector<ShardImportStatus> shards, GetImportStatus(*t.dest, t.tenant, t.timeline));
  if (g.json) {
    nlohmann::json j = ImportStatusJson(t.tenant, t.timeline, shards);
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  } else {
    std::string text = FormatImportStatus(t.tenant, t.timeline, shards);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace

void RegisterStatus(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<TimelineFlags>();
  CLI::App* sub = app.add_subcommand(
      "status", "Show the import state of a timeline in every shard directory of a tenant in a destination");
  AddTimelineFlags(sub, *f);
  AddCommonFlags(sub, g);
  sub->callback([f, &g, exit_code] {
    Status st = Run(*f, g);
    *exit_code = st.ok() ? 0 : ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
