# shellcheck shell=bash
# test/integration/azure_helpers.sh — helpers shared by the Azure tests (t_azure_*.sh). Source it
# after lib.sh and after start_azurite (it needs AZURE_ACCOUNT, AZURE_KEY, AZURE_ENDPOINT):
#   expect_fail, slice                from storage_lib.sh (W must be set)
#   hmac_b64 TEXT                     base64(HMAC-SHA256(account key, TEXT))
#   raw_get PATH QUERY CANON          an independent Shared Key GET (curl + openssl) of
#                                     $AZURE_ENDPOINT$PATH?QUERY; CANON = the canonicalized query
#                                     lines ("\nname:value" sorted), for checks the backend cannot make
#   committed_blocks CONTAINER/BLOB   how many committed blocks the blob has (Get Block List)

. "$(dirname "${BASH_SOURCE[0]}")/storage_lib.sh"   # expect_fail, slice

_azure_hexkey=$(printf '%s' "$AZURE_KEY" | base64 -d | od -An -v -tx1 | tr -d ' \n')
hmac_b64() { printf '%s' "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$_azure_hexkey" -binary | base64 -w0; }

raw_get() {
  local path=$1 query=$2 canon=$3 date sts ep_path
  ep_path=/${AZURE_ENDPOINT#http://*/}
  date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  sts="GET"$'\n\n\n\n\n\n\n\n\n\n\n\n'"x-ms-date:$date"$'\n'"x-ms-version:2021-08-06"$'\n'"/$AZURE_ACCOUNT$ep_path$path$canon"
  curl -sS --max-time 20 -H "x-ms-date: $date" -H "x-ms-version: 2021-08-06" \
    -H "Authorization: SharedKey $AZURE_ACCOUNT:$(hmac_b64 "$sts")" "$AZURE_ENDPOINT$path?$query"
}

committed_blocks() {
  raw_get "/$1" "comp=blocklist&blocklisttype=committed" $'\nblocklisttype:committed\ncomp:blocklist' \
    | grep -o '<Block>' | wc -l
}
