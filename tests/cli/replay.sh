#!/usr/bin/env bash
# fluss-gen → fluss-replay end to end: the replayed KV state equals the state
# the generator computed from its own model, from file:// and from a real
# s3rver, in both row formats; corrupt and missing data fail with exit 1 and a
# line naming segment and offset; SIGINT during stalled downloads exits 130
# promptly and leaves no temp dir.
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" replay-cli
field() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }

# 1. file://, COMPACTED: the replayed state is the generator's.
tablet="$("$gen" --out "file://$work/remote" --segments 3 --segment-size 200K --keys 3000 --seed 7 \
  --expected-kv "$work/expected.kv" | tail -n1)"
[[ "$tablet" == "file://$work/remote/log/fluss/orders-1001/0" ]] || fail "unexpected tablet URI '$tablet'"
out="$("$replay" --remote-log-dir "$tablet" --schema "$schema" --primary-key id --temp-dir "$work/tmp" \
  --dump-kv "$work/got.kv" --json --no-progress)" || fail "replay failed: $out"
cmp -s "$work/expected.kv" "$work/got.kv" || fail "replayed state differs from the generator's ($(wc -l <"$work/got.kv") vs $(wc -l <"$work/expected.kv") keys)"
json="$(echo "$out" | tail -n1)"
[ "$(field "$json" segments)" = 3 ] || fail "segments in $json"
[ "$(field "$json" kv_keys)" = "$(wc -l <"$work/expected.kv")" ] || fail "kv_keys in $json"
for k in batches records inserts update_befores update_afters deletes appends next_offset bytes_downloaded requests retries seconds consumer_wait_seconds; do
  [ -n "$(field "$json" "$k")" ] || fail "--json lacks $k: $json"
done
[ "$(field "$json" deletes)" -gt 0 ] && [ "$(field "$json" update_afters)" -gt 0 ] || fail "the changelog lacks deletes or updates: $json"
[ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind: $(ls "$work/tmp")"

# 2. INDEXED rows, magic 2 batches, a partitioned table.
tablet2="$("$gen" --out "file://$work/remote2" --log-format indexed --magic 2 --partition 2024-06-01 --partition-id 12 \
  --bucket 4 --segments 2 --segment-size 100K --keys 500 --seed 9 --expected-kv "$work/expected2.kv" | tail -n1)"
"$replay" --remote-log-dir "$tablet2" --schema "$schema" --primary-key id --log-format indexed --temp-dir "$work/tmp" \
  --dump-kv "$work/got2.kv" --no-progress >/dev/null || fail "indexed replay failed"
cmp -s "$work/expected2.kv" "$work/got2.kv" || fail "indexed replay state differs"

# 3. A stop offset: replay stops there (at a batch boundary at or after it).
json="$("$replay" --remote-log-dir "$tablet" --schema "$schema" --primary-key id --stop-offset 100 --temp-dir "$work/tmp" \
  --json --no-progress | tail -n1)"
n="$(field "$json" next_offset)"
[ "$n" -ge 100 ] && [ "$n" -lt 400 ] || fail "stop offset 100 gave next_offset $n"

# 4. Usage errors: exit 2.
set +e
"$replay" --schema "$schema" --primary-key id >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing --remote-log-dir: want exit 2"
"$replay" --remote-log-dir "$tablet" --schema "id WHATEVER" --primary-key id >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad schema: want exit 2"
"$replay" --remote-log-dir "file://$work/remote/log/fluss/orders/0" --schema "$schema" --primary-key id >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad tablet dir: want exit 2"
set -e

