import { describe, expect, it } from 'vitest';
import {
  Matrix, IncrementalSvd, svd, randomizedSvd, relativeErrors, cumulativeEnergy,
  seededRandom, matmul, matmulT, matTmul, frobeniusNormSq, LinalgError,
} from '../../src/core/linalg/index.js';
import { gaussian, orthError, randomOrthonormal, scaleCols, withSpectrum } from './helpers.js';

/** n samples (rows) of dimension d: mean + rank-r structure (+ optional noise). */
function samples(n: number, d: number, r: number, seed: number, noise = 0): Matrix {
  const B = randomOrthonormal(d, r, seed); // d x r
  const coef = scaleCols(gaussian(n, r, seed + 1), Array.from({ length: r }, (_, i) => 10 / (i + 1)));
  const X = matmulT(coef, B); // n x d
  const g = seededRandom(seed + 2);
  const mu = Array.from({ length: d }, () => 5 + g.gaussian());
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X.data[i * d + j]! += mu[j]! + noise * g.gaussian();
  return X;
}

function centred(X: Matrix): { C: Matrix; mean: Float64Array } {
  const n = X.rows, d = X.cols;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += X.get(i, j) / n;
  const C = X.clone();
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) C.data[i * d + j]! -= mean[j]!;
  return { C, mean };
}

function projectorDiff(U1: Matrix, U2: Matrix): number {
  // for orthonormal U1, U2 of k columns ||U1 U1ᵀ - U2 U2ᵀ||_F = sqrt(2) ||(I - U2 U2ᵀ) U1||_F
  const R = U1.clone();
  const M = matTmul(U2, U1);
  const P = matmul(U2, M);
  for (let i = 0; i < R.data.length; i++) R.data[i]! -= P.data[i]!;
  return Math.SQRT2 * Math.sqrt(frobeniusNormSq(R));
}

function feed(model: IncrementalSvd, X: Matrix, b: number) {
  for (let i = 0; i < X.rows; i += b) model.update(X.rowsView(i, Math.min(X.rows, i + b)));
}

