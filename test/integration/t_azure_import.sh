#!/usr/bin/env bash
# t_azure_import.sh — `pgdata2layers import` with Azure Blob Storage (Azurite) as source and
# destination, on a real PostgreSQL 15 PGDATA (scale 1):
#   - the PGDATA is uploaded to Azurite in the import layout (pgdata/ + status/pgdata) with
#     test/tools/storage_copy; without the marker the import refuses (exit 3);
#   - Azure → local, Azure → Azure (layers uploaded with Put Block + Put Block List, blocks checked
#     with an independent client) and Azure → S3 (s3rver): layer files byte-identical to the local
#     import, index_part equal modulo timestamps; rerun is a no-op; verify and status on az://;
#   - Azure → Azure across two storage accounts (a second account in the same Azurite), each side
#     with its own key via --source-env-prefix/--dest-env-prefix and no plain AZURE_STORAGE_*:
#     same layers; the keys swapped are refused (exit 4);
#   - kill -9 at several moments with an Azure destination, rerun: identical output;
#   - a source blob rewritten between runs (same size, new ETag) → exit 7;
#   - wrong key → exit 4 "credentials were refused", missing container → exit 3, both naming
#     the account/container; keys and secrets never appear in any output.
. "$(dirname "$0")/lib.sh"
need_bin

command -v node >/dev/null || skip "node is not installed (needed for Azurite and s3rver)"
command -v openssl >/dev/null || skip "openssl is not installed"
ST=$(need_tool storage_tool)
CP=$(need_tool storage_copy)

T=$P2L_TEST_DIR
W=$T/work
mkdir -p "$W"
TENANT=5a0c4b2a1f9d8e7c6b5a493827161504
TL=7f1e2d3c4b5a69788796a5b4c3d2e1f0
KEY=azure-import-test   # one idempotency key: index_part of every destination is comparable

# A second storage account with its own key in the same Azurite, for the cross-account import.
K2=$(head -c 32 /dev/urandom | base64 -w0)
start_azurite --container src --container dst --account "p2lacct2:$K2" --container p2lacct2/xdst
start_s3 --bucket dstbucket
. "$(dirname "$0")/azure_helpers.sh"
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_SAS_TOKEN AZURE_STORAGE_ACCESS_KEY
export AZURE_STORAGE_ACCOUNT=$AZURE_ACCOUNT AZURE_STORAGE_KEY=$AZURE_KEY AZURE_STORAGE_ENDPOINT=$AZURE_ENDPOINT
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$S3_ENDPOINT
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION
A=$AZURE_ACCOUNT
SRC=az://$A/src/imp
PG=$(make_pgdata 15 1 "$T/pg")   # private copy: an import writes status/ objects into its source

IMP_PID=
kill_running_import() {
  if [ -n "$IMP_PID" ] && [ "$(cut -d' ' -f4 "/proc/$IMP_PID/stat" 2>/dev/null)" = "$$" ]; then
    kill -9 "$IMP_PID" 2>/dev/null
  fi
  return 0
}
on_exit kill_running_import

FLAGS=(--tenant-id "$TENANT" --timeline-id "$TL" --idempotency-key "$KEY" --soft-size-limit 4MiB --jobs 2
       --tmp-dir "$W" --json)
