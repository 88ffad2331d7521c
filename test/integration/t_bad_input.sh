#!/usr/bin/env bash
# Bad input to `pgdata2layers import` (issue 3): each case is a clear error naming what is wrong,
# a non-zero exit, and no index_part.json recording the import as Done. One private copy of the
# shared PostgreSQL 15 scale-1 PGDATA is damaged and repaired case by case:
#   missing / truncated pg_control, wrong CRC, unknown catalog version, unclean shutdown (state
#   "in production"; then --allow-unclean-shutdown imports it), relation file size not a multiple
#   of 8192, unparseable names in a database directory (a name PostgreSQL could have written in
#   a non-canonical spelling is refused; any other name is skipped with a warning and the import
#   succeeds, see docs/import-contents.md), destination not writable. Also: non-empty pg_replslot/,
#   pg_commit_ts/ and pg_logical/ give one plan/import warning each (none while empty).
. "$(dirname "$0")/lib.sh"
. "$P2L_ROOT/test/hostile/mutate.sh"   # ctl_u32 (field + CRC), flip_byte
need_bin

T=$P2L_TEST_DIR
TENANT=5e1f0c6e1d3b4a5f9e7d6c5b4a392817
TL=6b2b3c4d5e6f708192a3b4c5d6e7f801
PG=$(make_pgdata 15 1 "$T/copy")
cp -a "$PG/global/pg_control" "$T/pg_control.orig"

# bad NAME EXPECTED_RC 'MESSAGE' [import flags...]: import into a fresh destination must exit
# EXPECTED_RC with MESSAGE (a fixed string) on stderr, and leave no Done index_part.
n=0
bad() {
  local name=$1 want=$2 msg=$3 dest=$T/dest-$1 rc; shift 3
  set +e
  "$P2L_BIN" import --source "$PG" --dest "$dest" --tenant-id "$TENANT" --timeline-id "$TL" "$@" \
    > "$T/$name.out" 2> "$T/$name.err"
  rc=$?
  set -e
  [ "$rc" = "$want" ] || { cat "$T/$name.err" >&2; die "$name: exit $rc, expected $want"; }
  grep -qF -- "$msg" "$T/$name.err" || { cat "$T/$name.err" >&2; die "$name: stderr lacks '$msg'"; }
  if [ -d "$dest" ] && grep -rqs '"Done"' --include='index_part.json*' "$dest"; then
    die "$name: an index_part.json records the import as Done"
  fi
  log "$name: exit $rc: $(grep -F -- "$msg" "$T/$name.err" | head -n1 | cut -c1-160)"
  n=$((n + 1))
}
restore_control() { cp -a "$T/pg_control.orig" "$PG/global/pg_control"; }

mv "$PG/global/pg_control" "$T/pg_control.moved"
bad missing_pg_control 3 "global/pg_control"
mv "$T/pg_control.moved" "$PG/global/pg_control"

truncate -s 100 "$PG/global/pg_control"
bad truncated_pg_control 3 "global/pg_control: size 100 is too small"
restore_control

flip_byte "$PG/global/pg_control" 100
bad wrong_crc 3 "global/pg_control: CRC-32C mismatch"
restore_control

ctl_u32 12 999
bad unknown_catalog_version 3 "catalog_version_no 999 at offset 12, pg_control_version 1300): not supported; a Neon pageserver serves PostgreSQL 14-17 only"
restore_control

cp -a "$PG/PG_VERSION" "$T/PG_VERSION.orig"
echo 17 > "$PG/PG_VERSION"   # a PG 15 pg_control with another cluster's PG_VERSION
bad pg_version_mismatch 3 'PG_VERSION says "17" but'
grep -qF "is PostgreSQL 15: the files come from different clusters" "$T/pg_version_mismatch.err" \
  || die "pg_version_mismatch: the message does not name pg_control's version"
cp -a "$T/PG_VERSION.orig" "$PG/PG_VERSION"

ctl_u32 16 6   # DB_IN_PRODUCTION: what a crash or an immediate stop leaves
bad unclean_shutdown 3 "was not shut down cleanly"
grep -qF -- "--allow-unclean-shutdown" "$T/unclean_shutdown.err" || die "unclean_shutdown: the message does not say how to proceed"
"$P2L_BIN" import --source "$PG" --dest "$T/dest-unclean-allowed" --tenant-id "$TENANT" --timeline-id "$TL" \
  --allow-unclean-shutdown > /dev/null 2> "$T/unclean-allowed.err" || { cat "$T/unclean-allowed.err" >&2; die "--allow-unclean-shutdown failed"; }
grep -rqs '"Done"' --include='index_part.json*' "$T/dest-unclean-allowed" || die "--allow-unclean-shutdown: no Done index"
log "unclean_shutdown with --allow-unclean-shutdown: imported (Done)"
rm -rf "$T/dest-unclean-allowed"
restore_control

cp -a "$PG/base/5/1259" "$T/1259.orig"
truncate -s 12345 "$PG/base/5/1259"
bad rel_size_not_multiple 3 "base/5/1259: size 12345 is not a multiple of 8192"
cp -a "$T/1259.orig" "$PG/base/5/1259"

cp -a "$PG/base/5/1259" "$PG/base/5/016384"
bad noncanonical_rel_name 3 "base/5/016384: non-canonical relation file name"
rm -f "$PG/base/5/016384"

