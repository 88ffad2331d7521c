#!/usr/bin/env bash
# Resumable, idempotent imports (issue #5), local destination, real PostgreSQL 15 PGDATA (scale 1)
# with a small --soft-size-limit (many jobs) and --checkpoint-every 2:
#   - kill -9 the importer at P2L_RESUME_KILLS (20) moments of every phase (planning, mid-run,
#     at a checkpoint, after the last job) and rerun: after every kill the index lists only durable
#     layers; every completed result is byte-identical to an uninterrupted run (index equal modulo
#     timestamps); resumed runs show skipped jobs in their JSON events;
#   - the same command after success: exit 0, "already complete", no planning, nothing modified
#     (mtimes of the destination), and no status object written into the plain PGDATA source;
#   - another idempotency key against the finished timeline: exit 8, nothing modified;
#   - a second importer on a shard being imported: exit 5 (lease); `status` shows "in progress"
#     with jobs done/total and the lease (text and --json), "done" once finished;
#   - a source changed between runs (8192 bytes appended to a relation file): exit 7 naming
#     --restart; --restart then succeeds and only the final index's layers remain.
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
TENANT=3e0c4b2a1f9d8e7c6b5a493827161504
TL=0f1e2d3c4b5a69788796a5b4c3d2e1f0
SRC=$(make_pgdata 15 1 "$T/src")   # private copy: the last part changes it
rm -rf "$SRC/status"   # left in cached PGDATAs by older versions, which wrote status objects there
FLAGS=(--soft-size-limit 1MiB --checkpoint-every 2 --jobs 2)
. "$P2L_ROOT/test/integration/resume_lib.sh"

# expect_exit CODE PATTERN DEST EVENTS [flags]: the import exits CODE with PATTERN on stderr
expect_exit() {
  local code=$1 pat=$2 rc=0; shift 2
  : > "$T/import.err"
  run_import "$@" || rc=$?
  assert_eq "exit code ($pat)" "$code" "$rc"
  grep -q -- "$pat" "$T/import.err" || die "the error does not mention '$pat': $(tail -n 2 "$T/import.err")"
  log "expected failure ($code): $(grep -v '^{' "$T/import.err" | tail -n 1 | cut -c1-300)"
}

# ---------------------------------------------------------------- reference + kills
reference_run "$T/ref"
kill_loop "$T/d" "${P2L_RESUME_KILLS:-20}" "$T/ref"
log "$((DESTS)) destination(s) completed, all identical to the uninterrupted run; $SKIPPED_RUNS run(s) skipped jobs done earlier"
[ "$SKIPPED_RUNS" -ge 1 ] || die "no resumed run reported skipped jobs"
D=$LAST_DEST

# ---------------------------------------------------------------- rerun after success
dest_ls "$D" > "$T/ls.before"
# a plain local PGDATA is never written to: no status object without --status-dest
[ ! -e "$SRC/status" ] || die "the import wrote into the source PGDATA: $(find "$SRC/status" | head -n 3)"
grep -q "no status object is written into it" "$T/import.err" || die "no log line about the missing status object"
sleep 1.1   # coarse mtime resolution on some filesystems
t0=$(date +%s.%N)
run_import "$D" "$T/again.json" || die "rerun after success failed: $(tail -n 3 "$T/import.err")"
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
grep -q '"already_complete":true' "$T/again.json" || die "the rerun did not report already_complete"
if grep -q '"event":"plan"' "$T/again.json"; then die "the rerun of a finished import planned (listed the source)"; fi
dest_ls "$D" > "$T/ls.after"
assert_files_equal "$T/ls.before" "$T/ls.after"
log "rerun after success: exit 0 in ${secs}s, nothing modified"

# ---------------------------------------------------------------- another idempotency key
expect_exit 8 "idempotency key" "$D" "$T/other.json" --idempotency-key someone-else
dest_ls "$D" > "$T/ls.after"
assert_files_equal "$T/ls.before" "$T/ls.after"

status_json() {
  "$P2L_BIN" status --dest "$1" --tenant-id "$TENANT" --timeline-id "$TL" --json \
    | python3 -c 'import json,sys; s=json.load(sys.stdin)["shards"][0]; print("|".join(str(x) for x in (s["state"], s.get("jobs_done"), s.get("jobs_total"), s.get("lease") is not None)))'
}
"$P2L_BIN" status --dest "$D" --tenant-id "$TENANT" --timeline-id "$TL" > "$T/st.txt"
grep -q ": done" "$T/st.txt" || die "status of the finished import: $(cat "$T/st.txt")"
log "status: $(cat "$T/st.txt")"
"$P2L_BIN" status --dest "$D" --tenant-id "$TENANT" --timeline-id 00000000000000000000000000000001 > "$T/st.txt"
grep -q ": not started" "$T/st.txt" || die "status of an unknown timeline: $(cat "$T/st.txt")"

# ---------------------------------------------------------------- two importers, status in progress
C=$T/changed
start_import "$C" "$T/c0.json"
wait_for_event "$T/c0.json" '"event":"checkpoint"' "$IMP_PID" || die "the run finished before a checkpoint"
kill -STOP "$IMP_PID"
expect_exit 5 "holds" "$C" "$T/second.json"
"$P2L_BIN" status --dest "$C" --tenant-id "$TENANT" --timeline-id "$TL" > "$T/st.txt"
log "status: $(cat "$T/st.txt")"
grep -q "in progress, [0-9]*/$REF_JOBS jobs" "$T/st.txt" || die "status does not show in progress with jobs done/total"
grep -q "lease held by" "$T/st.txt" || die "status does not show the lease"
IFS='|' read -r state done total lease < <(status_json "$C")
assert_eq "status --json state" "in progress" "$state"
assert_eq "status --json jobs_total" "$REF_JOBS" "$total"
[ "$done" -ge 2 ] || die "status --json jobs_done $done"
assert_eq "status --json lease" True "$lease"
kill_import

# ---------------------------------------------------------------- source changed between runs
assert_eq "index after the kill" InProgress "$(index_state "$C")"
rel=$(find "$SRC/base" -type f -regex '.*/[0-9]+' -printf '%s %p\n' | sort -n | tail -n1 | cut -d' ' -f2)
log "appending 8192 bytes to ${rel#"$SRC"/}"
head -c 8192 /dev/zero >> "$rel"
expect_exit 7 "--restart" "$C" "$T/c1.json"
assert_eq "index after the refusal" InProgress "$(index_state "$C")"
run_import "$C" "$T/c2.json" --restart || die "--restart failed: $(tail -n 3 "$T/import.err")"
assert_eq "index after --restart" Done "$(index_state "$C")"
# only the layers of the final index remain
python3 - "$C/$(tldir)" <<'EOF'
import json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index_part.json-00000001")))
want = {n + "-%08x" % lm["generation"] for n, lm in idx["layer_metadata"].items()} | {"index_part.json-00000001"}
for n, lm in idx["layer_metadata"].items():
    assert os.path.getsize(os.path.join(d, n + "-%08x" % lm["generation"])) == lm["file_size"], n
have = set(os.listdir(d))
assert have == want, (have - want, want - have)
EOF
log "ok"
