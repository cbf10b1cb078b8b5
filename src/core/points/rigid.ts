/**
 * Rigid and similarity transforms of point sets: x' = s·R·x + t, as (d+1)x(d+1)
 * homogeneous matrices; rotations from degrees (2-D), axis-angle and quaternions
 * (3-D); angles between rotations. Pure helpers on Matrix.
 */
import { Matrix } from '../linalg/matrix.js';

/** 2-D rotation by `deg` degrees, counter-clockwise (column vectors). */
export function rotation2D(deg: number): Matrix {
  const a = (deg * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
  return Matrix.from2D([[c, -s], [s, c]]);
}

/**
 * Rotation matrix of the unit quaternion (qx, qy, qz, qw), scalar LAST, for column
 * vectors: x' = R x. The quaternion is normalised first.
 */
export function quatToMatrix(qx: number, qy: number, qz: number, qw: number): Matrix {
  const n = Math.hypot(qx, qy, qz, qw);
  if (!(n > 0)) throw new RangeError('quaternion has zero length');
  const x = qx / n, y = qy / n, z = qz / n, w = qw / n;
  return Matrix.from2D([
    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ]);
}

/** Quaternion (qx, qy, qz, qw), scalar last, with qw >= 0, of a 3x3 rotation. */
export function matrixToQuat(R: Matrix): [number, number, number, number] {
  const m = (i: number, j: number) => R.get(i, j);
  const tr = m(0, 0) + m(1, 1) + m(2, 2);
  let x, y, z, w;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = 0.25 * s; x = (m(2, 1) - m(1, 2)) / s; y = (m(0, 2) - m(2, 0)) / s; z = (m(1, 0) - m(0, 1)) / s;
  } else if (m(0, 0) > m(1, 1) && m(0, 0) > m(2, 2)) {
    const s = Math.sqrt(1 + m(0, 0) - m(1, 1) - m(2, 2)) * 2;
    w = (m(2, 1) - m(1, 2)) / s; x = 0.25 * s; y = (m(0, 1) + m(1, 0)) / s; z = (m(0, 2) + m(2, 0)) / s;
  } else if (m(1, 1) > m(2, 2)) {
    const s = Math.sqrt(1 + m(1, 1) - m(0, 0) - m(2, 2)) * 2;
    w = (m(0, 2) - m(2, 0)) / s; x = (m(0, 1) + m(1, 0)) / s; y = 0.25 * s; z = (m(1, 2) + m(2, 1)) / s;
  } else {
    const s = Math.sqrt(1 + m(2, 2) - m(0, 0) - m(1, 1)) * 2;
    w = (m(1, 0) - m(0, 1)) / s; x = (m(0, 2) + m(2, 0)) / s; y = (m(1, 2) + m(2, 1)) / s; z = 0.25 * s;
  }
  return w < 0 ? [-x, -y, -z, -w] : [x, y, z, w];
}

/** 3-D rotation by `deg` degrees about `axis` (right-hand rule). */
export function axisAngle(axis: ArrayLike<number>, deg: number): Matrix {
  const n = Math.hypot(axis[0]!, axis[1]!, axis[2]!);
  if (!(n > 0)) throw new RangeError('rotation axis has zero length');
  const h = (deg * Math.PI) / 360, s = Math.sin(h) / n;
  return quatToMatrix(axis[0]! * s, axis[1]! * s, axis[2]! * s, Math.cos(h));
}

/** Homogeneous (d+1)x(d+1) matrix of x' = s·R·x + t. */
export function homogeneous(R: Matrix, t: ArrayLike<number>, scale = 1): Matrix {
  const d = R.rows;
  const T = Matrix.identity(d + 1);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) T.data[i * (d + 1) + j] = scale * R.get(i, j);
    T.data[i * (d + 1) + d] = t[i]!;
  }
  return T;
}

/** Splits a homogeneous similarity into s, R, t (s = cube/square root of |det| of the linear part). */
export function decompose(T: Matrix): { R: Matrix; t: Float64Array; scale: number } {
  const d = T.rows - 1;
  const A = T.block(0, d, 0, d).clone();
  const det = determinant(A);
  const scale = Math.pow(Math.abs(det), 1 / d);
  const R = new Matrix(d, d);
  for (let i = 0; i < d * d; i++) R.data[i] = A.data[i]! / scale;
  const t = new Float64Array(d);
  for (let i = 0; i < d; i++) t[i] = T.get(i, d);
  return { R, t, scale };
}

/** Product A·B of square matrices (small, no BLAS). */
export function compose(A: Matrix, B: Matrix): Matrix {
  const n = A.rows;
  const C = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const a = A.get(i, k);
    if (a === 0) continue;
    for (let j = 0; j < n; j++) C.data[i * n + j]! += a * B.get(k, j);
  }
  return C;
}