mkdir -p "$T/dest-unwritable" && : > "$T/dest-unwritable/tenants"   # a file where tenants/ must go
"$P2L_BIN" import --source "$PG" --dest "$T/dest-unwritable" --tenant-id "$TENANT" --timeline-id "$TL" \
  > /dev/null 2> "$T/unwritable.err" && die "import into an unwritable destination succeeded"
grep -qF "tenants" "$T/unwritable.err" || { cat "$T/unwritable.err" >&2; die "unwritable: the error does not name the path"; }
[ -f "$T/dest-unwritable/tenants" ] || die "unwritable: the blocking file was replaced"
log "destination_not_writable: $(tail -n1 "$T/unwritable.err" | cut -c1-160)"
n=$((n + 1))

# Directories Neon's key space has no key for: nothing to say while empty (as PostgreSQL leaves
# them), one warning each once they hold something (docs/import-contents.md).
"$P2L_BIN" plan --json "$PG" > "$T/plan-clean.json" 2> /dev/null || die "plan of the clean copy failed"
! grep -qF "not imported" "$T/plan-clean.json" || die "plan warns about empty pg_replslot/pg_commit_ts/pg_logical"
mkdir "$PG/pg_replslot/slot_a" "$PG/pg_replslot/slot_b"
head -c 8192 /dev/zero > "$PG/pg_commit_ts/0000"
: > "$PG/pg_logical/snapshots/0-16B2F68.snap"
"$P2L_BIN" plan --json "$PG" > "$T/plan-dropped.json" 2> /dev/null || die "plan with replication state failed"
for w in 'pg_replslot/: 2 replication slots are not imported' 'pg_commit_ts/: 1 commit timestamp segment is not' \
         'pg_logical/: logical replication state (1 logical decoding snapshot) is not imported'; do
  python3 -c 'import json, sys; ws = json.load(open(sys.argv[1]))["warnings"]; sys.exit(sum(sys.argv[2] in w for w in ws) != 1)' \
    "$T/plan-dropped.json" "$w" || { cat "$T/plan-dropped.json" >&2; die "plan --json warnings lack '$w' (once)"; }
done
log "non-empty pg_replslot/, pg_commit_ts/, pg_logical/: one plan warning each"

# Names PostgreSQL never writes in a database directory: skipped with a warning, import succeeds
# (and logs the warnings about the replication state above).
: > "$PG/base/5/notes.txt"
mkdir "$PG/base/5/lost+found"
"$P2L_BIN" import --source "$PG" --dest "$T/dest-junk" --tenant-id "$TENANT" --timeline-id "$TL" \
  > /dev/null 2> "$T/junk.err" || { cat "$T/junk.err" >&2; die "import with junk names failed"; }
grep -qF "base/5/notes.txt" "$T/junk.err" || { cat "$T/junk.err" >&2; die "no warning naming base/5/notes.txt"; }
grep -qF "base/5/lost+found" "$T/junk.err" || { cat "$T/junk.err" >&2; die "no warning naming base/5/lost+found"; }
grep -qF "pg_replslot/: 2 replication slots are not imported" "$T/junk.err" \
  || { cat "$T/junk.err" >&2; die "import does not log the pg_replslot/ warning"; }
grep -rqs '"Done"' --include='index_part.json*' "$T/dest-junk" || die "junk names: no Done index"
"$P2L_BIN" verify --dest "$T/dest-junk" --source "$PG" > /dev/null 2> "$T/junk-verify.err" \
  || { cat "$T/junk-verify.err" >&2; die "verify after skipping junk names failed"; }
log "unparseable names: skipped with warnings, import Done and verified"
# Contents PostgreSQL would refuse to start on (issue 19, part 5): a relation map or a two-phase
# state file of random bytes, or with one flipped bit, is refused by name (exit 3), not copied.
relmap=$PG/base/5/pg_filenode.map
cp -a "$relmap" "$T/relmap.orig"
head -c 512 /dev/urandom > "$relmap"
bad relmap_random 3 "base/5/pg_filenode.map: not a relation map: magic"
cp -a "$T/relmap.orig" "$relmap"
flip_byte "$relmap" 100
bad relmap_bitflip 3 "base/5/pg_filenode.map: relation map checksum mismatch"
cp -a "$T/relmap.orig" "$relmap"
twophase=$(find "$PG/pg_twophase" -type f | head -n1)
[ -n "$twophase" ] || die "the fixture has no pg_twophase file"
cp -a "$twophase" "$T/twophase.orig"
head -c "$(stat -c %s "$twophase")" /dev/urandom > "$twophase"
bad twophase_random 3 "pg_twophase/$(basename "$twophase"): not a two-phase state file: magic"
cp -a "$T/twophase.orig" "$twophase"
flip_byte "$twophase" 60
bad twophase_bitflip 3 "two-phase state file checksum mismatch"
truncate -s 100M "$twophase"   # larger than a value the import reads whole: refused by plan too
bad twophase_huge 3 "larger than the 67108864 bytes allowed for a two-phase state file"
"$P2L_BIN" plan --source "$PG" > /dev/null 2> "$T/plan-huge.err" && die "plan accepted a 100 MB two-phase file"
grep -qF "larger than the 67108864 bytes" "$T/plan-huge.err" || { cat "$T/plan-huge.err" >&2; die "plan: no size error"; }
cp -a "$T/twophase.orig" "$twophase"

log "$n bad inputs refused, each with a clear message and no Done index"
