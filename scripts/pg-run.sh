#!/usr/bin/env bash
# pg-run.sh — start/stop a PostgreSQL server on a PGDATA and run client tools against it.
#
#   pg-run.sh start PGDATA [--major N] [--port N] [--log FILE] [-o 'SERVER OPTIONS']
#       Starts the server of the PGDATA's major version (PGDATA/PG_VERSION; --major must agree)
#       as the unprivileged user (root: $PGTEST_OSUSER, default postgres; else yourself), on a
#       private Unix socket directory /tmp/p2l-pg.XXXXXX and no TCP (listen_addresses=''),
#       so any number of servers run side by side on the same port number.
#       As root it first gives PGDATA (and its tablespace targets) to that user and sets mode
#       0700, which PostgreSQL requires (useful for directories written by other tools).
#       The log goes to FILE (default: server.log beside PGDATA). Waits until the server accepts
#       connections, then prints eval-able shell assignments on stdout:
#         PG_SOCK=/tmp/p2l-pg.abc123 PG_PORT=5432 PG_PID=1234 PG_BIN=... PG_DATA=... PG_LOG=...
#   pg-run.sh stop PGDATA [--mode fast|smart|immediate]
#       Stops it (default fast; falls back to immediate, then SIGKILL of the postmaster pid) and
#       removes its private socket directory. No-op when the server is not running.
#   pg-run.sh status PGDATA           exit 0 when a server runs on PGDATA, 3 when not
#   pg-run.sh psql SOCK [ARGS...]     Debian psql 15 (-X, ON_ERROR_STOP, -U postgres), e.g.
#                                     pg-run.sh psql "$PG_SOCK" -d extradb -Atc 'SELECT 1'
#   pg-run.sh amcheck SOCK [ARGS...]  pg_amcheck --all --install-missing --heapallindexed
#                                     --parent-check (creates the amcheck extension in every
#                                     database: take fingerprints/dumps before)
#   pg-run.sh dump SOCK DB [ARGS...]  pg_dump 15 of DB to stdout, with a fixed --restrict-key so
#                                     two dumps of equal data are byte-identical. pg_dump 15
#                                     refuses servers >= 16: then exits 77 (= "skip" in tests).
#   pg-run.sh controldata PGDATA      pg_controldata 15 (reads 14..17)
#   pg-run.sh fingerprint SOCK        scripts/pg-fingerprint.sh SOCK PORT
# Every command takes --port N (default $PG_PORT or 5432) for the client tools too.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
OSUSER=${PGTEST_OSUSER:-postgres}
DEFAULT_PORT=${PG_PORT:-5432}

log() { printf '[pg-run] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { sed -n '2,32p' "$0" >&2; exit 2; }

IS_ROOT=0; [ "$(id -u)" -eq 0 ] && IS_ROOT=1
if [ "$IS_ROOT" = 1 ]; then
  as_pg() { runuser -u "$OSUSER" -- "$@"; }
else
  OSUSER=$(id -un)
  as_pg() { "$@"; }
fi
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGPASSWORD PGOPTIONS 2>/dev/null || true
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}

[ $# -ge 1 ] || usage
CMD=$1; shift
CLIENTBIN=$("$HERE/pg-install.sh" --client)

# Reads line N of PGDATA/postmaster.pid (1 = pid, 5 = socket directory).
pidfile_line() { sed -n "${2}p" "$1/postmaster.pid" 2>/dev/null || true; }
# PID is a live (not zombie) process named postgres
running_postgres() {
  local st
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = postgres ] || return 1
  st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
postmaster_alive() {
  local pid; pid=$(pidfile_line "$1" 1)
  [ -n "$pid" ] && running_postgres "$pid"
}

parse_port() {   # sets PORT and REST from "$@" (removes --port N wherever it is)
  PORT=$DEFAULT_PORT; REST=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) PORT=${2:?--port needs a value}; shift 2 ;;
      *) REST+=("$1"); shift ;;
    esac
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port '$PORT'"
}

psql_cmd() { "$CLIENTBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$1" -p "$PORT" -U postgres "${@:2}"; }

