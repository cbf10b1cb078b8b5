/**
 * How values cross the thread boundary of the compute pool without JSON and, for the big
 * operands, without copies:
 *  - a {@link Matrix} travels as `{ $matrix: 1, rows, cols, data, offset, stride }`; its data
 *    is SharedArrayBuffer-backed on the way in (shared as is when it already is, else copied
 *    once into a new SharedArrayBuffer, in slices so that the caller's event loop is never
 *    blocked for long), and a transferred ArrayBuffer on the way back (moved, not copied);
 *  - other typed arrays are cloned (small) on the way in and transferred on the way out;
 *  - errors travel as `{ $error: { name, message, hint } }` and are rebuilt as the same
 *    class on the caller's side (see errors.ts).
 * Plain objects and arrays are walked; anything else is structured-cloned by postMessage.
 */
import { Matrix } from '../linalg/matrix.js';

export interface EncodedMatrix {
  $matrix: 1;
  rows: number;
  cols: number;
  data: Float64Array;
  offset: number;
  stride: number;
}

/** Copying more than this many doubles (1 MiB) yields to the event loop between slices. */
const SLICE = 1 << 17;

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
};

/**
 * A Matrix, by shape rather than class: a worker (or a second copy of the package) may hold
 * another instance of the Matrix class, so `instanceof` alone would let one pass as a plain object.
 */
export function isMatrix(v: unknown): v is Matrix {
  if (v instanceof Matrix) return true;
  if (v === null || typeof v !== 'object') return false;
  const m = v as Partial<Matrix>;
  return m.data instanceof Float64Array && typeof m.rows === 'number' && typeof m.cols === 'number' && typeof m.offset === 'number' && typeof m.stride === 'number' && typeof (m as Matrix).clone === 'function';
}

type MatrixShape = Pick<Matrix, 'rows' | 'cols' | 'data' | 'offset' | 'stride'>;
const asMatrix = (v: MatrixShape): Matrix => (v instanceof Matrix ? v : new Matrix(v.rows, v.cols, v.data, v.offset, v.stride));

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A SharedArrayBuffer-backed contiguous copy of M's values (yields between slices). */
async function sharedCopy(M: Matrix): Promise<Float64Array> {
  const { rows, cols, data, offset, stride } = M;
  const out = new Float64Array(new SharedArrayBuffer(rows * cols * 8));
  if (M.isContiguous) {
    for (let at = 0; at < out.length; at += SLICE) {
      if (at) await tick();
      out.set(data.subarray(at, Math.min(out.length, at + SLICE)), at);
    }
    return out;
  }
  let copied = 0;
  for (let i = 0; i < rows; i++) {
    out.set(data.subarray(offset + i * stride, offset + i * stride + cols), i * cols);
    copied += cols;
    if (copied >= SLICE) { copied = 0; await tick(); }
  }
  return out;
}

/** Arguments for a pool task: matrices shared (SharedArrayBuffer), the rest walked or cloned. */
export async function encodeArgs(v: unknown): Promise<unknown> {
  if (isMatrix(v)) {
    v = asMatrix(v as Matrix);
  }
  if (v instanceof Matrix) {
    if (v.data.buffer instanceof SharedArrayBuffer) return { $matrix: 1, rows: v.rows, cols: v.cols, data: v.data, offset: v.offset, stride: v.stride } satisfies EncodedMatrix;
    return { $matrix: 1, rows: v.rows, cols: v.cols, data: await sharedCopy(v), offset: 0, stride: v.cols } satisfies EncodedMatrix;
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) out.push(await encodeArgs(x));
    return out;
  }
  if (isPlain(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await encodeArgs(x);
    return out;
  }
  return v;
}

/** A typed array whose buffer may be moved: its own whole ArrayBuffer (else a copy that is). */
function movable<T extends ArrayBufferView>(a: T, transfer: Set<ArrayBuffer>): T {
  const buf = a.buffer;
  if (buf instanceof SharedArrayBuffer) return a; // shared: nothing to move
  // a view of a larger buffer (a block of a bigger matrix, a WebAssembly memory) is copied
  if (a.byteOffset === 0 && a.byteLength === buf.byteLength && !transfer.has(buf)) {
    transfer.add(buf);
    return a;
  }
  const copy = (a as unknown as { slice(): T }).slice();
  transfer.add(copy.buffer as ArrayBuffer);
  return copy;
}

/** A task's result: matrices made contiguous, every typed array's buffer listed for transfer. */
export function encodeResult(v: unknown, transfer: Set<ArrayBuffer>): unknown {
  if (isMatrix(v)) {
    const A = asMatrix(v);
    const M = A.isContiguous ? A : A.clone();
    return { $matrix: 1, rows: M.rows, cols: M.cols, data: movable(M.data, transfer), offset: 0, stride: M.cols } satisfies EncodedMatrix;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return movable(v, transfer);
  if (Array.isArray(v)) return v.map((x) => encodeResult(x, transfer));
  if (isPlain(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = encodeResult(x, transfer);
    return out;
  }
  return v;
}

/** Rebuilds Matrix instances from their encoded form (either direction). */
export function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (isPlain(v)) {
    if (v.$matrix === 1) {
      const m = v as unknown as EncodedMatrix;
      return new Matrix(m.rows, m.cols, m.data, m.offset, m.stride);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decode(x);
    return out;
  }
  return v;
}
