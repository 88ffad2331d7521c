#!/usr/bin/env bash
# t_azure_storage.sh — the Azure Blob backend (lib/storage/azure_storage.cc) against Azurite
# (scripts/azurite-server.sh, verifies Shared Key and SAS signatures) through test/tools/storage_tool:
#   pagination over more than 5000 blobs (List Blobs pages hold at most 5000) + sub-directories,
#   ranged reads, a staged upload in many blocks (committed block list checked with an
#   independent curl+openssl Shared Key client), PutIfAbsent, Delete, change detection, odd
#   blob names, wrong key / wrong SAS / missing container / no credentials (clear errors, secrets
#   never printed), the SAS (env and URL query) and connection-string (key and SAS) paths, the
#   https:// URL form and AZURE_STORAGE_ENDPOINT; then through test/tools/fault_proxy with 30%
#   failures (results still correct) and 100% failures (non-zero exit, clear error).
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null || skip "node is not installed (needed for Azurite)"
command -v openssl >/dev/null || skip "openssl is not installed"
ST=$(need_tool storage_tool)
FP=$(need_tool fault_proxy)

start_azurite --container testcontainer
log "Azurite at $AZURE_ENDPOINT"
CONN=$AZURE_STORAGE_CONNECTION_STRING
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_SAS_TOKEN AZURE_STORAGE_ACCESS_KEY AZURE_STORAGE_ENDPOINT
export AZURE_STORAGE_ACCOUNT=$AZURE_ACCOUNT AZURE_STORAGE_KEY=$AZURE_KEY
W=$P2L_TEST_DIR/work
mkdir -p "$W"
B=az://$AZURE_ACCOUNT/testcontainer/t1

az() { "$ST" --endpoint "$AZURE_ENDPOINT" --tmp-dir "$W" "$@"; }
. "$(dirname "$0")/azure_helpers.sh"
# An account SAS (version 2019-12-12 string-to-sign) for the blob service: sas_token PERMISSIONS
sas_token() {
  local sts sig
  sts="$AZURE_ACCOUNT"$'\n'"$1"$'\n'"b"$'\n'"sco"$'\n\n'"2099-01-01T00:00:00Z"$'\n\n'"http,https"$'\n'"2019-12-12"$'\n'
  sig=$(hmac_b64 "$sts" | sed 's/+/%2B/g; s#/#%2F#g; s/=/%3D/g')
  printf 'sv=2019-12-12&ss=b&srt=sco&sp=%s&se=2099-01-01T00:00:00Z&spr=http,https&sig=%s' "$1" "$sig"
}

# ------------------------------------------------------------------ pagination (> 5000 blobs)
log "5100 blobs + 2 sub-directories"
az --concurrency 32 "$B" put-many many 5100
check_pagination az "$B" 5100
grep '^obj ' "$W/ls" | awk '$3 != 14 || $4 !~ /^".+"$/ {print; exit 1}' || die "bad size or ETag in the listing"
assert_eq "content" "many/obj-04321" "$(az "$B" get many/obj-04321)"
# the server really paginated: the first page of the raw listing has a NextMarker
raw_get /testcontainer "restype=container&comp=list&prefix=t1%2Fmany%2F" \
  $'\ncomp:list\nprefix:t1/many/\nrestype:container' > "$W/raw_list"
grep -q '<NextMarker>[^<]' "$W/raw_list" || die "the first raw listing page has no NextMarker"

# ------------------------------------------------------------------ ranged reads
check_ranged_reads az "$B"

# ------------------------------------------------------------------ staged upload in blocks
log "20 MiB + 12345 bytes staged upload in 1 MiB blocks"
head -c $(((20 << 20) + 12345)) /dev/urandom > "$W/big"
az --multipart-threshold $((4 << 20)) --part-size $((1 << 20)) "$B" put-file data/big "$W/big"
assert_eq "block upload size" $(((20 << 20) + 12345)) "$(az "$B" stat data/big | awk '{print $2}')"
az "$B" get data/big | cmp - "$W/big" || die "block-uploaded blob differs"
raw_get /testcontainer/t1/data/big "comp=blocklist&blocklisttype=committed" \
  $'\nblocklisttype:committed\ncomp:blocklist' > "$W/blocks"
