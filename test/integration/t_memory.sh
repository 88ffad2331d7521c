#!/usr/bin/env bash
# Memory stays bounded by the configuration, not by the size of the PGDATA: import a pgbench
# scale-1 PGDATA (~70 MB) and a scale-17 one (~280 MB: 4x larger in bytes) with the same flags (--jobs 4 --max-range 4MiB --soft-size-limit
# 16MiB, so several jobs run at once), measure each run's peak RSS with /usr/bin/time -f %M and
# check
#   - the big PGDATA really is at least 4x the small one (bytes, tablespaces included),
#   - peak(big) <= the documented bound (man page, MEMORY; /work/notes/man-hostile.md):
#       jobs x (max-range + 1 MiB + 30 B x soft-size-limit / 8 KiB) + 100 B x files + fixed,
#     with fixed = P2L_MEMORY_FIXED_MIB (default 40 MiB), and
#   - peak(big) <= 1.3 x peak(small) + 8 MiB (allocator noise), i.e. memory does not grow
#     with the data.
# Knobs: P2L_MEMORY_MAJOR (default 15), P2L_MEMORY_SCALE (default 17: the big one).
. "$(dirname "$0")/lib.sh"
need_bin
[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed (Debian package 'time')"

MAJOR=${P2L_MEMORY_MAJOR:-15}
BIG=${P2L_MEMORY_SCALE:-17}
FIXED_MIB=${P2L_MEMORY_FIXED_MIB:-40}
JOBS=4 MAX_RANGE_MIB=4 SOFT_MIB=16
FLAGS=(--jobs "$JOBS" --max-range "${MAX_RANGE_MIB}MiB" --soft-size-limit "${SOFT_MIB}MiB")

peak_kib() {   # peak_kib SCALE -> prints the import's peak RSS in KiB
  local scale=$1 ref out
  ref=$(pgdata_ref "$MAJOR" "$scale")
  out=$P2L_TEST_DIR/layers-s$scale
  log "import PostgreSQL $MAJOR scale $scale ($(du -sh "$ref/pgdata" | cut -f1)) with ${FLAGS[*]}"
  /usr/bin/time -f %M -o "$P2L_TEST_DIR/rss-s$scale" \
    "$P2L_BIN" import --source "$ref/pgdata" --dest "$out" "${FLAGS[@]}" \
    >"$P2L_TEST_DIR/import-s$scale.log" 2>&1 || {
      tail -n 30 "$P2L_TEST_DIR/import-s$scale.log" >&2
      die "import of scale $scale failed"
    }
  local kib
  kib=$(tail -n1 "$P2L_TEST_DIR/rss-s$scale")
  [[ "$kib" =~ ^[0-9]+$ ]] || die "could not read the peak RSS: $(cat "$P2L_TEST_DIR/rss-s$scale")"
  log "scale $scale: peak RSS $((kib / 1024)) MiB, layers $(du -sh "$out" | cut -f1)"
  rm -rf "$out"
  echo "$kib"
}

small=$(peak_kib 1)
big=$(peak_kib "$BIG")

small_bytes=$(du -sbL "$(pgdata_ref "$MAJOR" 1)/pgdata" | cut -f1)
big_bytes=$(du -sbL "$(pgdata_ref "$MAJOR" "$BIG")/pgdata" | cut -f1)
log "PGDATA sizes: $small_bytes and $big_bytes bytes (x$(awk -v a="$small_bytes" -v b="$big_bytes" 'BEGIN{printf "%.1f", b/a}'))"
[ "$big_bytes" -ge $((small_bytes * 4)) ] || [ -n "${P2L_MEMORY_SCALE:-}" ] ||
  die "the scale-$BIG PGDATA is not 4x the scale-1 one: raise the default scale"

# the documented bound for the big run, in KiB
files=$(find -L "$(pgdata_ref "$MAJOR" "$BIG")/pgdata" -type f | wc -l)
per_job_kib=$(( MAX_RANGE_MIB * 1024 + 1024 + 30 * (SOFT_MIB * 1024 * 1024 / 8192) / 1024 ))
BOUND_KIB=$(( JOBS * per_job_kib + files * 100 / 1024 + FIXED_MIB * 1024 ))
BOUND_MIB=$(( BOUND_KIB / 1024 ))
log "bound: $JOBS jobs x $per_job_kib KiB + $files files x 100 B + $FIXED_MIB MiB fixed = $BOUND_MIB MiB"

if [ "${P2L_BUILD_MODE:-release}" = asan ]; then
  # ASan's shadow memory and quarantine add 100+ MiB whatever the data: the documented bound is for
  # release builds. The growth check below still applies.
  log "ASan+UBSan build (P2L_BUILD_MODE=asan): the absolute bound is not checked, only the growth"
else
  [ "$big" -le "$BOUND_KIB" ] ||
    die "scale $BIG peak RSS $((big / 1024)) MiB is above the bound of $BOUND_MIB MiB"
fi
# big <= 1.3 * small + 8 MiB, in integers
[ $((big * 10)) -le $((small * 13 + 8 * 1024 * 10)) ] ||
  die "peak RSS grows with the data: scale 1 $((small / 1024)) MiB, scale $BIG $((big / 1024)) MiB (more than 1.3x)"
log "ok: peak RSS scale 1 $((small / 1024)) MiB, scale $BIG $((big / 1024)) MiB (bound $BOUND_MIB MiB, ratio $(awk -v a="$small" -v b="$big" 'BEGIN{printf "%.2f", b/a}'))"
