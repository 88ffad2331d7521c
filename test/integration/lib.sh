# shellcheck shell=bash
# test/integration/lib.sh — helpers for the integration tests. Source it first thing:
#
#   #!/usr/bin/env bash
#   . "$(dirname "$0")/lib.sh"
#
# It sets `set -euo pipefail` and an EXIT trap that cleans up everything the test started
# (PostgreSQL servers, background processes, registered commands). Do not set your own EXIT
# trap: register commands with on_exit instead.
#
# A test exits 0 = pass, 77 = skip (use: skip "reason"), anything else = fail.
# test/integration/run.sh provides (and the helpers fall back to sane values without it):
#   P2L_ROOT        the repository root
#   P2L_TEST_DIR    this test's private scratch directory (world-traversable; removed afterwards)
#   P2L_IT_CACHE    a cache shared by the tests of one run (PGDATA builds)
#   PGDATA2LAYERS_BIN    the pgdata2layers binary (need_bin checks it)
#   PGDATA2LAYERS_TOOLS  directory of the test tools built from test/tools/*.cc
#   P2L_IT_MAJORS   PostgreSQL majors that loop-over-versions tests cover (default "14 15 16 17")
#
# Helpers:
#   log MSG / die MSG / skip REASON
#   need_bin                       fail unless $PGDATA2LAYERS_BIN is executable; sets P2L_BIN
#   need_tool NAME                 prints the path of $PGDATA2LAYERS_TOOLS/NAME (fails if absent)
#   pgdata_ref MAJOR SCALE         prints a cached, READ-ONLY build dir (OUTDIR of
#                                  scripts/make-pgdata.sh: pgdata/ tblspc2/ info.txt fingerprint.txt).
#                                  Never start a server on it or write into it.
#   make_pgdata MAJOR SCALE DIR    a private copy of that build in DIR (DIR/pgdata, DIR/tblspc2,
#                                  DIR/info.txt, DIR/fingerprint.txt); prints DIR/pgdata
#   copy_pgdata SRCDIR DSTDIR      cp -a SRCDIR/{pgdata,tblspc2,...} to DSTDIR and re-point the
#                                  pg_tblspc symlinks that pointed into SRCDIR
#   (PGTEST_CHECKSUMS/PGTEST_TINY/PGTEST_TXNS/PGTEST_WALSEG/PGTEST_TABLESPACE in the environment
#    select variants; each variant is cached separately. PGTEST_TABLESPACE=1: a user tablespace,
#    which pgdata2layers refuses unless --tablespaces skip|keep)
#   start_pg PGDATA [pg-run.sh start options]   start a server; sets PG_SOCK PG_PORT PG_PID PG_BIN
#   stop_pg PGDATA [--mode M]      stop it (fast by default)
#   pg_sql SOCK DB SQL             run SQL, print unaligned tuples-only output
#   fingerprint SOCK               print scripts/pg-fingerprint.sh output
#   amcheck SOCK                   pg_amcheck --all (creates the amcheck extension: fingerprint first)
#   pg_dump_db SOCK DB             pg_dump 15 to stdout; exits 77 for servers >= 16
#   controldata PGDATA             pg_controldata output
#   cluster_state PGDATA           e.g. "shut down"
#   on_exit CMD...                 run CMD at exit (last registered runs first)
#   track_pid PID                  kill PID (TERM, then KILL) at exit
#   start_azurite [azurite-server.sh options]   sets AZURE_* + AZURITE_PID (tracked)
#   start_s3 [s3-server.sh options]             sets S3_* + S3_PID (tracked); skips if the
#                                               script is absent
#   free_port                      prints a free TCP port on 127.0.0.1
#   assert_eq WHAT EXPECTED ACTUAL / assert_files_equal A B
set -euo pipefail

