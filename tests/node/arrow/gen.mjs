#!/usr/bin/env node
// Writes a Fluss remote-log tablet of ARROW batches (IPC by apache-arrow JS, codecs zstd-codec /
// lz4js) for a named case, and the KV state the generator's own model says a replay must leave.
//
//   node gen.mjs --list                              the case names, one a line (corrupt ones start with bad_)
//   node gen.mjs --case NAME --out DIR [--expected-kv FILE] [--check]
//
// Prints KEY=VALUE lines: tablet (file:// URI of the tablet dir), schema (fluss-replay --schema),
// primary_key, segments (ids, in order), and for corrupt cases bad_segment, bad_log_offset,
// bad_column (may be empty) and bad_word (an ERE). --check reads every batch back with
// apache-arrow's reader and compares it with the model rows, and cross-checks every compressed
// buffer with the system zstd / lz4 CLIs (when installed).
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cases, corruptCases } from './cases.mjs';
import { CT, KvModel, encodeBatch, schemaString, writeTablet } from './fluss.mjs';
import { initCodecs, recordBatchMessage, fbMessage, readRecordBatch, codecs } from './ipc.mjs';
import { rowsFromBatch, sameValue } from './values.mjs';

function args(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--list' || f === '--check') a[f.slice(2)] = true;
    else if (['--case', '--out', '--expected-kv'].includes(f)) a[f.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${f}`);
  }
  return a;
}

function systemDecode(codec, frame) {
  const tool = codec === 'zstd' ? 'zstd' : 'lz4';
  try { return execFileSync(tool, ['-d', '-c', '-q'], { input: frame, maxBuffer: 1 << 26 }); }
  catch (e) { if (e.code === 'ENOENT') return null; throw new Error(`${tool} -d rejected a buffer: ${e.message}`); }
}

// Every compressed region: prefix = uncompressed length (or -1 raw), frame decodes (JS codec and
// system CLI) to exactly that many bytes.
function checkBuffers(msg, codec) {
  const fb = fbMessage(msg);
  let checked = 0;
  if (codec === 'none') { if (fb.codec !== null) throw new Error('codec none but a compression table'); return 0; }
  if (fb.codec !== (codec === 'zstd' ? 1 : 0)) throw new Error(`BodyCompression codec ${fb.codec} for ${codec}`);
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.length);
  for (const b of fb.buffers) {
    if (b.length === 0n) continue;
    const at = fb.bodyStart + Number(b.offset);
    const prefix = dv.getBigInt64(at, true);
    if (prefix === -1n) continue;
    const frame = msg.subarray(at + 8, at + Number(b.length));
    const js = codecs[codec].decode(frame);
    if (BigInt(js.length) !== prefix) throw new Error(`prefix ${prefix} but JS ${codec} decodes ${js.length} bytes`);
    if (codec === 'lz4' && (frame[4] !== 0x60 || frame[5] !== 0x40)) throw new Error('LZ4 FLG/BD not 0x60/0x40');
    const sys = systemDecode(codec, frame);
    if (sys && Buffer.compare(sys, Buffer.from(js)) !== 0) throw new Error(`system ${codec} -d disagrees with the JS codec`);
    checked++;
  }
  return checked;
}

async function main() {
  const a = args(process.argv.slice(2));
  if (a.list) { console.log([...Object.keys(cases), ...Object.keys(corruptCases)].join('\n')); return; }
  const make = cases[a.case] ?? corruptCases[a.case];
  if (!make || !a.out) throw new Error('usage: gen.mjs --case NAME --out DIR [--expected-kv FILE] [--check] | --list');
  await initCodecs();
  const c = make();
  const schemaId = 1;
  const model = new KvModel(c.cols, c.pk, schemaId);
  let offset = 0;
  let bad = null;
  let compressedChecked = 0;
  const segs = [];
  c.segments.forEach((batches, si) => {
    const start = offset;
    const out = [];
    for (const b of batches) {
      const n = b.changes.length;
      const rows = b.changes.map(([, r]) => r);
      let ipc = n > 0 ? recordBatchMessage(c.cols, rows, b.codec) : new Uint8Array(0);
      if (a.check && n > 0) {
        const got = rowsFromBatch(c.cols, readRecordBatch(c.cols, ipc));
        rows.forEach((r, i) => r.forEach((v, j) => {
          if (!sameValue(c.cols[j], v, got[i][j])) throw new Error(`read back: row ${i} column ${c.cols[j].name} differs`);
        }));
        compressedChecked += checkBuffers(ipc, b.codec);
      }
      const ed = { ipc: ipc.slice(), fb: n > 0 ? fbMessage(ipc) : null,
        changeTypes: Uint8Array.from(b.changes.map(([ct]) => ct)), schemaId };
      if (b.mutate) { b.mutate(ed); bad = { segment: si, offset }; }
      const records = Buffer.concat([b.appendOnly || n === 0 ? new Uint8Array(0) : ed.changeTypes, ed.ipc]);
      out.push(encodeBatch({ baseOffset: offset, magic: b.magic ?? 0, schemaId: ed.schemaId, appendOnly: b.appendOnly,
        recordCount: n, records, stats: b.stats }));
      for (const [ct, r] of b.changes) model.apply(b.appendOnly ? CT.APPEND_ONLY : ct, r);
      offset += Math.max(n, 1);
    }
    segs.push({ batches: out, startOffset: start, endOffset: offset });
  });
  const { tabletDir, segmentIds } = writeTablet(a.out, { seed: a.case }, segs);
  if (a['expected-kv']) fs.writeFileSync(a['expected-kv'], c.corrupt ? '' : model.dump());
  const lines = [`tablet=file://${tabletDir}`, `schema=${schemaString(c.cols)}`,
    `primary_key=${c.pk.map((i) => c.cols[i].name).join(',')}`, `segments=${segmentIds.join(' ')}`,
    `keys=${model.kv.size}`, `next_offset=${offset}`];
  if (a.check) lines.push(`compressed_buffers_checked=${compressedChecked}`);
  if (c.corrupt) {
    if (!bad || bad.offset !== c.corrupt.logOffset) throw new Error('corrupt case: the bad batch is not where expected');
    lines.push(`bad_segment=${segmentIds[bad.segment]}`, `bad_log_offset=${bad.offset}`,
      `bad_column=${c.corrupt.column ?? ''}`, `bad_word=${c.corrupt.word}`);
  }
  console.log(lines.join('\n'));
}

main().catch((e) => { console.error(`gen.mjs: ${e.stack ?? e}`); process.exit(1); });
