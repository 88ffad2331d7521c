#!/usr/bin/env bash
# User tablespaces and --tablespaces refuse|skip|keep, on a real PostgreSQL PGDATA (the last major
# of P2L_IT_MAJORS, scale 1, PGTEST_TABLESPACE=1: table "archived", its TOAST table and indexes in
# user tablespace ts2; info.txt lists their relfilenodes from pg_class, captured by
# make-pgdata.sh while the cluster ran):
#   - default (refuse): import exits 3 naming the tablespace (OID, location), its database,
#     relation count and bytes, the remedy and the two other modes; the destination does not
#     exist afterwards and the source is untouched (no status object, no lease); plan refuses the
#     same way; plan --tablespaces keep/skip show the tablespace and what each mode does (text
#     and --json);
#   - skip: exit 0, one warning line and one tablespace_relation_skipped event per relation,
#     exactly the relations pg_class puts in ts2; verify passes (with and without --source); no
#     key has a spcnode other than 1663/1664; the layers are byte-identical to those of an
#     import of a copy of the PGDATA without its pg_tblspc entries;
#   - keep: the round trip of roundtrip.sh (import, verify --source, export, PostgreSQL started
#     on the export, fingerprint equal to the original's, pg_amcheck).
. "$(dirname "$0")/lib.sh"
need_bin

