#!/usr/bin/env bash
# roundtrip.sh MAJOR [CHECKSUMS] — the import round trip for one PostgreSQL major version (the
# t_roundtrip_pg*.sh tests call it). It proves that the layers hold the whole cluster:
#
#   1. build (or reuse) a scale-1 PGDATA with scripts/make-pgdata.sh (CHECKSUMS=1: initdb
#      --data-checksums): pgbench data, a second database, TOAST, indexes, a sequence, an
#      unlogged table, a matview, a large object, an open prepared transaction (and with
#      PGTEST_TABLESPACE=1 a user tablespace, imported with --tablespaces keep);
#   2. import it unsharded, and as 4 shards (stripe 8 pages, so relations are split across
#      shards) with 4 concurrent processes;
#   3. verify both with --source (every key and byte the PGDATA implies, nothing else), and check
#      that the union of the 4 shards' keys is exactly the unsharded key set, with each relation
#      page on exactly one shard, the keys every shard keeps on all four, SLRUs on shard 0 only;
#   4. export each into a copy of the original from which every file the layers should hold was
#      deleted (relation files incl. any tablespace's, pg_filenode.map, pg_control, SLRU segments,
#      pg_twophase files); the exported files must be byte-identical to the originals;
#   5. start PostgreSQL on the 4-shard export (the unsharded one is byte-identical in every
#      file, step 4) and compare with the original: fingerprint (every
#      version), pg_dumpall (Debian's client 15, servers 14 and 15), pg_amcheck --all
#      --heapallindexed, the prepared transaction is there and can be COMMIT PREPARED, table
#      "archived" (in ts2 with PGTEST_TABLESPACE=1) is readable.
. "$(dirname "$0")/lib.sh"

MAJOR=${1:?usage: roundtrip.sh MAJOR [CHECKSUMS]}
export PGTEST_CHECKSUMS=${2:-0}
# PGTEST_TABLESPACE=1 (t_tablespaces): the fixture with user tablespace ts2, imported with
# --tablespaces keep (for export back to PostgreSQL); default: the fixture without one, imported
# with the default flags.
export PGTEST_TABLESPACE=${PGTEST_TABLESPACE:-0}
TSFLAGS=()
[ "$PGTEST_TABLESPACE" = 1 ] && TSFLAGS=(--tablespaces keep)
need_bin
case " $P2L_IT_MAJORS " in *" $MAJOR "*) ;; *) skip "PostgreSQL $MAJOR not in P2L_IT_MAJORS ($P2L_IT_MAJORS)" ;; esac

TENANT=1f2e3d4c5b6a79881f2e3d4c5b6a7988
TIMELINE=0a1b2c3d4e5f60718293a4b5c6d7e8f9
STRIPE=8
T=$P2L_TEST_DIR
CLIENTBIN=$("$P2L_SCRIPTS/pg-install.sh" --client)

log "PostgreSQL $MAJOR (checksums=$PGTEST_CHECKSUMS): build (or reuse) the scale-1 PGDATA"
ref=$(pgdata_ref "$MAJOR" 1)
SRC=$ref/pgdata

# Relative paths of every file the layers should hold, following the tablespace links.
REL_RE='.*/[0-9]+(_(fsm|vm|init))?(\.[0-9]+)?'
imported_files() {
  (
    cd "$1"
    find base global -maxdepth 2 -type f -regextype posix-extended \( -regex "$REL_RE" -o -name pg_filenode.map \)
    find -L pg_tblspc -mindepth 4 -maxdepth 4 -type f -regextype posix-extended \
      \( -regex "$REL_RE" -o -name pg_filenode.map \)
    [ -f global/pg_control ] && echo global/pg_control
    find pg_xact pg_multixact/members pg_multixact/offsets pg_twophase -maxdepth 1 -type f
  ) | LC_ALL=C sort
}
imported_files "$SRC" > "$T/files.ref"
nref=$(wc -l < "$T/files.ref")
[ "$nref" -gt 100 ] || die "only $nref importable files in $SRC"
if [ "$PGTEST_TABLESPACE" = 1 ]; then
  grep -q '^pg_tblspc/' "$T/files.ref" || die "no tablespace files in $SRC"
else
  ! grep -q '^pg_tblspc/' "$T/files.ref" || die "tablespace files in $SRC (fixture without user tablespace)"
fi
grep -q '^pg_twophase/' "$T/files.ref" || die "no pg_twophase file in $SRC"
log "$nref files the layers must hold"

# ------------------------------------------------------------------ import
log "import unsharded"
"$P2L_BIN" import --source "$SRC" --dest "$T/dest1" --tenant-id "$TENANT" --timeline-id "$TIMELINE" ${TSFLAGS[@]+"${TSFLAGS[@]}"} \
  --quiet > "$T/import1.log" 2>&1 || { cat "$T/import1.log" >&2; die "unsharded import failed"; }
