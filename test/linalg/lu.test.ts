/**
 * The randomized SVD's normalisers (src/core/linalg/lu.ts, native.ts):
 *  - LU with partial pivoting as P·L (scipy.linalg.lu(permute_l=True)): for A = P L U built
 *    with |L| < 1 below its unit diagonal, partial pivoting picks exactly P (the unit diagonal
 *    entry is the largest candidate at every step), so the known P·L is the answer; and P·L·U
 *    reproduces A. Both the LAPACK dgetrf wrapper and the TypeScript fallback, tall and square,
 *    plus an all-zero matrix (P·L = the identity's first columns) and a zero column.
 *  - the thin Householder Q (dgeqrf + dorgqr) of a constructed A = Q0 R0: orthonormal, QᵀA upper
 *    triangular with |diag| = diag(R0), Q Qᵀ A = A; a zero matrix still gets an orthonormal Q.
 * Where OpenBLAS is absent the native cases are skipped with a message (failed when CI=true).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { Matrix, seededRandom } from '../../src/core/linalg/index.js';
import { blasStatus, setBlas } from '../../src/core/linalg/native.js';
import { luPermutedT, luPermutedTs, qrQT } from '../../src/core/linalg/lu.js';
import { maxAbsDiff, naiveMul, orthError, randomOrthonormal } from './helpers.js';

const nativeOk = setBlas(true);
setBlas(undefined);
if (!nativeOk) {
  const chosenOff = process.env.SVDFLOW_BLAS === 'off' || (!!process.env.SVDFLOW_NO_WASM && !process.env.SVDFLOW_BLAS);
  if (process.env.CI === 'true' && !chosenOff) throw new Error(`native BLAS: ${blasStatus().reason}, and CI=true runs every test`);
  process.stderr.write(`svdflow tests: skipped: native BLAS: ${blasStatus().reason}\n`);
}
const itNative = nativeOk ? it : it.skip;
afterAll(() => setBlas(undefined));

/** A = P L U (m x n, m >= n) with |L_ij| <= 0.9 below the unit diagonal; returns A and P·L. */
function constructed(m: number, n: number, seed: number): { A: Matrix; PL: Matrix; U: Matrix } {
  const g = seededRandom(seed);
  const Lm = new Matrix(m, n), U = new Matrix(n, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < Math.min(i + 1, n); j++) Lm.set(i, j, i === j ? 1 : 1.8 * g.next() - 0.9);
  // U well conditioned (a random triangular matrix with O(1) entries is not), so that L is
  // determined to rounding: the check below is on L itself
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) U.set(i, j, i === j ? 1 + g.next() : (0.5 * g.gaussian()) / Math.sqrt(n));
  // P: a fixed shuffle of the rows
  const perm = Array.from({ length: m }, (_, i) => i);
  for (let i = m - 1; i > 0; i--) { const j = Math.floor(g.next() * (i + 1)); [perm[i], perm[j]] = [perm[j]!, perm[i]!]; }
  const PL = new Matrix(m, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) PL.set(perm[i]!, j, Lm.get(i, j));
  return { A: naiveMul(PL, U, false, false), PL, U };
}

/** LU as the randomized SVD calls it: on Yt = Aᵀ (row-major), which is A column-major */
function luOf(A: Matrix, how: 'native' | 'ts'): Matrix {
  const Yt = A.transpose();
  if (how === 'native') { setBlas(true); luPermutedT(Yt); setBlas(undefined); }
  else luPermutedTs(Yt.data, Yt.offset, Yt.stride, A.rows, A.cols);
  return Yt.transpose();
}

describe('LU with partial pivoting, P·L (the power iterations\' normaliser)', () => {
  const shapes: [number, number][] = [[300, 25], [64, 64], [1028, 45], [7, 1]];
  for (const how of ['native', 'ts'] as const) {
    const itHow = how === 'native' ? itNative : it;
    itHow(`${how}: the constructed P·L of A = P L U (|L| < 1), and P·L·U = A`, () => {
      for (const [m, n] of shapes) {
        const { A, PL, U } = constructed(m, n, m + n);
        const got = luOf(A, how);
        expect(maxAbsDiff(got, PL)).toBeLessThan(1e-12);
        expect(maxAbsDiff(naiveMul(got, U, false, false), A)).toBeLessThan(1e-12);
      }
    });
    itHow(`${how}: an all-zero matrix gives the identity's first columns; a zero column keeps its unit`, () => {
      const Z = luOf(new Matrix(50, 6), how);
      for (let i = 0; i < 50; i++) for (let j = 0; j < 6; j++) expect(Z.get(i, j)).toBe(i === j ? 1 : 0);
      // column 0 of A zero: step 0 has a zero pivot (no swap, nothing eliminated), the rest is an LU of columns 1..
      const { A } = constructed(40, 5, 3);
      for (let i = 0; i < 40; i++) A.set(i, 0, 0);
      const got = luOf(A, how);
      for (let i = 0; i < 40; i++) expect(got.get(i, 0)).toBe(i === 0 ? 1 : 0);
      for (let j = 0; j < 5; j++) for (let i = 0; i < 40; i++) expect(Math.abs(got.get(i, j))).toBeLessThanOrEqual(1);
    });
  }
  itNative('native and TypeScript agree on a Gaussian matrix (same pivots, same factor to rounding)', () => {
    const g = seededRandom(11);
    const A = new Matrix(500, 40);
    for (let i = 0; i < A.data.length; i++) A.data[i] = g.gaussian();
    expect(maxAbsDiff(luOf(A, 'native'), luOf(A, 'ts'))).toBeLessThan(1e-12);
  });
});

describe('thin Householder QR (dgeqrf + dorgqr): the range finder\'s last orthonormalisation', () => {
  itNative('Q of A = Q0 R0: orthonormal, QᵀA upper triangular with |diag| = diag(R0), Q QᵀA = A', () => {
    setBlas(true);
    for (const [m, n] of [[1028, 45], [200, 200], [90, 3]] as [number, number][]) {
      const Q0 = randomOrthonormal(m, n, m), g = seededRandom(n);
      const R0 = new Matrix(n, n);
      for (let i = 0; i < n; i++) for (let j = i; j < n; j++) R0.set(i, j, i === j ? 1 + i : g.gaussian());
      const A = naiveMul(Q0, R0, false, false);
      const Qt = A.transpose();
      expect(qrQT(Qt)).toBe(true);
      const Q = Qt.transpose();
      expect(orthError(Q)).toBeLessThan(1e-13);
      const R = naiveMul(Q, A, true, false);
      for (let i = 0; i < n; i++) {
        expect(Math.abs(R.get(i, i)) / (1 + i)).toBeCloseTo(1, 12);
        for (let j = 0; j < i; j++) expect(Math.abs(R.get(i, j))).toBeLessThan(1e-12 * n);
      }
      expect(maxAbsDiff(naiveMul(Q, R, false, false), A)).toBeLessThan(1e-12 * n);
    }
    const Z = new Matrix(6, 40);
    expect(qrQT(Z)).toBe(true);
    expect(orthError(Z.transpose())).toBeLessThan(1e-15);
    setBlas(undefined);
  });
  it('without the native backend qrQT declines (the caller falls back to CholeskyQR2 / Householder)', () => {
    setBlas(false);
    expect(qrQT(new Matrix(3, 10))).toBe(false);
    setBlas(undefined);
  });
});
