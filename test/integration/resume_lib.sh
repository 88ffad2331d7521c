# resume_lib.sh — helpers of the crash-resumability tests (issue #5): t_import_resume.sh (local
# destination) and t_import_resume_s3.sh (S3 destination). Sourced after lib.sh; not a test.
#
# The caller sets: T (scratch dir), SRC (PGDATA), TENANT, TL, FLAGS (array: import flags used by
# every run), and for an S3 destination S3_ENDPOINT + AWS_* (lib.sh start_s3) and ST (storage_tool).
#
#   start_import DEST EVENTS [flags]   background importer (--json events to EVENTS); sets IMP_PID
#   run_import DEST EVENTS [flags]     foreground importer; its exit status
#   kill_import                        kill -9 IMP_PID and reap it
#   wait_for_event FILE PATTERN PID    until FILE matches PATTERN or PID exits; 0 = matched
#   dest_ls DEST                       "NAME SIZE STAMP" per object of the timeline directory (STAMP:
#                                      mtime locally, ETag on S3), sorted
#   dest_get DEST NAME                 an object of the timeline directory to stdout
#   index_state DEST                   "Done", "InProgress" or "none"
#   check_index_consistent DEST        every layer the index lists exists with its recorded size
#   kill_loop DEST_BASE N REF          N runs kill -9'd at random moments of every phase, each
#                                      completed result compared with REF (see below)
#   assert_same_result REF DEST        same objects, byte-identical layers, index equal modulo
#                                      its timestamps
IMP_PID=
# At exit, an importer this test started and did not reap yet (our child: ppid check, so a reused
# pid is never killed).
_resume_kill_running() {
  if [ -n "$IMP_PID" ] && [ "$(cut -d' ' -f4 "/proc/$IMP_PID/stat" 2>/dev/null)" = "$$" ]; then
    kill -9 "$IMP_PID" 2>/dev/null
  fi
  return 0
}
on_exit _resume_kill_running

_dest_flags() { case "$1" in s3://*) echo --endpoint "$S3_ENDPOINT" ;; esac; }
tldir() { echo "tenants/$TENANT/timelines/$TL"; }

start_import() {
  local dest=$1 ev=$2; shift 2
  # shellcheck disable=SC2046
  "$P2L_BIN" import --source "$SRC" --dest "$dest" $(_dest_flags "$dest") --tenant-id "$TENANT" \
    --timeline-id "$TL" "${FLAGS[@]}" --json "$@" > "$ev" 2>> "$T/import.err" &
  IMP_PID=$!
}
run_import() {
  local dest=$1 ev=$2; shift 2
  # shellcheck disable=SC2046
  "$P2L_BIN" import --source "$SRC" --dest "$dest" $(_dest_flags "$dest") --tenant-id "$TENANT" \
    --timeline-id "$TL" "${FLAGS[@]}" --json "$@" > "$ev" 2>> "$T/import.err"
}
kill_import() {
  kill -9 "$IMP_PID" 2>/dev/null || true
  wait "$IMP_PID" 2>/dev/null || true
}
wait_for_event() {
  while kill -0 "$3" 2>/dev/null; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  grep -q "$2" "$1" 2>/dev/null
}

dest_ls() {
  local d=$1
  case "$d" in
    s3://*) "$ST" --endpoint "$S3_ENDPOINT" "$d" ls "$(tldir)/" | awk '$1=="obj"{n=$2; sub(".*/","",n); print n, $3, $4}' ;;
    *) if [ -d "$d/$(tldir)" ]; then find "$d/$(tldir)" -maxdepth 1 -type f -printf '%f %s %T@\n'; fi ;;   # none yet: empty
  esac | LC_ALL=C sort
}
dest_get() {
  case "$1" in
    s3://*) "$ST" --endpoint "$S3_ENDPOINT" "$1" get "$(tldir)/$2" ;;
    *) cat "$1/$(tldir)/$2" ;;
  esac
}
index_state() {
  dest_ls "$1" | grep -q '^index_part.json-00000001 ' || { echo none; return 0; }
  dest_get "$1" index_part.json-00000001 | python3 -c 'import json,sys; print(next(iter(json.load(sys.stdin)["import_pgdata"]["V1"])))'
}
check_index_consistent() {
  dest_ls "$1" > "$T/ls.now"
  [ "$(index_state "$1")" = none ] && return 0
  dest_get "$1" index_part.json-00000001 | python3 -c '
import json, sys
idx = json.load(sys.stdin)
have = {l.split()[0]: int(l.split()[1]) for l in open(sys.argv[1])}
for n, lm in idx["layer_metadata"].items():
    obj = n + "-%08x" % lm["generation"]
    if have.get(obj) != lm["file_size"]:
        sys.exit("index lists %s (%d bytes), the destination has %s" % (obj, lm["file_size"], have.get(obj)))
' "$T/ls.now" || die "$1: the index lists a layer that is not durable"
}

