#!/usr/bin/env node
// Checks of the generator's own model against fixed vectors (spec fluss-remote-log.md §6, fluss-arrow.md §8)
// and a few hand-computed encodings; exits 1 on the first mismatch. No C++ involved.
import { execFileSync } from 'node:child_process';
import { Bytes, bigIntToByteArray, col, compactedRow, crc32c, encodeBatch, encodeKey, hex, putField } from './fluss.mjs';
import { codecs, fbMessage, initCodecs, lz4FrameEncode, readRecordBatch } from './ipc.mjs';
import { rowsFromBatch } from './values.mjs';

let failures = 0;
const eq = (what, got, want) => {
  if (got !== want) { failures++; console.error(`FAIL ${what}: got ${got}, want ${want}`); }
};
const clean = (s) => s.replace(/\s+/g, '');

// CRC-32C check value.
eq('crc32c("123456789")', crc32c(new TextEncoder().encode('123456789')).toString(16), 'e3069283');

// Spec §6 batch 1: V0 header around one INDEXED record (the record bytes are taken as given).
const b1 = clean(`00 00 00 00 00 00 00 00 3c 00 00 00 00 00 00 00 00 00 00 00 00 ed 1c 9c 7a 01 00 00
00 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff 01 00 00 00 14 00 00 00 01 00 02 00
00 00 01 00 00 00 64 00 00 00 00 00 00 00 61 62`);
const rec1 = Buffer.from(b1, 'hex').subarray(48);
eq('spec §6 batch 1', hex(encodeBatch({ baseOffset: 0, magic: 0, schemaId: 1, recordCount: 1, records: rec1, commitTimestamp: 0 })), b1);

// CompactedRow / key fields.
const f = (c, v) => hex(putField(new Bytes(), c, v).bytes());
eq('INT 1', f(col('x', 'INT'), 1), '01');
eq('INT -1', f(col('x', 'INT'), -1), 'ffffffff0f');
eq('BIGINT -1', f(col('x', 'BIGINT'), -1n), 'ffffffffffffffffff01');
eq('STRING ab', f(col('x', 'STRING'), 'ab'), '026162');
eq('SMALLINT -2', f(col('x', 'SMALLINT'), -2), 'feff');
eq('DECIMAL(10,2) -1', f(col('x', 'DECIMAL', { precision: 10, scale: 2 }), -1n), 'ffffffffffffffffff01');
eq('DECIMAL(38,10) 128', f(col('x', 'DECIMAL', { precision: 38, scale: 10 }), 128n), '020080');
eq('DECIMAL(38,10) -129', f(col('x', 'DECIMAL', { precision: 38, scale: 10 }), -129n), '02ff7f');
eq('toByteArray(-1)', hex(bigIntToByteArray(-1n)), 'ff');
eq('toByteArray(0)', hex(bigIntToByteArray(0n)), '00');
eq('toByteArray(2^63)', hex(bigIntToByteArray(1n << 63n)), '008000000000000000');
eq('TIMESTAMP(3)', f(col('x', 'TIMESTAMP', { precision: 3 }), { ms: 300n, nanos: 0 }), 'ac02');
eq('TIMESTAMP(9)', f(col('x', 'TIMESTAMP', { precision: 9 }), { ms: 1n, nanos: 200 }), '01c801');
const cols = [col('id', 'INT', { nullable: false }), col('name', 'STRING'), col('amount', 'BIGINT')];
eq('row (1,null,100)', hex(compactedRow(cols, [1, null, 100n])), '020164');
eq('key', hex(encodeKey(cols, [0, 1], [7, 'ab', 0n])), '07026162');

// Spec §8 vector: decodes with apache-arrow to the three rows; the fields the spec lists.
await initCodecs();
const v8 = Buffer.from(clean(`ffffffff1001000014000000000000000c00180016000f00100004000c000000
88000000000000000000000314000000000004000c001e0010000c0008000400
0c00000020000000240000009800000003000000000000000000000000000600
0800070006000000000000010700000000000000000000000000000000000000
0000000000000000140000000000000018000000000000001900000000000000
3800000000000000180000000000000050000000000000001200000000000000
6200000000000000000000000000000068000000000000002000000000000000
0000000003000000030000000000000000000000000000000300000000000000
010000000000000003000000000000000000000000000000ffffffffffffffff
01000000020000000300000000000000400000000000000028b52ffd20404500
00100500010093001600000000000000ffffffffffffffff0000000005000000
050000000a000000ffffffffffffffff616c6963656361726f6c000000000000
ffffffffffffffff6400000000000000c800000000000000d4feffffffffffff`), 'hex');
const m = fbMessage(v8);
eq('§8 length', v8.length, 416);
eq('§8 metadataLength', v8.readInt32LE(4), 272);
eq('§8 version', m.version, 4);
eq('§8 header type', m.headerType, 3);
eq('§8 bodyLength', m.bodyLength, 136n);
eq('§8 codec', m.codec, 1);
eq('§8 nodes', m.nodes.map((n) => `${n.length}/${n.nullCount}`).join(' '), '3/0 3/1 3/0');
eq('§8 buffer lengths', m.buffers.map((b) => b.length).join(' '), '0 20 25 24 18 0 32');
const nv = m.bodyStart + Number(m.buffers[2].offset);
eq('§8 name validity prefix', v8.readBigInt64LE(nv), 64n);
const frame = v8.subarray(nv + 8, nv + 25);
eq('§8 name validity (JS zstd)', hex(codecs.zstd.decode(frame)), '05' + '00'.repeat(63));
try { eq('§8 name validity (zstd -d)', execFileSync('zstd', ['-d', '-c', '-q'], { input: frame }).toString('hex'), '05' + '00'.repeat(63)); }
catch (e) { if (e.code !== 'ENOENT') throw e; console.error('note: no zstd CLI'); }
eq('§8 rows', JSON.stringify(rowsFromBatch(cols, readRecordBatch(cols, v8)), (k, v) => (typeof v === 'bigint' ? `${v}` : v)),
  '[[1,"alice","100"],[2,null,"200"],[3,"carol","-300"]]');

// LZ4 frames: Fluss's FLG/BD, several 64 KiB blocks, the lz4 CLI decodes them.
const big = Buffer.alloc(200000); for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
const lf = lz4FrameEncode(big);
eq('lz4 FLG BD', hex(lf.subarray(4, 6)), '6040');
eq('lz4 round trip (lz4js)', Buffer.compare(Buffer.from(codecs.lz4.decode(lf)), big), 0);
try { eq('lz4 round trip (lz4 -d)', Buffer.compare(execFileSync('lz4', ['-d', '-c', '-q'], { input: lf }), big), 0); }
catch (e) { if (e.code !== 'ENOENT') throw e; console.error('note: no lz4 CLI'); }

if (failures) { console.error(`${failures} failures`); process.exit(1); }
console.log('selftest: all checks passed');
