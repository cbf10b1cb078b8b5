/**
 * Pure helpers on planes (row-major Matrix): scaling, centring and undoing it,
 * clamping. Used by normalize, center and reconstruct.
 */
import { Matrix } from '../linalg/matrix.js';
import type { Centering } from '../ports.js';

/** Largest value over all planes. */
export function maxOf(planes: readonly Matrix[]): number {
  let m = -Infinity;
  for (const P of planes) for (let i = 0; i < P.rows; i++) for (const v of P.row(i)) if (v > m) m = v;
  return m;
}

/**
 * Images with at least this many values (all planes) keep their planes in shared memory: the
 * compute pool's tasks (stack, center, reconstruct) then read them where they are, instead of a
 * copy into shared memory on the way (12 MB for 22 stamps, as much work as the stacking itself).
 */
export const SHARED_PLANES_MIN = 1 << 14;

/**
 * `count` contiguous h x w planes in ONE buffer (one allocation per image instead of one per
 * plane), SharedArrayBuffer-backed when large (SHARED_PLANES_MIN).
 */
export function newPlanes(h: number, w: number, count: number): Matrix[] {
  const n = h * w, total = n * count;
  const buf = total >= SHARED_PLANES_MIN ? new Float64Array(new SharedArrayBuffer(total * 8)) : new Float64Array(total);
  const out: Matrix[] = [];
  for (let c = 0; c < count; c++) out.push(new Matrix(h, w, buf.subarray(c * n, (c + 1) * n)));
  return out;
}

// ------------------------------------------------------------ handing a value over

/**
 * Who may reuse a value's memory is decided by its producer, never by a mark on the value (a mark
 * outlives the edge it was meant for: a value passed on, re-emitted or kept would carry it). In a
 * run, a stage that declares `handsOver` (core/stage.ts: load, stack) emits new values it keeps
 * no reference to, and the runner tells its one reader so (StageContext inputExclusive). From
 * code, the producer's own observable says so: each subscription makes new values, and an
 * operator piped straight onto it is their only holder; any operator in between (a tap, share,
 * map) makes another observable, which says nothing.
 *
 * Observables (a producer's, from code) whose every value is handed over to their one subscriber,
 * each with the VARIANTS its producer offers: named makers of a new observable whose values are
 * what a given reader would make of the original ones, made by the producer in the same pass, while
 * in cache (load's `divided`: the planes divided by a scale as they are filled; stack's `centredRows`:
 * each row summed and written minus its mean as it is stacked). A reader piped straight onto such an
 * observable may subscribe to a variant instead (then the original is never subscribed): the
 * variant is a new observable that only this reader sees, so no other subscriber of the original
 * gets changed values, and its values are the reader's own, bit for bit (each variant's tests).
 */
export interface VariantArgs {
  /** values whose planes come divided by `scale` (normalize { by: dtype }) */
  divided: [scale: number];
  /** a matrix that comes centred by its row means, `centering` { mode: row } attached (center { mode: row }) */
  centredRows: [];
}
export type Variants<T> = { [K in keyof VariantArgs]?: (...args: VariantArgs[K]) => T };
const handingOver = new WeakMap<object, Variants<object>>();
/** Registers `source` as handing every value over, with the variants its producer offers. */
export function handsOver<T extends object>(source: T, variants: Variants<T> = {}): T {
  handingOver.set(source, variants);
  return source;
}
export function isHandingOver(source: object): boolean {
  return handingOver.has(source);
}
/**
 * The variant `name` a reader gets: from code, `source`'s own (piped straight onto its producer);
 * in a run, `source` itself when the runner's offer (ctx.inputVariant, the sole reader's) says the
 * producer makes it; else undefined (the reader does the work).
 */
