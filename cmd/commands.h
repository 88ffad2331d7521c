// One function per subcommand: each adds its CLI11 subcommand with flags and sets a callback that
// calls into lib/. cmd/ parses flags only; all behaviour lives in lib/.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "util/status.h"

namespace p2l::cmd {

// Options every subcommand shares (registered on the app, usable after the subcommand too).
struct GlobalOptions {
  bool json = false;          // --json: one JSON object per event on stdout
  std::string log_level = "info";
  bool quiet = false;
};

// Adds --json, --log-level, --quiet to a subcommand (every subcommand takes them).
void AddCommonFlags(CLI::App* sub, GlobalOptions& g);
// Applies --log-level/--quiet; returns a usage error for a bad level.
p2l::Status ApplyCommonFlags(const GlobalOptions& g);
// Reports a failed command: one "error: ..." line on stderr and, with --json, an "error" event
// {"code": <exit code>, "kind": "<code name>", "message": ...}. Returns the exit code.
int ReportFailure(const p2l::Status& st, const GlobalOptions& g);

// Each Register* adds a subcommand; its callback stores the process exit code in *exit_code.
void RegisterImport(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterPlan(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterVerify(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterExport(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterStatus(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterInspect(CLI::App& app, GlobalOptions& g, int* exit_code);

}  // namespace p2l::cmd
