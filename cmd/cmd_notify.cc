// `pgdata2layers notify`: flags → NotifyTenantImport (lib/import/completion.h): one tenant-scoped
// completion notification once every shard of a tenant's import is done.
#include <fmt/format.h>

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "import/completion.h"
#include "import/notify.h"
#include "util/events.h"

namespace p2l::cmd {

namespace {

struct NotifyFlags {
  TimelineFlags timeline;
  std::optional<uint32_t> shard_count;
  std::string url, format = "default", token_file, timeout = "10m";
  std::vector<std::string> shard_errors;   // NNCC=MESSAGE
};

Status Run(const NotifyFlags& f, const GlobalOptions& g) {
  P2L_RETURN_IF_ERROR(ApplyCommonFlags(g));
  // The notification's flags (and the token file) first: nothing is read before they are valid.
  P2L_ASSIGN_OR_RETURN(NotifyFormat format, ParseNotifyFormat(f.format));
  P2L_ASSIGN_OR_RETURN(NotifyOptions notify, MakeNotifyOptions(f.url, f.timeout, format, f.token_file));
  TenantNotifyRequest req;
  req.shard_count = f.shard_count;
  for (const std::string& e : f.shard_errors) {
    const size_t eq = e.find('=');
    const std::string shard = e.substr(0, eq);
    const bool hex = shard.size() == 4 && shard.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (eq == std::string::npos || !hex || eq + 1 >= e.size()) {
      return Status::Usage(fmt::format("--shard-error '{}': expected NNCC=MESSAGE (e.g. 0104=\"disk full\")", e));
    }
    req.shard_errors[shard] = e.substr(eq + 1);
  }
  P2L_ASSIGN_OR_RETURN(OpenedTimeline t, OpenTimeline(f.timeline));
  req.tenant = t.tenant;
  req.timeline = t.timeline;
  EventSink& events = StdoutEvents(g.json);
  return NotifyTenantImport(*t.dest, req, notify, events);
}

}  // namespace

void RegisterNotify(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<NotifyFlags>();
  CLI::App* sub = app.add_subcommand(
      "notify",
      "Send one tenant-scoped completion notification once every shard of a tenant's import is done "
      "(read from the shards' index_part.json); scripts/import-sharded.sh calls it after the last shard");
  AddTimelineFlags(sub, f->timeline);
  sub->add_option("--shard-count", f->shard_count,
                  "The import's shard count (0: unsharded; default: the count of the shard directories found)");
  sub->add_option("--notify-url", f->url,
                  "Where to send the notification (neon format: the base URL, /import_complete is appended)")
      ->required();
  sub->add_option("--notify-format", f->format,
                  "neon: PUT <url>/import_complete {tenant_id, timeline_id, error} as Neon's storage controller "
                  "sends; default: POST {tenant_id, timeline_id, shard_count, status, error}")
      ->check(CLI::IsMember({"default", "neon"}))
      ->capture_default_str();
  sub->add_option("--notify-token-file", f->token_file,
                  "Read the bearer token from FILE (trailing newline stripped; default: PGDATA2LAYERS_NOTIFY_TOKEN)");
  sub->add_option("--notify-timeout", f->timeout, "Give up notifying after this long, then exit 6 (e.g. 30s, 10m, 2h)")
      ->capture_default_str();
  sub->add_option("--shard-error", f->shard_errors,
                  "NNCC=MESSAGE: shard NNCC failed with MESSAGE (repeatable); the notification then reports "
                  "the failure in \"error\" (a shard neither done nor listed here: nothing is sent, exit 3)");
  AddCommonFlags(sub, g);
  sub->callback([f, &g, exit_code] {
    Status st = Run(*f, g);
    *exit_code = st.ok() ? 0 : ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