log "import 4 shards (stripe $STRIPE) in 4 processes"
pids=()
for k in 0 1 2 3; do
  "$P2L_BIN" import --source "$SRC" --dest "$T/dest4" --tenant-id "$TENANT" --timeline-id "$TIMELINE" ${TSFLAGS[@]+"${TSFLAGS[@]}"} \
    --shard-count 4 --shard-number "$k" --stripe-size "$STRIPE" --quiet > "$T/import4-$k.log" 2>&1 &
  pids+=($!)
done
for k in 0 1 2 3; do
  wait "${pids[$k]}" || { cat "$T/import4-$k.log" >&2; die "import of shard $k failed"; }
done

# ------------------------------------------------------------------ verify
log "verify unsharded --source"
"$P2L_BIN" verify --allow-unservable --dest "$T/dest1" --source "$SRC" --keys-out "$T/keys1.txt" > "$T/verify1.out" 2> "$T/verify1.log" \
  || { cat "$T/verify1.out" "$T/verify1.log" >&2; die "verify (unsharded) failed"; }
tail -n1 "$T/verify1.out" >&2
log "verify 4 shards --source"
"$P2L_BIN" verify --allow-unservable --dest "$T/dest4" --stripe-size "$STRIPE" --source "$SRC" --keys-out "$T/keys4.txt" \
  > "$T/verify4.out" 2> "$T/verify4.log" || { cat "$T/verify4.out" "$T/verify4.log" >&2; die "verify (4 shards) failed"; }
tail -n1 "$T/verify4.out" >&2
grep -c '^shard 0[0-3]04: ' "$T/verify4.out" | grep -qx 4 || die "verify did not report 4 shards"