EXPECT_FAIL_LOG=$W/all.err   # every output goes there: checked for secrets at the end
# run_import SOURCE DEST [flags]; import SOURCE DEST [flags]: the same with events to
# $W/last.json and logs to $W/last.err, both also appended to $W/all.err
run_import() { "$P2L_BIN" import --source "$1" --dest "$2" "${FLAGS[@]}" "${@:3}"; }
import() {
  local rc=0
  run_import "$@" > "$W/last.json" 2> "$W/last.err" || rc=$?
  cat "$W/last.json" "$W/last.err" >> "$W/all.err"
  return "$rc"
}
tlrel() { echo "tenants/$TENANT/timelines/$TL"; }
# same_output REFDIR DIR: same files in the timeline directory, layers byte-identical, index_part
# equal modulo started_at/finished_at and the plan fingerprint
index_without_times() {
  python3 - "$1/$(tlrel)/index_part.json-00000001" <<'EOF'
import json, sys
idx = json.load(open(sys.argv[1]))
assert "Done" in idx["import_pgdata"]["V1"], idx["import_pgdata"]
for v in idx["import_pgdata"]["V1"].values():
    v.pop("started_at", None); v.pop("finished_at", None)
idx["pgdata2layers"].pop("plan_fingerprint")   # covers source object names and versions
print(json.dumps(idx, sort_keys=True))
EOF
}
same_output() {
  local n=0 f
  assert_eq "files in the timeline directory ($2)" "$(ls "$1/$(tlrel)")" "$(ls "$2/$(tlrel)")"
  for f in "$1/$(tlrel)"/*__*; do
    cmp -s "$f" "$2/$(tlrel)/$(basename "$f")" || die "$(basename "$f") in $2 differs from the local import"
    n=$((n + 1))
  done
  assert_eq "index_part modulo timestamps ($2)" "$(index_without_times "$1")" "$(index_without_times "$2")"
  log "$2: $n layers byte-identical to the local import, index_part equal"
}

# ---------------------------------------------------------------- upload in the import layout
"$CP" --follow-symlinks-in pg_tblspc "$PG" "$SRC/pgdata" 2> "$W/copy.err" || { cat "$W/copy.err" >&2; die "upload failed"; }
log "$(cat "$W/copy.err")"

# ---------------------------------------------------------------- reference: local → local
import "$PG" "$T/local" || { cat "$W/last.err" >&2; die "local import failed"; }
nlayers=$(ls "$T/local/$(tlrel)" | grep -c __)
log "local import: $nlayers layers"
[ "$nlayers" -ge 3 ] || die "expected several layers with --soft-size-limit 4MiB"
expect_fail 3 "status/pgdata" run_import "$SRC" "$T/nomarker"
echo '{"done": true}' | "$ST" "$SRC" put status/pgdata -

# ---------------------------------------------------------------- Azure → local
import "$SRC" "$T/a2l" || { cat "$W/last.err" >&2; die "Azure → local import failed"; }
same_output "$T/local" "$T/a2l"

# ---------------------------------------------------------------- Azure → Azure, in blocks
BS=$((1 << 20))
PGDATA2LAYERS_AZURE_BLOCK_SIZE=$BS import "$SRC" "az://$A/dst/ps" \
  || { cat "$W/last.err" >&2; die "Azure → Azure import failed"; }
"$CP" "az://$A/dst/ps" "$T/a2a" 2>/dev/null
same_output "$T/local" "$T/a2a"
big=$(find "$T/a2a/$(tlrel)" -name '*__*' -size +$((2 * BS / 1024))k -printf '%s %f\n' | sort -n | tail -n1)
[ -n "$big" ] || die "no layer larger than 2 blocks"
set -- $big
assert_eq "committed blocks of $2" $((($1 + BS - 1) / BS)) "$(committed_blocks "dst/ps/$(tlrel)/$2")"
log "layer $2 ($1 bytes) was committed as $((($1 + BS - 1) / BS)) blocks"
log "rerun: no-op"
import "$SRC" "az://$A/dst/ps" || die "rerun failed"
grep -q '"already_complete":true' "$W/last.json" || die "rerun did not report already_complete"
"$P2L_BIN" verify --allow-unservable "az://$A/dst/ps" --source "$SRC" --tenant-id "$TENANT" --timeline-id "$TL" > "$W/verify.out" 2>&1 \
  || { cat "$W/verify.out" >&2; die "verify az:// failed"; }
"$P2L_BIN" status --dest "az://$A/dst/ps" --tenant-id "$TENANT" --timeline-id "$TL" > "$W/status.out" 2>&1
grep -q ": done, finished " "$W/status.out" || { cat "$W/status.out" >&2; die "status does not say done"; }
cat "$W/verify.out" "$W/status.out" >> "$W/all.err"

# ---------------------------------------------------------------- Azure → Azure across accounts
# Each side its own key and endpoint (--source-env-prefix/--dest-env-prefix); the plain
# AZURE_STORAGE_* variables are removed, so nothing else can be used. Azurite checks each key.
xacct() {  # SRCPREFIX DSTPREFIX DEST [flags]
  local sp=$1 dp=$2 dest=$3; shift 3
  env -u AZURE_STORAGE_ACCOUNT -u AZURE_STORAGE_KEY -u AZURE_STORAGE_ENDPOINT \
    SRC_AZURE_STORAGE_KEY="$AZURE_KEY" XD_AZURE_STORAGE_KEY="$K2" \
    SRC_AZURE_STORAGE_ENDPOINT="http://127.0.0.1:$AZURITE_PORT" XD_AZURE_STORAGE_ENDPOINT="http://127.0.0.1:$AZURITE_PORT" \
    "$P2L_BIN" import --source "$SRC" --dest "$dest" "${FLAGS[@]}" --source-env-prefix "$sp" --dest-env-prefix "$dp" "$@"
}
xacct SRC_ XD_ az://p2lacct2/xdst/ps > "$W/x.json" 2> "$W/x.err" || { cat "$W/x.err" >&2; die "cross-account import failed"; }
cat "$W/x.err" >> "$W/all.err"
AZURE_STORAGE_ACCOUNT=p2lacct2 AZURE_STORAGE_KEY=$K2 AZURE_STORAGE_ENDPOINT=http://127.0.0.1:$AZURITE_PORT/p2lacct2 \
  "$CP" az://p2lacct2/xdst/ps "$T/xacct" 2>/dev/null
same_output "$T/local" "$T/xacct"
# swapped: each account refuses the other's key (exit 4, naming the prefixed variable)
expect_fail 4 'the Azure credentials were refused.*\(SRC\|XD\)_AZURE_STORAGE_KEY' xacct XD_ SRC_ az://p2lacct2/xdst/swapped
# a side's ACCOUNT variable is checked against its URL, by its prefixed name
xacct_wrong_account() { XD_AZURE_STORAGE_ACCOUNT=devstoreaccount1 xacct SRC_ XD_ az://p2lacct2/xdst/acct; }
expect_fail 2 'XD_AZURE_STORAGE_ACCOUNT is "devstoreaccount1", but the URL names account "p2lacct2"' \
  xacct_wrong_account
log "Azure → Azure across two storage accounts, each side with its own key: same layers; swapped keys refused"

# ---------------------------------------------------------------- Azure → S3
import "$SRC" s3://dstbucket/ps || { cat "$W/last.err" >&2; die "Azure → S3 import failed"; }
"$CP" s3://dstbucket/ps "$T/a2s" 2>/dev/null
same_output "$T/local" "$T/a2s"

# ---------------------------------------------------------------- kill -9 and resume (Azure destination)
D=az://$A/dst/resume
wait_for_event() {  # FILE PATTERN PID: until FILE matches or PID exits; 0 = matched
  while kill -0 "$3" 2>/dev/null; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  grep -q "$2" "$1" 2>/dev/null
}
start_import() {  # DEST EVENTS: background importer with small jobs, frequent checkpoints
  PGDATA2LAYERS_AZURE_BLOCK_SIZE=$((256 << 10)) "$P2L_BIN" import --source "$SRC" --dest "$1" "${FLAGS[@]}" \
    --checkpoint-every 2 > "$2" 2>> "$W/all.err" &
  IMP_PID=$!
}
kill_import() { kill -9 "$IMP_PID" 2>/dev/null || true; wait "$IMP_PID" 2>/dev/null || true; }
start_import "$D" "$W/k0.json"
wait_for_event "$W/k0.json" '"event":"checkpoint"' "$IMP_PID" || die "the first run finished before a checkpoint"
kill_import
log "killed after the first checkpoint"
start_import "$D" "$W/k1.json"
wait_for_event "$W/k1.json" '"skipped":true' "$IMP_PID" || die "the resumed run shows no skipped job"
sleep 0.3
kill_import
log "the resumed run skipped jobs; killed it too"
for i in 2 3; do
  start_import "$D" "$W/k$i.json"
  sleep "0.$((RANDOM % 9 + 1))"
  kill_import
  log "kill $i"
done
import "$SRC" "$D" || { cat "$W/last.err" >&2; die "final resumed run failed"; }
"$CP" "$D" "$T/resumed" 2>/dev/null
same_output "$T/local" "$T/resumed"
"$ST" "$D" ls-r "$(tlrel)/" | grep -v -e '__' -e 'index_part.json' && die "leftover objects after the resume"

# ---------------------------------------------------------------- source changed between runs (ETag)
C=az://$A/dst/changed
start_import "$C" "$W/c0.json"
wait_for_event "$W/c0.json" '"event":"checkpoint"' "$IMP_PID" || die "the run finished before a checkpoint"
kill_import
rel=$("$ST" "$SRC" ls-r pgdata/base/ | sort -k2 -n | tail -n1 | cut -d' ' -f1)
size_before=$("$ST" "$SRC" stat "$rel" | cut -d' ' -f2)
"$ST" "$SRC" get "$rel" > "$W/rel"
"$ST" "$SRC" put-file "$rel" "$W/rel"   # the same bytes again: only the ETag changes
assert_eq "size of the rewritten blob" "$size_before" "$("$ST" "$SRC" stat "$rel" | cut -d' ' -f2)"
log "rewrote $rel ($size_before bytes) with the same content"
expect_fail 7 "" run_import "$SRC" "$C"
grep -q -- "--restart" "$W/err" || die "the error does not suggest --restart: $(tail -n1 "$W/err")"
import "$SRC" "$C" --restart || { cat "$W/last.err" >&2; die "--restart failed"; }

# ---------------------------------------------------------------- clear errors
expect_fail 4 'the Azure credentials were refused.*AZURE_STORAGE_KEY' \
  env AZURE_STORAGE_KEY=QUJDRA== "$P2L_BIN" import --source "$SRC" --dest "$T/wrongkey" "${FLAGS[@]}"
expect_fail 4 'the Azure credentials were refused' \
  env AZURE_STORAGE_KEY=QUJDRA== "$P2L_BIN" import --source "$PG" --dest "az://$A/dst/wrongkey" "${FLAGS[@]}"
expect_fail 3 'container "nosuchcontainer" does not exist in account "devstoreaccount1"' \
  run_import "az://$A/nosuchcontainer/imp" "$T/nocontainer"
expect_fail 3 'container "nosuchcontainer" does not exist in account "devstoreaccount1"' \
  run_import "$PG" "az://$A/nosuchcontainer/ps"

# ---------------------------------------------------------------- secrets never printed
for secret in "$AZURE_KEY" "$K2" "$S3_SECRET_KEY" QUJDRA; do
  if grep -qF -- "$secret" "$W/all.err"; then die "a secret appears in the output"; fi
done
grep -q "SharedKey\|sig=" "$W/all.err" && die "a signature appears in the output"
log "pass"
