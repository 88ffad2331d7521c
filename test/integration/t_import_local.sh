#!/usr/bin/env bash
# `pgdata2layers import` + `status` on a real PostgreSQL 15 PGDATA (scale 1), local destination:
#   - unsharded and 4-shard imports: exit 0, index_part Done with the derived LSNs, every listed
#     layer exists with exactly file_size bytes, no lease or temp file left behind;
#   - a rerun is a no-op (exit 0, "already complete", nothing written: same mtimes);
#   - another --idempotency-key → exit 8;
#   - --no-sync writes the same layers (and a status object) without a single fsync (checked with
#     strace when it can trace);
#   - a real unclean shutdown (immediate stop) is refused (exit 3) unless --allow-unclean-shutdown;
#   - `status` (text and --json) reports every shard.
# Determinism across --jobs: t_determinism; other bad inputs (pg_control damage, file sizes and
# names, an unwritable destination): t_bad_input.
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
TENANT=8f2c0c6e1d3b4a5f9e7d6c5b4a392817
TL=1a2b3c4d5e6f708192a3b4c5d6e7f801
ref=$(pgdata_ref 15 1)
SRC=$ref/pgdata   # read-only: the import only reads its source

# import DEST [flags...] — runs the importer with the fixed ids; stdout (JSON events) to $T/last.json
# (under the command in the array WRAP, when set)
WRAP=()
import() {
  local dest=$1; shift
  "${WRAP[@]}" "$P2L_BIN" import --source "$SRC" --dest "$dest" --tenant-id "$TENANT" --timeline-id "$TL" \
    --soft-size-limit 4MiB --json "$@" > "$T/last.json" 2> "$T/last.err"
}
# snapshot DIR: path, size and mtime of every file
snapshot() { (cd "$1" && find . -type f -printf '%p %s %T@\n' | LC_ALL=C sort); }

# check_index DEST TSID: the index is Done, metadata as the import derives it, layers as listed.
check_index() {
  python3 - "$1" "$2" "$TL" <<'EOF'
import json, os, sys
dest, tsid, tl = sys.argv[1:4]
tldir = os.path.join(dest, "tenants", tsid, "timelines", tl)
idx_path = os.path.join(tldir, "index_part.json-00000001")
idx = json.load(open(idx_path))
ip = idx["import_pgdata"]["V1"]
assert "Done" in ip, ip
md = idx["metadata_bytes"]
def lsn(s):
    hi, lo = s.split("/"); return (int(hi, 16) << 32) | int(lo, 16)
base = lsn(md["initdb_lsn"])
assert lsn(md["disk_consistent_lsn"]) == base + 8 and lsn(idx["disk_consistent_lsn"]) == base + 8
assert lsn(md["prev_record_lsn"]) == base and lsn(md["latest_gc_cutoff_lsn"]) == base
assert md["pg_version"] == 15 and md["ancestor_timeline"] is None
assert idx["version"] == 15 and idx["lineage"] == {}
prog = idx["pgdata2layers"]
assert prog["completed"] == prog["jobs"] > 0, prog
layers = idx["layer_metadata"]
assert layers, "no layers"
shard = tsid[33:] if len(tsid) > 32 else None
names = set()
for name, lm in layers.items():
    assert lm["generation"] == 1, lm
    assert lm.get("shard") == shard, (lm, shard)
    assert name.endswith("__%016X" % base), name
    obj = name + "-00000001"
    size = os.path.getsize(os.path.join(tldir, obj))
    assert size == lm["file_size"] and size % 8192 == 0, (name, size, lm)
    names.add(obj)
others = set(os.listdir(tldir)) - names - {"index_part.json-00000001"}
assert not others, others
print(len(layers), sum(l["file_size"] for l in layers.values()))
EOF
}

# ---------------------------------------------------------------- unsharded
D1=$T/d1
log "unsharded import (--jobs 2)"
import "$D1" --jobs 2 || { cat "$T/last.err" >&2; die "import failed"; }
read -r nl nb < <(check_index "$D1" "$TENANT")
log "index Done: $nl layers, $nb bytes"
[ "$nl" -ge 2 ] || die "expected several layers with --soft-size-limit 4MiB, got $nl"
grep -q '"event":"started"' "$T/last.json" || die "no started event"
grep -q '"event":"plan"' "$T/last.json" || die "no plan event"
grep -q '"event":"done"' "$T/last.json" || die "no done event"
assert_eq "job_done events = layers" "$nl" "$(grep -c '"event":"job_done"' "$T/last.json")"

log "rerun: no-op"
before=$(snapshot "$D1")
import "$D1" --jobs 2 || die "rerun failed"
assert_eq "destination after the rerun" "$before" "$(snapshot "$D1")"
grep -q '"already_complete":true' "$T/last.json" || die "rerun did not report already_complete"
grep -q "already complete" "$T/last.err" || die "rerun did not log 'already complete'"
if grep -q '"event":"plan"' "$T/last.json"; then die "rerun planned (listed the source)"; fi

