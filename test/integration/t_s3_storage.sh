#!/usr/bin/env bash
# t_s3_storage.sh — the S3 backend (lib/storage/s3_storage.cc) against a real, SigV4-verifying S3
# server on 127.0.0.1 (scripts/s3-server.sh), through test/tools/storage_tool:
#   pagination (1500 objects + sub-directories), ranged reads, a 100 MiB multipart upload,
#   PutIfAbsent, Delete, change detection, wrong credentials and a missing bucket (clear errors);
#   then the same through test/tools/fault_proxy with 30% failures (results still correct) and
#   with 100% failures (non-zero exit, clear error). Servers are stopped by lib.sh's EXIT trap.
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null || skip "node is not installed (needed for the S3 test server)"
ST=$(need_tool storage_tool)
FP=$(need_tool fault_proxy)

start_s3 --bucket testbucket
log "S3 server at $S3_ENDPOINT"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION
W=$P2L_TEST_DIR/work
mkdir -p "$W"
B=s3://testbucket/t1

s3() { "$ST" --endpoint "$S3_ENDPOINT" --tmp-dir "$W" "$@"; }
. "$(dirname "$0")/storage_lib.sh"

# ------------------------------------------------------------------ pagination
log "1500 objects + 2 sub-directories"
s3 "$B" put-many many 1500
check_pagination s3 "$B" 1500

# ------------------------------------------------------------------ ranged reads
check_ranged_reads s3 "$B"

# ------------------------------------------------------------------ multipart
log "100 MiB multipart upload (16 MiB parts)"
head -c $((100 << 20)) /dev/urandom > "$W/big"
s3 --multipart-threshold $((64 << 20)) --part-size $((16 << 20)) "$B" put-file data/big "$W/big"
assert_eq "multipart size" $((100 << 20)) "$(s3 "$B" stat data/big | awk '{print $2}')"
s3 "$B" get data/big | cmp - "$W/big" || die "multipart object differs"
for f in "$W"/p2l-s3-stage.*; do if [ -e "$f" ]; then die "staging file left behind: $f"; fi; done

# ------------------------------------------------------------------ small operations
check_small_ops s3 "$B" "no such object" '"0000"'

# ------------------------------------------------------------------ clear errors
expect_fail 4 "credentials were refused" env AWS_SECRET_ACCESS_KEY=wrong-secret "$ST" --endpoint "$S3_ENDPOINT" "$B" ls
grep -q wrong-secret "$W/err" && die "the secret appears in the error"
expect_fail 4 "credentials were refused" env AWS_ACCESS_KEY_ID=NOBODY "$ST" --endpoint "$S3_ENDPOINT" "$B" get data/r5m
expect_fail 3 'bucket "nosuchbucket" does not exist' s3 s3://nosuchbucket/x ls
expect_fail 3 'bucket "nosuchbucket" does not exist' s3 s3://nosuchbucket/x get a/b
expect_fail 2 "AWS_ACCESS_KEY_ID" env -u AWS_ACCESS_KEY_ID "$ST" --endpoint "$S3_ENDPOINT" "$B" ls

# ------------------------------------------------------------------ through the fault proxy, 30%
start_fault_proxy "$S3_PORT" 0.3 42
PROXY_URL=http://127.0.0.1:$PROXY_PORT
log "fault proxy (30% failures) at $PROXY_URL"
px() { "$ST" --endpoint "$PROXY_URL" --timeout 2 --max-retries 12 --tmp-dir "$W" "$@"; }
check_through_proxy px s3 "$B" r5m "0 1" "4999999 1" "1000 100000" "0 5000000"
head -c $((24 << 20)) "$W/big" > "$W/b24"
px --multipart-threshold $((8 << 20)) --part-size $((5 << 20)) "$B" put-file data/b24 "$W/b24"
s3 "$B" get data/b24 | cmp - "$W/b24" || die "multipart upload through the proxy differs"
expect_fail 5 "already exists" px "$B" put-if-absent lock2 "$W/x"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
grep -q "faults: reset" "$W/proxy.log" && log "$(tail -1 "$W/proxy.log")"

# ------------------------------------------------------------------ 100% failures
start_fault_proxy "$S3_PORT" 1 7
PROXY_URL=http://127.0.0.1:$PROXY_PORT
log "fault proxy (100% failures) at $PROXY_URL"
pf() { "$ST" --endpoint "$PROXY_URL" --timeout 1 --max-retries 2 --tmp-dir "$W" "$@"; }
check_total_failure pf "$B" "0 100"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
log "$(tail -1 "$W/proxy.log")"

s3 "$B" ls-r > /dev/null
log "pass"