# 5. A corrupt byte in the middle of a segment: exit 1 naming segment, offsets and CRC.
seg="$(find "$work/remote" -name '*.log' | sort | head -n1)"
size="$(stat -c %s "$seg")"
printf '\xff' | dd of="$seg" bs=1 seek=$((size / 2)) conv=notrunc status=none
set +e
err="$("$replay" --remote-log-dir "$tablet" --schema "$schema" --primary-key id --temp-dir "$work/tmp" --no-progress 2>&1 >/dev/null)"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "corrupt segment: exit $rc, want 1 ($err)"
id="$(basename "$(dirname "$seg")")"
grep -q "$id" <<<"$err" || fail "error does not name segment $id: $err"
grep -qi "crc" <<<"$err" || fail "error does not say CRC: $err"
grep -q "file offset" <<<"$err" || fail "error does not give the file offset: $err"
[ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind after a failure"

# 5b. A bad magic byte, and a truncated tail (the manifest updated to the shorter size, so
#     the reader, not the size check, finds it): exit 1 with what and where.
run_bad() {  # tablet → sets rc and err
  set +e
  err="$("$replay" --remote-log-dir "$1" --schema "$schema" --primary-key id --temp-dir "$work/tmp" --no-progress 2>&1 >/dev/null)"
  rc=$?
  set -e
}
t4="$("$gen" --out "file://$work/remote4" --segments 2 --segment-size 50K --keys 300 --seed 3 | tail -n1)"
seg4="$(find "$work/remote4" -name '00000000000000000000.log')"
printf '\x07' | dd of="$seg4" bs=1 seek=12 conv=notrunc status=none
run_bad "$t4"
[ "$rc" -eq 1 ] || fail "bad magic: exit $rc, want 1 ($err)"
grep -q "$(basename "$(dirname "$seg4")"): file offset 0, log offset 0: unknown batch magic 7" <<<"$err" \
  || fail "bad magic error unclear: $err"
t5="$("$gen" --out "file://$work/remote5" --segments 2 --segment-size 50K --keys 300 --seed 4 | tail -n1)"
seg5="$(find "$work/remote5" -name '*.log' | sort | tail -n1)"
old="$(stat -c %s "$seg5")"
truncate -s -5 "$seg5"
manifest5="$(find "$work/remote5" -name '*.manifest')"
sed -i "s/\"size_in_bytes\":$old\b/\"size_in_bytes\":$((old - 5))/" "$manifest5"
grep -q "\"size_in_bytes\":$((old - 5))" "$manifest5" || fail "could not rewrite the manifest size"
run_bad "$t5"
[ "$rc" -eq 1 ] || fail "truncated tail: exit $rc, want 1 ($err)"
grep -q "$(basename "$(dirname "$seg5")")" <<<"$err" || fail "truncated tail error lacks the segment: $err"
grep -q "truncated tail" <<<"$err" || fail "truncated tail error unclear: $err"
[ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind after a failure"

# 6. From a real s3rver; then a missing segment object names its key, code and status.
. "$src/scripts/lib/s3rver.sh"
start_s3rver "$work" lake "$src" || fail "s3rver did not start"
pids+=("$s3pid")
s3tablet="$("$gen" --out s3://lake/warehouse --endpoint "$endpoint" --segments 3 --segment-size 300K --keys 2000 --seed 11 \
  --expected-kv "$work/expected3.kv" | tail -n1)"
[[ "$s3tablet" == "s3://lake/warehouse/log/fluss/orders-1001/0" ]] || fail "unexpected tablet URI '$s3tablet'"
"$replay" --remote-log-dir "$s3tablet" --endpoint "$endpoint" --schema "$schema" --primary-key id --temp-dir "$work/tmp" \
  --dump-kv "$work/got3.kv" --prefetch-num 2 --download-threads 2 --no-progress >/dev/null || fail "s3 replay failed"
cmp -s "$work/expected3.kv" "$work/got3.kv" || fail "s3 replay state differs"
# Which key to delete: list the tablet through fluss-get (a listing curl cannot sign here).
"$build/examples/fluss-get/fluss-get" --endpoint "$endpoint" -o "$work/s3copy" "s3://lake/warehouse/log/" >/dev/null \
  || fail "could not list the tablet"
victim="$(cd "$work/s3copy" && find . -name '*.log' | sort | sed -n 2p | sed 's|^\./||')"
[ -n "$victim" ] || fail "no segment found to delete"
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X DELETE \
  "$endpoint/lake/$victim" >/dev/null || fail "could not delete $victim"
set +e
err="$("$replay" --remote-log-dir "$s3tablet" --endpoint "$endpoint" --schema "$schema" --primary-key id \
  --temp-dir "$work/tmp" --no-progress 2>&1 >/dev/null)"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "missing segment: exit $rc, want 1 ($err)"
grep -q "${victim#warehouse/}" <<<"$err" || fail "error does not name the key $victim: $err"
grep -q "HTTP 404 NoSuchKey" <<<"$err" || fail "error lacks status and code: $err"
[ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind after a missing segment"

# 7. SIGINT / SIGTERM while every download is stalled (a server that accepts and never answers):
#    exit 130 within a second, temp dir removed.
node -e "require('net').createServer(() => {}).listen(0, '127.0.0.1', function () { console.log('PORT ' + this.address().port) })" \
  >"$work/holeport" &
pids+=($!)
for _ in $(seq 100); do grep -q '^PORT ' "$work/holeport" 2>/dev/null && break; sleep 0.1; done
hole="$(sed -n 's/^PORT //p' "$work/holeport")"
[ -n "$hole" ] || fail "black-hole server did not start"
manifest="$(find "$work/remote2" -name '*.manifest' | head -n1)"
# Both signals: SIGINT → 130, SIGTERM → 143.
for sig in INT TERM; do
  want=$([ "$sig" = INT ] && echo 130 || echo 143)
  "$replay" --remote-log-dir "s3://lake/${tablet2#file://$work/remote2/}" --endpoint "http://127.0.0.1:$hole" \
    --manifest "file://$manifest" --schema "$schema" --primary-key id --log-format indexed --temp-dir "$work/tmp" \
    --no-progress >/dev/null 2>"$work/interrupted.err" &
  rp=$!
  # Wait until the replay has made its temp dir (its downloads are then under way), then signal it.
  for _ in $(seq 100); do [ -n "$(ls -A "$work/tmp")" ] && break; sleep 0.05; done
  [ -n "$(ls -A "$work/tmp")" ] || fail "replay never started downloading"
  t0="$(date +%s%N)"
  kill -"$sig" "$rp"
  set +e
  wait "$rp"
  rc=$?
  set -e
  t1="$(date +%s%N)"
  [ "$rc" -eq "$want" ] || fail "SIG$sig: exit $rc, want $want ($(cat "$work/interrupted.err"))"
  [ $(((t1 - t0) / 1000000)) -lt 1000 ] || fail "SIG$sig took $(((t1 - t0) / 1000000)) ms, want < 1000"
  [ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind after SIG$sig: $(ls "$work/tmp")"
done
echo "replay CLI: all checks passed"
