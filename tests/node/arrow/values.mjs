// Arrow vectors -> the model's values, the way Fluss's Java column vectors convert them (spec §5):
// TIME s*1000 / ms / us/1000 / ns/1e6; TIMESTAMP s -> ms*1000, us -> (us/1000, us%1000*1000),
// ns -> (ns/1e6, ns%1e6) with truncating division (a negative remainder is an error, as in Java);
// DECIMAL = the 128-bit unscaled value; strings and bytes exactly as stored.
const dec = new TextDecoder('utf-8', { fatal: true });

function valueAt(c, d, i) {
  if (d.nullCount > 0 && !d.getValid(i)) return null;
  const k = d.offset + i;
  const p = c.precision;
  switch (c.type) {
    case 'BOOLEAN': return ((d.values[k >> 3] >> (k % 8)) & 1) === 1;
    case 'STRING': case 'CHAR': return dec.decode(d.values.subarray(d.valueOffsets[k], d.valueOffsets[k + 1]));
    case 'BYTES': return d.values.slice(d.valueOffsets[k], d.valueOffsets[k + 1]);
    case 'BINARY': return d.values.slice(k * c.length, (k + 1) * c.length);
    case 'DECIMAL': {
      let u = 0n;
      for (let w = 3; w >= 0; w--) u = (u << 32n) | BigInt(d.values[k * 4 + w]);
      return BigInt.asIntN(128, u);
    }
    case 'TIME': {
      const v = d.values[k];
      if (p === 0) return v * 1000;
      if (p <= 3) return v;
      return Number(BigInt(v) / (p <= 6 ? 1000n : 1000000n));
    }
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
      const v = BigInt(d.values[k]);
      if (p === 0) return { ms: v * 1000n, nanos: 0 };
      if (p <= 3) return { ms: v, nanos: 0 };
      const per = p <= 6 ? 1000n : 1000000n;
      const rem = v % per;
      if (rem < 0n) throw new Error(`column '${c.name}': row ${i}: ${v} ${p <= 6 ? 'us' : 'ns'} is a pre-1970 timestamp with a sub-millisecond part (Fluss's Arrow vectors reject it: TimestampNtz nanoOfMillisecond < 0)`);
      return { ms: v / per, nanos: Number(p <= 6 ? rem * 1000n : rem) };
    }
    case 'BIGINT': return BigInt(d.values[k]);
    default: return d.values[k];
  }
}

export function rowsFromBatch(cols, batch) {
  const datas = cols.map((c, j) => {
    const v = batch.getChildAt(j);
    if (!v || v.data.length !== 1) throw new Error(`column ${c.name}: not one chunk`);
    return v.data[0];
  });
  return Array.from({ length: batch.numRows }, (_, i) => cols.map((c, j) => valueAt(c, datas[j], i)));
}

export function sameValue(c, a, b) {
  if (a === null || b === null) return a === b;
  switch (c.type) {
    case 'BYTES': case 'BINARY': return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
      // What survives a round trip: millis, plus nanos only when precision > 3 (CompactedRow keeps no more).
      return BigInt(a.ms) === BigInt(b.ms) && (c.precision <= 3 || a.nanos === b.nanos);
    }
    case 'FLOAT': case 'DOUBLE': return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
    default: return a === b;
  }
}
