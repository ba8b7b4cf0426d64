// Named cases: a schema, a primary key and segments of batches (codec, magic, attributes, change list),
// plus, for corrupt cases, a mutation of one batch and the outcome fluss-replay must report.
import { col, CT } from './fluss.mjs';

// A tiny deterministic PRNG (mulberry32).
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Columns the current C++ schema parser knows (so the codec/layout cases do not depend on new types).
const baseCols = [
  col('id', 'INT', { nullable: false }), col('name', 'STRING'), col('amount', 'BIGINT'), col('price', 'DOUBLE'),
  col('active', 'BOOLEAN'), col('level', 'TINYINT'), col('code', 'SMALLINT'), col('ratio', 'FLOAT'),
  col('payload', 'BYTES'), col('day', 'DATE'), col('ts', 'TIMESTAMP', { precision: 6 }),
];

function baseRow(rand, id, version) {
  const r = () => rand();
  const maybe = (v) => (r() < 0.15 ? null : v);
  const names = ['alice', 'bob', 'Zoë', '日本語テキスト', '', 'x'.repeat(40), 'émoji 🚀'];
  return [
    id,
    maybe(`${names[Math.floor(r() * names.length)]}-${version}`),
    maybe(BigInt(Math.floor(r() * 2e9) - 1e9) * 1000003n),
    maybe(Math.round((r() - 0.5) * 1e6) / 64),
    maybe(r() < 0.5),
    maybe(Math.floor(r() * 256) - 128),
    maybe(Math.floor(r() * 65536) - 32768),
    maybe(Math.fround((r() - 0.5) * 1000)),
    maybe(Uint8Array.from({ length: Math.floor(r() * 9) }, () => Math.floor(r() * 256))),
    maybe(Math.floor(r() * 40000) - 20000),
    maybe((() => { const ms = Math.floor((r() - 0.3) * 2e12); const nanos = Math.floor(r() * 1000) * 1000;
      return { ms: BigInt(ms), nanos: ms < 0 ? 0 : nanos }; })()),  // pre-1970: whole millis only (spec §5)
  ];
}

// A changelog over nBatches batches of ~perBatch changes: inserts, updates (UPDATE_BEFORE +
// UPDATE_AFTER), deletes and re-inserts of deleted keys; the rows come from rowOf(rand, id, version).
function changelog(seed, nBatches, perBatch, rowOf) {
  const rand = prng(seed);
  const live = new Map();   // id -> current row
  const dead = [];
  let nextId = 1;
  let version = 0;
  const batches = [];
  for (let b = 0; b < nBatches; b++) {
    const changes = [];
    while (changes.length < perBatch) {
      const x = rand();
      version++;
      if (x < 0.45 || live.size < 3) {
        const id = nextId++;
        const row = rowOf(rand, id, version);
        live.set(id, row); changes.push([CT.INSERT, row]);
      } else if (x < 0.75) {
        const ids = [...live.keys()];
        const id = ids[Math.floor(rand() * ids.length)];
        const row = rowOf(rand, id, version);
        changes.push([CT.UPDATE_BEFORE, live.get(id)], [CT.UPDATE_AFTER, row]);
        live.set(id, row);
      } else if (x < 0.9) {
        const ids = [...live.keys()];
        const id = ids[Math.floor(rand() * ids.length)];
        changes.push([CT.DELETE, live.get(id)]);
        live.delete(id); dead.push(id);
      } else if (dead.length) {
        const id = dead.shift();
        const row = rowOf(rand, id, version);
        live.set(id, row); changes.push([CT.INSERT, row]);
      }
    }
    batches.push(changes);
  }
  return batches;
}

