#include <unistd.h>

#include <cctype>
#include <cstdio>

#include "cmd/commands.h"
#include "util/events.h"
#include "util/log.h"

namespace p2l::cmd {

void AddCommonFlags(CLI::App* sub, GlobalOptions& g) {
  sub->add_flag("--json", g.json,
                "Write one JSON object per event on stdout (human logs stay on stderr)");
  sub->add_option("--log-level", g.log_level, "debug, info, warn, error or off")
      ->envname("PGDATA2LAYERS_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error", "off"}))
      ->capture_default_str();
  sub->add_flag("-q,--quiet", g.quiet, "Only warnings and errors on stderr");
}

p2l::Status ApplyCommonFlags(const GlobalOptions& g) {
  auto lvl = ParseLogLevel(g.log_level);
  if (!lvl.ok()) return lvl.status();
  LogLevel l = *lvl;
  if (g.quiet && l < LogLevel::kWarn) l = LogLevel::kWarn;
  SetLogLevel(l);
  return Status::OK();
}

void AddProgressFlags(CLI::App* sub, GlobalOptions& g) {
  sub->add_option("--progress", g.progress,
                  "auto (a live line on a terminal, else a log line every --progress-interval seconds), "
                  "always (live line) or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  sub->add_option("--progress-interval", g.progress_interval,
                  "Seconds between progress log lines when stderr is not a terminal")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
}

Result<ProgressSink::Display> ProgressDisplay(const GlobalOptions& g) {
  using D = ProgressSink::Display;
  if (g.progress != "auto" && g.progress != "always" && g.progress != "never") {
    return Status::Usage("--progress \"" + g.progress + "\": expected auto, always or never");
  }
  if (g.quiet || g.progress == "never" || GetLogLevel() > LogLevel::kInfo) return D::kNone;
  if (g.progress == "always") return D::kLine;
  return isatty(STDERR_FILENO) ? D::kLine : D::kLog;
}

void EmitSummary(const GlobalOptions& g, const std::string& command, int exit_code, double seconds,
                 nlohmann::json fields) {
  if (!g.json) return;
  nlohmann::json j = {{"command", command}, {"ok", exit_code == 0}, {"exit_code", exit_code}, {"seconds", seconds}};
  if (fields.is_object()) {
    for (auto& [k, v] : fields.items()) j[k] = v;
  }
  StdoutEvents(true).Emit("summary", std::move(j));
}

void AddEnvNames(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands({})) {
    for (CLI::Option* opt : sub->get_options()) {
      const std::string& name = opt->get_single_name();
      if (opt->get_lnames().empty() || !opt->get_envname().empty() || name == "help") continue;
      std::string env = "PGDATA2LAYERS_";
      for (char c : opt->get_lnames().front()) env += c == '-' ? '_' : char(std::toupper((unsigned char)c));
      opt->envname(env);
    }
    AddEnvNames(*sub);
  }
}

namespace {

// " (from the environment variable X)" when the option the error names got its value from its
// PGDATA2LAYERS_* variable rather than from the command line; "" otherwise.
std::string EnvSource(CLI::App& app, const std::string& what, int argc, char** argv) {
  for (CLI::App* sub : app.get_subcommands()) {
    for (CLI::Option* opt : sub->get_options()) {
      const std::string& env = opt->get_envname();
      if (env.empty() || opt->get_lnames().empty() || std::getenv(env.c_str()) == nullptr) continue;
      const std::string flag = "--" + opt->get_lnames().front();
      if (what.find(flag) == std::string::npos) continue;
      bool on_command_line = false;
      for (int i = 1; i < argc; i++) {
        const std::string_view a(argv[i]);
        on_command_line = on_command_line || a == flag || a.rfind(flag + "=", 0) == 0;
      }
      if (!on_command_line) return " (from the environment variable " + env + ")";
    }
  }
  return "";
}

}  // namespace

int ReportParseError(CLI::App& app, const CLI::ParseError& e, GlobalOptions& g, int argc, char** argv) {
  const std::string what = e.what();
  const std::string msg = what + EnvSource(app, what, argc, argv);
  std::fprintf(stderr, "error: %s\nRun with --help for more information.\n", msg.c_str());
  // --json may not be applied yet when another option failed validation.
  bool json = g.json;
  for (int i = 1; i < argc; i++) json = json || std::string_view(argv[i]) == "--json";
  const int code = ExitCodeFor(Code::kUsage);
  if (json) {
    g.json = true;
    StdoutEvents(true).Emit("error", {{"code", code}, {"kind", CodeName(Code::kUsage)}, {"message", msg}});
    const std::vector<CLI::App*> parsed = app.get_subcommands();
    EmitSummary(g, parsed.empty() ? "" : parsed.front()->get_name(), code, 0);
  }
  return code;
}

int ReportFailure(const p2l::Status& st, const GlobalOptions& g) {
  int code = ExitCodeFor(st.code());
  std::fprintf(stderr, "error: %s\n", st.message().c_str());
  StdoutEvents(g.json).Emit("error", {{"code", code}, {"kind", CodeName(st.code())}, {"message", st.message()}});
  return code;
}

}  // namespace p2l::cmd
