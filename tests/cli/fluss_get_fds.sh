#!/usr/bin/env bash
# fluss-get keeps O(--concurrency) files open, not one per object (issue 11,
# item 5): 2,000 small objects from a file:// tree and 300 from s3rver, each
# under `ulimit -n 64` at --concurrency 8, must all arrive byte for byte. A
# fluss-get that opens every object's temp file up front runs out of
# descriptors ("Too many open files") and exits 1.
# requires: examples
set -euo pipefail
build="${FLUSS_FETCH_BUILD_DIR:?}"
src="${FLUSS_FETCH_SOURCE_DIR:?}"
get="$build/examples/fluss-get/fluss-get"
work="$(mktemp -d /tmp/fluss-get-fds-XXXXXX)"
s3pid=""
cleanup() { exec 3>&- 2>/dev/null || true; [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
fd_limit=64

# 2,000 objects in 20 folders; every file's content names it, so a mixed-up
# file shows in the comparison.
for d in $(seq -w 1 20); do
  mkdir -p "$work/src/t/$d"
  for i in $(seq -w 1 100); do printf 'object %s/%s\n' "$d" "$i" >"$work/src/t/$d/seg-$i.log"; done
done
[ "$(find "$work/src/t" -type f | wc -l)" -eq 2000 ] || fail "test setup: expected 2000 source files"

# 1. file:// source, 2,000 objects, 64 descriptors.
set +e
err="$( (ulimit -n "$fd_limit" && exec "$get" --concurrency 8 -o "$work/o1" "file://$work/src/t/") 2>&1 >/dev/null)"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  fail "file:// 2000 objects under ulimit -n $fd_limit: exit $rc, $(grep -c 'failed:' <<<"$err") failures; first: $(head -n1 <<<"$err")"
fi
diff -r "$work/src/t" "$work/o1" >/dev/null || fail "file:// copy under ulimit -n $fd_limit differs from the source"
[ -z "$(find "$work/o1" -name '*.tmp-*')" ] || fail "temp files left in $work/o1"

# 2. s3rver, 300 objects listed from a prefix, 64 descriptors: sockets count too.
. "$src/scripts/lib/s3rver.sh"
start_s3rver "$work" fds "$src" || fail "s3rver did not start"
mkdir -p "$work/up"
names=()
for i in $(seq -w 1 300); do printf 's3 object %s\n' "$i" >"$work/up/o-$i.log"; names+=("o-$i.log"); done
# One curl for all 300 uploads (a URL ending in / takes each file's name).
list="$(IFS=,; echo "${names[*]}")"
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
  -T "$work/up/{$list}" "$endpoint/fds/p/" >/dev/null || fail "upload to s3rver failed"
set +e
err="$( (ulimit -n "$fd_limit" && exec "$get" --endpoint "$endpoint" --concurrency 8 -o "$work/o2" s3://fds/p/) 2>&1 >/dev/null)"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  fail "s3rver 300 objects under ulimit -n $fd_limit: exit $rc, $(grep -c 'failed:' <<<"$err") failures; first: $(head -n1 <<<"$err")"
fi
diff -r "$work/up" "$work/o2/p" >/dev/null || fail "s3rver download under ulimit -n $fd_limit differs from the uploads"
echo "fluss-get fds: all checks passed"
