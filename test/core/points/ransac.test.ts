import { describe, it, expect } from 'vitest';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { matchFeatures, ransacRigid, rigidFit3 } from '../../../src/core/points/ransac.js';
import { applyTransform, axisAngle, decompose, homogeneous, rotationAngleBetween } from '../../../src/core/points/rigid.js';

function randomCloud(n: number, seed: number): Matrix {
  const rng = seededRandom(seed), P = new Matrix(n, 3);
  for (let i = 0; i < 3 * n; i++) P.data[i] = rng.next();
  return P;
}

describe('rigidFit3 (Horn)', () => {
  it('recovers an exact rotation and translation from 3 and from many pairs, including 180° turns', () => {
    for (const [axis, deg] of [[[1, 2, 3], 40], [[0, 0, 1], 180], [[1, 0, 0], 179.9], [[1, 1, 0], 0]] as const) {
      const G = homogeneous(axisAngle(axis, deg), [0.3, -2, 1]);
      const S = randomCloud(50, 4), T = applyTransform(G, S);
      const all = Int32Array.from({ length: 50 }, (_, i) => i);
      for (const m of [3, 50]) {
        const H = rigidFit3(S.data, T.data, all, all, m);
        for (let i = 0; i < 16; i++) expect(H.data[i]).toBeCloseTo(G.data[i]!, 9);
      }
    }
  });
});

describe('matchFeatures', () => {
  it('nearest descriptors, with the mutual filter dropping one-way matches', () => {
    const A = Matrix.from2D([[0, 0], [10, 0], [10.4, 0]]);
    const B = Matrix.from2D([[0.1, 0], [10.1, 0]]);
    const m = matchFeatures(A, B, { mutual: true, minMutual: 1 });
    expect(m.mutual).toBe(true);
    expect([...m.src]).toEqual([0, 1]); // 2 → B1 is not mutual (B1's nearest is 1)
    expect([...m.dst]).toEqual([0, 1]);
    const all = matchFeatures(A, B, { mutual: false });
    expect([...all.dst]).toEqual([0, 1, 1]);
    // too few mutual matches: falls back to all one-way matches, and says so
    const few = matchFeatures(A, B, { mutual: true });
    expect(few.mutual).toBe(false);
    expect(few.count).toBe(3);
  });
});

describe('ransacRigid', () => {
  const G = homogeneous(axisAngle([0.2, -1, 0.4], 123), [1, 2, -0.5]);
  const S = randomCloud(400, 9), T = applyTransform(G, S);
  // 400 correspondences, 70% wrong
  const rng = seededRandom(1);
  const src = Int32Array.from({ length: 400 }, (_, i) => i);
  const dst = Int32Array.from({ length: 400 }, (_, i) => (rng.next() < 0.7 ? Math.floor(rng.next() * 400) : i));
  const matches = { src, dst, count: 400, oneWay: 400, mutual: true };
  it('finds the transform among 70% outliers; fitness is measured over every source point', () => {
    const r = ransacRigid(S, T, matches, { maxCorrespondenceDistance: 0.01, seed: 3 });
    expect(rotationAngleBetween(decompose(r.transform).R, decompose(G).R)).toBeLessThan(1e-6);
    expect(r.fitness).toBe(1);
    expect(r.inlierCorrespondences).toBeGreaterThan(100);
    expect(r.inlierCorrespondences).toBeLessThan(160);
    expect(r.converged).toBe(true);
    // confidence 0.999 with w ≈ 0.3: about log(0.001)/log(1 − 0.027) ≈ 250 samples, far below the cap
    expect(r.iterations).toBeLessThan(1000);
  });
  it('is reproducible for a seed', () => {
    const a = ransacRigid(S, T, matches, { maxCorrespondenceDistance: 0.01, seed: 7 });
    const b = ransacRigid(S, T, matches, { maxCorrespondenceDistance: 0.01, seed: 7 });
    expect(Array.from(a.transform.data)).toEqual(Array.from(b.transform.data));
    expect(a.iterations).toBe(b.iterations);
  });
  it('says why it cannot run', () => {
    expect(() => ransacRigid(S, T, { ...matches, count: 2 }, { maxCorrespondenceDistance: 0.01 })).toThrow('RANSAC needs at least 3 feature correspondences, found 2');
    // all correspondences wrong and a tiny distance: nothing passes the checkers
    const bad = { ...matches, dst: Int32Array.from({ length: 400 }, (_, i) => (i * 7 + 13) % 400) };
    expect(() => ransacRigid(S, T, bad, { maxCorrespondenceDistance: 1e-9, maxIterations: 200 })).toThrow(/RANSAC found no sample of 3 correspondences passing the edge-length \(0\.9\) and distance \(1e-9\) checks in 200 tries/);
  });
});
