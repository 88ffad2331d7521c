#!/usr/bin/env bash
# azurite-server.sh — start a local Azure Blob Storage emulator (Azurite) on 127.0.0.1.
#
#   azurite-server.sh [--port N] [--dir DIR] [--container [ACCOUNT/]NAME]... [--persist]
#                     [--account NAME:BASE64KEY]... [--strict-api-version] [--tools DIR]
#   azurite-server.sh stop --dir DIR
#   azurite-server.sh install          only install (idempotent, quiet when installed)
#
# Server: npm azurite (pinned below; 3.36+ need Node >= 21/22, Debian 12 + nodesource has 20),
# blob service only (azurite-blob), bound to 127.0.0.1, telemetry off, in the background.
#   --port N              listen port (default 0 = pick a free one)
#   --dir DIR             pid file, log and (with --persist) the data (default: a new mktemp dir)
#   --persist             keep blobs on disk in DIR/data (default: in memory, gone at stop)
#   --container NAME      create this container after the start (repeatable; default: testcontainer);
#                         ACCOUNT/NAME creates it in another account given with --account
#   --account NAME:KEY    one more storage account (repeatable), beside devstoreaccount1, with its
#                         own base64 key (Azurite's AZURITE_ACCOUNTS); path-style like the first:
#                         http://127.0.0.1:PORT/NAME/CONTAINER/BLOB
#   --strict-api-version  reject x-ms-version values newer than Azurite knows (default: accept
#                         any, --skipApiVersionCheck, since real Azure accepts many versions)
# Azurite verifies SharedKey signatures. The account is the emulator's well-known one:
#   devstoreaccount1 / Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
# URLs are path-style: http://127.0.0.1:PORT/devstoreaccount1/CONTAINER/BLOB
#
# Prints eval-able shell assignments on stdout:
#   AZURE_ENDPOINT=http://127.0.0.1:PORT/devstoreaccount1   (the account's blob endpoint)
#   AZURE_ACCOUNT=devstoreaccount1 AZURE_KEY=<base64 key> AZURE_CONTAINERS="c1 c2"
#   AZURE_STORAGE_CONNECTION_STRING=... AZURITE_PORT=... AZURITE_PID=... AZURITE_DIR=... AZURITE_LOG=...
# Stop with: kill "$AZURITE_PID"   (or: azurite-server.sh stop --dir "$AZURITE_DIR")
set -euo pipefail

AZURITE_VERSION=3.35.0
ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
XMSVERSION=2021-10-04
PORT=0 DIR="" PERSIST=0 STRICT=0 CONTAINERS=() EXTRA_ACCOUNTS=()
TOOLS=${AZURITE_TOOLS:-${PGTEST_TOOLS:-/opt/pgtest}/azurite}
CMD=start

log() { printf '[azurite-server] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "${1:-}" in stop|install) CMD=$1; shift ;; esac
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --container) CONTAINERS+=("$2"); shift 2 ;;
    --account) EXTRA_ACCOUNTS+=("$2"); shift 2 ;;
    --persist) PERSIST=1; shift ;;
    --strict-api-version) STRICT=1; shift ;;
    --tools) TOOLS=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0" >&2; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done

