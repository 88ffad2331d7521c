#!/usr/bin/env bash
# The hostile-input corpus (test/hostile/cases.tsv, described in test/hostile/README.md): every
# case damages a small real fixture (a PostgreSQL 15 initdb-only PGDATA, a finished import of it,
# a layer file, or an S3 source served by test/hostile/fake_s3.py with canned malicious answers),
# runs one pgdata2layers command and checks that
#   - it exits with the expected code (2 usage, 3 invalid input, 4 io, 5 conflict, ...),
#   - stderr contains the expected text (the file/object name and what was wrong),
#   - it did not crash (exit < 128, no sanitizer report) and did not hang (P2L_HOSTILE_TIMEOUT),
#   - no index_part.json it created or changed says "Done".
# Knobs: P2L_HOSTILE_CASES="glob..." runs only matching ids; P2L_HOSTILE_TIMEOUT (default 60 s);
# P2L_HOSTILE_BIN overrides the binary (e.g. an ASan build).
. "$(dirname "$0")/lib.sh"
need_bin
BIN=${P2L_HOSTILE_BIN:-$P2L_BIN}
HOSTILE=$P2L_ROOT/test/hostile
CASES=$HOSTILE/cases.tsv
CASE_TIMEOUT=${P2L_HOSTILE_TIMEOUT:-60}
# shellcheck source=../hostile/mutate.sh
. "$HOSTILE/mutate.sh"
command -v python3 >/dev/null || skip "python3 is needed (fake S3 server, fixture mutations)"

export T=7e57ab1e000000000000000000000001 TL=7e57ab1e0000000000000000000000f1
export AWS_ACCESS_KEY_ID=hostile AWS_SECRET_ACCESS_KEY=hostile AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_PROFILE
export PGDATA2LAYERS_LOG_LEVEL=info

# ------------------------------------------------------------------ fixtures
# A PostgreSQL 15 cluster straight out of initdb (shut down cleanly; base/1, 4, 5, global, SLRUs,
# an empty pg_tblspc and pg_twophase): cached per run, read-only; every case copies it.
hostile_pgdata() {
  local dir=$P2L_IT_CACHE/hostile-pg15-initdb bindir
  mkdir -p "$P2L_IT_CACHE"
  (
    flock -w 300 9 || exit 1
    [ -f "$dir/complete" ] && exit 0
    bindir=$("$P2L_SCRIPTS/pg-install.sh" 15) || exit 1
    rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      chown "$PGTEST_OSUSER:" "$dir"
      runuser -u "$PGTEST_OSUSER" -- "$bindir/initdb" -D "$dir/pgdata" -A trust -U postgres \
        --no-sync --wal-segsize=1 >"$dir/initdb.log" 2>&1 || exit 1
    else
      "$bindir/initdb" -D "$dir/pgdata" -A trust -U postgres --no-sync --wal-segsize=1 \
        >"$dir/initdb.log" 2>&1 || exit 1
    fi
    touch "$dir/complete"
  ) 9>"$dir.lock" || die "initdb of the hostile fixture failed (see $dir/initdb.log)"
  echo "$dir/pgdata"
}
PG_REF=$(hostile_pgdata)
log "fixture PGDATA: $PG_REF ($(du -sh "$PG_REF" | cut -f1))"

# A finished import of that PGDATA (for status/verify/resume cases), built on first use.
LAYERS_REF=$P2L_TEST_DIR/fixture-layers
LAYERS_STATE=""
layers_fixture() {
  [ -n "$LAYERS_STATE" ] && { [ "$LAYERS_STATE" = ok ]; return; }
  LAYERS_STATE=failed
  log "building the 'layers' fixture: import of the fixture PGDATA"
  if "$P2L_BIN" import --source "$PG_REF" --dest "$LAYERS_REF" --tenant-id "$T" --timeline-id "$TL" \
      >"$P2L_TEST_DIR/fixture-import.log" 2>&1 </dev/null; then
    LAYERS_STATE=ok
  else
    log "import of the fixture failed:"; tail -n 20 "$P2L_TEST_DIR/fixture-import.log" >&2
  fi
  [ "$LAYERS_STATE" = ok ]
}

# md5 of every index_part object under a destination, for the "no new Done" check
index_snapshot() {
  [ -d "$1" ] || return 0
  find "$1" -type f -name 'index_part.json*' -exec md5sum {} + 2>/dev/null | LC_ALL=C sort
}

start_fake_s3() {   # start_fake_s3 ROOT SCENARIO_JSON -> sets EP, S3_FAKE_PID
  local portf=$W/fake_s3.port
  python3 "$HOSTILE/fake_s3.py" --root "$1" --scenario "$2" --port-file "$portf" \
    >"$W/fake_s3.out" 2>"$W/fake_s3.log" </dev/null &
  S3_FAKE_PID=$!
  track_pid "$S3_FAKE_PID"
  for _ in $(seq 1 100); do [ -s "$portf" ] && break; sleep 0.1; done
  [ -s "$portf" ] || { cat "$W/fake_s3.log" >&2; die "fake_s3.py did not start"; }
  EP=http://127.0.0.1:$(cat "$portf")
}

