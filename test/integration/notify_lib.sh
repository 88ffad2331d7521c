# shellcheck shell=bash
# test/integration/notify_lib.sh — helpers shared by t_notify.sh and t_notify_neon.sh (source after
# lib.sh, with W set to the test's work directory and SERVER to test/tools/notify_server.py):
#   start_receiver NAME [notify_server.py options]   a receiver on 127.0.0.1; sets PORT_<NAME> and
#                  PID_<NAME>, logs every request to $W/NAME.log (options in RECEIVER_ARGS, an
#                  array, are passed to every receiver first)
#   expect_fail CODE PATTERN CMD...   CMD must exit with CODE and print PATTERN on stderr
#   pyjson FILE-OR-- EXPR             jq-free JSON field access (EXPR in Python over `d`)
RECEIVER_ARGS=(${RECEIVER_ARGS[@]+"${RECEIVER_ARGS[@]}"})
start_receiver() {
  local name=$1 out pid port; shift
  out=$W/$name.out
  python3 "$SERVER" ${RECEIVER_ARGS[@]+"${RECEIVER_ARGS[@]}"} --log "$W/$name.log" "$@" >"$out" 2>"$W/$name.err" &
  pid=$!
  track_pid "$pid"
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^PORT //p' "$out" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || die "notify_server.py $* did not start: $(cat "$W/$name.err")"
  touch "$W/$name.log"
  printf -v "PORT_$name" '%s' "$port"
  printf -v "PID_$name" '%s' "$pid"
}
expect_fail() {
  local code=$1 pat=$2 rc=0; shift 2
  "$@" >"$W/out" 2>"$W/err" || rc=$?
  [ "$rc" = "$code" ] || { cat "$W/err" >&2; die "'$*' exited $rc, expected $code"; }
  grep -q -- "$pat" "$W/err" || { cat "$W/err" >&2; die "'$*': error does not mention '$pat'"; }
  log "expected failure ($code): $(tail -n 1 "$W/err" | head -c 400)"
}
pyjson() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]) if sys.argv[1]!="-" else sys.stdin); print(eval(sys.argv[2]))' "$@"; }
