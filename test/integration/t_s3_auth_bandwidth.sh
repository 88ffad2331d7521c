#!/usr/bin/env bash
# t_s3_auth_bandwidth.sh — S3 features checked on the wire / by the clock, against the
# SigV4-verifying S3 server (scripts/s3-server.sh) and a tiny PostgreSQL 15 PGDATA:
#   - AWS_SESSION_TOKEN (temporary credentials): every request of an import into S3, seen through
#     test/tools/fault_proxy --log-heads, carries X-Amz-Security-Token with the token, and the
#     header is covered by the signature (listed in the Authorization's SignedHeaders, which the
#     server verifies); the import succeeds;
#   - --max-bandwidth (per remote storage, downloads and uploads; local paths are not capped): an
#     import into S3 capped at 8 MiB/s takes at least (layer bytes / cap - 1 s of burst) and writes
#     the same objects as the uncapped import (ETags compared; index_part without timestamps and
#     plan fingerprint); and an import FROM S3 capped the same way takes at least (source bytes /
#     cap - 1 s) and writes the same layers as a local -> local import of the same PGDATA. Only a
#     lower bound is checked, never an upper one, so a loaded machine cannot make it fail;
#   - --source-endpoint/--source-region and --dest-endpoint/--dest-region: S3 -> S3 with the shared
#     --endpoint pointing nowhere, source and destination each through its own logging proxy: every
#     request of the import and of `verify --source` reaches the proxy of its side, signed for its
#     side's region, and the layers equal those of a local -> local import;
#   - --source-env-prefix/--dest-env-prefix: S3 -> S3 between two servers that each know only
#     their own key, plain AWS_* unset, SRC_AWS_* and DST_AWS_* set: import and verify succeed,
#     layers equal the local import; swapped prefixes are refused (exit 4, naming the variables);
#     a prefix whose variables are unset is exit 2 (the plain names are no fallback).
# The PGDATA is the tiny one (pg_wal/ is not uploaded: the import does not read it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"
T=$P2L_TEST_DIR
need_bin
SRC=$(PGTEST_TINY=1 pgdata_ref 15 1)/pgdata
s3_setup
TENANT=3c1d5e7f9a2b4c6d8e0f1a2b3c4d5e6f TL=0f1e2d3c4b5a69788796a5b4c3d2e1f0
# imp NAME SRC DEST [flags...]: import with fixed ids and key, --json summary in $T/NAME.json
imp() {
  local name=$1 src=$2 dest=$3; shift 3
  "$P2L_BIN" import --source "$src" --dest "$dest" --tenant-id "$TENANT" --timeline-id "$TL" \
    --idempotency-key t-s3-auth-bandwidth --soft-size-limit 4MiB --jobs 2 --endpoint "$S3_ENDPOINT" --json "$@" \
    > "$T/$name.json" 2> "$T/$name.err" || { tail -5 "$T/$name.err" >&2; die "import $name failed"; }
}
summary() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    j = json.loads(l)
    if j.get("event") == "summary": print(j[sys.argv[2]])' "$T/$1.json" "$2"; }
# objects NAME: one line per object under s3://dst/NAME (test/tools/storage_tool): name, size and
# version (the ETag, an md5 of the content); index_part.json instead fetched and printed without
# its run-dependent fields (norm_tree)
objects() {
  local st dir name
  st=$(need_tool storage_tool)
  "$st" --endpoint "$S3_ENDPOINT" "s3://dst/$1" ls-r > "$T/$1.list"
  for dir in $(awk '{print $1}' "$T/$1.list" | xargs -n1 dirname | sort -u); do
    "$st" --endpoint "$S3_ENDPOINT" "s3://dst/$1" ls "$dir" | grep '^obj ' | grep -v index_part.json
  done
  for name in $(awk '{print $1}' "$T/$1.list" | grep index_part.json); do
    mkdir -p "$(dirname "$T/$1.idx/$name")"
    "$st" --endpoint "$S3_ENDPOINT" "s3://dst/$1" get "$name" > "$T/$1.idx/$name"
  done
  norm_tree "$T/$1.idx"
}

