#!/usr/bin/env bash
# t_notify.sh — completion publication (issue #5): per-shard status objects + HTTP notification,
# against a real HTTP receiver (test/tools/notify_server.py).
#
# Part 1, through test/tools/notify_tool (lib/import/completion + notify, as the import's end):
#   * receiver fails the first 3 POSTs (503) then accepts → exactly one accepted POST with the
#     exact body, status object done=true, tool exits 0, "notified" event with attempts 4;
#   * resets (connection dropped) then accept; Retry-After honoured;
#   * bearer token from PGDATA2LAYERS_NOTIFY_TOKEN sent, never printed; credentials in the URL
#     redacted in logs;
#   * endpoint down longer than --notify-timeout 5s → exit 6 naming the URL and the last error;
#     a stalled receiver → exit 6 too;
#   * a failed "import" → status done=false + error notification, the original exit code kept;
#   * a source where status/ cannot be written → error telling to pass --status-dest; with
#     --status-dest the object goes there;
#   * a bad --notify-url / --notify-timeout → exit 2 before anything is written.
# Part 2, the real import (skipped while `pgdata2layers import` lacks --notify-url):
#   * K failures then accept → one accepted POST with the right body, status object written;
#   * endpoint down → import exits 6, the Done index_part and the layers stay intact, and a rerun
#     (already complete) delivers the notification.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed (needed for the notify receiver)"
NT=$(need_tool notify_tool)
SERVER=$P2L_ROOT/test/tools/notify_server.py
W=$P2L_TEST_DIR/work
mkdir -p "$W"

TENANT=0123456789abcdef0123456789abcdef
TIMELINE=fedcba9876543210fedcba9876543210
unset PGDATA2LAYERS_NOTIFY_TOKEN