P2L_ROOT=${P2L_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
P2L_SCRIPTS=$P2L_ROOT/scripts
P2L_TEST_NAME=${P2L_TEST_NAME:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}
if [ -z "${P2L_TEST_DIR:-}" ]; then
  P2L_TEST_DIR=$(mktemp -d /var/tmp/p2l-test.XXXXXX)
  chmod 755 "$P2L_TEST_DIR"
  P2L_OWN_TEST_DIR=1
fi
P2L_IT_CACHE=${P2L_IT_CACHE:-/var/tmp/p2l-it-cache}
P2L_IT_MAJORS=${P2L_IT_MAJORS:-14 15 16 17}
export P2L_ROOT P2L_TEST_DIR P2L_IT_CACHE P2L_TEST_NAME
export PGTEST_OSUSER=${PGTEST_OSUSER:-postgres}

_P2L_T0=$(date +%s.%N)
log() { printf '[%s +%ss] %s\n' "$P2L_TEST_NAME" "$(awk -v a="$_P2L_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# ------------------------------------------------------------------ cleanup
_P2L_ON_EXIT=()
_P2L_SERVERS=()
_P2L_PIDS=()
on_exit() { _P2L_ON_EXIT+=("$*"); }
# start_fault_proxy PORT RATE SEED [STALL_SECONDS [DIR]]: test/tools/fault_proxy ($FP) in front of
# 127.0.0.1:PORT failing RATE of the requests (PRNG SEED), its port file and log in DIR (default
# $W); sets PROXY_PID (tracked) and PROXY_PORT.
start_fault_proxy() {
  local dir=${5:-$W}
  rm -f "$dir/proxy.port"
  "$FP" --upstream "127.0.0.1:$1" --port-file "$dir/proxy.port" --fail-rate "$2" --seed "$3" \
        --stall-seconds "${4:-4}" --max-seconds 900 >/dev/null 2>>"$dir/proxy.log" &
  PROXY_PID=$!
  track_pid "$PROXY_PID"
  for _ in $(seq 50); do [ -s "$dir/proxy.port" ] && break; sleep 0.1; done
  [ -s "$dir/proxy.port" ] || die "fault_proxy did not start"
  PROXY_PORT=$(cat "$dir/proxy.port")
}

track_pid() {
  _P2L_PIDS+=("$1")
  echo "$1" >> "$P2L_TEST_DIR/.p2l-pids"   # the runner kills these too if the test is killed
}
# PID runs (a zombie does not count: an orphan's parent is init, which may reap it late)
_p2l_alive() {
  local st
  st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
_p2l_cleanup() {
  local rc=$? i
  set +e
  for (( i=${#_P2L_ON_EXIT[@]}-1; i>=0; i-- )); do eval "${_P2L_ON_EXIT[$i]}"; done
  for d in ${_P2L_SERVERS[@]+"${_P2L_SERVERS[@]}"}; do
    if "$P2L_SCRIPTS/pg-run.sh" status "$d" 2>/dev/null; then
      "$P2L_SCRIPTS/pg-run.sh" stop "$d" --mode immediate >/dev/null 2>&1
    fi
  done
  for p in ${_P2L_PIDS[@]+"${_P2L_PIDS[@]}"}; do kill "$p" 2>/dev/null; done
  for p in ${_P2L_PIDS[@]+"${_P2L_PIDS[@]}"}; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do _p2l_alive "$p" || break; sleep 0.2; done
    _p2l_alive "$p" && kill -9 "$p" 2>/dev/null
  done
  [ "${P2L_OWN_TEST_DIR:-0}" = 1 ] && rm -rf "$P2L_TEST_DIR"
  exit "$rc"
}
# with set -e a failing command ends the test silently: name it (file:line, command, status)
set -E
_p2l_on_err() { [[ $- == *e* ]] || return 0; log "error: '$3' exited with status $1 (${4:-?}:$2)"; }
trap '_p2l_on_err $? $LINENO "$BASH_COMMAND" "${BASH_SOURCE[0]##*/}"' ERR
trap _p2l_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ------------------------------------------------------------------ binaries
need_bin() {
  [ -n "${PGDATA2LAYERS_BIN:-}" ] || die "PGDATA2LAYERS_BIN is not set (run via make test-integration)"
  [ -x "$PGDATA2LAYERS_BIN" ] || die "PGDATA2LAYERS_BIN=$PGDATA2LAYERS_BIN is not executable"
  export P2L_BIN=$PGDATA2LAYERS_BIN
}
need_tool() {
  local t="${PGDATA2LAYERS_TOOLS:-}/$1"
  [ -n "${PGDATA2LAYERS_TOOLS:-}" ] || die "PGDATA2LAYERS_TOOLS is not set (run via make test-integration)"
  [ -x "$t" ] || die "test tool $t is missing (built from test/tools/$1.cc)"
  echo "$t"
}

# ------------------------------------------------------------------ PGDATA builds
# The cache key: major, scale and the make-pgdata.sh knobs that change the content.
_p2l_variant() {
  local v="pg$1-s$2"
  [ "${PGTEST_CHECKSUMS:-0}" = 1 ] && v+="-ck"
  [ "${PGTEST_TABLESPACE:-0}" = 1 ] && v+="-ts"
  [ "${PGTEST_TINY:-0}" = 1 ] && v+="-tiny"
  [ -n "${PGTEST_TXNS:-}" ] && v+="-tx${PGTEST_TXNS}"
  [ -n "${PGTEST_WALSEG:-}" ] && v+="-wal${PGTEST_WALSEG}"
  echo "$v"
}
pgdata_ref() {
  local major=$1 scale=$2 dir
  dir="$P2L_IT_CACHE/$(_p2l_variant "$major" "$scale")"
  mkdir -p "$P2L_IT_CACHE"; chmod 755 "$P2L_IT_CACHE" 2>/dev/null || true
  # one builder per variant at a time; PGTEST_REUSE makes a finished build a no-op
  (
    flock -w 900 9 || { echo "timed out waiting for $dir.lock" >&2; exit 1; }
    PGTEST_REUSE=1 PGTEST_FORCE=1 "$P2L_SCRIPTS/make-pgdata.sh" "$major" "$scale" "$dir" >/dev/null
  ) 9>"$dir.lock" || die "make-pgdata.sh $major $scale $dir failed"
  echo "$dir"
}
copy_pgdata() {
  local src=$1 dst=$2 l t rel
  src=$(cd "$src" && pwd -P)
  mkdir -p "$dst"; dst=$(cd "$dst" && pwd -P)
  chmod 755 "$dst"
  cp -a "$src"/. "$dst"/
  # cp -a keeps pg_tblspc/<oid> -> SRC/tblspc2 (absolute): the copy's server would write into the
  # original's tablespace. Re-point every link that pointed into SRC.
  for l in "$dst"/pgdata/pg_tblspc/*; do
    [ -L "$l" ] || continue
    t=$(readlink "$l")
    case "$t" in
      "$src"/*) rel=${t#"$src"/}; ln -sfn "$dst/$rel" "$l" ;;
      *) log "note: tablespace link $l -> $t points outside $src; left as is" ;;
    esac
  done
  # (the default fixture has no user tablespace: pg_tblspc/ is empty)
  if [ "$(id -u)" -eq 0 ] && compgen -G "$dst/pgdata/pg_tblspc/*" > /dev/null; then
    chown -h "$PGTEST_OSUSER:" "$dst"/pgdata/pg_tblspc/* 2>/dev/null
  fi
  rm -f "$dst/server.log"
  return 0
}
make_pgdata() {
  local major=$1 scale=$2 dst=$3 ref
  ref=$(pgdata_ref "$major" "$scale")
  copy_pgdata "$ref" "$dst"
  echo "$dst/pgdata"
}

# ------------------------------------------------------------------ servers
start_pg() {
  local data=$1 out; shift
  out=$("$P2L_SCRIPTS/pg-run.sh" start "$data" "$@") || die "could not start PostgreSQL on $data"
  _P2L_SERVERS+=("$data")
  eval "$out"
  export PG_PORT
}
stop_pg() { "$P2L_SCRIPTS/pg-run.sh" stop "$@" || die "pg-run.sh stop $* failed"; }
pg_sql() { "$P2L_SCRIPTS/pg-run.sh" psql "$1" -d "$2" -Atc "$3"; }
fingerprint() { "$P2L_SCRIPTS/pg-fingerprint.sh" "$1" "${PG_PORT:-5432}"; }
amcheck() { "$P2L_SCRIPTS/pg-run.sh" amcheck "$1"; }
pg_dump_db() { "$P2L_SCRIPTS/pg-run.sh" dump "$1" "$2"; }
controldata() { "$P2L_SCRIPTS/pg-run.sh" controldata "$1"; }
cluster_state() { controldata "$1" | sed -n 's/^Database cluster state: *//p'; }

# ------------------------------------------------------------------ object stores
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_azurite() {
  local out
  out=$("$P2L_SCRIPTS/azurite-server.sh" --dir "$P2L_TEST_DIR/azurite" "$@") || die "azurite-server.sh failed"
  eval "$out"
  track_pid "$AZURITE_PID"
}
start_s3() {
  local out
  [ -x "$P2L_SCRIPTS/s3-server.sh" ] || skip "scripts/s3-server.sh is not there yet"
  out=$("$P2L_SCRIPTS/s3-server.sh" --port "$(free_port)" --dir "$P2L_TEST_DIR/s3" "$@") || die "s3-server.sh failed"
  eval "$out"
  track_pid "$S3_PID"
}

# ------------------------------------------------------------------ assertions
assert_eq() {
  [ "$2" = "$3" ] || die "$1: expected '$2', got '$3'"
}
assert_files_equal() {
  if ! cmp -s "$1" "$2"; then
    diff -u "$1" "$2" | head -40 >&2 || true
    die "$1 and $2 differ"
  fi
}