assert_eq "committed blocks" 21 "$(committed_blocks testcontainer/t1/data/big)"
assert_eq "block id lengths" 1 "$(grep -o '<Name>[^<]*</Name>' "$W/blocks" | awk '{print length($0)}' | sort -u | wc -l)"
for f in "$W"/p2l-az-stage.*; do if [ -e "$f" ]; then die "staging file left behind: $f"; fi; done
# below the threshold: one Put Blob (no committed blocks listed for it)
az --multipart-threshold $((64 << 20)) "$B" put-file data/r5m-single "$W/r5m"
az "$B" get data/r5m-single | cmp - "$W/r5m" || die "single Put Blob differs"

# ------------------------------------------------------------------ small operations
check_small_ops az "$B" "no such blob" '"0x0000"'
az "$B" put data/r5m "$W/x"   # replaced: a new ETag and size
expect_fail 7 "changed since planning" az --expect-size 5000000 --expect-version "$R5M_VERSION" "$B" get data/r5m 0 10
log "odd blob names"
for n in "sp ace/x y" "plus+sign" "pct%41" "uni/é日本" "q?m&a=b" "t~ (p)*'q'"; do
  printf '%s' "$n" > "$W/n"
  az "$B" put "odd/$n" "$W/n"
  assert_eq "odd name $n" "$n" "$(az "$B" get "odd/$n")"
done
assert_eq "odd names listed" 6 "$(az "$B" ls-r odd/ | wc -l)"
assert_eq "odd prefix listing" "obj uni/é日本 $(printf '%s' 'uni/é日本' | wc -c)" "$(az "$B" ls "odd/uni" | awk '{print $1, $2, $3}' | sed 's#odd/##')"

# ------------------------------------------------------------------ clear errors
expect_fail 4 "credentials were refused" env AZURE_STORAGE_KEY=QUJDRA== "$ST" --endpoint "$AZURE_ENDPOINT" "$B" ls
expect_fail 4 "credentials were refused" env AZURE_STORAGE_KEY=QUJDRA== "$ST" --endpoint "$AZURE_ENDPOINT" "$B" get data/big
grep -q "QUJDRA" "$W/err" && die "the key appears in the error"
expect_fail 2 "not a valid base64" env AZURE_STORAGE_KEY='not base64!' "$ST" --endpoint "$AZURE_ENDPOINT" "$B" ls
grep -q "base64!" "$W/err" && die "the key appears in the error"
expect_fail 3 'container "nosuchcontainer" does not exist in account "devstoreaccount1"' \
  az "az://$AZURE_ACCOUNT/nosuchcontainer/x" ls
expect_fail 3 'container "nosuchcontainer" does not exist' az "az://$AZURE_ACCOUNT/nosuchcontainer/x" get a/b
expect_fail 3 'container "nosuchcontainer" does not exist' az "az://$AZURE_ACCOUNT/nosuchcontainer/x" put a/b "$W/x"
expect_fail 2 "AZURE_STORAGE_KEY" env -u AZURE_STORAGE_KEY "$ST" --endpoint "$AZURE_ENDPOINT" "$B" ls
expect_fail 2 "AZURE_STORAGE_ACCOUNT is \"other\"" env AZURE_STORAGE_ACCOUNT=other "$ST" --endpoint "$AZURE_ENDPOINT" "$B" ls
expect_fail 2 "invalid Azure container name" az "az://$AZURE_ACCOUNT/Bad_Container" ls

# ------------------------------------------------------------------ other endpoints and credentials
log "AZURE_STORAGE_ENDPOINT, path-style for a bare 127.0.0.1 endpoint, https:// URL form"
assert_eq "env endpoint" "$(cat "$W/ls")" "$(AZURE_STORAGE_ENDPOINT=$AZURE_ENDPOINT "$ST" "$B" ls many/)"
assert_eq "bare endpoint" "$(cat "$W/ls")" "$("$ST" --endpoint "http://127.0.0.1:$AZURITE_PORT" "$B" ls many/)"
assert_eq "https form" "$(cat "$W/ls")" \
  "$(az "https://$AZURE_ACCOUNT.blob.core.windows.net/testcontainer/t1" ls many/)"

