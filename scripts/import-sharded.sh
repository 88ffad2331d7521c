#!/usr/bin/env bash
# import-sharded.sh — run every shard of a sharded import in parallel on one machine (one
# `pgdata2layers import` process per shard) and report a combined status.
#
#   scripts/import-sharded.sh --shards N [--bin PATH] [--log-dir DIR] [--interval SECONDS] \
#       [--jobs-per-shard J] -- IMPORT_FLAGS...
#
# IMPORT_FLAGS are passed to every shard's `pgdata2layers import` (--source, --dest, ...); the
# script adds --shard-count N --shard-number i --json. Without --tenant-id/--timeline-id it
# generates them once, so that all shards import into the same tenant and timeline.
#
# Output (stdout): the ids, a combined status line every --interval seconds (percent per shard and
# overall, from the shards' JSON "progress" events), and a final table: shard, exit code, layers,
# bytes, seconds. Per shard, DIR/shard-NNCC.json holds the JSON events and DIR/shard-NNCC.log
# the log. Exit status: 0 when every shard succeeded, else the exit code of the lowest-numbered
# failed shard. Rerunning the same command resumes/completes what is missing (imports are
# idempotent). Ctrl-C / SIGTERM stop every shard.
#
# Completion notification: --notify-url/--notify-format/--notify-token-file/--notify-timeout in
# IMPORT_FLAGS (or exported as PGDATA2LAYERS_NOTIFY_URL/_FORMAT/_TOKEN_FILE/_TIMEOUT) are NOT
# passed to the shards. Instead, after the last shard has finished, the
# script sends ONE tenant-scoped notification with `pgdata2layers notify` (it reads every
# shard's index_part.json and sends only when each is Done, or reports the failed shards in
# "error"), as Neon's storage controller notifies once per tenant import. With
# --notify-format neon that is `PUT <url>/import_complete {"tenant_id","timeline_id","error"}`.
# The token file is checked before any shard starts (missing/unreadable/empty: exit 2). A shard
# that failed on bad flags or a taken destination (exit 2, 5, 8) sends nothing. The exit
# status is then the notification's when every shard succeeded.
#
# Environment: PGDATA2LAYERS_BIN (default: `pgdata2layers` on PATH), and every PGDATA2LAYERS_* /
# AWS_* variable the importer reads.
set -euo pipefail

usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

SHARDS="" BIN=${PGDATA2LAYERS_BIN:-pgdata2layers} LOG_DIR="" INTERVAL=10 JOBS=""
while [ $# -gt 0 ]; do
  case $1 in
    --shards) SHARDS=${2:-}; shift 2 ;;
    --shards=*) SHARDS=${1#*=}; shift ;;
    --bin) BIN=${2:-}; shift 2 ;;
    --log-dir) LOG_DIR=${2:-}; shift 2 ;;
    --interval) INTERVAL=${2:-}; shift 2 ;;
    --jobs-per-shard) JOBS=${2:-}; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) echo "import-sharded.sh: unknown option $1 (import flags go after --)" >&2; usage ;;
  esac
done
[[ $SHARDS =~ ^[0-9]+$ ]] && [ "$SHARDS" -ge 1 ] && [ "$SHARDS" -le 255 ] \
  || { echo "import-sharded.sh: --shards must be 1..255" >&2; exit 2; }
[[ $INTERVAL =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "import-sharded.sh: --interval must be seconds" >&2; exit 2; }
command -v "$BIN" >/dev/null 2>&1 || { echo "import-sharded.sh: $BIN not found (set PGDATA2LAYERS_BIN or --bin)" >&2; exit 2; }

ARGS=("$@")
has_flag() { local a; for a in "${ARGS[@]}"; do case $a in "$1"|"$1"=*) return 0 ;; esac; done; return 1; }
for f in --shard-count --shard-number --json; do
  if has_flag "$f"; then echo "import-sharded.sh: do not pass $f (the script sets it)" >&2; exit 2; fi
