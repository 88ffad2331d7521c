#!/usr/bin/env bash
# Real PGDATA (PostgreSQL 15, scale 1, the shared cached build) -> import unsharded and as 4
# shards with several layers each -> verify --source (every key and byte the source implies, per
# shard) -> verify without a source, one shard only -> inspect a layer -> rerun is a no-op.
. "$(dirname "$0")/lib.sh"
need_bin

W=$P2L_TEST_DIR
PGDATA=$(pgdata_ref 15 1)/pgdata
T=00112233445566778899aabbccddeeff TL=0f1e2d3c4b5a69788796a5b4c3d2e1f0
imp() { "$P2L_BIN" import --source "$PGDATA" --tenant-id $T --timeline-id $TL --soft-size-limit 8MiB --quiet "$@"; }
imp --dest "$W/one"
"$P2L_BIN" verify --allow-unservable --dest "$W/one" --tenant-id $T --timeline-id $TL --source "$PGDATA" >&2
for n in 0 1 2 3; do imp --dest "$W/four" --shard-count 4 --shard-number $n; done
"$P2L_BIN" verify --allow-unservable --dest "$W/four" --tenant-id $T --timeline-id $TL --source "$PGDATA" >&2
"$P2L_BIN" verify --allow-unservable --dest "$W/four" --tenant-id $T --timeline-id $TL --shard-count 4 --shard-number 2 >&2
idx="$W/one/tenants/$T/timelines/$TL/index_part.json-00000001"
# inspect: the summary of a real layer matches its name; its key lines match the key count
layer=$(ls "$W/one/tenants/$T/timelines/$TL/"*__* | head -n1)
"$P2L_BIN" inspect "$layer" > "$W/inspect.txt"
grep -q '^name: *matches the summary (generation 00000001)$' "$W/inspect.txt" || die "inspect: name check: $(head -20 "$W/inspect.txt")"
nkeys=$(sed -n 's/^keys: *//p' "$W/inspect.txt")
assert_eq "inspect: key lines" "$nkeys" "$(grep -cE '^[0-9A-F]{36} ' "$W/inspect.txt")"
"$P2L_BIN" inspect --summary --values "$layer" > /dev/null
log "inspect: $(basename "$layer"): $nkeys keys"
before=$(stat -c %Y.%s "$idx")
imp --dest "$W/one"
assert_eq "index_part after a rerun of a finished import" "$before" "$(stat -c %Y.%s "$idx")"
grep -q '"Done"' "$idx" || die "index_part is not Done"
log "import + verify ok"
