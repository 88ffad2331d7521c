#!/usr/bin/env bash
# scripts/demo.sh — the README's demo: generate a real PGDATA (PostgreSQL 15, pgbench scale 1,
# with a second database, TOAST, a tablespace and a prepared transaction), import it into Neon's
# remote-storage layout, verify the result against the source, and show the first layer.
# Run through `make demo` (which installs dependencies and builds first).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BIN=${PGDATA2LAYERS_BIN:-$ROOT/build/release/pgdata2layers}
OUT=${DEMO_DIR:-$(mktemp -d /var/tmp/p2l-demo.XXXXXX)}
mkdir -p "$OUT"; chmod 755 "$OUT"
echo "demo: building a PGDATA in $OUT/src (PostgreSQL 15, pgbench scale 1)" >&2
PGDATA=$("$ROOT/scripts/make-pgdata.sh" 15 1 "$OUT/src" | tail -1)
TENANT=00112233445566778899aabbccddeeff TIMELINE=0f1e2d3c4b5a69788796a5b4c3d2e1f0
echo "demo: importing $PGDATA -> $OUT/layers" >&2
"$BIN" import --source "$PGDATA" --dest "$OUT/layers" --tenant-id $TENANT --timeline-id $TIMELINE
echo "demo: verifying against the source" >&2
"$BIN" verify --dest "$OUT/layers" --tenant-id $TENANT --timeline-id $TIMELINE --source "$PGDATA"
"$BIN" status --dest "$OUT/layers" --tenant-id $TENANT --timeline-id $TIMELINE
echo "demo: output in $OUT/layers/tenants/$TENANT/timelines/$TIMELINE:" >&2
ls -l "$OUT/layers/tenants/$TENANT/timelines/$TIMELINE"
