#!/usr/bin/env bash
# Log formats end to end: the same table (fluss-gen --seed 1, the same rows in
# the same order) written as COMPACTED and as ARROW with each buffer
# compression, served by nginx on 127.0.0.1, replayed by fluss-replay
# (prefetch 4, 3 download threads) ROUNDS times each, interleaved. Columns:
# bytes on the wire, wall time (median, min–max), records/s, the records/s
# ratio to COMPACTED in the same run, and the KV dump's hash (equal across
# formats: the same state whatever the format).
# RATE (e.g. 25m) caps each connection nginx serves (limit_rate), as a slower
# link would: 3 downloads at 25m are 75 MB/s, about one S3 prefix's worth.
#   [RATE=25m] benchmarks/formats/formats.sh [ROUNDS=5] [RECORDS=2000000]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-5}"
records="${2:-2000000}"
build="${BUILD_DIR:-$root/build}"
gen="$build/examples/gen/fluss-gen"
replay="$build/examples/replay/fluss-replay"
[ -x "$gen" ] && [ -x "$replay" ] || { echo "build the examples first ($build)" >&2; exit 2; }

work="$(mktemp -d /tmp/fluss-formats-XXXXXX)"
nginx_pid=""
cleanup() { [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"
mkdir -p "$work/www" "$work/tmp"
schema="id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE, active BOOLEAN, level TINYINT, code SMALLINT, ratio FLOAT, payload BYTES, day DATE, at TIME, ts TIMESTAMP(6)"

# name: fluss-gen format flags (the replay takes --log-format from the first word)
variants=("compacted:compacted" "arrow-none:arrow --arrow-compression none"
          "arrow-lz4:arrow --arrow-compression lz4" "arrow-zstd:arrow --arrow-compression zstd")
for v in "${variants[@]}"; do
  name="${v%%:*}"; flags="${v#*:}"
  echo "generating $name" >&2
  # shellcheck disable=SC2086
  "$gen" --out "file://$work/www/$name" --log-format $flags --records "$records" --segment-size 32M \
    --keys 200000 --batch-records 2048 --seed 1 >/dev/null
done

. "$root/scripts/lib/nginx.sh"
start_nginx "$work" "${RATE:+limit_rate $RATE;}"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

for r in $(seq "$rounds"); do
  for v in "${variants[@]}"; do
    name="${v%%:*}"; flags="${v#*:}"; format="${flags%% *}"
    echo "round $r: $name" >&2
    manifest="$(find "$work/www/$name" -name '*.manifest' | head -n1)"
    tablet="$(dirname "$(dirname "$manifest")")"
    "$replay" --remote-log-dir "s3://$name/${tablet#$work/www/$name/}" --endpoint "$url" \
      --manifest "file://$manifest" --log-format "$format" --schema "$schema" --primary-key id \
      --temp-dir "$work/tmp" --dump-kv "$work/kv.$name" --json --no-progress >"$work/json" 2>"$work/err" \
      || { cat "$work/err" >&2; exit 1; }
    j="$(tail -n1 "$work/json")"
    f() { echo "$j" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
    echo "$(f seconds) $(f records) $(f bytes_downloaded)" >>"$work/r.$name"
    sha256sum <"$work/kv.$name" | cut -c1-12 >"$work/h.$name"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=""
echo "| format | MiB on the wire | wall s median (min–max) | records | records/s | ÷ COMPACTED | KV dump sha256 |"
echo "|---|---|---|---|---|---|---|"
for v in "${variants[@]}"; do
  name="${v%%:*}"
  f="$work/r.$name"
  el="$(cut -d' ' -f1 "$f" | median)"; lo="$(cut -d' ' -f1 "$f" | sort -n | head -n1)"; hi="$(cut -d' ' -f1 "$f" | sort -n | tail -n1)"
  recs="$(cut -d' ' -f2 "$f" | head -n1)"; bytes="$(cut -d' ' -f3 "$f" | head -n1)"
  rps="$(awk -v r="$recs" -v e="$el" 'BEGIN { printf "%.0f", r / e }')"
  [ -n "$base" ] || base="$rps"
  awk -v n="$name" -v b="$bytes" -v e="$el" -v lo="$lo" -v hi="$hi" -v r="$recs" -v rps="$rps" -v base="$base" -v h="$(cat "$work/h.$name")" \
    'BEGIN { printf "| %s | %.1f | %.2f (%.2f–%.2f) | %d | %.0f | %.2f | %s |\n", n, b / 1048576, e, lo, hi, r, rps, rps / base, h }'
done
