#!/usr/bin/env bash
# fluss-get and keys that are not plain relative paths (issue 11, item 9): S3
# keeps 'a//b' and 'a/b' (and 'x/./y', 'x/../z') apart, a file system does
# not. fluss-get refuses every key that would not be written under its own
# name, naming the key and, when there is one, the other key that would get
# the same file; it refuses a key whose file would have to be the directory of
# another key ('f' and 'f/g') and two sources that would write one file; it
# skips zero-byte folder markers ('dir/'), saying so. Everything else arrives.
# requires: examples
set -euo pipefail
build="${FLUSS_FETCH_BUILD_DIR:?}"
src="${FLUSS_FETCH_SOURCE_DIR:?}"
get="$build/examples/fluss-get/fluss-get"
work="$(mktemp -d /tmp/fluss-get-keys-XXXXXX)"
kpid=""
cleanup() { exec 6>&- 5<&- 2>/dev/null || true; if [ -n "$kpid" ]; then kill "$kpid" 2>/dev/null || true; fi; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$src/tests/cli/lib/key_server.sh"

mkdir -p "$work/objs"
cat >"$work/objs/keys.txt" <<'KEYS'
k/ok.log
k/a/b
k/a//b
k/x/./y
k/x/../z
k/../../evil
k/f
k/f/g
k/dir/
/abs
KEYS
rc=0; start_key_server "$work" "$src" || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && exit 77; fail "key server did not start"; }

# 1. A listing with every kind of awkward key.
mkdir -p "$work/o1"
set +e
"$get" --endpoint "$kendpoint" -o "$work/o1/out" s3://b/k/ >"$work/out1" 2>"$work/err1"; rc=$?
set -e
err="$(cat "$work/err1")"
[ "$rc" -eq 1 ] || fail "awkward keys: exit $rc, want 1; stderr: $err"
for k in k/ok.log k/a/b k/f/g; do
  key_body "$k" "$work/want"
  cmp "$work/o1/out/$k" "$work/want" || fail "$k: wrong or missing file"
done
got="$(cd "$work/o1" && find . -type f | sort | tr '\n' ' ')"
[ "$got" = "./out/k/a/b ./out/k/f/g ./out/k/ok.log " ] || fail "files written: $got"
line() { grep -F -- "$1" <<<"$err" || true; }
line "s3://b/k/a//b" | grep -q "'k/a/b'" || fail "the a//b line does not name key 'k/a/b': $err"
line "s3://b/k/x/./y" | grep -q "'.'" || fail "the x/./y line does not name the '.' segment: $err"
line "s3://b/k/x/../z" | grep -q "'..'" || fail "the x/../z line does not name the '..' segment: $err"
line "s3://b/k/../../evil" | grep -q "outside" || fail "the ../../evil line does not say outside: $err"
line "s3://b/k/f:" | grep -q "'k/f/g'" || fail "the k/f line does not name key 'k/f/g': $err"
line "s3://b/k/dir/" | grep -q "folder marker" || fail "the k/dir/ line does not say folder marker: $err"
if grep -qF "fluss-get: failed: s3://b/k/dir/:" <<<"$err"; then fail "a folder marker counted as a failure: $err"; fi
for k in k/ok.log k/a/b k/f/g; do
  if grep -qF "fluss-get: failed: s3://b/$k:" <<<"$err"; then fail "$k was refused: $err"; fi
done
[ "$(grep -c "failed:" <<<"$err")" -eq 5 ] || fail "want 5 failure lines: $err"

# 2. An absolute-looking key.
set +e
err="$("$get" --endpoint "$kendpoint" -o "$work/o2" s3://b//abs 2>&1 >/dev/null)"; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "key '/abs': exit $rc, want 1"
grep -F "s3://b//abs" <<<"$err" | grep -q "starts with '/'" || fail "no line about key '/abs': $err"
[ -z "$(find "$work/o2" -type f)" ] || fail "key '/abs' wrote a file"

# 3. Two sources, one file: both refused, each naming the other.
mkdir -p "$work/s1" "$work/s2"; echo one >"$work/s1/same.log"; echo two >"$work/s2/same.log"
set +e
err="$("$get" -o "$work/o3" "file://$work/s1/same.log" "file://$work/s2/same.log" 2>&1 >/dev/null)"; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "two sources for one file: exit $rc, want 1"
grep -F "file://$work/s1/same.log:" <<<"$err" | grep -qF "file://$work/s2/same.log" || fail "s1 line lacks s2: $err"
grep -F "file://$work/s2/same.log:" <<<"$err" | grep -qF "file://$work/s1/same.log" || fail "s2 line lacks s1: $err"
[ ! -e "$work/o3/same.log" ] || fail "same.log written although its sources collide"

# 4. The same object named twice (a URI and a prefix over it): downloaded once, no error.
"$get" --endpoint "$kendpoint" -o "$work/o4" s3://b/k/ok.log s3://b/k/ok.log || fail "the same key twice failed"
key_body k/ok.log "$work/want"; cmp "$work/o4/k/ok.log" "$work/want" || fail "k/ok.log (named twice) differs"
echo "fluss-get keys: all checks passed"