// --------------------------------------------------------------- every type
const ts = (ms, nanos = 0) => ({ ms: BigInt(ms), nanos });
const bin = (...b) => Uint8Array.from(b);
const typeCols = [
  col('id', 'INT', { nullable: false }), col('b', 'BOOLEAN'), col('t8', 'TINYINT'), col('s16', 'SMALLINT'),
  col('i32', 'INT'), col('i64', 'BIGINT'), col('f32', 'FLOAT'), col('f64', 'DOUBLE'), col('s', 'STRING'),
  col('c', 'CHAR', { length: 5 }), col('by', 'BYTES'), col('bn', 'BINARY', { length: 4 }),
  col('d38', 'DECIMAL', { precision: 38, scale: 10 }), col('d10', 'DECIMAL', { precision: 10, scale: 2 }),
  col('dt', 'DATE'),
  col('tm0', 'TIME', { precision: 0 }), col('tm3', 'TIME', { precision: 3 }), col('tm6', 'TIME', { precision: 6 }),
  col('tm9', 'TIME', { precision: 9 }),
  col('ts0', 'TIMESTAMP', { precision: 0 }), col('ts3', 'TIMESTAMP', { precision: 3 }),
  col('ts6', 'TIMESTAMP', { precision: 6 }), col('ts9', 'TIMESTAMP', { precision: 9 }),
  col('lz3', 'TIMESTAMP_LTZ', { precision: 3 }), col('lz9', 'TIMESTAMP_LTZ', { precision: 9 }),
];
const longString = 'long-🚀-'.repeat(9000);          // > 64 KiB of UTF-8 (LZ4 frames with several blocks)
const typeRows = [
  [1, true, 127, 32767, 2147483647, 9223372036854775807n, 3.5, 1e300, 'plain', 'abcde', bin(1, 2, 3), bin(0, 1, 2, 3),
    99999999999999999999999999999999999999n, 9999999999n, 19000, 86399000, 86399999, 43200123, 1,
    ts(1700000000000), ts(1700000000123), ts(1700000000123, 456000), ts(1700000000123, 456789),
    ts(1700000000999), ts(1700000000123, 999999)],
  [2, false, -128, -32768, -2147483648, -9223372036854775808n, -0.0, -1e-300, '', '', bin(), bin(255, 255, 255, 255),
    -99999999999999999999999999999999999999n, -9999999999n, -719162, 0, 0, 0, 0,
    ts(-86400000), ts(-1), ts(-1000), ts(-123456789), ts(-62135596800000), ts(-5)],
  [3, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, null, null, null],
  [4, true, -1, -1, -1, -1n, Math.fround(1.1), Number.NaN, 'Grüße, 世界 🌍', 'ü日', bin(0), bin(9, 8, 7, 6),
    -1n, -1n, -1, 1000, 1, 999, 59999,
    ts(0), ts(0), ts(0, 1000), ts(0, 1), ts(0), ts(0, 1)],
  [5, false, 0, 0, 0, 0n, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, longString, 'x', new Uint8Array(70000).fill(7),
    bin(0, 0, 0, 0), 12345678901234567890123n * 10n ** 10n, 123n, 0, 3600000, 3723004, 3723004, 3723004,
    ts(253402300799000), ts(253402300799999), ts(253402300799999, 999000), ts(9223372036854, 775807),  // ns: int64 max
    ts(-1234567), ts(-1234567)],
];
// Row 3 has a null in every nullable column; rows 2 and 5 are updated and deleted below.
function typeBatches() {
  const upd = [...typeRows[1]]; upd[8] = 'updated'; upd[12] = 170141183460469231731687303715884105727n % (10n ** 38n);
  return [
    { codec: 'zstd', changes: typeRows.map((r) => [CT.INSERT, r]) },
    { codec: 'lz4', changes: [[CT.UPDATE_BEFORE, typeRows[1]], [CT.UPDATE_AFTER, upd], [CT.DELETE, typeRows[4]], [CT.INSERT, typeRows[2].map((v, i) => (i === 0 ? 6 : v))]] },
    { codec: 'none', changes: [[CT.INSERT, typeRows[4]], [CT.DELETE, typeRows[0]], [CT.INSERT, typeRows[0]]] },
  ];
}

// --------------------------------------------------------------- cases
const small = [col('id', 'INT', { nullable: false }), col('name', 'STRING'), col('amount', 'BIGINT')];
function smallRows(from, n, name = (i) => `name-${i}`) {
  return Array.from({ length: n }, (_, k) => [CT.INSERT, [from + k, name(from + k), BigInt((from + k) * -7)]]);
}

function codecCase(codecs, opts = {}) {
  const log = changelog(opts.seed ?? 11, opts.batches ?? 5, opts.perBatch ?? 40, baseRow);
  return { cols: baseCols, pk: [0], segments: [log.map((changes, i) => ({ codec: codecs[i % codecs.length], changes, ...(opts.batch ? opts.batch(i) : {}) }))] };
}

