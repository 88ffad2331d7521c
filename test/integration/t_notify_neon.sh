#!/usr/bin/env bash
# t_notify_neon.sh — completion in Neon's control-plane shape (issue 15): --notify-format neon,
# --notify-token-file, `pgdata2layers notify` and scripts/import-sharded.sh's one tenant-scoped
# notification, against a real HTTP receiver on 127.0.0.1 (test/tools/notify_server.py) that
# accepts only PUT and only the right bearer token (401 otherwise).
#   * token file missing / empty → exit 2 naming the file, nothing written;
#   * unsharded import, receiver fails the first 2 PUTs (503) → 3 PUTs to <base>/import_complete,
#     one accepted, body exactly {"tenant_id","timeline_id","error": null}, bearer token sent;
#   * a wrong token → 401, not retried, exit 4;
#   * --notify-format neon on one shard of a sharded import → exit 2 (tenant-scoped);
#   * import-sharded.sh, 4 shards: no shard notifies, exactly ONE notification after the last;
#   * `notify` while the receiver is down (connection refused) → retried until it comes up;
#   * `notify` with shards not done → exit 3, nothing sent; with --shard-error → "error" holds
#     the JSON text {"NNCC": "message", ...}, exit 3 after delivery;
#   * the token appears in no stdout/stderr/--json/log and no file written by the imports.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed (needed for the notify receiver)"
need_bin
SERVER=$P2L_ROOT/test/tools/notify_server.py
W=$P2L_TEST_DIR/work
mkdir -p "$W"
unset PGDATA2LAYERS_NOTIFY_TOKEN

TENANT=0123456789abcdef0123456789abcdef
TIMELINE=fedcba9876543210fedcba9876543210
TOKEN=tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
TOKFILE=$P2L_TEST_DIR/secret/token
mkdir -p "$(dirname "$TOKFILE")"
printf '%s\n' "$TOKEN" > "$TOKFILE"
printf 'wrong-%s\n' "$TOKEN" | tr 'a-f' 'A-F' > "$P2L_TEST_DIR/secret/wrong"

RECEIVER_ARGS=(--method PUT --token-file "$TOKFILE")
. "$(dirname "$0")/notify_lib.sh"
count() {   # count LOG PYEXPR-over-e: requests logged for which the expression holds
  python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if eval(sys.argv[2], {"e": json.loads(l)})))' "$@"
}
accepted_body() { python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["accepted"]][0]["body"])' "$1"; }

MAJOR=${P2L_IT_MAJORS%% *}
make_pgdata "$MAJOR" 1 "$W/pg" >/dev/null
SRC=$W/pg/pgdata
[ -f "$SRC/global/pg_control" ] || die "no PGDATA at $SRC"
rm -rf "$SRC/status"

# ---- the token file is checked before any work
expect_fail 2 "$W/nope" "$P2L_BIN" import --source "$SRC" --dest "$W/d0" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --notify-url "http://127.0.0.1:1/cp" --notify-format neon --notify-token-file "$W/nope"
: > "$W/empty"
expect_fail 2 "$W/empty: the file is empty" "$P2L_BIN" import --source "$SRC" --dest "$W/d0" --tenant-id "$TENANT" \
  --timeline-id "$TIMELINE" --notify-url "http://127.0.0.1:1/cp" --notify-format neon --notify-token-file "$W/empty"
[ ! -e "$W/d0" ] || die "a bad token file still wrote into the destination: $(find "$W/d0" | head -n 3)"
expect_fail 2 "tenant-scoped" "$P2L_BIN" import --source "$SRC" --dest "$W/d0" --tenant-id "$TENANT" \
  --timeline-id "$TIMELINE" --shard-count 4 --shard-number 1 \
  --notify-url "http://127.0.0.1:1/cp" --notify-format neon --notify-token-file "$TOKFILE"
[ ! -e "$W/d0" ] || die "--notify-format neon on a shard still wrote into the destination"
expect_fail 2 "$W/nope" "$P2L_SCRIPTS/import-sharded.sh" --shards 2 --bin "$P2L_BIN" --log-dir "$W/lognope" -- \
  --source "$SRC" --dest "$W/d0" --notify-url "http://127.0.0.1:1/cp" --notify-token-file "$W/nope"
