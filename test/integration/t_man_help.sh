#!/usr/bin/env bash
# man/pgdata2layers.1, --help, bash completion and `make install` (issues #2, #8):
#   - the man page renders without warnings (groff -man -ww; man --warnings -l when man exists);
#   - every subcommand and every flag of the top-level and every subcommand's --help appears in
#     it, and so do the exit codes and the sections the issue asks for;
#   - `completion bash` is valid bash and completes subcommands, flags and enumerated values;
#   - `make install` puts the binary, the man page and the completion under DESTDIR/PREFIX.
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
MAN=$P2L_ROOT/man/pgdata2layers.1
[ -f "$MAN" ] || die "no $MAN"

# 1. renders without warnings
command -v groff >/dev/null || skip "groff is not installed"
groff -man -ww -z "$MAN" 2> "$T/groff.err"
[ ! -s "$T/groff.err" ] || die "groff warnings: $(head -5 "$T/groff.err")"
if command -v man >/dev/null; then
  MANWIDTH=100 man --warnings -l "$MAN" > "$T/man.txt" 2> "$T/man.err"
  [ ! -s "$T/man.err" ] || die "man warnings: $(head -5 "$T/man.err")"
  [ -s "$T/man.txt" ] || die "man rendered nothing"
fi

# 2. every flag of every --help is in the page (source with \- as -, fonts removed)
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\fR//g' "$MAN" > "$T/man.src"
"$P2L_BIN" --help > "$T/help.top"
subs=$(awk 'tolower($0) ~ /^subcommands:/{on=1; next} on && NF {print $1}' "$T/help.top")
[ -n "$subs" ] || die "no subcommands in --help: $(cat "$T/help.top")"
missing=""
for s in $subs; do
  grep -q "^\.SS $s\$" "$T/man.src" || missing+=" subcommand:$s"
  "$P2L_BIN" "$s" --help > "$T/help.$s"
  for f in $(grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' "$T/help.$s" | sed 's/^[ ,]//' | sort -u); do
    grep -qE -- "(^|[^a-z0-9-])$f([^a-z0-9-]|\$)" "$T/man.src" || missing+=" $s:$f"
  done
done
for f in $(grep -oE -- '--[a-z][a-z0-9-]*' "$T/help.top" | sort -u); do
  grep -q -- "$f" "$T/man.src" || missing+=" top:$f"
done
[ -z "$missing" ] || die "not in the man page:$missing"
for sec in NAME SYNOPSIS DESCRIPTION "COMMON OPTIONS" PROGRESS "JSON OUTPUT" LOGGING ENVIRONMENT \
  "OUTPUT LAYOUT" "EXIT STATUS" EXAMPLES; do
  grep -q "^\.SH \"\\{0,1\\}$sec" "$T/man.src" || die "no section $sec"
done
for code in 0 2 3 4 5 6 7 70; do
  grep -q "^\.B $code\$" "$T/man.src" || die "exit code $code not documented"
done
for word in PGDATA2LAYERS_NOTIFY_TOKEN AWS_ACCESS_KEY_ID AZURE_STORAGE_KEY cron import-sharded.sh \
  "--shard-count 4" "s3://" summary progress; do
  grep -qF -- "$word" "$T/man.src" || die "the man page does not mention $word"
done

# 3. bash completion generated from the CLI definition
"$P2L_BIN" completion bash > "$T/completion.bash"
bash -n "$T/completion.bash" || die "completion script is not valid bash"
complete_words() {   # complete_words WORD... : what <TAB> after these words offers
  bash -c '. "$1"; shift; COMP_WORDS=(pgdata2layers "$@"); COMP_CWORD=$#; _pgdata2layers; echo "${COMPREPLY[*]}"' \
    _ "$T/completion.bash" "$@"
}
assert_eq "subcommands" "import" "$(complete_words imp)"
assert_eq "import --prog" "--progress --progress-interval" "$(complete_words import --prog)"
assert_eq "import --progress" "auto always never" "$(complete_words import --progress '')"
assert_eq "import --compression z" "zstd" "$(complete_words import --compression z)"
assert_eq "plan --log-level" "debug" "$(complete_words plan --log-level d)"
assert_eq "value of --source" "" "$(complete_words import --source '')"

# 4. make install
make -s -C "$P2L_ROOT" install BIN="$P2L_BIN" -o "$P2L_BIN" DESTDIR="$T/root" PREFIX=/opt/p2l > "$T/install.out" 2>&1 \
  || die "make install failed: $(cat "$T/install.out")"
[ -x "$T/root/opt/p2l/bin/pgdata2layers" ] || die "binary not installed"
cmp -s "$MAN" "$T/root/opt/p2l/share/man/man1/pgdata2layers.1" || die "man page not installed"
cmp -s "$T/completion.bash" "$T/root/opt/p2l/share/bash-completion/completions/pgdata2layers" || die "completion not installed"
log "ok"
