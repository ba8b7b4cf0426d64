#!/usr/bin/env bash
# requires: examples
# fluss-replay --log-format arrow against ARROW tablets written by an INDEPENDENT Arrow implementation
# (apache-arrow JS + zstd-codec + lz4js, tests/node/arrow/gen.mjs); the expected KV state comes from
# the generator's own JS model, never from the C++ code. Good cases: the --dump-kv output equals the
# model's state byte for byte. Corrupt cases (a batch changed after writing, its CRC recomputed so the
# batch reader accepts it; always the third batch, base offset 10, of a 3-column table
# id INT NOT NULL, name STRING, amount BIGINT): exit 1, and stderr names the segment id,
# "log offset 10", the column when one is at fault, and matches (grep -Ei) the word(s) below. The
# words are deliberately loose: the C++ messages are someone else's.
#
#   case                 mutation of the bad batch                        column   word (ERE, -i)
#   bad_truncated_ipc    IPC cut 16 bytes into the body (zstd)            -        trunc|short|past|beyond|exceed|body
#   bad_continuation     first continuation byte FF -> FE                 -        continuation|ffffffff|marker|prefix
#   bad_metadata_length  metadataLength = IPC length + 64                 -        metadata
#   bad_body_length      Message.bodyLength + 4096                        -        body
#   bad_version          Message.version V5 -> V2 (1)                     -        version
#   bad_buffer_offset    name data Buffer.offset = bodyLength + 8 (none)  'name'   buffer
#   bad_prefix           name data zstd prefix = uncompressed length + 5  'name'   compress|zstd|prefix
#   bad_prefix_short     name data zstd prefix = uncompressed length - 5  'name'   compress|zstd|prefix
#   bad_zstd_garbage     name data zstd frame garbled after the magic     'name'   compress|zstd
#   bad_lz4_garbage      name data LZ4 block bytes set to FF (lz4)        'name'   compress|lz4
#   bad_offsets          name offsets[2] = 1 < offsets[1] (none)          'name'   monoton|decreas|offsets|order
#   bad_change_type      change type of row 0 = 9                         -        change
#   bad_row_count        RecordBatch.length = RecordCount + 1             -        row|count|length
#   bad_schema_id        header SchemaId 2 (the schema given is id 1)     -        schema
#
# Good cases: zstd, lz4, none, mixed (codec per batch), appendonly, empty (RecordCount 0 batches),
# magic1 (V1 + statistics), magic2, segments (3 segments), types (every type incl. DECIMAL(38,10),
# DECIMAL(10,2), TIME(0/3/6/9), TIMESTAMP(0/3/6/9), TIMESTAMP_LTZ(3/9), CHAR(5), BINARY(4), nulls,
# negatives, unicode, empty and >64 KiB strings), types_basic (the same rows on the columns the
# current schema parser knows), types_pk (composite key id, s).
# Every run also asserts that --temp-dir is left empty.
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" arrow-js
node_dir="$src/tests/node"
if ! command -v node >/dev/null 2>&1 || [ ! -d "$node_dir/node_modules/apache-arrow" ] \
   || [ ! -d "$node_dir/node_modules/zstd-codec" ] || [ ! -d "$node_dir/node_modules/lz4js" ]; then
  fail "node or the npm test packages (apache-arrow, zstd-codec, lz4js) are missing: run scripts/setup"
fi
jsgen="$node_dir/arrow/gen.mjs"
node "$node_dir/arrow/selftest.mjs" >/dev/null || fail "the generator's self-test failed"
kv() { sed -n "s/^$1=//p" <<<"$2"; }

replay_case() {  # name → sets info, rc, err; out.kv in $work/$1
  info="$(node "$jsgen" --case "$1" --out "$work/$1" --expected-kv "$work/$1.expected.kv" --check)" \
    || fail "$1: gen.mjs failed"
  set +e
  err="$("$replay" --remote-log-dir "$(kv tablet "$info")" --log-format arrow --schema "$(kv schema "$info")" \
    --primary-key "$(kv primary_key "$info")" --temp-dir "$work/tmp" --dump-kv "$work/$1.got.kv" --no-progress 2>&1 >/dev/null)"
  rc=$?
  set -e
  [ -z "$(ls -A "$work/tmp")" ] || fail "$1: temp files left in --temp-dir: $(ls -A "$work/tmp")"
}

failures=0
bad() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
for name in $(node "$jsgen" --list); do
  replay_case "$name"
  case "$name" in
    bad_*)
      seg="$(kv bad_segment "$info")"; off="$(kv bad_log_offset "$info")"
      column="$(kv bad_column "$info")"; word="$(kv bad_word "$info")"
      [ "$rc" -eq 1 ] || { bad "$name: exit $rc, want 1: $err"; continue; }
      grep -qF "$seg" <<<"$err" || bad "$name: the error does not name segment $seg: $err"
      grep -qE "log offset $off([^0-9]|$)" <<<"$err" || bad "$name: the error does not say 'log offset $off': $err"
      [ -z "$column" ] || grep -qF "'$column'" <<<"$err" || bad "$name: the error does not name column '$column': $err"
      grep -qEi "$word" <<<"$err" || bad "$name: the error does not match /$word/i: $err"
      ;;
    *)
      [ "$rc" -eq 0 ] || { bad "$name: replay failed (exit $rc): $err"; continue; }
      cmp -s "$work/$name.expected.kv" "$work/$name.got.kv" \
        || bad "$name: replayed state differs from the JS model's ($(wc -l <"$work/$name.got.kv") vs $(wc -l <"$work/$name.expected.kv") keys; first difference: $(diff "$work/$name.expected.kv" "$work/$name.got.kv" | head -c 300))"
      [ "$(wc -l <"$work/$name.expected.kv")" -gt 0 ] || bad "$name: the model's state is empty (a test that cannot fail)"
      ;;
  esac
done
[ "$failures" -eq 0 ] || fail "$failures ARROW cases failed"
echo "arrow_js: all $(node "$jsgen" --list | wc -w) cases passed"

