#!/usr/bin/env bash
# test/fuzz/run.sh [SECONDS] — builds the libFuzzer targets and runs each for SECONDS (default 60).
#
#   1. compiles every lib/**/*.cc with clang++ (-std=c++20 -fsanitize=fuzzer-no-link,address,
#      undefined), incrementally, into build/fuzz/obj/ (FUZZ_BUILD overrides the directory);
#   2. links each test/fuzz/fuzz_<target>.cc with -fsanitize=fuzzer into build/fuzz/fuzz_<target>.
#      A harness with a "// fuzz-requires: PATH" line is built only when PATH exists (targets of
#      code that is not there yet are skipped, and picked up as soon as it lands);
#   3. runs each target on a COPY of its checked-in seed corpus test/fuzz/corpus/<target>/ (the
#      checked-in corpus never grows here) with -max_total_time=SECONDS -rss_limit_mb=2048
#      -timeout=10, plus dict/<target>.dict when present;
#   4. fails (exit 1) on any crash, leak, timeout, out-of-memory or sanitizer report, printing the
#      end of the log and the reproducer path; prints a summary table either way.
#
# Environment:
#   FUZZ_TARGETS="index_part page"  only these targets (default: every buildable one)
#   FUZZ_CXX=clang++-14             the compiler (default: clang++-14, else clang++)
#   FUZZ_BUILD=build/fuzz           build + run directory
#   FUZZ_JOBS=N                     parallel compile jobs (default: nproc)
#   FUZZ_PARALLEL=N                 run N targets at the same time (default 1)
#   FUZZ_ARGS="..."                 extra libFuzzer flags, e.g. "-fork=4" or "-jobs=4 -workers=4"
#   FUZZ_KEEP_CORPUS=DIR            after the run, merge each target's grown corpus into
#                                   DIR/<target>/ (kept across runs; see README.md)
#   FUZZ_BUILD_ONLY=1               build, run every seed once (no fuzzing), stop (= SECONDS 0)
# Exit: 0 all targets clean, 1 a target failed, 2 build failure / bad usage.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT" || exit 2
FUZZ_DIR=$ROOT/test/fuzz
SECONDS_PER_TARGET=${1:-60}
[ -n "$SECONDS_PER_TARGET" ] || SECONDS_PER_TARGET=60
if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]]; then
  echo "usage: test/fuzz/run.sh [SECONDS per target]" >&2
  exit 2
fi
BUILD=${FUZZ_BUILD:-build/fuzz}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
PARALLEL=${FUZZ_PARALLEL:-1}
if [ -n "${FUZZ_CXX:-}" ]; then CXX=$FUZZ_CXX
elif command -v clang++-14 >/dev/null; then CXX=clang++-14
elif command -v clang++ >/dev/null; then CXX=clang++
else echo "fuzz: no clang++ found (Debian: apt-get install clang-14)" >&2; exit 2
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CXXFLAGS="-std=c++20 -O1 -g $SAN -Wall -Wextra -Wno-missing-field-initializers -Ilib -I."
LDLIBS="-lcurl -lssl -lcrypto -lfmt -lxxhash -lpugixml -lzstd -lpthread"

t_all=$(date +%s)
mkdir -p "$BUILD" || exit 2
echo "fuzz: $($CXX --version | head -n1); build dir ${BUILD#"$ROOT"/}; ${SECONDS_PER_TARGET}s per target"

