#!/usr/bin/env bash
# Real PGDATA (PostgreSQL 15, scale 1) -> import unsharded and as 4 shards -> verify --source
# (every key and byte the source implies, per shard) -> rerun is a no-op.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
BIN=${PGDATA2LAYERS_BIN:?}
W=$(mktemp -d /var/tmp/p2l-iv.XXXXXX); chmod 755 "$W"; trap 'rm -rf "$W"' EXIT
PGDATA=$(PGTEST_TXNS=0 "$ROOT/scripts/make-pgdata.sh" 15 1 "$W/src" | tail -1)
T=00112233445566778899aabbccddeeff TL=0f1e2d3c4b5a69788796a5b4c3d2e1f0
"$BIN" import --source "$PGDATA" --dest "$W/one" --tenant-id $T --timeline-id $TL --soft-size-limit 8MiB
"$BIN" verify --dest "$W/one" --tenant-id $T --timeline-id $TL --source "$PGDATA"
for n in 0 1 2 3; do
  "$BIN" import --source "$PGDATA" --dest "$W/four" --tenant-id $T --timeline-id $TL \
    --shard-count 4 --shard-number $n --soft-size-limit 8MiB
done
"$BIN" verify --dest "$W/four" --tenant-id $T --timeline-id $TL --source "$PGDATA"
idx="$W/one/tenants/$T/timelines/$TL/index_part.json-00000001"
before=$(stat -c %Y.%s "$idx")
"$BIN" import --source "$PGDATA" --dest "$W/one" --tenant-id $T --timeline-id $TL --soft-size-limit 8MiB
[ "$(stat -c %Y.%s "$idx")" = "$before" ] || { echo "rerun of a finished import modified index_part" >&2; exit 1; }
grep -q '"Done"' "$idx" || { echo "index_part is not Done" >&2; exit 1; }
echo "import + verify ok"
