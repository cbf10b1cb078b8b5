import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { icp, IcpError, pointToPoint } from '../../../src/core/points/icp.js';
import { procrustes } from '../../../src/core/points/procrustes.js';
import { estimateNormals } from '../../../src/core/points/normals.js';
import { transformRowsInPlace } from '../../../src/core/points/rigid.js';
import { applyTransform, angle2D, axisAngle, decompose, homogeneous, quatToMatrix, rotation2D, rotationAngleBetween, matrixToQuat, invertTransform, compose } from '../../../src/core/points/rigid.js';
import { xSinCurve } from '../../../src/core/points/ops.js';
import { parsePoints, parseConf } from '../../../src/core/points/parse.js';
import { hasShared, shared, sharedMissingMessage } from '../../helpers.js';
import { wavySurface } from './surfaces.js';

describe('rigid helpers', () => {
  it('quaternions (scalar last) round-trip and match axis-angle', () => {
    const R = axisAngle([1, 2, 3], 40);
    const q = matrixToQuat(R);
    expect(rotationAngleBetween(quatToMatrix(...q), R)).toBeLessThan(1e-6);
    expect(rotationAngleBetween(R, Matrix.identity(3))).toBeCloseTo(40, 9);
    // 90° about z maps x to y
    const Z = quatToMatrix(0, 0, Math.SQRT1_2, Math.SQRT1_2);
    expect(Z.get(1, 0)).toBeCloseTo(1, 12);
  });
  it('transformRowsInPlace over ranges (what each thread does in an ICP update) equals applyTransform to the last bit', () => {
    const rng = seededRandom(5);
    for (const d of [2, 3]) {
      const P = new Matrix(1001, d);
      for (let i = 0; i < P.data.length; i++) P.data[i] = rng.next() * 200 - 100;
      const T = d === 3 ? homogeneous(axisAngle([1, 2, 3], 33), [0.1, -2, 5]) : homogeneous(rotation2D(33), [0.1, -2]);
      const want = applyTransform(T, P);
      const got = P.data.slice();
      for (const [a, b] of [[0, 400], [400, 401], [401, 1001]] as const) transformRowsInPlace(T.data, d, got, a, b);
      expect(Array.from(got)).toEqual(Array.from(want.data));
    }
  });
  it('invertTransform undoes a similarity', () => {
    const T = homogeneous(axisAngle([0, 1, 1], 25), [1, -2, 3], 1.7);
    const I = compose(invertTransform(T), T);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(I.get(i, j)).toBeCloseTo(i === j ? 1 : 0, 12);
  });
});

describe('procrustes (core)', () => {
  it('weights: a zero-weight outlier does not change the fit', () => {
    const X = Matrix.from2D([[0, 0], [1, 0], [0, 2], [3, 1], [5, 5]]);
    const Y = applyTransform(homogeneous(rotation2D(20), [1, 2]), X);
    Y.data[8]! += 100; // corrupt the last target point
    const r = procrustes(X, Y, { weights: [1, 1, 1, 1, 0] });
    expect(angle2D(r.R)).toBeCloseTo(20, 10);
    expect(Array.from(r.t)).toEqual([expect.closeTo(1, 10), expect.closeTo(2, 10)]);
    const bad = procrustes(X, Y);
    expect(Math.abs(angle2D(bad.R) - 20)).toBeGreaterThan(1);
  });
  it('works in 5-D', () => {
    const rng = seededRandom(3);
    const X = new Matrix(40, 5);
    for (let i = 0; i < 200; i++) X.data[i] = rng.gaussian();
    // an orthogonal 5x5 with det +1 from the polar factor of a random matrix via procrustes itself is circular; use a product of plane rotations
    const R = Matrix.identity(5);
    const rot = (a: number, b: number, deg: number) => {
      const G = Matrix.identity(5), c = Math.cos(deg * Math.PI / 180), s = Math.sin(deg * Math.PI / 180);
      G.set(a, a, c); G.set(b, b, c); G.set(a, b, -s); G.set(b, a, s);
      return compose(G, R);
    };
    const R2 = rot(0, 3, 30);
    const Y = applyTransform(homogeneous(R2, [1, 2, 3, 4, 5]), X);
    const r = procrustes(X, Y);
    for (let i = 0; i < 25; i++) expect(r.R.data[i]).toBeCloseTo(R2.data[i]!, 10);
    expect(r.rmse).toBeLessThan(1e-12);
  });
});

