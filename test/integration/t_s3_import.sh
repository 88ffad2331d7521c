#!/usr/bin/env bash
# t_s3_import.sh — `import` with S3 as source and destination, against the SigV4-verifying S3
# server (scripts/s3-server.sh), the PGDATA uploaded by a standard client (awscli) in Neon's
# import-bucket layout (<prefix>/pgdata/..., <prefix>/status/pgdata):
#   - a real PostgreSQL 15 PGDATA (scale 1) plus 800 one-row tables: base/5/ holds > 1000 objects
#     (ListObjectsV2 pagination);
#   - without the marker: a clear error; with --wait-for-pgdata the import starts before the marker
#     exists, waits, and completes once awscli uploads it;
#   - S3 → local and S3 → S3, unsharded and 4 shards: byte-identical to local → local (index_part
#     compared without its timestamps and plan fingerprint);
#   - verify, export and inspect with s3:// URLs give the same results as on the local copy;
#   - S3 -> S3 through test/tools/fault_proxy (resets, 500, 503, truncated bodies, stalls on 10%
#     of the requests): still byte-identical; with 100% failures: non-zero exit, a clear error, no Done
#     index_part;
#   - the secret key never appears in any output (logs, --json).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"
need_bin
FP=$(need_tool fault_proxy)
s3_setup
log "S3 server at $S3_ENDPOINT"

T=$P2L_TEST_DIR
TENANT=8f2c0c6e1d3b4a5f9e7d6c5b4a392817
TL=1a2b3c4d5e6f708192a3b4c5d6e7f801
KEY=t-s3-import
OUTS=()   # every stdout/stderr file of the importer, checked for the secret at the end

# ------------------------------------------------------------------ the PGDATA (cached)
# PostgreSQL 15, scale 1, plus 800 one-row tables in database "postgres" (base/5: ~1100 files).
manyrels_pgdata() {
  local dir=$P2L_IT_CACHE/pg15-s1-manyrels
  exec 9>"$dir.lock"
  flock -w 900 9 || die "timed out waiting for $dir.lock"
  if [ ! -e "$dir/.complete" ]; then
    rm -rf "$dir"
    make_pgdata 15 1 "$dir" >/dev/null
    start_pg "$dir/pgdata"
    pg_sql "$PG_SOCK" postgres "DO \$\$ BEGIN FOR i IN 1..800 LOOP
        EXECUTE format('CREATE TABLE many_%s AS SELECT %s AS x', i, i); END LOOP; END \$\$" >/dev/null
    stop_pg "$dir/pgdata"
    touch "$dir/.complete"
  fi
  exec 9>&-
  echo "$dir/pgdata"
}
SRC=$(manyrels_pgdata)
nbase=$(find "$SRC/base/5" -type f | wc -l)
[ "$nbase" -gt 1000 ] || die "base/5 has only $nbase files"
log "PGDATA $SRC: $(find -L "$SRC" -type f | wc -l) files, $nbase in base/5"

# imp SRC DEST OUTNAME [flags...]   (IMP_ENDPOINT=URL imp ...: another endpoint, e.g. the fault proxy)
imp() {
  local src=$1 dest=$2 out=$3; shift 3
  OUTS+=("$T/$out.json" "$T/$out.err")
  "$P2L_BIN" import --source "$src" --dest "$dest" --tenant-id "$TENANT" --timeline-id "$TL" \
    --idempotency-key "$KEY" --soft-size-limit 4MiB --jobs 4 --endpoint "${IMP_ENDPOINT:-$S3_ENDPOINT}" --json "$@" \
    > "$T/$out.json" 2> "$T/$out.err"
}
# imp_all SRC DEST NAME [flags]: unsharded + the 4 shards of 4 into one destination
imp_all() {
  local src=$1 dest=$2 name=$3 k; shift 3
  imp "$src" "$dest" "$name-u" "$@" || { tail -5 "$T/$name-u.err" >&2; die "$name: unsharded import failed"; }
  for k in 0 1 2 3; do
    imp "$src" "$dest" "$name-$k" --shard-count 4 --shard-number $k --stripe-size 256 "$@" \
      || { tail -5 "$T/$name-$k.err" >&2; die "$name: shard $k failed"; }
  done
}
# imp_fail CODE PATTERN SRC DEST OUTNAME [flags...]: imp must exit CODE ("nz": any non-zero) and
# say PATTERN (in its log or its --json error event)
imp_fail() {
  local code=$1 pat=$2 out=$5 rc=0; shift 2
  imp "$@" || rc=$?
  if [ "$code" = nz ]; then [ "$rc" -ne 0 ] || die "import $out succeeded, expected a failure"
  else [ "$rc" = "$code" ] || { tail -5 "$T/$out.err" >&2; die "import $out exited $rc, expected $code"; }; fi
  grep -q -- "$pat" "$T/$out.json" "$T/$out.err" || { tail -3 "$T/$out.json" >&2; die "import $out: no '$pat'"; }
  log "expected failure ($rc): $(grep -h -- "$pat" "$T/$out.json" "$T/$out.err" | tail -1 | head -c 400)"
}
# fetch_dest S3URL DIR: download a destination with the standard client
fetch_dest() { rm -rf "$2"; mkdir -p "$2"; awscp --recursive "$1" "$2"; }

