/**
 * Divide-and-conquer bidiagonal SVD (src/core/linalg/bdsdc.ts) on its own: bidiagonals with
 * known singular values (an analytic family, and Golub-Kahan bidiagonals of matrices built
 * with a chosen spectrum: graded, clustered, repeated, rank-deficient), checked for the values,
 * the orthogonality of U and V and B V = U S, with controls that merges, deflation and the
 * close-value rotations really ran; and the exact SVD's switch to it above DC_MIN.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Matrix, svd, bidiagonalize } from '../../src/core/linalg/index.js';
import { bidiagDc, dcStats, resetDcStats, setDcLeaf, DC_LEAF } from '../../src/core/linalg/bdsdc.js';
import { DC_MIN, svdPhases } from '../../src/core/linalg/svd.js';
import { withSpectrum, orthError } from './helpers.js';
import { setBlas } from '../../src/core/linalg/native.js';

// these tests are about the TS/WebAssembly kernels (the thread team, bit for bit): the native backend is off
setBlas(false);
afterAll(() => { setBlas(undefined); });

const EPS = 2 ** -52;
const savedLeaf = DC_LEAF;
afterAll(() => setDcLeaf(savedLeaf));

interface Err { values: number; orthU: number; orthV: number; residual: number }

/** errors in eps (values and residual relative to sigma_1) of bidiagDc on (d, e) against `known` (descending) */
function errors(d: Float64Array, e: Float64Array, known: number[]): Err {
  const n = d.length;
  const r = bidiagDc(d, e);
  const s1 = known[0]! || 1;
  let values = 0;
  for (let i = 0; i < n; i++) values = Math.max(values, Math.abs(r.s[i]! - known[i]!) / s1 / EPS);
  for (let i = 1; i < n; i++) expect(r.s[i]!).toBeLessThanOrEqual(r.s[i - 1]!);
  let residual = 0; // B v_j = s_j u_j
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const bv = d[i]! * r.V[i * n + j]! + (i + 1 < n ? e[i]! * r.V[(i + 1) * n + j]! : 0);
    residual = Math.max(residual, Math.abs(bv - r.s[j]! * r.U[i * n + j]!) / s1 / EPS);
  }
  return { values, orthU: orthError(new Matrix(n, n, r.U)) / EPS, orthV: orthError(new Matrix(n, n, r.V)) / EPS, residual };
}

function expectAccurate(x: Err): void {
  expect(x.values).toBeLessThanOrEqual(64);
  expect(x.orthU).toBeLessThanOrEqual(256);
  expect(x.orthV).toBeLessThanOrEqual(256);
  expect(x.residual).toBeLessThanOrEqual(64);
}

/** Golub-Kahan bidiagonal of an m x n matrix with singular values `s` (the rest 0) */
function bidiagonalOf(m: number, n: number, s: number[], seed: number): { d: Float64Array; e: Float64Array; known: number[] } {
  const A = withSpectrum(m, n, s, seed);
  const bd = bidiagonalize(A);
  return { d: bd.d, e: bd.e, known: [...s, ...new Array<number>(n - s.length).fill(0)] };
}

