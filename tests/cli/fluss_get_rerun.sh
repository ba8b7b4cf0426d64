#!/usr/bin/env bash
# A fluss-get killed mid-download leaves its temp files (DEST.tmp-<16 hex>)
# beside the destinations; a rerun of the same command removes them (issue 11,
# item 6) - only names of its own destinations' temp pattern - but not while
# another fluss-get is writing into the same output dir (it holds a shared
# flock on the dir; the cleaner needs it exclusively).
# requires: examples
set -euo pipefail
build="${FLUSS_FETCH_BUILD_DIR:?}"
src="${FLUSS_FETCH_SOURCE_DIR:?}"
get="$build/examples/fluss-get/fluss-get"
work="$(mktemp -d /tmp/fluss-get-rerun-XXXXXX)"
kpid=""
apid=""
cleanup() {
  exec 6>&- 5<&- 2>/dev/null || true
  if [ -n "$apid" ]; then kill -9 "$apid" 2>/dev/null || true; fi
  if [ -n "$kpid" ]; then kill "$kpid" 2>/dev/null || true; fi
  wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$src/tests/cli/lib/key_server.sh"

mkdir -p "$work/objs"
printf 'd/one.log\nd/two.log\n' >"$work/objs/keys.txt"
rc=0; start_key_server "$work" "$src" || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && exit 77; fail "key server did not start"; }
out="$work/out"
cmd=("$get" --endpoint "$kendpoint" --concurrency 4 -o "$out" s3://b/d/one.log s3://b/d/two.log)
temps() { (cd "$out" && find . -name '*.tmp-*' | sort | tr '\n' ' '); }
# Start the command in the background with the server stalling, and return
# once both downloads are stalled half way (the server says so on fd 5).
start_stalled() {
  touch "$work/stall"
  "${cmd[@]}" >"$work/$1.out" 2>"$work/$1.err" &
  apid=$!
  local line n=0
  while [ "$n" -lt 2 ]; do
    read -r -t 30 line <&5 || fail "$1: the downloads did not reach the stalled server"
    [[ "$line" == STALLED* ]] && n=$((n + 1))
  done
}
kill_stalled() { kill -9 "$apid"; wait "$apid" 2>/dev/null || true; apid=""; }
check_files() {
  for k in d/one.log d/two.log; do key_body "$k" "$work/want"; cmp "$out/$k" "$work/want" || fail "$1: $k differs"; done
}

# 1. SIGKILL in the middle: the temp files stay.
start_stalled a
kill_stalled
left="$(temps)"
[ "$(wc -w <<<"$left")" -eq 2 ] || fail "after SIGKILL: want 2 temp files, have: $left"
# Names a rerun must not touch: not of this command's destinations, not the pattern.
mkdir -p "$out/e"
keep=(d/one.log.tmp-0123456789abcdeg d/one.log.tmp-0123456789abcde d/one.log.tmp-0123456789ABCDEF
      d/one.log.tmp-0123456789abcdef.x d/three.log.tmp-0123456789abcdef e/one.log.tmp-0123456789abcdef)
for f in "${keep[@]}"; do echo keep >"$out/$f"; done
want_left="$(printf './%s\n' "${keep[@]}" | sort | tr '\n' ' ')"

# 2. The rerun: exit 0, the files, and no temp file of its own left.
rm "$work/stall"
"${cmd[@]}" >/dev/null 2>"$work/rerun.err" || fail "rerun failed: $(cat "$work/rerun.err")"
check_files rerun
[ "$(temps)" = "$want_left" ] || fail "after the rerun: temp-like files $(temps), want only $want_left"

# 3. A second fluss-get of the same command while one is stalled: it leaves the
#    running one's temp files alone; a rerun after that one is killed removes them.
start_stalled a2
running="$(temps)"
rm "$work/stall"
"${cmd[@]}" >/dev/null 2>"$work/b.err" || fail "concurrent run failed: $(cat "$work/b.err")"
check_files "concurrent run"
[ "$(temps)" = "$running" ] || fail "a concurrent run removed temp files of a running fluss-get: had $running, now $(temps)"
grep -q "another fluss-get" "$work/b.err" || fail "the concurrent run did not say why it kept temp files: $(cat "$work/b.err")"
kill_stalled
"${cmd[@]}" >/dev/null 2>"$work/c.err" || fail "rerun after the kill failed: $(cat "$work/c.err")"
check_files "rerun after the kill"
[ "$(temps)" = "$want_left" ] || fail "after the last rerun: temp-like files $(temps), want only $want_left"
echo "fluss-get rerun: all checks passed"
