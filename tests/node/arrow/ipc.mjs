// The Arrow side, done by an independent implementation (apache-arrow JS +
// pure-JS codecs): Fluss type -> Arrow type, column buffers, one bare IPC
// RecordBatch message per Fluss batch (the Schema message and EOS the stream
// writer emits are stripped), and reading such messages back.
import { createRequire } from 'node:module';
import * as A from 'apache-arrow';

const require = createRequire(import.meta.url);

// ------------------------------------------------------------------ codecs
let zstdSimple = null;
const lz4 = require('lz4js');
const xxh32 = require('lz4js/xxh32.js');

// Fluss's LZ4 frame (FlussLZ4BlockOutputStream): FLG 0x60 (version 1, independent blocks), BD 0x40
// (64 KiB blocks), HC = (xxh32(FLG,BD) >> 8) & 0xff, blocks (bit 31 = stored), end mark 0. The blocks
// are compressed by lz4js, each one from its own copy with a fresh hash table so no block refers to
// an earlier one (lz4js's own compressFrame writes FLG 0x40, BD 0x70 and may chain blocks).
export function lz4FrameEncode(src) {
  const parts = [Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0)];
  parts[0][6] = (xxh32.hash(0, parts[0], 4, 2) >> 8) & 0xff;
  for (let p = 0; p < src.length; p += 65536) {
    const chunk = src.slice(p, Math.min(src.length, p + 65536));
    const dst = new Uint8Array(lz4.compressBound(chunk.length));
    const n = lz4.compressBlock(chunk, dst, 0, chunk.length, new Uint32Array(1 << 16));
    const size = new Uint8Array(4);
    const dv = new DataView(size.buffer);
    if (n === 0 || n >= chunk.length) { dv.setUint32(0, (0x80000000 | chunk.length) >>> 0, true); parts.push(size, chunk); }
    else { dv.setUint32(0, n, true); parts.push(size, dst.subarray(0, n)); }
  }
  parts.push(new Uint8Array(4));
  return Buffer.concat(parts);
}

export const codecs = {
  zstd: { encode: (u8) => zstdSimple.compress(u8, 3), decode: (u8) => zstdSimple.decompress(u8) },
  lz4: { encode: lz4FrameEncode, decode: (u8) => lz4.decompress(u8) },
};

export async function initCodecs() {
  if (zstdSimple) return;
  const { ZstdCodec } = require('zstd-codec');
  await new Promise((resolve) => ZstdCodec.run((z) => { zstdSimple = new z.Simple(); resolve(); }));
  A.compressionRegistry.set(A.CompressionType.ZSTD, codecs.zstd);
  A.compressionRegistry.set(A.CompressionType.LZ4_FRAME, codecs.lz4);
}

// ------------------------------------------------------------------ types
export function arrowType(c) {
  const p = c.precision;
  switch (c.type) {
    case 'BOOLEAN': return new A.Bool();
    case 'TINYINT': return new A.Int8();
    case 'SMALLINT': return new A.Int16();
    case 'INT': return new A.Int32();
    case 'BIGINT': return new A.Int64();
    case 'FLOAT': return new A.Float32();
    case 'DOUBLE': return new A.Float64();
    case 'STRING': case 'CHAR': return new A.Utf8();
    case 'BYTES': return new A.Binary();
    case 'BINARY': return new A.FixedSizeBinary(c.length);
    case 'DECIMAL': return new A.Decimal(c.scale, c.precision, 128);
    case 'DATE': return new A.DateDay();
    case 'TIME': return p === 0 ? new A.TimeSecond() : p <= 3 ? new A.TimeMillisecond() : p <= 6 ? new A.TimeMicrosecond() : new A.TimeNanosecond();
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ':
      return p === 0 ? new A.TimestampSecond(null) : p <= 3 ? new A.TimestampMillisecond(null)
        : p <= 6 ? new A.TimestampMicrosecond(null) : new A.TimestampNanosecond(null);
    default: throw new Error(`no Arrow type for ${c.type}`);
  }
}

export function arrowSchema(cols) {
  return new A.Schema(cols.map((c) => new A.Field(c.name, arrowType(c), c.nullable)));
}

// The Arrow value of a model value (spec §4: what Fluss's Java writers put in the vectors).
function timeValue(c, ms) {
  const p = c.precision;
  if (p === 0) { if (ms % 1000) throw new Error(`${c.name}: TIME(0) value ${ms} is not whole seconds`); return ms / 1000; }
  if (p <= 3) return ms;
  return BigInt(ms) * (p <= 6 ? 1000n : 1000000n);
}
function timestampValue(c, v) {
  const p = c.precision;
  const ms = BigInt(v.ms);
  if (p <= 3 && v.nanos) throw new Error(`${c.name}: TIMESTAMP(${p}) with sub-millisecond part`);
  if (p === 0) { if (ms % 1000n) throw new Error(`${c.name}: TIMESTAMP(0) value not whole seconds`); return ms / 1000n; }
  if (p <= 3) return ms;
  if (ms < 0n && v.nanos) throw new Error(`${c.name}: pre-1970 timestamp with a sub-millisecond part (Fluss cannot read it)`);
  if (p <= 6) { if (v.nanos % 1000) throw new Error(`${c.name}: TIMESTAMP(${p}) value with sub-microsecond part`); return ms * 1000n + BigInt(v.nanos / 1000); }
  const ns = ms * 1000000n + BigInt(v.nanos);
  if (BigInt.asIntN(64, ns) !== ns) throw new Error(`${c.name}: TIMESTAMP(${p}) value out of the int64 nanosecond range`);
  return ns;
}