# the union of the shards' keys is the unsharded key set; placement per key class
cut -d' ' -f1 "$T/keys1.txt" | LC_ALL=C sort > "$T/k1"
cut -d' ' -f1 "$T/keys4.txt" | LC_ALL=C sort -u > "$T/k4"
[ "$(LC_ALL=C sort -u "$T/k1" | wc -l)" = "$(wc -l < "$T/k1")" ] || die "duplicate keys in the unsharded layers"
assert_files_equal "$T/k1" "$T/k4"
log "union of the 4 shards' keys = the $(wc -l < "$T/k1") unsharded keys"
# class (KEY): field1 = chars 1-2, relnode = 19-26, fork = 27-28, blk = 29-36
bad=$(LC_ALL=C sort "$T/keys4.txt" | awk '
  function flush() {
    if (key == "") return
    f1 = substr(key, 1, 2); rel = substr(key, 19, 8); fork = substr(key, 27, 2); blk = substr(key, 29, 8)
    if (f1 == "00" && rel != "00000000" && blk != "FFFFFFFF" && fork != "03") want = "one"
    else if (f1 == "00" && rel != "00000000" && blk != "FFFFFFFF") want = "0004"   # init fork
    else if (f1 == "01") want = "0004"
    else want = "all"
    ok = (want == "one" && n == 1) || (want == "all" && n == 4) || (want == "0004" && n == 1 && shards == " 0004")
    if (!ok) { printf "%s on%s (expected %s)\n", key, shards, want; errors++ }
  }
  # ($1 "" : compare as strings; all-digit keys would otherwise compare as numbers)
  { k = $1 ""; if (k != key) { flush(); key = k; n = 0; shards = "" } n++; shards = shards " " $2 }
  END { flush(); exit errors > 0 }' | head -5) || true
[ -z "$bad" ] || die "key placement across shards is wrong, e.g.: $bad"
log "placement: relation pages on one shard, SLRUs and init forks on shard 0, the rest on all four"

# ------------------------------------------------------------------ export
snapshot() { (cd "$1" && find pgdata tblspc2 -printf '%p %s %T@ %l\n' | LC_ALL=C sort | md5sum | cut -d' ' -f1); }
before=$(snapshot "$ref")
(cd "$SRC" && xargs -d '\n' sha1sum -- < "$T/files.ref") > "$T/sums.ref"   # one process, not a cmp per file
export_into() {   # NAME DEST [export args...]
  local name=$1 dest=$2 copy=$T/$1; shift 2
  copy_pgdata "$ref" "$copy"
  imported_files "$copy/pgdata" > "$copy/files.before"
  assert_files_equal "$T/files.ref" "$copy/files.before"
  (cd "$copy/pgdata" && xargs -d '\n' rm -f < "$copy/files.before")
  imported_files "$copy/pgdata" > "$copy/files.deleted"
  [ ! -s "$copy/files.deleted" ] || die "$name: files left after deleting: $(head -3 "$copy/files.deleted")"
  "$P2L_BIN" export --dest "$dest" --out "$copy/pgdata" "$@" > "$copy/export.out" 2> "$copy/export.log" \
    || { cat "$copy/export.out" "$copy/export.log" >&2; die "$name: export failed"; }
  log "$name: $(head -n1 "$copy/export.out")"
  imported_files "$copy/pgdata" > "$copy/files.after"
  assert_files_equal "$T/files.ref" "$copy/files.after"
  (cd "$copy/pgdata" && sha1sum --quiet -c "$T/sums.ref") > "$copy/sums.check" 2>&1 \
    || die "$name: exported files differ from the originals: $(head -3 "$copy/sums.check")"
  local n; n=$(wc -l < "$T/sums.ref")
  [ -z "$(find -L "$copy/pgdata" -name '*.p2l-export.tmp' | head -1)" ] || die "$name: temporary files left"
  log "$name: all $n exported files are byte-identical to the originals"
}
export_into exp1 "$T/dest1"
export_into exp4 "$T/dest4"

# ------------------------------------------------------------------ the original, for pg_dumpall
DUMPALL=()
if [ "$MAJOR" -le 15 ]; then
  DUMPALL=("$CLIENTBIN/pg_dumpall" -U postgres)
  "$CLIENTBIN/pg_dumpall" --help 2>/dev/null | grep -q -- --restrict-key && DUMPALL+=(--restrict-key=p2ltest)
fi
dumpall() {   # COPYDIR: pg_dumpall of the running server, tablespace location normalized
  "${DUMPALL[@]}" -h "$PG_SOCK" -p "$PG_PORT" | sed "s|$1/tblspc2|TBLSPC|g"
}
if [ ${#DUMPALL[@]} -gt 0 ]; then
  log "pg_dumpall of a plain copy of the original"
  copy_pgdata "$ref" "$T/plain"
  start_pg "$T/plain/pgdata"
  dumpall "$T/plain" > "$T/dumpall.ref"
  stop_pg "$T/plain/pgdata"
  grep -q 'CREATE TABLE public.docs' "$T/dumpall.ref" || die "pg_dumpall output lacks table docs"
  rm -rf "$T/plain"
fi

# ------------------------------------------------------------------ start the exports
check_cluster() {   # NAME
  local name=$1 copy=$T/$1
  start_pg "$copy/pgdata"
  log "$name: PostgreSQL $MAJOR started on the export"
  fingerprint "$PG_SOCK" > "$copy/fingerprint.txt"
  assert_files_equal "$ref/fingerprint.txt" "$copy/fingerprint.txt"
  log "$name: fingerprint equal ($(wc -l < "$copy/fingerprint.txt") lines)"
  if [ ${#DUMPALL[@]} -gt 0 ]; then
    dumpall "$copy" > "$copy/dumpall.txt"
    assert_files_equal "$T/dumpall.ref" "$copy/dumpall.txt"
    log "$name: pg_dumpall equal ($(wc -c < "$copy/dumpall.txt") bytes)"
  fi
  assert_eq "$name: prepared transactions" "p2l_test|extradb" \
    "$(pg_sql "$PG_SOCK" postgres 'SELECT gid, database FROM pg_prepared_xacts')"
  local ts=""; [ "$PGTEST_TABLESPACE" = 1 ] && ts=ts2
  assert_eq "$name: tablespace of table archived" "$ts" \
    "$(pg_sql "$PG_SOCK" extradb "SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relname = 'archived'")"
  local n; n=$(pg_sql "$PG_SOCK" extradb 'SELECT count(*) FROM archived')
  [ "$n" -gt 0 ] || die "$name: table archived is empty"
  amcheck "$PG_SOCK" > "$copy/amcheck.log" 2>&1 || { cat "$copy/amcheck.log" >&2; die "$name: pg_amcheck failed"; }
  log "$name: pg_amcheck --all --heapallindexed --parent-check: ok"
  pg_sql "$PG_SOCK" extradb "COMMIT PREPARED 'p2l_test'" > /dev/null
  assert_eq "$name: twophase_pending rows after COMMIT PREPARED" 2 \
    "$(pg_sql "$PG_SOCK" extradb 'SELECT count(*) FROM twophase_pending')"
  stop_pg "$copy/pgdata"
  assert_eq "$name: cluster state after stop" "shut down" "$(cluster_state "$copy/pgdata")"
}
# Both exports hold exactly the original's bytes in every file the layers cover (checked above),
# and the rest of each copy is the same cp -a of the original: the two directories are the same
# cluster, so one server start proves both. Start it on the sharded export (the harder path).
check_cluster exp4
assert_eq "original untouched" "$before" "$(snapshot "$ref")"
log "PostgreSQL $MAJOR round trip: ok"
