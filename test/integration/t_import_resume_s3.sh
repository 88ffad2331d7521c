#!/usr/bin/env bash
# Resumable, idempotent imports (issue #5), S3 destination (scripts/s3-server.sh, SigV4-verifying
# s3rver), real PostgreSQL 15 PGDATA (scale 1), many small jobs:
#   - kill -9 the importer at P2L_RESUME_KILLS (20) moments of every phase (planning, mid-run, at a
#     checkpoint, after the last job; resume_lib.sh) and rerun: after every kill the index lists
#     only uploaded layers; every completed result is byte-identical to an uninterrupted run into a
#     local destination (index equal modulo timestamps); resumed runs show skipped jobs;
#   - the same command after success: exit 0, "already complete", nothing modified (object ETags
#     and the S3 server's stored files' mtimes unchanged); the lease object is gone.
. "$(dirname "$0")/lib.sh"
need_bin
command -v node >/dev/null || skip "node is not installed (needed for the S3 test server)"
ST=$(need_tool storage_tool)

T=$P2L_TEST_DIR
TENANT=5a0c4b2a1f9d8e7c6b5a493827161505
TL=1f1e2d3c4b5a69788796a5b4c3d2e1f1
SRC=$(pgdata_ref 15 1)/pgdata   # read only: the status objects go to --status-dest
mkdir -p "$T/tmp"
FLAGS=(--soft-size-limit 1MiB --checkpoint-every 2 --jobs 2 --status-dest "$T/status" --tmp-dir "$T/tmp")
. "$P2L_ROOT/test/integration/resume_lib.sh"

start_s3 --bucket imports
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION
log "S3 server at $S3_ENDPOINT"

# The kills below land inside PUTs too. Real S3 never shows an incomplete PUT; the test server must
# not either (scripts/s3-server.sh patch P5), or a killed index PUT reads back as a truncated object.
SIG=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
head -c 100000 /dev/urandom > "$T/probe.old"; head -c 200000 /dev/urandom > "$T/probe.new"
curl -sS -f "${SIG[@]}" -T "$T/probe.old" "$S3_ENDPOINT/imports/probe/obj" || die "probe PUT failed"
curl -sS "${SIG[@]}" --limit-rate 40k -T "$T/probe.new" "$S3_ENDPOINT/imports/probe/obj" >/dev/null 2>&1 & CP=$!
sleep 1; kill -9 "$CP"; wait "$CP" 2>/dev/null || true; sleep 0.3
curl -sS -f "${SIG[@]}" -o "$T/probe.got" "$S3_ENDPOINT/imports/probe/obj" || die "probe GET failed"
cmp -s "$T/probe.got" "$T/probe.old" || die "the S3 test server made an aborted PUT visible ($(wc -c < "$T/probe.got") bytes)"
log "test server: an aborted PUT leaves the previous object"

reference_run "$T/ref"
kill_loop s3://imports/d "${P2L_RESUME_KILLS:-20}" "$T/ref"
log "$DESTS destination(s) completed, all identical to the uninterrupted local run; $SKIPPED_RUNS run(s) skipped jobs done earlier"
[ "$SKIPPED_RUNS" -ge 1 ] || die "no resumed run reported skipped jobs"
D=$LAST_DEST
if dest_ls "$D" | grep -q pgdata2layers.lease; then die "the lease object is left after success"; fi

# ---------------------------------------------------------------- rerun after success
dest_ls "$D" > "$T/ls.before"
stored() { find "$S3_DIR" -type f -path "*${D#s3://imports/}*" -printf '%P %T@\n' | LC_ALL=C sort; }
stored > "$T/stored.before"
[ -s "$T/stored.before" ] || die "no stored files of $D under $S3_DIR"
sleep 1.1
t0=$(date +%s.%N)
run_import "$D" "$T/again.json" || die "rerun after success failed: $(tail -n 3 "$T/import.err")"
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
grep -q '"already_complete":true' "$T/again.json" || die "the rerun did not report already_complete"
if grep -q '"event":"plan"' "$T/again.json"; then die "the rerun of a finished import planned (listed the source)"; fi
dest_ls "$D" > "$T/ls.after"
assert_files_equal "$T/ls.before" "$T/ls.after"
stored > "$T/stored.after"
assert_files_equal "$T/stored.before" "$T/stored.after"
log "rerun after success: exit 0 in ${secs}s, ETags and stored files unchanged"
log "ok"