export const cases = {
  zstd: () => codecCase(['zstd']),
  lz4: () => codecCase(['lz4'], { seed: 12 }),
  none: () => codecCase(['none'], { seed: 13 }),
  mixed: () => codecCase(['zstd', 'lz4', 'none'], { seed: 14, batches: 7 }),
  appendonly: () => {
    const c = codecCase(['zstd', 'lz4'], { seed: 15, batches: 4 });
    // Append-only batches: no change-type bytes, every row APPEND_ONLY (a put), incl. rows of existing keys.
    const ao = (from, n, codec) => ({ codec, appendOnly: true, changes: smallRowsBase(from, n) });
    c.segments[0].splice(1, 0, ao(1, 6, 'zstd'));
    c.segments[0].push(ao(200, 5, 'none'), ao(3, 3, 'lz4'));
    return c;
  },
  empty: () => {
    const c = codecCase(['zstd', 'none'], { seed: 16, batches: 4 });
    const e = { codec: 'zstd', changes: [] };
    c.segments[0] = [e, c.segments[0][0], e, e, ...c.segments[0].slice(1), e];
    return c;
  },
  magic1: () => codecCase(['zstd', 'lz4'], { seed: 17, batches: 4, batch: (i) => ({ magic: 1, stats: i % 2 ? null : statsBlob(i) }) }),
  magic2: () => {
    const c = codecCase(['lz4', 'zstd'], { seed: 18, batches: 4, batch: (i) => ({ magic: 2, stats: i === 1 ? statsBlob(i) : null }) });
    c.segments[0].splice(2, 0, { codec: 'zstd', magic: 2, changes: [] });
    return c;
  },
  segments: () => {
    const log = changelog(19, 9, 30, baseRow);
    const codecs = ['zstd', 'lz4', 'none'];
    const b = log.map((changes, i) => ({ codec: codecs[i % 3], changes }));
    return { cols: baseCols, pk: [0], segments: [b.slice(0, 3), b.slice(3, 4), b.slice(4)] };
  },
  types: () => ({ cols: typeCols, pk: [0], segments: [typeBatches()] }),
  // The columns of `types` the current C++ schema parser already knows (no CHAR/BINARY/DECIMAL/TIME).
  types_basic: () => {
    const keep = typeCols.map((c, i) => (['CHAR', 'BINARY', 'DECIMAL', 'TIME'].includes(c.type) ? -1 : i)).filter((i) => i >= 0);
    return { cols: keep.map((i) => typeCols[i]), pk: [0],
      segments: [typeBatches().map((b) => ({ ...b, changes: b.changes.map(([ct, r]) => [ct, keep.map((i) => r[i])]) }))] };
  },
  // Every type as a composite primary key part that Fluss allows (no FLOAT/DOUBLE/BOOLEAN... kept simple: INT + STRING).
  types_pk: () => ({ cols: typeCols.map((c, i) => (i === 8 ? { ...c, nullable: false } : c)), pk: [0, 8],
    segments: [typeBatches().map((b) => ({ ...b, changes: b.changes.map(([ct, r]) => [ct, r.map((v, i) => (i === 8 && v === null ? 'was-null' : v))]) }))] }),
};

function smallRowsBase(from, n) {
  const rand = prng(from * 31 + n);
  return Array.from({ length: n }, (_, k) => [CT.APPEND_ONLY, baseRow(rand, from + k, 1000 + k)]);
}
function statsBlob(i) { return new TextEncoder().encode(`statistics blob ${i}: min/max/null counts (opaque to KV recovery)`); }

// --------------------------------------------------------------- corrupt cases
// Each: two good batches (offsets 0..4 and 5..9) then the bad one at base offset 10, and a
// mutation of the bad batch. expect: { column, word } (word = an ERE the error must match, -i).
function corrupt(codec, mutate, expect, rows) {
  const good = { codec, changes: smallRows(1, 5) };
  const good2 = { codec, changes: smallRows(6, 5) };
  const bad = { codec, changes: rows ?? smallRows(11, 4, (i) => `name-${i}-`.repeat(20)), mutate };
  return { cols: small, pk: [0], segments: [[good, good2, bad]], corrupt: { logOffset: 10, ...expect } };
}
const i64 = (u8, at, v) => new DataView(u8.buffer, u8.byteOffset, u8.length).setBigInt64(at, BigInt(v), true);
const i32 = (u8, at, v) => new DataView(u8.buffer, u8.byteOffset, u8.length).setInt32(at, v, true);
const NAME_DATA = 4;      // buffers: id validity 0, id data 1, name validity 2, name offsets 3, name data 4, ...
const NAME_OFFSETS = 3;

