#!/usr/bin/env bash
# fluss-replay --fluss-config server.yaml --table DB.TABLE --table-id N: the
# remote dir, S3 settings, prefetch-num and download-threads come from a Fluss
# server.yaml. A file: remote dir (Java's single-slash form) made with
# fluss-gen: the whole table, one bucket, one partition, each equal to the
# generator's state; command-line flags win over the file; against s3rver the
# file's s3a:// dir, bare endpoint, path style and keys are used (no AWS_*
# credentials in the environment), a flag wins over the file and the file over
# AWS_ENDPOINT_URL_S3; a bad line is exit 2 naming file:line; the file's secret
# is never printed, whatever fails.
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" fluss-config-cli
field() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
small=(--segments 2 --segment-size 40K --keys 300)

# A table of 3 buckets and a partitioned table (2 partitions x 2 buckets) under one root.
for b in 0 1 2; do
  "$gen" --out "file://$work/remote" "${small[@]}" --bucket "$b" --seed $((60 + b)) --expected-kv "$work/t.$b.kv" >/dev/null
done
for p in "2024-06-01 12" "2024-06-02 13"; do
  read -r name pid <<<"$p"
  for b in 0 1; do
    "$gen" --out "file://$work/remote" "${small[@]}" --table events --table-id 2002 --partition "$name" \
      --partition-id "$pid" --bucket "$b" --seed $((80 + 2 * pid + b)) --expected-kv "$work/p.$name-p$pid.$b.kv" >/dev/null
  done
done

secret="yaml-secret-$RANDOM$RANDOM"
cat >"$work/server.yaml" <<EOF
# A Fluss tablet server's configuration (flat key: value lines).
bind.listeners: FLUSS://localhost:9123
remote.data.dir: file:$work/remote   # Java writes file:/PATH

s3.access-key: AKIAFLUSSTEST
s3.secret-key: "$secret"
kv.recover.remote-log.prefetch-num: 2
kv.recover.remote-log.download-threads: '1'
EOF

