#!/usr/bin/env bash
# Operator output of `import` (issue #8) on a real PostgreSQL 15 PGDATA (tiny), local destination:
#   - --json: every stdout line is one JSON object with "event" and "ts"; the documented events
#     come in order: started, plan, (progress, job_done)..., checkpoint..., progress 100 %, done,
#     summary (last line); progress never goes backwards and ends at 100 % with jobs_done = jobs;
#   - a rerun (already complete): started, progress 100 %, done, summary;
#   - failures: "error" with the exit code, then summary ok=false (bad input: 3; usage: 2);
#   - stderr: timestamped log lines that name the shard; --progress=always draws a live line,
#     auto without a terminal logs "progress:" lines, never/--quiet show no progress;
#   - PGDATA2LAYERS_* environment variables stand for flags; the command line wins.
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
TENANT=5c0ffee0000000000000000000000008
TL=0badcafe000000000000000000000008
SRC=$(PGTEST_TINY=1 pgdata_ref 15 1)/pgdata
# the per-shard status objects go here, not into the (shared, read-only) source
export PGDATA2LAYERS_STATUS_DEST=$T/status

# check_stream FILE EXPECT_PLAN: validates the event stream of one import (see the header).
check_stream() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
path, expect_plan = sys.argv[1], sys.argv[2] == "1"
events = []
for n, line in enumerate(open(path), 1):
    e = json.loads(line)                       # every line parses on its own
    assert isinstance(e, dict) and isinstance(e.get("event"), str) and e.get("ts", "").endswith("Z"), (n, line)
    events.append(e)
names = [e["event"] for e in events]
assert names[0] == "started", names
assert names[-1] == "summary" and "done" in names, names
# after "done" only the completion publication's events may come (status object, notification)
assert set(names[names.index("done") + 1:-1]) <= {"status_written", "notify_retry", "notified"}, names
s = events[-1]
assert s["ok"] is True and s["exit_code"] == 0 and s["command"] == "import", s
if expect_plan:
    assert names[1] == "plan", names
    jobs = events[1]["jobs"]
    assert names.count("job_done") == jobs, (names.count("job_done"), jobs)
    assert "checkpoint" in names, names
    # a progress event follows the plan and every job_done
    for i, nm in enumerate(names):
        if nm in ("plan", "job_done"):
            assert names[i + 1] == "progress", (i, names[i:i + 2])
    first_job = names.index("job_done")
    assert names.index("checkpoint") > first_job
else:
    assert "plan" not in names and "job_done" not in names, names
prog = [e for e in events if e["event"] == "progress"]
assert prog, "no progress event"
last = -1.0
for p in prog:
    assert p["percent"] >= last, ("progress went backwards", last, p)
    assert p["jobs_done"] <= p["jobs_total"] or p["jobs_total"] == 0, p
    last = p["percent"]
assert prog[-1]["percent"] == 100 and prog[-1]["jobs_done"] == prog[-1]["jobs_total"], prog[-1]
assert names.index("done") > names.index("progress")
print(len(events), "events,", len(prog), "progress")
EOF
}

# 1. a real import: --json stream, non-terminal stderr (auto → periodic log lines, forced often)
D1=$T/d1
"$P2L_BIN" import --source "$SRC" --dest "$D1" --tenant-id "$TENANT" --timeline-id "$TL" \
  --shard-count 2 --shard-number 1 --soft-size-limit 1MiB --checkpoint-every 2 --jobs 2 \
  --json --progress-interval 0.1 > "$T/1.json" 2> "$T/1.err" || { cat "$T/1.err" >&2; die "import failed"; }
out=$(check_stream "$T/1.json" 1) || die "import event stream"
log "import: $out"
grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z INFO  \[shard 0102\] ' "$T/1.err" || die "log lines lack timestamp/shard: $(head -3 "$T/1.err")"
grep -q 'progress: .*% | jobs ' "$T/1.err" || die "no periodic progress log line without a terminal"
if grep -q $'\r' "$T/1.err"; then die "live progress line written to a non-terminal in auto mode"; fi

# 2. rerun: already complete
"$P2L_BIN" import --source "$SRC" --dest "$D1" --tenant-id "$TENANT" --timeline-id "$TL" \
  --shard-count 2 --shard-number 1 --json > "$T/2.json" 2> "$T/2.err" || die "rerun failed"
out=$(check_stream "$T/2.json" 0) || die "rerun event stream"
log "rerun: $out"
grep -q '"already_complete":true' "$T/2.json" || die "rerun not already complete"

# 3. --progress=always: a live line (carriage returns) even on a non-terminal; never/--quiet: none
"$P2L_BIN" import --source "$SRC" --dest "$T/d3" --tenant-id "$TENANT" --timeline-id "$TL" \
  --progress always --soft-size-limit 4MiB > "$T/3.out" 2> "$T/3.err" || die "import --progress always failed"
grep -q $'\r.*% | jobs ' "$T/3.err" || die "--progress always drew no live line"
[ ! -s "$T/3.out" ] || die "stdout not empty without --json: $(head -2 "$T/3.out")"
"$P2L_BIN" import --source "$SRC" --dest "$T/d4" --tenant-id "$TENANT" --timeline-id "$TL" \
  --progress never --progress-interval 0.1 --soft-size-limit 4MiB 2> "$T/4.err" >/dev/null || die "import --progress never failed"
