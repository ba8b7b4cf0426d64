#!/usr/bin/env bash
# Bad input at every edge of fluss-replay: bad flag values (exit 2), a
# manifest that is not JSON or lacks a field, a tablet dir without a manifest,
# an unreachable endpoint, wrong or unknown credentials, a TLS name mismatch
# and a full disk (exit 1). Each error line names what was wrong and where,
# no secret is printed, and nothing is left in the temp dir.
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" bad-input

# expect RC PATTERN ARGS...: run fluss-replay; its exit code must be RC, its
# stderr must match PATTERN (grep -E), and the temp dir must be empty after.
expect() {
  local want="$1" pattern="$2" rc err
  shift 2
  set +e
  err="$("$replay" --schema "$schema" --primary-key id --temp-dir "$work/tmp" --no-progress "$@" 2>&1 >/dev/null)"
  rc=$?
  set -e
  [ "$rc" -eq "$want" ] || fail "exit $rc, want $want, for: $* ($err)"
  grep -Eq -- "$pattern" <<<"$err" || fail "error does not match /$pattern/ for: $*: $err"
  [ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind for: $*: $(ls -A "$work/tmp")"
  [ -z "${VERBOSE:-}" ] || printf "%s\n  -> exit %s: %s\n" "$*" "$rc" "$err"
  last_err="$err"
}

tablet="$("$gen" --out "file://$work/remote" --segments 2 --segment-size 100K --keys 500 --seed 3 | tail -n1)"

# 1. Bad flag values: exit 2 naming the flag.
expect 2 "prefetch-num" --remote-log-dir "$tablet" --prefetch-num 0
expect 2 "prefetch-num" --remote-log-dir "$tablet" --prefetch-num many
expect 2 "download-threads" --remote-log-dir "$tablet" --download-threads -1
expect 2 "start-offset" --remote-log-dir "$tablet" --start-offset 1x
expect 2 "log-format" --remote-log-dir "$tablet" --log-format parquet
expect 2 "schema-id" --remote-log-dir "$tablet" --schema-id 40000
expect 1 "batch schema id 1 is not the schema id 7" --remote-log-dir "$tablet" --schema-id 7
expect 2 "no-such-flag" --remote-log-dir "$tablet" --no-such-flag

# 2. A manifest that is not JSON, and one that lacks a field: exit 1 naming the
#    manifest and the field.
manifest="$(find "$work/remote" -name '*.manifest' | head -n1)"
[ -n "$manifest" ] || fail "fluss-gen wrote no manifest"
cp "$manifest" "$work/good.manifest"
echo '{"version":1,"database":' >"$manifest"
expect 1 "$(basename "$manifest").*(JSON|json)" --remote-log-dir "$tablet"
sed 's/"size_in_bytes":[0-9]*,\{0,1\}//' "$work/good.manifest" | sed 's/,}/}/g' >"$manifest"
expect 1 "size_in_bytes" --remote-log-dir "$tablet"
grep -Eq "segment|[0-9a-f]{8}-[0-9a-f]{4}" <<<"$last_err" || fail "missing field error does not name the segment: $last_err"

# 3. A tablet dir with no manifest at all.
rm -f "$work/remote/log/fluss/orders-1001/0/metadata/"*
expect 1 "manifest" --remote-log-dir "$tablet"
cp "$work/good.manifest" "$manifest"

# 4. An unreachable endpoint (nothing listens on port 1): exit 1 naming the
#    endpoint's failure, after the retry budget (100 ms doubling: about 3 s).
AWS_ACCESS_KEY_ID=AK AWS_SECRET_ACCESS_KEY=SK \
  expect 1 "127\.0\.0\.1:1|[Cc]onnection refused" --remote-log-dir s3://lake/log/fluss/orders-1001/0 \
  --endpoint http://127.0.0.1:1

# 5. Wrong and unknown credentials against a real s3rver: exit 1 naming the S3
#    code, never the secret.
. "$src/scripts/lib/s3rver.sh"
start_s3rver "$work" lake "$src" || fail "s3rver did not start"
pids+=("$s3pid")
s3tablet="$("$gen" --out s3://lake/warehouse --endpoint "$endpoint" --segments 2 --segment-size 100K --keys 500 \
  --seed 5 | tail -n1)"
secret="wrong-secret-$RANDOM$RANDOM"
AWS_SECRET_ACCESS_KEY="$secret" expect 1 "SignatureDoesNotMatch" --remote-log-dir "$s3tablet" --endpoint "$endpoint"
grep -q "$secret" <<<"$last_err" && fail "the secret was printed: $last_err"
AWS_ACCESS_KEY_ID=NOBODY expect 1 "InvalidAccessKeyId|403" --remote-log-dir "$s3tablet" --endpoint "$endpoint"
expect 0 "" --remote-log-dir "$s3tablet" --endpoint "$endpoint"
exec 3>&-

# 6. TLS: a certificate for another name, signed by a CA the client trusts.
mkdir -p "$work/tls"
(
  cd "$work/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=fluss test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=other.invalid" 2>/dev/null
  printf 'subjectAltName=DNS:other.invalid\n' >ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile ext 2>/dev/null
) || fail "could not make test certificates"
mkdir -p "$work/s3tls"
start_s3rver "$work/s3tls" lake "$src" --key "$work/tls/server.key" --cert "$work/tls/server.pem" \
  || fail "TLS s3rver did not start"
pids+=("$s3pid")
expect 1 "TLS handshake .*(IP address|hostname) mismatch" --remote-log-dir "$s3tablet" --endpoint "${endpoint/http:/https:}" \
  --ca-file "$work/tls/ca.pem"
exec 3>&-

# 7. A full disk: the temp dir on a 256 KiB tmpfs in a mount namespace of our
#    own; segments of 1 MiB cannot fit. Exit 1 naming the temp path's error,
#    and the tmpfs empty afterwards.
big="$("$gen" --out "file://$work/big" --segments 2 --segment-size 1M --keys 2000 --seed 4 | tail -n1)"
ns=(unshare -m)
[ "$(id -u)" -eq 0 ] || ns=(unshare -rm)
if ! "${ns[@]}" true 2>/dev/null; then
  echo "SKIP: full-disk check: no mount namespace here (${ns[*]} failed)"
  exit 77
fi
set +e
err="$("${ns[@]}" bash -c '
  mount -t tmpfs -o size=256k tmpfs "$1" || exit 99
  "$2" --remote-log-dir "$3" --schema "$4" --primary-key id --temp-dir "$1" --no-progress >/dev/null
  rc=$?
  left="$(ls -A "$1")"
  [ -z "$left" ] || echo "LEFT: $left" >&2
  exit $rc' _ "$work/tmp" "$replay" "$big" "$schema" 2>&1)"
rc=$?
set -e
[ "$rc" -ne 99 ] || { echo "SKIP: full-disk check: cannot mount a tmpfs here ($err)"; exit 77; }
[ "$rc" -eq 1 ] || fail "full disk: exit $rc, want 1 ($err)"
grep -q "No space left on device" <<<"$err" || fail "full disk: error does not say so: $err"
grep -q "LEFT:" <<<"$err" && fail "full disk: files left on the tmpfs: $err"
echo "bad input CLI: all checks passed"
