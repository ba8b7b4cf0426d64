#!/usr/bin/env bash
# A first look at raw throughput: one object served by nginx on 127.0.0.1,
# fetched by fluss-get and by `curl -o`, interleaved, N rounds each.
#   benchmarks/throughput/nginx-quick.sh [SIZE_MIB=1024] [ROUNDS=5]
# Needs a built tree (build/examples/fluss-get/fluss-get, or FLUSS_GET=path).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
size_mib="${1:-1024}"
rounds="${2:-5}"
fluss_get="${FLUSS_GET:-$root/build/examples/fluss-get/fluss-get}"
[ -x "$fluss_get" ] || { echo "build fluss-get first ($fluss_get)" >&2; exit 2; }

work="$(mktemp -d /tmp/fluss-bench-XXXXXX)"
nginx_pid=""
cleanup() { [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

chmod 755 "$work"
mkdir -p "$work/www/bench" "$work/logs" "$work/out"
head -c "$((size_mib << 20))" /dev/urandom >"$work/www/bench/object.bin"
port="$(shuf -i 20000-60000 -n 1)"  # nginx cannot take port 0; a clash fails loudly below
cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on; tcp_nopush on;
  client_body_temp_path $work/logs; proxy_temp_path $work/logs; fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs; scgi_temp_path $work/logs;
  server { listen 127.0.0.1:$port; root $work/www; }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/bench/object.bin" -r 0-0 && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$port/bench/object.bin" -r 0-0 || { echo "nginx did not start on port $port" >&2; cat "$work/logs/error.log" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
bytes=$((size_mib << 20))
run_fluss() { rm -rf "$work/out/"*; local t0 t1; t0=$(date +%s.%N)
  "$fluss_get" --endpoint "http://127.0.0.1:$port" -o "$work/out" "$@" s3://bench/object.bin >/dev/null
  t1=$(date +%s.%N); cmp -s "$work/out/object.bin" "$work/www/bench/object.bin" || { echo "fluss-get: bytes differ" >&2; exit 1; }
  echo "$t0 $t1" | awk -v b=$bytes '{printf "%.0f", b/($2-$1)/1e6}'; }
run_curl() { rm -f "$work/out/curl.bin"; local t0 t1; t0=$(date +%s.%N)
  curl -sf -o "$work/out/curl.bin" "http://127.0.0.1:$port/bench/object.bin"
  t1=$(date +%s.%N); echo "$t0 $t1" | awk -v b=$bytes '{printf "%.0f", b/($2-$1)/1e6}'; rm -f "$work/out/curl.bin"; }

declare -a F1 F3 C
for r in $(seq "$rounds"); do
  C+=("$(run_curl)")
  F1+=("$(run_fluss --concurrency 1 --part-size 0)")
  F3+=("$(run_fluss --concurrency 3 --part-size 64M)")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] " (min " a[1] ", max " a[NR] ")"}'; }
echo "object: ${size_mib} MiB from nginx on 127.0.0.1, to a file in /tmp; MB/s, median of $rounds interleaved runs"
echo "curl -o                                   : $(med "${C[@]}")"
echo "fluss-get --concurrency 1 --part-size 0   : $(med "${F1[@]}")"
echo "fluss-get --concurrency 3 --part-size 64M : $(med "${F3[@]}")"