export function takenVariant<T extends object, K extends keyof VariantArgs>(source: T, ctx: { inputVariant?: <N extends keyof VariantArgs>(name: N, ...args: VariantArgs[N]) => boolean }, name: K, ...args: VariantArgs[K]): T | undefined {
  return variantOf(source, name, ...args) ?? (ctx.inputVariant?.(name, ...args) ? source : undefined);
}
/** The variant `name` of `source` (see handsOver), or undefined when its producer offers none. */
export function variantOf<T extends object, K extends keyof VariantArgs>(source: T, name: K, ...args: VariantArgs[K]): T | undefined {
  const make = handingOver.get(source)?.[name] as ((...a: VariantArgs[K]) => T) | undefined;
  return make?.(...args);
}

/**
 * `count` values of `d` from `from` on, divided by `scale` in place (times 1 / scale: the bits
 * normalize gives); for a producer that fills planes and divides each chunk while in cache.
 */
export function divideRun(d: Float64Array, from: number, count: number, scale: number): void {
  const inv = 1 / scale;
  for (let p = from, e = from + count; p < e; p++) d[p] = d[p]! * inv;
}

/** Divides every value of `planes` by `scale` in place (times 1 / scale: the same bits as scalePlanes). */
export function scalePlanesInPlace(planes: readonly Matrix[], scale: number): Matrix[] {
  const inv = 1 / scale;
  for (const P of planes) {
    const { data, offset, stride } = P;
    const runs = P.isContiguous ? 1 : P.rows, len = P.isContiguous ? P.rows * P.cols : P.cols;
    for (let i = 0; i < runs; i++) for (let p = offset + i * stride, e = p + len; p < e; p++) data[p] = data[p]! * inv;
  }
  return [...planes];
}

/** New contiguous planes (newPlanes) with every value divided by `scale` (times 1 / scale, as always). */
export function scalePlanes(planes: readonly Matrix[], scale: number): Matrix[] {
  const inv = 1 / scale;
  if (!planes.length) return [];
  const { rows, cols } = planes[0]!;
  const same = planes.every((P) => P.rows === rows && P.cols === cols);
  const outs = same ? newPlanes(rows, cols, planes.length) : planes.map((P) => new Matrix(P.rows, P.cols));
  return planes.map((P, k) => {
    const out = outs[k]!, od = out.data;
    const { data, offset, stride } = P;
    // contiguous planes are one run (no view per row)
    const runs = P.isContiguous ? 1 : P.rows, len = P.isContiguous ? P.rows * P.cols : P.cols;
    for (let i = 0, o = 0; i < runs; i++) for (let p = offset + i * stride, e = p + len; p < e; p++, o++) od[o] = data[p]! * inv;
    return out;
  });
}

/**
 * The mean for `mode`: one value (global), one per row, or one per column. Index loops on the
 * storage (no per-row views or iterators: a 70890 x 22 stack has 70890 rows); each sum runs
 * in row-major order as before, so the values are unchanged.
 */
export function meanOf(P: Matrix, mode: Exclude<Centering['mode'], 'none'>): Float64Array {
  const { rows, cols, data, offset, stride } = P;
  if (mode === 'global') {
    let s = 0;
    for (let i = 0; i < rows; i++) for (let p = offset + i * stride, e = p + cols; p < e; p++) s += data[p]!;
    return Float64Array.of(rows * cols ? s / (rows * cols) : 0);
  }
  if (mode === 'row') {
    const m = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let p = offset + i * stride, e = p + cols; p < e; p++) s += data[p]!;
      m[i] = cols ? s / cols : 0;
    }
    return m;
  }
  const m = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const b = offset + i * stride;
    for (let j = 0; j < cols; j++) m[j]! += data[b + j]!;
  }
  if (rows) for (let j = 0; j < cols; j++) m[j]! /= rows;
  return m;
}

/**
 * P minus its mean for `mode`, with the mean: the same values as meanOf then applyMean(P, c, -1)
 * (each mean summed in the same order, then subtracted as P + (-mean)), bit for bit. Row means
 * take ONE pass (subtractRowMeans).
 */