done
# The notification flags are the script's, not the shards' (see the header).
NOTIFY_ARGS=() SHARD_ARGS=()
for ((i = 0; i < ${#ARGS[@]}; i++)); do
  case ${ARGS[i]} in
    --notify-url|--notify-format|--notify-token-file|--notify-timeout)
      NOTIFY_ARGS+=("${ARGS[i]}" "${ARGS[i+1]:-}"); i=$((i + 1)) ;;
    --notify-url=*|--notify-format=*|--notify-token-file=*|--notify-timeout=*) NOTIFY_ARGS+=("${ARGS[i]}") ;;
    *) SHARD_ARGS+=("${ARGS[i]}") ;;
  esac
done
ARGS=("${SHARD_ARGS[@]}")
# The same settings exported as PGDATA2LAYERS_NOTIFY_* (the environment stands for flags) are the
# script's too: the shards run without them (each would notify on its own), `notify` gets them.
for v in URL FORMAT TOKEN_FILE TIMEOUT; do
  var=PGDATA2LAYERS_NOTIFY_$v flag=--notify-$(echo "$v" | tr 'A-Z_' 'a-z-')
  if [ -n "${!var:-}" ] && ! printf '%s\n' "${NOTIFY_ARGS[@]}" | grep -q -- "^$flag"; then
    NOTIFY_ARGS+=("$flag" "${!var}")
  fi
  unset "$var"
