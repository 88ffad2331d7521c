// pgdata2layers: turns a PostgreSQL data directory into Neon pageserver image layers +
// index_part.json. This file only wires the subcommands together; see cmd/cmd_*.cc for flags and
// lib/ for everything they do.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string_view>
#include <vector>

#include "cmd/commands.h"
#include "util/events.h"
#include "util/status.h"

int main(int argc, char** argv) {
  CLI::App app{
      "pgdata2layers: convert a PostgreSQL data directory (PGDATA) into Neon pageserver image "
      "layers and index_part.json.\nSources and destinations: a local path, s3://bucket/prefix, or "
      "az://account/container/prefix. See man pgdata2layers(1).",
      "pgdata2layers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("pgdata2layers ") + PGDATA2LAYERS_VERSION);

  p2l::cmd::GlobalOptions g;
  int exit_code = 0;
  p2l::cmd::RegisterImport(app, g, &exit_code);
  p2l::cmd::RegisterPlan(app, g, &exit_code);
  p2l::cmd::RegisterVerify(app, g, &exit_code);
  p2l::cmd::RegisterExport(app, g, &exit_code);
  p2l::cmd::RegisterStatus(app, g, &exit_code);
  p2l::cmd::RegisterInspect(app, g, &exit_code);
  p2l::cmd::RegisterNotify(app, g, &exit_code);
  p2l::cmd::RegisterCompletion(app, g, &exit_code);
  p2l::cmd::AddEnvNames(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    if (rc == 0) return 0;
    // Usage errors also end a --json event stream with "error" and "summary".
    // (--json may not be applied yet when another option fails validation)
    bool json = g.json;
    for (int i = 1; i < argc; i++) json = json || std::string_view(argv[i]) == "--json";
    if (json) {
      g.json = true;
      const int code = p2l::ExitCodeFor(p2l::Code::kUsage);
      p2l::StdoutEvents(true).Emit("error", {{"code", code}, {"kind", p2l::CodeName(p2l::Code::kUsage)},
                                             {"message", e.what()}});
      const std::vector<CLI::App*> parsed = app.get_subcommands();
      p2l::cmd::EmitSummary(g, parsed.empty() ? "" : parsed.front()->get_name(), code, 0);
    }
    return p2l::ExitCodeFor(p2l::Code::kUsage);
  }
  return exit_code;
}