function lie(b, delta) {
  const at = b.fb.bodyStart + Number(b.fb.buffers[NAME_DATA].offset);
  const dv = new DataView(b.ipc.buffer, b.ipc.byteOffset);
  const prefix = dv.getBigInt64(at, true);
  if (prefix <= 0n) throw new Error('the name data buffer is not compressed');
  dv.setBigInt64(at, prefix + delta, true);
}

export const corruptCases = {
  bad_truncated_ipc: () => corrupt('zstd', (b) => { b.ipc = b.ipc.slice(0, b.fb.bodyStart + 16); },
    { word: 'trunc|short|past|beyond|exceed|body' }),
  bad_continuation: () => corrupt('zstd', (b) => { b.ipc[0] = 0xfe; }, { word: 'continuation|ffffffff|marker|prefix' }),
  bad_metadata_length: () => corrupt('zstd', (b) => { i32(b.ipc, 4, b.ipc.length + 64); }, { word: 'metadata' }),
  bad_body_length: () => corrupt('zstd', (b) => { i64(b.ipc, b.fb.bodyLengthAt, Number(b.fb.bodyLength) + 4096); }, { word: 'body' }),
  bad_version: () => corrupt('zstd', (b) => { if (!b.fb.versionAt) throw new Error('no version field'); b.ipc[b.fb.versionAt] = 1; b.ipc[b.fb.versionAt + 1] = 0; },
    { word: 'version' }),
  bad_buffer_offset: () => corrupt('none', (b) => { i64(b.ipc, b.fb.buffersAt[NAME_DATA], Number(b.fb.bodyLength) + 8); },
    { column: 'name', word: 'buffer' }),
  // The prefix (uncompressed length) lies: larger (more than the column can need) and smaller (zstd's output is longer).
  bad_prefix: () => corrupt('zstd', (b) => lie(b, 5n), { column: 'name', word: 'compress|zstd|prefix' }),
  bad_prefix_short: () => corrupt('zstd', (b) => lie(b, -5n), { column: 'name', word: 'compress|zstd|prefix' }),
  bad_zstd_garbage: () => corrupt('zstd', (b) => {
    const at = b.fb.bodyStart + Number(b.fb.buffers[NAME_DATA].offset);
    const len = Number(b.fb.buffers[NAME_DATA].length);
    if (new DataView(b.ipc.buffer, b.ipc.byteOffset).getBigInt64(at, true) <= 0n) throw new Error('not compressed');
    for (let i = at + 8 + 4; i < at + len; i++) b.ipc[i] = (i * 37) & 0xff;  // keep the zstd magic, garble the frame
  }, { column: 'name', word: 'compress|zstd' }),
  bad_lz4_garbage: () => corrupt('lz4', (b) => {
    const at = b.fb.bodyStart + Number(b.fb.buffers[NAME_DATA].offset);
    const len = Number(b.fb.buffers[NAME_DATA].length);
    if (new DataView(b.ipc.buffer, b.ipc.byteOffset).getBigInt64(at, true) <= 0n) throw new Error('not compressed');
    // keep the frame header (magic, FLG, BD, HC) and the first block size; garble the block
    for (let i = at + 8 + 11; i < at + len - 4; i++) b.ipc[i] = 0xff;
  }, { column: 'name', word: 'compress|lz4' }),
  bad_offsets: () => corrupt('none', (b) => {
    const at = b.fb.bodyStart + Number(b.fb.buffers[NAME_OFFSETS].offset);
    const dv = new DataView(b.ipc.buffer, b.ipc.byteOffset);
    if (dv.getInt32(at + 4, true) <= 0) throw new Error('first string empty');
    dv.setInt32(at + 8, 1, true);  // offsets[2] = 1 < offsets[1]
  }, { column: 'name', word: 'monoton|decreas|offsets|order' }),
  bad_change_type: () => corrupt('zstd', (b) => { b.changeTypes[0] = 9; }, { word: 'change' }),
  bad_row_count: () => corrupt('zstd', (b) => { i64(b.ipc, b.fb.lengthAt, Number(b.fb.length) + 1); }, { word: 'row|count|length' }),
  bad_schema_id: () => corrupt('zstd', (b) => { b.schemaId = 2; }, { word: 'schema' }),
};
