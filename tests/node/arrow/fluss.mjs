// The generator's own model of Fluss (independent of the C++ code): column
// types, CompactedRow and key encoding, the apply rules, batch headers with
// CRC-32C, and the remote-log tablet layout (segments + manifest JSON).
// Facts: /work/shared/spec/fluss-remote-log.md, fluss-arrow.md.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

// ------------------------------------------------------------------ types
// A column: { name, type, nullable, precision, scale, length }.
// JS values per type: BOOLEAN bool; TINYINT/SMALLINT/INT/DATE number; TIME number (millis of day);
// BIGINT BigInt; FLOAT/DOUBLE number; STRING/CHAR string; BYTES/BINARY Uint8Array; DECIMAL BigInt
// (unscaled); TIMESTAMP/TIMESTAMP_LTZ { ms: BigInt, nanos: 0..999999 }; null = SQL NULL.
export function col(name, type, opts = {}) {
  const c = { name, type, nullable: opts.nullable ?? true, precision: opts.precision, scale: opts.scale ?? 0,
    length: opts.length ?? 1 };
  if (c.precision === undefined) c.precision = type === 'DECIMAL' ? 10 : type === 'TIME' ? 0 : 6;
  return c;
}

export function typeName(c) {
  switch (c.type) {
    case 'DECIMAL': return `DECIMAL(${c.precision},${c.scale})`;
    case 'CHAR': case 'BINARY': return `${c.type}(${c.length})`;
    case 'TIME': return `TIME(${c.precision})`;  // explicit: bare TIME is TIME(0) in Fluss
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return `${c.type}(${c.precision})`;
    default: return c.type;
  }
}

// The --schema string fluss-replay takes ("id INT NOT NULL, name STRING, ...").
export function schemaString(cols) {
  return cols.map((c) => `${c.name} ${typeName(c)}${c.nullable ? '' : ' NOT NULL'}`).join(', ');
}

// ------------------------------------------------------------------ bytes
export class Bytes {
  constructor() { this.parts = []; this.n = 0; }
  push(u8) { this.parts.push(u8); this.n += u8.length; return this; }
  u8(v) { return this.push(Uint8Array.of(v & 0xff)); }
  i16(v) { const b = new Uint8Array(2); new DataView(b.buffer).setInt16(0, v, true); return this.push(b); }
  i32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v, true); return this.push(b); }
  u32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return this.push(b); }
  i64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(v), true); return this.push(b); }
  f32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true); return this.push(b); }
  f64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, v, true); return this.push(b); }
  varint(v) {  // unsigned LEB128 of a BigInt or number already reduced to its unsigned value
    let x = BigInt(v);
    if (x < 0n) throw new Error('varint of a negative value');
    const out = [];
    while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    out.push(Number(x));
    return this.push(Uint8Array.from(out));
  }
  bytes() {
    const out = new Uint8Array(this.n);
    let p = 0;
    for (const b of this.parts) { out.set(b, p); p += b.length; }
    return out;
  }
}

const u32of = (v) => BigInt.asUintN(32, BigInt(v));
const u64of = (v) => BigInt.asUintN(64, BigInt(v));
const utf8 = (s) => new TextEncoder().encode(s);

// BigInteger.toByteArray(): minimal big-endian two's complement (at least one byte).
export function bigIntToByteArray(v) {
  let n = 1;
  while (v < -(1n << BigInt(8 * n - 1)) || v >= (1n << BigInt(8 * n - 1))) n++;
  const u = BigInt.asUintN(8 * n, v);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[n - 1 - i] = Number((u >> BigInt(8 * i)) & 0xffn);
  return out;
}

// One CompactedRow field (no null bit).
export function putField(b, c, v) {
  switch (c.type) {
    case 'BOOLEAN': return b.u8(v ? 1 : 0);
    case 'TINYINT': return b.u8(v);
    case 'SMALLINT': return b.i16(v);
    case 'INT': case 'DATE': case 'TIME': return b.varint(u32of(v));
    case 'BIGINT': return b.varint(u64of(v));
    case 'FLOAT': return b.f32(v);
    case 'DOUBLE': return b.f64(v);
    case 'STRING': case 'CHAR': { const s = utf8(v); return b.varint(s.length).push(s); }
    case 'BYTES': case 'BINARY': return b.varint(v.length).push(v);
    case 'DECIMAL':
      if (c.precision <= 18) return b.varint(u64of(v));
      { const s = bigIntToByteArray(v); return b.varint(s.length).push(s); }
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ':
      b.varint(u64of(v.ms));
      if (c.precision > 3) b.varint(u32of(v.nanos));
      return b;
    default: throw new Error(`no CompactedRow encoding for ${c.type}`);
  }
}

export function compactedRow(cols, row) {
  const b = new Bytes();
  const nulls = new Uint8Array((cols.length + 7) >> 3);
  cols.forEach((c, i) => { if (row[i] === null) nulls[i >> 3] |= 1 << (i % 8); });
  b.push(nulls);
  cols.forEach((c, i) => { if (row[i] !== null) putField(b, c, row[i]); });
  return b.bytes();
}

export function encodeKey(cols, pk, row) {
  const b = new Bytes();
  for (const i of pk) {
    if (row[i] === null) throw new Error(`primary key column '${cols[i].name}' is null`);
    putField(b, cols[i], row[i]);
  }
  return b.bytes();
}

