#!/usr/bin/env bash
# fluss-gen --log-format arrow → fluss-replay --log-format arrow end to end:
# every Arrow compression and batch magic, a composite key and the time
# types Arrow holds in the unit of their precision, replay to exactly the KV
# state the generator's model computed (schema id + COMPACTED row per key);
# the same tablet read as COMPACTED fails naming a segment; bad arrow options
# are usage errors.
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" replay-arrow-cli
field() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }

# 1. The default schema, each compression with another magic.
n=0
for c in zstd:0 lz4:1 none:2; do
  comp="${c%%:*}" magic="${c##*:}" n=$((n + 1))
  tablet="$("$gen" --out "file://$work/r$n" --log-format arrow --arrow-compression "$comp" --zstd-level 5 --magic "$magic" \
    --segments 2 --segment-size 150K --keys 400 --seed "$n" --expected-kv "$work/expected$n.kv" | tail -n1)"
  json="$("$replay" --remote-log-dir "$tablet" --schema "$schema" --primary-key id --log-format arrow --temp-dir "$work/tmp" \
    --dump-kv "$work/got$n.kv" --json --no-progress 2>"$work/err" | tail -n1)" || fail "$comp replay failed: $(cat "$work/err")"
  cmp -s "$work/expected$n.kv" "$work/got$n.kv" ||
    fail "$comp: replayed state differs from the generator's ($(wc -l <"$work/got$n.kv") vs $(wc -l <"$work/expected$n.kv") keys)"
  [ "$(wc -l <"$work/got$n.kv")" -gt 100 ] || fail "$comp: only $(wc -l <"$work/got$n.kv") keys"
  [ "$(field "$json" deletes)" -gt 0 ] && [ "$(field "$json" update_afters)" -gt 0 ] || fail "$comp: no deletes or updates: $json"
done
cmp -s "$work/expected1.kv" "$work/expected2.kv" && fail "different seeds gave the same state"

# 2. A composite key and timestamps of precision 0, 3 and 9 (whole seconds, millis, nanos).
s2="id INT NOT NULL, name STRING NOT NULL, t0 TIMESTAMP(0), t3 TIMESTAMP(3), t9 TIMESTAMP(9), v BIGINT"
tablet="$("$gen" --out "file://$work/r4" --log-format arrow --schema "$s2" --primary-key id,name --segments 2 \
  --segment-size 100K --keys 300 --seed 11 --expected-kv "$work/expected4.kv" | tail -n1)"
"$replay" --remote-log-dir "$tablet" --schema "$s2" --primary-key id,name --log-format arrow --temp-dir "$work/tmp" \
  --dump-kv "$work/got4.kv" --no-progress >/dev/null || fail "composite-key arrow replay failed"
cmp -s "$work/expected4.kv" "$work/got4.kv" || fail "composite-key arrow replay state differs"

# 3. ARROW batches are no COMPACTED records: the replay fails (exit 1) naming a segment.
set +e
err="$("$replay" --remote-log-dir "$tablet" --schema "$s2" --primary-key id,name --log-format compacted \
  --temp-dir "$work/tmp" --no-progress 2>&1 >/dev/null)"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "arrow tablet read as compacted: exit $rc, want 1 ($err)"
grep -q "segment " <<<"$err" || fail "error names no segment: $err"

# 4. --records N: the same changelog whatever the format and the segment size
#    (what benchmarks/formats compares), ending at offset N or just past it.
for f in "compacted 60K" "arrow 100K"; do
  read -r fmt size <<<"$f"
  tablet="$("$gen" --out "file://$work/n-$fmt" --log-format "$fmt" --records 3000 --segment-size "$size" --keys 500 \
    --seed 9 --expected-kv "$work/n-$fmt.kv" 2>"$work/gen-err" | tail -n1)"
  json="$("$replay" --remote-log-dir "$tablet" --schema "$schema" --primary-key id --log-format "$fmt" \
    --temp-dir "$work/tmp" --dump-kv "$work/n-$fmt.got" --json --no-progress | tail -n1)" || fail "--records $fmt replay failed"
  cmp -s "$work/n-$fmt.kv" "$work/n-$fmt.got" || fail "--records $fmt: replayed state differs from the generator's"
  next="$(field "$json" next_offset)"
  [ "$next" -ge 3000 ] && [ "$next" -lt 3200 ] || fail "--records 3000 $fmt: the log ends at offset $next"
done
cmp -s "$work/n-compacted.kv" "$work/n-arrow.kv" || fail "--records: COMPACTED and ARROW tables hold different states"
[ "$(wc -l <"$work/n-arrow.kv")" -gt 100 ] || fail "--records: only $(wc -l <"$work/n-arrow.kv") keys"

# 5. Usage errors: exit 2 with the reason.
for bad in "--arrow-compression gzip" "--zstd-level 0" "--zstd-level 23" "--log-format parquet"; do
  set +e
  # shellcheck disable=SC2086
  err="$("$gen" --out "file://$work/bad" $bad 2>&1 >/dev/null)"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "fluss-gen $bad: exit $rc, want 2"
  grep -q -- "${bad%% *}" <<<"$err" || fail "fluss-gen $bad: error does not name the option: $err"
done
set +e
err="$("$gen" --out "file://$work/bad" --log-format arrow --schema "at TIMESTAMP(0) NOT NULL, v INT" --primary-key at 2>&1 >/dev/null)"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "primary-key column 'at'" <<<"$err" || fail "precision-0 arrow key: exit $rc ($err)"
[ -z "$(ls -A "$work/tmp")" ] || fail "temp dir left behind: $(ls "$work/tmp")"
echo "replay arrow CLI: all checks passed"
