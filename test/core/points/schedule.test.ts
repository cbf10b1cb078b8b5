import { describe, it, expect } from 'vitest';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { cloudScale, defaultSchedule, runSchedule } from '../../../src/core/points/schedule.js';
import { icp } from '../../../src/core/points/icp.js';
import { applyTransform, axisAngle, decompose, homogeneous, invertTransform, rotationAngleBetween } from '../../../src/core/points/rigid.js';

/** A 41 x 41 grid with spacing 0.05 on a wavy surface z = f(x, y). */
function surface(): Matrix {
  const P = new Matrix(41 * 41, 3);
  for (let i = 0; i < 41; i++) for (let j = 0; j < 41; j++) {
    const x = -1 + 0.05 * i, y = -1 + 0.05 * j;
    P.data.set([x, y, 0.3 * Math.sin(3 * x) * Math.cos(2 * y) + 0.2 * x * y], 3 * (41 * i + j));
  }
  return P;
}

describe('cloudScale and defaultSchedule', () => {
  it('extent is the bounding-box diagonal, spacing the median nearest-neighbour distance', () => {
    const P = new Matrix(11 * 11, 2);
    for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) P.data.set([0.1 * i, 0.3 * j], 2 * (11 * i + j));
    const s = cloudScale(P);
    expect(s.extent).toBeCloseTo(Math.hypot(1, 3), 12);
    expect(s.spacing).toBeCloseTo(0.1, 12);
  });
  it('levels: voxel extent/40 and /80 then full resolution; distances shrink; after a global voxel v: 1.5 v, 0.75 v, 0.5 v', () => {
    const l = defaultSchedule({ extent: 4, spacing: 0.01 });
    expect(l.map((x) => x.voxel)).toEqual([0.1, 0.05, null]);
    expect(l.map((x) => x.maxCorrespondenceDistance)).toEqual([0.2, 0.1, 0.04]);
    expect(l.every((x) => x.maxIterations === 30)).toBe(true);
    const g = defaultSchedule({ extent: 0.25, spacing: 0.0005 }, { globalVoxel: 0.005 });
    expect(g.map((x) => x.voxel)).toEqual([0.005, 0.0025, null]);
    expect(g.map((x) => x.maxCorrespondenceDistance)).toEqual([0.0075, 0.00375, 0.0025]);
    // the last level after a global voxel v: 0.5 v, but not below 3 x the spacing nor above 0.75 v
    expect(defaultSchedule({ extent: 0.1, spacing: 0.0005 }, { globalVoxel: 0.005 })[2]!.maxCorrespondenceDistance).toBe(0.0025);
    expect(defaultSchedule({ extent: 0.25, spacing: 0.001 }, { globalVoxel: 0.005 })[2]!.maxCorrespondenceDistance).toBeCloseTo(0.003, 15);
    expect(defaultSchedule({ extent: 0.25, spacing: 0.002 }, { globalVoxel: 0.005 })[2]!.maxCorrespondenceDistance).toBe(0.00375);
    // sparse clouds: no downsampling below 1.5 x the spacing, no distance below 3 x the spacing
    const sparse = defaultSchedule({ extent: 4, spacing: 0.2 });
    expect(sparse.map((x) => x.voxel)).toEqual([null, null, null]);
    expect(sparse.every((x) => Math.abs(x.maxCorrespondenceDistance - 0.6) < 1e-12)).toBe(true);
  });
});