. "$(dirname "$0")/notify_lib.sh"
accepted_count() { python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["accepted"]))' "$1"; }
post_count() { wc -l < "$1" | tr -d ' '; }
# the body of the accepted POST (exactly one required)
accepted_body() { python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
acc=[r for r in rows if r["accepted"]]
assert len(acc)==1, "%d accepted POSTs" % len(acc)
sys.stdout.write(acc[0]["body"])' "$1"; }

publish() { "$NT" publish --tenant "$TENANT" --timeline "$TIMELINE" "$@"; }

# ================================================================== part 1: notify_tool
log "part 1: library via notify_tool"

# ---- 3 x 503, then accepted
start_receiver a --fail-first 3 --fail-mode 503
mkdir -p "$W/src1"
publish --source "$W/src1" --shard-number 1 --shard-count 4 --key key-1 --layers 3 --bytes 12345 \
  --notify-url "http://127.0.0.1:$PORT_a/hook" --notify-timeout 60s --json >"$W/a.events" 2>"$W/a.stderr" \
  || { cat "$W/a.stderr" >&2; die "publish with 3 failures first did not succeed"; }
assert_eq "POSTs received" 4 "$(post_count "$W/a.log")"
assert_eq "POSTs accepted" 1 "$(accepted_count "$W/a.log")"
WANT_BODY="{\"tenant_shard_id\":\"$TENANT-0104\",\"tenant_id\":\"$TENANT\",\"timeline_id\":\"$TIMELINE\",\"shard\":\"0104\",\"idempotency_key\":\"key-1\",\"status\":\"done\",\"error\":null,\"layers\":3,\"bytes\":12345}"
assert_eq "accepted body" "$WANT_BODY" "$(accepted_body "$W/a.log")"
assert_eq "content type" "application/json" "$(tail -n 1 "$W/a.log" | pyjson - 'd["headers"]["content-type"]')"
assert_eq "path" "/hook" "$(tail -n 1 "$W/a.log" | pyjson - 'd["path"]')"
assert_eq "no Authorization without a token" False "$(tail -n 1 "$W/a.log" | pyjson - '"authorization" in d["headers"]')"
WANT_STATUS="{\"done\":true,\"idempotency_key\":\"key-1\",\"tenant_shard_id\":\"$TENANT-0104\",\"timeline_id\":\"$TIMELINE\",\"started_at\":\"2024-11-19T09:02:41.123456Z\",\"finished_at\":\"2024-11-19T09:05:00.000000Z\",\"layers\":3,\"bytes\":12345,\"error\":null}"
assert_eq "status object" "$WANT_STATUS" "$(cat "$W/src1/status/shard-0104")"
assert_eq "only status/ written into the source" "status/shard-0104" "$(cd "$W/src1" && find . -type f | sed 's|^\./||')"
assert_eq "notified event attempts" 4 "$(grep '"event":"notified"' "$W/a.events" | pyjson - 'd["attempts"]')"
assert_eq "notify_retry events" 3 "$(grep -c '"event":"notify_retry"' "$W/a.events")"
assert_eq "status_written event" 1 "$(grep -c '"event":"status_written"' "$W/a.events")"
grep -q "retrying in" "$W/a.stderr" || die "no retry log line on stderr"

# ---- resets, Retry-After, bearer token, credentials in the URL
start_receiver b --fail-first 2 --fail-mode reset
mkdir -p "$W/src2"
PGDATA2LAYERS_NOTIFY_TOKEN=tok-SECRET-42 publish --source "$W/src2" \
  --notify-url "http://bob:pw-SECRET@127.0.0.1:$PORT_b/hook?api_key=KEY-SECRET&x=1" --notify-timeout 60s \
  >"$W/b.out" 2>"$W/b.stderr" || { cat "$W/b.stderr" >&2; die "publish after resets failed"; }
assert_eq "POSTs after resets" 3 "$(post_count "$W/b.log")"
assert_eq "accepted after resets" 1 "$(accepted_count "$W/b.log")"
assert_eq "bearer token sent" "Bearer <len 13>" "$(tail -n 1 "$W/b.log" | pyjson - 'd["headers"]["authorization"]')"
if grep -q SECRET "$W/b.stderr" "$W/b.out"; then cat "$W/b.stderr" >&2; die "a secret leaked into the output"; fi
grep -q "http://<redacted>@127.0.0.1:$PORT_b/hook?api_key=<redacted>&x=1" "$W/b.stderr" \
  || { cat "$W/b.stderr" >&2; die "redacted URL not in the retry log"; }
assert_eq "unsharded status object name" "status/shard-0000" "$(cd "$W/src2" && find . -type f | sed 's|^\./||')"

start_receiver c --fail-first 1 --fail-mode 503 --retry-after 2
T0=$(date +%s.%N)
"$NT" post "http://127.0.0.1:$PORT_c/x" --timeout 30s --body '{"a":1}' >/dev/null 2>"$W/c.stderr" \
  || { cat "$W/c.stderr" >&2; die "post with Retry-After failed"; }
T1=$(date +%s.%N)
awk -v a="$T0" -v b="$T1" 'BEGIN{exit !(b-a >= 1.9)}' || die "Retry-After: 2 was not honoured (took $(awk -v a="$T0" -v b="$T1" 'BEGIN{print b-a}')s)"
assert_eq "Retry-After: POSTs" 2 "$(post_count "$W/c.log")"

# ---- endpoint down longer than --notify-timeout
DOWN=$(free_port)
mkdir -p "$W/src3"
T0=$(date +%s)
expect_fail 6 "not delivered within --notify-timeout 5s" \
  publish --source "$W/src3" --notify-url "http://127.0.0.1:$DOWN/hook" --notify-timeout 5s
T1=$(date +%s)
grep -q "http://127.0.0.1:$DOWN/hook" "$W/err" || die "timeout message does not name the URL"
grep -q "last error:.*onnect" "$W/err" || die "timeout message does not give the last error"
[ $((T1 - T0)) -ge 4 ] && [ $((T1 - T0)) -le 12 ] || die "timeout took $((T1 - T0))s, expected about 5s"
assert_eq "status object written before notifying" true "$(pyjson "$W/src3/status/shard-0000" 'str(d["done"]).lower()')"

# ---- stalled receiver
start_receiver d --fail-first 100 --fail-mode stall
expect_fail 6 "not delivered within --notify-timeout 3s" \
  "$NT" post "http://127.0.0.1:$PORT_d/hook" --timeout 3s

# ---- a failed import: done=false + error notification, original exit code
start_receiver e
mkdir -p "$W/src4"
expect_fail 7 "size changed" publish --source "$W/src4" --key key-9 --fail "base/5/16384: size changed" \
  --fail-code source-changed --notify-url "http://127.0.0.1:$PORT_e/hook" --notify-timeout 30s
assert_eq "error status: done" False "$(pyjson "$W/src4/status/shard-0000" 'd["done"]')"
assert_eq "error status: error" "base/5/16384: size changed" "$(pyjson "$W/src4/status/shard-0000" 'd["error"]')"
assert_eq "error notification" "error|base/5/16384: size changed" "$(accepted_body "$W/e.log" | pyjson - 'd["status"]+"|"+d["error"]')"
# kConflict (another import owns the destination) publishes nothing
expect_fail 5 "holds" publish --source "$W/src4" --key key-9 --fail "another import holds the lease" \
  --fail-code conflict --notify-url "http://127.0.0.1:$PORT_e/hook"
assert_eq "no POST for kConflict" 1 "$(post_count "$W/e.log")"
# a failure after a done status of the same key does not overwrite it
publish --source "$W/src4" --key key-9 --notify-url "http://127.0.0.1:$PORT_e/hook" >/dev/null 2>&1 || die "publish done failed"
expect_fail 4 "transient" publish --source "$W/src4" --key key-9 --fail "transient" \
  --notify-url "http://127.0.0.1:$PORT_e/hook"
assert_eq "done kept" True "$(pyjson "$W/src4/status/shard-0000" 'd["done"]')"
assert_eq "no error POST after done" 2 "$(post_count "$W/e.log")"

# ---- status/ not writable in the source → say --status-dest; --status-dest works
mkdir -p "$W/src5"
echo "not a directory" > "$W/src5/status"
expect_fail 4 "pass --status-dest" publish --source "$W/src5"
mkdir -p "$W/statusdest"
publish --source "$W/src5" --status-dest "$W/statusdest" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; die "--status-dest failed"; }
[ -f "$W/statusdest/status/shard-0000" ] || die "--status-dest: no status/shard-0000 there"

