import { Matrix, qr, matmul, matmulT, matTmul, seededRandom, frobeniusNormSq } from '../../src/core/linalg/index.js';

export function gaussian(m: number, n: number, seed: number): Matrix {
  const g = seededRandom(seed);
  const A = new Matrix(m, n);
  for (let i = 0; i < A.data.length; i++) A.data[i] = g.gaussian();
  return A;
}

/** Random m x k matrix with orthonormal columns (QR of a seeded Gaussian). */
export function randomOrthonormal(m: number, k: number, seed: number): Matrix {
  return qr(gaussian(m, k, seed)).Q;
}

/** A = U diag(s) Vᵀ with random orthonormal U (m x k), V (n x k), k = s.length. */
export function withSpectrum(m: number, n: number, s: number[], seed: number): Matrix {
  const k = s.length;
  const U = randomOrthonormal(m, k, seed);
  const V = randomOrthonormal(n, k, seed + 1);
  const US = scaleCols(U, s);
  return matmulT(US, V);
}

export function scaleCols(U: Matrix, s: ArrayLike<number>): Matrix {
  const M = U.clone();
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) M.data[i * M.cols + j]! *= s[j]!;
  return M;
}

/** max |AᵀA - I| */
export function orthError(U: Matrix): number {
  const G = matTmul(U, U);
  let e = 0;
  for (let i = 0; i < G.rows; i++) for (let j = 0; j < G.cols; j++) e = Math.max(e, Math.abs(G.get(i, j) - (i === j ? 1 : 0)));
  return e;
}

/** ||A - U diag(s) Vᵀ||_F / ||A||_F (absolute when A = 0) */
export function reconError(A: Matrix, U: Matrix, s: ArrayLike<number>, V: Matrix): number {
  const R = matmulT(scaleCols(U, s), V);
  let e = 0;
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) e += (R.get(i, j) - A.get(i, j)) ** 2;
  const nA = frobeniusNormSq(A);
  return Math.sqrt(nA > 0 ? e / nA : e);
}

export function maxAbsDiff(A: Matrix, B: Matrix): number {
  let e = 0;
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) e = Math.max(e, Math.abs(A.get(i, j) - B.get(i, j)));
  return e;
}

export function naiveMul(A: Matrix, B: Matrix, tA: boolean, tB: boolean): Matrix {
  const m = tA ? A.cols : A.rows, k = tA ? A.rows : A.cols, n = tB ? B.rows : B.cols;
  const C = new Matrix(m, n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? A.get(p, i) : A.get(i, p)) * (tB ? B.get(j, p) : B.get(p, j));
      C.set(i, j, s);
    }
  return C;
}

export { matmul };
