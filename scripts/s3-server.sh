#!/usr/bin/env bash
# s3-server.sh — start a local S3-compatible server on 127.0.0.1 in the background.
#
#   s3-server.sh [--port N] [--dir DIR] [--bucket NAME]... [--key ID --secret S]
#                [--no-patch] [--allow-anonymous] [--tools DIR]
#   s3-server.sh stop --dir DIR
#   s3-server.sh install          only install (idempotent, quiet when installed)
#
#   --port N    listen port on 127.0.0.1 (default 0 = pick a free one)
#   --dir DIR   pid file, log and the stored objects (DIR/data) (default: a new mktemp dir)
#   --bucket    bucket to create (repeatable; default: testbucket)
#
# Server: npm @20minutes/s3rver@4.0.4 (a maintained fork of s3rver that, unlike s3rver 3.7.1,
# really verifies AWS SigV4 signatures), run by Node >= 20, on 127.0.0.1 only.
# By default a patched copy is used (the pristine package stays untouched next to it); the
# patches make it closer to real S3 (see FINDINGS.md):
#   P1 ListObjects(V2): keys in byte order, CommonPrefixes also for "directories" that hold only
#      deeper keys (PGDATA's base/), MaxKeys counts keys+prefixes, KeyCount likewise.
#   P2 Range: "bytes=-N" = last N bytes (was: first N+1), "bytes=0-0" = 1 byte (was: whole
#      object), "bytes=B-A" with A<B is ignored (200, whole object), ranges on 0-byte objects: 416.
#   P3 Unsigned (anonymous) requests get 403 AccessDenied like a private bucket (was: allowed).
#      --allow-anonymous turns this off.
#   P4 SigV4 canonical URI keeps a trailing "/" on bucket URLs ("/bucket/?list-type=2"), as S3 does.
#   P5 A PUT becomes visible only once its whole body arrived, as on S3 (was: the body streamed into
#      the final file, so a client killed mid-PUT left a truncated object that GETs returned).
# Not fixed (know them): payload hash (x-amz-content-sha256) is not compared with the body;
# multipart ETag is the md5 of the whole object (S3: md5-of-part-md5s + "-N"); query parameters are
# canonicalised with encodeURIComponent (differs from S3 only for ! ' ( ) *); no clock-skew check.
#
# Prints shell assignments (eval-able) on stdout:
#   S3_ENDPOINT=http://127.0.0.1:PORT S3_REGION=us-east-1 S3_ACCESS_KEY=... S3_SECRET_KEY=...
#   S3_BUCKETS=... S3_PORT=... S3_PID=... S3_DIR=... S3_LOG=...
# Install location: $S3TEST_TOOLS, else $PGTEST_TOOLS/s3rver-fork (default /opt/pgtest/s3rver-fork);
# the first start on a machine runs npm install (~15 s), later starts take ~0.5 s.
# and how to stop it on stderr. Stop with: kill "$S3_PID"   (or: s3-server.sh stop --dir DIR)
set -euo pipefail

FORK_VERSION=4.0.4
PORT=0
DIR=""
BUCKETS=()
KEY=S3RVER SECRET=S3RVER
PATCH=1 ANON=0
TOOLS=${S3TEST_TOOLS:-${PGTEST_TOOLS:-/opt/pgtest}/s3rver-fork}
CMD=start

log() { printf '[s3-server] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "${1:-}" in stop|install) CMD=$1; shift ;; esac
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --bucket) BUCKETS+=("$2"); shift 2 ;;
    --key) KEY=$2; shift 2 ;;
    --secret) SECRET=$2; shift 2 ;;
    --no-patch) PATCH=0; shift ;;
    --allow-anonymous) ANON=1; shift ;;
    --tools) TOOLS=$2; shift 2 ;;
    -h|--help) sed -n '2,36p' "$0" >&2; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
if [ "$CMD" = stop ]; then
  [ -n "$DIR" ] || die "stop needs --dir DIR"
  PIDFILE="$DIR/server.pid"
  [ -f "$PIDFILE" ] || die "no $PIDFILE"
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    log "stopped pid $pid"
  else
    log "pid $pid was not running"
  fi
  rm -f "$PIDFILE"; exit 0
fi


