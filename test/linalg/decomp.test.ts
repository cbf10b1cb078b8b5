import { describe, expect, it } from 'vitest';
import { SVD as MlSVD } from 'ml-matrix';
import { Matrix, qr, symEig, svd, matmul, matTmul, LinalgError, type SvdResult } from '../../src/core/linalg/index.js';
import { gaussian, maxAbsDiff, orthError, reconError, withSpectrum } from './helpers.js';

function expectSpectrum(r: SvdResult, s: number[], relTol = 1e-10) {
  const smax = Math.max(...s, 0);
  for (let i = 0; i < r.s.length; i++) {
    const want = s[i] ?? 0;
    // relative to sigma_i, or to sigma_max for the tiny ones
    expect(Math.abs(r.s[i]! - want)).toBeLessThanOrEqual(relTol * Math.max(want, smax * 1e-6) + 1e-15 * smax);
  }
  for (let i = 1; i < r.s.length; i++) expect(r.s[i]!).toBeLessThanOrEqual(r.s[i - 1]!);
}

function checkFactors(A: Matrix, r: SvdResult, k: number) {
  expect(r.U.rows).toBe(A.rows);
  expect(r.V.rows).toBe(A.cols);
  expect(r.U.cols).toBe(k);
  expect(r.V.cols).toBe(k);
  expect(r.s.length).toBe(k);
  expect(orthError(r.U)).toBeLessThan(1e-12);
  expect(orthError(r.V)).toBeLessThan(1e-12);
  expect(reconError(A, r.U, r.s, r.V)).toBeLessThan(1e-12);
}

describe('qr', () => {
  for (const [m, n] of [[1, 1], [5, 3], [70, 70], [300, 45], [2000, 20]] as const) {
    it(`${m}x${n}: Q orthonormal, R upper, QR = A`, () => {
      const A = gaussian(m, n, m * 31 + n);
      const { Q, R } = qr(A);
      expect(Q.rows).toBe(m); expect(Q.cols).toBe(n); expect(R.rows).toBe(n); expect(R.cols).toBe(n);
      expect(orthError(Q)).toBeLessThan(1e-13);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(R.get(i, j)).toBe(0);
      expect(maxAbsDiff(matmul(Q, R), A)).toBeLessThan(1e-12);
    });
  }
  it('rank-deficient and zero input still give orthonormal Q', () => {
    const A = withSpectrum(40, 10, [3, 2, 1], 5);
    const { Q, R } = qr(A);
    expect(orthError(Q)).toBeLessThan(1e-13);
    expect(maxAbsDiff(matmul(Q, R), A)).toBeLessThan(1e-13);
    const Z = qr(new Matrix(6, 4));
    expect(orthError(Z.Q)).toBe(0);
  });
  it('rejects wide input and NaN', () => {
    expect(() => qr(new Matrix(2, 3))).toThrow(LinalgError);
    const A = gaussian(4, 2, 1); A.set(2, 1, NaN);
    expect(() => qr(A)).toThrow(/qr input contains NaN at row 2, col 1/);
  });
});

describe('symEig', () => {
  for (const n of [1, 2, 9, 60, 150]) {
    it(`n=${n}: AV = VΛ, V orthonormal, values descending`, () => {
      const G = gaussian(n + 3, n, n);
      const A = matTmul(G, G);
      const { values, vectors } = symEig(A);
      expect(orthError(vectors)).toBeLessThan(1e-12);
      const AV = matmul(A, vectors);
      let e = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) e = Math.max(e, Math.abs(AV.get(i, j) - vectors.get(i, j) * values[j]!));
      expect(e).toBeLessThan(1e-11 * values[0]!);
      for (let i = 1; i < n; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
    });
  }
  it('known eigenvalues with negatives', () => {
    const Q = qr(gaussian(6, 6, 9)).Q;
    const lam = [5, 3, 1e-3, 0, -2, -7];
    const A = matmul(Q, matTmul(Matrix.from2D(lam.map((l, i) => lam.map((_, j) => (i === j ? l : 0)))), Q.transpose()));
    const { values } = symEig(A);
    lam.forEach((l, i) => expect(values[i]!).toBeCloseTo(l, 12));
  });
  it('rejects non-square and Inf', () => {
    expect(() => symEig(new Matrix(2, 3))).toThrow(LinalgError);
    const A = new Matrix(2, 2); A.set(0, 1, Infinity);
    expect(() => symEig(A)).toThrow(/symEig input contains Infinity at row 0, col 1/);
  });
});

