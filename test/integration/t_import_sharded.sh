#!/usr/bin/env bash
# scripts/import-sharded.sh (issue #8) on a real PostgreSQL 15 PGDATA (tiny), 4 shards:
#   - runs the 4 shards in parallel, prints the combined status and a final table, exits 0;
#   - produces the same files as running the 4 shards one by one: same file set, byte-identical
#     layers, index_part.json equal except the import's start/finish timestamps;
#   - a rerun reports every shard "already complete"; a failing shard makes the script exit
#     with that shard's code.
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
TENANT=5c0ffee000000000000000000000000a
TL=0badcafe00000000000000000000000a
SRC=$(PGTEST_TINY=1 pgdata_ref 15 1)/pgdata
# the per-shard status objects go here, not into the (shared, read-only) source
export PGDATA2LAYERS_STATUS_DEST=$T/status
FLAGS=(--source "$SRC" --tenant-id "$TENANT" --timeline-id "$TL" --soft-size-limit 2MiB --jobs 1)

PGDATA2LAYERS_BIN=$P2L_BIN "$P2L_ROOT/scripts/import-sharded.sh" --shards 4 --interval 0.5 --log-dir "$T/logs" \
  -- "${FLAGS[@]}" --dest "$T/par" > "$T/par.out" 2> "$T/par.err" \
  || { cat "$T/par.out" "$T/par.err" >&2; die "import-sharded.sh failed"; }
cat "$T/par.out" >&2
grep -q "^all 4 shards done: tenant $TENANT timeline $TL" "$T/par.out" || die "no final line"
for s in 0004 0104 0204 0304; do
  grep -Eq "^$s +0 +[0-9]+ +[0-9]+ " "$T/par.out" || die "no result row for shard $s"
  [ -s "$T/logs/shard-$s.json" ] || die "no event log for shard $s"
done

for i in 0 1 2 3; do
  "$P2L_BIN" import "${FLAGS[@]}" --dest "$T/seq" --shard-count 4 --shard-number "$i" 2> "$T/seq$i.err" \
    || die "sequential shard $i failed: $(tail -3 "$T/seq$i.err")"
done

python3 - "$T/par" "$T/seq" <<'EOF'
import json, os, sys
a, b = sys.argv[1:3]
def files(root):
    out = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            out[os.path.relpath(os.path.join(d, f), root)] = os.path.join(d, f)
    return out
fa, fb = files(a), files(b)
assert set(fa) == set(fb), sorted(set(fa) ^ set(fb))
def norm_index(path):
    j = json.load(open(path))
    ip = j.get("import_pgdata", {}).get("V1", {})
    for state in ip.values():
        if isinstance(state, dict):
            for k in ("started_at", "finished_at"):
                state.pop(k, None)
    return j
nlayers = 0
for rel in sorted(fa):
    if os.path.basename(rel).startswith("index_part.json"):
        assert norm_index(fa[rel]) == norm_index(fb[rel]), rel
    else:
        assert open(fa[rel], "rb").read() == open(fb[rel], "rb").read(), rel
        nlayers += 1
assert sum(1 for r in fa if r.startswith("tenants/") and "index_part.json" in r) == 4, sorted(fa)
print("identical: %d files, %d layers" % (len(fa), nlayers))
EOF

# rerun: already complete everywhere
PGDATA2LAYERS_BIN=$P2L_BIN "$P2L_ROOT/scripts/import-sharded.sh" --shards 4 --log-dir "$T/logs2" \
  -- "${FLAGS[@]}" --dest "$T/par" > "$T/rerun.out" 2>&1 || die "rerun failed: $(cat "$T/rerun.out")"
[ "$(grep -c 'ok (already complete)' "$T/rerun.out")" = 4 ] || die "rerun: $(cat "$T/rerun.out")"

# a failing shard: exit code of that shard, summary says FAILED
set +e
PGDATA2LAYERS_BIN=$P2L_BIN "$P2L_ROOT/scripts/import-sharded.sh" --shards 2 --log-dir "$T/logs3" \
  -- --source "$T/no-such-pgdata" --dest "$T/bad" > "$T/bad.out" 2>&1
rc=$?
set -e
[ "$rc" = 3 ] || die "failing shards: exit $rc, expected 3: $(cat "$T/bad.out")"
grep -q 'FAILED' "$T/bad.out" || die "no FAILED row: $(cat "$T/bad.out")"
log "ok"
