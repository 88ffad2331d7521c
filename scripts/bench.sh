#!/usr/bin/env bash
# bench.sh — import benchmarks side by side with their hardware baselines (`make bench`; issue 7).
#
# Creates (or reuses) PGDATAs with scripts/make-pgdata.sh, then in ONE run, BENCH_REPS rounds,
# each round running every case once (cases interleaved, the order of the two main cases
# alternating between rounds), measures with test/tools/bench_run (wall, CPU, peak RSS,
# /proc/PID/io) and prints medians and ratios as a text table; all runs and the summary also go to
# a JSON file. BENCHMARKS.md explains the cases and records the latest figures.
#
# Cases (scale BENCH_SCALE unless noted):
#   cp          cp -r --dereference PGDATA (same file system; --dereference: the tablespace link
#               is followed, as the import follows it, so both move the same bytes)
#   cp_sync     the same followed by sync -f (syncfs): cp made as durable as the import
#   import      local -> local import, no compression (fsyncs its objects; cp does not)
#   import_nosync  the same with --no-sync (no fsyncs, like cp -r and pg_basebackup --no-sync; only
#               when the binary has --no-sync); output checked byte-identical with `import`
#   import_zstd the same with --compression zstd (throughput, size ratio)
#   shards4     --shard-count 4, shards 0..3 as 4 processes one after another (CPU, bytes read)
#   s3_import   S3 -> local import from a local s3rver (scripts/s3-server.sh)
#   curl        the same objects fetched with parallel ranged GETs (one curl process, --parallel,
#               connection reuse, BENCH_RANGE bytes per GET) at the import's concurrency (--jobs)
#   s3_import_rtt, curl_rtt  the same two through test/tools/fault_proxy --latency-ms BENCH_RTT_MS
#               (no faults): every request waits BENCH_RTT_MS before it reaches s3rver, a model of
#               an endpoint one network round trip away (s3rver itself answers in ~0 ms but spends
#               CPU per listed object, which the plain pair measures)
#   pg_dump     pg_dump -Fc | pg_restore of both databases into a fresh cluster (reference;
#               server-side CPU is not in its CPU figures)
#   import/cp at BENCH_SCALE1 and BENCH_SCALE2: scaling (time and RSS ratios between the two sizes)
# Page cache: the PGDATA is read once (warmed) before every round and `sync` runs before every
# timed run, so every case starts with the source in memory and no dirty pages of the previous
# case. Before/after outputs are compared (cmp) to check the output stays byte-identical.
#
# Environment (defaults finish in < 10 min on 2 cores once the PGDATAs exist; building them
# takes ~1 min for scale 10 and ~3 min for scale 40, the first time only):
#   PGDATA2LAYERS_BIN  the binary (default build/release/pgdata2layers)
#   BENCH_DIR          work directory, PGDATA cache and results (default /var/tmp/p2l-bench)
#   BENCH_MAJOR=15     PostgreSQL major of the PGDATAs (15: the Debian pg_dump 15 can dump it)
#   BENCH_SCALE=10     pgbench scale of the main cases
#   BENCH_SCALE1=50    the smaller size of the scaling case (the issue's sizes: 50 and 200; both
#                      run several jobs at once, so their RSS compares like with like)
#   BENCH_SCALE2=200   the larger size of the scaling case (0 = no scaling case)
#   BENCH_REPS=3       rounds
#   BENCH_JOBS         --jobs of the imports and the curl concurrency (default: nproc)
#   BENCH_RANGE=4194304  bytes per curl GET (= the import's default --max-range)
#   BENCH_SKIP=""      cases to leave out, space-separated: zstd shards s3 pg_dump scale2
#   BENCH_JSON         result file (default BENCH_DIR/bench-results.json)
#   BENCH_IMPORT_ARGS  extra import flags (e.g. "--soft-size-limit 64MiB")
#   BENCH_RTT_MS=10    per-request delay of the *_rtt cases (0 = no *_rtt cases)
#   PGDATA2LAYERS_TOOLS  directory of the built test tools, for fault_proxy (default: `tools` beside
#               the binary, i.e. BUILD/tools of `make tools`; absent or older than its source:
#               bench.sh builds its own in BENCH_DIR, as it does bench_run)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/.." && pwd -P)
BIN=${PGDATA2LAYERS_BIN:-$ROOT/build/release/pgdata2layers}
BENCH_DIR=${BENCH_DIR:-/var/tmp/p2l-bench}
MAJOR=${BENCH_MAJOR:-15}
SCALE=${BENCH_SCALE:-10}
SCALE1=${BENCH_SCALE1:-50}
SCALE2=${BENCH_SCALE2:-200}
REPS=${BENCH_REPS:-3}
JOBS=${BENCH_JOBS:-$(nproc)}
RANGE=${BENCH_RANGE:-4194304}
RTT_MS=${BENCH_RTT_MS:-10}
TOOLS=${PGDATA2LAYERS_TOOLS:-$(dirname "$BIN")/tools}
SKIP=" ${BENCH_SKIP:-} "
JSON=${BENCH_JSON:-$BENCH_DIR/bench-results.json}
read -r -a IMPORT_ARGS <<< "${BENCH_IMPORT_ARGS:-}"
# the import writes a status object beside its source unless told otherwise: keep the PGDATA (and
# the uploaded copy) as they are
IMPORT_HELP=$("$BIN" import --help 2>&1 || true)
if [[ "$IMPORT_HELP" == *--status-dest* ]]; then IMPORT_ARGS+=(--status-dest "$BENCH_DIR/work/status"); fi
NOSYNC_OK=0
if [[ "$IMPORT_HELP" == *--no-sync* ]]; then NOSYNC_OK=1; fi
TENANT=b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0
TIMELINE=7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skipped() { [[ "$SKIP" == *" $1 "* ]]; }
for v in SCALE SCALE1 SCALE2 REPS JOBS RANGE RTT_MS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "BENCH_$v must be a number"
done
[ "$REPS" -ge 1 ] && [ "$JOBS" -ge 1 ] && [ "$SCALE" -ge 1 ] || die "BENCH_REPS, BENCH_JOBS, BENCH_SCALE must be >= 1"
[ "$RTT_MS" -le 10000 ] || die "BENCH_RTT_MS must be <= 10000"
[ -x "$BIN" ] || die "no binary $BIN (make, or set PGDATA2LAYERS_BIN)"
command -v python3 >/dev/null || die "python3 is needed for the report"

