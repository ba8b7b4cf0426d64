#!/usr/bin/env bash
# Cost of growth: fluss-replay (prefetch 4, 3 download threads) against nginx on
# 127.0.0.1, as the number of segments grows (8 → 512 segments of 1 MiB) and as
# their size grows (2 segments of 1 MiB → 1 GiB). The table has the same
# number of keys (20,000) everywhere, so the KV state is the same size and what
# grows is the pipeline. Columns: wall time (median of ROUNDS interleaved runs,
# min–max), MB/s, peak RSS (GNU time), peak temp-dir bytes (sampled every 2 ms
# from outside), and that peak over the window's bound (prefetch + 1 segments).
# Writes benchmarks/results/growth.md, growth.csv and growth.png (gnuplot).
#   benchmarks/growth/growth.sh [ROUNDS=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-5}"
build="${BUILD_DIR:-$root/build}"
gen="$build/examples/gen/fluss-gen"
replay="$build/examples/replay/fluss-replay"
[ -x "$gen" ] && [ -x "$replay" ] || { echo "build the examples first ($build)" >&2; exit 2; }
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
out="$root/benchmarks/results"
mkdir -p "$out"

work="$(mktemp -d /tmp/fluss-growth-XXXXXX)"
nginx_pid=""
cleanup() { [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"
mkdir -p "$work/www" "$work/logs" "$work/tmp"
schema="id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE, active BOOLEAN, level TINYINT, code SMALLINT, ratio FLOAT, payload BYTES, day DATE, at TIME, ts TIMESTAMP(6)"

# The points: name count size.
points=("n8 8 1M" "n32 32 1M" "n128 128 1M" "n512 512 1M"
        "s1M 2 1M" "s16M 2 16M" "s64M 2 64M" "s256M 2 256M" "s1G 2 1G")
for p in "${points[@]}"; do
  read -r name count size <<<"$p"
  echo "generating $name: $count × $size" >&2
  "$gen" --out "file://$work/www/$name" --segments "$count" --segment-size "$size" --keys 20000 --seed 1 >/dev/null
done

. "$root/scripts/lib/nginx.sh"
start_nginx "$work"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

# Peak bytes under the temp dir, sampled every 2 ms from before the replay
# starts (READY) until it has exited (STOP).
cat >"$work/sample.py" <<'PY'
import os, sys, time
root, ready, stop = sys.argv[1:4]
peak = 0
def size(d):
    t = 0
    for dirpath, _, files in os.walk(d):
        for f in files:
            try: t += os.stat(os.path.join(dirpath, f)).st_blocks * 512
            except OSError: pass
    return t
open(ready, "w").close()
while not os.path.exists(stop):
    peak = max(peak, size(root))
    time.sleep(0.002)
print(peak)
PY

for r in $(seq "$rounds"); do
  for p in "${points[@]}"; do
    read -r name count size <<<"$p"
    echo "round $r: $name" >&2
    manifest="$(find "$work/www/$name" -name '*.manifest' | head -n1)"
    tablet="$(dirname "$(dirname "$manifest")")"
    rm -f "$work/ready" "$work/stop"
    python3 "$work/sample.py" "$work/tmp" "$work/ready" "$work/stop" >"$work/peak" &
    sp=$!
    while [ ! -e "$work/ready" ]; do sleep 0.01; done
    /usr/bin/time -f "%e %M" -o "$work/time" "$replay" --remote-log-dir "s3://$name/${tablet#$work/www/$name/}" \
      --endpoint "$url" --manifest "file://$manifest" --schema "$schema" --primary-key id --temp-dir "$work/tmp" \
      --json --no-progress >"$work/json" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    touch "$work/stop"
    wait "$sp"
    read -r el rss <"$work/time"
    bytes="$(sed -n 's/.*"bytes_downloaded":\([0-9]*\).*/\1/p' "$work/json")"
    echo "$el $rss $(cat "$work/peak") $bytes" >>"$work/r.$name"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
{
  echo "| segments × size | bytes | wall s median (min–max) | MB/s | peak RSS MiB | peak temp MiB | temp ÷ (prefetch+1) segments |"
  echo "|---|---|---|---|---|---|---|"
} >"$work/table"
echo "name,count,size_bytes,total_bytes,wall_s,mbps,rss_mib,temp_mib" >"$out/growth.csv"
for p in "${points[@]}"; do
  read -r name count size <<<"$p"
  f="$work/r.$name"
  el="$(cut -d' ' -f1 "$f" | median)"; lo="$(cut -d' ' -f1 "$f" | sort -n | head -n1)"; hi="$(cut -d' ' -f1 "$f" | sort -n | tail -n1)"
  rss="$(cut -d' ' -f2 "$f" | sort -n | tail -n1)"; peak="$(cut -d' ' -f3 "$f" | sort -n | tail -n1)"
  bytes="$(cut -d' ' -f4 "$f" | head -n1)"
  seg=$((bytes / count))
  awk -v n="$count" -v s="$size" -v b="$bytes" -v e="$el" -v lo="$lo" -v hi="$hi" -v r="$rss" -v p="$peak" -v seg="$seg" \
    'BEGIN { w = (n < 5 ? n : 5) * seg; printf "| %d × %s | %.0f MiB | %.2f (%.2f–%.2f) | %.0f | %.0f | %.1f | %.2f |\n",
             n, s, b / 1048576, e, lo, hi, b / e / 1e6, r / 1024, p / 1048576, p / w }' >>"$work/table"
  awk -v nm="$name" -v n="$count" -v seg="$seg" -v b="$bytes" -v e="$el" -v r="$rss" -v p="$peak" \
    'BEGIN { printf "%s,%d,%d,%d,%.3f,%.1f,%.1f,%.2f\n", nm, n, seg, b, e, b / e / 1e6, r / 1024, p / 1048576 }' \
    >>"$out/growth.csv"
done
cat "$work/table"

# The plot: wall time and peak RSS / temp against total bytes, both sweeps.
grep '^n' "$out/growth.csv" >"$work/count.csv" || true
grep '^s' "$out/growth.csv" >"$work/size.csv" || true
gnuplot <<GP
set terminal pngcairo size 1100,450 noenhanced
set output "$out/growth.png"
set datafile separator ","
set multiplot layout 1,2 title "fluss-replay growth (prefetch 4, threads 3, nginx on loopback, $(nproc) cores)"
set logscale xy
set xlabel "total bytes replayed (MiB)"
set ylabel "seconds"
set key left top
set title "wall time"
plot "$work/count.csv" using (\$4/1048576):5 with linespoints title "8..512 segments of 1 MiB", \
     "$work/size.csv" using (\$4/1048576):5 with linespoints title "2 segments of 1 MiB..1 GiB"
set ylabel "MiB"
set title "peak RSS and peak temp dir"
plot "$work/count.csv" using (\$4/1048576):7 with linespoints title "RSS, count sweep", \
     "$work/size.csv" using (\$4/1048576):7 with linespoints title "RSS, size sweep", \
     "$work/count.csv" using (\$4/1048576):8 with linespoints title "temp, count sweep", \
     "$work/size.csv" using (\$4/1048576):8 with linespoints title "temp, size sweep"
unset multiplot
GP