# ------------------------------------------------------------------ 1. which targets
TARGETS=() SKIPPED=()
for h in "$FUZZ_DIR"/fuzz_*.cc; do
  t=$(basename "$h" .cc); t=${t#fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $t "* ]]; then continue; fi
  req=$(sed -n 's|^// fuzz-requires: *||p' "$h" | head -n1)
  if [ -n "$req" ] && [ ! -e "$ROOT/$req" ]; then SKIPPED+=("$t (no $req yet)"); continue; fi
  TARGETS+=("$t")
done

# ------------------------------------------------------------------ 2. build
# A generated makefile gives incremental, parallel builds with header dependencies (-MMD):
# lib/**/*.cc -> obj/ -> libp2l_fuzz.a (coverage-instrumented, -fsanitize=fuzzer-no-link), and
# each harness linked with -fsanitize=fuzzer into fuzz_<target>.
BINS=""
for t in ${TARGETS[@]+"${TARGETS[@]}"}; do BINS+=" $BUILD/fuzz_$t"; done
cat > "$BUILD/fuzz.mk" <<EOF
CXX := $CXX
FLAGS := $CXXFLAGS -DPGDATA2LAYERS_VERSION='"fuzz"'
LIB_SRCS := \$(shell find lib -name '*.cc' | LC_ALL=C sort)
LIB_OBJS := \$(LIB_SRCS:%.cc=$BUILD/obj/%.o)
all: $BINS
$BUILD/libp2l_fuzz.a: \$(LIB_OBJS)
	@rm -f \$@ && ar rcs \$@ \$^
$BUILD/obj/%.o: %.cc
	@mkdir -p \$(dir \$@)
	@echo "  CXX \$<"
	@\$(CXX) \$(FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c \$< -o \$@
$BUILD/harness/%.o: test/fuzz/%.cc
	@mkdir -p \$(dir \$@)
	@echo "  CXX \$<"
	@\$(CXX) \$(FLAGS) -fsanitize=fuzzer -MMD -MP -c \$< -o \$@
$BUILD/fuzz_%: $BUILD/harness/fuzz_%.o $BUILD/libp2l_fuzz.a
	@echo "  LINK \$@"
	@\$(CXX) \$(FLAGS) -fsanitize=fuzzer \$^ $LDLIBS -o \$@
-include \$(LIB_OBJS:.o=.d) \$(wildcard $BUILD/harness/*.d)
EOF
# objects of sources that were deleted must not linger in the archive
find "$BUILD/obj" -name '*.o' 2>/dev/null | while read -r o; do
  src=${o#"$BUILD"/obj/}; src=${src%.o}.cc
  [ -f "$src" ] || rm -f "$o" "${o%.o}.d" "$BUILD/libp2l_fuzz.a"
done
make --no-print-directory -f "$BUILD/fuzz.mk" -j"$JOBS" all >"$BUILD/build.log" 2>&1
mrc=$?
echo "fuzz: compiled $(grep -c '^  CXX ' "$BUILD/build.log") file(s), linked $(grep -c '^  LINK ' "$BUILD/build.log") target(s)"
if [ "$mrc" -ne 0 ]; then
  echo "FUZZ BUILD FAILED with $CXX (log: $BUILD/build.log):" >&2
  grep -E 'error|Error|undefined reference' "$BUILD/build.log" | head -30 >&2
  exit 2
fi
nwarn=$(grep -c 'warning:' "$BUILD/build.log")
[ "$nwarn" -gt 0 ] && echo "fuzz: note: $nwarn clang warning(s) (see $BUILD/build.log)"
if [ -n "${FUZZ_TARGETS:-}" ]; then
  for want in $FUZZ_TARGETS; do
    [[ " ${TARGETS[*]} " == *" $want "* ]] || [[ "${SKIPPED[*]}" == *"$want ("* ]] ||
      { echo "fuzz: unknown target '$want' (no test/fuzz/fuzz_$want.cc)" >&2; exit 2; }
  done
fi
for s in ${SKIPPED[@]+"${SKIPPED[@]}"}; do echo "fuzz: skipping target $s"; done
[ "${#TARGETS[@]}" -gt 0 ] || { echo "fuzz: no targets to run" >&2; exit 2; }
echo "fuzz: built in $(( $(date +%s) - t_all ))s: ${TARGETS[*]}"

# ------------------------------------------------------------------ 3. run
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
RUNDIR=$BUILD/run
rm -rf "$RUNDIR" && mkdir -p "$RUNDIR"

run_target() {   # run_target TARGET  -> writes $RUNDIR/TARGET.{log,rc}
  local t=$1 dir=$RUNDIR/$1 seeds=$FUZZ_DIR/corpus/$1 args=()
  mkdir -p "$dir/corpus" "$dir/artifacts"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$dir/corpus"/
  [ -f "$FUZZ_DIR/dict/$t.dict" ] && args+=("-dict=$FUZZ_DIR/dict/$t.dict")
  if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ] || [ "$SECONDS_PER_TARGET" -eq 0 ]; then
    args+=(-runs=0)
  else
    args+=("-max_total_time=$SECONDS_PER_TARGET")
  fi
  # shellcheck disable=SC2086
  (cd "$dir" && exec "$BUILD/fuzz_$t" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/" "${args[@]}" ${FUZZ_ARGS:-} corpus) >"$RUNDIR/$t.log" 2>&1
  echo $? > "$RUNDIR/$t.rc"
}

pids=()
for t in "${TARGETS[@]}"; do
  echo "fuzz: running $t ..."
  run_target "$t" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$PARALLEL" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait

# ------------------------------------------------------------------ 4. verdicts
FAILED=()
printf '\n%-24s %-6s %12s %8s %8s %10s\n' target result execs cov corpus seconds
for t in "${TARGETS[@]}"; do
  log=$RUNDIR/$t.log rc=$(cat "$RUNDIR/$t.rc" 2>/dev/null || echo 99)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | cut -d' ' -f2)
  corp=$(find "$RUNDIR/$t/corpus" -type f | wc -l)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
  bad=""
  [ "$rc" -ne 0 ] && bad="exit $rc"
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: (Address|Undefined|Leak)|==ERROR|deadly signal|out-of-memory|timeout after' "$log"; then
    bad="${bad:+$bad, }sanitizer/libFuzzer report"
  fi
  if [ -n "$(ls -A "$RUNDIR/$t/artifacts" 2>/dev/null)" ]; then bad="${bad:+$bad, }artifacts written"; fi
  if [ -n "$bad" ]; then
    printf '%-24s %-6s %12s %8s %8s %10s  (%s)\n' "$t" FAIL "${execs:--}" "${cov:--}" "$corp" "${secs:--}" "$bad"
    FAILED+=("$t")
  else
    printf '%-24s %-6s %12s %8s %8s %10s\n' "$t" ok "${execs:--}" "${cov:--}" "$corp" "${secs:--}"
  fi
done
for s in ${SKIPPED[@]+"${SKIPPED[@]}"}; do printf '%-24s %-6s\n' "${s%% *}" skip; done

for t in ${FAILED[@]+"${FAILED[@]}"}; do
  echo
  echo "===== FUZZ FAILURE: $t — last 60 lines of $RUNDIR/$t.log ====="
  tail -n 60 "$RUNDIR/$t.log"
  for a in "$RUNDIR/$t/artifacts"/*; do
    [ -e "$a" ] || continue
    echo "reproducer: $a  (run: $BUILD/fuzz_$t $a)"
  done
  echo "===== end of $t ====="
done

if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
  for t in "${TARGETS[@]}"; do
    mkdir -p "$FUZZ_KEEP_CORPUS/$t"
    "$BUILD/fuzz_$t" -merge=1 "$FUZZ_KEEP_CORPUS/$t" "$RUNDIR/$t/corpus" >"$RUNDIR/$t.merge.log" 2>&1 ||
      echo "fuzz: merging $t's corpus into $FUZZ_KEEP_CORPUS/$t failed (see $RUNDIR/$t.merge.log)"
  done
  echo "fuzz: grown corpora merged into $FUZZ_KEEP_CORPUS/<target>/"
fi

echo
echo "fuzz: ${#TARGETS[@]} target(s), ${#FAILED[@]} failed, ${#SKIPPED[@]} skipped; $(( $(date +%s) - t_all ))s in all"
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "FUZZ FAILED: ${FAILED[*]}"
  exit 1
fi
exit 0
