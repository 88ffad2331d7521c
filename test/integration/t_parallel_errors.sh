#!/usr/bin/env bash
# t_parallel_errors.sh — the true error of a failed import, whatever the number of jobs (issue 19,
# part 1). A job-time failure used to end as exit 70 "job N: cancelled" with more than one job (the
# jobs running beside the failed one were cancelled, and the import reported the first non-OK job
# in plan order). For every failure class a job can meet, the import runs with --jobs 1 and with
# --jobs 6 and must exit with the same documented code and print the same error line, which
# names the object and never says "cancelled":
#   403 AccessDenied on a source object     (through test/tools/fault_proxy --match)      exit 4
#   404 on a source object (it disappeared)                                                 exit 7
#   412 on a source object (it changed)                                                     exit 7
#   truncated bodies of a source object, retries exhausted                                  exit 4
#   500 on every upload of one layer to an S3 destination, retries exhausted (I/O)          exit 4
#   a page with a bad checksum in a cluster with data checksums (local source)              exit 3
# The fault is aimed at one object in the middle of the plan (--soft-size-limit 1MiB gives dozens of
# jobs), so with --jobs 6 several jobs are running when it happens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"
need_bin
FP=$(need_tool fault_proxy)
s3_setup
T=$P2L_TEST_DIR
TENANT=3c2c0c6e1d3b4a5f9e7d6c5b4a392817
TL=4d2b3c4d5e6f708192a3b4c5d6e7f801

ref=$(pgdata_ref 17 1)
SRC=$ref/pgdata
log "upload $SRC to s3://src/db/pgdata/"
awscp --recursive "$SRC" s3://src/db/pgdata/
s3_put_marker src/db '{"done": true}'
# the largest relation file (pgbench_accounts): read by several jobs' ranged GETs
big=$(cd "$SRC" && find base -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
log "target object: $big"

# run_case NAME EXPECTED_CODE PATTERN CMD...: CMD with --jobs 1 and --jobs 6; same code (the
# expected one), same error line, naming PATTERN, no "cancelled".
run_case() {
  local name=$1 want=$2 pat=$3 j rc line first_line=""
  shift 3
  for j in 1 6; do
    rc=0
    CASE_DEST="$name-j$j" "$@" --jobs "$j" > "$T/$name-j$j.json" 2> "$T/$name-j$j.err" || rc=$?
    [ "$rc" = "$want" ] || { tail -5 "$T/$name-j$j.err" >&2; die "$name --jobs $j: exit $rc, expected $want"; }
    line=$(grep '^error: ' "$T/$name-j$j.err" | tail -1)
    [ -n "$line" ] || die "$name --jobs $j: no error line"
    case "$line" in *cancelled*) die "$name --jobs $j: the error is a cancellation: $line" ;; esac
    grep -q -- "$pat" <<<"$line" || die "$name --jobs $j: error line does not name '$pat': $line"
    # the --json error event carries the same message and code
    python3 - "$T/$name-j$j.json" "$rc" "${line#error: }" <<'EOF' || die "$name --jobs $j: --json error event differs"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
errs = [e for e in events if e.get("event") == "error"]
assert errs, "no error event"
assert errs[-1]["message"] == sys.argv[3], (errs[-1]["message"], sys.argv[3])
assert errs[-1]["code"] == int(sys.argv[2]), errs[-1]
EOF
    line=${line//$name-j$j/DEST}   # the destination differs by run
    if [ -z "$first_line" ]; then first_line=$line
    else assert_eq "$name: error line with --jobs 6" "$first_line" "$line"; fi
  done
  log "$name: exit $want with --jobs 1 and 6: $first_line"
}

# proxy NAME MATCH KINDS: a fault proxy in front of the S3 server failing every request whose
# request line contains MATCH with one of KINDS; sets PROXY_URL.
proxy() {
  local dir=$T/proxy-$1
  mkdir -p "$dir"
  "$FP" --upstream "127.0.0.1:${S3_ENDPOINT##*:}" --port-file "$dir/port" --fail-rate 1 --seed 7 \
    --kinds "$3" --match "$2" --stall-seconds 1 --max-seconds 900 > "$dir/stdout" 2> "$dir/log" &
  track_pid $!
  for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
  [ -s "$dir/port" ] || die "fault_proxy did not start"
  PROXY_URL=http://127.0.0.1:$(cat "$dir/port")
}

# import from S3 (through ENDPOINT) to a fresh local destination
imp_s3src() {
  "$P2L_BIN" import --source s3://src/db --dest "$T/out-$CASE_DEST" --tenant-id "$TENANT" --timeline-id "$TL" \
    --soft-size-limit 1MiB --max-retries 1 --endpoint "$ENDPOINT" --json "$@"
}
run_case_s3src() {   # NAME CODE PATTERN KIND
  proxy "$1" "GET /src/db/pgdata/$big " "$4"
  ENDPOINT=$PROXY_URL run_case "$1" "$2" "$3" imp_s3src
}
run_case_s3src forbidden 4 "$big" 403
run_case_s3src gone 7 "$big" 404
run_case_s3src changed 7 "$big" 412
run_case_s3src truncated 4 "$big" truncate

# Destination I/O: every upload of one layer in the middle of the plan fails with 500. Its name
# comes from a local import of the same source.
"$P2L_BIN" import --source "$SRC" --dest "$T/names" --tenant-id "$TENANT" --timeline-id "$TL" \
  --soft-size-limit 1MiB --no-sync -q
mapfile -t layers < <(find "$T/names" -type f -name '*__*' -printf '%f\n' | LC_ALL=C sort)
[ "${#layers[@]}" -ge 10 ] || die "only ${#layers[@]} layers: the plan has too few jobs for this test"
victim=${layers[$(( ${#layers[@]} / 2 ))]}
log "${#layers[@]} layers; the uploads of $victim fail"
proxy upload "$victim" 500
imp_s3dst() {
  "$P2L_BIN" import --source "$SRC" --dest "s3://dst/$CASE_DEST" --tenant-id "$TENANT" --timeline-id "$TL" \
    --soft-size-limit 1MiB --max-retries 1 --endpoint "$PROXY_URL" --json "$@"
}
run_case upload 4 "$victim" imp_s3dst

# A bad page checksum, local source: a copy of a cluster with data checksums, one byte of a
# page in the middle of the largest relation flipped.
ckref=$(PGTEST_CHECKSUMS=1 pgdata_ref 17 1)
copy_pgdata "$ckref" "$T/ck"
ckbig=$(cd "$T/ck/pgdata" && find base -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
python3 - "$T/ck/pgdata/$ckbig" <<'EOF'
import os, sys
p = sys.argv[1]
blocks = os.path.getsize(p) // 8192
with open(p, "r+b") as f:
    off = (blocks // 2) * 8192 + 4000
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x5a]))
EOF
imp_ck() {
  "$P2L_BIN" import --source "$T/ck/pgdata" --dest "$T/out-$CASE_DEST" --tenant-id "$TENANT" --timeline-id "$TL" \
    --soft-size-limit 1MiB --no-sync --json "$@"
}
run_case checksum 3 "checksum mismatch" imp_ck
log "ok"