# ------------------------------------------------------------------ install (idempotent, quiet)
command -v node >/dev/null || die "node not found (Node.js >= 20 is needed)"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || die "Node $NODE_MAJOR is too old; @20minutes/s3rver@$FORK_VERSION needs >= 20 (5.x needs >= 24)"
command -v curl >/dev/null || die "curl not found"
PKG="$TOOLS/node_modules/@20minutes/s3rver"
if ! grep -q "\"version\": \"$FORK_VERSION\"" "$PKG/package.json" 2>/dev/null; then
  mkdir -p "$TOOLS"
  (
    flock -w 600 9 || die "timed out waiting for $TOOLS/.install.lock"
    if ! grep -q "\"version\": \"$FORK_VERSION\"" "$PKG/package.json" 2>/dev/null; then
      command -v npm >/dev/null || die "npm not found"
      log "npm install @20minutes/s3rver@$FORK_VERSION into $TOOLS"
      [ -f "$TOOLS/package.json" ] || echo '{"name":"pgtest-s3server","private":true}' > "$TOOLS/package.json"
      (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error --save-exact \
          "@20minutes/s3rver@$FORK_VERSION" </dev/null >/dev/null) \
        || die "npm install @20minutes/s3rver@$FORK_VERSION failed"
    fi
  ) 9>"$TOOLS/.install.lock"
  grep -q "\"version\": \"$FORK_VERSION\"" "$PKG/package.json" 2>/dev/null || die "$PKG missing after the install"
fi
[ "$CMD" = install ] && exit 0

