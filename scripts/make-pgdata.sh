#!/usr/bin/env bash
# make-pgdata.sh MAJOR SCALE OUTDIR
#
# Builds a real, cleanly shut-down PostgreSQL data directory (PGDATA) of major version MAJOR
# (14|15|16|17) with mixed content, and prints its path (OUTDIR/pgdata) on stdout; progress
# goes to stderr. Scale 1 takes ~3-5 s once the binaries are installed (scripts/pg-install.sh
# installs them on first use; that needs root).
#
#   MAJOR   14 | 15 | 16 | 17
#   SCALE   pgbench scale factor (1 = 100k pgbench_accounts rows, 13 MB; 10 = 130 MB)
#   OUTDIR  created if missing; must be empty or absent (PGTEST_FORCE=1 wipes it), unless
#           PGTEST_REUSE=1 and it already holds a complete build with the same arguments
#
# Result:
#   OUTDIR/pgdata/           the PGDATA, stopped with pg_ctl stop -m fast ("shut down")
#   OUTDIR/tblspc2/          tablespace ts2 with PGTEST_TABLESPACE=1 (pgdata/pg_tblspc/<oid> is an
#                            ABSOLUTE symlink to it: a copy must re-point it, see
#                            test/integration/lib.sh copy_pgdata); empty otherwise
#   OUTDIR/fingerprint.txt   scripts/pg-fingerprint.sh output, taken just before the stop
#   OUTDIR/info.txt          arguments (first line), versions, pg_control, databases, every
#                            relation's file path/size/row count, file counts, timings;
#                            its last line is "## complete"
#   OUTDIR/server.log, OUTDIR/*.log
#
# Content (what the import tests need): pgbench -i -s SCALE plus a short pgbench run (updates,
# dead tuples, HOT); concurrent SELECT ... FOR SHARE (real MultiXacts); a second database
# "extradb" with a sequence (doc_id_seq, setval 123456), a TOAST-heavy table "docs" (external,
# pglz-compressed, lz4 where the server has it, values of 1-3 MB) with btree/hash/gin/brin
# indexes and deleted rows, VACUUMed tables (_vm/_fsm forks), an UNLOGGED table "scratch"
# (_init forks), a materialized view "docs_summary" with a unique index, a large object, table
# "archived" and its indexes (in user tablespace ts2 with PGTEST_TABLESPACE=1, else in
# pg_default: pgdata2layers refuses user tablespaces by default), and ONE PREPARED TRANSACTION left open at
# shutdown: gid 'p2l_test', which inserted a row into extradb.twophase_pending (so pg_twophase/
# holds one state file). twophase_pending has no index and no TOAST table, so pg_amcheck
# --parent-check does not wait for the prepared transaction's lock; do not ALTER/DROP it.
# postgresql.conf gets max_prepared_transactions = 5 (needed to start the cluster again).
#
# Environment knobs (all of them are part of the cache key in info.txt):
#   PGTEST_CHECKSUMS=0|1      initdb --data-checksums (default 0, the default of PG 14-17)
#   PGTEST_WALSEG=1           initdb --wal-segsize in MB (default 1: a small pg_wal; 16 = stock)
#   PGTEST_TXNS=1000          pgbench TPC-B transactions after -i (0 = none)
#   PGTEST_TINY=0|1           a tiny, fast PGDATA: implies PGTEST_TXNS=0, fewer MultiXacts and
#                             fewer/smaller docs rows; every kind of object above is still there
#   PGTEST_TABLESPACE=0|1     1: tablespace ts2 holds table "archived" and its indexes (default 0:
#                             no user tablespace); info.txt then lists them under
#                             "## tablespace_relations: database_oid|relfilenode"
#   PGTEST_SOURCE15=apt|npm   where 15 comes from (default apt: Debian's postgresql-15)
#   PGTEST_INITDB_EXTRA="..." more initdb arguments
# Others: PGTEST_FORCE=1 (wipe a non-empty OUTDIR), PGTEST_REUSE=1 (reuse a matching OUTDIR),
#   PGTEST_OSUSER=postgres (runs the server when invoked as root), PGTEST_TOOLS=/opt/pgtest.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
FORMAT=1   # bump when the content changes, so cached builds are not reused

