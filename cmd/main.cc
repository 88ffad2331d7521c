// pgdata2layers: turns a PostgreSQL data directory into Neon pageserver image layers +
// index_part.json. This file only wires the subcommands together; see cmd/cmd_*.cc for flags and
// lib/ for everything they do.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cmd/commands.h"

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
    // --help, --version: CLI11 prints them and exits 0.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return p2l::cmd::ReportParseError(app, e, g, argc, argv);
  }
  return exit_code;
}