describe.each([25, 4])('divide-and-conquer bidiagonal SVD, leaves of %i rows', (leaf) => {
  it('ones on both diagonals: sigma_k = 2 cos(k pi / (2n + 1)), n = 300', () => {
    setDcLeaf(leaf);
    const n = 300;
    resetDcStats();
    const x = errors(new Float64Array(n).fill(1), new Float64Array(n).fill(1), Array.from({ length: n }, (_, k) => 2 * Math.cos(((k + 1) * Math.PI) / (2 * n + 1))));
    expect(dcStats.merges).toBeGreaterThan(0); // control: the split really happened
    expectAccurate(x);
  });

  it('a Gaussian-like spectrum, n = 200 (few deflations)', () => {
    setDcLeaf(leaf);
    const s = Array.from({ length: 200 }, (_, i) => 3 - (2.9 * i) / 199 + 0.01 * Math.sin(i));
    s.sort((a, b) => b - a);
    const { d, e, known } = bidiagonalOf(260, 200, s, 31);
    resetDcStats();
    expectAccurate(errors(d, e, known));
    expect(dcStats.roots).toBeGreaterThan(dcStats.deflated);
  });

  it('graded values 2^0 .. 2^-59', () => {
    setDcLeaf(leaf);
    const { d, e, known } = bidiagonalOf(80, 60, Array.from({ length: 60 }, (_, i) => 2 ** -i), 32);
    expectAccurate(errors(d, e, known));
  });

  it('clustered values 1 - i 2^-40 deflate by rotation and stay orthogonal', () => {
    setDcLeaf(leaf);
    const { d, e, known } = bidiagonalOf(150, 120, Array.from({ length: 120 }, (_, i) => 1 - i * 2 ** -40), 33);
    resetDcStats();
    const x = errors(d, e, known);
    expect(dcStats.deflated).toBeGreaterThan(0); // control: deflation happened
    expectAccurate(x);
  });

  it('repeated values (5 x 30, 2 x 30, 1 x 30) and a rank-deficient tail of zeros', () => {
    setDcLeaf(leaf);
    const s = [...new Array<number>(30).fill(5), ...new Array<number>(30).fill(2), ...new Array<number>(30).fill(1)];
    const { d, e, known } = bidiagonalOf(140, 120, s, 34);
    resetDcStats();
    const x = errors(d, e, known);
    expect(dcStats.deflated).toBeGreaterThan(0);
    expectAccurate(x);
  });

  it('zero entries on the diagonal and a zero matrix', () => {
    setDcLeaf(leaf);
    const n = 90;
    const d = Float64Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : 1 + i / n)), e = new Float64Array(n).fill(0.5);
    // reference values: a dense SVD of B (the exact path, rotations for n < DC_MIN or not: independent of bidiagDc's merges)
    const B = new Matrix(n, n);
    for (let i = 0; i < n; i++) { B.set(i, i, d[i]!); if (i + 1 < n) B.set(i, i + 1, e[i]!); }
    const ref = Array.from(svdByRotations(B));
    expect(ref[n - 1]!).toBeLessThan(1e-10); // the zero diagonal entries make B singular
    expectAccurate(errors(d, e, ref));
    const z = bidiagDc(new Float64Array(40), new Float64Array(40));
    expect(Array.from(z.s).every((v) => v === 0)).toBe(true);
    expect(orthError(new Matrix(40, 40, z.U))).toBe(0);
  });
});

/** singular values by the rotations path (D&C off) */
function svdByRotations(B: Matrix): Float64Array {
  const saved = DC_MIN;
  try {
    return svd(B, { solver: 'exact' }).s;
  } finally {
    expect(DC_MIN).toBe(saved);
  }
}

describe('the exact SVD chooses divide and conquer for vectors from DC_MIN', () => {
  it(`a ${DC_MIN + 20}-column matrix goes through it, a 40-column one through the rotations; both accurate`, () => {
    const n = DC_MIN + 20;
    const s = Array.from({ length: n }, (_, i) => 1 + Math.cos(i));
    const A = withSpectrum(n + 30, n, s.slice().sort((a, b) => b - a), 35);
    const r = svd(A, { solver: 'exact' });
    expect(svdPhases.bidiagMethod).toBe('dc');
    expect(orthError(r.U) / EPS).toBeLessThanOrEqual(256);
    expect(orthError(r.V) / EPS).toBeLessThanOrEqual(256);
    const known = s.slice().sort((a, b) => b - a);
    for (let i = 0; i < n; i++) expect(Math.abs(r.s[i]! - known[i]!) / known[0]! / EPS).toBeLessThanOrEqual(64);
    svd(withSpectrum(60, 40, [3, 2, 1], 36), { solver: 'exact' });
    expect(svdPhases.bidiagMethod).toBe('qr');
  });
});