describe('svd (exact)', () => {
  const geometric = (k: number, lo: number) => Array.from({ length: k }, (_, i) => Math.pow(lo, i / (k - 1)));
  const cases: { name: string; m: number; n: number; s: number[] }[] = [
    { name: 'well-conditioned 60x40', m: 60, n: 40, s: Array.from({ length: 40 }, (_, i) => 10 - i * 0.2) },
    { name: 'wide 40x60', m: 40, n: 60, s: Array.from({ length: 40 }, (_, i) => 1 + i * 0.5).reverse() },
    { name: 'ill-conditioned 1..1e-12 80x50', m: 80, n: 50, s: geometric(50, 1e-12) },
    { name: 'rank-deficient 70x45 (rank 10)', m: 70, n: 45, s: [...geometric(10, 1e-3), ...Array(35).fill(0)] },
    { name: 'clustered 50x50', m: 50, n: 50, s: [...Array(25).fill(2), ...Array(25).fill(1)] },
    { name: '300x200', m: 300, n: 200, s: geometric(200, 1e-8) },
    { name: 'tall 2000x20', m: 2000, n: 20, s: geometric(20, 1e-10) },
    { name: 'wide 20x700', m: 20, n: 700, s: geometric(20, 1e-3) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const nz = c.s.filter((x) => x > 0);
      const A = withSpectrum(c.m, c.n, nz, c.m + c.n);
      const r = svd(A, { solver: 'exact' });
      expect(r.solver).toBe('exact');
      checkFactors(A, r, Math.min(c.m, c.n));
      expectSpectrum(r, [...c.s].sort((a, b) => b - a));
    });
  }
  it('1 x n and n x 1', () => {
    const row = gaussian(1, 17, 3);
    const r1 = svd(row, { solver: 'exact' });
    checkFactors(row, r1, 1);
    const nrm = Math.hypot(...row.data);
    expect(r1.s[0]).toBeCloseTo(nrm, 12);
    const col = gaussian(23, 1, 4);
    const r2 = svd(col);
    checkFactors(col, r2, 1);
    expect(r2.s[0]).toBeCloseTo(Math.hypot(...col.data), 12);
  });
  it('zero matrix: s = 0, U and V orthonormal', () => {
    for (const solver of ['exact', 'gram', 'auto'] as const) {
      const Z = new Matrix(30, 7);
      const r = svd(Z, { solver });
      expect(Array.from(r.s)).toEqual(Array(7).fill(0));
      expect(orthError(r.U)).toBeLessThan(1e-15);
      expect(orthError(r.V)).toBeLessThan(1e-15);
    }
  });
  it('empty 0 x n and m x 0 give k = 0', () => {
    const r = svd(new Matrix(0, 5));
    expect(r.s.length).toBe(0); expect(r.U.rows).toBe(0); expect(r.U.cols).toBe(0); expect(r.V.rows).toBe(5); expect(r.V.cols).toBe(0);
    const r2 = svd(new Matrix(4, 0), { solver: 'gram' });
    expect(r2.s.length).toBe(0); expect(r2.U.rows).toBe(4);
  });
  it('agrees with ml-matrix on small random matrices', () => {
    for (const [m, n] of [[6, 4], [4, 6], [15, 15], [33, 12]] as const) {
      const A = gaussian(m, n, m * n);
      const ref = new MlSVD(A.to2D(), { autoTranspose: true });
      const r = svd(A);
      const d = ref.diagonal;
      for (let i = 0; i < Math.min(m, n); i++) expect(Math.abs(r.s[i]! - d[i]!)).toBeLessThan(1e-12 * d[0]!);
      // same singular subspaces: |u_i · u_ref_i| = 1
      const Ur = ref.leftSingularVectors;
      for (let i = 0; i < Math.min(m, n); i++) {
        let dot = 0;
        for (let t = 0; t < m; t++) dot += r.U.get(t, i) * Ur.get(t, i);
        expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-9);
      }
    }
  });
  it('rank option truncates', () => {
    const A = withSpectrum(50, 30, [5, 4, 3, 2, 1], 7);
    const r = svd(A, { rank: 3, solver: 'exact' });
    expect(r.s.length).toBe(3); expect(r.U.cols).toBe(3); expect(r.V.cols).toBe(3);
    expectSpectrum(r, [5, 4, 3]);
  });
  it('NaN / Inf give a clear LinalgError', () => {
    const A = gaussian(10, 5, 1);
    A.set(7, 2, NaN);
    expect(() => svd(A)).toThrow(LinalgError);
    expect(() => svd(A)).toThrow('svd input contains NaN at row 7, col 2');
    A.set(7, 2, -Infinity);
    expect(() => svd(A, { solver: 'randomized', rank: 2 })).toThrow(/-Infinity at row 7, col 2/);
  });
});

