#!/usr/bin/env bash
# The harness itself, for every PostgreSQL major (P2L_IT_MAJORS): build a PGDATA (scale 1) with
# scripts/make-pgdata.sh through lib.sh's cache, copy it (cp -a + re-pointed tablespace link),
# start PostgreSQL on the copy and check that
#   - the copy's fingerprint equals the original's (taken at build time, before the stop),
#   - the prepared transaction survived (pg_twophase) and can be committed,
#   - pg_amcheck --all --heapallindexed --parent-check passes, pg_dump works where it can (14, 15),
#   - the copy stops cleanly and the original was not touched,
#   - and (once) that a one-row change does show in the fingerprint.
# The import round-trip tests use the same steps with "copy" replaced by "import + export".
. "$(dirname "$0")/lib.sh"
# The variant with user tablespace ts2 (PGTEST_TABLESPACE=1): the one whose copy must re-point
# the pg_tblspc link (the default fixture has no user tablespace).
export PGTEST_TABLESPACE=1

# path, size and mtime of every file of a build (following nothing): shows any write to it
snapshot() { (cd "$1" && find pgdata tblspc2 -printf '%p %s %T@ %l\n' | LC_ALL=C sort | md5sum | cut -d' ' -f1); }

last_major=${P2L_IT_MAJORS##* }
for major in $P2L_IT_MAJORS; do
  log "PostgreSQL $major: build (or reuse) the scale-1 PGDATA"
  ref=$(pgdata_ref "$major" 1)
  [ -f "$ref/pgdata/PG_VERSION" ] || die "no PGDATA in $ref"
  assert_eq "PG_VERSION" "$major" "$(cat "$ref/pgdata/PG_VERSION")"
  assert_eq "original cluster state" "shut down" "$(cluster_state "$ref/pgdata")"
  grep -q '^prepared_xacts: p2l_test@extradb' "$ref/info.txt" || die "info.txt lists no prepared transaction"
  assert_eq "files in pg_twophase/" 1 "$(find "$ref/pgdata/pg_twophase" -type f | wc -l)"
  links=("$ref"/pgdata/pg_tblspc/*)
  assert_eq "tablespace links" 1 "${#links[@]}"
  [ -L "${links[0]}" ] || die "${links[0]} is not a symlink"
  assert_eq "tablespace target" "$ref/tblspc2" "$(readlink "${links[0]}")"
  grep -q "^cluster|tablespace|ts2|relations:5$" "$ref/fingerprint.txt" || die "fingerprint lacks the ts2 line"
  before=$(snapshot "$ref")

  copy=$P2L_TEST_DIR/pg$major
  log "copy to $copy"
  copy_pgdata "$ref" "$copy"
  clinks=("$copy"/pgdata/pg_tblspc/*)
  assert_eq "copy's tablespace target" "$copy/tblspc2" "$(readlink "${clinks[0]}")"

  start_pg "$copy/pgdata"
  log "started: socket $PG_SOCK, pid $PG_PID"
  num=$(pg_sql "$PG_SOCK" postgres 'SHOW server_version_num')
  assert_eq "server major" "$major" "$((num / 10000))"

  fingerprint "$PG_SOCK" > "$copy/fingerprint.copy"
  assert_files_equal "$ref/fingerprint.txt" "$copy/fingerprint.copy"
  log "fingerprint equal ($(wc -l < "$copy/fingerprint.copy") lines)"

  assert_eq "prepared transactions" "p2l_test|extradb" \
    "$(pg_sql "$PG_SOCK" postgres 'SELECT gid, database FROM pg_prepared_xacts')"
  assert_eq "table in ts2" "ts2" \
    "$(pg_sql "$PG_SOCK" extradb "SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relname = 'archived'")"
  assert_eq "scratch (unlogged) rows" 5000 "$(pg_sql "$PG_SOCK" extradb 'SELECT count(*) FROM scratch')"

  if [ "$major" -le 15 ]; then
    pg_dump_db "$PG_SOCK" extradb > "$copy/extradb.sql" || die "pg_dump failed"
    grep -q '^CREATE TABLE public.docs' "$copy/extradb.sql" || die "pg_dump output lacks table docs"
    log "pg_dump extradb: $(wc -c < "$copy/extradb.sql") bytes"
  else
    set +e; pg_dump_db "$PG_SOCK" extradb > /dev/null 2>&1; rc=$?; set -e
    assert_eq "pg_dump 15 against $major (77 = not possible)" 77 "$rc"
  fi

  amcheck "$PG_SOCK" > "$copy/amcheck.log" 2>&1 || { cat "$copy/amcheck.log" >&2; die "pg_amcheck failed"; }
  log "pg_amcheck --all --heapallindexed --parent-check: ok"

  # the prepared transaction is real: committing it makes its row visible
  pg_sql "$PG_SOCK" extradb "COMMIT PREPARED 'p2l_test'" >/dev/null
  assert_eq "twophase_pending rows after COMMIT PREPARED" 2 \
    "$(pg_sql "$PG_SOCK" extradb 'SELECT count(*) FROM twophase_pending')"

  if [ "$major" = "$last_major" ]; then
    # the fingerprint notices a one-row change, and only in that table's line
    fingerprint "$PG_SOCK" > "$copy/fingerprint.before"
    pg_sql "$PG_SOCK" postgres "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 4242" >/dev/null
    fingerprint "$PG_SOCK" > "$copy/fingerprint.after"
    changed=$({ diff "$copy/fingerprint.before" "$copy/fingerprint.after" || true; } | sed -n 's/^[<>] //p' \
              | cut -d'|' -f1-2 | LC_ALL=C sort -u | tr '\n' ' ')
    assert_eq "objects whose fingerprint line changed" "postgres|public.pgbench_accounts " "$changed"
    log "fingerprint detects a one-row change: ok"
  fi

  stop_pg "$copy/pgdata"
  assert_eq "copy's cluster state after stop" "shut down" "$(cluster_state "$copy/pgdata")"
  assert_eq "files in the copy's pg_twophase/ after COMMIT PREPARED" 0 \
    "$(find "$copy/pgdata/pg_twophase" -type f | wc -l)"
  assert_eq "original untouched" "$before" "$(snapshot "$ref")"
  rm -rf "$copy"
  log "PostgreSQL $major: ok"
done