[ ${#BUCKETS[@]} -gt 0 ] || BUCKETS=(testbucket)
[[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port '$PORT'"
if [ "$PORT" = 0 ]; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
    || die "could not pick a free port (python3 missing?)"
fi
[ -n "$DIR" ] || DIR=$(mktemp -d /tmp/p2l-s3.XXXXXX)
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd -P)
PIDFILE="$DIR/server.pid" LOGFILE="$DIR/server.log" STORE="$DIR/data"

# The patched copy is re-made from the pristine package at every start (cheap, always consistent)
# in DIR, so concurrent starts (parallel tests) never see each other's half-written copy; NODE_PATH
# lets require() find its dependencies in TOOLS/node_modules.
if [ "$PATCH" = 1 ]; then
  LIB="$DIR/patched-s3rver"
  rm -rf "$LIB"; cp -r "$PKG" "$LIB"
  node - "$LIB" <<'EOF'
const fs = require('fs'), path = require('path');
const root = process.argv[2];
function patch(file, pairs) {
  const p = path.join(root, file);
  let s = fs.readFileSync(p, 'utf8');
  for (const [before, after, count = 1] of pairs) {
    const n = s.split(before).length - 1;
    if (n !== count) throw new Error(`${file}: expected ${count} occurrence(s) of:\n${before}\nfound ${n}`);
    s = s.split(before).join(after);
  }
  fs.writeFileSync(p, s);
}
// P1 listing
patch('lib/stores/filesystem.js', [
[`        if (
          delimiterEnc &&
          dirPath.slice(prefixPath.length).indexOf(delimiterEnc) !== -1
        ) {`,
`        if (
          false && // pgtest P1: descend, so prefixes holding only deeper keys are found
          delimiterEnc &&
          dirPath.slice(prefixPath.length).indexOf(delimiterEnc) !== -1
        ) {`],
[`    for (const keyPath of it) {
      if (!keyPath.endsWith(objectSuffix)) {
        continue;
      }`,
`    // pgtest P1: collect all candidate keys, sort them in byte order, then page through
    // keys and common prefixes together (both count towards MaxKeys), like S3.
    const allKeys = [];
    for (const keyPath of it) {
      if (!keyPath.endsWith(objectSuffix)) continue;
      const k = FilesystemStore.decodeKeyPath(
        keyPath.slice(bucketPath.length + 1, -objectSuffix.length),
      );
      if (k <= startAfter || !k.startsWith(prefix)) continue;
      allKeys.push(k);
    }
    allKeys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    let nextKey;
    let count = 0;
    for (const key of allKeys) {
      let cp;
      if (delimiter) {
        const i = key.slice(prefix.length).indexOf(delimiter);
        if (i !== -1) cp = key.slice(0, prefix.length + i + delimiter.length);
      }
      if (cp !== undefined && (commonPrefixes.has(cp) || startAfter.startsWith(cp))) continue;
      if (count >= maxKeys) {
        isTruncated = true;
        break;
      }
      count++;
      if (cp !== undefined) commonPrefixes.add(cp);
      else keys.push(key);
      nextKey = cp !== undefined ? cp : key;
    }
    for (const keyPath of []) {
      if (!keyPath.endsWith(objectSuffix)) {
        continue;
      }`],
[`      isTruncated,
    };`,
`      isTruncated,
      nextKey,
    };`],
]);
patch('lib/controllers/bucket.js', [
[`result.objects[result.objects.length - 1].key`, `result.nextKey`, 2],
[`KeyCount: result.objects.length,`, `KeyCount: result.objects.length + result.commonPrefixes.length,`],
]);
// P2 ranges
patch('lib/controllers/object.js', [
[`    const [start, end] = ctx.headers.range.replace('bytes=', '').split('-');
    options.start = Number(start);
    if (end) options.end = Number(end);`,
`    const [start, end] = ctx.headers.range.replace('bytes=', '').split('-');
    // pgtest P2: suffix ranges, bytes=0-0, and ignore (RFC 7233) a last-byte < first-byte range
    if (start === '' && end !== '') {
      options.suffix = Number(end);
    } else if (!(end !== '' && Number(end) < Number(start))) {
      options.start = Number(start);
      if (end !== '') options.end = Number(end);
    }`],
]);
patch('lib/stores/filesystem.js', [
[`      const range = {
        start: (options && options.start) || 0,
        end: Math.min((options && options.end) || Infinity, lastByte),
      };`,
`      // pgtest P2
      const size = Number(metadata['content-length']);
      const ranged =
        options && (options.start !== undefined || options.suffix !== undefined);
      const lastIdx = ranged ? size - 1 : lastByte;
      const range =
        options && options.suffix !== undefined
          ? { start: Math.max(0, size - options.suffix), end: lastIdx }
          : {
              start: (options && options.start) || 0,
              end: Math.min(
                options && options.end !== undefined ? options.end : Infinity,
                lastIdx,
              ),
            };`],
[`if (options && (options.start !== undefined || options.end)) {`,
 `if (ranged) {`, 2],
]);
// P5 a PUT becomes visible only when its whole body arrived (as on S3). Upstream streams the body
// into the final file, so a client killed mid-PUT left a truncated object (0 bytes, old metadata)
// that a later GET returned as if complete. Now: write aside, compare the byte count with the
// request's Content-Length, then rename content, md5 and metadata in one synchronous step (no
// other request runs in between); on any error remove the temporaries and keep the old object.
patch('lib/stores/filesystem.js', [
[`    await ensureDir(path.dirname(objectPath));
    const [size, md5] = await this.putContent(objectPath, object.content);
    await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size, md5 };`,
`    await ensureDir(path.dirname(objectPath));
    // pgtest P5
    FilesystemStore.pgtestSeq = (FilesystemStore.pgtestSeq || 0) + 1;
    const tmp = \`\${objectPath}.pgtest-upload-\${process.pid}-\${FilesystemStore.pgtestSeq}\`;
    const req = object.content;
    const declared =
      req && !Buffer.isBuffer(req) && req.headers && req.headers['content-length'] !== undefined
        ? Number(req.headers['content-length'])
        : undefined;
    let size, md5;
    try {
      [size, md5] = await this.putContent(tmp, object.content);
      if (declared !== undefined && size !== declared) {
        const S3Error = require('../models/error');
        throw new S3Error(
          'IncompleteBody',
          'You did not provide the number of bytes specified by the Content-Length HTTP header',
        );
      }
      const json = {
        ...pick(object.metadata, S3Object.ALLOWED_METADATA),
        ...pickBy(object.metadata, (value, key) => key.startsWith('x-amz-meta-')),
      };
      await fs.writeFile(\`\${tmp}.md5\`, md5);
      await fs.writeFile(\`\${tmp}.json\`, JSON.stringify(json, null, 2));
      const { renameSync } = require('fs');
      renameSync(tmp, objectPath);
      renameSync(\`\${tmp}.md5\`, this.getResourcePath(object.bucket, object.key, 'object.md5'));
      renameSync(\`\${tmp}.json\`, this.getResourcePath(object.bucket, object.key, 'metadata.json'));
    } catch (err) {
      for (const s of ['', '.md5', '.json']) await fs.unlink(tmp + s).catch(() => {});
      throw err;
    }
    return { size, md5 };`],
]);
// P3 anonymous, P4 trailing slash
patch('lib/middleware/authentication.js', [
[`    if (mechanismCount === 0) {
      return next();
    }`,
`    if (mechanismCount === 0) {
      // pgtest P3: a private bucket refuses unsigned requests
      if (process.env.S3TEST_ALLOW_ANONYMOUS === '1') return next();
      throw new S3Error('AccessDenied', 'Access Denied');
    }`],
[`    canonicalizedResource = canonicalizedResource
      .split('/')
      .map(encodeURIComponentRFC3986)
      .join('/');`,
`    canonicalizedResource = canonicalizedResource
      .split('/')
      .map(encodeURIComponentRFC3986)
      .join('/');
    // pgtest P4: keep the trailing slash of "/bucket/" as S3 does
    if (ctx.params.bucket && !ctx.params.key && ctx.path.endsWith('/') &&
        !canonicalizedResource.endsWith('/')) {
      canonicalizedResource += '/';
    }`],
]);
EOF
else
  LIB="$PKG"
fi

cat > "$DIR/run-s3server.js" <<'EOF'
// run-s3server.js LIBDIR PORT STOREDIR KEY SECRET BUCKET...
const [lib, port, dir, key, secret, ...buckets] = process.argv.slice(2);
const S3rver = require(lib);
const { DUMMY_ACCOUNT } = require(lib + '/lib/models/account');
if (key !== 'S3RVER') {
  DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  DUMMY_ACCOUNT.createKeyPair(key, secret);
} else if (secret !== 'S3RVER') {
  DUMMY_ACCOUNT.createKeyPair(key, secret);
}
const server = new S3rver({
  address: '127.0.0.1', port: Number(port), directory: dir, silent: false,
  configureBuckets: buckets.map((name) => ({ name })),
});
server.run().then((a) => console.log(`s3rver listening on ${a.address}:${a.port}`),
                  (e) => { console.error(e); process.exit(1); });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
EOF

# ------------------------------------------------------------------ start
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  die "already running with pid $(cat "$PIDFILE") (stop it: $0 stop --dir $DIR)"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then die "127.0.0.1:$PORT is already in use"; fi
mkdir -p "$STORE"
# --openssl-legacy-provider: the ListObjectsV2 continuation token uses DES, which OpenSSL 3 only
# has in its legacy provider (without it every truncated listing is a 500 InternalError).
# Not setsid/nohup: it stays in the caller's process group, so a test runner's timeout reaches it.
NODE_PATH="$TOOLS/node_modules" S3TEST_ALLOW_ANONYMOUS=$ANON NODE_OPTIONS="--openssl-legacy-provider${NODE_OPTIONS:+ $NODE_OPTIONS}" \
  node "$DIR/run-s3server.js" "$LIB" "$PORT" "$STORE" "$KEY" "$SECRET" "${BUCKETS[@]}" \
  > "$LOGFILE" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$PIDFILE"

for _ in $(seq 100); do
  if ! kill -0 "$PID" 2>/dev/null; then tail -20 "$LOGFILE" >&2; rm -f "$PIDFILE"; die "server exited"; fi
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/" || true)
  [ "$code" != 000 ] && break
  sleep 0.1
done
[ "${code:-000}" != 000 ] || { kill "$PID"; rm -f "$PIDFILE"; die "no answer on 127.0.0.1:$PORT within 10 s"; }
# signed ListBuckets must work
curl -sS -f -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user "$KEY:$SECRET" \
     -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "http://127.0.0.1:$PORT/" \
  || { kill "$PID"; rm -f "$PIDFILE"; die "signed ListBuckets failed"; }

printf 'S3_ENDPOINT=%q S3_REGION=us-east-1 S3_ACCESS_KEY=%q S3_SECRET_KEY=%q S3_BUCKETS=%q S3_PORT=%q S3_PID=%q S3_DIR=%q S3_LOG=%q\n' \
  "http://127.0.0.1:$PORT" "$KEY" "$SECRET" "${BUCKETS[*]}" "$PORT" "$PID" "$DIR" "$LOGFILE"
log "s3rver $FORK_VERSION ($([ "$PATCH" = 1 ] && echo patched || echo pristine)) pid $PID on http://127.0.0.1:$PORT, data in $STORE, buckets: ${BUCKETS[*]}"
log "stop it with: kill $PID   (or: $0 stop --dir $DIR)"
