#!/usr/bin/env bash
# `plan` (dry run) matches what `import` writes (issue #8), PostgreSQL 15 tiny PGDATA:
#   - unsharded: the plan's layer_file of every non-empty job = the layer files in the timeline
#     directory after the import, and its base LSN / job count = the import's "plan" event;
#   - 4 shards (--all-shards: one plan per shard): the same for an import of shard 2 of 4;
#   - plan writes nothing (the source tree is unchanged, no destination).
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
TENANT=5c0ffee0000000000000000000000009
TL=0badcafe000000000000000000000009
SRC=$(PGTEST_TINY=1 pgdata_ref 15 1)/pgdata
# the per-shard status objects go here, not into the (shared, read-only) source
export PGDATA2LAYERS_STATUS_DEST=$T/status
snapshot() { (cd "$1" && find . -printf '%p %s %T@\n' | LC_ALL=C sort); }
snapshot "$SRC" > "$T/src.before"

"$P2L_BIN" plan --source "$SRC" --soft-size-limit 2MiB --json > "$T/plan0.json"
"$P2L_BIN" plan "$SRC" --soft-size-limit 2MiB > "$T/plan0.txt"      # text form (positional source)
"$P2L_BIN" plan --source "$SRC" --soft-size-limit 2MiB --shard-count 4 --all-shards --json > "$T/plan4.json"
"$P2L_BIN" plan --source "$SRC" --soft-size-limit 2MiB --shard-count 4 --all-shards > "$T/plan4.txt"
grep -q '^estimated bytes per shard:' "$T/plan4.txt" || die "no per-shard estimate in the text plan"
[ "$(grep -c '^  shard 0[0-3]04: ' "$T/plan4.txt")" = 4 ] || die "per-shard lines missing: $(tail -5 "$T/plan4.txt")"

"$P2L_BIN" import --source "$SRC" --dest "$T/d0" --tenant-id "$TENANT" --timeline-id "$TL" \
  --soft-size-limit 2MiB --json > "$T/imp0.json" 2> "$T/imp0.err" || die "unsharded import failed: $(tail -3 "$T/imp0.err")"
"$P2L_BIN" import --source "$SRC" --dest "$T/d4" --tenant-id "$TENANT" --timeline-id "$TL" \
  --soft-size-limit 2MiB --shard-count 4 --shard-number 2 --json > "$T/imp4.json" 2> "$T/imp4.err" \
  || die "shard import failed: $(tail -3 "$T/imp4.err")"
snapshot "$SRC" > "$T/src.after"
assert_files_equal "$T/src.before" "$T/src.after"

python3 - "$T" "$TENANT" "$TL" <<'EOF'
import json, os, sys
T, tenant, tl = sys.argv[1:4]
def events(path):
    return [json.loads(l) for l in open(os.path.join(T, path))]
def check(plan, imp_events, dest, tenant_dir):
    files = set(os.listdir(os.path.join(dest, "tenants", tenant_dir, "timelines", tl)))
    layers = {f for f in files if not f.startswith("index_part.json")}
    want = {j["layer_file"] for j in plan["jobs"] if j["layer_file"]}
    assert layers == want, ("layers differ", sorted(layers ^ want))
    assert plan["layer_count"] == len(want) > 0
    (p,) = [e for e in imp_events if e["event"] == "plan"]
    assert p["jobs"] == plan["job_count"], (p["jobs"], plan["job_count"])
    assert p["base_lsn"].upper() == plan["base_lsn"].upper(), (p["base_lsn"], plan["base_lsn"])
    assert p["fingerprint"].lower() == plan["fingerprint"].lower(), (p["fingerprint"], plan["fingerprint"])
    return len(want)
(plan0,) = events("plan0.json")
n0 = check(plan0, events("imp0.json"), os.path.join(T, "d0"), tenant)
plans4 = events("plan4.json")
assert [p["shard"]["index"] for p in plans4] == ["0004", "0104", "0204", "0304"], [p["shard"] for p in plans4]
n4 = check(plans4[2], events("imp4.json"), os.path.join(T, "d4"), tenant + "-0204")
# per-shard estimates add up to at least the unsharded pages (global keys are on every shard)
assert sum(p["total_pages_on_shard"] for p in plans4) >= plan0["total_pages_on_shard"]
assert all(p["total_estimated_shard_bytes"] == 8192 * p["total_pages_on_shard"] for p in plans4)
print("unsharded: %d layers, shard 0204: %d layers" % (n0, n4))
EOF
grep -q "^job 1: 000000000000000000000000000000000000-" "$T/plan0.txt" || die "text plan lacks job lines: $(head -12 "$T/plan0.txt")"
log "ok"