log "another idempotency key: exit 8"
set +e; import "$D1" --idempotency-key other-key; rc=$?; set -e
assert_eq "exit code" 8 "$rc"
grep -q "different idempotency key" "$T/last.err" || die "no clear conflict message: $(cat "$T/last.err")"
assert_eq "destination after the conflict" "$before" "$(snapshot "$D1")"

log "--no-sync: the same layers, no fsync"
D2=$T/d2
traced=0
if strace -f -o /dev/null true 2>/dev/null; then
  traced=1
  # (LeakSanitizer cannot run under ptrace: no leak check in the traced runs of an ASan build)
  NOLEAK="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
  WRAP=(env "$NOLEAK" strace -f -qq -e trace=fsync,fdatasync,syncfs,sync,sync_file_range -o "$T/nosync.strace")
else
  log "strace cannot trace here: only the output of --no-sync is checked"
fi
import "$D2" --jobs 2 --no-sync --status-dest "$T/nosync-status" || { cat "$T/last.err" >&2; die "import --no-sync failed"; }
[ -s "$T/nosync-status/status/shard-0000" ] || die "no status object written with --no-sync"
grep -q -- "--no-sync: the layers and index are not fsynced" "$T/last.err" || die "no --no-sync notice: $(cat "$T/last.err")"
if [ "$traced" = 1 ]; then
  if grep 'sync' "$T/nosync.strace" | head -5 >&2; then die "import --no-sync synced"; fi
  # the check itself works: it sees the durable import sync
  WRAP=(env "$NOLEAK" strace -f -qq -e trace=fsync -o "$T/sync.strace")
  import "$T/d2sync" --jobs 2 || die "import under strace failed"
  grep -q 'fsync(' "$T/sync.strace" || die "strace saw no fsync of the durable import either"
  rm -rf "$T/d2sync"
  WRAP=()
fi
tl=tenants/$TENANT/timelines/$TL
layers=$(cd "$D1/$tl" && ls | grep -v '^index_part' || true)
assert_eq "layer names with --no-sync" "$layers" "$(cd "$D2/$tl" && ls | grep -v '^index_part' || true)"
for f in $layers; do assert_files_equal "$D1/$tl/$f" "$D2/$tl/$f"; done
check_index "$D2" "$TENANT" >/dev/null
rm -rf "$D2"

# ---------------------------------------------------------------- 4 shards
for k in 0 1 2 3; do
  log "shard $k of 4"
  import "$D1" --shard-count 4 --shard-number "$k" --stripe-size 256 --jobs 2 || { cat "$T/last.err" >&2; die "shard $k failed"; }
  read -r nl nb < <(check_index "$D1" "$TENANT-0${k}04")
  log "shard $k: $nl layers, $nb bytes"
done

log "status"
"$P2L_BIN" status --dest "$D1" --tenant-id "$TENANT" --timeline-id "$TL" > "$T/status.txt"
cat "$T/status.txt" >&2
assert_eq "status lines" 5 "$(grep -c ": done, finished " "$T/status.txt")"
"$P2L_BIN" status --dest "$D1" --tenant-id "$TENANT" --timeline-id "$TL" --json > "$T/status.json"
python3 - "$T/status.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
shards = j["shards"]
assert [s["shard"] for s in shards] == ["0000", "0004", "0104", "0204", "0304"], shards
assert all(s["state"] == "done" and s["layers"] > 0 and s["jobs_done"] == s["jobs_total"] for s in shards), shards
EOF
"$P2L_BIN" status --dest "$D1" --tenant-id "$TENANT" --timeline-id 00000000000000000000000000000001 --json \
  | python3 -c 'import json,sys; j=json.load(sys.stdin); assert all(s["state"]=="not started" for s in j["shards"]), j'

# ---------------------------------------------------------------- failures
copy=$T/copy
SRC_SAVE=$SRC
log "unclean shutdown"
SRC=$(make_pgdata 15 1 "$copy")
start_pg "$SRC"
pg_sql "$PG_SOCK" postgres "CREATE TABLE after_crash AS SELECT 1 AS x" >/dev/null
stop_pg "$SRC" --mode immediate
assert_eq "cluster state" "in production" "$(cluster_state "$SRC")"
D5=$T/d5
set +e; import "$D5"; rc=$?; set -e
assert_eq "exit code (unclean shutdown)" 3 "$rc"
grep -qi "shut down" "$T/last.err" || die "no clear message: $(cat "$T/last.err")"
if [ -n "$(find "$D5" -name 'index_part.json*' 2>/dev/null)" ]; then die "an index_part was written"; fi
import "$D5" --allow-unclean-shutdown || { cat "$T/last.err" >&2; die "--allow-unclean-shutdown failed"; }
check_index "$D5" "$TENANT" >/dev/null
SRC=$SRC_SAVE
log "ok"
