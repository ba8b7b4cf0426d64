#!/usr/bin/env bash
# requires: examples
# The C++ writer checked by an independent reader: tablets written by `fluss-gen --log-format arrow`
# (every --arrow-compression, magic 0/1/2, several schemas) are read with apache-arrow's JS reader and
# the JS model (tests/node/arrow/read.mjs: CRC, offsets, IPC framing, compression prefixes, change
# types -> KV state), and that state must equal fluss-gen's --expected-kv byte for byte.
# Schemas: the CLI tests' 12-column one (bare TIME is TIME(0) in Fluss, TimeType.DEFAULT_PRECISION = 0),
# and the precisions whose Arrow unit or value conversion differs: TIME(0/3/6/9), TIMESTAMP(0/3/6/9),
# TIMESTAMP_LTZ(3/9).
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" gen-arrow-js
node_dir="$src/tests/node"
if ! command -v node >/dev/null 2>&1 || [ ! -d "$node_dir/node_modules/apache-arrow" ] \
   || [ ! -d "$node_dir/node_modules/zstd-codec" ] || [ ! -d "$node_dir/node_modules/lz4js" ]; then
  fail "node or the npm test packages (apache-arrow, zstd-codec, lz4js) are missing: run scripts/setup"
fi
read_js="$node_dir/arrow/read.mjs"

failures=0
n=0
check() {  # label schema primary-key fluss-gen-args...
  local label="$1" cols="$2" pk="$3"; shift 3
  n=$((n + 1))
  local dir="$work/t$n"
  local tablet
  tablet="$("$gen" --out "file://$dir" --log-format arrow --schema "$cols" --primary-key "$pk" \
    --expected-kv "$dir.expected.kv" "$@" 2>/dev/null | tail -n1)" || { echo "FAIL: $label: fluss-gen failed" >&2; failures=$((failures + 1)); return; }
  local out
  if ! out="$(node "$read_js" --tablet "$tablet" --schema "$cols" --primary-key "$pk" --out-kv "$dir.js.kv" 2>&1)"; then
    echo "FAIL: $label: the JS reader rejects fluss-gen's tablet: $out" >&2; failures=$((failures + 1)); return
  fi
  if ! cmp -s "$dir.expected.kv" "$dir.js.kv"; then
    echo "FAIL: $label: JS-read state differs from fluss-gen's --expected-kv ($(wc -l <"$dir.js.kv") vs $(wc -l <"$dir.expected.kv") keys; first difference: $(diff "$dir.expected.kv" "$dir.js.kv" | head -n3 | tr '\n' ' ' | head -c 300))" >&2
    failures=$((failures + 1)); return
  fi
  [ "$(wc -l <"$dir.expected.kv")" -gt 0 ] || { echo "FAIL: $label: empty state (a check that cannot fail)" >&2; failures=$((failures + 1)); return; }
  echo "ok: $label: $out"
}

small="--segments 2 --segment-size 60K --keys 400"
for comp in zstd lz4 none; do
  check "12 columns, $comp" "$schema" id --arrow-compression "$comp" $small --seed 21
done
check "12 columns, zstd level 19, magic 1" "$schema" id --arrow-compression zstd --zstd-level 19 --magic 1 $small --seed 22
check "12 columns, lz4, magic 2, partitioned" "$schema" id --arrow-compression lz4 --magic 2 --partition 2024-06-01 --partition-id 3 $small --seed 23
check "TIME precisions" "id INT NOT NULL, t0 TIME(0), t3 TIME(3), t6 TIME(6), t9 TIME(9)" id --arrow-compression zstd $small --seed 24
check "TIMESTAMP precisions" "id INT NOT NULL, s0 TIMESTAMP(0), s3 TIMESTAMP(3), s6 TIMESTAMP(6), s9 TIMESTAMP(9), l3 TIMESTAMP_LTZ(3), l9 TIMESTAMP_LTZ(9)" id --arrow-compression lz4 $small --seed 25
check "composite key" "id INT NOT NULL, name STRING NOT NULL, amount BIGINT, payload BYTES" "id,name" --arrow-compression none $small --seed 26
[ "$failures" -eq 0 ] || fail "$failures of $n fluss-gen ARROW tablets disagree with the JS reader"
echo "gen_arrow_js: all $n tablets agree"