# replay OUT ARGS...: fluss-replay with the schema; sets json (last stdout line), out and err.
replay_run() {
  set +e
  out="$("$replay" --schema "$schema" --primary-key id --temp-dir "$work/tmp" --no-progress --json "$@" 2>"$work/err")"
  rc=$?
  set -e
  err="$(cat "$work/err")"
  json="$(tail -n1 <<<"$out")"
  if grep -q -- "$secret" <<<"$out$err"; then fail "the yaml's secret was printed for: $*"; fi
  [ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind for: $*: $(ls -A "$work/tmp")"
}
ok() { replay_run "$@"; [ "$rc" -eq 0 ] || fail "exit $rc for: $* ($err)"; }

# 1. The whole table: every bucket, each the generator's state.
ok --fluss-config "$work/server.yaml" --table fluss.orders --table-id 1001 --dump-kv "$work/dump"
[ "$(field "$json" buckets)" = 3 ] || fail "whole table: buckets in $json"
for b in 0 1 2; do cmp -s "$work/t.$b.kv" "$work/dump/$b.tsv" || fail "whole table: bucket $b differs"; done

# 2. One bucket (--opt=value works too).
ok --fluss-config="$work/server.yaml" --table=fluss.orders --table-id=1001 --bucket=1 --dump-kv "$work/one.tsv"
cmp -s "$work/t.1.kv" "$work/one.tsv" || fail "--bucket 1: state differs"
grep -q '"next_offset":[0-9]' <<<"$json" || fail "--bucket 1: not a one-bucket summary: $json"

# 3. One partition, and one bucket of it.
ok --fluss-config "$work/server.yaml" --table fluss.events --table-id 2002 --partition 2024-06-02 --partition-id 13 \
  --dump-kv "$work/p13"
[ "$(field "$json" buckets)" = 2 ] || fail "partition: buckets in $json"
for b in 0 1; do
  cmp -s "$work/p.2024-06-02-p13.$b.kv" "$work/p13/2024-06-02-p13/$b.tsv" || fail "partition: bucket $b differs"
done
ok --fluss-config "$work/server.yaml" --table fluss.events --table-id 2002 --partition 2024-06-01 --partition-id 12 \
  --bucket 0 --dump-kv "$work/p12b0.tsv"
cmp -s "$work/p.2024-06-01-p12.0.kv" "$work/p12b0.tsv" || fail "partition bucket: state differs"

# 4. Flags win over the file: the file's remote.data.dir is elsewhere, --remote-data-dir is right;
#    the file's prefetch-num is bad only when no flag overrides it.
sed "s|^remote.data.dir: .*|remote.data.dir: file:///nonexistent/fluss|" "$work/server.yaml" >"$work/elsewhere.yaml"
ok --fluss-config "$work/elsewhere.yaml" --remote-data-dir "file://$work/remote" --table fluss.orders --table-id 1001 \
  --bucket 2 --dump-kv "$work/b2.tsv"
cmp -s "$work/t.2.kv" "$work/b2.tsv" || fail "--remote-data-dir over the file: state differs"
replay_run --fluss-config "$work/elsewhere.yaml" --table fluss.orders --table-id 1001 --bucket 2
[ "$rc" -eq 1 ] && grep -q "nonexistent/fluss" <<<"$err" || fail "the file's remote.data.dir was not used: exit $rc ($err)"
ok --fluss-config "$work/server.yaml" --remote-log-dir "file://$work/remote/log/fluss/orders-1001/0" \
  --prefetch-num 1 --download-threads 1 --dump-kv "$work/b0.tsv"
cmp -s "$work/t.0.kv" "$work/b0.tsv" || fail "--remote-log-dir with --fluss-config: state differs"

# 5. Bad lines: exit 2, one line naming file:line; the secret never printed.
cp "$work/server.yaml" "$work/nested.yaml"
printf 's3:\n  secret-key: %s\n' "$secret" >>"$work/nested.yaml"
replay_run --fluss-config "$work/nested.yaml" --table fluss.orders --table-id 1001
[ "$rc" -eq 2 ] || fail "nested map: exit $rc, want 2 ($err)"
grep -q "$work/nested.yaml:9: 's3:' starts a nested map" <<<"$err" || fail "nested map: no file:line: $err"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "nested map: want one line: $err"
printf 's3.secret-key: "%s\n' "$secret" >"$work/open.yaml"
replay_run --fluss-config "$work/open.yaml" --table fluss.orders --table-id 1001
[ "$rc" -eq 2 ] && grep -q "$work/open.yaml:1: s3.secret-key: unterminated" <<<"$err" || fail "open quote: exit $rc ($err)"
printf 'remote.data.dir: file:%s\nkv.recover.remote-log.prefetch-num: 0\n' "$work/remote" >"$work/zero.yaml"
replay_run --fluss-config "$work/zero.yaml" --table fluss.orders --table-id 1001
[ "$rc" -eq 2 ] && grep -q "zero.yaml:2: kv.recover.remote-log.prefetch-num: must be at least 1" <<<"$err" \
  || fail "prefetch-num 0: exit $rc ($err)"
replay_run --fluss-config "$work/missing.yaml" --table fluss.orders --table-id 1001
[ "$rc" -eq 2 ] && grep -q "missing.yaml" <<<"$err" || fail "missing file: exit $rc ($err)"
# Usage errors of the table flags.
for bad in "--table orders --table-id 1001" "--table fluss.orders" "--table fluss.orders --table-id 1001 --partition x" \
  "--table-id 1001"; do
  # shellcheck disable=SC2086
  replay_run --fluss-config "$work/server.yaml" $bad
  [ "$rc" -eq 2 ] || fail "$bad: exit $rc, want 2 ($err)"
done
replay_run --fluss-config "$work/server.yaml"
[ "$rc" -eq 2 ] && grep -q -- "--table" <<<"$err" || fail "no --table: exit $rc ($err)"

# 6. S3: s3rver; the file says s3a://, a bare endpoint (http by s3.connection.ssl.enabled: false),
#    path style and the keys. No AWS_* credentials in the environment: the file's keys sign.
. "$src/scripts/lib/s3rver.sh"
start_s3rver "$work" lake "$src" || fail "s3rver did not start"
pids+=("$s3pid")
for b in 0 1; do
  "$gen" --out s3://lake/warehouse --endpoint "$endpoint" "${small[@]}" --bucket "$b" --seed $((60 + b)) >/dev/null
done
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_SHARED_CREDENTIALS_FILE="$work/no-credentials" AWS_CONFIG_FILE="$work/no-config" AWS_EC2_METADATA_DISABLED=true
cat >"$work/s3.yaml" <<EOF
remote.data.dir: s3a://lake/warehouse
s3.endpoint: ${endpoint#http://}
s3.connection.ssl.enabled: false
s3.path.style.access: true
s3.region: us-east-1
s3.access-key: S3RVER
s3.secret-key: 'S3RVER'
EOF
ok --fluss-config "$work/s3.yaml" --table fluss.orders --table-id 1001 --dump-kv "$work/s3dump"
[ "$(field "$json" buckets)" = 2 ] || fail "s3 table: buckets in $json"
for b in 0 1; do cmp -s "$work/t.$b.kv" "$work/s3dump/$b.tsv" || fail "s3 table: bucket $b differs"; done
# The file over AWS_ENDPOINT_URL_S3 (nothing listens on port 1).
AWS_ENDPOINT_URL_S3=http://127.0.0.1:1 ok --fluss-config "$work/s3.yaml" --table fluss.orders --table-id 1001 --bucket 0
# A flag over the file: the file's endpoint is dead, --endpoint is right.
sed "s|^s3.endpoint: .*|s3.endpoint: http://127.0.0.1:1|" "$work/s3.yaml" >"$work/dead.yaml"
ok --fluss-config "$work/dead.yaml" --endpoint "$endpoint" --table fluss.orders --table-id 1001 --bucket 1 \
  --dump-kv "$work/s3b1.tsv"
cmp -s "$work/t.1.kv" "$work/s3b1.tsv" || fail "--endpoint over the file: state differs"
# A flag over AWS_ENDPOINT_URL_S3, without a file.
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=http://127.0.0.1:1 \
  ok --remote-log-dir s3://lake/warehouse/log/fluss/orders-1001/0 --endpoint "$endpoint"
# A wrong secret in the file: exit 1 naming the S3 code, the secret never printed (replay_run checks).
sed "s|^s3.secret-key: .*|s3.secret-key: $secret|" "$work/s3.yaml" >"$work/wrong.yaml"
replay_run --fluss-config "$work/wrong.yaml" --table fluss.orders --table-id 1001 --bucket 0
[ "$rc" -eq 1 ] && grep -q "SignatureDoesNotMatch" <<<"$err" || fail "wrong secret: exit $rc ($err)"
exec 3>&-
echo "fluss config CLI: all checks passed"