describe('svd (gram route and auto)', () => {
  it('tall well-conditioned: gram used and accurate', () => {
    const s = Array.from({ length: 20 }, (_, i) => 10 / (1 + i));
    const A = withSpectrum(2000, 20, s, 11);
    const r = svd(A, { solver: 'gram' });
    expect(r.solver).toBe('gram');
    checkFactors(A, r, 20);
    expectSpectrum(r, s);
    expect(svd(A).solver).toBe('gram'); // auto
    const W = A.transpose();
    const rw = svd(W, { solver: 'gram' });
    expect(rw.solver).toBe('gram');
    checkFactors(W, rw, 20);
  });
  it('with a rank, the leading triplets only: A V_k = U_k S_k, U_k orthonormal, tall and wide', () => {
    const s = Array.from({ length: 20 }, (_, i) => 10 / (1 + i));
    const A = withSpectrum(2000, 20, s, 13);
    for (const M of [A, A.transpose()]) {
      const r = svd(M, { solver: 'gram', rank: 7 });
      expect(r.solver).toBe('gram');
      expect([r.U.rows, r.U.cols, r.V.rows, r.V.cols, r.s.length]).toEqual([M.rows, 7, M.cols, 7, 7]);
      expectSpectrum(r, s.slice(0, 7));
      expect(orthError(r.U)).toBeLessThan(1e-12);
      expect(orthError(r.V)).toBeLessThan(1e-12);
      // M V_k = U_k S_k (the defining relation, column by column)
      const MV = matmul(M, r.V);
      for (let i = 0; i < M.rows; i++) for (let j = 0; j < 7; j++) expect(Math.abs(MV.get(i, j) - r.U.get(i, j) * r.s[j]!)).toBeLessThan(1e-12 * s[0]!);
    }
  });
  it('ill-conditioned: the guard falls back to exact', () => {
    const s = Array.from({ length: 20 }, (_, i) => Math.pow(1e-9, i / 19));
    const A = withSpectrum(2000, 20, s, 12);
    const r = svd(A, { solver: 'gram' });
    expect(r.solver).toBe('exact');
    checkFactors(A, r, 20);
    expectSpectrum(r, s);
    expect(svd(A).solver).toBe('exact');
  });
  it('auto picks exact for square-ish and randomized for a small requested rank', () => {
    expect(svd(gaussian(30, 20, 1)).solver).toBe('exact');
    const r = svd(withSpectrum(300, 200, [9, 8, 7, 6, 5], 3), { rank: 5 });
    expect(r.solver).toBe('randomized');
    expectSpectrum(r, [9, 8, 7, 6, 5], 1e-9);
  });
});