# ---- bad flags fail before anything is written
mkdir -p "$W/src6"
expect_fail 2 "only http:// and https://" publish --source "$W/src6" --notify-url "ftp://127.0.0.1/x"
expect_fail 2 "--notify-timeout" publish --source "$W/src6" --notify-url "http://127.0.0.1:1/x" --notify-timeout 10x
assert_eq "nothing written after bad flags" "" "$(find "$W/src6" -type f)"

# ================================================================== part 2: the real import
IMPORT_HELP=
if [ -n "${PGDATA2LAYERS_BIN:-}" ] && [ -x "${PGDATA2LAYERS_BIN:-}" ]; then
  IMPORT_HELP=$("$PGDATA2LAYERS_BIN" import --help 2>/dev/null || true)   # no pipe: grep -q + pipefail = SIGPIPE
fi
if [[ "$IMPORT_HELP" != *--notify-url* ]]; then
  log "part 1 passed"
  skip "pgdata2layers import has no --notify-url yet (part 1 passed: notify_tool cases)"
fi
need_bin
log "part 2: pgdata2layers import --notify-url"
MAJOR=${P2L_IT_MAJORS%% *}
PGDATA=$(make_pgdata "$MAJOR" 1 "$W/pg")
SRC=$W/pg/pgdata
[ -f "$SRC/global/pg_control" ] || die "no PGDATA at $SRC"
rm -rf "$SRC/status"   # left in cached PGDATAs by older versions, which wrote status objects there

# layers_state DEST: "<index object names + sizes + layer checksums>" for intact-ness checks
layers_state() { (cd "$1" && find . -type f ! -name '*.___temp' -print0 | sort -z | xargs -0 sha256sum); }