export const hex = (u8) => Buffer.from(u8).toString('hex');

// ------------------------------------------------------------------ KV model
export const CT = { APPEND_ONLY: 0, INSERT: 1, UPDATE_BEFORE: 2, UPDATE_AFTER: 3, DELETE: 4 };

export class KvModel {
  constructor(cols, pk, schemaId) { this.cols = cols; this.pk = pk; this.schemaId = schemaId; this.kv = new Map(); }
  apply(ct, row) {
    if (ct === CT.UPDATE_BEFORE) return;
    const k = hex(encodeKey(this.cols, this.pk, row));
    if (ct === CT.DELETE) { this.kv.delete(k); return; }
    if (![CT.APPEND_ONLY, CT.INSERT, CT.UPDATE_AFTER].includes(ct)) throw new Error(`change type ${ct}`);
    const v = new Uint8Array(2 + 0);
    new DataView(v.buffer).setInt16(0, this.schemaId, true);
    this.kv.set(k, hex(v) + hex(compactedRow(this.cols, row)));
  }
  // fluss-replay --dump-kv format: "hexkey\thexvalue\n", sorted by key bytes (unsigned) — hex
  // of equal-prefix bytes sorts like the bytes, and a shorter key that is a prefix sorts first.
  dump() {
    const keys = [...this.kv.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return keys.map((k) => `${k}\t${this.kv.get(k)}\n`).join('');
  }
}

// ------------------------------------------------------------------ CRC-32C
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32c(u8) {
  let c = 0xffffffff;
  for (let i = 0; i < u8.length; i++) c = CRC_TABLE[(c ^ u8[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ------------------------------------------------------------------ batches
// A batch: header for magic 0/1/2 (+ statistics for 1/2) + records area.
// fields: { baseOffset, magic, schemaId, appendOnly, recordCount, records (Uint8Array), stats (Uint8Array|null),
//           commitTimestamp, leaderEpoch }
export function encodeBatch(f) {
  const magic = f.magic ?? 0;
  const stats = magic >= 1 && f.recordCount > 0 && f.stats ? f.stats : new Uint8Array(0);
  const lastDelta = f.recordCount > 0 ? f.recordCount - 1 : 0;
  const b = new Bytes();
  b.i64(f.baseOffset).i32(0).u8(magic).i64(f.commitTimestamp ?? 1700000000000);
  if (magic === 2) b.i32(f.leaderEpoch ?? 5);
  const crcAt = b.n;
  b.u32(0);
  b.i16(f.schemaId ?? 1).u8(f.appendOnly ? 1 : 0).i32(lastDelta).i64(-1).i32(-1).i32(f.recordCount);
  if (magic >= 1) b.i32(stats.length).push(stats);
  b.push(f.records);
  const out = b.bytes();
  return finishBatch(out, magic, crcAt);
}

// Set Length and CRC of a batch whose bytes were (possibly) changed after encoding.
export function finishBatch(out, magic = out[12], crcAt = magic === 2 ? 25 : 21) {
  const dv = new DataView(out.buffer, out.byteOffset, out.length);
  dv.setInt32(8, out.length - 12, true);
  dv.setUint32(crcAt, crc32c(out.subarray(crcAt + 4)), true);
  return out;
}

export function headerSize(magic) { return magic === 0 ? 48 : magic === 1 ? 52 : 56; }

// ------------------------------------------------------------------ tablet
function uuidFrom(rand) {
  const b = rand(16);
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Deterministic bytes from a seed (so a case always writes the same files).
export function seededRandom(seed) {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    let p = 0;
    while (p < n) {
      const h = crypto.createHash('sha256').update(`${seed}:${counter++}`).digest();
      const k = Math.min(h.length, n - p);
      out.set(h.subarray(0, k), p); p += k;
    }
    return out;
  };
}

// segments: [{ batches: [Uint8Array], startOffset, endOffset }]. Returns { tabletDir, segmentIds }.
export function writeTablet(root, { database = 'fluss', table = 'arrowjs', tableId = 2001, bucket = 0, seed = 1 }, segments) {
  const rand = seededRandom(seed);
  const tabletDir = path.join(root, 'log', database, `${table}-${tableId}`, String(bucket));
  const entries = [];
  const segmentIds = [];
  for (const s of segments) {
    const id = uuidFrom(rand);
    segmentIds.push(id);
    const dir = path.join(tabletDir, id);
    fs.mkdirSync(dir, { recursive: true });
    const data = Buffer.concat(s.batches.map((b) => Buffer.from(b.buffer, b.byteOffset, b.length)));
    fs.writeFileSync(path.join(dir, `${String(s.startOffset).padStart(20, '0')}.log`), data);
    entries.push({ segment_id: id, start_offset: s.startOffset, end_offset: s.endOffset,
      max_timestamp: 1700000000000, size_in_bytes: data.length });
  }
  const manifest = { version: 1, database, table, table_id: tableId, bucket_id: bucket,
    highest_copied_end_offset: segments.length ? segments[segments.length - 1].endOffset : 0,
    remote_log_segments: entries };
  fs.mkdirSync(path.join(tabletDir, 'metadata'), { recursive: true });
  fs.writeFileSync(path.join(tabletDir, 'metadata', `${uuidFrom(rand)}.manifest`), JSON.stringify(manifest));
  return { tabletDir, segmentIds };
}