describe('IncrementalSvd', () => {
  it('blocks of an exact-rank stream reproduce the batch SVD of the centred data and its mean', () => {
    const d = 500, r = 3, n = 240;
    const X = samples(n, d, r, 1);
    const { C, mean } = centred(X);
    const batch = svd(C.transpose(), { solver: 'exact', rank: r }); // d x n columns
    for (const b of [1, 7, 30]) {
      const m = new IncrementalSvd({ dim: d, rank: r });
      feed(m, X, b);
      expect(m.nSeen).toBe(n);
      let me = 0;
      for (let j = 0; j < d; j++) me = Math.max(me, Math.abs(m.mean[j]! - mean[j]!));
      expect(me).toBeLessThan(1e-10);
      for (let i = 0; i < r; i++) expect(Math.abs(m.s[i]! - batch.s[i]!) / batch.s[0]!).toBeLessThan(1e-8);
      expect(orthError(m.U)).toBeLessThan(1e-10);
      expect(projectorDiff(m.U, batch.U)).toBeLessThan(1e-8);
    }
  });

  it('without centring and forget = 1 equals the batch SVD of the raw columns', () => {
    const d = 200, n = 90;
    const X = matmulT(gaussian(n, 4, 3), randomOrthonormal(d, 4, 4)); // rank 4, not centred
    const batch = svd(X.transpose(), { rank: 4, solver: 'exact' });
    const m = new IncrementalSvd({ dim: d, rank: 4, center: false, forget: 1 });
    feed(m, X, 10);
    for (let i = 0; i < 4; i++) expect(Math.abs(m.s[i]! - batch.s[i]!) / batch.s[0]!).toBeLessThan(1e-10);
    expect(projectorDiff(m.U, batch.U)).toBeLessThan(1e-8);
    expect(Array.from(m.mean).every((v) => v === 0)).toBe(true);
  });

  it('forgetting factor scales old singular values and the effective count', () => {
    const d = 50;
    const X = samples(40, d, 2, 9);
    const a = new IncrementalSvd({ dim: d, rank: 2, forget: 0.5, center: false });
    a.update(X.rowsView(0, 20));
    const s1 = a.s;
    a.update(new Matrix(20, d)); // zero block: the model only decays
    expect(a.nSeen).toBe(0.5 * 20 + 20);
    for (let i = 0; i < 2; i++) expect(a.s[i]!).toBeCloseTo(0.5 * s1[i]!, 10);
    // with centring the mean follows the recent data more (weights 0.5*n_old vs b)
    const c = new IncrementalSvd({ dim: d, rank: 2, forget: 0.5 });
    const ones = new Matrix(10, d); ones.data.fill(1);
    const threes = new Matrix(10, d); threes.data.fill(3);
    c.update(ones); c.update(threes);
    expect(c.mean[0]).toBeCloseTo((0.5 * 10 * 1 + 10 * 3) / 15, 12);
  });

  it('noisy stream: truncation keeps close to the batch top-r subspace', () => {
    const d = 300, n = 300, r = 2;
    const X = samples(n, d, r, 21, 0.01);
    const { C } = centred(X);
    const batch = svd(C.transpose(), { rank: r });
    const m = new IncrementalSvd({ dim: d, rank: r, reorthEvery: 3 });
    feed(m, X, 30);
    expect(orthError(m.U)).toBeLessThan(1e-12);
    for (let i = 0; i < r; i++) expect(Math.abs(m.s[i]! - batch.s[i]!) / batch.s[i]!).toBeLessThan(1e-3);
    expect(projectorDiff(m.U, batch.U)).toBeLessThan(1e-2);
  });

  it('toState/fromState continues bit-identically', () => {
    const d = 120;
    const X = samples(100, d, 3, 5, 0.1);
    const a = new IncrementalSvd({ dim: d, rank: 3, forget: 0.9, reorthEvery: 2 });
    a.update(X.rowsView(0, 30));
    a.update(X.rowsView(30, 50));
    const st = a.toState();
    const json = JSON.parse(JSON.stringify(st, (_, v) => (v instanceof Float64Array ? Array.from(v) : v)));
    const b = IncrementalSvd.fromState({ ...json, mean: Float64Array.from(json.mean), Ut: Float64Array.from(json.Ut), s: Float64Array.from(json.s) });
    for (const mdl of [a, b]) { mdl.update(X.rowsView(50, 80)); mdl.update(X.rowsView(80, 100)); }
    expect(Array.from(b.s)).toEqual(Array.from(a.s));
    expect(Array.from(b.U.data)).toEqual(Array.from(a.U.data));
    expect(Array.from(b.mean)).toEqual(Array.from(a.mean));
    expect(b.nSeen).toBe(a.nSeen);
  });

  it('project and projectBlock reconstruct mean + U Uᵀ (x - mean)', () => {
    const d = 80;
    const X = samples(60, d, 2, 8);
    const m = new IncrementalSvd({ dim: d, rank: 2 });
    feed(m, X, 20);
    const P = m.projectBlock(X.rowsView(10, 15));
    for (let i = 0; i < 5; i++) {
      const x = X.row(10 + i);
      const p = m.project(x);
      for (let j = 0; j < d; j++) {
        expect(P.get(i, j)).toBeCloseTo(p[j]!, 10);
        expect(p[j]!).toBeCloseTo(x[j]!, 8); // exact rank 2: reconstruction is exact
      }
    }
    const out = new Float64Array(d);
    expect(m.project(X.row(0), out)).toBe(out);
  });

  it('rejects NaN blocks, wrong widths and bad options', () => {
    const m = new IncrementalSvd({ dim: 4, rank: 1 });
    const B = new Matrix(2, 4); B.set(1, 3, NaN);
    expect(() => m.update(B)).toThrow(/IncrementalSvd.update block contains NaN at row 1, col 3/);
    expect(() => m.update(new Matrix(2, 5))).toThrow(LinalgError);
    expect(() => new IncrementalSvd({ dim: 4, rank: 1, forget: 0 })).toThrow(LinalgError);
    // tiny dims (block larger than dim) work
    const t = new IncrementalSvd({ dim: 3, rank: 2 });
    t.update(gaussian(10, 3, 1));
    expect(orthError(t.U)).toBeLessThan(1e-14);
  });
});

describe('randomizedSvd', () => {
  it('within 1% of the optimal rank-k error on a decaying spectrum, reproducible by seed', () => {
    const s = Array.from({ length: 200 }, (_, i) => Math.pow(0.97, i));
    const A = withSpectrum(400, 250, s, 13);
    const k = 20;
    const r = randomizedSvd(A, k, { oversample: 10, powerIterations: 4, seed: 42 });
    expect(r.solver).toBe('randomized');
    expect(orthError(r.U)).toBeLessThan(1e-12);
    expect(orthError(r.V)).toBeLessThan(1e-12);
    const R = matmulT(scaleCols(r.U, r.s), r.V);
    let e = 0;
    for (let i = 0; i < A.data.length; i++) e += (A.data[i]! - R.data[i]!) ** 2;
    const err = Math.sqrt(e / frobeniusNormSq(A));
    const opt = relativeErrors(s)[k]!;
    expect(err).toBeLessThan(1.01 * opt);
    const r2 = randomizedSvd(A, k, { oversample: 10, powerIterations: 4, seed: 42 });
    expect(Array.from(r2.s)).toEqual(Array.from(r.s));
    const r3 = randomizedSvd(A, k, { seed: 7 });
    expect(Array.from(r3.s)).not.toEqual(Array.from(r.s));
  });
  it('wide and tall orientations (the sketch is taken on the tall one): both within 1% of the optimal error', () => {
    const s = Array.from({ length: 150 }, (_, i) => Math.pow(0.96, i));
    for (const [m, n] of [[180, 420], [420, 180]] as [number, number][]) {
      const A = withSpectrum(m, n, s, 5);
      const r = randomizedSvd(A, 15, { oversample: 10, powerIterations: 4, seed: 3 });
      expect(r.U.rows).toBe(m);
      expect(r.V.rows).toBe(n);
      expect(orthError(r.U)).toBeLessThan(1e-12);
      expect(orthError(r.V)).toBeLessThan(1e-12);
      const R = matmulT(scaleCols(r.U, r.s), r.V);
      let e = 0;
      for (let i = 0; i < A.data.length; i++) e += (A.data[i]! - R.data[i]!) ** 2;
      expect(Math.sqrt(e / frobeniusNormSq(A))).toBeLessThan(1.01 * relativeErrors(s)[15]!);
      for (let i = 0; i < 15; i++) expect(Math.abs(r.s[i]! - s[i]!)).toBeLessThan(1e-3 * s[0]!);
    }
  });
  it('exact on an exactly low-rank matrix', () => {
    const A = withSpectrum(120, 90, [4, 3, 2, 1], 2);
    const r = randomizedSvd(A, 4, { powerIterations: 1 });
    [4, 3, 2, 1].forEach((v, i) => expect(r.s[i]!).toBeCloseTo(v, 12));
  });
});

