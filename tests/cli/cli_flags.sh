#!/usr/bin/env bash
# The command line all three programs share (CLI11): --version prints
# "NAME fluss_fetch X.Y.Z", --help lists the options with their defaults
# (exit 0), --opt=value is --opt value, a usage error is exit 2 with one line
# naming the flag; the AWS CLI's S3 flags and their environment fallbacks
# against s3rver: --profile over AWS_PROFILE, AWS_PROFILE alone, --endpoint
# over AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_S3 alone, --region,
# --path-style, --no-sign-request (no credentials looked up).
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" cli-flags
get="$build/examples/fluss-get/fluss-get"
version="$(grep -E '^CMAKE_PROJECT_VERSION:' "$build/CMakeCache.txt" | cut -d= -f2-)"
[ -n "$version" ] || fail "no CMAKE_PROJECT_VERSION in the build's cache"

# run PROGRAM ARGS...: sets rc, out, err.
run() {
  set +e
  out="$("$@" 2>"$work/err")"
  rc=$?
  set -e
  err="$(cat "$work/err")"
}

# 1. --version and --help, for each program.
for p in "$get:fluss-get" "$gen:fluss-gen" "$replay:fluss-replay"; do
  bin="${p%%:*}" name="${p##*:}"
  run "$bin" --version
  [ "$rc" -eq 0 ] && [ "$out" = "$name fluss_fetch $version" ] || fail "$name --version: exit $rc, '$out'"
  run "$bin" --help
  [ "$rc" -eq 0 ] || fail "$name --help: exit $rc ($err)"
  for flag in --endpoint --region --profile --ca-file --path-style --no-sign-request --version; do
    grep -q -- "$flag" <<<"$out" || fail "$name --help does not list $flag"
  done
  grep -q "AWS_PROFILE" <<<"$out" || fail "$name --help does not name AWS_PROFILE"
  # An unknown flag and a flag without its value: exit 2, one line naming the flag.
  run "$bin" --no-such-flag
  [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q -- "--no-such-flag" <<<"$err" \
    || fail "$name --no-such-flag: exit $rc: $err"
  run "$bin" --region
  [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q -- "--region" <<<"$err" \
    || fail "$name --region without a value: exit $rc: $err"
done
# Defaults in --help.
run "$replay" --help
grep -Eq -- "--prefetch-num N=4 " <<<"$out" || fail "fluss-replay --help lacks --prefetch-num's default: $out"
grep -Eq -- "--max-temp-bytes SIZE=4G " <<<"$out" || fail "fluss-replay --help lacks --max-temp-bytes's default"
run "$gen" --help
grep -Eq -- "--keys N=10000 " <<<"$out" || fail "fluss-gen --help lacks --keys's default: $out"
run "$get" --help
grep -Eq -- "--concurrency M=3 " <<<"$out" || fail "fluss-get --help lacks --concurrency's default: $out"
# Bad values name the flag.
run "$replay" --remote-log-dir file:///x/log/db/t-1/0 --schema "id INT" --primary-key id --prefetch-num=many
[ "$rc" -eq 2 ] && grep -q -- "--prefetch-num: 'many' is not a non-negative integer" <<<"$err" \
  || fail "--prefetch-num=many: exit $rc: $err"
run "$get" --concurrency=0 -o "$work/x" s3://b/k
[ "$rc" -eq 2 ] && grep -q -- "--concurrency" <<<"$err" || fail "--concurrency=0: exit $rc: $err"

# 2. --opt=value and --opt value give the same tablet.
a="$("$gen" --out="file://$work/eq" --segments=1 --segment-size=20K --keys=50 --seed=3 --expected-kv="$work/eq.kv" | tail -n1)"
b="$("$gen" --out "file://$work/eq2" --segments 1 --segment-size 20K --keys 50 --seed 3 --expected-kv "$work/eq2.kv" | tail -n1)"
cmp -s "$work/eq.kv" "$work/eq2.kv" || fail "--opt=value and --opt value differ"
"$replay" --remote-log-dir="$a" --schema="$schema" --primary-key=id --temp-dir="$work/tmp" --no-progress \
  --dump-kv="$work/eq.dump" >/dev/null || fail "replay with --opt=value failed"
cmp -s "$work/eq.kv" "$work/eq.dump" || fail "replay with --opt=value: state differs"
[ "$b" = "file://$work/eq2/log/fluss/orders-1001/0" ] || fail "unexpected tablet URI $b"

# 3. The S3 flags against s3rver.
. "$src/scripts/lib/s3rver.sh"
start_s3rver "$work" lake "$src" || fail "s3rver did not start"
pids+=("$s3pid")
tablet="$("$gen" --out s3://lake/wh --endpoint "$endpoint" --segments 1 --segment-size 20K --keys 50 --seed 4 \
  --expected-kv "$work/s3.kv" | tail -n1)"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_CONFIG_FILE="$work/no-config" AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOF
[good]
aws_access_key_id = S3RVER
aws_secret_access_key = S3RVER

[bad]
aws_access_key_id = S3RVER
aws_secret_access_key = not-the-secret-$RANDOM
EOF
replay_s3() {  # ARGS...: replay the s3 tablet; sets rc, err
  run "$replay" --remote-log-dir "$tablet" --schema "$schema" --primary-key id --temp-dir "$work/tmp" \
    --no-progress --dump-kv "$work/s3.dump" "$@"
}
AWS_PROFILE=bad replay_s3 --endpoint "$endpoint" --profile good
[ "$rc" -eq 0 ] && cmp -s "$work/s3.kv" "$work/s3.dump" || fail "--profile good over AWS_PROFILE=bad: exit $rc: $err"
AWS_PROFILE=good replay_s3 --endpoint "$endpoint"
[ "$rc" -eq 0 ] || fail "AWS_PROFILE=good: exit $rc: $err"
AWS_PROFILE=bad replay_s3 --endpoint "$endpoint"
[ "$rc" -eq 1 ] && grep -q SignatureDoesNotMatch <<<"$err" || fail "AWS_PROFILE=bad: exit $rc: $err"
AWS_PROFILE=good AWS_ENDPOINT_URL_S3=http://127.0.0.1:1 replay_s3 --endpoint "$endpoint" --region us-east-1 --path-style
[ "$rc" -eq 0 ] || fail "--endpoint over AWS_ENDPOINT_URL_S3: exit $rc: $err"
AWS_PROFILE=good AWS_ENDPOINT_URL_S3="$endpoint" AWS_ENDPOINT_URL=http://127.0.0.1:1 replay_s3
[ "$rc" -eq 0 ] || fail "AWS_ENDPOINT_URL_S3 alone: exit $rc: $err"
# --no-sign-request: no credentials needed (none are set and no profile exists).
AWS_SHARED_CREDENTIALS_FILE="$work/none" replay_s3 --endpoint "$endpoint"
[ "$rc" -eq 1 ] || fail "no credentials at all: exit $rc, want 1: $err"
AWS_SHARED_CREDENTIALS_FILE="$work/none" replay_s3 --endpoint "$endpoint" --no-sign-request
if [ "$rc" -ne 0 ]; then
  # s3rver may refuse anonymous requests; then it must be its answer, not a credentials lookup.
  grep -Eq "AccessDenied|403" <<<"$err" || fail "--no-sign-request: exit $rc: $err"
fi
grep -qi "credentials" <<<"$err" && fail "--no-sign-request looked for credentials: $err"
run "$get" --endpoint "$endpoint" --profile good -o "$work/got" "${tablet%/}/"
[ "$rc" -eq 0 ] && [ -n "$(find "$work/got" -name '*.log')" ] || fail "fluss-get --profile: exit $rc: $err"
exec 3>&-
echo "CLI flags: all checks passed"
