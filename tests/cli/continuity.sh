#!/usr/bin/env bash
# Offset continuity, end to end: fluss-replay proves that it applied every
# offset of [start, stop) exactly once. A manifest missing a middle segment, a
# segment object cut short at a batch boundary (its manifest size adjusted so
# only the offsets can tell), and a stop offset past the end of the log fail
# with exit 1 naming the missing offsets and the segments around them; a
# segment overlapping others (a legacy manifest) replays each offset once.
# requires: examples
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" continuity-cli
field() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }

# replay_with TABLET_URI MANIFEST [ARGS...] → sets rc, out (stdout) and err (stderr)
replay_with() {
  local tablet="$1" manifest="$2"
  shift 2
  set +e
  out="$("$replay" --remote-log-dir "$tablet" --manifest "file://$manifest" --schema "$schema" --primary-key id \
    --temp-dir "$work/tmp" --json --no-progress "$@" 2>"$work/err")"
  rc=$?
  set -e
  err="$(cat "$work/err")"
}
# The segments of a manifest, as listed: "id start end size" lines.
segments_of() {
  node -e 'for (const s of JSON.parse(require("fs").readFileSync(process.argv[1])).remote_log_segments)
             console.log(s.segment_id, s.start_offset, s.end_offset, s.size_in_bytes)' "$1"
}
# edit_manifest IN OUT JS: write IN with `m` changed by JS to OUT.
edit_manifest() {
  node -e 'const fs = require("fs"); const m = JSON.parse(fs.readFileSync(process.argv[1]));
           eval(process.argv[3]); fs.writeFileSync(process.argv[2], JSON.stringify(m))' "$1" "$2" "$3"
}
no_temp_left() { [ -z "$(ls -A "$work/tmp")" ] || fail "$1: temp dir left behind: $(ls "$work/tmp")"; }

tablet="$("$gen" --out "file://$work/remote" --segments 4 --segment-size 40K --keys 400 --seed 5 \
  --expected-kv "$work/expected.kv" | tail -n1)"
root="${tablet#file://}"
manifest="$(find "$root/metadata" -name '*.manifest')"
mapfile -t segs < <(segments_of "$manifest")
[ "${#segs[@]}" -eq 4 ] || fail "fluss-gen wrote ${#segs[@]} segments, want 4"
read -r id0 s0 e0 z0 <<<"${segs[0]}"
read -r id1 s1 e1 z1 <<<"${segs[1]}"
read -r id2 s2 e2 z2 <<<"${segs[2]}"
read -r id3 s3 e3 z3 <<<"${segs[3]}"
[ "$e0" = "$s1" ] && [ "$e1" = "$s2" ] && [ "$e2" = "$s3" ] || fail "generated segments do not tile: ${segs[*]}"

# 0. The whole log: exit 0, the generator's state; what a correct replay counts.
replay_with "$tablet" "$manifest" --dump-kv "$work/got.kv"
[ "$rc" -eq 0 ] || fail "plain replay: exit $rc ($err)"
cmp -s "$work/expected.kv" "$work/got.kv" || fail "plain replay state differs"
plain="$(echo "$out" | tail -n1)"
[ "$(field "$plain" next_offset)" = "$e3" ] || fail "plain replay ended at $(field "$plain" next_offset), want $e3"

# 1. A manifest without its second segment: the hole and both neighbours are named.
edit_manifest "$manifest" "$work/hole.manifest" 'm.remote_log_segments.splice(1, 1)'
replay_with "$tablet" "$work/hole.manifest"
[ "$rc" -eq 1 ] || fail "missing middle segment: exit $rc, want 1 ($err)"
grep -qF "offsets [$s1, $e1) of the replay range [0, $e3) are in no remote log segment" <<<"$err" \
  || fail "missing middle segment: the error does not name the range [$s1, $e1): $err"
grep -qF "between segment $id0 (logical [$s0, $e0)) and segment $id2 (logical [$s2, $e2))" <<<"$err" \
  || fail "missing middle segment: the error does not name the neighbours: $err"
no_temp_left "missing middle segment"