# _wait_count FILE PATTERN N PID: until FILE has N lines matching PATTERN or PID exits; 0 = reached
_wait_count() {
  while kill -0 "$4" 2>/dev/null; do
    local c
    c=$(grep -c "$2" "$1" 2>/dev/null) || true
    [ "${c:-0}" -ge "$3" ] && return 0
    sleep 0.005
  done
  return 1
}
# kill_loop DEST_BASE N: N interrupted runs. Run i is killed at a moment of phase i mod 4, plus 0-40
# ms: 0 planning (after "started"), 1 mid-run (after a random number of jobs this run did: layers
# committed, the next checkpoint not yet written), 2 right after a random checkpoint, 3 after the
# last job (source recheck, final Done rewrite, cleanup). Runs continue on DEST_BASE.1 until an
# import there completes (then it must equal REF, and the next runs start over on DEST_BASE.2 ...).
# At the end the last destination is completed and compared. Sets SKIPPED_RUNS (runs whose events
# show jobs skipped as done by an earlier run), DESTS (destinations completed and compared) and
# LAST_DEST.
kill_loop() {
  local base=$1 n=$2 ref=$3 i dest ev pat cnt state
  SKIPPED_RUNS=0 DESTS=1
  dest=$base.1
  for i in $(seq 1 "$n"); do
    ev=$T/ev$i.json
    case $((i % 4)) in
      0) pat='"event":"started"'; cnt=1 ;;
      1) pat='"skipped":false'; cnt=$((1 + RANDOM % REF_JOBS)) ;;
      2) pat='"event":"checkpoint"'; cnt=$((1 + RANDOM % 4)) ;;
      3) pat='"event":"job_done"'; cnt=$REF_JOBS ;;
    esac
    start_import "$dest" "$ev"
    if _wait_count "$ev" "$pat" "$cnt" "$IMP_PID"; then sleep "0.0$((RANDOM % 5))"; fi
    if kill -9 "$IMP_PID" 2>/dev/null; then
      wait "$IMP_PID" 2>/dev/null || true
      # s3rver stores a PUT whose client died mid-request non-atomically for a moment (real S3
      # PUTs are atomic): let it settle before looking
      case "$dest" in s3://*) sleep 0.5 ;; esac
      log "kill $i (phase $((i % 4)), $cnt x $pat): index $(index_state "$dest"), last event: $(tail -n1 "$ev" | cut -c1-70)"
    else
      wait "$IMP_PID" || die "run $i failed: $(tail -n 3 "$T/import.err")"
      log "run $i finished before the kill (phase $((i % 4)))"
    fi
    check_index_consistent "$dest"
    if grep -q '"skipped":true' "$ev"; then SKIPPED_RUNS=$((SKIPPED_RUNS + 1)); fi
    state=$(index_state "$dest")
    if [ "$state" = Done ]; then
      # converged: the rerun finds it complete (and removes a lease left by a kill after Done)
      run_import "$dest" "$ev.rerun" || die "rerun of the finished import failed: $(tail -n 3 "$T/import.err")"
      grep -q '"already_complete":true' "$ev.rerun" || die "rerun $i: not already complete"
      assert_same_result "$ref" "$dest"
      DESTS=$((DESTS + 1)); dest=$base.$DESTS
    fi
  done
  run_import "$dest" "$T/final.json" || die "final run failed: $(tail -n 3 "$T/import.err")"
  assert_same_result "$ref" "$dest"
  LAST_DEST=$dest
}

# the index with started_at/finished_at removed, canonical JSON
_index_without_times() {
  dest_get "$1" index_part.json-00000001 | python3 -c '
import json, sys
idx = json.load(sys.stdin)
for v in idx["import_pgdata"]["V1"].values():
    v.pop("started_at", None); v.pop("finished_at", None)
print(json.dumps(idx, sort_keys=True))'
}
# _manifest DEST: "NAME SHA256" of every layer object of the timeline directory, sorted
_manifest() {
  local d=$1 name
  case "$d" in
    s3://*) dest_ls "$d" | cut -d' ' -f1 | grep '__' | while read -r name; do
              echo "$name $(dest_get "$d" "$name" | sha256sum | cut -d' ' -f1)"
            done ;;
    *) (cd "$d/$(tldir)" && find . -maxdepth 1 -name '*__*' -type f -printf '%f\n' | LC_ALL=C sort \
          | xargs -r sha256sum | awk '{print $2, $1}') ;;
  esac
}
assert_same_result() {
  local ref=$1 d=$2
  [ -f "$T/ref.manifest" ] || _manifest "$ref" > "$T/ref.manifest"
  _manifest "$d" > "$T/manifest"
  assert_files_equal "$T/ref.manifest" "$T/manifest"
  assert_eq "objects in the timeline directory" "$(dest_ls "$ref" | cut -d' ' -f1,2)" "$(dest_ls "$d" | cut -d' ' -f1,2)"
  assert_eq "index_part modulo timestamps" "$(_index_without_times "$ref")" "$(_index_without_times "$d")"
}

# reference_run DEST: the uninterrupted run; sets REF_SECONDS and REF_JOBS
reference_run() {
  local t0
  t0=$(date +%s.%N)
  run_import "$1" "$T/ref.json" || { tail "$T/import.err" >&2; die "reference import failed"; }
  REF_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')
  REF_JOBS=$(python3 -c 'import json,sys; [print(e["jobs"]) for e in map(json.loads, open(sys.argv[1])) if e["event"]=="plan"]' "$T/ref.json")
  log "reference: $REF_JOBS jobs in ${REF_SECONDS}s"
  [ "$REF_JOBS" -ge 10 ] || die "expected many jobs with ${FLAGS[*]}, got $REF_JOBS"
  assert_eq "reference index" Done "$(index_state "$1")"
}