describe('icp (core)', () => {
  it("seed curve: 31 points rotated 90° and moved (−2, 5) onto 30 → about −89.4°, converged", () => {
    const target = xSinCurve(30, 0, 29, 0.2, 0.5);
    const source = applyTransform(homogeneous(rotation2D(90), [-2, 5]), xSinCurve(31, 0, 30, 0.2, 0.5));
    const r = icp(source, target, { criteria: { maxIterations: 100 } });
    expect(r.converged).toBe(true);
    const { R, t } = decompose(r.transform);
    expect(angle2D(R)).toBeGreaterThan(-89.6);
    expect(angle2D(R)).toBeLessThan(-89.2);
    // the exact inverse would be −90° and t = R(−90°)·(2, −5) = (−5, −2)
    expect(t[0]).toBeCloseTo(-5, 0);
    expect(t[1]).toBeCloseTo(-2, 0);
    // RMSE decreases to a plateau; history holds init + one transform per iteration
    expect(r.rmseHistory[0]!).toBeGreaterThan(20);
    expect(r.inlierRmse).toBeLessThan(0.5);
    expect(r.history!.length).toBe(r.iterations + 1);
    expect(r.rmseHistory.length).toBe(r.iterations + 1);
  });
  it('stops at maxIterations with converged false (never a silent cap)', () => {
    const target = xSinCurve(30, 0, 29, 0.2, 0.5);
    const source = applyTransform(homogeneous(rotation2D(90), [-2, 5]), xSinCurve(31, 0, 30, 0.2, 0.5));
    const r = icp(source, target, { criteria: { maxIterations: 3 } });
    expect(r.iterations).toBe(3);
    expect(r.converged).toBe(false);
  });
  it('recovers an exact 3-D rigid motion; point-to-plane with PCA normals too; trimming and kernels accepted', () => {
    const P = wavySurface(1500, 11);
    const G = homogeneous(axisAngle([0.3, 1, 0.2], 8), [0.05, -0.03, 0.02]);
    const S = applyTransform(invertTransform(G), P); // source = target moved away; ICP should find G
    for (const opts of [{}, { estimation: 'point-to-plane' as const }, { trim: 0.9 }, { kernel: { type: 'huber' as const, scale: 0.05 } }]) {
      const r = icp(S, P, { ...opts, criteria: { maxIterations: 60, relativeRmse: 1e-10, relativeFitness: 1e-10 } });
      const { R, t } = decompose(r.transform);
      expect(rotationAngleBetween(R, decompose(G).R)).toBeLessThan(0.05);
      expect(Math.hypot(t[0]! - 0.05, t[1]! + 0.03, t[2]! - 0.02)).toBeLessThan(2e-3);
    }
  });
  it('point-to-plane estimates normals only for the target points it matches: the same result, to the last bit, as with every normal given', () => {
    const P = wavySurface(4000, 12);
    // the source covers only the half x < 0 of the target: the other half is never matched
    const half = Matrix.from2D(Array.from({ length: 4000 }, (_, i) => [P.get(i, 0), P.get(i, 1), P.get(i, 2)]).filter((p) => p[0]! < -0.05));
    const G = homogeneous(axisAngle([0.3, 1, 0.2], 6), [0.04, -0.03, 0.02]);
    const S = applyTransform(invertTransform(G), half);
    const all = estimateNormals(P, { k: 30 });
    const opts = { estimation: 'point-to-plane' as const, maxCorrespondenceDistance: 0.1 };
    const lazy = icp(S, P, opts), given = icp(S, P, { ...opts, targetNormals: all });
    expect(Array.from(lazy.transform.data)).toEqual(Array.from(given.transform.data));
    expect(lazy.rmseHistory).toEqual(given.rmseHistory);
    expect(lazy.iterations).toBeGreaterThan(2);
    expect(rotationAngleBetween(decompose(lazy.transform).R, decompose(G).R)).toBeLessThan(0.01);
    // the normals it estimated are estimateNormals' own; far from the source's half none was estimated
    let estimated = 0, skipped = 0;
    for (let i = 0; i < P.rows; i++) {
      const row = [0, 1, 2].map((j) => lazy.targetNormals!.get(i, j));
      if (row.some((v) => v !== 0)) { estimated++; expect(row).toEqual([0, 1, 2].map((j) => all.get(i, j))); }
      else { skipped++; expect(P.get(i, 0)).toBeGreaterThan(-0.2); }
    }
    expect(estimated).toBeGreaterThan(1200);
    expect(skipped).toBeGreaterThan(1500);
  });
  it('PCA normals of a plane are its normal', () => {
    const rng = seededRandom(2);
    const P = new Matrix(400, 3);
    for (let i = 0; i < 400; i++) { const a = rng.next(), b = rng.next(); P.data.set([a, b, 0.5 * a - 0.25 * b + 1], i * 3); }
    const N = estimateNormals(P, { k: 10, viewpoint: [0, 0, 10] });
    const n = [-0.5, 0.25, 1].map((v) => v / Math.hypot(0.5, 0.25, 1));
    for (let i = 0; i < 400; i++) expect(N.get(i, 0) * n[0]! + N.get(i, 1) * n[1]! + N.get(i, 2) * n[2]!).toBeCloseTo(1, 8);
  });
  it('no correspondence within the distance is an error, not an empty result', () => {
    const A = Matrix.from2D([[0, 0], [1, 0], [0, 1]]);
    const B = Matrix.from2D([[10, 10], [11, 10], [10, 11]]);
    expect(() => icp(A, B, { maxCorrespondenceDistance: 1 })).toThrow(IcpError);
    expect(() => icp(A, B, { maxCorrespondenceDistance: 1 })).toThrow('no source points have a target point within maxCorrespondenceDistance 1 (need at least 3)');
  });
  it('the estimation strategy is swappable', () => {
    const calls: number[] = [];
    const base = pointToPoint();
    const spy = { ...base, name: 'spy', estimate: (...a: Parameters<typeof base.estimate>) => { calls.push(a[3].count); return base.estimate(...a); } };
    const target = xSinCurve(30, 0, 29, 0.2, 0.5);
    const r = icp(applyTransform(homogeneous(rotation2D(10), [0.5, 0]), target), target, { estimation: spy });
    expect(r.estimation).toBe('spy');
    expect(calls.length).toBe(r.iterations);
    expect(calls[0]).toBe(30);
  });

  describe.skipIf(!hasShared)('Stanford bunny bun045 → bun000 (shared data)', () => {
    it('point-to-plane from the identity, 5 mm: rotation error < 0.1° against bun.conf', () => {
      const src = parsePoints(readFileSync(shared('pointclouds/bun045.ply')), { file: 'bun045.ply' }).points;
      const tgt = parsePoints(readFileSync(shared('pointclouds/bun000.ply')), { file: 'bun000.ply' }).points;
      const pose = parseConf(readFileSync(shared('pointclouds/bun.conf'), 'utf8')).get('bun045.ply')!;
      // p_world = Rᵀ p + t, R from (qx, qy, qz, qw) as written; bun000 has the identity pose
      const gt = homogeneous(quatToMatrix(...pose.q).transpose(), pose.t);
      // the test subsamples the source (every 4th point) to stay fast; the benchmark runs full resolution
      const sub = new Matrix(Math.ceil(src.rows / 4), 3);
      for (let i = 0; i < sub.rows; i++) sub.data.set(src.row(i * 4), i * 3);
      const r = icp(sub, tgt, { estimation: 'point-to-plane', maxCorrespondenceDistance: 0.005 });
      const { R, t } = decompose(r.transform);
      const g = decompose(gt);
      expect(rotationAngleBetween(R, g.R)).toBeLessThan(0.1);
      expect(Math.hypot(t[0]! - g.t[0]!, t[1]! - g.t[1]!, t[2]! - g.t[2]!)).toBeLessThan(1e-3);
      expect(r.converged).toBe(true);
      expect(r.fitness).toBeGreaterThan(0.9);
      expect(rotationAngleBetween(decompose(gt).R, Matrix.identity(3))).toBeCloseTo(34.28, 1);
    }, 20000);
  });
  if (!hasShared) it.skip(sharedMissingMessage('pointclouds'), () => undefined);
});