[ ! -e "$W/d0" ] || die "import-sharded.sh with a bad token file still wrote into the destination"

# ---- unsharded import, Neon shape, 2 failures then accepted
start_receiver a --fail-first 2 --fail-mode 503
"$P2L_BIN" import --source "$SRC" --dest "$W/d1" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --notify-url "http://127.0.0.1:$PORT_a/cplane/" --notify-format neon --notify-token-file "$TOKFILE" \
  --notify-timeout 60s --json >"$W/a.events" 2>"$W/a.stderr" \
  || { tail -n 30 "$W/a.stderr" >&2; die "import --notify-format neon failed"; }
assert_eq "neon: requests" 3 "$(count "$W/a.log" 'True')"
assert_eq "neon: unauthorized" 0 "$(count "$W/a.log" 'e.get("unauthorized", False)')"
assert_eq "neon: all PUT /cplane/import_complete" 3 "$(count "$W/a.log" 'e["method"]=="PUT" and e["path"]=="/cplane/import_complete"')"
assert_eq "neon: accepted" 1 "$(count "$W/a.log" 'e["accepted"]')"
assert_eq "neon: body" "{\"tenant_id\":\"$TENANT\",\"timeline_id\":\"$TIMELINE\",\"error\":null}" "$(accepted_body "$W/a.log")"
assert_eq "neon: bearer" 1 "$(count "$W/a.log" "e['accepted'] and e['headers']['authorization']=='Bearer <len ${#TOKEN}>' and e['headers']['content-type']=='application/json'")"
assert_eq "notified event: attempts" 3 "$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["event"]=="notified"][-1]["attempts"])' "$W/a.events")"

# ---- wrong token: 401, not retried
rc=0
"$P2L_BIN" import --source "$SRC" --dest "$W/d1" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --notify-url "http://127.0.0.1:$PORT_a/cplane" --notify-format neon \
  --notify-token-file "$P2L_TEST_DIR/secret/wrong" --notify-timeout 30s >"$W/b.out" 2>"$W/b.stderr" || rc=$?
assert_eq "wrong token: exit" 4 "$rc"
grep -q "HTTP 401" "$W/b.stderr" || { tail -n 5 "$W/b.stderr" >&2; die "no HTTP 401 in the error"; }
assert_eq "wrong token: one 401, no retry" 1 "$(count "$W/a.log" 'e.get("unauthorized", False)')"

# ---- 4 shards with import-sharded.sh: exactly one notification, after the last shard
start_receiver s --fail-first 1 --fail-mode 500
"$P2L_SCRIPTS/import-sharded.sh" --shards 4 --bin "$P2L_BIN" --log-dir "$W/logs" --jobs-per-shard 1 -- \
  --source "$SRC" --dest "$W/d4" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --notify-url "http://127.0.0.1:$PORT_s" --notify-format neon --notify-token-file "$TOKFILE" --notify-timeout 60s \
  >"$W/s.out" 2>"$W/s.stderr" || { cat "$W/s.out" "$W/s.stderr" >&2; die "import-sharded.sh failed"; }
grep -q "notification sent" "$W/s.out" || { cat "$W/s.out" >&2; die "import-sharded.sh: no 'notification sent'"; }
assert_eq "sharded: accepted" 1 "$(count "$W/s.log" 'e["accepted"]')"
assert_eq "sharded: requests (1 failure + 1)" 2 "$(count "$W/s.log" 'True')"
assert_eq "sharded: body" "{\"tenant_id\":\"$TENANT\",\"timeline_id\":\"$TIMELINE\",\"error\":null}" "$(accepted_body "$W/s.log")"
for f in "$W"/logs/shard-*.json; do
  if grep -q '"event":"notified"\|"event":"notify_retry"' "$f"; then die "$f: a shard notified by itself"; fi