describe('singularValues (no vectors)', () => {
  it('known spectra, tall and wide, to 1e-10 relative; same as svd', async () => {
    const { singularValues } = await import('../../src/core/linalg/index.js');
    const geo = (k: number, lo: number) => Array.from({ length: k }, (_, i) => Math.pow(lo, i / (k - 1)));
    for (const [m, n, s] of [[80, 50, geo(50, 1e-12)], [40, 90, geo(40, 1e-3)], [300, 200, geo(200, 1e-8)]] as const) {
      const A = withSpectrum(m, n, [...s], m + n);
      const v = singularValues(A);
      expect(v.length).toBe(Math.min(m, n));
      for (let i = 0; i < v.length; i++) expect(Math.abs(v[i]! - s[i]!)).toBeLessThanOrEqual(1e-10 * Math.max(s[i]!, 1e-6 * s[0]!) + 1e-15 * s[0]!);
      const full = svd(A, { solver: 'exact' }).s;
      for (let i = 0; i < v.length; i++) expect(Math.abs(v[i]! - full[i]!)).toBeLessThanOrEqual(1e-13 * s[0]!);
    }
    expect(singularValues(new Matrix(0, 4)).length).toBe(0);
    const Z = singularValues(new Matrix(5, 3));
    expect(Array.from(Z)).toEqual([0, 0, 0]);
    const B = gaussian(4, 3, 2); B.set(1, 2, NaN);
    expect(() => singularValues(B)).toThrow('singularValues input contains NaN at row 1, col 2');
  });
});

describe('bidiagonal QR: WebAssembly SIMD and TS rotation replay', () => {
  it('give bit-identical singular vectors (odd size, clustered values, deflations)', async () => {
    const { bidiagQr, setWasmRotations } = await import('../../src/core/linalg/bdsqr.js');
    const { bidiagonalize } = await import('../../src/core/linalg/index.js');
    const s = [...Array(20).fill(3), ...Array.from({ length: 50 }, (_, i) => Math.pow(1e-9, i / 49)), 0, 0, 0];
    const bd = bidiagonalize(withSpectrum(90, 73, s.filter((x) => x > 0), 17));
    const a = bidiagQr(bd.d, bd.e, true);
    setWasmRotations(false);
    let b;
    try { b = bidiagQr(bd.d, bd.e, true); } finally { setWasmRotations(true); }
    // equal values (the two skip different all-zero work, so only the sign of a zero may differ)
    const same = (x: Float64Array, y: Float64Array) => x.every((v, i) => v === y[i]);
    expect(same(a.s, b.s)).toBe(true);
    expect(same(a.U!, b.U!)).toBe(true);
    expect(same(a.V!, b.V!)).toBe(true);
    // and right: B = U diag(s) Vᵀ with orthonormal U, V
    const n = 73, U = new Matrix(n, n, a.U!), V = new Matrix(n, n, a.V!);
    expect(orthError(U)).toBeLessThan(1e-13);
    expect(orthError(V)).toBeLessThan(1e-13);
    const B = new Matrix(n, n);
    for (let i = 0; i < n; i++) { B.set(i, i, bd.d[i]!); if (i + 1 < n) B.set(i, i + 1, bd.e[i]!); }
    expect(reconError(B, U, a.s, V)).toBeLessThan(1e-14);
  });
});

describe('blocked bidiagonalisation: WebAssembly SIMD and TS matrix-vector products', () => {
  it('both reduce A to a bidiagonal with the same singular values, and the SVD is exact', async () => {
    const { setWasmGemv } = await import('../../src/core/linalg/gebrd.js');
    const { bidiagonalize, singularValues } = await import('../../src/core/linalg/index.js');
    const s = Array.from({ length: 90 }, (_, i) => Math.pow(1e-10, i / 89));
    const A = withSpectrum(130, 90, s, 23);
    const viaWasm = svd(A, { solver: 'exact' });
    setWasmGemv(false);
    let viaTs, sv;
    try { viaTs = svd(A, { solver: 'exact' }); sv = singularValues(A); } finally { setWasmGemv(true); }
    for (const r of [viaWasm, viaTs]) { checkFactors(A, r, 90); expectSpectrum(r, s); }
    for (let i = 0; i < 90; i++) expect(Math.abs(viaWasm.s[i]! - sv[i]!)).toBeLessThan(1e-14);
    // B = HLᵀ A HR holds for the wasm path: |d|, |e| reproduce ||A||_F
    const bd = bidiagonalize(A.clone());
    let f = 0;
    for (let i = 0; i < 90; i++) f += bd.d[i]! ** 2 + bd.e[i]! ** 2;
    expect(Math.abs(Math.sqrt(f) - Math.hypot(...s)) / Math.hypot(...s)).toBeLessThan(1e-14);
  });
});
