// One function per subcommand: each adds its CLI11 subcommand with flags and sets a callback that
// calls into lib/. cmd/ parses flags only; all behaviour lives in lib/.
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "import/progress.h"
#include "util/status.h"

namespace p2l::cmd {

// Options every subcommand shares (registered on the app, usable after the subcommand too).
struct GlobalOptions {
  bool json = false;          // --json: one JSON object per event on stdout
  std::string log_level = "info";
  bool quiet = false;
  std::string progress = "auto";   // --progress (import): auto, always, never
  double progress_interval = 10;   // --progress-interval: seconds between progress log lines
};

// Adds --json, --log-level, --quiet to a subcommand (every subcommand takes them).
void AddCommonFlags(CLI::App* sub, GlobalOptions& g);
// Applies --log-level/--quiet; returns a usage error for a bad level.
p2l::Status ApplyCommonFlags(const GlobalOptions& g);
// Adds --progress and --progress-interval (long-running subcommands).
void AddProgressFlags(CLI::App* sub, GlobalOptions& g);
// --progress/--quiet/--log-level and whether stderr is a terminal → how progress is shown:
// never or --quiet (or a log level above info) → none; always → live line; auto → live line on a
// terminal, else a log line every --progress-interval seconds.
p2l::Result<p2l::ProgressSink::Display> ProgressDisplay(const GlobalOptions& g);
// With --json: the last line of the event stream, {"event":"summary","command","ok","exit_code",
// "seconds", ...fields}.
void EmitSummary(const GlobalOptions& g, const std::string& command, int exit_code, double seconds,
                 nlohmann::json fields = nlohmann::json::object());
// Reports a failed command: one "error: ..." line on stderr and, with --json, an "error" event
// {"code": <exit code>, "kind": "<code name>", "message": ...}. Returns the exit code.
int ReportFailure(const p2l::Status& st, const GlobalOptions& g);
// Reports a command line CLI11 could not parse (not --help/--version): "error: ..." naming the
// environment variable when the bad value came from one (PGDATA2LAYERS_*), a hint line, and with
// --json (anywhere on the command line) the "error" and "summary" events. Returns exit status 2.
int ReportParseError(CLI::App& app, const CLI::ParseError& e, GlobalOptions& g, int argc, char** argv);

// Each Register* adds a subcommand; its callback stores the process exit code in *exit_code.
void RegisterImport(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterPlan(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterVerify(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterExport(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterStatus(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterInspect(CLI::App& app, GlobalOptions& g, int* exit_code);
void RegisterNotify(CLI::App& app, GlobalOptions& g, int* exit_code);
// `completion bash`: a bash completion script generated from the definition of `app`.
void RegisterCompletion(CLI::App& app, GlobalOptions& g, int* exit_code);
// Gives every long option of every subcommand without an environment variable the variable
// PGDATA2LAYERS_<NAME> (--shard-count → PGDATA2LAYERS_SHARD_COUNT). The command line wins over
// the environment. Positional arguments get none.
void AddEnvNames(CLI::App& app);

}  // namespace p2l::cmd