# ------------------------------------------------------------------ upload (standard client)
log "upload with awscli to s3://src/db1/pgdata/"
# (status/ is where imports publish their per-shard status: not part of a PGDATA)
awscp --recursive --exclude 'status/*' "$SRC" s3://src/db1/pgdata/
nup=$(awscli s3 ls --recursive s3://src/db1/pgdata/base/5/ | wc -l)
assert_eq "objects in pgdata/base/5/" "$nbase" "$nup"

log "no marker yet: import without --wait-for-pgdata fails"
imp_fail 3 "s3://src/db1/status/pgdata does not exist" s3://src/db1 "$T/sl" nomarker
if [ -e "$T/sl" ] && [ -n "$(find "$T/sl" -name 'index_part*')" ]; then die "an index_part was written"; fi

# ------------------------------------------------------------------ --wait-for-pgdata
log "S3 -> local, started before the marker exists (--wait-for-pgdata=5m)"
imp s3://src/db1 "$T/sl" wait --wait-for-pgdata=5m &
IMP_PID=$!
track_pid "$IMP_PID"
for _ in $(seq 300); do grep -q '"event":"waiting_for_pgdata"' "$T/wait.json" 2>/dev/null && break; sleep 0.1; done
grep -q '"event":"waiting_for_pgdata"' "$T/wait.json" || die "the import did not report waiting"
grep -q 'waiting for s3://src/db1/status/pgdata (absent)' "$T/wait.err" || die "no clear log line while waiting"
sleep 1
kill -0 "$IMP_PID" 2>/dev/null || die "the import did not wait for the marker"
s3_put_marker src/db1 '{"done": false}'
sleep 2.5
kill -0 "$IMP_PID" 2>/dev/null || die "the import did not wait on a not-done marker"
s3_put_marker src/db1 '{"done": true, "producer": "awscli"}'
log "marker uploaded"
rc=0; wait "$IMP_PID" || rc=$?
[ "$rc" = 0 ] || { tail -5 "$T/wait.err" >&2; die "import after waiting exited $rc"; }
grep -q '"state":"not done"' "$T/wait.json" || die "the not-done marker was not reported"
grep -q '"event":"done"' "$T/wait.json" || die "no done event"

# ------------------------------------------------------------------ reference and S3 imports
log "local -> local (reference), unsharded + 4 shards"
imp_all "$SRC" "$T/ll" ll --status-dest "$T/ll-status"   # the cached PGDATA stays untouched
norm_tree "$T/ll" > "$T/ll.tree"
nlayers=$(grep -c __ "$T/ll.tree")
log "reference: $(wc -l < "$T/ll.tree") objects, $nlayers layers"

log "S3 -> local, 4 shards (unsharded came from the wait above)"
for k in 0 1 2 3; do
  imp s3://src/db1 "$T/sl" "sl-$k" --shard-count 4 --shard-number $k --stripe-size 256 \
    || { tail -5 "$T/sl-$k.err" >&2; die "S3 -> local shard $k failed"; }
done
norm_tree "$T/sl" > "$T/sl.tree"
assert_files_equal "$T/ll.tree" "$T/sl.tree"

log "S3 -> S3, unsharded + 4 shards"
imp_all s3://src/db1 s3://dst/ps ss
fetch_dest s3://dst/ps "$T/ss"
norm_tree "$T/ss" > "$T/ss.tree"
assert_files_equal "$T/ll.tree" "$T/ss.tree"
log "S3 results identical to the reference"

# ------------------------------------------------------------------ verify / export / inspect
tool() {  # tool NAME CMD ARGS...: pgdata2layers CMD with the S3 endpoint, outputs $T/NAME.{out,err}
  local name=$1; shift
  OUTS+=("$T/$name.out" "$T/$name.err")
  "$P2L_BIN" "$@" > "$T/$name.out" 2> "$T/$name.err" || { tail -5 "$T/$name.err" >&2; die "$*: failed"; }
}
log "verify s3://dst/ps (shard 1 of 4) against the S3 source"
tool verify verify --allow-unservable s3://dst/ps --endpoint "$S3_ENDPOINT" --tenant-id "$TENANT" --timeline-id "$TL" \
  --shard-count 4 --shard-number 1 --stripe-size 256 --source s3://src/db1 --json
grep -q '"compared_with_source":true,"differences":0' "$T/verify.out" || die "verify found differences"
log "export s3://dst/ps (the 4 shards) == export of the local reference"
mkdir -p "$T/exp-s3" "$T/exp-local"
tool export-s3 export s3://dst/ps "$T/exp-s3" --endpoint "$S3_ENDPOINT" --tenant-id "$TENANT" --timeline-id "$TL" \
  --shard-count 4
tool export-local export "$T/ll" "$T/exp-local" --tenant-id "$TENANT" --timeline-id "$TL" --shard-count 4
diff -r "$T/exp-s3" "$T/exp-local" >/dev/null || die "exports from S3 and local differ"
layer=$(cd "$T/ll" && find tenants/"$TENANT"/timelines -name '*__*' | LC_ALL=C sort | head -1)
log "inspect s3://dst/ps/$layer"
tool inspect-s3 inspect "s3://dst/ps/$layer" --endpoint "$S3_ENDPOINT" --json
tool inspect-local inspect "$T/ll/$layer" --json
# the JSON names the layer's address and has timestamps; the rest must match
sed -e 's#s3://dst/ps/#X/#g' -e 's/"ts":"[^"]*"//' "$T/inspect-s3.out" > "$T/i1"
sed -e "s#$T/ll/#X/#g" -e 's/"ts":"[^"]*"//' "$T/inspect-local.out" > "$T/i2"
assert_files_equal "$T/i2" "$T/i1"
rm -rf "$T/exp-s3" "$T/exp-local" "$T/sl" "$T/ss"

# ------------------------------------------------------------------ faults
start_proxy() {  # start_proxy RATE SEED → PROXY_URL, PROXY_PID
  start_fault_proxy "$S3_PORT" "$1" "$2" 1 "$T"
  PROXY_URL=http://127.0.0.1:$PROXY_PORT
}
stop_proxy() { kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; log "proxy: $(tail -1 "$T/proxy.log")"; }

start_proxy 0.1 11
log "S3 -> S3 through the fault proxy (10% of requests fail)"
IMP_ENDPOINT=$PROXY_URL imp s3://src/db1 s3://dst/faulty faulty-u --max-retries 12 --log-level debug \
  || { tail -5 "$T/faulty-u.err" >&2; die "import through the fault proxy failed"; }
stop_proxy
grep -q 'retry 1/12' "$T/faulty-u.err" || die "no retries logged: were faults injected?"
fetch_dest s3://dst/faulty "$T/fy"
norm_tree "$T/fy" > "$T/fy.tree"
grep -E "tenants/$TENANT/" "$T/ll.tree" > "$T/ll-u.tree"
assert_files_equal "$T/ll-u.tree" "$T/fy.tree"
log "faulty run identical to the reference"

start_proxy 1 5
log "100% failures: non-zero, clear error, no Done index_part"
IMP_ENDPOINT=$PROXY_URL imp_fail nz "gave up after\|HTTP 50[03]\|connection\|timed out" \
  s3://src/db1 s3://dst/dead dead --max-retries 2
stop_proxy
mkdir -p "$T/dead"
awscp --recursive s3://dst/dead "$T/dead" || true
if grep -rqs '"Done"' "$T/dead"; then die "a Done index_part was written despite 100% failures"; fi

# ------------------------------------------------------------------ secrets
for f in "${OUTS[@]}" "$T/proxy.log"; do
  [ -e "$f" ] || continue
  if grep -qF -- "$S3_SECRET" "$f"; then die "the secret key appears in $f"; fi
done
log "pass"