# ---- first K=3 requests fail, then accepted
start_receiver i1 --fail-first 3 --fail-mode 503
D1=$W/dest1
"$P2L_BIN" import --source "$SRC" --dest "$D1" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --idempotency-key imp-1 \
  --notify-url "http://127.0.0.1:$PORT_i1/done" --notify-timeout 60s --json >"$W/i1.events" 2>"$W/i1.stderr" \
  || { tail -n 30 "$W/i1.stderr" >&2; die "import with a flaky receiver failed"; }
assert_eq "import: POSTs" 4 "$(post_count "$W/i1.log")"
assert_eq "import: accepted" 1 "$(accepted_count "$W/i1.log")"
BODY=$(accepted_body "$W/i1.log")
assert_eq "import body keys" "tenant_shard_id,tenant_id,timeline_id,shard,idempotency_key,status,error,layers,bytes" \
  "$(echo "$BODY" | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin).keys()))')"
assert_eq "import body ids" "$TENANT|$TENANT|$TIMELINE|0000|imp-1|done|None" \
  "$(echo "$BODY" | pyjson - '"|".join(str(d[k]) for k in ["tenant_shard_id","tenant_id","timeline_id","shard","idempotency_key","status","error"])')"
IDX=$(cd "$D1" && find . -name 'index_part.json*' | head -n 1)
[ -n "$IDX" ] || die "no index_part.json in $D1"
WANT_LAYERS=$(pyjson "$D1/$IDX" 'len(d["layer_metadata"])')
WANT_BYTES=$(pyjson "$D1/$IDX" 'sum(v["file_size"] for v in d["layer_metadata"].values())')
assert_eq "body layers/bytes = index" "$WANT_LAYERS|$WANT_BYTES" "$(echo "$BODY" | pyjson - 'str(d["layers"])+"|"+str(d["bytes"])')"
# a plain local PGDATA source gets no status object by default (it is never written to); the
# notification is still sent
[ ! -e "$SRC/status" ] || die "the import wrote into the plain PGDATA source: $(find "$SRC/status" | head -n 3)"
grep -q "no status object is written into it" "$W/i1.stderr" || die "no log line about the missing status object"
if grep -q '"event":"status_written"' "$W/i1.events"; then die "status_written event without a status object"; fi

# ---- endpoint down: exit 6, Done index + layers intact, rerun delivers
DOWN=$(free_port)
D2=$W/dest2
rc=0
"$P2L_BIN" import --source "$SRC" --dest "$D2" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --idempotency-key imp-2 --status-dest "$W/status2" \
  --notify-url "http://127.0.0.1:$DOWN/done" --notify-timeout 5s >"$W/i2.out" 2>"$W/i2.stderr" || rc=$?
assert_eq "import exit code with the receiver down" 6 "$rc"
grep -q "http://127.0.0.1:$DOWN/done" "$W/i2.stderr" || { tail -n 5 "$W/i2.stderr" >&2; die "no URL in the error"; }
IDX2=$(cd "$D2" && find . -name 'index_part.json*' | head -n 1)
[ -n "$IDX2" ] || die "no index_part.json after the notification timeout"
assert_eq "index is Done" Done "$(pyjson "$D2/$IDX2" 'list(d["import_pgdata"]["V1"].keys())[0]')"
layers_state "$D2" > "$W/state2.before"
# the receiver comes up on that port; rerun: already complete → delivered
start_receiver i2 --port "$DOWN"
"$P2L_BIN" import --source "$SRC" --dest "$D2" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --idempotency-key imp-2 --status-dest "$W/status2" \
  --notify-url "http://127.0.0.1:$DOWN/done" --notify-timeout 60s >"$W/i3.out" 2>"$W/i3.stderr" \
  || { tail -n 20 "$W/i3.stderr" >&2; die "rerun after the notification timeout failed"; }
layers_state "$D2" > "$W/state2.after"
assert_files_equal "$W/state2.before" "$W/state2.after"
assert_eq "rerun: accepted" 1 "$(accepted_count "$W/i2.log")"
assert_eq "rerun: status done" "done|imp-2" "$(accepted_body "$W/i2.log" | pyjson - 'd["status"]+"|"+d["idempotency_key"]')"
log "all notification cases passed"
