#!/usr/bin/env node
// Reads a Fluss remote-log tablet of ARROW batches (e.g. written by the C++ fluss-gen --log-format arrow)
// with apache-arrow's reader and the generator's JS model, and writes the KV state in fluss-replay's
// --dump-kv format. Nothing here uses the C++ code.
//
//   node read.mjs --tablet file:///…/log/db/t-1/0 --schema "id INT NOT NULL, …" --primary-key id
//                 [--schema-id 1] --out-kv FILE
//
// Checks on the way (each failure exits 1 naming segment, file offset and log offset): the newest
// manifest's segments in order, batch Length/CRC-32C (V0/V1 over [25,end), V2 over [29,end)),
// contiguous offsets, the schema id, change types 0..4, one IPC RecordBatch message filling the rest of
// the batch exactly (continuation, V5, RecordBatch.length = RecordCount), every compressed buffer's
// 8-byte prefix = the length the frame decompresses to (apache-arrow's own reader ignores it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { col, CT, KvModel, crc32c, headerSize } from './fluss.mjs';
import { initCodecs, readRecordBatch, fbMessage, codecs } from './ipc.mjs';
import { rowsFromBatch } from './values.mjs';

function args(argv) {
  const a = { 'schema-id': '1' };
  for (let i = 0; i < argv.length; i += 2) {
    if (!['--tablet', '--schema', '--primary-key', '--schema-id', '--out-kv'].includes(argv[i])) throw new Error(`unknown argument ${argv[i]}`);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['tablet', 'schema', 'primary-key', 'out-kv']) if (!a[k]) throw new Error(`--${k} is required`);
  return a;
}

// "id INT NOT NULL, name STRING, d DECIMAL(10,2), ts TIMESTAMP(3)" → columns (Fluss defaults: TIME = TIME(0),
// TIMESTAMP[_LTZ] = precision 6, DECIMAL = DECIMAL(10,0), CHAR/BINARY = length 1).
export function parseSchema(s, pk) {
  const defs = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { defs.push(cur); cur = ''; } else cur += ch;
  }
  defs.push(cur);
  const cols = defs.map((d) => {
    const m = /^\s*(\S+)\s+([A-Za-z_]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*(NOT\s+NULL)?\s*$/i.exec(d);
    if (!m) throw new Error(`schema: cannot parse '${d.trim()}'`);
    let type = m[2].toUpperCase();
    if (type === 'INTEGER') type = 'INT';
    const n = m[3] === undefined ? undefined : Number(m[3]);
    const o = { nullable: !m[5] };
    if (type === 'DECIMAL') { o.precision = n ?? 10; o.scale = m[4] === undefined ? 0 : Number(m[4]); }
    else if (type === 'CHAR' || type === 'BINARY') o.length = n ?? 1;
    else if (type === 'TIME') o.precision = n ?? 0;
    else if (type === 'TIMESTAMP' || type === 'TIMESTAMP_LTZ') o.precision = n ?? 6;
    else if (n !== undefined) throw new Error(`schema: ${type} takes no parameters`);
    return col(m[1], type, o);
  });
  const keys = pk.split(',').map((k) => {
    const i = cols.findIndex((c) => c.name === k.trim());
    if (i < 0) throw new Error(`primary key column '${k}' is not in the schema`);
    cols[i].nullable = false;
    return i;
  });
  return { cols, pk: keys };
}

function checkPrefixes(msg, where) {
  const fb = fbMessage(msg);
  if (fb.codec === null) return;
  const codec = fb.codec === 1 ? 'zstd' : fb.codec === 0 ? 'lz4' : null;
  if (!codec) throw new Error(`${where}: unknown compression codec ${fb.codec}`);
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.length);
  fb.buffers.forEach((b, k) => {
    if (b.length === 0n) return;
    if (b.length < 8n) throw new Error(`${where}: buffer ${k}: compressed region of ${b.length} bytes`);
    const at = fb.bodyStart + Number(b.offset);
    const prefix = dv.getBigInt64(at, true);
    if (prefix === -1n || prefix === 0n) return;
    const frame = msg.subarray(at + 8, at + Number(b.length));
    if (codec === 'lz4' && (frame[4] & 0x20) === 0) throw new Error(`${where}: buffer ${k}: LZ4 FLG 0x${frame[4].toString(16)} lacks block independence (Fluss rejects it)`);
    const out = codecs[codec].decode(frame);
    if (BigInt(out.length) !== prefix) throw new Error(`${where}: buffer ${k}: prefix ${prefix} but the ${codec} frame holds ${out.length} bytes`);
  });
}