done
# every shard's index was Done before the (single) notification was received
LAST_DONE=$(cd "$W/d4" && for i in $(find . -name 'index_part.json*'); do stat -c %Y "$i"; done | sort -n | tail -n 1)
RECV=$(stat -c %Y "$W/s.log")
[ "$RECV" -ge "$LAST_DONE" ] || die "the notification arrived before the last shard's index was written"
assert_eq "sharded: 4 Done shards" 4 "$(cd "$W/d4" && find . -path '*-0?04/*' -name 'index_part.json*' | wc -l)"
# the same settings exported as PGDATA2LAYERS_NOTIFY_* (a rerun: every shard already complete):
# still no shard notifies on its own, and the script sends exactly one notification
start_receiver e
PGDATA2LAYERS_NOTIFY_URL="http://127.0.0.1:$PORT_e" PGDATA2LAYERS_NOTIFY_FORMAT=neon \
  PGDATA2LAYERS_NOTIFY_TOKEN_FILE="$TOKFILE" PGDATA2LAYERS_NOTIFY_TIMEOUT=60s \
  "$P2L_SCRIPTS/import-sharded.sh" --shards 4 --bin "$P2L_BIN" --log-dir "$W/logs-env" --jobs-per-shard 1 -- \
  --source "$SRC" --dest "$W/d4" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  >"$W/env.out" 2>"$W/env.stderr" || { cat "$W/env.out" "$W/env.stderr" >&2; die "import-sharded.sh (environment) failed"; }
assert_eq "sharded, environment: requests" 1 "$(count "$W/e.log" 'True')"
assert_eq "sharded, environment: accepted" 1 "$(count "$W/e.log" 'e["accepted"]')"
for f in "$W"/logs-env/shard-*.json; do
  if grep -q '"event":"notified"\|"event":"notify_retry"' "$f"; then die "$f: a shard notified by itself (environment)"; fi
done

# ---- notify while the receiver is down: connection refused, retried until it comes up
DOWN=$(free_port)
"$P2L_BIN" notify --dest "$W/d4" --tenant-id "$TENANT" --timeline-id "$TIMELINE" --shard-count 4 \
  --notify-url "http://127.0.0.1:$DOWN" --notify-format neon --notify-token-file "$TOKFILE" --notify-timeout 60s \
  --json >"$W/r.events" 2>"$W/r.stderr" &
NPID=$!
track_pid "$NPID"
sleep 3
start_receiver r --port "$DOWN"
wait "$NPID" || { tail -n 20 "$W/r.stderr" >&2; die "notify with the receiver down at first failed"; }
grep -q '"event":"notify_retry"' "$W/r.events" || die "no notify_retry event while the receiver was down"
grep -q "connect" "$W/r.stderr" || { tail -n 5 "$W/r.stderr" >&2; die "no connection-refused retry logged"; }
assert_eq "refused then accepted" 1 "$(count "$W/r.log" 'e["accepted"]')"
grep -q '"event":"tenant_notify"' "$W/r.events" || die "no tenant_notify event"

# ---- shards not done: nothing sent; reported failures: "error" holds them
expect_fail 3 "not every shard is done" "$P2L_BIN" notify --dest "$W/d4" --tenant-id "$TENANT" \
  --timeline-id "$TIMELINE" --shard-count 2 --notify-url "http://127.0.0.1:$PORT_r" --notify-format neon \
  --notify-token-file "$TOKFILE"
assert_eq "not done: nothing sent" 1 "$(count "$W/r.log" 'True')"
expect_fail 3 "failure notified" "$P2L_BIN" notify --dest "$W/d4" --tenant-id "$TENANT" \
  --timeline-id "$TIMELINE" --shard-count 2 --notify-url "http://127.0.0.1:$PORT_r" --notify-format neon \
  --notify-token-file "$TOKFILE" --shard-error "0002=exit 4: disk full" --shard-error "0102=exit 4: disk full"
assert_eq "failure notified" 2 "$(count "$W/r.log" 'e["accepted"]')"
assert_eq "failure body" '{"0002": "exit 4: disk full", "0102": "exit 4: disk full"}' \
  "$(python3 -c 'import json,sys; e=json.loads([json.loads(l) for l in open(sys.argv[1])][-1]["body"]); print(json.dumps(json.loads(e["error"])) if list(e)==["tenant_id","timeline_id","error"] else e)' "$W/r.log")"

# ---- the token is nowhere: outputs, logs, events, the receivers' logs, destinations
if grep -rlF -- "$TOKEN" "$W"; then die "the bearer token appears in the files above"; fi
log "all Neon-shape notification cases passed"
