// `pgdata2layers status`: flags → GetImportStatus (lib/import/status.h).
#include <cstdio>
#include <memory>
#include <string>

#include "cmd/commands.h"
#include "import/status.h"
#include "storage/storage.h"
#include "util/events.h"
#include "util/ids.h"

namespace p2l::cmd {

namespace {

struct StatusFlags {
  std::string dest, tenant, timeline, endpoint, region;
  int max_retries = 8;
};

}  // namespace

void RegisterStatus(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<StatusFlags>();
  CLI::App* sub = app.add_subcommand(
      "status", "Show the import state of a timeline in every shard directory of a tenant in a destination");
  sub->add_option("--dest", f->dest, "Pageserver remote storage root: local path, s3://... or az://...")->required();
  sub->add_option("--tenant-id", f->tenant, "Tenant id (32 hex digits)")->required();
  sub->add_option("--timeline-id", f->timeline, "Timeline id (32 hex digits)")->required();
  sub->add_option("--endpoint", f->endpoint, "S3/Azure endpoint URL");
  sub->add_option("--region", f->region, "S3 region");
  sub->add_option("--max-retries", f->max_retries, "Retries of transient remote failures")->capture_default_str();
  AddCommonFlags(sub, g);

  sub->callback([f, &g, exit_code] {
    auto run = [&]() -> Status {
      P2L_RETURN_IF_ERROR(ApplyCommonFlags(g));
      Result<TenantId> tenant = TenantId::FromHex(f->tenant);
      if (!tenant.ok()) return Status::Usage("--tenant-id: " + tenant.status().message());
      Result<TimelineId> timeline = TimelineId::FromHex(f->timeline);
      if (!timeline.ok()) return Status::Usage("--timeline-id: " + timeline.status().message());
      StorageOptions so;
      so.endpoint = f->endpoint;
      so.region = f->region;
      so.max_retries = f->max_retries;
      P2L_ASSIGN_OR_RETURN(std::unique_ptr<Storage> dest, OpenStorage(f->dest, so));
      P2L_ASSIGN_OR_RETURN(std::vector<ShardImportStatus> shards, GetImportStatus(*dest, *tenant, *timeline));
      if (g.json) {
        nlohmann::json j = ImportStatusJson(*tenant, *timeline, shards);
        std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        std::fwrite(line.data(), 1, line.size(), stdout);
      } else {
        std::string text = FormatImportStatus(*tenant, *timeline, shards);
        std::fwrite(text.data(), 1, text.size(), stdout);
      }
      std::fflush(stdout);
      return Status::OK();
    };
    Status st = run();
    *exit_code = st.ok() ? 0 : ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