export function subtractMean(P: Matrix, mode: Exclude<Centering['mode'], 'none'>, out = new Matrix(P.rows, P.cols)): { mean: Float64Array; out: Matrix } {
  if (mode !== 'row') {
    const mean = meanOf(P, mode);
    return { mean, out: applyMean(P, { mode, mean }, -1, out) };
  }
  const mean = new Float64Array(P.rows);
  subtractRowMeans(P, out, mean, 0, P.rows);
  return { mean, out };
}

/**
 * Rows [i0, i1) of P minus their means, into the same rows of `out`, the means into mean[i]: a
 * row is summed (left to right, as meanOf) and then written from the cache while it is there,
 * instead of a pass for the means and a second pass reading the whole matrix from memory again
 * (a 70890 x 22 stack of images is 12 MB). Four rows go together: each row's sum is still one
 * left-to-right chain (the same bits), but four independent chains keep the adder busy where one
 * chain of 22 dependent additions waited on each. Rows are independent, so parts of a matrix can
 * be centred by different threads into one shared `out`. The per-row work is the small functions
 * centreFour and centreOne: each is compiled by V8's optimizing tier with the feedback of whole
 * runs of itself, where one loop nest here was compiled before its last rows' path had run and
 * undone there (3 to 39 deoptimizations in the first 25 centrings of a process, split in two
 * parts, with --trace-deopt; none now).
 */
export function subtractRowMeans(P: Matrix, out: Matrix, mean: Float64Array, i0: number, i1: number): void {
  const { cols, data: d, offset, stride } = P;
  const od = out.data, oo = out.offset, os = out.stride;
  // the odd rows first: a path first taken after the optimizing compiler has entered the main
  // loop (the rows left over at its end) would undo the compiled code on every call
  const first = i0 + ((i1 - i0) % 4);
  for (let i = i0; i < first; i++) centreOne(d, offset + i * stride, od, oo + i * os, cols, mean, i);
  for (let i = first; i < i1; i += 4) centreFour(d, offset + i * stride, stride, od, oo + i * os, os, cols, mean, i);
}

/** Rows i..i+3 (from d[a], `stride` apart) minus their means into od[o...] (`os` apart), the means into mean[i..i+3]. */
function centreFour(d: Float64Array, a: number, stride: number, od: Float64Array, o: number, os: number, cols: number, mean: Float64Array, i: number): void {
  const b = a + stride, c = b + stride, e = c + stride;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let k = 0; k < cols; k++) {
    s0 += d[a + k]!;
    s1 += d[b + k]!;
    s2 += d[c + k]!;
    s3 += d[e + k]!;
  }
  const m0 = cols ? s0 / cols : 0, m1 = cols ? s1 / cols : 0, m2 = cols ? s2 / cols : 0, m3 = cols ? s3 / cols : 0;
  mean[i] = m0;
  mean[i + 1] = m1;
  mean[i + 2] = m2;
  mean[i + 3] = m3;
  // = sign * mean with sign = -1, as applyMean
  const h0 = -m0, h1 = -m1, h2 = -m2, h3 = -m3;
  const ob = o + os, oc = ob + os, oe = oc + os;
  for (let k = 0; k < cols; k++) {
    od[o + k] = d[a + k]! + h0;
    od[ob + k] = d[b + k]! + h1;
    od[oc + k] = d[c + k]! + h2;
    od[oe + k] = d[e + k]! + h3;
  }
}

/** Row i (from d[a]) minus its mean into od[o...], the mean into mean[i]. */
function centreOne(d: Float64Array, a: number, od: Float64Array, o: number, cols: number, mean: Float64Array, i: number): void {
  const end = a + cols;
  let s = 0;
  for (let p = a; p < end; p++) s += d[p]!;
  const m = cols ? s / cols : 0;
  mean[i] = m;
  const shift = -m;
  for (let p = a, q = o; p < end; p++, q++) od[q] = d[p]! + shift;
}

