// notify_tool: drives lib/import/completion + notify from the command line (integration tests),
// the way the import's end does.
//
//   notify_tool publish --source DIR [--status-dest URL] [--notify-url URL] [--notify-timeout D]
//                       --tenant HEX --timeline HEX [--shard-number N --shard-count C]
//                       [--key K] [--layers N] [--bytes N] [--started-ns T] [--finished-ns T]
//                       [--fail MESSAGE] [--fail-code io|conflict|source-changed] [--json]
//       CompletionPublisher::Open(flags, source = local DIR) then Finish(report, status): the
//       status object goes to DIR/status/shard-NNCC (or --status-dest), the notification to
//       --notify-url. With --fail the "import" failed with MESSAGE (kIo unless --fail-code).
//   notify_tool post URL [--timeout D] [--body JSON | --body-file FILE] [--json]
//       PostNotification of the body (default "{}") with the token from
//       $PGDATA2LAYERS_NOTIFY_TOKEN.
// --json: events on stdout. Errors: "notify_tool: MESSAGE" on stderr, exit ExitCodeFor(code)
// (6 = kTimeout).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "import/completion.h"
#include "import/notify.h"
#include "storage/storage.h"
#include "util/events.h"
#include "util/log.h"

using namespace p2l;

namespace {

int Fail(const Status& st) {
  std::fprintf(stderr, "notify_tool: %s\n", st.message().c_str());
  return ExitCodeFor(st.code());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"notify_tool: completion publication test driver"};
  app.require_subcommand(1);
  bool json = false;

  auto* pub = app.add_subcommand("publish", "status object + notification, as at the end of an import");
  CompletionFlags flags;
  std::string source, tenant, timeline, key = "test-key", fail, fail_code = "io";
  uint32_t shard_number = 0, shard_count = 0;
  uint64_t layers = 0, bytes = 0;
  int64_t started_ns = 1732006961123456000LL, finished_ns = 1732007100000000000LL;
  pub->add_option("--source", source, "source directory (default status destination)")->required();
  pub->add_option("--status-dest", flags.status_dest);
  pub->add_option("--notify-url", flags.notify_url);
  pub->add_option("--notify-timeout", flags.notify_timeout);
  pub->add_option("--tenant", tenant)->required();
  pub->add_option("--timeline", timeline)->required();
  pub->add_option("--shard-number", shard_number);
  pub->add_option("--shard-count", shard_count);
  pub->add_option("--key", key);
  pub->add_option("--layers", layers);
  pub->add_option("--bytes", bytes);
  pub->add_option("--started-ns", started_ns);
  pub->add_option("--finished-ns", finished_ns);
  pub->add_option("--fail", fail);
  pub->add_option("--fail-code", fail_code);
  pub->add_flag("--json", json);

  auto* post = app.add_subcommand("post", "POST a body to a URL with retries");
  std::string url, timeout = "10m", body = "{}", body_file;
  post->add_option("url", url)->required();
  post->add_option("--timeout", timeout);
  post->add_option("--body", body);
  post->add_option("--body-file", body_file);
  post->add_flag("--json", json);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  EventSink& events = StdoutEvents(json);

  if (*post) {
    if (!body_file.empty()) {
      std::ifstream in(body_file, std::ios::binary);
      if (!in) return Fail(Status::Io(body_file + ": cannot open"));
      std::ostringstream ss;
      ss << in.rdbuf();
      body = ss.str();
    }
    auto opts = MakeNotifyOptions(url, timeout);
    if (!opts.ok()) return Fail(opts.status());
    auto r = PostNotification(*opts, body, events);
    if (!r.ok()) return Fail(r.status());
    std::printf("delivered: HTTP %ld after %d attempt(s)\n", r->http_status, r->attempts);
    return 0;
  }

  // publish
  auto src = OpenStorage(source, StorageOptions{});
  if (!src.ok()) return Fail(src.status());
  auto t = Id16::FromHex(tenant);
  if (!t.ok()) return Fail(t.status().WithContext("--tenant"));
  auto tl = Id16::FromHex(timeline);
  if (!tl.ok()) return Fail(tl.status().WithContext("--timeline"));
  auto shard = (shard_count == 0 && shard_number == 0) ? Result<ShardIdentity>(ShardIdentity::Unsharded())
                                                       : ShardIdentity::Make(shard_number, shard_count, 2048);
  if (!shard.ok()) return Fail(shard.status());
  auto p = CompletionPublisher::Open(flags, src->get(), StorageOptions{}, events);
  if (!p.ok()) return Fail(p.status());
  CompletionReport r;
  r.tenant_id = *t;
  r.timeline_id = *tl;
  r.shard = *shard;
  r.idempotency_key = key;
  r.started_at_nanos = started_ns;
  r.finished_at_nanos = finished_ns;
  r.layers = layers;
  r.bytes = bytes;
  Status outcome;
  if (!fail.empty()) {
    Code c = Code::kIo;
    if (fail_code == "conflict") c = Code::kConflict;
    if (fail_code == "source-changed") c = Code::kSourceChanged;
    outcome = Status(c, fail);
  }
  Status st = (*p)->Finish(r, outcome);
  if (!st.ok()) return Fail(st);
  std::printf("published: %s\n", (*p)->StatusLocation(r.shard).c_str());
  return 0;
}