case "$CMD" in
# ------------------------------------------------------------------ start
start)
  [ $# -ge 1 ] || usage
  DATA=$1; shift
  MAJOR="" LOGF="" OPTS="" PORT=$DEFAULT_PORT
  while [ $# -gt 0 ]; do
    case "$1" in
      --major) MAJOR=$2; shift 2 ;;
      --port) PORT=$2; shift 2 ;;
      --log) LOGF=$2; shift 2 ;;
      -o) OPTS+=" $2"; shift 2 ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  [ -d "$DATA" ] || die "no directory $DATA"
  DATA=$(cd "$DATA" && pwd -P)
  [ -f "$DATA/PG_VERSION" ] || die "$DATA/PG_VERSION missing: not a PGDATA"
  V=$(tr -d '[:space:]' < "$DATA/PG_VERSION")
  [ -z "$MAJOR" ] || [ "$MAJOR" = "$V" ] || die "$DATA is PostgreSQL $V, --major says $MAJOR"
  MAJOR=$V
  case "$MAJOR" in 14|15|16|17) ;; *) die "unsupported major version '$MAJOR' in $DATA/PG_VERSION" ;; esac
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port '$PORT'"
  postmaster_alive "$DATA" && die "a server is already running on $DATA (pid $(pidfile_line "$DATA" 1))"
  BIN=$("$HERE/pg-install.sh" "$MAJOR")
  [ -n "$LOGF" ] || LOGF="$(dirname "$DATA")/server.log"

  if [ "$IS_ROOT" = 1 ]; then
    # PostgreSQL wants to own PGDATA with mode 0700/0750; the tablespace targets likewise.
    if [ "$(stat -c %U "$DATA")" != "$OSUSER" ] || [ -n "$(find "$DATA" ! -user "$OSUSER" -print -quit)" ]; then
      log "chown -R $OSUSER $DATA"
      chown -R "$OSUSER:" "$DATA"
    fi
    for l in "$DATA"/pg_tblspc/*; do
      [ -L "$l" ] || continue
      t=$(readlink -f "$l")
      [ -d "$t" ] && [ -n "$(find "$t" ! -user "$OSUSER" -print -quit)" ] && chown -R "$OSUSER:" "$t"
    done
    touch "$LOGF"; chown "$OSUSER:" "$LOGF"
  fi
  case "$(stat -c %a "$DATA")" in 700|750) ;; *) chmod 0700 "$DATA" ;; esac
  as_pg test -r "$DATA/PG_VERSION" || die "$OSUSER cannot read $DATA (is a parent directory not traversable?)"

  SOCK=$(mktemp -d /tmp/p2l-pg.XXXXXX)
  chmod 755 "$SOCK"
  [ "$IS_ROOT" = 1 ] && chown "$OSUSER:" "$SOCK"
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOGF" -s -w -t 120 \
        -o "-c port=$PORT -c listen_addresses='' -c unix_socket_directories='$SOCK' $OPTS" start >&2; then
    tail -30 "$LOGF" >&2 || true
    # pg_ctl may have left a half-started postmaster behind
    postmaster_alive "$DATA" && as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -s -w -t 30 stop >&2 || true
    rm -rf "$SOCK"
    die "PostgreSQL $MAJOR did not start on $DATA (log: $LOGF)"
  fi
  PID=$(pidfile_line "$DATA" 1)
  printf 'PG_SOCK=%q PG_PORT=%q PG_PID=%q PG_BIN=%q PG_DATA=%q PG_LOG=%q\n' \
    "$SOCK" "$PORT" "$PID" "$BIN" "$DATA" "$LOGF"
  ;;
# ------------------------------------------------------------------ stop
stop)
  [ $# -ge 1 ] || usage
  DATA=$1; shift
  MODE=fast
  while [ $# -gt 0 ]; do
    case "$1" in
      --mode) MODE=$2; shift 2 ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  case "$MODE" in fast|smart|immediate) ;; *) die "bad --mode '$MODE'" ;; esac
  [ -d "$DATA" ] || die "no directory $DATA"
  DATA=$(cd "$DATA" && pwd -P)
  postmaster_alive "$DATA" || exit 0
  PID=$(pidfile_line "$DATA" 1)
  SOCK=$(pidfile_line "$DATA" 5)
  V=$(tr -d '[:space:]' < "$DATA/PG_VERSION")
  BIN=$("$HERE/pg-install.sh" "$V")
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" -m "$MODE" -s -w -t 60 stop >&2; then
    log "pg_ctl stop -m $MODE failed on $DATA; trying immediate"
    as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -s -w -t 30 stop >&2 || true
  fi
  # pg_ctl returns once postmaster.pid is gone; the process itself may need a moment more
  # (an exited postmaster may stay a zombie for a while: its parent is init, which may reap late)
  for _ in $(seq 50); do
    running_postgres "$PID" || break
    sleep 0.1
  done
  if running_postgres "$PID"; then
    log "postmaster $PID still alive 5 s after pg_ctl stop: SIGKILL"
    kill -9 "$PID" 2>/dev/null || true
  fi
  case "$SOCK" in /tmp/p2l-pg.*) rm -rf "$SOCK" ;; esac
  ;;
# ------------------------------------------------------------------ status
status)
  [ $# -eq 1 ] || usage
  postmaster_alive "$1" && exit 0
  exit 3
  ;;
# ------------------------------------------------------------------ clients
psql)
  [ $# -ge 1 ] || usage
  S=$1; shift; parse_port "$@"
  psql_cmd "$S" ${REST[@]+"${REST[@]}"}
  ;;
amcheck)
  [ $# -ge 1 ] || usage
  S=$1; shift; parse_port "$@"
  "$CLIENTBIN/pg_amcheck" -h "$S" -p "$PORT" -U postgres --all --install-missing \
    --heapallindexed --parent-check ${REST[@]+"${REST[@]}"}
  ;;
dump)
  [ $# -ge 2 ] || usage
  S=$1 DB=$2; shift 2; parse_port "$@"
  SV=$(psql_cmd "$S" -d "$DB" -Atc 'SHOW server_version_num')
  if [ "$SV" -ge 160000 ]; then
    log "pg_dump 15 cannot dump a server of version $SV (Debian 12 has no newer pg_dump)"
    exit 77
  fi
  # pg_dump >= 15.14 writes a random "\restrict KEY" line unless the key is given.
  KEYARG=()
  "$CLIENTBIN/pg_dump" --help 2>/dev/null | grep -q -- --restrict-key && KEYARG=(--restrict-key=p2ltest)
  "$CLIENTBIN/pg_dump" -h "$S" -p "$PORT" -U postgres ${KEYARG[@]+"${KEYARG[@]}"} \
    ${REST[@]+"${REST[@]}"} "$DB"
  ;;
controldata)
  [ $# -eq 1 ] || usage
  "$CLIENTBIN/pg_controldata" "$1"
  ;;
fingerprint)
  [ $# -ge 1 ] || usage
  S=$1; shift; parse_port "$@"
  "$HERE/pg-fingerprint.sh" "$S" "$PORT"
  ;;
-h|--help|help) usage ;;
*) die "unknown command '$CMD'" ;;
esac