/** P - mean (sign = -1) or P + mean (sign = +1), as a new contiguous matrix (or in place into `out`). */
export function applyMean(P: Matrix, c: Centering, sign: 1 | -1, out = new Matrix(P.rows, P.cols)): Matrix {
  const { rows, cols, data, offset, stride } = P;
  const od = out.data, mean = c.mean, oo = out.offset, os = out.stride;
  // one loop per mode (no per-row mode tests: a 70890 x 22 stack has 70890 short rows)
  if (c.mode === 'column') {
    const add = new Float64Array(cols);
    for (let j = 0; j < cols; j++) add[j] = sign * mean[j]!;
    for (let i = 0; i < rows; i++) for (let r = offset + i * stride, o = oo + i * os, j = 0; j < cols; j++) od[o + j] = data[r + j]! + add[j]!;
  } else if (c.mode === 'none') {
    for (let i = 0; i < rows; i++) for (let r = offset + i * stride, o = oo + i * os, j = 0; j < cols; j++) od[o + j] = data[r + j]!;
  } else if (c.mode === 'row') {
    for (let i = 0; i < rows; i++) {
      const shift = sign * mean[i]!;
      for (let r = offset + i * stride, o = oo + i * os, e = r + cols; r < e; r++, o++) od[o] = data[r]! + shift;
    }
  } else {
    const shift = sign * mean[0]!;
    for (let i = 0; i < rows; i++) for (let r = offset + i * stride, o = oo + i * os, e = r + cols; r < e; r++, o++) od[o] = data[r]! + shift;
  }
  return out;
}

/** ‖P + mean‖²_F without building it. */
export function uncenteredNormSq(P: Matrix, c: Centering | undefined): number {
  const { rows, cols, data, offset, stride } = P;
  const colMean = c?.mode === 'column' ? c.mean : new Float64Array(cols);
  let s = 0;
  for (let i = 0; i < rows; i++) {
    const rowMean = !c || c.mode === 'none' || c.mode === 'column' ? 0 : c.mode === 'row' ? c.mean[i]! : c.mean[0]!;
    for (let r = offset + i * stride, j = 0; j < cols; j++) {
      const v = data[r + j]! + rowMean + colMean[j]!;
      s += v * v;
    }
  }
  return s;
}

/**
 * P + mean, clamped into [lo, hi], in place: applyMean(P, c, 1, P) then clampInPlace in one pass
 * over P instead of two (a reconstruction's last steps; 70890 x 22 per rank in the PCA chain).
 */
export function addMeanClamped(P: Matrix, c: Centering, lo: number, hi: number): Matrix {
  const { rows, cols, data: d, offset, stride } = P;
  const mean = c.mean;
  // Math.min/max compile to branch-free float min/max (a NaN stays NaN, as in clampInPlace)
  if (c.mode === 'column') {
    for (let i = 0; i < rows; i++) for (let p = offset + i * stride, j = 0; j < cols; j++) d[p + j] = Math.min(hi, Math.max(lo, d[p + j]! + mean[j]!));
  } else if (c.mode === 'row') {
    for (let i = 0; i < rows; i++) {
      const shift = mean[i]!;
      for (let p = offset + i * stride, e = p + cols; p < e; p++) d[p] = Math.min(hi, Math.max(lo, d[p]! + shift));
    }
  } else {
    const shift = c.mode === 'none' ? 0 : mean[0]!;
    for (let i = 0; i < rows; i++) for (let p = offset + i * stride, e = p + cols; p < e; p++) d[p] = Math.min(hi, Math.max(lo, d[p]! + shift));
  }
  return P;
}

/** Clamps every value into [lo, hi] in place. */
export function clampInPlace(P: Matrix, lo: number, hi: number): Matrix {
  const { rows, cols, data: d, offset, stride } = P;
  // contiguous rows are one run; otherwise row by row, without a view per row
  const runs = stride === cols ? 1 : rows, len = stride === cols ? rows * cols : cols;
  for (let i = 0; i < runs; i++) {
    // branch-free float min/max (random-signed rebuilt values mispredicted the compare-and-branch)
    for (let p = offset + i * stride, e = p + len; p < e; p++) d[p] = Math.min(hi, Math.max(lo, d[p]!));
  }
  return P;
}