describe('spectrum helpers', () => {
  const s = [4, 2, 1];
  it('relativeErrors and cumulativeEnergy', () => {
    const e = relativeErrors(s);
    expect(Array.from(e)).toEqual([1, Math.sqrt(5 / 21), Math.sqrt(1 / 21), 0]);
    expect(Array.from(cumulativeEnergy(s))).toEqual([0, 16 / 21, 20 / 21, 1]);
    // truncated SVD: the caller passes ||A||_F² = 25, the unknown part is 4
    const et = relativeErrors(s, 25);
    expect(et[3]).toBeCloseTo(Math.sqrt(4 / 25), 15);
    expect(et[1]).toBeCloseTo(Math.sqrt(9 / 25), 15);
    expect(cumulativeEnergy(s, 25)[3]).toBeCloseTo(21 / 25, 15);
  });
  it('a total that differs from sum s_i² only by rounding is a complete spectrum (no sqrt(eps) tail)', () => {
    const sv = Array.from({ length: 36 }, (_, i) => 0.6 ** i);
    const sum = sv.reduce((a, v) => a + v * v, 0);
    const e = relativeErrors(sv, sum * (1 + 4e-16));
    expect(e[36]).toBe(0);
    expect(Math.abs(e[35]! - sv[35]! / Math.sqrt(sum))).toBeLessThan(1e-12 * e[35]!);
    // a real unknown tail (1e-10 of the energy) is kept
    const t = relativeErrors(sv, sum * (1 + 1e-10));
    expect(Math.abs(t[36]! - Math.sqrt(1e-10 / (1 + 1e-10)))).toBeLessThan(1e-6 * 1e-5); // the difference itself is known to ~eps/1e-10
  });
  it('matches the actual error of the rank-k truncation', () => {
    const A = gaussian(30, 12, 3);
    const r = svd(A);
    const e = relativeErrors(r.s, frobeniusNormSq(A));
    for (const k of [0, 3, 12]) {
      const Ak = k === 0 ? new Matrix(30, 12) : matmulT(scaleCols(r.U.block(0, 30, 0, k), r.s), r.V.block(0, 12, 0, k));
      let d = 0;
      for (let i = 0; i < A.data.length; i++) d += (A.data[i]! - Ak.data[i]!) ** 2;
      expect(e[k]).toBeCloseTo(Math.sqrt(d / frobeniusNormSq(A)), 12);
    }
  });
  it('an empty spectrum', () => {
    expect(Array.from(relativeErrors([]))).toEqual([0]);
  });
  it('seededRandom is reproducible and roughly standard normal', () => {
    const a = seededRandom(123), b = seededRandom(123);
    const xs = Array.from({ length: 20000 }, () => a.gaussian());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.gaussian()));
    const mean = xs.reduce((p, x) => p + x, 0) / xs.length;
    const v = xs.reduce((p, x) => p + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
    const u = seededRandom(1).next();
    expect(u >= 0 && u < 1).toBe(true);
  });
  it('fillGaussian (the randomized SVD\'s sketch): reproducible by seed, standard normal moments and tails', () => {
    const n = 200001; // odd: the last pair's second value is dropped
    const xs = new Float64Array(n), ys = new Float64Array(n), zs = new Float64Array(n);
    seededRandom(9).fillGaussian(xs);
    seededRandom(9).fillGaussian(ys);
    seededRandom(10).fillGaussian(zs);
    expect(Buffer.compare(Buffer.from(xs.buffer), Buffer.from(ys.buffer))).toBe(0);
    expect(xs[0]).not.toBe(zs[0]);
    let m1 = 0, m2 = 0, m4 = 0, beyond2 = 0;
    for (const x of xs) { m1 += x; m2 += x * x; m4 += x ** 4; if (Math.abs(x) > 2) beyond2++; }
    m1 /= n; m2 /= n; m4 /= n;
    // standard errors at n = 2e5: mean 0.0022, variance 0.0032, 4th moment ~0.022
    expect(Math.abs(m1)).toBeLessThan(0.01);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.015);
    expect(Math.abs(m4 - 3)).toBeLessThan(0.1);
    // P(|x| > 2) = 0.0455 for N(0, 1)
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.003);
  });
});

export { matmul };
