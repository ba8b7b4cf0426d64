#!/usr/bin/env bash
# Raw throughput against peers, from nginx on 127.0.0.1 into files in /tmp:
# fluss-get, curl (single, and -Z --parallel-max 3), rclone (http backend, 3
# streams, --ignore-checksum) and boto3 download_file (max_concurrency 3).
# Cases: one 1 GiB object over HTTP and over HTTPS (a made-up CA), into /tmp
# and (the tools that can) into /dev/null; 64 objects of 16 MiB. Rounds are
# interleaved.
# Columns: MB/s median (min–max), user+sys CPU seconds per GiB, peak RSS MiB
# (all from GNU time). Installs rclone, python3-boto3 and time when missing.
#   benchmarks/throughput/peers.sh [ROUNDS=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-5}"
fluss_get="${FLUSS_GET:-$root/build/examples/fluss-get/fluss-get}"
[ -x "$fluss_get" ] || { echo "build fluss-get first ($fluss_get)" >&2; exit 2; }
missing=()
command -v rclone >/dev/null || missing+=(rclone)
/usr/bin/python3 -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)
[ -x /usr/bin/time ] || missing+=(time)
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work="$(mktemp -d /tmp/fluss-peers-XXXXXX)"
nginx_pid=""
cleanup() { [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"
mkdir -p "$work/www/bench/many" "$work/logs" "$work/out"
head -c $((1024 << 20)) /dev/urandom >"$work/www/bench/object.bin"
for i in $(seq -w 1 64); do head -c $((16 << 20)) /dev/urandom >"$work/www/bench/many/obj-$i.bin"; done
# A made-up CA and a server certificate for 127.0.0.1 (HTTPS case).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 \
  -subj "/CN=fluss bench CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -out "$work/server.pem" -days 2 -extfile "$work/ext" 2>/dev/null
tport="$(shuf -i 20000-60000 -n 1)"
. "$root/scripts/lib/nginx.sh"
start_nginx "$work" "server { listen 127.0.0.1:$tport ssl; root $work/www;
    ssl_certificate $work/server.pem; ssl_certificate_key $work/server.key; }"
turl="https://127.0.0.1:$tport"
curl -sf -o /dev/null -r 0-0 "$url/bench/object.bin" || { echo "nginx does not serve the objects" >&2; exit 1; }
curl -sf --cacert "$work/ca.pem" -o /dev/null -r 0-0 "$turl/bench/object.bin" || { echo "nginx TLS did not start" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 RCLONE_CONFIG=/dev/null

cat >"$work/boto.py" <<'PY'
import sys, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(s3={"addressing_style": "path"}))
cfg = TransferConfig(max_concurrency=3)
class Null:
    def write(self, b): return len(b)
    def seek(self, *a): return 0
    def tell(self): return 0
for key in sys.argv[3:]:
    if sys.argv[2] == "/dev/null":
        s3.download_fileobj("bench", key, Null(), Config=cfg)
    else:
        s3.download_file("bench", key, sys.argv[2] + "/" + key.split("/")[-1], Config=cfg)
PY

single_bytes=$((1024 << 20))
many_bytes=$((64 * (16 << 20)))
many_keys=(); for i in $(seq -w 1 64); do many_keys+=("many/obj-$i.bin"); done
many_uris=(); for k in "${many_keys[@]}"; do many_uris+=("s3://bench/$k"); done
many_urls=(); for k in "${many_keys[@]}"; do many_urls+=("$url/bench/$k"); done

# measure NAME BYTES COMMAND...: one run, appends "mbps cpu_per_gib rss_mib" to $work/r.NAME
measure() {
  local name="$1" bytes="$2"; shift 2
  rm -rf "$work/out"; mkdir -p "$work/out"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r el us sy rss <"$work/time"
  awk -v b="$bytes" -v e="$el" -v u="$us" -v s="$sy" -v r="$rss" \
    'BEGIN { printf "%.0f %.2f %.0f\n", b / e / 1e6, (u + s) / (b / 1073741824), r / 1024 }' >>"$work/r.$name"
}
check_single() { cmp -s "$work/out/object.bin" "$work/www/bench/object.bin" || { echo "$1: bytes differ" >&2; exit 1; }; }
check_many() {  # label [subdir]
  for i in 01 32 64; do
    cmp -s "$work/out/${2:-}obj-$i.bin" "$work/www/bench/many/obj-$i.bin" || { echo "$1: bytes differ" >&2; exit 1; }
  done
}

curl_ranges() {  # BASE_URL [curl options]: three ranged parts in parallel, then joined
  local third=$((single_bytes / 3)) base="$1"
  shift
  curl -Z --parallel-max 3 -sf "$@" -r 0-$((third - 1)) -o "$work/out/p1" "$base/bench/object.bin" \
    --next -sf "$@" -r $third-$((2 * third - 1)) -o "$work/out/p2" "$base/bench/object.bin" \
    --next -sf "$@" -r $((2 * third))- -o "$work/out/p3" "$base/bench/object.bin"
  cat "$work/out/p1" "$work/out/p2" "$work/out/p3" >"$work/out/object.bin"
}
export -f curl_ranges; export work url single_bytes

for r in $(seq "$rounds"); do
  echo "round $r" >&2
  measure s_fg1 $single_bytes "$fluss_get" --endpoint "$url" --concurrency 1 --part-size 0 -o "$work/out" s3://bench/object.bin
  check_single fluss-get
  measure s_fg3 $single_bytes "$fluss_get" --endpoint "$url" --concurrency 3 --part-size 64M -o "$work/out" s3://bench/object.bin
  check_single "fluss-get 3"
  measure s_curl $single_bytes curl -sf -o "$work/out/object.bin" "$url/bench/object.bin"
  check_single curl
  measure s_curl3 $single_bytes bash -c 'curl_ranges "$0"' "$url"
  check_single "curl -Z"
  measure s_rclone $single_bytes rclone copy --http-url "$url/bench/" :http:object.bin "$work/out" \
    --multi-thread-streams 3 --multi-thread-cutoff 1M --ignore-checksum
  check_single rclone
  measure s_boto $single_bytes /usr/bin/python3 "$work/boto.py" "$url" "$work/out" object.bin
  check_single boto3

  # HTTPS: the same single object through TLS (the made-up CA given to each client).
  measure t_fg1 $single_bytes "$fluss_get" --endpoint "$turl" --ca-file "$work/ca.pem" --concurrency 1 --part-size 0 \
    -o "$work/out" s3://bench/object.bin
  check_single "fluss-get https"
  measure t_fg3 $single_bytes "$fluss_get" --endpoint "$turl" --ca-file "$work/ca.pem" --concurrency 3 --part-size 64M \
    -o "$work/out" s3://bench/object.bin
  check_single "fluss-get 3 https"
  measure t_curl $single_bytes curl -sf --cacert "$work/ca.pem" -o "$work/out/object.bin" "$turl/bench/object.bin"
  check_single "curl https"
  measure t_curl3 $single_bytes bash -c 'curl_ranges "$0" --cacert "$1"' "$turl" "$work/ca.pem"
  check_single "curl -Z https"
  measure t_rclone $single_bytes env -u AWS_CA_BUNDLE rclone copy --ca-cert "$work/ca.pem" --http-url "$turl/bench/" \
    :http:object.bin "$work/out" --multi-thread-streams 3 --multi-thread-cutoff 1M --ignore-checksum
  check_single "rclone https"
  measure t_boto $single_bytes env AWS_CA_BUNDLE="$work/ca.pem" /usr/bin/python3 "$work/boto.py" "$turl" "$work/out" object.bin
  check_single "boto3 https"

  # /dev/null: the tools that can write there (fluss-get writes files only: temp + rename).
  measure n_curl $single_bytes curl -sf -o /dev/null "$url/bench/object.bin"
  measure n_rclone $single_bytes bash -c 'rclone cat --http-url "$0/bench/" :http:object.bin >/dev/null' "$url"
  measure n_boto $single_bytes /usr/bin/python3 "$work/boto.py" "$url" /dev/null object.bin

  measure m_fg $many_bytes "$fluss_get" --endpoint "$url" --concurrency 3 --part-size 64M -o "$work/out" "${many_uris[@]}"
  check_many fluss-get many/
  measure m_curl3 $many_bytes curl -sf -Z --parallel-max 3 --output-dir "$work/out" --remote-name-all "${many_urls[@]}"
  check_many "curl -Z"
  measure m_rclone $many_bytes rclone copy --http-url "$url/bench/many/" :http: "$work/out" --transfers 3 --ignore-checksum
  check_many rclone
  measure m_boto $many_bytes /usr/bin/python3 "$work/boto.py" "$url" "$work/out" "${many_keys[@]}"
  check_many boto3
done

row() {  # label file: medians of MB/s and CPU, min–max of MB/s, the largest RSS
  local f="$work/r.$2" n mid m c r
  n=$(wc -l <"$f"); mid=$(((n + 1) / 2))
  m=$(cut -d' ' -f1 "$f" | sort -n); c=$(cut -d' ' -f2 "$f" | sort -n); r=$(cut -d' ' -f3 "$f" | sort -n)
  printf '| %s | %s (%s–%s) | %s | %s |\n' "$1" "$(sed -n "${mid}p" <<<"$m")" "$(head -n1 <<<"$m")" \
    "$(tail -n1 <<<"$m")" "$(sed -n "${mid}p" <<<"$c")" "$(tail -n1 <<<"$r")"
}
echo "### One 1 GiB object"
echo
echo "| client | MB/s median (min–max) | CPU s per GiB | peak RSS MiB |"
echo "|---|---|---|---|"
row '`fluss-get --concurrency 1 --part-size 0`' s_fg1
row '`fluss-get --concurrency 3 --part-size 64M`' s_fg3
row '`curl -o`' s_curl
row '`curl -Z --parallel-max 3`, 3 ranges, then joined' s_curl3
row '`rclone copy` (http, 3 streams)' s_rclone
row 'boto3 `download_file` (max_concurrency 3)' s_boto
echo
echo "### One 1 GiB object over HTTPS (nginx, a made-up CA)"
echo
echo "| client | MB/s median (min–max) | CPU s per GiB | peak RSS MiB |"
echo "|---|---|---|---|"
row '`fluss-get --concurrency 1 --part-size 0`' t_fg1
row '`fluss-get --concurrency 3 --part-size 64M`' t_fg3
row '`curl -o`' t_curl
row '`curl -Z --parallel-max 3`, 3 ranges, then joined' t_curl3
row '`rclone copy` (http, 3 streams)' t_rclone
row 'boto3 `download_file` (max_concurrency 3)' t_boto
echo
echo "### One 1 GiB object into /dev/null (HTTP; fluss-get cannot write there)"
echo
echo "| client | MB/s median (min–max) | CPU s per GiB | peak RSS MiB |"
echo "|---|---|---|---|"
row '`curl -o /dev/null`' n_curl
row '`rclone cat` > /dev/null' n_rclone
row 'boto3 `download_fileobj` into a null writer' n_boto
echo
echo "### 64 objects of 16 MiB"
echo
echo "| client | MB/s median (min–max) | CPU s per GiB | peak RSS MiB |"
echo "|---|---|---|---|"
row '`fluss-get --concurrency 3`' m_fg
row '`curl -Z --parallel-max 3`' m_curl3
row '`rclone copy --transfers 3`' m_rclone
row 'boto3 `download_file` (max_concurrency 3), one after another' m_boto