# ------------------------------------------------------------------ cases
selected() {
  local id=$1 g
  [ -z "${P2L_HOSTILE_CASES:-}" ] && return 0
  for g in $P2L_HOSTILE_CASES; do
    # shellcheck disable=SC2053
    [[ $id == $g ]] && return 0
  done
  return 1
}

N=0 PASS=0 FAILN=0 SKIPN=0 FAILED=()
fail_case() {   # fail_case ID REASON
  FAILN=$((FAILN + 1)); FAILED+=("$1")
  printf 'FAIL %-34s %s\n' "$1" "$2"
  echo "     command: $cmd"
  echo "     stderr (last 15 lines):"; tail -n 15 "$W/stderr" | sed 's/^/       /'
}

while IFS=$'\t' read -r id fixture setup cmd want_rc expect; do
  case "$id" in ''|'#'*) continue ;; esac
  selected "$id" || continue
  N=$((N + 1))
  W=$P2L_TEST_DIR/cases/$id
  rm -rf "$W" && mkdir -p "$W"
  PG=$W/pgdata OUT=$W/out LAYER=$W/layer SRC="" EP="" S3_FAKE_PID=""
  case "$fixture" in
    none) ;;
    pg) cp -a "$PG_REF" "$PG" ;;
    layer) cp "$P2L_ROOT/test/fuzz/corpus/image_layer_reader/example_a" "$LAYER" ;;
    layers)
      if ! layers_fixture; then
        SKIPN=$((SKIPN + 1)); printf 'skip %-34s (no layers fixture: import failed)\n' "$id"; continue
      fi
      cp -a "$PG_REF" "$PG"; cp -a "$LAYERS_REF" "$OUT" ;;
    s3:*)
      scen=$HOSTILE/s3/${fixture#s3:}/scenario.json
      [ -f "$scen" ] || die "$id: no scenario $scen"
      mkdir -p "$W/s3root/hostile"
      PG=$W/s3root/hostile/src
      cp -a "$PG_REF" "$PG"
      SRC=s3://hostile/src ;;
    *) die "$id: unknown fixture '$fixture'" ;;
  esac
  export PG OUT W LAYER SRC
  if [ "$setup" != - ]; then
    if ! (cd "$W" && eval "$setup") >"$W/setup.log" 2>&1 </dev/null; then
      cat "$W/setup.log" >&2; die "$id: setup failed: $setup"
    fi
  fi
  case "$fixture" in s3:*) start_fake_s3 "$W/s3root" "$scen"; export EP ;; esac
  before=$(index_snapshot "$OUT")

  t0=$(date +%s.%N)
  set +e
  # shellcheck disable=SC2016
  BIN="$BIN" timeout -k 5 "$CASE_TIMEOUT" bash -c 'eval "\"\$BIN\" $1"' _ "$cmd" >"$W/stdout" 2>"$W/stderr" </dev/null
  rc=$?
  set -e
  dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  if [ -n "$S3_FAKE_PID" ]; then kill "$S3_FAKE_PID" 2>/dev/null || true; wait "$S3_FAKE_PID" 2>/dev/null || true; fi

  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    fail_case "$id" "HANG: no answer within ${CASE_TIMEOUT}s"; continue
  fi
  if [ "$rc" -ge 128 ]; then
    fail_case "$id" "CRASH: exit $rc (signal $((rc - 128)))"; continue
  fi
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|terminate called' "$W/stderr"; then
    fail_case "$id" "sanitizer report / uncaught exception (exit $rc)"; continue
  fi
  if [ "$rc" != "$want_rc" ]; then
    fail_case "$id" "exit $rc, expected $want_rc (${dt}s)"; continue
  fi
  if ! grep -qF -- "$expect" "$W/stderr"; then
    fail_case "$id" "stderr lacks: $expect"; continue
  fi
  # a failed command says so: "error: ..." (or, for verify, which reports every problem it
  # finds, a log line at level ERROR)
  if [ "$want_rc" != 0 ] && ! grep -qE '^error: |^[0-9TZ:.-]+ ERROR ' "$W/stderr"; then
    fail_case "$id" "no 'error: ' (or ERROR log) line on stderr"; continue
  fi
  after=$(index_snapshot "$OUT")
  if [ "$before" != "$after" ]; then
    changed=$(comm -13 <(echo "$before") <(echo "$after") | awk '{print $2}')
    done_file=""
    for f in $changed; do grep -q '"Done"' "$f" && done_file=$f; done
    if [ -n "$done_file" ]; then
      fail_case "$id" "wrote an index_part marked Done: $done_file"; continue
    fi
  fi
  PASS=$((PASS + 1))
  printf 'ok   %-34s exit %s (%ss)\n' "$id" "$rc" "$dt"
  rm -rf "$W"
done < "$CASES"

echo "hostile: $N case(s): $PASS passed, $FAILN failed, $SKIPN skipped"
[ "$N" -gt 0 ] || die "no case selected"
[ "$FAILN" -eq 0 ] || die "failed: ${FAILED[*]}"
[ "$SKIPN" -eq 0 ] || skip "$SKIPN case(s) could not run (see above)"