async function main() {
  const a = args(process.argv.slice(2));
  await initCodecs();
  const { cols, pk } = parseSchema(a.schema, a['primary-key']);
  const schemaId = Number(a['schema-id']);
  const model = new KvModel(cols, pk, schemaId);
  const tablet = a.tablet.startsWith('file://') ? fileURLToPath(a.tablet) : a.tablet;
  const mdir = path.join(tablet, 'metadata');
  const newest = fs.readdirSync(mdir).filter((f) => f.endsWith('.manifest'))
    .map((f) => ({ f, t: fs.statSync(path.join(mdir, f)).mtimeMs })).sort((x, y) => y.t - x.t)[0];
  if (!newest) throw new Error(`no manifest in ${mdir}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(mdir, newest.f), 'utf8'));
  const segs = [...manifest.remote_log_segments].sort((x, y) => x.start_offset - y.start_offset);
  const stats = { segments: 0, batches: 0, records: 0, empty: 0, appendOnly: 0, codecs: {} };
  let next = segs.length ? segs[0].start_offset : 0;
  for (const s of segs) {
    const file = path.join(tablet, s.segment_id, `${String(s.start_offset).padStart(20, '0')}.log`);
    const u8 = new Uint8Array(fs.readFileSync(file));
    if (u8.length !== s.size_in_bytes) throw new Error(`segment ${s.segment_id}: ${u8.length} bytes, manifest says ${s.size_in_bytes}`);
    const dv = new DataView(u8.buffer);
    let p = 0;
    stats.segments++;
    while (p < u8.length) {
      const base = Number(dv.getBigInt64(p, true));
      const where = `segment ${s.segment_id}: file offset ${p}, log offset ${base}`;
      if (p + 12 > u8.length) throw new Error(`${where}: truncated batch header`);
      const end = p + 12 + dv.getInt32(p + 8, true);
      if (end > u8.length) throw new Error(`${where}: batch runs past the end of the file`);
      const magic = u8[p + 12];
      if (magic > 2) throw new Error(`${where}: magic ${magic}`);
      const crcAt = p + (magic === 2 ? 25 : 21);
      if (dv.getUint32(crcAt, true) !== crc32c(u8.subarray(crcAt + 4, end))) throw new Error(`${where}: CRC mismatch`);
      const h = p + (magic === 2 ? 29 : 25);  // SchemaId
      const sid = dv.getInt16(h, true), attrs = u8[h + 2], lastDelta = dv.getInt32(h + 3, true), count = dv.getInt32(h + 19, true);
      const statsLen = magic >= 1 ? dv.getInt32(h + 23, true) : 0;
      if (base !== next) throw new Error(`${where}: expected base offset ${next}`);
      if (sid !== schemaId) throw new Error(`${where}: schema id ${sid}, not ${schemaId}`);
      if (count < 0 || lastDelta !== (count > 0 ? count - 1 : 0)) throw new Error(`${where}: RecordCount ${count}, LastOffsetDelta ${lastDelta}`);
      let r = p + headerSize(magic) + statsLen;
      const appendOnly = (attrs & 1) === 1;
      stats.batches++;
      if (count === 0) {
        if (r !== end) throw new Error(`${where}: an empty batch with ${end - r} record bytes`);
        stats.empty++;
      } else {
        const cts = appendOnly ? new Uint8Array(count) : u8.subarray(r, r + count);
        if (!appendOnly) r += count;
        if (appendOnly) stats.appendOnly++;
        const msg = u8.slice(r, end);
        if (msg.length < 8 || new DataView(msg.buffer).getUint32(0, true) !== 0xffffffff) throw new Error(`${where}: no IPC continuation`);
        const fb = fbMessage(msg);
        if (fb.version !== 4 || fb.headerType !== 3) throw new Error(`${where}: IPC version ${fb.version}, header type ${fb.headerType}`);
        if (fb.bodyStart + Number(fb.bodyLength) !== msg.length) throw new Error(`${where}: IPC message is ${fb.bodyStart + Number(fb.bodyLength)} bytes, the batch leaves ${msg.length}`);
        if (Number(fb.length) !== count) throw new Error(`${where}: IPC length ${fb.length} != RecordCount ${count}`);
        checkPrefixes(msg, where);
        const codec = fb.codec === null ? 'none' : fb.codec === 1 ? 'zstd' : 'lz4';
        stats.codecs[codec] = (stats.codecs[codec] ?? 0) + 1;
        let rows;
        try { rows = rowsFromBatch(cols, readRecordBatch(cols, msg)); } catch (e) { throw new Error(`${where}: ${e.message}`); }
        rows.forEach((row, i) => {
          const ct = appendOnly ? CT.APPEND_ONLY : cts[i];
          if (ct > 4) throw new Error(`${where}: row ${i}: change type ${ct}`);
          model.apply(ct, row);
        });
        stats.records += count;
      }
      next = base + lastDelta + 1;
      p = end;
    }
  }
  fs.writeFileSync(a['out-kv'], model.dump());
  console.log(JSON.stringify({ ...stats, keys: model.kv.size, next_offset: next }));
}

main().catch((e) => { console.error(`read.mjs: ${e.message}`); process.exit(1); });