MAJOR=${P2L_IT_MAJORS##* }
export PGTEST_TABLESPACE=1
T=$P2L_TEST_DIR
TENANT=2f2e3d4c5b6a79881f2e3d4c5b6a7988
TIMELINE=1a1b2c3d4e5f60718293a4b5c6d7e8f9

log "PostgreSQL $MAJOR: build (or reuse) the scale-1 PGDATA with user tablespace ts2"
ref=$(pgdata_ref "$MAJOR" 1)
SRC=$ref/pgdata
links=("$SRC"/pg_tblspc/*)
assert_eq "tablespace links" 1 "${#links[@]}"
OID=${links[0]##*/}
LOCATION=$(readlink "${links[0]}")
# database_oid|relfilenode of every relation pg_class puts in ts2
sed -n '/^## tablespace_relations:/,/^## /{/^[0-9]/p}' "$ref/info.txt" | LC_ALL=C sort > "$T/rels.want"
nrels=$(wc -l < "$T/rels.want")
[ "$nrels" -ge 3 ] || die "info.txt lists only $nrels relations in ts2"
dbs=$(cut -d'|' -f1 "$T/rels.want" | sort -u)
assert_eq "databases with data in ts2" 1 "$(echo "$dbs" | wc -l)"
log "tablespace $OID -> $LOCATION: $nrels relations of database $dbs"

snapshot() { (cd "$1" && find pgdata tblspc2 -printf '%p %s %T@ %l\n' | LC_ALL=C sort | md5sum | cut -d' ' -f1); }
before=$(snapshot "$ref")

# ------------------------------------------------------------------ refuse (default)
set +e
"$P2L_BIN" import --source "$SRC" --dest "$T/refused" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  > "$T/refuse.out" 2> "$T/refuse.err"
rc=$?
set -e
assert_eq "import exit status (refuse)" 3 "$rc"
[ ! -e "$T/refused" ] || die "the refused import created $T/refused: $(find "$T/refused" | head -5)"
assert_eq "source snapshot after the refused import" "$before" "$(snapshot "$ref")"
[ ! -e "$SRC/status" ] || die "the refused import wrote a status object into the source"
for want in "tablespace OID $OID" "location $LOCATION" "database $dbs, $nrels relations" \
            "SET TABLESPACE pg_default" "ALTER DATABASE ... SET TABLESPACE pg_default" \
            "--tablespaces skip" "--tablespaces keep"; do
  grep -qF -- "$want" "$T/refuse.err" || { cat "$T/refuse.err" >&2; die "refusal lacks \"$want\""; }
done
bytes=$(sed -n "s/.*tablespace OID $OID .*relations, \([0-9]*\) bytes.*/\1/p" "$T/refuse.err")
want_bytes=$(find -L "$SRC/pg_tblspc/$OID" -type f -regextype posix-extended -regex '.*/[0-9]+(_(fsm|vm|init))?(\.[0-9]+)?' \
  -printf '%s\n' | awk '{s += $1} END {print s + 0}')
assert_eq "bytes named by the refusal" "$want_bytes" "$bytes"
log "refuse: exit 3, nothing written, the message names OID $OID, $LOCATION, $nrels relations, $bytes bytes"

set +e
"$P2L_BIN" plan --source "$SRC" > "$T/plan-refuse.out" 2> "$T/plan-refuse.err"
rc=$?
set -e
assert_eq "plan exit status (refuse)" 3 "$rc"
grep -qF "tablespace OID $OID" "$T/plan-refuse.err" || die "plan's refusal does not name the tablespace"
"$P2L_BIN" plan --source "$SRC" --tablespaces keep > "$T/plan-keep.out" 2> "$T/plan-keep.err" \
  || { cat "$T/plan-keep.err" >&2; die "plan --tablespaces keep failed"; }
grep -q "^tablespaces: --tablespaces keep, 1 user tablespace" "$T/plan-keep.out" || die "plan text lacks the tablespace line"
grep -q "^  tablespace $OID: location $LOCATION, databases $dbs, $nrels relations" "$T/plan-keep.out" \
  || { cat "$T/plan-keep.out" >&2; die "plan text lacks tablespace $OID"; }
grep -q "^  refuse: " "$T/plan-keep.out" && grep -q "^  skip: " "$T/plan-keep.out" \
  && grep -q "^  keep: .*(this plan)" "$T/plan-keep.out" || die "plan text lacks what each mode does"
"$P2L_BIN" plan --source "$SRC" --tablespaces skip --json > "$T/plan-skip.json" 2> "$T/plan-skip.err" \
  || { cat "$T/plan-skip.err" >&2; die "plan --tablespaces skip --json failed"; }
python3 - "$T/plan-skip.json" "$OID" "$nrels" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert all("event" in e and "ts" in e for e in lines), "event/ts missing"
skipped = [e for e in lines if e["event"] == "tablespace_relation_skipped"]
assert len(skipped) == int(sys.argv[3]), (len(skipped), sys.argv[3])
plan = [e for e in lines if e["event"] == "plan"][0]
ts = plan["tablespaces"]
assert ts["mode"] == "skip", ts
assert [t["oid"] for t in ts["user_tablespaces"]] == [int(sys.argv[2])], ts
assert ts["skipped_relations"] == int(sys.argv[3]), ts
assert set(ts["modes"]) == {"refuse", "skip", "keep"}, ts
EOF
log "plan: refuses by default (exit 3), shows the tablespace and each mode (text, --json)"

# ------------------------------------------------------------------ skip
"$P2L_BIN" import --source "$SRC" --dest "$T/skip" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --tablespaces skip --json > "$T/skip.json" 2> "$T/skip.err" \
  || { cat "$T/skip.err" >&2; die "import --tablespaces skip failed"; }
python3 - "$T/skip.json" "$OID" > "$T/rels.events" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "tablespace_relation_skipped":
        assert e["tablespace"] == int(sys.argv[2]), e
        assert e["bytes"] >= 0 and e["forks"] and "ts" in e, e   # an empty TOAST table has 0 bytes
        print(f'{e["database"]}|{e["relnode"]}')
EOF
LC_ALL=C sort -o "$T/rels.events" "$T/rels.events"
assert_files_equal "$T/rels.want" "$T/rels.events"
grep -o 'relation [0-9]* of database [0-9]* in tablespace [0-9]*' "$T/skip.err" \
  | awk -v oid="$OID" '$NF == oid {print $5 "|" $2}' | LC_ALL=C sort > "$T/rels.warned"
assert_files_equal "$T/rels.want" "$T/rels.warned"
log "skip: $nrels relations listed (warnings and events) = pg_class's relations in ts2"

"$P2L_BIN" verify --dest "$T/skip" > "$T/verify-skip.out" 2> "$T/verify-skip.err" \
  || { cat "$T/verify-skip.out" "$T/verify-skip.err" >&2; die "verify of the skip import failed"; }
"$P2L_BIN" verify --dest "$T/skip" --source "$SRC" --keys-out "$T/keys-skip.txt" > "$T/verify-skip2.out" \
  2> "$T/verify-skip2.err" || { cat "$T/verify-skip2.out" "$T/verify-skip2.err" >&2; die "verify --source of the skip import failed"; }
# relation-class keys (field1 00, field2 = spcnode != 0): only 1663 (0000067F) and 1664 (00000680)
bad=$(awk '{k = $1} substr(k, 1, 2) == "00" && substr(k, 3, 8) != "00000000" && substr(k, 3, 8) != "0000067F" \
           && substr(k, 3, 8) != "00000680" {print k}' "$T/keys-skip.txt" | head -3)
[ -z "$bad" ] || die "keys with a user tablespace spcnode in the skip import: $bad"
[ "$(wc -l < "$T/keys-skip.txt")" -gt 1000 ] || die "too few keys in the skip import"
log "skip: verify passes (with and without --source), $(wc -l < "$T/keys-skip.txt") keys, none outside 1663/1664"

# the same layers as an import of the PGDATA without its tablespace directories
copy_pgdata "$ref" "$T/nots"
rm -f "$T/nots/pgdata/pg_tblspc/"*
"$P2L_BIN" import --source "$T/nots/pgdata" --dest "$T/nots-dest" --tenant-id "$TENANT" --timeline-id "$TIMELINE" \
  --quiet > "$T/nots.log" 2>&1 || { cat "$T/nots.log" >&2; die "import of the copy without tablespaces failed"; }
tl=tenants/$TENANT/timelines/$TIMELINE
(cd "$T/skip/$tl" && ls | grep -v '^index_part' | LC_ALL=C sort) > "$T/layers.skip"
(cd "$T/nots-dest/$tl" && ls | grep -v '^index_part' | LC_ALL=C sort) > "$T/layers.nots"
assert_files_equal "$T/layers.nots" "$T/layers.skip"
while read -r f; do cmp -s "$T/skip/$tl/$f" "$T/nots-dest/$tl/$f" || die "layer $f differs"; done < "$T/layers.skip"
log "skip: $(wc -l < "$T/layers.skip") layers byte-identical to the import without the tablespace directories"
assert_eq "source snapshot after the skip import" "$before" "$(snapshot "$ref")"

# ------------------------------------------------------------------ two links, one directory
# pg_tblspc/<other OID> pointing at ts2's directory too: keep would import its relations twice
# (under two OIDs), so it is refused naming both links and the directory; nothing is written.
copy_pgdata "$ref" "$T/twolinks"
ln -s "$(readlink "$T/twolinks/pgdata/pg_tblspc/$OID")" "$T/twolinks/pgdata/pg_tblspc/40000"
rc=0
"$P2L_BIN" import --source "$T/twolinks/pgdata" --dest "$T/twolinks-dest" --tenant-id "$TENANT" \
  --timeline-id "$TIMELINE" --tablespaces keep > "$T/twolinks.out" 2> "$T/twolinks.err" || rc=$?
assert_eq "two links to one directory: exit" 3 "$rc"
grep -q "pg_tblspc/[0-9]* and pg_tblspc/[0-9]* both lead to" "$T/twolinks.err" \
  || { cat "$T/twolinks.err" >&2; die "two links to one directory: no error naming them"; }
[ ! -e "$T/twolinks-dest" ] || die "two links to one directory: the destination was written"
log "keep: two pg_tblspc links to one directory refused"

# ------------------------------------------------------------------ keep
log "keep: the round trip (roundtrip.sh $MAJOR with PGTEST_TABLESPACE=1: --tablespaces keep)"
mkdir -p "$T/rt" && chmod 755 "$T/rt"
P2L_TEST_DIR=$T/rt P2L_TEST_NAME=t_tablespaces_keep P2L_IT_MAJORS=$MAJOR \
  bash "$(dirname "$0")/roundtrip.sh" "$MAJOR" 0 || die "keep round trip failed"
log "all tablespace checks passed"
