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
# slice FILE OFFSET LEN: those bytes of FILE
slice() { dd if="$1" bs=64K iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }
# expect_fail CODE PATTERN CMD...: CMD must exit with CODE and print PATTERN on stderr
expect_fail() {
  local code=$1 pat=$2 rc=0; shift 2
  "$@" >"$W/out" 2>"$W/err" || rc=$?
  [ "$rc" = "$code" ] || { cat "$W/err" >&2; die "'$*' exited $rc, expected $code"; }
  grep -q -- "$pat" "$W/err" || { cat "$W/err" >&2; die "'$*': error does not mention '$pat'"; }
  log "expected failure ($code): $(head -c 300 "$W/err")"
}

# ------------------------------------------------------------------ pagination
log "1500 objects + 2 sub-directories"
s3 "$B" put-many many 1500
echo x > "$W/x"
s3 "$B" put many/sub1/x "$W/x"
s3 "$B" put many/sub2/deeper/y "$W/x"
s3 "$B" ls many/ > "$W/ls"
assert_eq "objects listed" 1500 "$(grep -c '^obj ' "$W/ls")"
assert_eq "prefixes listed" "dir many/sub1/ dir many/sub2/" "$(grep '^dir ' "$W/ls" | tr '\n' ' ' | sed 's/ $//')"
grep '^obj ' "$W/ls" | awk '{print $2}' > "$W/names"
LC_ALL=C sort -c "$W/names" || die "listing not in byte order"
assert_eq "first/last" "many/obj-00000 many/obj-01499" "$(head -1 "$W/names") $(tail -1 "$W/names")"
s3 "$B" ls-r many/ > "$W/lsr"
assert_eq "recursive count" 1502 "$(wc -l < "$W/lsr")"
assert_eq "root listing" "dir many/" "$(s3 "$B" ls)"

# ------------------------------------------------------------------ ranged reads
log "ranged reads"
head -c 5000000 /dev/urandom > "$W/r5m"
s3 "$B" put-file data/r5m "$W/r5m"
assert_eq "stat size" 5000000 "$(s3 "$B" stat data/r5m | awk '{print $2}')"
for range in "0 1" "4999999 1" "1000 100000" "123457 3000000" "0 5000000"; do
  set -- $range
  s3 "$B" get data/r5m "$1" "$2" > "$W/got"
  slice "$W/r5m" "$1" "$2" > "$W/want"
  assert_files_equal "$W/want" "$W/got"
done
s3 --chunk 65536 "$B" get data/r5m > "$W/got"
assert_files_equal "$W/r5m" "$W/got"

# ------------------------------------------------------------------ multipart
log "100 MiB multipart upload (16 MiB parts)"
head -c $((100 << 20)) /dev/urandom > "$W/big"
s3 --multipart-threshold $((64 << 20)) --part-size $((16 << 20)) "$B" put-file data/big "$W/big"
assert_eq "multipart size" $((100 << 20)) "$(s3 "$B" stat data/big | awk '{print $2}')"
s3 "$B" get data/big | cmp - "$W/big" || die "multipart object differs"
for f in "$W"/p2l-s3-stage.*; do if [ -e "$f" ]; then die "staging file left behind: $f"; fi; done

# ------------------------------------------------------------------ small operations
s3 "$B" put-if-absent lock "$W/x"
expect_fail 5 "already exists" s3 "$B" put-if-absent lock "$W/x"
s3 "$B" delete lock
expect_fail 3 "no such object" s3 "$B" stat lock
s3 "$B" delete lock   # absent: not an error
ver=$(s3 "$B" stat data/r5m | awk '{print $3}')
s3 --expect-size 5000000 --expect-version "$ver" "$B" get data/r5m 0 10 > /dev/null
expect_fail 7 "changed since planning" s3 --expect-size 5000000 --expect-version '"0000"' "$B" get data/r5m 0 10
expect_fail 7 "changed since planning" s3 --expect-size 4999999 "$B" get data/r5m 0 10