log "SAS token (AZURE_STORAGE_SAS_TOKEN and in the URL)"
SAS=$(sas_token rwdlac)
sas() { env -u AZURE_STORAGE_KEY -u AZURE_STORAGE_ACCOUNT AZURE_STORAGE_SAS_TOKEN="$1" "$ST" --endpoint "$AZURE_ENDPOINT" "${@:2}"; }
assert_eq "SAS listing" "$(cat "$W/ls")" "$(sas "$SAS" "$B" ls many/)"
sas "?$SAS" "$B" put sas/obj "$W/x"
assert_eq "SAS get" x "$(sas "$SAS" "$B" get sas/obj)"
sas "$SAS" "$B" get data/big 1000 20000 > "$W/got"
slice "$W/big" 1000 20000 | cmp - "$W/got" || die "SAS ranged read differs"
sas "$SAS" --multipart-threshold $((1 << 20)) --part-size $((512 << 10)) --tmp-dir "$W" "$B" put-file sas/r5m "$W/r5m"
az "$B" get sas/r5m | cmp - "$W/r5m" || die "SAS block upload differs"
assert_eq "SAS in the URL" "$(cat "$W/ls")" \
  "$(env -u AZURE_STORAGE_KEY "$ST" --endpoint "$AZURE_ENDPOINT" "https://$AZURE_ACCOUNT.blob.core.windows.net/testcontainer/t1?$SAS" ls many/)"
BADSAS=$(sas_token r)   # read-only: writes are refused
expect_fail 4 "lack a permission\|not allowed\|refused" sas "$BADSAS" "$B" put sas/denied "$W/x"
WRONG=${SAS%&sig=*}\&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D
expect_fail 4 "credentials were refused.*AZURE_STORAGE_SAS_TOKEN" sas "$WRONG" "$B" ls
grep -q "AAAAAAAAAAAA" "$W/err" && die "the SAS signature appears in the error"
expect_fail 2 "no sig= parameter" sas "sv=2019-12-12&sp=r" "$B" ls

log "connection strings (AccountKey; BlobEndpoint + SharedAccessSignature)"
cs() { env -u AZURE_STORAGE_KEY -u AZURE_STORAGE_ACCOUNT AZURE_STORAGE_CONNECTION_STRING="$1" "$ST" "${@:2}"; }
assert_eq "connection string" "$(cat "$W/ls")" "$(cs "$CONN" "$B" ls many/)"
assert_eq "SAS connection string" "$(cat "$W/ls")" \
  "$(cs "BlobEndpoint=$AZURE_ENDPOINT;SharedAccessSignature=$SAS" "$B" ls many/)"
expect_fail 2 'is for account "devstoreaccount1", but the URL names account "otheraccount"' \
  cs "$CONN" az://otheraccount/testcontainer ls
expect_fail 4 "credentials were refused.*AZURE_STORAGE_CONNECTION_STRING" \
  cs "DefaultEndpointsProtocol=http;AccountName=$AZURE_ACCOUNT;AccountKey=QUJDRA==;BlobEndpoint=$AZURE_ENDPOINT" "$B" ls
expect_fail 2 "part 2 is not Name=Value" cs "AccountName=$AZURE_ACCOUNT;garbage;AccountKey=$AZURE_KEY" "$B" ls
grep -q "$AZURE_KEY" "$W/err" && die "the key appears in the error"

# ------------------------------------------------------------------ through the fault proxy, 30%
start_fault_proxy "$AZURITE_PORT" 0.3 42
PROXY_EP=http://127.0.0.1:$PROXY_PORT/$AZURE_ACCOUNT
log "fault proxy (30% failures) at $PROXY_EP"
px() { "$ST" --endpoint "$PROXY_EP" --timeout 2 --max-retries 12 --tmp-dir "$W" "$@"; }
check_through_proxy px az "$B" big "0 1" "1000 100000" "0 $(((20 << 20) + 12345))"
head -c $((6 << 20)) "$W/big" > "$W/b6"
px --multipart-threshold $((1 << 20)) --part-size $((256 << 10)) "$B" put-file data/b6 "$W/b6"
az "$B" get data/b6 | cmp - "$W/b6" || die "block upload through the proxy differs"
# other content: a retried attempt that finds the blob with OUR content counts as our own write
echo other > "$W/other"
expect_fail 5 "already exists" px "$B" put-if-absent lock2 "$W/other"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
log "$(tail -1 "$W/proxy.log")"

# ------------------------------------------------------------------ 100% failures
start_fault_proxy "$AZURITE_PORT" 1 7
PROXY_EP=http://127.0.0.1:$PROXY_PORT/$AZURE_ACCOUNT
log "fault proxy (100% failures) at $PROXY_EP"
pf() { "$ST" --endpoint "$PROXY_EP" --timeout 1 --max-retries 2 --tmp-dir "$W" "$@"; }
check_total_failure pf "$B" "0 1"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
log "$(tail -1 "$W/proxy.log")"

log "pass"
