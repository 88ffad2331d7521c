#!/usr/bin/env bash
# t_s3_errors.sh — what `import` (and verify/inspect) say when an S3 source or destination is
# wrong, against the SigV4-verifying S3 server. Each case must fail at once with a clear error
# naming what is wrong, and the secret key must never appear in the output (text or --json):
#   wrong secret, unknown access key, no credentials, missing source bucket, missing destination
#   bucket, a prefix with nothing under it, a marker that is absent / says done=false / is not
#   JSON; --wait-for-pgdata=3s on a marker that never appears → exit 6 (timeout) with a clear
#   message and nothing written to the destination. No PGDATA is needed: every case fails before
#   the import reads relation data.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"
need_bin
s3_setup
log "S3 server at $S3_ENDPOINT"
T=$P2L_TEST_DIR
TENANT=8f2c0c6e1d3b4a5f9e7d6c5b4a392817
TL=1a2b3c4d5e6f708192a3b4c5d6e7f801

# the importer with fixed ids; add --source SRC --dest DEST [flags]
IMP=("$P2L_BIN" import --tenant-id "$TENANT" --timeline-id "$TL" --endpoint "$S3_ENDPOINT" --max-retries 2)

# A prefix with the start of an upload (no marker yet).
echo 15 > "$T/PG_VERSION"
awscp "$T/PG_VERSION" s3://src/pending/pgdata/PG_VERSION

log "credentials"
expect_fail 4 "credentials were refused" env AWS_SECRET_ACCESS_KEY=wrong-secret-x1 "${IMP[@]}" --source s3://src/pending --dest "$T/d"
if grep -q wrong-secret-x1 "$T/both"; then die "the wrong secret appears in the error"; fi
expect_fail 4 "credentials were refused" env AWS_SECRET_ACCESS_KEY=wrong-secret-x1 "${IMP[@]}" --source s3://src/pending --dest "$T/d" --json
if grep -q wrong-secret-x1 "$T/both"; then die "the wrong secret appears in the --json error"; fi
expect_fail 4 "credentials were refused" env AWS_ACCESS_KEY_ID=NOBODY "${IMP[@]}" --source s3://src/pending --dest "$T/d"
expect_fail 2 "AWS_ACCESS_KEY_ID" env -u AWS_ACCESS_KEY_ID "${IMP[@]}" --source s3://src/pending --dest "$T/d"
expect_fail 4 "credentials were refused" env AWS_SECRET_ACCESS_KEY=wrong-secret-x1 \
  "$P2L_BIN" inspect s3://dst/some/layer --endpoint "$S3_ENDPOINT" --max-retries 1

log "missing buckets"
expect_fail 3 'bucket "nosuchsrc" does not exist' "${IMP[@]}" --source s3://nosuchsrc/db --dest "$T/d"
expect_fail 3 'bucket "nosuchdst" does not exist' "${IMP[@]}" --source s3://src/pending --dest s3://nosuchdst/ps
expect_fail 3 'bucket "nosuchdst" does not exist' \
  "$P2L_BIN" verify s3://nosuchdst/ps --endpoint "$S3_ENDPOINT" --max-retries 1

log "missing prefix"
expect_fail 3 "s3://src/no/such/prefix: nothing is stored under this prefix" "${IMP[@]}" --source s3://src/no/such/prefix --dest "$T/d"

log "marker absent, not done, malformed"
expect_fail 3 "s3://src/pending/status/pgdata does not exist.*--wait-for-pgdata" "${IMP[@]}" --source s3://src/pending --dest "$T/d"
s3_put_marker src/pending '{"done": false}'
expect_fail 3 'status/pgdata says {"done": false}' "${IMP[@]}" --source s3://src/pending --dest "$T/d"
s3_put_marker src/pending 'done'
expect_fail 3 "s3://src/pending/status/pgdata" "${IMP[@]}" --source s3://src/pending --dest "$T/d"
if [ -e "$T/d" ] && [ -n "$(find "$T/d" -name 'index_part*')" ]; then die "an index_part was written"; fi

log "--wait-for-pgdata=3s on a marker that never appears: exit 6"
start=$(date +%s)
expect_fail 6 "s3://src/late/status/pgdata: still absent after waiting 3 s" \
  "${IMP[@]}" --source s3://src/late --dest s3://dst/late --wait-for-pgdata=3s --json
took=$(( $(date +%s) - start ))
[ "$took" -le 20 ] || die "the 3 s wait took $took s"
grep -q '"event":"waiting_for_pgdata"' "$T/out" || die "no waiting_for_pgdata event"
grep -q '"code":6' "$T/out" || die "the --json error does not carry code 6"
if [ -n "$(awscli s3 ls --recursive s3://dst/late/ 2>/dev/null)" ]; then die "the timed-out import wrote to the destination"; fi
log "pass"