// Column buffers built by hand (values exactly as Java Fluss's writers would produce), wrapped as Arrow Data.
export function columnData(c, values) {
  const n = values.length;
  const type = arrowType(c);
  let nullCount = 0;
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  values.forEach((v, i) => { if (v === null) nullCount++; else bitmap[i >> 3] |= 1 << (i % 8); });
  const props = { type, length: n, nullCount, nullBitmap: nullCount ? bitmap : undefined };
  const utf8 = new TextEncoder();
  switch (c.type) {
    case 'BOOLEAN': {
      const d = new Uint8Array(((n + 63) >> 6) << 3);
      values.forEach((v, i) => { if (v) d[i >> 3] |= 1 << (i % 8); });
      return A.makeData({ ...props, data: d });
    }
    case 'STRING': case 'CHAR': case 'BYTES': {
      const parts = values.map((v) => (v === null ? new Uint8Array(0) : typeof v === 'string' ? utf8.encode(v) : v));
      const offs = new Int32Array(n + 1);
      parts.forEach((b, i) => { offs[i + 1] = offs[i] + b.length; });
      return A.makeData({ ...props, valueOffsets: offs, data: Buffer.concat(parts) });
    }
    case 'BINARY': {
      const d = new Uint8Array(n * c.length);
      values.forEach((v, i) => {
        if (v === null) return;
        if (v.length !== c.length) throw new Error(`${c.name}: BINARY(${c.length}) value of ${v.length} bytes`);
        d.set(v, i * c.length);
      });
      return A.makeData({ ...props, data: d });
    }
    case 'DECIMAL': {
      const d = new Uint32Array(n * 4);
      values.forEach((v, i) => {
        if (v === null) return;
        const u = BigInt.asUintN(128, v);
        for (let w = 0; w < 4; w++) d[i * 4 + w] = Number((u >> BigInt(32 * w)) & 0xffffffffn);
      });
      return A.makeData({ ...props, data: d });
    }
    default: {
      const T = type.ArrayType;
      const d = new T(n);
      values.forEach((v, i) => {
        if (v === null) return;
        let x = v;
        if (c.type === 'TIME') x = timeValue(c, v);
        else if (c.type === 'TIMESTAMP' || c.type === 'TIMESTAMP_LTZ') x = timestampValue(c, v);
        d[i] = T === BigInt64Array ? BigInt(x) : x;
      });
      return A.makeData({ ...props, data: d });
    }
  }
}

// ------------------------------------------------------------------ writing
// apache-arrow 21.2.0's _compressBodyBuffers writes the *compressed* length as the 8-byte prefix
// (spec §8); Fluss/Arrow Java want the uncompressed length (or -1 = stored raw). This writer writes
// the prefix the format says, keeping JS's layout otherwise (empty buffer -> zero-length region,
// incompressible -> -1 + raw when compressed >= raw).
class FlussStreamWriter extends A.RecordBatchStreamWriter {
  _compressBodyBuffers(buffers) {
    const codec = A.compressionRegistry.get(this._compression.type);
    let at = 0;
    const out = [];
    const regions = [];
    for (const buffer of buffers) {
      const raw = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      if (raw.length === 0) { out.push(new Uint8Array(0), new Uint8Array(0)); regions.push(new BufferRegion(at, 0)); continue; }
      const packed = codec.encode(raw);
      const useIt = packed.length < raw.length;
      const body = useIt ? packed : raw;
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigInt64(0, useIt ? BigInt(raw.length) : -1n, true);
      out.push(prefix, new Uint8Array(body));
      at = (at + 7) & ~7;
      regions.push(new BufferRegion(at, 8 + body.length));
      at += 8 + body.length;
    }
    return { byteLength: (at + 7) & ~7, bufferRegions: regions, buffers: out };
  }
}
// BufferRegion is not exported by the package's entry points; take it from the module that defines it.
const { BufferRegion } = await import(new URL('../node_modules/apache-arrow/ipc/metadata/message.mjs', import.meta.url));