FP=$(need_tool fault_proxy)
# logging_proxy NAME: a fault-free fault_proxy in front of the S3 server that appends every request
# head to $T/NAME.heads; sets PORT
logging_proxy() {
  "$FP" --upstream "127.0.0.1:$S3_PORT" --port-file "$T/$1.port" --log-heads "$T/$1.heads" --max-seconds 600 \
    > /dev/null 2> "$T/$1.err" &
  track_pid $!
  for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
  [ -s "$T/$1.port" ] || die "fault_proxy did not start: $(cat "$T/$1.err")"
  PORT=$(cat "$T/$1.port")
}

# ------------------------------------------------------------------ AWS_SESSION_TOKEN on the wire
log "AWS_SESSION_TOKEN: local -> S3 through the logging proxy"
TOKEN="FwoGZXIvYXdzEJr//////////wEaDP2LsessionTokenTest+/="
logging_proxy token
AWS_SESSION_TOKEN=$TOKEN S3_ENDPOINT=http://127.0.0.1:$PORT imp token "$SRC" s3://dst/token
python3 - "$T/token.heads" "$TOKEN" <<'EOF' || die "session token check failed"
import re, sys
heads = [h for h in open(sys.argv[1], "rb").read().decode().split("\r\n\r\n") if h.strip()]
token = sys.argv[2]
methods = {}
for h in heads:
    lines = h.split("\r\n")
    hdr = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdr[k.strip().lower()] = v.strip()
    what = lines[0]
    if hdr.get("x-amz-security-token") != token:
        sys.exit(f"no X-Amz-Security-Token with the token in: {what}")
    m = re.search(r"SignedHeaders=([^,]+)", hdr.get("authorization", ""))
    if not m or "x-amz-security-token" not in m.group(1).split(";"):
        sys.exit(f"x-amz-security-token is not in SignedHeaders ({m and m.group(1)}) of: {what}")
    methods[what.split()[0]] = methods.get(what.split()[0], 0) + 1
if len(heads) < 10 or "PUT" not in methods:
    sys.exit(f"too few requests seen: {methods}")
print(f"{len(heads)} requests {methods}: all carry the signed token")
EOF
objects token > "$T/ref.objects"
grep -q "index_part.json" "$T/ref.objects" || die "no index_part in the token import"

# ------------------------------------------------------------------ --max-bandwidth
RATE=$((8 << 20))
check_slow() {   # check_slow NAME SECONDS BYTES: SECONDS >= BYTES/RATE - 1
  python3 -c 'import sys
name, took, nbytes, rate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
floor = nbytes / rate - 1.0
print(f"{name}: {nbytes} bytes at {rate} B/s capped took {took:.1f} s (lower bound {floor:.1f} s)")
sys.exit(0 if floor > 1 and took >= floor else 1)' "$@" "$RATE" >&2 || die "$1: --max-bandwidth was not honoured (or too few bytes)"
}
timed_imp() {   # timed_imp NAME ...imp args: prints the seconds it took
  local t0; t0=$(date +%s.%N)
  imp "$@"
  python3 -c 'import sys,time; print(time.time() - float(sys.argv[1]))' "$t0"
}

