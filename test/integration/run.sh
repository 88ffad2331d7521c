#!/usr/bin/env bash
# test/integration/run.sh [TEST...] — runs the integration tests.
#
# TEST is a name like t_pg_fixture (or t_pg_fixture.sh, or a path); without arguments every
# test/integration/t_*.sh runs, in name order. Each test runs with bash in its own scratch
# directory $P2L_TEST_DIR under a run directory /var/tmp/p2l-it.XXXXXX (world-traversable, so the
# unprivileged PostgreSQL user can reach it), with stdin from /dev/null, under a timeout, its
# output captured to a log that is printed when it fails.
# A test exits 0 = pass, 77 = skip (its last "SKIP: reason" line is shown), else fail.
#
# Prints one line per test: "ok   NAME (12.3s)", "FAIL NAME (4.5s)", "skip NAME (0.1s): reason",
# and ends with "N passed, M failed" (", K skipped" when K > 0). Exit status 1 if anything failed.
#
# Environment:
#   PGDATA2LAYERS_BIN    path of the pgdata2layers binary (the Makefile sets it)
#   PGDATA2LAYERS_TOOLS  directory of the test tool binaries (the Makefile sets it)
#   P2L_IT_TIMEOUT=900   per-test timeout in seconds
#   P2L_IT_CACHE         PGDATA build cache shared by the tests (default: RUNDIR/cache, removed at
#                        the end; set it to a directory of your own to keep builds across runs)
#   P2L_IT_KEEP=failed   keep the scratch directories of: failed (default) | all | none
#   P2L_IT_TMP=/var/tmp  where the run directory is created
#   P2L_IT_LOG_LINES=300 how many last lines of a failed test's log to print
#   P2L_IT_MAJORS        PostgreSQL majors for tests that loop over versions (default 14 15 16 17)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
ITDIR=$ROOT/test/integration
TIMEOUT=${P2L_IT_TIMEOUT:-900}
KEEP=${P2L_IT_KEEP:-failed}
LOGLINES=${P2L_IT_LOG_LINES:-300}
TMPBASE=${P2L_IT_TMP:-/var/tmp}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

# ------------------------------------------------------------------ which tests
TESTS=()
if [ $# -eq 0 ]; then
  for f in "$ITDIR"/t_*.sh; do [ -e "$f" ] && TESTS+=("$f"); done
else
  for a in "$@"; do
    case "$a" in
      */*) TESTS+=("$a") ;;
      *.sh) TESTS+=("$ITDIR/$a") ;;
      *) TESTS+=("$ITDIR/$a.sh") ;;
    esac
  done
fi

RUN=$(mktemp -d "$TMPBASE/p2l-it.XXXXXX") || { echo "cannot create a run directory in $TMPBASE" >&2; exit 1; }
chmod 755 "$RUN"
OWN_CACHE=0
if [ -z "${P2L_IT_CACHE:-}" ]; then P2L_IT_CACHE=$RUN/cache; OWN_CACHE=1; fi
mkdir -p "$P2L_IT_CACHE" && chmod 755 "$P2L_IT_CACHE"
export P2L_ROOT=$ROOT P2L_IT_CACHE
export P2L_IT_MAJORS=${P2L_IT_MAJORS:-14 15 16 17}

echo "integration tests: ${#TESTS[@]} test(s), run directory $RUN, timeout ${TIMEOUT}s each"
[ -n "${PGDATA2LAYERS_BIN:-}" ] || echo "note: PGDATA2LAYERS_BIN is not set; tests that need the binary will fail"

# PID runs (a zombie does not count: an orphan's parent is init, which may reap it late)
alive() {
  local st
  st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Stops whatever a test left running: PostgreSQL servers on PGDATAs under its directory and the
# pids it registered (lib.sh track_pid). Only processes that test started.
sweep() {
  local dir=$1 pidfile data pid
  while IFS= read -r pidfile; do
    data=$(dirname "$pidfile")
    [ -f "$data/PG_VERSION" ] || continue
    pid=$(head -n1 "$pidfile" 2>/dev/null)
    if [ -n "$pid" ] && alive "$pid"; then
      echo "  (stopping a PostgreSQL the test left running on $data)"
      "$ROOT/scripts/pg-run.sh" stop "$data" --mode immediate >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null
    fi
  done < <(find "$dir" -name postmaster.pid -type f 2>/dev/null)
  if [ -f "$dir/.p2l-pids" ]; then
    while read -r pid; do
      [[ "$pid" =~ ^[0-9]+$ ]] || continue
      if alive "$pid"; then
        echo "  (killing pid $pid the test left running)"
        kill "$pid" 2>/dev/null
        for _ in 1 2 3 4 5; do alive "$pid" || break; sleep 0.2; done
        alive "$pid" && kill -9 "$pid" 2>/dev/null
      fi
    done < "$dir/.p2l-pids"
  fi
}

PASSED=0 FAILED=0 SKIPPED=0 FAILED_NAMES=()
T_RUN=$(now)
for t in ${TESTS[@]+"${TESTS[@]}"}; do
  name=$(basename "$t" .sh)
  if [ ! -f "$t" ]; then
    printf 'FAIL %s (0.0s): no such test %s\n' "$name" "$t"
    FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name"); continue
  fi
  dir=$RUN/$name
  mkdir -p "$dir" && chmod 755 "$dir"
  logf=$RUN/$name.log
  t0=$(now)
  (
    cd "$dir" || exit 1
    export P2L_TEST_DIR=$dir P2L_TEST_NAME=$name
    exec timeout --kill-after=30 "$TIMEOUT" bash "$t"
  ) >"$logf" 2>&1 </dev/null
  rc=$?
  dt=$(secs "$t0" "$(now)")
  sweep "$dir" >>"$logf" 2>&1
  case "$rc" in
    0)
      printf 'ok   %s (%ss)\n' "$name" "$dt"; PASSED=$((PASSED + 1)) ;;
    77)
      reason=$(grep '^SKIP: ' "$logf" | tail -n1 | sed 's/^SKIP: //')
      printf 'skip %s (%ss): %s\n' "$name" "$dt" "${reason:-no reason given}"; SKIPPED=$((SKIPPED + 1)) ;;
    *)
      why="exit $rc"; [ "$rc" = 124 ] || [ "$rc" = 137 ] && why="timeout after ${TIMEOUT}s"
      printf 'FAIL %s (%ss): %s\n' "$name" "$dt" "$why"
      n=$(wc -l < "$logf")
      echo "----- $name log: last $LOGLINES of $n lines (full log: $logf) -----"
      tail -n "$LOGLINES" "$logf"
      echo "----- end of $name log -----"
      FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name") ;;
  esac
  if [ "$KEEP" = none ] || { [ "$KEEP" = failed ] && { [ "$rc" = 0 ] || [ "$rc" = 77 ]; }; }; then
    rm -rf "$dir"
  fi
done

[ "$OWN_CACHE" = 1 ] && [ "$KEEP" != all ] && rm -rf "$P2L_IT_CACHE"
if [ "$FAILED" -eq 0 ] && [ "$KEEP" != all ]; then
  rm -rf "$RUN"
else
  echo "run directory kept: $RUN"
fi
[ "$FAILED" -gt 0 ] && echo "failed: ${FAILED_NAMES[*]}"
echo "integration tests took $(secs "$T_RUN" "$(now)")s"
SUMMARY="$PASSED passed, $FAILED failed"
[ "$SKIPPED" -gt 0 ] && SUMMARY+=", $SKIPPED skipped"
echo "$SUMMARY"
[ "$FAILED" -eq 0 ]
