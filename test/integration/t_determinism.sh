#!/usr/bin/env bash
# Determinism (issue 3): the same PGDATA and flags give byte-identical output whatever --jobs is.
# The shared PostgreSQL 15 scale-1 PGDATA is imported with a small --soft-size-limit (many jobs,
# so the thread pool really interleaves them), unsharded and as shard 1 of 4, once with --jobs 1
# and once with --jobs 3. Every layer file must be byte-identical, both runs must list the same
# layers, and index_part.json must be identical except for the import's timestamps.
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
TENANT=7c3f0c6e1d3b4a5f9e7d6c5b4a392817
TL=2d2b3c4d5e6f708192a3b4c5d6e7f801
SRC=$(pgdata_ref 15 1)/pgdata

run() {   # DEST JOBS [flags...]
  local dest=$1 jobs=$2; shift 2
  "$P2L_BIN" import --source "$SRC" --dest "$dest" --tenant-id "$TENANT" --timeline-id "$TL" \
    --soft-size-limit 2MiB --jobs "$jobs" --quiet "$@" > "$T/import.log" 2>&1 \
    || { cat "$T/import.log" >&2; die "import --jobs $jobs $* failed"; }
}
# index_part.json without the fields that record when the import ran
normalized_index() {
  python3 - "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items()
                if not (k.endswith("_at") or k.endswith("_at_nanos") or k in ("started_at", "finished_at"))}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
print(json.dumps(strip(j), sort_keys=True, indent=1))
EOF
}
compare() {   # WHAT TIMELINE_DIR_A TIMELINE_DIR_B
  local what=$1 a=$2 b=$3 f n=0
  (cd "$a" && ls) > "$T/ls.a"; (cd "$b" && ls) > "$T/ls.b"
  assert_files_equal "$T/ls.a" "$T/ls.b"
  for f in "$a"/*__*; do
    cmp -s "$f" "$b/${f##*/}" || die "$what: layer ${f##*/} differs between --jobs 1 and --jobs 3"
    n=$((n + 1))
  done
  [ "$n" -ge 4 ] || die "$what: only $n layers; the test needs several jobs"
  normalized_index "$a/index_part.json-00000001" > "$T/ix.a"
  normalized_index "$b/index_part.json-00000001" > "$T/ix.b"
  assert_files_equal "$T/ix.a" "$T/ix.b"
  log "$what: $n layers byte-identical, index_part.json identical apart from timestamps"
}

for flags in "" "--shard-count 4 --shard-number 1 --stripe-size 16"; do
  rm -rf "$T/a" "$T/b"
  # shellcheck disable=SC2086  # $flags is a list of flags
  run "$T/a" 1 $flags
  # shellcheck disable=SC2086
  run "$T/b" 3 $flags
  if [ -z "$flags" ]; then sub=$TENANT; what=unsharded; else sub=$TENANT-0104; what="shard 1 of 4"; fi
  compare "$what" "$T/a/tenants/$sub/timelines/$TL" "$T/b/tenants/$sub/timelines/$TL"
done