usage() { echo "usage: $0 {14|15|16|17} SCALE OUTDIR" >&2; exit 2; }
[ $# -eq 3 ] || usage
MAJOR=$1 SCALE=$2 OUTARG=$3
case "$MAJOR" in 14|15|16|17) ;; *) usage ;; esac
[[ "$SCALE" =~ ^[0-9]+$ ]] && [ "$SCALE" -ge 1 ] || usage

OSUSER=${PGTEST_OSUSER:-postgres}
CHECKSUMS=${PGTEST_CHECKSUMS:-0}
TABLESPACE=${PGTEST_TABLESPACE:-0}
WALSEG=${PGTEST_WALSEG:-1}
TINY=${PGTEST_TINY:-0}
TXNS=${PGTEST_TXNS:-1000}
[ "$TINY" = 1 ] && TXNS=0
FORCE=${PGTEST_FORCE:-0}
REUSE=${PGTEST_REUSE:-0}
SOURCE15=${PGTEST_SOURCE15:-apt}
EXTRA=${PGTEST_INITDB_EXTRA:-}
case "$TABLESPACE" in 0|1) ;; *) echo "PGTEST_TABLESPACE must be 0 or 1" >&2; exit 2 ;; esac
[[ "$TXNS" =~ ^[0-9]+$ ]] || { echo "PGTEST_TXNS must be a number" >&2; exit 2; }
case "$WALSEG" in 1|2|4|8|16|32|64|128|256|512|1024) ;; *) echo "PGTEST_WALSEG must be a power of 2 in 1..1024" >&2; exit 2 ;; esac

