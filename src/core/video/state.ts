/**
 * Model state as bytes: a JSON header, then the typed arrays' bytes (8-byte
 * aligned). Pure: io/checkpoints.ts stores the bytes.
 */
/** Binary state: a JSON header, then the typed arrays' bytes. */
export function encodeState(obj: Record<string, unknown>): Uint8Array {
  const arrays: Array<{ key: string; type: string; length: number; data: Uint8Array }> = [];
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v instanceof Float64Array || v instanceof Float32Array || v instanceof Uint8Array) {
      arrays.push({ key: k, type: v.constructor.name, length: v.length, data: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) });
    } else plain[k] = v;
  }
  const header = new TextEncoder().encode(JSON.stringify({ plain, arrays: arrays.map(({ key, type, length }) => ({ key, type, length })) }));
  const total = 8 + header.length + arrays.reduce((s, a) => s + a.data.length + 8, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x53564446, true);
  dv.setUint32(4, header.length, true);
  out.set(header, 8);
  let off = 8 + header.length;
  for (const a of arrays) {
    off = Math.ceil(off / 8) * 8;
    out.set(a.data, off);
    off += a.data.length;
  }
  return out.subarray(0, off);
}

export function decodeState(buf: Uint8Array): Record<string, unknown> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 8 || dv.getUint32(0, true) !== 0x53564446) throw new Error('not an svdflow checkpoint');
  const hl = dv.getUint32(4, true);
  const head = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + hl))) as { plain: Record<string, unknown>; arrays: Array<{ key: string; type: string; length: number }> };
  const out: Record<string, unknown> = { ...head.plain };
  let off = 8 + hl;
  for (const a of head.arrays) {
    off = Math.ceil(off / 8) * 8;
    const C = a.type === 'Float64Array' ? Float64Array : a.type === 'Float32Array' ? Float32Array : Uint8Array;
    const bytes = a.length * C.BYTES_PER_ELEMENT;
    // a copy into a fresh buffer (Buffer.slice would be a view of Node's pool)
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(off, off + bytes));
    out[a.key] = new C(copy.buffer, 0, a.length);
    off += bytes;
  }
  return out;
}
