// `pgdata2layers inspect LAYER`: flags → InspectLayer (lib/tools/inspect.h).
#include "cmd/commands.h"
#include "cmd/tools_flags.h"
#include "tools/inspect.h"
#include "util/events.h"

namespace p2l::cmd {

namespace {
struct InspectFlags {
  std::string layer;
  bool values = false, summary_only = false;
  ToolStorageFlags storage;
};
}  // namespace

void RegisterInspect(CLI::App& app, GlobalOptions& g, int* exit_code) {
  auto f = std::make_shared<InspectFlags>();
  CLI::App* sub = app.add_subcommand(
      "inspect",
      "Print an image layer file: its summary (magic, version, tenant, timeline, key range, LSN, index "
      "position, size, key count) and every key with its blob offset, value length and a decoded "
      "description (like Neon's pagectl).");
  sub->add_option("LAYER", f->layer, "Layer file: local path, s3://bucket/.../object or az://account/container/.../object")
      ->required();
  sub->add_flag("--values", f->values, "Also print every value in hex");
  sub->add_flag("--summary", f->summary_only, "Print the summary only, no keys");
  AddToolStorageFlags(sub, f->storage);
  AddCommonFlags(sub, g);
  sub->callback([f, &g, exit_code] {
    Status st = ApplyCommonFlags(g);
    if (!st.ok()) {
      *exit_code = ReportFailure(st, g);
      return;
    }
    auto so = ToStorageOptions(f->storage);
    if (!so.ok()) {
      *exit_code = ReportFailure(so.status(), g);
      return;
    }
    InspectOptions o;
    o.values = f->values;
    o.keys = !f->summary_only;
    st = InspectLayer(f->layer, *so, o, StdoutEvents(g.json));
    *exit_code = st.ok() ? 0 : ReportFailure(st, g);
  });
}

}  // namespace p2l::cmd
