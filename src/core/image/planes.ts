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

/** New contiguous planes with every value divided by `scale`. */
export function scalePlanes(planes: readonly Matrix[], scale: number): Matrix[] {
  const inv = 1 / scale;
  return planes.map((P) => {
    const out = new Matrix(P.rows, P.cols);
    for (let i = 0; i < P.rows; i++) {
      const r = P.row(i), o = i * P.cols;
      for (let j = 0; j < P.cols; j++) out.data[o + j] = r[j]! * inv;
    }
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
