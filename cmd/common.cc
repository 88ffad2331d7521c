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

int ReportFailure(const p2l::Status& st, const GlobalOptions& g) {
  int code = ExitCodeFor(st.code());
  std::fprintf(stderr, "error: %s\n", st.message().c_str());
  StdoutEvents(g.json).Emit("error", {{"code", code}, {"kind", CodeName(st.code())}, {"message", st.message()}});
  return code;
}

}  // namespace p2l::cmd