log "--max-bandwidth: local -> S3 capped at $RATE B/s"
took=$(timed_imp upcap "$SRC" s3://dst/upcap --max-bandwidth 8MiB)
check_slow "S3 destination" "$took" "$(summary upcap bytes)"
objects upcap > "$T/upcap.objects"
assert_files_equal "$T/ref.objects" "$T/upcap.objects"

log "--max-bandwidth: S3 -> local capped at $RATE B/s"
awscp --recursive --exclude 'pg_wal/*' "$SRC" s3://src/bw/pgdata/
s3_put_marker src/bw '{"done": true}'
took=$(timed_imp downcap s3://src/bw "$T/downcap" --max-bandwidth 8MiB --status-dest "$T/status")
check_slow "S3 source" "$took" "$(summary downcap source_bytes)"
imp localref "$SRC" "$T/localref"
norm_tree "$T/localref" > "$T/localref.tree"
norm_tree "$T/downcap" > "$T/downcap.tree"
assert_files_equal "$T/localref.tree" "$T/downcap.tree"

# ------------------------------------------------------------------ per-side endpoint and region
log "--source-endpoint/--source-region, --dest-endpoint/--dest-region: S3 -> S3, each side its own"
logging_proxy srcside; sport=$PORT
logging_proxy dstside; dport=$PORT
"$P2L_BIN" import --source s3://src/bw --dest s3://dst/sides --tenant-id "$TENANT" --timeline-id "$TL" \
  --idempotency-key t-s3-auth-bandwidth --soft-size-limit 4MiB --jobs 2 --status-dest "$T/status" \
  --endpoint http://127.0.0.1:9 --region xx-nowhere-1 \
  --source-endpoint "http://127.0.0.1:$sport" --source-region eu-west-1 \
  --dest-endpoint "http://127.0.0.1:$dport" --dest-region us-west-2 > "$T/sides.json" 2> "$T/sides.err" \
  || { tail -5 "$T/sides.err" >&2; die "import with per-side endpoints failed"; }
# verify reads both sides too: the same flags, the same proxies
"$P2L_BIN" verify --allow-unservable --dest s3://dst/sides --tenant-id "$TENANT" --timeline-id "$TL" --source s3://src/bw \
  --endpoint http://127.0.0.1:9 --region xx-nowhere-1 \
  --source-endpoint "http://127.0.0.1:$sport" --source-region eu-west-1 \
  --dest-endpoint "http://127.0.0.1:$dport" --dest-region us-west-2 > "$T/sides-verify.txt" 2>&1 \
  || { tail -5 "$T/sides-verify.txt" >&2; die "verify with per-side endpoints failed"; }
grep -q "verify: OK: .*identical to the source" "$T/sides-verify.txt" || die "verify: $(tail -3 "$T/sides-verify.txt")"
python3 - "$T/srcside.heads" /src eu-west-1 "$T/dstside.heads" /dst us-west-2 <<'EOF' || die "per-side check failed"
import re, sys
for heads, bucket, region in ((sys.argv[1], sys.argv[2], sys.argv[3]), (sys.argv[4], sys.argv[5], sys.argv[6])):
    reqs = [h for h in open(heads, "rb").read().decode().split("\r\n\r\n") if h.strip()]
    methods = {}
    for h in reqs:
        lines = h.split("\r\n")
        method, target = lines[0].split()[:2]
        if not re.match(re.escape(bucket) + r"([/?]|$)", target):   # path-style: /bucket, /bucket/key, /bucket?...
            sys.exit(f"{heads}: request for another bucket than {bucket}: {lines[0]}")
        auth = next((l for l in lines[1:] if l.lower().startswith("authorization:")), "")
        m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/s3/aws4_request", auth)
        if not m or m.group(1) != region:
            sys.exit(f"{heads}: {lines[0]} signed for region {m and m.group(1)}, expected {region}")
        methods[method] = methods.get(method, 0) + 1
    if len(reqs) < 5:
        sys.exit(f"{heads}: only {len(reqs)} requests")
    print(f"{bucket}: {len(reqs)} requests {methods}, all signed for {region}")
EOF
mkdir -p "$T/sides"
awscp --recursive s3://dst/sides "$T/sides"
norm_tree "$T/sides" > "$T/sides.tree"
assert_files_equal "$T/localref.tree" "$T/sides.tree"

# ------------------------------------------------------------------ per-side credentials
log "--source-env-prefix/--dest-env-prefix: S3 -> S3 between two servers with different keys"
# A second SigV4-verifying server that knows only its own key: each side must sign with its own.
K2=AKIAP2LSECONDSERVER S2=second-server-secret-$RANDOM$RANDOM
out2=$("$P2L_SCRIPTS/s3-server.sh" --port "$(free_port)" --dir "$T/s3b" --bucket other --key "$K2" --secret "$S2") \
  || die "second s3-server.sh failed"
EP2=$(eval "$out2"; echo "$S3_ENDPOINT"); PID2=$(eval "$out2"; echo "$S3_PID"); track_pid "$PID2"
sidecreds() {  # NAME SRCPREFIX DSTPREFIX [flags]: import s3://src/bw (server 1) -> s3://other/NAME (server 2)
  local name=$1 sp=$2 dp=$3; shift 3
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION \
    SRC_AWS_ACCESS_KEY_ID="$S3_KEY_ID" SRC_AWS_SECRET_ACCESS_KEY="$S3_SECRET" \
    DST_AWS_ACCESS_KEY_ID="$K2" DST_AWS_SECRET_ACCESS_KEY="$S2" DST_AWS_REGION=eu-central-1 \
    "$P2L_BIN" "$@" --source s3://src/bw --tenant-id "$TENANT" --timeline-id "$TL" \
    --source-endpoint "$S3_ENDPOINT" --dest-endpoint "$EP2" --source-env-prefix "$sp" --dest-env-prefix "$dp"
}
sidecreds creds SRC_ DST_ import --dest s3://other/creds --idempotency-key t-s3-auth-bandwidth --soft-size-limit 4MiB \
  --jobs 2 --status-dest "$T/status" > "$T/creds.json" 2> "$T/creds.err" \
  || { tail -5 "$T/creds.err" >&2; die "import with per-side credentials failed"; }
sidecreds creds SRC_ DST_ verify --allow-unservable --dest s3://other/creds > "$T/creds-verify.txt" 2>&1 \
  || { tail -5 "$T/creds-verify.txt" >&2; die "verify with per-side credentials failed"; }
grep -q "verify: OK: .*identical to the source" "$T/creds-verify.txt" || die "verify: $(tail -3 "$T/creds-verify.txt")"
mkdir -p "$T/creds"
AWS_ACCESS_KEY_ID=$K2 AWS_SECRET_ACCESS_KEY=$S2 "$AWSCLI" --endpoint-url "$EP2" s3 cp --only-show-errors --recursive \
  s3://other/creds "$T/creds"
norm_tree "$T/creds" > "$T/creds.tree"
assert_files_equal "$T/localref.tree" "$T/creds.tree"
# Swapped: each server refuses the other's key; the error names the (prefixed) variables read.
rc=0; sidecreds swapped DST_ SRC_ import --dest s3://other/swapped --status-dest "$T/status" > "$T/swap.out" 2>&1 || rc=$?
assert_eq "swapped credentials: exit code" 4 "$rc"
grep -Eq "credentials were refused .*check (SRC|DST)_AWS_ACCESS_KEY_ID, (SRC|DST)_AWS_SECRET_ACCESS_KEY" "$T/swap.out" \
  || die "the refused-credentials error does not name the prefixed variables: $(tail -2 "$T/swap.out")"
if grep -qF -e "$S2" -e "$S3_SECRET" "$T/swap.out" "$T/creds.err" "$T/creds-verify.txt"; then die "a secret appears in the output"; fi
# No plain variable is a fallback for a prefixed side.
rc=0; sidecreds nofallback NONE_ DST_ import --dest s3://other/nofallback > "$T/nf.out" 2>&1 || rc=$?
assert_eq "unset prefixed credentials: exit code" 2 "$rc"
grep -q "set NONE_AWS_ACCESS_KEY_ID and NONE_AWS_SECRET_ACCESS_KEY" "$T/nf.out" || die "no-credentials error: $(tail -2 "$T/nf.out")"
rc=0; "$P2L_BIN" import --source s3://src/bw --dest "$T/x" --source-env-prefix 'BAD-' > "$T/bad.out" 2>&1 || rc=$?
assert_eq "bad prefix: exit code" 2 "$rc"
grep -q -- "--source-env-prefix" "$T/bad.out" || die "bad prefix error: $(cat "$T/bad.out")"
log "per-side credentials: each server saw only its own key; layers equal the local import; swapped keys refused (exit 4)"
log "ok"