/** Inverse of a homogeneous similarity transform. */
export function invertTransform(T: Matrix): Matrix {
  const { R, t, scale } = decompose(T);
  const d = R.rows;
  const Rt = R.transpose();
  const ti = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Rt.get(i, j) * t[j]!;
    ti[i] = -s / scale;
  }
  return homogeneous(Rt, ti, 1 / scale);
}

/** Applies the homogeneous transform T to every row of P (n x d); returns a new matrix. */
export function applyTransform(T: Matrix, P: Matrix, out?: Matrix): Matrix {
  const d = P.cols, n = P.rows, e = d + 1;
  const O = out ?? new Matrix(n, d);
  const M = T.data, mo = T.offset;
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const b = P.offset + i * P.stride;
    for (let j = 0; j < d; j++) row[j] = P.data[b + j]!;
    for (let r = 0; r < d; r++) {
      let s = M[mo + r * e + d]!;
      for (let j = 0; j < d; j++) s += M[mo + r * e + j]! * row[j]!;
      O.data[O.offset + i * O.stride + r] = s;
    }
  }
  return O;
}

/**
 * Rows from..to-1 of the row-major n x d array P moved in place by the (d+1)x(d+1) row-major
 * transform M, with applyTransform's arithmetic (the same values to the last bit): for ranges
 * of one array handled by different threads.
 */
export function transformRowsInPlace(M: Float64Array, d: number, P: Float64Array, from: number, to: number): void {
  const row = new Float64Array(d);
  for (let i = from; i < to; i++) moveRowInPlace(M, d, P, i * d, row);
}

/**
 * The d values at P[b..] moved in place by the (d+1)x(d+1) row-major transform M, with
 * applyTransform's arithmetic; `row` (d values of scratch) gets them as they were.
 */
export function moveRowInPlace(M: Float64Array, d: number, P: Float64Array, b: number, row: Float64Array): void {
  const e = d + 1;
  for (let j = 0; j < d; j++) row[j] = P[b + j]!;
  for (let r = 0; r < d; r++) {
    let s = M[r * e + d]!;
    for (let j = 0; j < d; j++) s += M[r * e + j]! * row[j]!;
    P[b + r] = s;
  }
}

/** Rotates vectors (normals) by the linear part of T, renormalised. */
export function rotateVectors(T: Matrix, N: Matrix): Matrix {
  const d = N.cols, n = N.rows, e = d + 1;
  const O = new Matrix(n, d);
  for (let i = 0; i < n; i++) {
    let len = 0;
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += T.get(r, j) * N.get(i, j);
      O.data[i * d + r] = s;
      len += s * s;
    }
    len = Math.sqrt(len) || 1;
    for (let r = 0; r < d; r++) O.data[i * d + r]! /= len;
  }
  void e;
  return O;
}

export function determinant(A: Matrix): number {
  const n = A.rows;
  if (n === 1) return A.get(0, 0);
  if (n === 2) return A.get(0, 0) * A.get(1, 1) - A.get(0, 1) * A.get(1, 0);
  if (n === 3) {
    const g = (i: number, j: number) => A.get(i, j);
    return g(0, 0) * (g(1, 1) * g(2, 2) - g(1, 2) * g(2, 1)) - g(0, 1) * (g(1, 0) * g(2, 2) - g(1, 2) * g(2, 0)) + g(0, 2) * (g(1, 0) * g(2, 1) - g(1, 1) * g(2, 0));
  }
  // LU with partial pivoting
  const M = A.clone().data;
  let det = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(M[i * n + k]!) > Math.abs(M[p * n + k]!)) p = i;
    if (M[p * n + k] === 0) return 0;
    if (p !== k) {
      for (let j = 0; j < n; j++) { const t = M[k * n + j]!; M[k * n + j] = M[p * n + j]!; M[p * n + j] = t; }
      det = -det;
    }
    det *= M[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const f = M[i * n + k]! / M[k * n + k]!;
      for (let j = k; j < n; j++) M[i * n + j]! -= f * M[k * n + j]!;
    }
  }
  return det;
}

/** Rotation angle in degrees of a 2-D rotation (atan2 of its first column). */
export function angle2D(R: Matrix): number {
  return (Math.atan2(R.get(1, 0), R.get(0, 0)) * 180) / Math.PI;
}

/** Angle in degrees of the relative rotation A·Bᵀ (geodesic distance on SO(d), d = 2 or 3). */
export function rotationAngleBetween(A: Matrix, B: Matrix): number {
  const d = A.rows;
  let tr = 0;
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) tr += A.get(i, k) * B.get(i, k);
  if (d === 2) {
    let s = 0; // sin of the relative angle: (A Bᵀ)[1][0]
    for (let k = 0; k < 2; k++) s += A.get(1, k) * B.get(0, k);
    return Math.abs((Math.atan2(s, tr / 2) * 180) / Math.PI);
  }
  const c = Math.min(1, Math.max(-1, (tr - 1) / 2));
  return (Math.acos(c) * 180) / Math.PI;
}