# PID runs (a zombie does not count: an orphan's parent is init, which may reap it late)
alive() {
  local st
  st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# ------------------------------------------------------------------ stop
if [ "$CMD" = stop ]; then
  [ -n "$DIR" ] || die "stop needs --dir DIR"
  PIDFILE="$DIR/azurite.pid"
  [ -f "$PIDFILE" ] || die "no $PIDFILE"
  pid=$(cat "$PIDFILE")
  if alive "$pid"; then
    kill "$pid"
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid"
    log "stopped pid $pid"
  else
    log "pid $pid was not running"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

# ------------------------------------------------------------------ install (idempotent, quiet)
command -v node >/dev/null || die "node not found (Node.js >= 10 is needed)"
command -v curl >/dev/null || die "curl not found"
command -v openssl >/dev/null || die "openssl not found (used to sign requests)"
PKG="$TOOLS/node_modules/azurite"
BLOBBIN="$PKG/dist/src/blob/main.js"
if ! grep -q "\"version\": \"$AZURITE_VERSION\"" "$PKG/package.json" 2>/dev/null || [ ! -f "$BLOBBIN" ]; then
  mkdir -p "$TOOLS"
  (
    flock -w 600 9 || die "timed out waiting for $TOOLS/.install.lock"
    if ! grep -q "\"version\": \"$AZURITE_VERSION\"" "$PKG/package.json" 2>/dev/null || [ ! -f "$BLOBBIN" ]; then
      command -v npm >/dev/null || die "npm not found"
      log "npm install azurite@$AZURITE_VERSION into $TOOLS (~30 s)"
      [ -f "$TOOLS/package.json" ] || echo '{"name":"pgtest-azurite","private":true}' > "$TOOLS/package.json"
      (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error --save-exact \
          "azurite@$AZURITE_VERSION" </dev/null >/dev/null) || die "npm install azurite@$AZURITE_VERSION failed"
    fi
  ) 9>"$TOOLS/.install.lock"
  [ -f "$BLOBBIN" ] || die "$BLOBBIN missing after the install"
fi
[ "$CMD" = install ] && exit 0

# ------------------------------------------------------------------ start
[ ${#CONTAINERS[@]} -gt 0 ] || CONTAINERS=(testcontainer)
declare -A ACCOUNT_KEYS=([$ACCOUNT]=$KEY)
for a in "${EXTRA_ACCOUNTS[@]}"; do
  [[ "$a" =~ ^([a-z0-9]{3,24}):([A-Za-z0-9+/]+=*)$ ]] || die "bad --account '$a' (NAME:BASE64KEY, NAME 3-24 of a-z 0-9)"
  ACCOUNT_KEYS[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done
for c in "${CONTAINERS[@]}"; do
  cn=${c#*/}; ca=$ACCOUNT; [ "$cn" != "$c" ] && ca=${c%%/*}
  [ -n "${ACCOUNT_KEYS[$ca]:-}" ] || die "container '$c': no account '$ca' (give it with --account)"
  [[ "$cn" =~ ^[a-z0-9]([a-z0-9-]{1,61})[a-z0-9]$ ]] || die "bad container name '$cn' (3-63 of a-z 0-9 -)"
done
AZURITE_ACCOUNTS_VALUE=""
if [ ${#EXTRA_ACCOUNTS[@]} -gt 0 ]; then
  for a in "${!ACCOUNT_KEYS[@]}"; do AZURITE_ACCOUNTS_VALUE+="$a:${ACCOUNT_KEYS[$a]};"; done
fi
[[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port '$PORT'"
if [ "$PORT" = 0 ]; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
    || die "could not pick a free port (python3 missing?)"
fi
[ -n "$DIR" ] || DIR=$(mktemp -d /tmp/p2l-azurite.XXXXXX)
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd -P)
PIDFILE="$DIR/azurite.pid" LOGFILE="$DIR/azurite.log"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  die "an Azurite already runs for $DIR (pid $(cat "$PIDFILE"))"
fi

ARGS=(--blobHost 127.0.0.1 --blobPort "$PORT" --disableTelemetry --silent)
if [ "$PERSIST" = 1 ]; then
  mkdir -p "$DIR/data"; ARGS+=(--location "$DIR/data")
else
  ARGS+=(--inMemoryPersistence)   # (not combinable with --location; cwd is DIR)
fi
[ "$STRICT" = 1 ] || ARGS+=(--skipApiVersionCheck)
[ "${AZURITE_DEBUG:-0}" = 1 ] && ARGS+=(--debug "$DIR/debug.log")

# Not setsid: it stays in the caller's process group, so a test runner's timeout reaches it.
# AZURITE_ACCOUNTS (only with --account): every account, the well-known one included.
(cd "$DIR" && if [ -n "$AZURITE_ACCOUNTS_VALUE" ]; then export AZURITE_ACCOUNTS=$AZURITE_ACCOUNTS_VALUE; else unset AZURITE_ACCOUNTS; fi
 exec node "$BLOBBIN" "${ARGS[@]}") >"$LOGFILE" 2>&1 </dev/null &
PID=$!
echo "$PID" > "$PIDFILE"
fail() { kill "$PID" 2>/dev/null || true; tail -20 "$LOGFILE" >&2 || true; die "$*"; }

# SharedKey-signed request: azure_req VERB PATH_AND_QUERY [ACCOUNT] -> prints the HTTP status
azure_req() {
  local verb=$1 pq=$2 acct=${3:-$ACCOUNT} path query date canon_res hexkey sig sts
  path=${pq%%\?*}; query=""; [ "$pq" != "$path" ] && query=${pq#*\?}
  date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  # CanonicalizedResource: /account + path (path-style: the path starts with /account too),
  # then the query parameters, lowercased names, sorted, "name:value" on their own lines.
  canon_res="/$acct$path"
  if [ -n "$query" ]; then
    canon_res+=$'\n'$(tr '&' '\n' <<<"$query" | sed 's/=/:/' | LC_ALL=C sort)
  fi
  # StringToSign: VERB, 11 standard headers (all empty here; Content-Length 0 is written as
  # empty since version 2015-02-21), the x-ms-* headers sorted, the resource.
  sts=$verb$'\n\n\n\n\n\n\n\n\n\n\n\n'"x-ms-date:$date"$'\n'"x-ms-version:$XMSVERSION"$'\n'"$canon_res"
  hexkey=$(printf '%s' "${ACCOUNT_KEYS[$acct]}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)
  curl -s -o /dev/null -w '%{http_code}' -X "$verb" --max-time 10 \
    -H "x-ms-date: $date" -H "x-ms-version: $XMSVERSION" -H "Content-Length: 0" \
    -H "Authorization: SharedKey $acct:$sig" "http://127.0.0.1:$PORT$pq" || true
}

# wait for the listener
up=0
for _ in $(seq 300); do
  kill -0 "$PID" 2>/dev/null || fail "azurite exited during startup (log: $LOGFILE)"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/$ACCOUNT?comp=list" || true)
  [ "$code" != 000 ] && { up=1; break; }
  sleep 0.1
done
[ "$up" = 1 ] || fail "azurite did not listen on 127.0.0.1:$PORT within 30 s"
# a signed List Containers must succeed (checks our signing and the server's key)
code=$(azure_req GET "/$ACCOUNT?comp=list")
[ "$code" = 200 ] || fail "signed List Containers returned HTTP $code"
for c in "${CONTAINERS[@]}"; do
  cn=${c#*/}; ca=$ACCOUNT; [ "$cn" != "$c" ] && ca=${c%%/*}
  code=$(azure_req PUT "/$ca/$cn?restype=container" "$ca")
  case "$code" in 201|409) ;; *) fail "creating container $c returned HTTP $code" ;; esac
done

ENDPOINT="http://127.0.0.1:$PORT/$ACCOUNT"
CONN="DefaultEndpointsProtocol=http;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=$ENDPOINT;"
printf 'AZURE_ENDPOINT=%q AZURE_ACCOUNT=%q AZURE_KEY=%q AZURE_CONTAINERS=%q AZURE_STORAGE_CONNECTION_STRING=%q AZURITE_PORT=%q AZURITE_PID=%q AZURITE_DIR=%q AZURITE_LOG=%q\n' \
  "$ENDPOINT" "$ACCOUNT" "$KEY" "${CONTAINERS[*]}" "$CONN" "$PORT" "$PID" "$DIR" "$LOGFILE"
log "Azurite $AZURITE_VERSION (blob) on $ENDPOINT, pid $PID; stop: kill $PID"