describe('runSchedule', () => {
  const P = surface();
  const G = homogeneous(axisAngle([0.3, 1, 0.2], 25), [0.25, -0.2, 0.1]);
  const S = applyTransform(invertTransform(G), P);
  it('coarse-to-fine: point-to-point with 3 x 30 iterations gets close where one fine level with 90 stalls; each level starts from the previous result', () => {
    const fine = icp(S, P, { maxCorrespondenceDistance: 0.06, criteria: { maxIterations: 90 } });
    expect(rotationAngleBetween(decompose(fine.transform).R, decompose(G).R)).toBeGreaterThan(10); // measured 18°
    const levels = [
      { voxel: 0.2, maxCorrespondenceDistance: 0.8, maxIterations: 30 },
      { voxel: 0.1, maxCorrespondenceDistance: 0.2, maxIterations: 30 },
      { voxel: null, maxCorrespondenceDistance: 0.06, maxIterations: 30 },
    ];
    const r = runSchedule(S, P, levels, { criteria: { relativeRmse: 1e-10, relativeFitness: 1e-10 } });
    // point-to-point on a regular grid locks onto the grid about 1.3° off; point-to-plane is exact
    expect(rotationAngleBetween(decompose(r.transform).R, decompose(G).R)).toBeLessThan(1.5);
    expect(r.fitness).toBe(1);
    const pl = runSchedule(S, P, levels, { estimation: 'point-to-plane' });
    expect(rotationAngleBetween(decompose(pl.transform).R, decompose(G).R)).toBeLessThan(1e-4);
    expect(r.levels.map((l) => l.sourcePoints)).toEqual([r.levels[0]!.sourcePoints, r.levels[1]!.sourcePoints, 41 * 41]);
    expect(r.levels[0]!.sourcePoints).toBeLessThan(r.levels[1]!.sourcePoints);
    expect(r.levels[1]!.sourcePoints).toBeLessThan(41 * 41);
    // one curve across levels: level k starts (its entry 0) with the transform level k − 1 ended with
    expect(r.levelStarts.length).toBe(3);
    expect(r.rmseHistory.length).toBe(r.history.length);
    for (let k = 1; k < 3; k++) {
      const endPrev = r.history[r.levelStarts[k]! - 1]!, startK = r.history[r.levelStarts[k]!]!;
      expect(Array.from(startK.data)).toEqual(Array.from(endPrev.data));
    }
    expect(r.iterations).toBe(r.levels.reduce((s, l) => s + l.iterations, 0));
    expect(r.fitness).toBe(r.levels[2]!.fitness);
  });
  it('the default schedule from the identity reaches the motion too (point-to-plane, normals per downsampled level)', () => {
    const r = runSchedule(S, P, defaultSchedule(cloudScale(P)), { estimation: 'point-to-plane' });
    expect(rotationAngleBetween(decompose(r.transform).R, decompose(G).R)).toBeLessThan(1e-3);
    expect(r.estimation).toBe('point-to-plane');
  });
  it('an empty schedule is an error', () => {
    expect(() => runSchedule(S, P, [])).toThrow('the ICP schedule has no levels');
  });
});

describe('voxelDown', () => {
  it('one mean per occupied voxel, in order of first occurrence, normals averaged: as a plain per-voxel grouping (2-D and 3-D, a strided view)', async () => {
    const { voxelDown } = await import('../../../src/core/points/ops.js');
    const rng = seededRandom(91);
    for (const d of [2, 3]) for (const size of [0.05, 0.3, 7]) {
      const n = 3000;
      // a strided view: every row has one extra column that is not part of the points
      const wide = new Matrix(n, d + 1);
      for (let i = 0; i < wide.data.length; i++) wide.data[i] = 4 * rng.next() - 3;
      const P = new Matrix(n, d, wide.data, 0, d + 1);
      const N = new Matrix(n, d);
      for (let i = 0; i < N.data.length; i++) N.data[i] = rng.next() - 0.5;
      const got = voxelDown({ points: P, normals: N }, size);
      // the grouping by integer cell coordinates (string keys), sums in point order
      const lo = Array.from({ length: d }, (_, j) => Math.min(...Array.from({ length: n }, (_, i) => P.get(i, j))));
      const cells = new Map<string, { p: number[]; q: number[]; c: number }>();
      for (let i = 0; i < n; i++) {
        const key = Array.from({ length: d }, (_, j) => Math.floor((P.get(i, j) - lo[j]!) / size)).join(',');
        const e = cells.get(key) ?? { p: new Array(d).fill(0), q: new Array(d).fill(0), c: 0 };
        for (let j = 0; j < d; j++) { e.p[j] += P.get(i, j); e.q[j] += N.get(i, j); }
        e.c++;
        cells.set(key, e);
      }
      const want = [...cells.values()];
      expect(got.points.rows).toBe(want.length);
      for (const [k, e] of want.entries()) {
        const len = Math.sqrt(e.q.reduce((a, x) => a + x * x, 0)) || 1;
        for (let j = 0; j < d; j++) {
          expect(got.points.get(k, j)).toBe(e.p[j]! / e.c);
          expect(got.normals!.get(k, j)).toBe(e.q[j]! / len);
        }
      }
      if (size === 0.05) expect(want.length).toBeGreaterThan(1000);
    }
  });
});