// Split an IPC stream into messages: [{ start, metaLen, bodyLength, headerType, bytes }].
export function splitStream(u8) {
  const out = [];
  let p = 0;
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.length);
  while (p + 8 <= u8.length) {
    if (dv.getUint32(p, true) !== 0xffffffff) throw new Error(`no continuation at ${p}`);
    const metaLen = dv.getInt32(p + 4, true);
    if (metaLen === 0) break;  // EOS
    const m = fbMessage(u8.subarray(p, p + 8 + metaLen));
    const end = p + 8 + metaLen + Number(m.bodyLength);
    out.push({ start: p, metaLen, ...m, bytes: u8.slice(p, end) });
    p = end;
  }
  return out;
}

// The bare RecordBatch message for these rows (cols, rows = arrays of model values), codec 'zstd'|'lz4'|'none'.
export function recordBatchMessage(cols, rows, codec) {
  const children = cols.map((c, i) => columnData(c, rows.map((r) => r[i])));
  const schema = arrowSchema(cols);
  const data = A.makeData({ type: new A.Struct(schema.fields), length: rows.length, children });
  const table = new A.Table([new A.RecordBatch(schema, data)]);
  const compressionType = codec === 'zstd' ? A.CompressionType.ZSTD : codec === 'lz4' ? A.CompressionType.LZ4_FRAME : null;
  const w = new FlussStreamWriter({ compressionType });  // not the static writeAll: it hard-codes the base class
  const msgs = splitStream(w.writeAll(table).toUint8Array(true));
  const rb = msgs.filter((m) => m.headerType === 3);
  if (msgs[0].headerType !== 1 || rb.length !== 1) throw new Error('unexpected IPC stream layout');
  return rb[0].bytes;
}

export function schemaMessage(cols) {
  const w = new A.RecordBatchStreamWriter();
  const table = new A.Table(arrowSchema(cols));
  const msgs = splitStream(w.writeAll(table).toUint8Array(true));
  if (msgs[0].headerType !== 1) throw new Error('no Schema message');
  return msgs[0].bytes;
}

// Decode bare RecordBatch messages with apache-arrow's reader (a synthetic stream: Schema + batch + EOS).
export function readRecordBatch(cols, msg) {
  const eos = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
  const stream = Buffer.concat([schemaMessage(cols), msg, eos]);
  const batches = [...A.RecordBatchReader.from(stream)];
  if (batches.length !== 1) throw new Error(`${batches.length} record batches decoded`);
  return batches[0];
}

// ------------------------------------------------------------------ flatbuffers (just enough)
// Vtable slot of field id = 4 + 2 id; returns the absolute position of a field, or 0 when absent.
export function fbTable(u8, pos) {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.length);
  const vt = pos - dv.getInt32(pos, true);
  const vtSize = dv.getUint16(vt, true);
  return {
    pos,
    field(id) { const s = 4 + 2 * id; if (s >= vtSize) return 0; const o = dv.getUint16(vt + s, true); return o ? pos + o : 0; },
    ref(id) { const f = this.field(id); return f ? f + dv.getUint32(f, true) : 0; },
  };
}

// Positions (in the message bytes) of the fields a mutation or check needs.
export function fbMessage(msg) {
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.length);
  const base = 8;
  const root = fbTable(msg, base + dv.getUint32(base, true));
  const r = { versionAt: root.field(0), headerTypeAt: root.field(1), bodyLengthAt: root.field(3) };
  r.version = r.versionAt ? dv.getInt16(r.versionAt, true) : 0;
  r.headerType = r.headerTypeAt ? msg[r.headerTypeAt] : 0;
  r.bodyLength = r.bodyLengthAt ? dv.getBigInt64(r.bodyLengthAt, true) : 0n;
  if (r.headerType === 3) {
    const rb = fbTable(msg, root.ref(2));
    r.lengthAt = rb.field(0);
    r.length = r.lengthAt ? dv.getBigInt64(r.lengthAt, true) : 0n;
    const vec = (id, size) => {
      const v = rb.ref(id);
      if (!v) return [];
      const n = dv.getUint32(v, true);
      return Array.from({ length: n }, (_, i) => v + 4 + i * size);
    };
    r.nodesAt = vec(1, 16);
    r.nodes = r.nodesAt.map((p) => ({ length: dv.getBigInt64(p, true), nullCount: dv.getBigInt64(p + 8, true) }));
    r.buffersAt = vec(2, 16);
    r.buffers = r.buffersAt.map((p) => ({ offset: dv.getBigInt64(p, true), length: dv.getBigInt64(p + 8, true) }));
    const comp = rb.ref(3);
    if (comp) {
      const ct = fbTable(msg, comp);
      r.codec = ct.field(0) ? msg[ct.field(0)] : 0;  // LZ4_FRAME = 0 (default, omitted), ZSTD = 1
    } else r.codec = null;
    r.bodyStart = 8 + dv.getInt32(4, true);
  }
  return r;
}

// How many IPC buffers each column has (in order), for mapping a buffer index to a column.
export function buffersPerColumn(c) {
  switch (c.type) {
    case 'STRING': case 'CHAR': case 'BYTES': return 3;
    default: return 2;
  }
}
