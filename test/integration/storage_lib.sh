# shellcheck shell=bash
# test/integration/storage_lib.sh — checks shared by the object-store backend tests
# (t_s3_storage.sh, t_azure_storage.sh; through azure_helpers.sh also t_azure_import.sh).
# Source after lib.sh; W must be set (a work directory). CMD below is a shell function running
# test/tools/storage_tool against the store (e.g. s3, az), URL the storage root.
#   slice FILE OFFSET LEN             those bytes of FILE
#   expect_fail CODE PATTERN CMD...   CMD must exit with CODE and print PATTERN on stderr
#                                     (stdout/stderr kept in $W/out, $W/err; both also appended
#                                     to $EXPECT_FAIL_LOG when set)
#   check_pagination CMD URL N        N objects + 2 sub-directories under many/: listing, order,
#                                     recursive listing (leaves $W/ls, $W/lsr, $W/names)
#   check_ranged_reads CMD URL        a 5000000-byte object data/r5m ($W/r5m): stat and ranged reads
#   check_small_ops CMD URL MISSING BADVER   PutIfAbsent, Delete, Stat of a deleted object (error
#                                     MISSING), reads of data/r5m checked against its version
#                                     (sets R5M_VERSION) and against BADVER or a wrong size
#   (start_fault_proxy is in lib.sh)
#   check_through_proxy PX CMD URL FILE RANGE...   through the proxy (function PX): the listings
#                                     equal $W/ls and $W/lsr, ranged reads of data/FILE ($W/FILE),
#                                     60 small puts, PutIfAbsent
#   check_total_failure PF URL RANGE  every request fails (function PF): clear errors, exit 4

slice() { dd if="$1" bs=64K iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }

expect_fail() {
  local code=$1 pat=$2 rc=0; shift 2
  "$@" >"$W/out" 2>"$W/err" || rc=$?
  [ "$rc" = "$code" ] || { cat "$W/err" >&2; die "'$*' exited $rc, expected $code"; }
  [ -z "${EXPECT_FAIL_LOG:-}" ] || cat "$W/out" "$W/err" >> "$EXPECT_FAIL_LOG"
  grep -q -- "$pat" "$W/err" || { cat "$W/err" >&2; die "'$*': error does not mention '$pat'"; }
  log "expected failure ($code): $(head -c 300 "$W/err")"
}

check_pagination() {
  local cmd=$1 url=$2 n=$3
  echo x > "$W/x"
  "$cmd" "$url" put many/sub1/x "$W/x"
  "$cmd" "$url" put many/sub2/deeper/y "$W/x"
  "$cmd" "$url" ls many/ > "$W/ls"
  assert_eq "objects listed" "$n" "$(grep -c '^obj ' "$W/ls")"
  assert_eq "prefixes listed" "dir many/sub1/ dir many/sub2/" "$(grep '^dir ' "$W/ls" | tr '\n' ' ' | sed 's/ $//')"
  grep '^obj ' "$W/ls" | awk '{print $2}' > "$W/names"
  LC_ALL=C sort -c "$W/names" || die "listing not in byte order"
  assert_eq "first/last" "many/obj-00000 $(printf 'many/obj-%05d' $((n - 1)))" "$(head -1 "$W/names") $(tail -1 "$W/names")"
  "$cmd" "$url" ls-r many/ > "$W/lsr"
  assert_eq "recursive count" $((n + 2)) "$(wc -l < "$W/lsr")"
  assert_eq "root listing" "dir many/" "$("$cmd" "$url" ls)"
}

check_ranged_reads() {
  local cmd=$1 url=$2 range
  log "ranged reads"
  head -c 5000000 /dev/urandom > "$W/r5m"
  "$cmd" "$url" put-file data/r5m "$W/r5m"
  assert_eq "stat size" 5000000 "$("$cmd" "$url" stat data/r5m | awk '{print $2}')"
  for range in "0 1" "4999999 1" "1000 100000" "123457 3000000" "0 5000000"; do
    set -- $range
    "$cmd" "$url" get data/r5m "$1" "$2" > "$W/got"
    slice "$W/r5m" "$1" "$2" > "$W/want"
    assert_files_equal "$W/want" "$W/got"
  done
  "$cmd" --chunk 65536 "$url" get data/r5m > "$W/got"
  assert_files_equal "$W/r5m" "$W/got"
}

check_small_ops() {
  local cmd=$1 url=$2
  "$cmd" "$url" put-if-absent lock "$W/x"
  expect_fail 5 "already exists" "$cmd" "$url" put-if-absent lock "$W/x"
  "$cmd" "$url" delete lock
  expect_fail 3 "$3" "$cmd" "$url" stat lock
  "$cmd" "$url" delete lock   # absent: not an error
  R5M_VERSION=$("$cmd" "$url" stat data/r5m | awk '{print $3}')
  "$cmd" --expect-size 5000000 --expect-version "$R5M_VERSION" "$url" get data/r5m 0 10 > /dev/null
  expect_fail 7 "changed since planning" "$cmd" --expect-size 5000000 --expect-version "$4" "$url" get data/r5m 0 10
  expect_fail 7 "changed since planning" "$cmd" --expect-size 4999999 "$url" get data/r5m 0 10
}

check_through_proxy() {
  local px=$1 cmd=$2 url=$3 file=$4 range; shift 4
  "$px" "$url" ls many/ > "$W/ls2"
  assert_files_equal "$W/ls" "$W/ls2"
  "$px" "$url" ls-r many/ > "$W/lsr2"
  assert_files_equal "$W/lsr" "$W/lsr2"
  for range in "$@"; do
    set -- $range
    "$px" --chunk 500000 "$url" get "data/$file" "$1" "$2" > "$W/got"
    slice "$W/$file" "$1" "$2" > "$W/want"
    assert_files_equal "$W/want" "$W/got"
  done
  "$px" "$url" put-many viaproxy 60
  assert_eq "objects put through the proxy" 60 "$("$cmd" "$url" ls viaproxy/ | grep -c '^obj ')"
  "$px" "$url" put-if-absent lock2 "$W/x"
}

check_total_failure() {
  local pf=$1 url=$2 range=$3
  expect_fail 4 "gave up after 3 attempts\|HTTP 50[03]" "$pf" "$url" ls many/
  expect_fail 4 "gave up after 3 attempts\|HTTP 50[03]" "$pf" "$url" get data/r5m $range
  expect_fail 4 "gave up after 3 attempts\|HTTP 50[03]" "$pf" "$url" put y "$W/x"
}