if grep -q 'progress:\|'$'\r' "$T/4.err"; then die "--progress never showed progress"; fi
"$P2L_BIN" import --source "$SRC" --dest "$T/d5" --tenant-id "$TENANT" --timeline-id "$TL" --quiet \
  --progress always --soft-size-limit 4MiB 2> "$T/5.err" >/dev/null || die "import --quiet failed"
[ ! -s "$T/5.err" ] || die "--quiet wrote to stderr: $(head -3 "$T/5.err")"

# 4. failures end the stream with error + summary
set +e
"$P2L_BIN" import --source "$T/nope" --dest "$T/d6" --json > "$T/6.json" 2>/dev/null; rc=$?
"$P2L_BIN" import --source "$SRC" --dest "$T/d7" --compression lz4 --json > "$T/7.json" 2>/dev/null; rc7=$?
set -e
python3 - "$T/6.json" "$rc" "$T/7.json" "$rc7" <<'EOF'
import json, sys
for path, rc in ((sys.argv[1], int(sys.argv[2])), (sys.argv[3], int(sys.argv[4]))):
    ev = [json.loads(l) for l in open(path)]
    names = [e["event"] for e in ev]
    assert rc in (2, 3, 4), (path, rc)
    assert names[-2:] == ["error", "summary"], (path, names)
    assert ev[-2]["code"] == rc and ev[-2]["message"], ev[-2]
    assert ev[-1]["ok"] is False and ev[-1]["exit_code"] == rc, ev[-1]
assert int(sys.argv[4]) == 2
EOF

# 5. environment variables stand for flags; the command line wins
PGDATA2LAYERS_SOFT_SIZE_LIMIT=1MiB "$P2L_BIN" plan --source "$SRC" --json > "$T/p1.json"
PGDATA2LAYERS_SOFT_SIZE_LIMIT=1MiB "$P2L_BIN" plan --source "$SRC" --soft-size-limit 64MiB --json > "$T/p2.json"
PGDATA2LAYERS_SOURCE=$SRC PGDATA2LAYERS_JSON=1 "$P2L_BIN" plan > "$T/p3.json"
python3 - "$T/p1.json" "$T/p2.json" "$T/p3.json" <<'EOF'
import json, sys
p1, p2, p3 = (json.loads(open(p).readline()) for p in sys.argv[1:4])
assert p1["soft_size_limit"] == 1 << 20 and p2["soft_size_limit"] == 64 << 20, (p1["soft_size_limit"], p2["soft_size_limit"])
assert p1["job_count"] > p2["job_count"], (p1["job_count"], p2["job_count"])
assert p3["soft_size_limit"] == 256 << 20 and p3["event"] == "plan" and p3["job_count"] >= 1, p3["soft_size_limit"]
EOF
"$P2L_BIN" import --help > "$T/help.txt"
grep -q 'PGDATA2LAYERS_SHARD_NUMBER' "$T/help.txt" || die "--help does not show the env variables"

# 6. bad arguments (issue 19, part 6): exit 2 before anything is read or written, one "error:" line
# naming the flag (and the environment variable when the value came from one).
# usage_fail PATTERN CMD...: CMD exits 2, stderr has an "error:" line containing PATTERN, nothing written
usage_fail() {
  local pat=$1 rc=0; shift
  "$@" > "$T/u.out" 2> "$T/u.err" || rc=$?
  [ "$rc" = 2 ] || { cat "$T/u.err" >&2; die "'$*' exited $rc, expected 2"; }
  grep -q -- "^error: .*$pat" "$T/u.err" || { cat "$T/u.err" >&2; die "'$*': no 'error:' line with '$pat'"; }
  [ ! -e "$T/du" ] || die "'$*' wrote its destination"
  [ "$(ls -A "$T/status" 2>/dev/null || true)" = "$STATUS_BEFORE" ] || die "'$*' wrote a status object"
}
STATUS_BEFORE=$(ls -A "$T/status" 2>/dev/null || true)
IMPU=("$P2L_BIN" import --source "$SRC" --dest "$T/du")
usage_fail "--jobs.*1 to 1024" "${IMPU[@]}" --jobs 0
usage_fail "--jobs.*1 to 1024" "${IMPU[@]}" --jobs 1025
usage_fail "--jobs.*PGDATA2LAYERS_JOBS" env PGDATA2LAYERS_JOBS=abc "${IMPU[@]}"
usage_fail "--idempotency-key.*at most 256" "${IMPU[@]}" --idempotency-key "$(python3 -c 'print("k" * 100000)')"
usage_fail "--idempotency-key.*0x0a" "${IMPU[@]}" --idempotency-key "$(printf 'key\nINFO forged line')"
usage_fail "--idempotency-key.*0x20" "${IMPU[@]}" --idempotency-key "two words"
usage_fail "--idempotency-key.*empty" "${IMPU[@]}" --idempotency-key ""
usage_fail "--bogus" "${IMPU[@]}" --bogus
# the same with --json: error + summary events, exit code 2
env PGDATA2LAYERS_JOBS=0 "${IMPU[@]}" --json > "$T/u.json" 2>/dev/null && die "PGDATA2LAYERS_JOBS=0 accepted"
python3 - "$T/u.json" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert [e["event"] for e in ev] == ["error", "summary"], ev
assert ev[0]["code"] == 2 and "PGDATA2LAYERS_JOBS" in ev[0]["message"], ev[0]
EOF
# a key at the limit is accepted
"${IMPU[@]}" --idempotency-key "$(python3 -c 'print("k" * 256)')" --tenant-id "$TENANT" --timeline-id "$TL" -q \
  || die "a 256-character idempotency key was refused"
log "ok"