mkdir -p "$BENCH_DIR"; chmod 755 "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
W=$BENCH_DIR/work
RAW=$BENCH_DIR/runs.txt
rm -rf "$W"; mkdir -p "$W"; : > "$RAW"

# ------------------------------------------------------------------ bench_run (measuring helper)
RUNNER=$BENCH_DIR/bench_run
if [ ! -x "$RUNNER" ] || [ "$ROOT/test/tools/bench_run.cc" -nt "$RUNNER" ]; then
  g++ -std=c++20 -O2 -Wall -Wextra -Werror -o "$RUNNER" "$ROOT/test/tools/bench_run.cc" || die "cannot build bench_run"
fi

# ------------------------------------------------------------------ cleanup
S3_PID="" SRC_PG="" DST_PG="" PROXY_PID=""
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true
  [ -n "$DST_PG" ] && "$HERE/pg-run.sh" stop "$DST_PG" >/dev/null 2>&1 || true
  [ -n "$SRC_PG" ] && "$HERE/pg-run.sh" stop "$SRC_PG" >/dev/null 2>&1 || true
  [ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null && wait "$S3_PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ------------------------------------------------------------------ PGDATAs
pgdata_for() {   # pgdata_for SCALE: prints the cached PGDATA of that scale
  local dir=$BENCH_DIR/pg$MAJOR-s$1
  (
    flock -w 1800 9 || die "timed out waiting for $dir.lock"
    PGTEST_REUSE=1 PGTEST_FORCE=1 "$HERE/make-pgdata.sh" "$MAJOR" "$1" "$dir" >/dev/null
  ) 9>"$dir.lock" || die "make-pgdata.sh $MAJOR $1 $dir failed"
  echo "$dir/pgdata"
}
PG1=$(pgdata_for "$SCALE")
PG2="" PGS1=""
if [ "$SCALE2" -gt 0 ] && ! skipped scale2; then
  [ "$SCALE1" -ge 1 ] && [ "$SCALE1" -lt "$SCALE2" ] || die "BENCH_SCALE1 must be >= 1 and < BENCH_SCALE2"
  [ "$SCALE1" = "$SCALE" ] || PGS1=$(pgdata_for "$SCALE1")
  PG2=$(pgdata_for "$SCALE2")
fi
bytes_of() { du -sbL "$1" | cut -f1; }
log "PGDATA scale $SCALE: $PG1 ($(du -shL "$PG1" | cut -f1))${PGS1:+; scale $SCALE1: $PGS1 ($(du -shL "$PGS1" | cut -f1))}${PG2:+; scale $SCALE2: $PG2 ($(du -shL "$PG2" | cut -f1))}"

warm() { find -L "$1" -type f -exec cat {} + > /dev/null; }

# ------------------------------------------------------------------ measuring
# measure CASE SCALE ROUND EXTRA -- CMD...: runs CMD under bench_run, appends a record to RAW
measure() {
  local name=$1 scale=$2 round=$3 extra=$4; shift 5
  local f=$W/one.txt
  rm -f "$f"
  sync
  "$RUNNER" "$f" "$@" || die "$name (scale $scale, round $round) failed: $*"
  echo "case=$name scale=$scale round=$round $(cat "$f") $extra" >> "$RAW"
}
# import_extra JSONFILE DEST: source bytes, layers, plan jobs, output bytes of an import run
import_extra() {
  python3 - "$1" "$2" <<'EOF'
import json, os, sys
done = plan = {}
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("event") == "done": done = e
    if e.get("event") == "plan": plan = e
out = 0
for d, _, fs in os.walk(sys.argv[2]):
    for f in fs:
        if "index_part.json" not in f and "lease" not in f: out += os.path.getsize(os.path.join(d, f))
print(f"source_bytes={done.get('source_bytes', 0)} layers={done.get('layers', 0)} plan_jobs={plan.get('jobs', 0)} out_bytes={out}")
EOF
}
# the layer files of an import, for byte comparisons
layers_of() { find "$1" -type f ! -name 'index_part.json*' ! -name '*lease*' | LC_ALL=C sort; }
# same_output DIR_A DIR_B: the layer files are byte-identical (same names, same bytes)
same_output() {
  local a b
  a=$(cd "$1" && layers_of .) b=$(cd "$2" && layers_of .)
  [ "$a" = "$b" ] || return 1
  while read -r f; do cmp -s "$1/$f" "$2/$f" || return 1; done <<< "$a"
}
IDENTICAL=1
check_same() {   # check_same WHAT REF_DIR DIR: keeps the first output as REF_DIR
  if [ ! -d "$2" ]; then mv "$3" "$2"; return; fi
  if ! same_output "$2" "$3"; then
    IDENTICAL=0; log "WARNING: $1 output differs from the first one kept in $(basename "$2")"
  fi
}

run_import() {   # run_import CASE SCALE ROUND PGDATA DEST [FLAGS...]
  local name=$1 scale=$2 round=$3 src=$4 dest=$5; shift 5
  rm -rf "$dest"
  measure "$name" "$scale" "$round" "" -- bash -c 'exec "$@" > "'"$W/import.json"'"' _ \
    "$BIN" import --source "$src" --dest "$dest" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
    --jobs "$JOBS" --json --quiet "${IMPORT_ARGS[@]}" "$@"
  sed -i "\$s/\$/ $(import_extra "$W/import.json" "$dest")/" "$RAW"
}
run_cp() {   # run_cp SCALE ROUND PGDATA
  rm -rf "$W/cp"
  measure cp "$1" "$2" "bytes=$(bytes_of "$3")" -- cp -r --dereference "$3" "$W/cp"
  rm -rf "$W/cp"
  # the same made durable (one syncfs of the file system, as the import fsyncs what it writes)
  measure cp_sync "$1" "$2" "bytes=$(bytes_of "$3")" -- bash -c 'cp -r --dereference "$1" "$2" && sync -f "$2"' _ \
    "$3" "$W/cp"
  rm -rf "$W/cp"
}

# the S3 pair through the delaying proxy (RTT_ENDPOINT): run_s3_rtt ROUND, run_curl_rtt ROUND
run_s3_rtt() {
  run_import s3_import_rtt "$SCALE" "$1" "s3://bench/$S3_PREFIX" "$W/s3imp" --endpoint "$RTT_ENDPOINT" \
    --s3-concurrency "$JOBS"
  sed -i "\$s/\$/ rtt_ms=$RTT_MS/" "$RAW"
  check_same s3_import_rtt "$W/ref-import" "$W/s3imp"; rm -rf "$W/s3imp"
}
run_curl_rtt() {
  measure curl_rtt "$SCALE" "$1" "bytes=$CURL_BYTES gets=$CURL_GETS rtt_ms=$RTT_MS" -- \
    curl --no-progress-meter --parallel --parallel-max "$JOBS" -K "$W/get-rtt.cfg"
}

# ------------------------------------------------------------------ S3 setup
S3_OK=0
if ! skipped s3; then
  if command -v node >/dev/null; then
    S3_DIR=$BENCH_DIR/s3
    mkdir -p "$S3_DIR"
    [ -f "$S3_DIR/server.pid" ] && "$HERE/s3-server.sh" stop --dir "$S3_DIR" >/dev/null 2>&1 || true
    eval "$("$HERE/s3-server.sh" --dir "$S3_DIR" --bucket bench 2>"$W/s3-start.log")" \
      || { cat "$W/s3-start.log" >&2; die "s3-server.sh failed"; }
    export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=us-east-1
    unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION
    S3_PREFIX=pg$MAJOR-s$SCALE
    CURL_AUTH=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY"
               -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    # Upload once per PGDATA build (the server keeps its objects in S3_DIR/data), in the layout of
    # a Neon import bucket: PREFIX/pgdata/... and the marker PREFIX/status/pgdata.
    stamp="$(md5sum "$(dirname "$PG1")/info.txt" | cut -d' ' -f1) bucket-layout"
    if [ "$(cat "$S3_DIR/uploaded-$S3_PREFIX" 2>/dev/null)" != "$stamp" ]; then
      log "uploading $PG1 to s3://bench/$S3_PREFIX/ (once)"
      (
        cd "$PG1"
        find -L . -type f | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
          printf 'url = "%s/bench/%s/pgdata/%s"\nupload-file = "%s"\noutput = "/dev/null"\n' \
            "$S3_ENDPOINT" "$S3_PREFIX" "$f" "$f"
        done > "$W/upload.cfg"
        curl -sS -f --no-progress-meter --parallel --parallel-max 4 "${CURL_AUTH[@]}" -K "$W/upload.cfg"
        # the Neon import bucket's "upload complete" marker
        echo '{"done": true}' | curl -sS -f "${CURL_AUTH[@]}" -T - -o /dev/null \
          "$S3_ENDPOINT/bench/$S3_PREFIX/status/pgdata"
      ) > "$W/upload.log" 2>&1 || { cat "$W/upload.log" >&2; die "upload to s3rver failed"; }
      echo "$stamp" > "$S3_DIR/uploaded-$S3_PREFIX"
    fi
    # curl config: every non-empty object except pg_wal/ (not imported), in ranges of RANGE bytes,
    # from the endpoint $1 (SigV4 signs the Host header: the URL must name the server curl talks
    # to). Empty objects are left out: the import knows their size from the listing and never
    # GETs them (a PGDATA has hundreds: 219 of 1316 at scale 10).
    get_cfg() (
      cd "$PG1"
      first=1
      find -L . -type f -size +0 ! -path './pg_wal/*' -printf '%s %P\n' | LC_ALL=C sort -k2 | while read -r size f; do
        off=0
        while :; do
          [ "$first" = 1 ] || echo "next"; first=0
          printf 'url = "%s/bench/%s/pgdata/%s"\noutput = "/dev/null"\nsilent\nshow-error\nfail\n' "$1" "$S3_PREFIX" "$f"
          printf 'aws-sigv4 = "aws:amz:us-east-1:s3"\nuser = "%s:%s"\nheader = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\n' \
            "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
          if [ "$size" -gt "$RANGE" ]; then
            end=$(( off + RANGE - 1 )); [ "$end" -ge "$size" ] && end=$(( size - 1 ))
            printf 'range = "%s-%s"\n' "$off" "$end"
            off=$(( end + 1 ))
            [ "$off" -ge "$size" ] && break
          else
            break
          fi
        done
      done
    )
    get_cfg "$S3_ENDPOINT" > "$W/get.cfg"
    CURL_BYTES=$(cd "$PG1" && find -L . -type f ! -path './pg_wal/*' -printf '%s\n' | awk '{s+=$1} END{print s+0}')
    CURL_GETS=$(grep -c '^url' "$W/get.cfg")
    S3_OK=1
    # the same server one simulated round trip away: fault_proxy delaying every request by RTT_MS
    if [ "$RTT_MS" -gt 0 ]; then
      FP=$TOOLS/fault_proxy
      if [ ! -x "$FP" ] || [ "$ROOT/test/tools/fault_proxy.cc" -nt "$FP" ]; then   # not built by make tools
        FP=$BENCH_DIR/fault_proxy
        if [ ! -x "$FP" ] || [ "$ROOT/test/tools/fault_proxy.cc" -nt "$FP" ]; then
          g++ -std=c++20 -O2 -Wall -Wextra -Werror -Wno-missing-field-initializers -o "$FP" \
            "$ROOT/test/tools/fault_proxy.cc" -lpthread || die "cannot build fault_proxy"
        fi
      fi
      "$FP" --upstream "127.0.0.1:$S3_PORT" --port-file "$W/proxy.port" --latency-ms "$RTT_MS" --fail-rate 0 \
        --log-heads "$W/proxy-heads.txt" --max-seconds 7200 > /dev/null 2> "$W/proxy.log" &
      PROXY_PID=$!
      for _ in $(seq 50); do [ -s "$W/proxy.port" ] && break; sleep 0.1; done
      [ -s "$W/proxy.port" ] || { cat "$W/proxy.log" >&2; die "fault_proxy did not start"; }
      RTT_ENDPOINT=http://127.0.0.1:$(cat "$W/proxy.port")
      get_cfg "$RTT_ENDPOINT" > "$W/get-rtt.cfg"
      log "*_rtt cases: $RTT_ENDPOINT (fault_proxy, $RTT_MS ms per request) in front of $S3_ENDPOINT"
    fi
  else
    log "node not installed: no S3 cases"
  fi
fi

# ------------------------------------------------------------------ pg_dump | pg_restore setup
DUMP_OK=0
if ! skipped pg_dump; then
  CLIENT=$("$HERE/pg-install.sh" --client)
  SRVBIN=$("$HERE/pg-install.sh" "$MAJOR")
  if [ "$MAJOR" -le 15 ]; then
    log "starting a server on a copy of the PGDATA (pg_dump source)"
    mkdir -p "$W/dumpsrc"; chmod 755 "$W/dumpsrc"
    src_parent=$(dirname "$PG1")
    cp -a "$src_parent/pgdata" "$src_parent/tblspc2" "$W/dumpsrc/"
    for l in "$W/dumpsrc/pgdata/pg_tblspc/"*; do
      [ -L "$l" ] && ln -sfn "$W/dumpsrc/tblspc2" "$l"
    done
    SRC_PG=$W/dumpsrc/pgdata
    eval "$("$HERE/pg-run.sh" start "$SRC_PG" 2>"$W/pg-start.log" | sed 's/^/SRC_/; s/ PG_/ SRC_PG_/g')" \
      || { cat "$W/pg-start.log" >&2; die "cannot start the pg_dump source server"; }
    DUMP_OK=1
  else
    log "pg_dump 15 cannot dump PostgreSQL $MAJOR: no pg_dump case (use BENCH_MAJOR=15)"
  fi
fi
# fresh target cluster (not timed), then the timed dump | restore of both databases
run_pg_dump() {   # run_pg_dump ROUND
  local t=$W/restore
  DST_PG=$t/pgdata
  rm -rf "$t"; mkdir -p "$t"; chmod 755 "$t"
  [ "$(id -u)" -eq 0 ] && chown "${PGTEST_OSUSER:-postgres}:" "$t"
  local as=(); [ "$(id -u)" -eq 0 ] && as=(runuser -u "${PGTEST_OSUSER:-postgres}" --)
  "${as[@]}" "$SRVBIN/initdb" -D "$DST_PG" -U postgres -A trust -E UTF8 --locale=C --no-sync > "$W/initdb.log" 2>&1 \
    || { cat "$W/initdb.log" >&2; die "initdb failed"; }
  eval "$("$HERE/pg-run.sh" start "$DST_PG" 2>>"$W/pg-start.log" | sed 's/^/DST_/; s/ PG_/ DST_PG_/g')" \
    || { cat "$W/pg-start.log" >&2; die "cannot start the restore target"; }
  local s="-h $SRC_PG_SOCK -p $SRC_PG_PORT -U postgres" d="-h $DST_PG_SOCK -p $DST_PG_PORT -U postgres"
  measure pg_dump "$SCALE" "$1" "bytes=$(bytes_of "$PG1")" -- bash -c "
    set -eo pipefail
    '$CLIENT/pg_dump' $s -Fc -d postgres | '$CLIENT/pg_restore' $d --no-tablespaces --exit-on-error -d postgres
    '$CLIENT/createdb' $d extradb
    '$CLIENT/pg_dump' $s -Fc -d extradb | '$CLIENT/pg_restore' $d --no-tablespaces --exit-on-error -d extradb"
  "$HERE/pg-run.sh" stop "$DST_PG" >/dev/null 2>&1 || true
  DST_PG=""
  rm -rf "$t"
}

# ------------------------------------------------------------------ rounds
log "$REPS rounds, --jobs $JOBS; skipping: ${BENCH_SKIP:-nothing}"
for r in $(seq 1 "$REPS"); do
  log "round $r/$REPS"
  warm "$PG1"
  if [ $(( r % 2 )) = 1 ]; then
    run_cp "$SCALE" "$r" "$PG1"
    run_import import "$SCALE" "$r" "$PG1" "$W/imp"
  else
    run_import import "$SCALE" "$r" "$PG1" "$W/imp"
    run_cp "$SCALE" "$r" "$PG1"
  fi
  check_same import "$W/ref-import" "$W/imp"; rm -rf "$W/imp"
  if [ "$NOSYNC_OK" = 1 ]; then
    run_import import_nosync "$SCALE" "$r" "$PG1" "$W/imp" --no-sync
    check_same import_nosync "$W/ref-import" "$W/imp"; rm -rf "$W/imp"
  fi

  if ! skipped zstd; then
    run_import import_zstd "$SCALE" "$r" "$PG1" "$W/zimp" --compression zstd
    check_same import_zstd "$W/ref-zstd" "$W/zimp"; rm -rf "$W/zimp"
  fi

  if ! skipped shards; then
    rm -rf "$W/shards"
    for n in 0 1 2 3; do
      measure "shard$n" "$SCALE" "$r" "" -- bash -c 'exec "$@" > "'"$W/import.json"'"' _ \
        "$BIN" import --source "$PG1" --dest "$W/shards" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
        --shard-count 4 --shard-number "$n" --jobs "$JOBS" --json --quiet "${IMPORT_ARGS[@]}"
      sed -i "\$s/\$/ $(import_extra "$W/import.json" /nonexistent)/" "$RAW"
    done
    check_same shards "$W/ref-shards" "$W/shards"; rm -rf "$W/shards"
  fi

  if [ "$S3_OK" = 1 ]; then
    run_import s3_import "$SCALE" "$r" "s3://bench/$S3_PREFIX" "$W/s3imp" --endpoint "$S3_ENDPOINT" \
      --s3-concurrency "$JOBS"
    check_same s3_import "$W/ref-import" "$W/s3imp"; rm -rf "$W/s3imp"
    measure curl "$SCALE" "$r" "bytes=$CURL_BYTES gets=$CURL_GETS" -- \
      curl --no-progress-meter --parallel --parallel-max "$JOBS" -K "$W/get.cfg"
    if [ -n "$PROXY_PID" ]; then   # the order of the pair alternates between rounds
      if [ $(( r % 2 )) = 1 ]; then run_s3_rtt "$r"; run_curl_rtt "$r"; else run_curl_rtt "$r"; run_s3_rtt "$r"; fi
    fi
  fi

  [ "$DUMP_OK" = 1 ] && run_pg_dump "$r"

  if [ -n "$PGS1" ]; then
    warm "$PGS1"
    run_cp "$SCALE1" "$r" "$PGS1"
    run_import import "$SCALE1" "$r" "$PGS1" "$W/imp1"
    check_same "import (scale $SCALE1)" "$W/ref-import1" "$W/imp1"; rm -rf "$W/imp1"
  fi
  if [ -n "$PG2" ]; then
    warm "$PG2"
    run_cp "$SCALE2" "$r" "$PG2"
    run_import import "$SCALE2" "$r" "$PG2" "$W/imp2"
    check_same "import (scale $SCALE2)" "$W/ref-import2" "$W/imp2"; rm -rf "$W/imp2"
  fi
done

# ------------------------------------------------------------------ report
# the requests the proxy saw (request heads of all rounds of s3_import_rtt and curl_rtt), per round
# and client (User-Agent), by kind: what the simulated round trips were paid for
RTT_IMPORT_REQUESTS=""
if [ -n "$PROXY_PID" ]; then
  kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true
  PROXY_PID=""
  RTT_IMPORT_REQUESTS=$(python3 - "$W/proxy-heads.txt" "$REPS" 2> "$W/mix.log" <<'EOF'
import collections, sys
mix = collections.defaultdict(collections.Counter)
for head in open(sys.argv[1], "rb").read().decode("latin-1").split("\r\n\r\n"):
    lines = head.split("\r\n")
    if not lines[0].strip():
        continue
    hdr = {l.partition(":")[0].strip().lower(): l.partition(":")[2].strip() for l in lines[1:]}
    method, _, target = lines[0].partition(" ")
    kind = method
    if method == "GET" and "list-type=" in target:
        kind = "LIST"
    elif method == "GET" and "range" in hdr:
        kind = "GET(range)"
    mix["curl" if hdr.get("user-agent", "").startswith("curl/") else "import"][kind] += 1
reps = int(sys.argv[2])
for client, kinds in sorted(mix.items()):
    parts = ", ".join(f"{k} {v / reps:g}" for k, v in sorted(kinds.items()))
    print(f"{client}: {sum(kinds.values()) / reps:g} requests per round ({parts})", file=sys.stderr)
print(f"{sum(mix['import'].values()) / reps:g}")
EOF
  ) || true
  while read -r l; do log "through fault_proxy: $l"; done < "$W/mix.log"
fi
MACHINE="nproc=$(nproc); cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1); mem=$(free -g | awk '/^Mem:/{print $2}')GiB; fs=$(df -T "$BENCH_DIR" | awk 'NR==2{print $2" on "$1}'); kernel=$(uname -r); load=$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/test/tools/bench_report.py" "$RAW" "$JSON" \
  "scale=$SCALE" "scale1=$SCALE1" "scale2=$([ -n "$PG2" ] && echo "$SCALE2" || echo 0)" "reps=$REPS" "jobs=$JOBS" "major=$MAJOR" \
  "identical=$IDENTICAL" "rtt_ms=$([ -n "${RTT_ENDPOINT:-}" ] && echo "$RTT_MS" || echo 0)" \
  "rtt_import_requests=$RTT_IMPORT_REQUESTS" "machine=$MACHINE" "binary=$BIN" "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "runs: $RAW; results: $JSON"
