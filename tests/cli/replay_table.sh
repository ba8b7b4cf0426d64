#!/usr/bin/env bash
# fluss-replay on a whole table and on a partition: a table dir (4 buckets), a
# partitioned table dir (2 partitions x 2 buckets) and one partition dir are
# replayed through one recovery client, every bucket at once; each bucket's
# dump equals the generator's state for it, the JSON sums the per-bucket
# replays, a tiny request cap and window change nothing; a corrupt segment in
# one bucket fails the run with one line naming that tablet and segment and
# leaves no temp file; --manifest with a table dir is a usage error.
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" replay-table-cli
field() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
small=(--segments 2 --segment-size 60K --keys 400)

# A table of 4 buckets, and a partitioned table of 2 partitions x 2 buckets, under one root.
root="file://$work/remote"
for b in 0 1 2 3; do
  "$gen" --out "$root" "${small[@]}" --bucket "$b" --seed $((20 + b)) --expected-kv "$work/t.$b.kv" >/dev/null
done
parts=("2024-06-01 12" "2024-06-02 13")
for p in "${parts[@]}"; do
  read -r name pid <<<"$p"
  for b in 0 1; do
    "$gen" --out "$root" "${small[@]}" --table events --table-id 2002 --partition "$name" --partition-id "$pid" \
      --bucket "$b" --seed $((40 + 2 * pid + b)) --expected-kv "$work/p.$name-p$pid.$b.kv" >/dev/null
  done
done
table="$root/log/fluss/orders-1001"
ptable="$root/log/fluss/events-2002"

# replay_dir URI DUMPDIR [ARGS...] → sets json (last stdout line) and err (stderr)
replay_dir() {
  local uri="$1" dump="$2"
  shift 2
  json="$("$replay" --remote-log-dir "$uri" --schema "$schema" --primary-key id --temp-dir "$work/tmp" \
    --dump-kv "$dump" --json --no-progress "$@" 2>"$work/err" | tail -n1)" || fail "replay of $uri failed: $(cat "$work/err")"
  err="$(cat "$work/err")"
  [ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind by $uri: $(ls "$work/tmp")"
}
same_as_generated() {  # DUMPDIR: every bucket's file equals the generator's state
  local d="$1"
  for b in 0 1 2 3; do
    cmp -s "$work/t.$b.kv" "$d/$b.tsv" || fail "$d: bucket $b's state differs from the generator's"
  done
}

# 1. The table dir: 4 buckets, each dump the generator's state, sums of the per-bucket replays.
replay_dir "$table" "$work/dump"
same_as_generated "$work/dump"
[ "$(ls "$work/dump" | wc -l)" -eq 4 ] || fail "want 4 dump files: $(ls "$work/dump")"
[ "$(field "$json" buckets)" = 4 ] || fail "buckets in $json"
grep -q '"next_offsets":{"log/fluss/orders-1001/0":[0-9]*,"log/fluss/orders-1001/1":' <<<"$json" \
  || fail "no per-bucket next_offsets in $json"
[ "$(grep -c '^fluss-replay: bucket log/fluss/orders-1001/[0-3]: [0-9]* segments, [0-9]* records, [0-9]* keys, next offset [0-9]*$' <<<"$err")" -eq 4 ] \
  || fail "want one stderr line per bucket: $err"
segs=0 keys=0 records=0
for b in 0 1 2 3; do
  one="$("$replay" --remote-log-dir "$table/$b" --schema "$schema" --primary-key id --temp-dir "$work/tmp" \
    --json --no-progress | tail -n1)" || fail "replay of bucket $b failed"
  segs=$((segs + $(field "$one" segments)))
  keys=$((keys + $(field "$one" kv_keys)))
  records=$((records + $(field "$one" records)))
  grep -q "\"next_offsets\":{.*\"log/fluss/orders-1001/$b\":$(field "$one" next_offset)[,}]" <<<"$json" \
    || fail "bucket $b: next offset $(field "$one" next_offset) not in $json"
done
[ "$(field "$json" segments)" = "$segs" ] || fail "segments $(field "$json" segments), want the buckets' sum $segs"
[ "$(field "$json" kv_keys)" = "$keys" ] || fail "kv_keys $(field "$json" kv_keys), want $keys"
[ "$(field "$json" records)" = "$records" ] || fail "records $(field "$json" records), want $records"

# 2. One request at a time and a window of one: the same states.
replay_dir "$table/" "$work/dump1" --max-requests 1 --prefetch-num 1 --decode-threads 1 --max-temp-bytes 64K
same_as_generated "$work/dump1"

# 3. The partitioned table dir (every partition's buckets), and one partition dir.
replay_dir "$ptable" "$work/pdump"
[ "$(field "$json" buckets)" = 4 ] || fail "partitioned table: buckets in $json"
for p in "${parts[@]}"; do
  read -r name pid <<<"$p"
  for b in 0 1; do
    cmp -s "$work/p.$name-p$pid.$b.kv" "$work/pdump/$name-p$pid/$b.tsv" \
      || fail "partitioned table: $name-p$pid bucket $b's state differs"
  done
done
replay_dir "$ptable/2024-06-02-p13" "$work/p13"
[ "$(field "$json" buckets)" = 2 ] || fail "partition dir: buckets in $json"
[ "$(ls "$work/p13")" = "2024-06-02-p13" ] || fail "partition dir: want only its partition: $(ls "$work/p13")"
for b in 0 1; do
  cmp -s "$work/p.2024-06-02-p13.$b.kv" "$work/p13/2024-06-02-p13/$b.tsv" || fail "partition dir: bucket $b differs"
done

# 4. A corrupt segment in bucket 2: exit 1, one line naming its tablet and segment, no temp file left.
seg="$(find "$work/remote/log/fluss/orders-1001/2" -name '*.log' | sort | head -n1)"
id="$(basename "$(dirname "$seg")")"
size="$(stat -c %s "$seg")"
printf '\xff' | dd of="$seg" bs=1 seek=$((size / 2)) conv=notrunc status=none
set +e
err="$("$replay" --remote-log-dir "$table" --schema "$schema" --primary-key id --temp-dir "$work/tmp" \
  --dump-kv "$work/bad" --no-progress 2>&1 >/dev/null)"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "corrupt segment: exit $rc, want 1 ($err)"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "corrupt segment: want one line, got: $err"
grep -q "^fluss-replay: failed: tablet ${work#/}/remote/log/fluss/orders-1001/2: .*$id" <<<"$err" \
  || fail "corrupt segment: the error does not name tablet 2 and segment $id: $err"
[ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind after a failure: $(ls -A "$work/tmp")"
[ ! -e "$work/bad" ] || fail "a failed replay wrote dumps"

# 5. Usage errors: --manifest with a table dir, a dir that is neither: exit 2.
manifest="$(find "$work/remote/log/fluss/orders-1001/0/metadata" -name '*.manifest' | head -n1)"
set +e
"$replay" --remote-log-dir "$table" --manifest "file://$manifest" --schema "$schema" --primary-key id \
  --no-progress >/dev/null 2>"$work/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--manifest with a table dir: exit $rc, want 2 ($(cat "$work/err"))"
grep -q "manifest" "$work/err" || fail "--manifest with a table dir: the error does not say why: $(cat "$work/err")"
set +e
"$replay" --remote-log-dir "file://$work/remote/log/fluss" --schema "$schema" --primary-key id >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a database dir: exit $rc, want 2"
echo "replay table CLI: all checks passed"