log() { printf '[make-pgdata %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
T_ALL=$(now)

ARGSLINE="# make-pgdata.sh major=$MAJOR scale=$SCALE checksums=$CHECKSUMS walseg=$WALSEG txns=$TXNS tiny=$TINY tablespace=$TABLESPACE source15=$SOURCE15 initdb_extra='$EXTRA' format=$FORMAT"

# ---------------------------------------------------------------- output dir (+ cache)
mkdir -p "$OUTARG"
OUT=$(cd "$OUTARG" && pwd -P)
PGDATA="$OUT/pgdata" TBLSPC="$OUT/tblspc2" SERVERLOG="$OUT/server.log" INFO="$OUT/info.txt"
if [ "$REUSE" = 1 ] && [ -f "$INFO" ] && [ "$(head -n1 "$INFO")" = "$ARGSLINE" ] \
   && [ "$(tail -n1 "$INFO")" = "## complete" ] && [ -f "$PGDATA/PG_VERSION" ] \
   && [ -f "$OUT/fingerprint.txt" ] && [ ! -e "$PGDATA/postmaster.pid" ]; then
  log "reusing $PGDATA (same arguments)"
  echo "$PGDATA"
  exit 0
fi
# only our own outputs: a different or unfinished build, which PGTEST_REUSE=1 may replace
ours_only() {
  local f
  for f in "$OUT"/* "$OUT"/.[!.]*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case "${f##*/}" in
      pgdata|tblspc2|info.txt|info.txt.tmp|fingerprint.txt|fingerprint.log|multixact.sql|*.log) ;;
      *) return 1 ;;
    esac
  done
}
if [ -n "$(ls -A "$OUT")" ]; then
  [ "$FORCE" = 1 ] || { [ "$REUSE" = 1 ] && ours_only; } \
    || die "$OUT is not empty (set PGTEST_FORCE=1 to wipe it)"
  [ -e "$PGDATA/postmaster.pid" ] && die "$PGDATA/postmaster.pid exists: a server may be running there"
  log "wiping $OUT"
  rm -rf "${OUT:?}"/* "${OUT:?}"/.[!.]* 2>/dev/null || true
fi

# ---------------------------------------------------------------- binaries, user
SRVBIN=$(PGTEST_SOURCE15=$SOURCE15 "$HERE/pg-install.sh" "$MAJOR")
CLIENTBIN=$("$HERE/pg-install.sh" --client)
SRVVER=$("$SRVBIN/postgres" --version)
case "$SRVVER" in *" $MAJOR."*) ;; *) die "unexpected server version: $SRVVER" ;; esac
if [ "$(id -u)" -eq 0 ]; then
  as_pg() { runuser -u "$OSUSER" -- "$@"; }
else
  OSUSER=$(id -un)
  as_pg() { "$@"; }
fi

mkdir -p "$TBLSPC"
chmod 755 "$OUT"
[ "$(id -u)" -eq 0 ] && chown "$OSUSER:" "$OUT" "$TBLSPC"
as_pg test -w "$OUT" -a -x "$OUT" || die "$OSUSER cannot write $OUT (a parent directory is not traversable? e.g. under /root)"
SOCK=$(mktemp -d /tmp/p2l-pg.XXXXXX)   # private socket dir: no port clashes with anything else
chmod 755 "$SOCK"; [ "$(id -u)" -eq 0 ] && chown "$OSUSER:" "$SOCK"
PORT=5432

STARTED=0
cleanup() {
  local j; j=$(jobs -p); [ -z "$j" ] || kill $j 2>/dev/null || true   # our background psql/pgbench
  if [ "$STARTED" = 1 ]; then
    log "stopping the server after an error"
    as_pg "$SRVBIN/pg_ctl" -D "$PGDATA" -m immediate -s -w -t 60 stop >&2 || true
  fi
  rm -rf "$SOCK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

PSQL=("$CLIENTBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres)
PGBENCH=("$CLIENTBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres)
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGPASSWORD 2>/dev/null || true
export PGCONNECT_TIMEOUT=10 PGOPTIONS="-c client_min_messages=warning"

# ---------------------------------------------------------------- initdb + start
T0=$(now)
INITARGS=(-D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C --wal-segsize="$WALSEG" --no-sync)
[ "$CHECKSUMS" = 1 ] && INITARGS+=(--data-checksums)
# shellcheck disable=SC2206  # intentional word splitting, e.g. PGTEST_INITDB_EXTRA="--foo --bar"
[ -n "$EXTRA" ] && INITARGS+=($EXTRA)
log "initdb ($SRVVER) -> $PGDATA"
as_pg "$SRVBIN/initdb" "${INITARGS[@]}" > "$OUT/initdb.log" 2>&1 || { cat "$OUT/initdb.log" >&2; die "initdb failed"; }
cat >> "$PGDATA/postgresql.conf" <<'EOF'

# --- added by make-pgdata.sh
# The cluster is shut down with one prepared transaction open: starting it needs slots for it.
max_prepared_transactions = 5
EOF
T_INITDB=$(since "$T0")

# Only for the build, not in postgresql.conf: no fsync (the result is the same after a clean
# shutdown), and old WAL segments are deleted at checkpoints instead of kept as spares.
log "start (socket $SOCK)"
as_pg "$SRVBIN/pg_ctl" -D "$PGDATA" -l "$SERVERLOG" -s -w -t 120 \
  -o "-c port=$PORT -c listen_addresses='' -c unix_socket_directories='$SOCK' -c fsync=off -c synchronous_commit=off -c wal_recycle=off -c min_wal_size=$(( WALSEG * 2 ))MB" start >&2 \
  || { tail -20 "$SERVERLOG" >&2; die "server did not start"; }
STARTED=1

# ---------------------------------------------------------------- content
T1=$(now)
log "pgbench -i -s $SCALE"
"${PGBENCH[@]}" -i -s "$SCALE" -q postgres >"$OUT/pgbench-init.log" 2>&1 || { cat "$OUT/pgbench-init.log" >&2; die "pgbench -i failed"; }
T_PGBENCH=$(since "$T1")

T2=$(now)
# Two independent streams run side by side (2 cores): the pgbench work in database postgres in
# the background, extradb's content in the foreground.
MULTI_TXNS=100; [ "$TINY" = 1 ] && MULTI_TXNS=20
MULTI="$OUT/multixact.sql"
cat > "$MULTI" <<'EOF'
BEGIN;
SELECT bid FROM pgbench_branches WHERE bid = 1 FOR SHARE;
SELECT pg_sleep(0.002);
COMMIT;
EOF
chmod 644 "$MULTI"
pgbench_work() {
  if [ "$TXNS" -gt 0 ]; then
    log "pgbench run: $TXNS TPC-B transactions (2 clients)"
    "${PGBENCH[@]}" -n -c 2 -j 2 -t $(( (TXNS + 1) / 2 )) postgres > "$OUT/pgbench-run.log" 2>&1 \
      || { cat "$OUT/pgbench-run.log" >&2; die "pgbench run failed"; }
  fi
  log "MultiXacts: concurrent SELECT ... FOR SHARE (4 x $MULTI_TXNS)"
  "${PGBENCH[@]}" -n -c 4 -j 2 -t "$MULTI_TXNS" -f "$MULTI" postgres > "$OUT/pgbench-multixact.log" 2>&1 \
    || { cat "$OUT/pgbench-multixact.log" >&2; die "multixact run failed"; }
  # dead tuples that stay (no vacuum afterwards); after the pgbench run, which it could deadlock
  "${PSQL[@]}" -d postgres -c "UPDATE pgbench_accounts SET filler = 'updated' WHERE aid % 97 = 0" >&2
}
( trap - EXIT; pgbench_work ) &
BGPID=$!

log "extra objects"
"${PSQL[@]}" -d postgres >&2 <<EOF
CREATE DATABASE extradb;
EOF
TS_TABLE="" TS_INDEX=""
if [ "$TABLESPACE" = 1 ]; then
  "${PSQL[@]}" -d postgres -c "CREATE TABLESPACE ts2 LOCATION '$TBLSPC'" >&2
  TS_TABLE="TABLESPACE ts2" TS_INDEX="USING INDEX TABLESPACE ts2"
fi

NDOCS=1500 NBIG=3; [ "$TINY" = 1 ] && { NDOCS=200; NBIG=1; }
# lz4 only where the server was built with it (Debian 15 yes, the npm builds no)
"${PSQL[@]}" -d extradb -v ndocs="$NDOCS" -v nbig="$NBIG" -v ts_table="$TS_TABLE" -v ts_index="$TS_INDEX" >&2 <<'EOF'
CREATE SEQUENCE doc_id_seq START 1000 INCREMENT 7;
CREATE TABLE docs (
  id        bigint PRIMARY KEY DEFAULT nextval('doc_id_seq'),
  title     text NOT NULL,
  tags      text[],
  body_ext  text,      -- STORAGE EXTERNAL: out-of-line, never compressed
  body_pglz text,      -- highly compressible: pglz-compressed (inline or toasted)
  blob      bytea,     -- incompressible: out-of-line uncompressed
  created   timestamptz NOT NULL DEFAULT '2024-01-01'::timestamptz
);
ALTER TABLE docs ALTER COLUMN body_ext SET STORAGE EXTERNAL;
INSERT INTO docs (title, tags, body_ext, body_pglz, blob, created)
SELECT 'doc ' || g,
       ARRAY['t' || (g % 7), 't' || (g % 11)],
       (SELECT string_agg(md5(g || ':' || i), '') FROM generate_series(1, 50 + g % 300) i),
       repeat('compressible text ' || g || ' ', 100 + g % 900),
       (SELECT decode(string_agg(md5(g || '/' || i), ''), 'hex') FROM generate_series(1, 100 + g % 200) i),
       '2024-01-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, :ndocs) g;
-- multi-megabyte values (hundreds/thousands of TOAST chunks each)
INSERT INTO docs (title, body_ext, blob)
SELECT 'big ' || g,
       (SELECT string_agg(md5('big' || g || ':' || i), '') FROM generate_series(1, 20000 * g) i),
       (SELECT decode(string_agg(md5('bigb' || g || ':' || i), ''), 'hex') FROM generate_series(1, 40000) i)
FROM generate_series(1, :nbig) g;
DO $$ BEGIN
  EXECUTE 'ALTER TABLE docs ADD COLUMN body_lz4 text COMPRESSION lz4';
  EXECUTE $q$UPDATE docs SET body_lz4 = repeat('lz4 text ' || id, 500) WHERE id % 5 = 0$q$;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 not supported by this server build';
END $$;
CREATE INDEX docs_title_btree ON docs (title);
CREATE INDEX docs_title_hash ON docs USING hash (title);
CREATE INDEX docs_tags_gin ON docs USING gin (tags);
CREATE INDEX docs_created_brin ON docs USING brin (created);
DELETE FROM docs WHERE id % 10 = 3;          -- dead tuples + dead toast chunks
VACUUM (ANALYZE) docs;                       -- _vm and _fsm forks

CREATE UNLOGGED TABLE scratch (k int PRIMARY KEY, v text);   -- has _init forks
INSERT INTO scratch SELECT g, md5(g::text) FROM generate_series(1, 5000) g;

CREATE MATERIALIZED VIEW docs_summary AS
  SELECT id % 10 AS bucket, count(*) AS n, sum(length(body_ext)) AS ext_bytes FROM docs GROUP BY 1;
CREATE UNIQUE INDEX docs_summary_bucket ON docs_summary (bucket);

CREATE TABLE archived (id int PRIMARY KEY :ts_index, note text) :ts_table;
INSERT INTO archived SELECT g, repeat('archived ' || g, 3) FROM generate_series(1, 20000) g;
CREATE INDEX archived_note ON archived (note) :ts_table;

SELECT lo_from_bytea(0, decode(repeat('deadbeef', 100000), 'hex')) AS large_object_oid \gset
COMMENT ON TABLE docs IS 'TOAST-heavy test table';
SELECT setval('doc_id_seq', 123456) \gset

-- target of the prepared transaction: no index, no TOAST table (fixed-width columns only)
CREATE TABLE twophase_pending (id int, v int);
INSERT INTO twophase_pending VALUES (1, 100);
EOF
wait "$BGPID" || die "the pgbench part failed"
"${PSQL[@]}" -d postgres -c "VACUUM (ANALYZE) pgbench_branches" -c "CHECKPOINT" >&2

log "prepared transaction 'p2l_test' (left open)"
"${PSQL[@]}" -d extradb >&2 <<'EOF'
BEGIN;
INSERT INTO twophase_pending VALUES (2, 200);
PREPARE TRANSACTION 'p2l_test';
EOF
T_EXTRA=$(since "$T2")

# ---------------------------------------------------------------- info.txt + fingerprint (before stop)
T3=$(now)
# the fingerprint (the slow part: it reads every row) runs beside the info queries
"$HERE/pg-fingerprint.sh" "$SOCK" "$PORT" > "$OUT/fingerprint.txt" 2>"$OUT/fingerprint.log" &
FPPID=$!
{
  echo "$ARGSLINE"
  echo "outdir: $OUT"
  echo "server_binaries: $SRVBIN"
  echo "server_version: $("${PSQL[@]}" -d postgres -Atc 'SELECT version()')"
  echo "data_checksums: $("${PSQL[@]}" -d postgres -Atc 'SHOW data_checksums')"
  echo "wal_segment_size: $("${PSQL[@]}" -d postgres -Atc 'SHOW wal_segment_size')"
  echo "pg_control_system: $("${PSQL[@]}" -d postgres -Atc 'SELECT row_to_json(s) FROM pg_control_system() s')"
  echo "next_multixact_id: $("${PSQL[@]}" -d postgres -Atc 'SELECT next_multixact_id FROM pg_control_checkpoint()')"
  echo "lz4_column_body_lz4: $("${PSQL[@]}" -d extradb -Atc "SELECT CASE WHEN count(*) > 0 THEN 'yes' ELSE 'no (server built without lz4)' END FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attname = 'body_lz4'")"
  echo "large_object_count: $("${PSQL[@]}" -d extradb -Atc 'SELECT count(*) FROM pg_largeobject_metadata')"
  echo "prepared_xacts: $("${PSQL[@]}" -d postgres -Atc "SELECT string_agg(gid || '@' || database || ' xid ' || transaction::text, ', ') FROM pg_prepared_xacts")"
  echo "## databases: oid|datname"
  "${PSQL[@]}" -d postgres -Atc "SELECT oid, datname FROM pg_database ORDER BY oid"
  echo "## tablespaces: oid|spcname|location"
  "${PSQL[@]}" -d postgres -Atc "SELECT oid, spcname, pg_tablespace_location(oid) FROM pg_tablespace ORDER BY oid"
  if [ "$TABLESPACE" = 1 ]; then
    echo "## tablespace_relations: database_oid|relfilenode"
    for db in postgres extradb; do
      "${PSQL[@]}" -d "$db" -Atc "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), relfilenode
        FROM pg_class WHERE reltablespace = (SELECT oid FROM pg_tablespace WHERE spcname = 'ts2') ORDER BY 2"
    done
  fi
  for db in postgres extradb; do
    echo "## relations in $db: relname|relkind|relpersistence|filepath|main_fork_bytes|rows(for user tables)"
    "${PSQL[@]}" -d "$db" -Atc "
      SELECT c.relname, c.relkind, c.relpersistence, pg_relation_filepath(c.oid), pg_relation_size(c.oid),
             CASE WHEN c.relkind IN ('r','m') AND n.nspname NOT IN ('pg_catalog','information_schema')
                  THEN (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text END
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE pg_relation_filepath(c.oid) IS NOT NULL AND n.nspname <> 'pg_toast' OR c.relname LIKE 'pg_toast_%'
      ORDER BY n.nspname <> 'pg_catalog', c.relname"
  done
} > "$INFO.tmp"
wait "$FPPID" || { cat "$OUT/fingerprint.log" >&2; die "pg-fingerprint.sh failed"; }
rm -f "$OUT/fingerprint.log"
T_INFO=$(since "$T3")

# ---------------------------------------------------------------- clean stop
T4=$(now)
log "pg_ctl stop -m fast"
as_pg "$SRVBIN/pg_ctl" -D "$PGDATA" -m fast -s -w -t 120 stop >&2
STARTED=0
T_STOP=$(since "$T4")
STATE=$("$CLIENTBIN/pg_controldata" "$PGDATA" 2>/dev/null | sed -n 's/^Database cluster state: *//p')
[ "$STATE" = "shut down" ] || die "cluster state after stop is '$STATE', expected 'shut down'"
[ ! -e "$PGDATA/postmaster.pid" ] || die "postmaster.pid still present"
NTWOPHASE=$(find "$PGDATA/pg_twophase" -type f | wc -l)
[ "$NTWOPHASE" = 1 ] || die "expected 1 file in pg_twophase/ after the stop, found $NTWOPHASE"
{
  echo "## pg_controldata (Debian client 15) after stop"
  "$CLIENTBIN/pg_controldata" "$PGDATA"
  echo "## timings_seconds: initdb=$T_INITDB pgbench_init=$T_PGBENCH extra_content=$T_EXTRA info+fingerprint=$T_INFO stop=$T_STOP total=$(since "$T_ALL")"
  echo "## pgdata_bytes: $(du -sb "$PGDATA" | cut -f1) tblspc2_bytes: $(du -sb "$TBLSPC" | cut -f1)"
  echo "## files (following the pg_tblspc symlink): total $(find -L "$PGDATA" -type f | wc -l);" \
       "relation files $(find -L "$PGDATA/base" "$PGDATA/global" "$PGDATA/pg_tblspc" -type f -regextype posix-extended -regex '.*/[0-9]+(_(fsm|vm|init))?(\.[0-9]+)?$' | wc -l)" \
       "(_fsm $(find -L "$PGDATA" -type f -name '*_fsm' | wc -l), _vm $(find -L "$PGDATA" -type f -name '*_vm' | wc -l), _init $(find -L "$PGDATA" -type f -name '*_init' | wc -l)," \
       "segments .N $(find -L "$PGDATA" -type f -regextype posix-extended -regex '.*/[0-9]+(_[a-z]+)?\.[0-9]+$' | wc -l));" \
       "pg_wal segments $(find "$PGDATA/pg_wal" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}$' | wc -l)"
  for d in pg_xact pg_multixact/offsets pg_multixact/members pg_subtrans pg_twophase; do
    echo "## $d: $(cd "$PGDATA/$d" && for f in *; do [ -f "$f" ] && printf '%s(%s) ' "$f" "$(stat -c %s "$f")"; done)"
  done
  echo "## empty directories (an object store drops them; recreate before starting a server on a download):"
  (cd "$PGDATA" && find . -type d -empty | sed 's|^\./||' | sort | tr '\n' ' '); echo
  echo "## complete"
} >> "$INFO.tmp"
mv "$INFO.tmp" "$INFO"
rm -f "$MULTI"

log "done in $(since "$T_ALL")s: initdb ${T_INITDB}s, pgbench -i ${T_PGBENCH}s, extra ${T_EXTRA}s, info ${T_INFO}s, stop ${T_STOP}s; PGDATA $(du -sh "$PGDATA" | cut -f1), tablespace $(du -sh "$TBLSPC" | cut -f1); state: $STATE"
echo "$PGDATA"
