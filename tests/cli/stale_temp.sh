#!/usr/bin/env bash
# Stale temp dirs: a fluss-replay killed with SIGKILL leaves its
# remote-log-recovery-* dir (lock and partial files) behind; the next run
# removes it by default, never a dir a live replay holds, and leaves it alone
# with --no-sweep-temp.
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" stale-temp-cli

tablet="$("$gen" --out "file://$work/remote" --segments 2 --segment-size 20K --keys 200 --seed 2 | tail -n1)"
manifest="$(find "$work/remote" -name '*.manifest')"

# A server that accepts connections and never answers: downloads from it stall.
node -e "require('net').createServer(() => {}).listen(0, '127.0.0.1', function () { console.log('PORT ' + this.address().port) })" \
  >"$work/holeport" &
pids+=($!)
for _ in $(seq 100); do grep -q '^PORT ' "$work/holeport" 2>/dev/null && break; sleep 0.1; done
hole="$(sed -n 's/^PORT //p' "$work/holeport")"
[ -n "$hole" ] || fail "black-hole server did not start"

# stalled_replay [ARGS...]: a replay whose downloads hang; sets rp to its pid and dir to
# its temp dir once it exists (a dir not in $work/tmp before it started).
stalled_replay() {
  local before
  before="$(ls "$work/tmp")"
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$replay" --remote-log-dir "s3://lake/${tablet#file://$work/remote/}" --endpoint "http://127.0.0.1:$hole" \
    --manifest "file://$manifest" --schema "$schema" --primary-key id --temp-dir "$work/tmp" --no-progress "$@" \
    >/dev/null 2>>"$work/stalled.err" &
  rp=$!
  pids+=("$rp")
  dir=""
  for _ in $(seq 200); do
    dir="$(ls "$work/tmp" | grep -vxF -f <(echo "$before"; echo) | head -n1 || true)"
    [ -n "$dir" ] && break
    sleep 0.05
  done
  [ -n "$dir" ] || fail "the stalled replay never made its temp dir ($(cat "$work/stalled.err"))"
}
# A replay that completes (file://), with the same temp parent.
full_replay() {
  "$replay" --remote-log-dir "$tablet" --schema "$schema" --primary-key id --temp-dir "$work/tmp" --no-progress "$@" \
    >/dev/null 2>>"$work/full.err" || fail "replay failed: $(cat "$work/full.err")"
}
kill9() { kill -KILL "$1"; wait "$1" 2>/dev/null || true; }

# 1. SIGKILL leaves the dir and its lock behind.
stalled_replay
crashed="$dir"
kill9 "$rp"
[ -e "$work/tmp/$crashed/.lock" ] || fail "after SIGKILL the temp dir $crashed (with its .lock) should remain"

# 2. --no-sweep-temp keeps it.
full_replay --no-sweep-temp
[ -d "$work/tmp/$crashed" ] || fail "--no-sweep-temp removed the stale dir $crashed"

# 3. The next replay removes it (before it makes its own dir, so once its own exists the
#    stale one is gone), and a replay running alongside leaves a live replay's dir alone.
stalled_replay
live="$dir" live_pid="$rp"
[ ! -e "$work/tmp/$crashed" ] || fail "the next replay did not remove the stale dir $crashed: $(ls -A "$work/tmp")"
full_replay
[ -e "$work/tmp/$live/.lock" ] || fail "a replay removed the dir $live of a live replay (pid $live_pid)"
kill -TERM "$live_pid"
set +e
wait "$live_pid"
rc=$?
set -e
[ "$rc" -eq 143 ] || fail "SIGTERM: exit $rc, want 143 ($(cat "$work/stalled.err"))"
[ -z "$(ls -A "$work/tmp")" ] || fail "temp dirs left behind: $(ls -A "$work/tmp")"
echo "stale temp CLI: all checks passed"