# 2. A stop offset past the end of the log: the offsets after the last segment are missing.
replay_with "$tablet" "$manifest" --stop-offset $((e3 + 100))
[ "$rc" -eq 1 ] || fail "stop past the end: exit $rc, want 1 ($err)"
grep -qF "offsets [$e3, $((e3 + 100))) of the replay range [0, $((e3 + 100)))" <<<"$err" \
  || fail "stop past the end: the error does not name the range: $err"
grep -qF "the segments end with segment $id3" <<<"$err" || fail "stop past the end: no last segment named: $err"
# A stop inside a segment is fine.
replay_with "$tablet" "$manifest" --stop-offset $(((s1 + e1) / 2))
[ "$rc" -eq 0 ] || fail "stop inside a segment: exit $rc ($err)"

# 3. The second segment's object cut at a batch boundary, two batches short, with its
#    size in the manifest fixed to match: the reader sees a clean end, the offsets do not.
cp -r "$work/remote" "$work/cut"
ctablet="file://$work/cut${root#"$work/remote"}"
cfile="$work/cut${root#"$work/remote"}/$id1/$(printf '%020d' "$s1").log"
starts=() bases=()
pos=0
size="$(stat -c %s "$cfile")"
while [ "$pos" -lt "$size" ]; do  # walk the batch headers: base offset at 0, length at 8
  starts+=("$pos")
  bases+=("$(od -An -t d8 -j "$pos" -N8 "$cfile" | tr -d ' ')")
  pos=$((pos + 12 + $(od -An -t d4 -j $((pos + 8)) -N4 "$cfile" | tr -d ' ')))
done
n="${#starts[@]}"
[ "$n" -ge 3 ] || fail "segment $id1 has $n batches, want 3 or more"
cut="${starts[n - 2]}" reached="${bases[n - 2]}"
truncate -s "$cut" "$cfile"
edit_manifest "$manifest" "$work/cut.manifest" \
  "m.remote_log_segments.find(s => s.segment_id === '$id1').size_in_bytes = $cut"
replay_with "$ctablet" "$work/cut.manifest"
[ "$rc" -eq 1 ] || fail "segment cut short: exit $rc, want 1 ($err)"
grep -qF "segment $id1 (key ${cfile#/}, logical [$s1, $e1))" <<<"$err" \
  || fail "segment cut short: the error does not name the segment and its key: $err"
grep -qF "its batches end at offset $reached, before its read end $e1" <<<"$err" \
  || fail "segment cut short: the error does not name the offset reached ($reached) and the end ($e1): $err"
grep -qF "offsets [$reached, $e1) are missing" <<<"$err" || fail "segment cut short: no missing range: $err"
no_temp_left "segment cut short"

# 4. The next-offset guard: a legacy manifest (Fluss #4272) with one more segment holding
#    segments 0 and 1 again, [s0, e1). Its batches overlap what segment 0 applied and
#    what segment 1 will; each offset must be applied once: the same state, batches and
#    records as the plain replay.
dup="00000000-0000-4000-8000-0000000000a1"
mkdir -p "$root/$dup"
cat "$root/$id0/$(printf '%020d' "$s0").log" "$root/$id1/$(printf '%020d' "$s1").log" \
  >"$root/$dup/$(printf '%020d' "$s0").log"
edit_manifest "$manifest" "$work/overlap.manifest" \
  "m.remote_log_segments.splice(1, 0, {segment_id: '$dup', start_offset: $s0, end_offset: $e1,
     max_timestamp: 0, size_in_bytes: $((z0 + z1))})"
replay_with "$tablet" "$work/overlap.manifest" --dump-kv "$work/overlap.kv"
[ "$rc" -eq 0 ] || fail "overlapping segments: exit $rc ($err)"
cmp -s "$work/expected.kv" "$work/overlap.kv" || fail "overlapping segments: state differs"
json="$(echo "$out" | tail -n1)"
[ "$(field "$json" segments)" = 5 ] || fail "overlapping segments: want all 5 segments read: $json"
for k in batches records inserts deletes next_offset; do
  [ "$(field "$json" "$k")" = "$(field "$plain" "$k")" ] \
    || fail "overlapping segments: $k $(field "$json" "$k"), want $(field "$plain" "$k") (offsets applied twice?)"
done
echo "continuity CLI: all checks passed"
