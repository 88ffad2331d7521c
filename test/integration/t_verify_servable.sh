#!/usr/bin/env bash
# verify's Neon servability rules on real imports (issue 15), for each of P2L_IT_MAJORS:
#   - the fixture (scripts/make-pgdata.sh, tiny, PGTEST_TABLESPACE=1) HAS user tablespace ts2:
#     imported with --tablespaces keep (its keys kept), verify exits 3 "NOT SERVABLE" naming the tablespace OID, "servable": false in
#     --json, and --allow-unservable makes it exit 0 with a warning;
#   - a private copy with ts2 emptied into pg_default and dropped (the remedy: ALTER ... SET
#     TABLESPACE pg_default) passes every rule unsharded and as 4 shards, with --source.
. "$(dirname "$0")/lib.sh"
need_bin
export PGTEST_TINY=1 PGTEST_TABLESPACE=1

W=$P2L_TEST_DIR
T=00112233445566778899aabbccddeeff TL=0f1e2d3c4b5a69788796a5b4c3d2e1f0
for major in ${P2L_IT_MAJORS:-14 15 16 17}; do
  log "PostgreSQL $major"
  D=$W/pg$major
  PGDATA=$(make_pgdata "$major" 1 "$D/src")
  imp() { "$P2L_BIN" import --source "$1" --dest "$2" --tenant-id $T --timeline-id $TL --soft-size-limit 8MiB --quiet "${@:3}"; }

  # 1. with the user tablespace: intact, not servable
  imp "$PGDATA" "$D/ts" --tablespaces keep
  spc=$(basename "$(ls -d "$PGDATA"/pg_tblspc/* | head -n1)")
  rc=0; "$P2L_BIN" verify --dest "$D/ts" --tenant-id $T --timeline-id $TL > "$D/ts.out" 2> "$D/ts.err" || rc=$?
  assert_eq "verify exit status (user tablespace)" 3 "$rc"
  grep -q "^verify: NOT SERVABLE: intact, but not servable by a Neon pageserver: user tablespace(s) $spc " "$D/ts.out" \
    || die "verify did not name tablespace $spc: $(tail -5 "$D/ts.out")"
  ! grep -q '^PROBLEM:' "$D/ts.out" || die "a user tablespace reported as corruption: $(grep '^PROBLEM:' "$D/ts.out" | head -3)"
  "$P2L_BIN" verify --dest "$D/ts" --tenant-id $T --timeline-id $TL --allow-unservable --json > "$D/ts.json" 2> "$D/ts.err" \
    || { tail -5 "$D/ts.err" >&2; die "verify --allow-unservable failed"; }
  grep '"event":"verify"' "$D/ts.json" | grep -q '"servable":false' || die "--json: not servable:false: $(tail -1 "$D/ts.json")"
  grep '"event":"verify"' "$D/ts.json" | grep -q "\"user_tablespaces\":\[$spc\]" || die "--json: no user_tablespaces [$spc]"
  grep -q '"event":"unservable"' "$D/ts.json" || die "--json: no unservable event"
  "$P2L_BIN" status --dest "$D/ts" --tenant-id $T --timeline-id $TL > "$D/ts.status"
  grep -q "done, .*NOT servable by a Neon pageserver: user tablespace(s) $spc\$" "$D/ts.status" \
    || die "status did not report not servable: $(cat "$D/ts.status")"
  "$P2L_BIN" status --dest "$D/ts" --tenant-id $T --timeline-id $TL --json | grep -q "\"servable\":false,.*\"user_tablespaces\":\[$spc\]" \
    || die "status --json: not servable:false"

  # 2. the remedy: move everything out of ts2, drop it
  start_pg "$PGDATA"
  for db in $(pg_sql "$PG_SOCK" postgres "SELECT datname FROM pg_database WHERE datallowconn"); do
    pg_sql "$PG_SOCK" "$db" "ALTER TABLE ALL IN TABLESPACE ts2 SET TABLESPACE pg_default;
      ALTER INDEX ALL IN TABLESPACE ts2 SET TABLESPACE pg_default;
      ALTER MATERIALIZED VIEW ALL IN TABLESPACE ts2 SET TABLESPACE pg_default" > /dev/null
  done
  pg_sql "$PG_SOCK" postgres "DROP TABLESPACE ts2" > /dev/null
  stop_pg "$PGDATA"
  [ -z "$(ls "$PGDATA/pg_tblspc")" ] || die "pg_tblspc not empty after DROP TABLESPACE"
  imp "$PGDATA" "$D/one"
  for n in 0 1 2 3; do imp "$PGDATA" "$D/four" --shard-count 4 --shard-number $n; done
  for d in one four; do
    "$P2L_BIN" verify --dest "$D/$d" --tenant-id $T --timeline-id $TL --source "$PGDATA" --json > "$D/$d.json" 2> "$D/$d.err" \
      || { grep -E '"problem"|"unservable"' "$D/$d.json" | head -5 >&2; die "verify ($d) failed"; }
    grep '"event":"verify"' "$D/$d.json" | grep -q '"servable":true' || die "verify ($d): not servable"
    "$P2L_BIN" status --dest "$D/$d" --tenant-id $T --timeline-id $TL --json > "$D/$d.status"
    assert_eq "status ($d): shards servable" "$([ $d = one ] && echo 1 || echo 4)" "$(grep -o '"servable":true' "$D/$d.status" | wc -l)"
  done
  log "PostgreSQL $major: with ts2 not servable (exit 3); without: servable, unsharded and 4 shards"
  rm -rf "$D"
done
