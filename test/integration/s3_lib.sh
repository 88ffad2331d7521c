# shellcheck shell=bash
# test/integration/s3_lib.sh — helpers shared by the t_s3_*.sh tests (source after lib.sh).
#
#   s3_setup [s3-server.sh options]   skip without node or /usr/bin/aws; start the SigV4-verifying
#                  server with buckets src and dst and a non-default key pair; exports AWS_* for
#                  the importer and sets AWSCLI (the standard client, Debian's awscli) and S3_SECRET
#   awscli ARGS... /usr/bin/aws against that server; awscp ARGS...: its quiet "s3 cp"
#   s3_put_marker PREFIX JSON         upload PREFIX/status/pgdata with the standard client
#   expect_fail CODE PATTERN CMD...   CMD must exit CODE (or any non-zero for "nz") with PATTERN in
#                  its stdout or stderr ($P2L_TEST_DIR/out, err); the secret must not appear in stdout/stderr
#   norm_tree DIR  print one line per file of a pageserver remote storage tree: path and md5, with
#                  index_part's run-dependent fields (timestamps, plan fingerprint) removed
S3_KEY_ID=P2LTESTKEYID01
S3_SECRET='p2l+Test/Secret-9f3a'

s3_setup() {
  command -v node >/dev/null || skip "node is not installed (needed for the S3 test server)"
  AWSCLI=/usr/bin/aws   # Debian's awscli (a pyenv shim named aws may come first on PATH)
  [ -x "$AWSCLI" ] || skip "awscli is not installed (/usr/bin/aws; scripts/install-deps.sh)"
  start_s3 --bucket src --bucket dst --key "$S3_KEY_ID" --secret "$S3_SECRET" "$@"
  export AWS_ACCESS_KEY_ID=$S3_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION AWS_PROFILE
  # awscli must not read a user's config or credentials
  export AWS_CONFIG_FILE=$P2L_TEST_DIR/aws-config AWS_SHARED_CREDENTIALS_FILE=/dev/null
  printf '[default]\ns3 =\n    max_concurrent_requests = 16\n' > "$AWS_CONFIG_FILE"
}
awscli() { "$AWSCLI" --endpoint-url "$S3_ENDPOINT" "$@"; }
awscp() { awscli s3 cp --only-show-errors "$@"; }
s3_put_marker() {
  printf '%s' "$2" > "$P2L_TEST_DIR/marker.json"
  awscp "$P2L_TEST_DIR/marker.json" "s3://$1/status/pgdata"
}

expect_fail() {
  local code=$1 pat=$2 rc=0; shift 2
  "$@" >"$P2L_TEST_DIR/out" 2>"$P2L_TEST_DIR/err" || rc=$?
  if [ "$code" = nz ]; then
    [ "$rc" -ne 0 ] || die "'$*' succeeded, expected a failure"
  else
    [ "$rc" = "$code" ] || { tail -5 "$P2L_TEST_DIR/err" >&2; die "'$*' exited $rc, expected $code"; }
  fi
  # (with --json the error is an event on stdout)
  cat "$P2L_TEST_DIR/out" "$P2L_TEST_DIR/err" > "$P2L_TEST_DIR/both"
  grep -q -- "$pat" "$P2L_TEST_DIR/both" || { tail -5 "$P2L_TEST_DIR/both" >&2; die "'$*': error does not mention '$pat'"; }
  if grep -qF -- "$S3_SECRET" "$P2L_TEST_DIR/out" "$P2L_TEST_DIR/err"; then die "the secret appears in the output of '$*'"; fi
  log "expected failure ($rc): $(grep -- "$pat" "$P2L_TEST_DIR/both" | tail -1 | head -c 400)"
}

norm_tree() {
  python3 - "$1" <<'EOF'
import hashlib, json, os, sys
root = sys.argv[1]
for d, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        p = os.path.join(d, f)
        data = open(p, "rb").read()
        if f.startswith("index_part.json"):
            j = json.loads(data)
            rec = j["import_pgdata"]["V1"]
            for st in rec.values():
                for k in ("started_at", "finished_at"):
                    st.pop(k, None)
            j.get("pgdata2layers", {}).pop("plan_fingerprint", None)
            data = json.dumps(j, sort_keys=True).encode()
        print(os.path.relpath(p, root), hashlib.md5(data).hexdigest())
EOF
}