# ------------------------------------------------------------------ clear errors
expect_fail 4 "credentials were refused" env AWS_SECRET_ACCESS_KEY=wrong-secret "$ST" --endpoint "$S3_ENDPOINT" "$B" ls
grep -q wrong-secret "$W/err" && die "the secret appears in the error"
expect_fail 4 "credentials were refused" env AWS_ACCESS_KEY_ID=NOBODY "$ST" --endpoint "$S3_ENDPOINT" "$B" get data/r5m
expect_fail 3 'bucket "nosuchbucket" does not exist' s3 s3://nosuchbucket/x ls
expect_fail 3 'bucket "nosuchbucket" does not exist' s3 s3://nosuchbucket/x get a/b
expect_fail 2 "AWS_ACCESS_KEY_ID" env -u AWS_ACCESS_KEY_ID "$ST" --endpoint "$S3_ENDPOINT" "$B" ls

# ------------------------------------------------------------------ through the fault proxy, 30%
start_proxy() {  # start_proxy RATE SEED → sets PROXY_URL
  rm -f "$W/proxy.port"
  "$FP" --upstream "127.0.0.1:$S3_PORT" --port-file "$W/proxy.port" --fail-rate "$1" --seed "$2" \
        --stall-seconds 4 --max-seconds 900 >/dev/null 2>>"$W/proxy.log" &
  PROXY_PID=$!
  track_pid "$PROXY_PID"
  for _ in $(seq 50); do [ -s "$W/proxy.port" ] && break; sleep 0.1; done
  [ -s "$W/proxy.port" ] || die "fault_proxy did not start"
  PROXY_URL=http://127.0.0.1:$(cat "$W/proxy.port")
}
start_proxy 0.3 42
log "fault proxy (30% failures) at $PROXY_URL"
px() { "$ST" --endpoint "$PROXY_URL" --timeout 2 --max-retries 12 --tmp-dir "$W" "$@"; }
px "$B" ls many/ > "$W/ls2"
assert_files_equal "$W/ls" "$W/ls2"
px "$B" ls-r many/ > "$W/lsr2"
assert_files_equal "$W/lsr" "$W/lsr2"
for range in "0 1" "4999999 1" "1000 100000" "0 5000000"; do
  set -- $range
  px --chunk 500000 "$B" get data/r5m "$1" "$2" > "$W/got"
  slice "$W/r5m" "$1" "$2" > "$W/want"
  assert_files_equal "$W/want" "$W/got"
done
head -c $((24 << 20)) "$W/big" > "$W/b24"
px --multipart-threshold $((8 << 20)) --part-size $((5 << 20)) "$B" put-file data/b24 "$W/b24"
s3 "$B" get data/b24 | cmp - "$W/b24" || die "multipart upload through the proxy differs"
px "$B" put-many viaproxy 60
assert_eq "objects put through the proxy" 60 "$(s3 "$B" ls viaproxy/ | grep -c '^obj ')"
px "$B" put-if-absent lock2 "$W/x"
expect_fail 5 "already exists" px "$B" put-if-absent lock2 "$W/x"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
grep -q "faults: reset" "$W/proxy.log" && log "$(tail -1 "$W/proxy.log")"

# ------------------------------------------------------------------ 100% failures
start_proxy 1 7
log "fault proxy (100% failures) at $PROXY_URL"
pf() { "$ST" --endpoint "$PROXY_URL" --timeout 1 --max-retries 2 --tmp-dir "$W" "$@"; }
expect_fail 4 "gave up after 3 attempts\|HTTP 50[03]" pf "$B" ls many/
expect_fail 4 "gave up after 3 attempts\|HTTP 50[03]" pf "$B" get data/r5m 0 100
expect_fail 4 "gave up after 3 attempts\|HTTP 50[03]" pf "$B" put y "$W/x"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
log "$(tail -1 "$W/proxy.log")"

s3 "$B" ls-r > /dev/null
log "pass"
