#!/usr/bin/env bash
# Source consistency: a relation file that grows DURING the import (after planning, while the
# jobs run) fails the import with exit 7 (source changed) and a message naming the file, and no
# index_part says Done. The import runs with --json --jobs 1 and small layers, so it has many
# jobs; at the first "job_done" event the test stops the process (SIGSTOP), appends one block to
# the largest relation file, and lets it go on (SIGCONT). Whether the grown file is read after
# the change (checked when it is opened) or before (checked again at the end), the answer is the
# same. Knobs: P2L_GROWS_MAJOR (default 15), P2L_GROWS_SCALE (default 1).
. "$(dirname "$0")/lib.sh"
need_bin

MAJOR=${P2L_GROWS_MAJOR:-15}
SCALE=${P2L_GROWS_SCALE:-1}
T=5017ce0000000000000000000000000a TL=5017ce000000000000000000000000b1
D=$P2L_TEST_DIR
PG=$(make_pgdata "$MAJOR" "$SCALE" "$D/src")
OUT=$D/out

# the largest relation file (a segment of pgbench_accounts at any scale)
F=$(find "$PG/base" -type f -regex '.*/[0-9]+\(\.[0-9]+\)?' -printf '%s %p\n' | sort -rn | awk 'NR == 1 { print $2 }')
[ -n "$F" ] || die "no relation file found under $PG/base"
REL=${F#"$PG"/}
log "will grow $REL ($(stat -c %s "$F") bytes) during the import"

mkfifo "$D/events.fifo"
"$P2L_BIN" import --json --source "$PG" --dest "$OUT" --tenant-id "$T" --timeline-id "$TL" \
  --jobs 1 --soft-size-limit 1MiB --max-range 256KiB >"$D/events.fifo" 2>"$D/stderr" </dev/null &
pid=$!
track_pid "$pid"

grown=0
while IFS= read -r line; do
  printf '%s\n' "$line" >>"$D/events.jsonl"
  if [ "$grown" = 0 ] && [[ $line == *'"event":"job_done"'* ]]; then
    kill -STOP "$pid" || die "the import ended before the file could be grown"
    head -c 8192 /dev/zero >>"$F"
    kill -CONT "$pid"
    grown=1
    log "grew $REL to $(stat -c %s "$F") bytes after the first job"
  fi
done <"$D/events.fifo"
rc=0
wait "$pid" || rc=$?

[ "$grown" = 1 ] || { tail -n 20 "$D/stderr" >&2; die "no job_done event was seen (exit $rc)"; }
if [ "$rc" != 7 ]; then
  tail -n 20 "$D/stderr" >&2
  die "import exited $rc, expected 7 (source changed)"
fi
grep -q '^error: ' "$D/stderr" || die "no 'error: ' line on stderr"
grep '^error: ' "$D/stderr" | grep -qF "$REL" || {
  cat "$D/stderr" >&2; die "the error does not name $REL"
}
grep -qE '"event":"error".*"kind":"source_changed"' "$D/events.jsonl" ||
  die "no JSON error event with kind source_changed"
log "got: $(grep '^error: ' "$D/stderr" | head -n1 | cut -c1-300)"
if grep -rlq '"Done"' "$OUT" --include='index_part.json*' 2>/dev/null; then
  die "an index_part.json says Done after the source changed"
fi
log "ok: exit 7 naming $REL, no index_part marked Done"