done
notify_opt() { local i; for ((i = 0; i < ${#NOTIFY_ARGS[@]}; i++)); do
  case ${NOTIFY_ARGS[i]} in "$1") echo "${NOTIFY_ARGS[i+1]:-}"; return ;; "$1"=*) echo "${NOTIFY_ARGS[i]#*=}"; return ;; esac
done; }
if [ ${#NOTIFY_ARGS[@]} -gt 0 ]; then
  [ -n "$(notify_opt --notify-url)" ] || { echo "import-sharded.sh: --notify-* flags need --notify-url" >&2; exit 2; }
  TOKEN_FILE=$(notify_opt --notify-token-file)
  if [ -n "$TOKEN_FILE" ] && ! { [ -f "$TOKEN_FILE" ] && [ -r "$TOKEN_FILE" ] && [ -s "$TOKEN_FILE" ]; }; then
    echo "import-sharded.sh: --notify-token-file $TOKEN_FILE: missing, unreadable or empty" >&2; exit 2
  fi
fi
rand_id() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
if ! has_flag --tenant-id; then ARGS+=(--tenant-id "$(rand_id)"); fi
if ! has_flag --timeline-id; then ARGS+=(--timeline-id "$(rand_id)"); fi
if [ -n "$JOBS" ] && ! has_flag --jobs; then ARGS+=(--jobs "$JOBS"); fi
id_of() { local i; for ((i = 0; i < ${#ARGS[@]}; i++)); do
  case ${ARGS[i]} in "$1") echo "${ARGS[i+1]:-}"; return ;; "$1"=*) echo "${ARGS[i]#*=}"; return ;; esac
done; }
TENANT=$(id_of --tenant-id) TIMELINE=$(id_of --timeline-id)

if [ -z "$LOG_DIR" ]; then LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/import-sharded.XXXXXX"); fi
mkdir -p "$LOG_DIR"
echo "tenant $TENANT timeline $TIMELINE: $SHARDS shards, logs in $LOG_DIR"

shard_id() { printf '%02x%02x' "$1" "$SHARDS"; }
PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; }
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 130' INT
for ((i = 0; i < SHARDS; i++)); do
  id=$(shard_id "$i")
  "$BIN" import "${ARGS[@]}" --shard-count "$SHARDS" --shard-number "$i" --json --progress never \
    > "$LOG_DIR/shard-$id.json" 2> "$LOG_DIR/shard-$id.log" &
  PIDS+=($!)
done

# field FILE EVENT NAME: the value of NAME in the last EVENT line of FILE ("" if none)
field() {
  { grep "\"event\":\"$2\"" "$1" 2>/dev/null || true; } | tail -n 1 \
    | sed -n "s/.*\"$3\":\\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" | tr -d '"'
}
status_line() {
  local line="" sum=0 i id p
  for ((i = 0; i < SHARDS; i++)); do
    id=$(shard_id "$i")
    p=$(field "$LOG_DIR/shard-$id.json" progress percent); p=${p:-0}
    line+=" $id:${p}%"
    sum=$(awk -v a="$sum" -v b="$p" 'BEGIN{print a + b}')
  done
  printf '%s status: %s%% overall |%s\n' "$(date -u +%H:%M:%S)" \
    "$(awk -v s="$sum" -v n="$SHARDS" 'BEGIN{printf "%.1f", s / n}')" "$line"
}

running() { local p; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
last=$(date +%s)
while running; do
  sleep 0.2
  now=$(date +%s)
  if awk -v a="$now" -v b="$last" -v i="$INTERVAL" 'BEGIN{exit !(a - b >= i)}'; then status_line; last=$now; fi
done

RC=0 RCS=()
printf '%-6s %-5s %-7s %-14s %-8s %s\n' shard exit layers bytes seconds result
for ((i = 0; i < SHARDS; i++)); do
  id=$(shard_id "$i")
  set +e; wait "${PIDS[i]}"; rc=$?; set -e
  RCS[i]=$rc
  f=$LOG_DIR/shard-$id.json
  if [ "$rc" = 0 ]; then
    result=ok
    [ "$(field "$f" "done" already_complete)" = true ] && result="ok (already complete)"
  else
    result="FAILED: $(field "$f" error message)"
    [ "$result" = "FAILED: " ] && result="FAILED: see $LOG_DIR/shard-$id.log"
    [ "$RC" = 0 ] && RC=$rc
  fi
  printf '%-6s %-5s %-7s %-14s %-8s %s\n' "$id" "$rc" "$(field "$f" "done" layers)" "$(field "$f" "done" bytes)" \
    "$(field "$f" summary seconds)" "$result"
done
if [ "$RC" = 0 ]; then
  echo "all $SHARDS shards done: tenant $TENANT timeline $TIMELINE"
else
  echo "import-sharded.sh: some shards failed (first failure: exit $RC); rerun the same command to finish" >&2
fi

# One tenant-scoped notification after the last shard (see the header).
if [ ${#NOTIFY_ARGS[@]} -gt 0 ]; then
  NARGS=(--dest "$(id_of --dest)" --tenant-id "$TENANT" --timeline-id "$TIMELINE" --shard-count "$SHARDS" "${NOTIFY_ARGS[@]}")
  for f in endpoint region env-prefix; do   # the destination's storage flags, per side or common
    v=$(id_of "--dest-$f"); [ -n "$v" ] || v=$(id_of "--$f")
    if [ -n "$v" ]; then NARGS+=("--$f" "$v"); fi
  done
  skip_notify=""
  for ((i = 0; i < SHARDS; i++)); do
    id=$(shard_id "$i")
    rc=${RCS[i]}
    case $rc in 0) ;; 2|5|8) skip_notify=$id ;;
      *) NARGS+=(--shard-error "$id=exit $rc: $(field "$LOG_DIR/shard-$id.json" error message)") ;;
    esac
  done
  if [ -n "$skip_notify" ]; then
    echo "import-sharded.sh: no notification sent: shard $skip_notify failed on its flags or a taken destination" >&2
  else
    set +e; "$BIN" notify "${NARGS[@]}" 2> "$LOG_DIR/notify.log"; nrc=$?; set -e
    if [ "$nrc" = 0 ]; then
      echo "notification sent: tenant $TENANT timeline $TIMELINE (log: $LOG_DIR/notify.log)"
    else
      echo "import-sharded.sh: notify exited $nrc: $(tail -n 1 "$LOG_DIR/notify.log")" >&2
      [ "$RC" = 0 ] && RC=$nrc
    fi
  fi
fi
exit "$RC"
