import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { computeGlobalFeatures } from '../../../src/core/points/global.js';
import { register } from '../../../src/core/points/register.js';
import { icp } from '../../../src/core/points/icp.js';
import { runSchedule } from '../../../src/core/points/schedule.js';
import { xSinCurve } from '../../../src/core/points/ops.js';
import { parsePoints, parseConf } from '../../../src/core/points/parse.js';
import { angle2D, applyTransform, axisAngle, compose, decompose, homogeneous, invertTransform, quatToMatrix, rotation2D, rotationAngleBetween } from '../../../src/core/points/rigid.js';
import { hasShared, shared, sharedMissingMessage } from '../../helpers.js';

/** An asymmetric closed surface (a lumpy ellipsoid with a bump), n random points. */
function blob(n: number, seed: number): Matrix {
  const rng = seededRandom(seed), P = new Matrix(n, 3);
  for (let i = 0; i < n; i++) {
    const u = rng.next() * 2 - 1, th = rng.next() * 2 * Math.PI, s = Math.sqrt(1 - u * u);
    const x = s * Math.cos(th), y = s * Math.sin(th), z = u;
    const r = 1 + 0.25 * Math.sin(3 * x + 1) * Math.cos(2 * y + 0.5) + 0.15 * z * x + 0.6 * Math.exp(-8 * ((x - 0.6) ** 2 + (y - 0.5) ** 2 + (z - 0.6) ** 2));
    P.data.set([2 * r * x, 1.3 * r * y, 0.8 * r * z], 3 * i);
  }
  return P;
}

describe('global registration (3-D, synthetic)', () => {
  const target = blob(500, 1);
  it('aligns a 500-point asymmetric cloud under 20 random rotations (any angle) and translations, every case', () => {
    const errs: number[] = [];
    for (let s = 0; s < 20; s++) {
      const rng = seededRandom(100 + s);
      const G = homogeneous(axisAngle([rng.gaussian(), rng.gaussian(), rng.gaussian()], rng.next() * 360 - 180), [rng.gaussian(), rng.gaussian(), rng.gaussian()]);
      // the same surface points, shuffled, with noise of 0.5% of the size, then moved
      const perm = Array.from({ length: 500 }, (_, i) => (i * 37 + s) % 500); // a permutation: gcd(37, 500) = 1
      const moved = new Matrix(500, 3);
      for (let i = 0; i < 500; i++) for (let j = 0; j < 3; j++) moved.data[3 * i + j] = target.get(perm[i]!, j) + 0.005 * rng.gaussian();
      const source = applyTransform(G, moved);
      const r = register(source, target, { init: 'global', global: { seed: 0 } });
      errs.push(rotationAngleBetween(decompose(r.transform).R, decompose(invertTransform(G)).R));
      expect(r.confident).toBe(true);
      expect(r.stages[0]!.stage).toBe('global (fpfh + ransac)');
      expect(r.finalStage).toBe('icp level 3');
    }
    expect(Math.max(...errs)).toBeLessThan(0.2);
  }, 20000);
  it('is reproducible: the same inputs and seed give the same transform', () => {
    const source = applyTransform(homogeneous(axisAngle([1, 1, 0], 150), [0, 1, 0]), target);
    const a = register(source, target, { init: 'global', global: { seed: 5 } });
    const b = register(source, target, { init: 'global', global: { seed: 5 } });
    expect(Array.from(a.transform.data)).toEqual(Array.from(b.transform.data));
    expect(a.stages[0]!.ransacIterations).toBe(b.stages[0]!.ransacIterations);
  });
  it('ICP level 1 runs on the global stage\'s keypoints (same voxel): the transform, to the last bit, of downsampling both clouds again', () => {
    // dense enough for the first level to downsample (its voxel above 1.5 x the spacing)
    const target = blob(8000, 2), source = applyTransform(homogeneous(axisAngle([0, 1, 1], 120), [0.5, 0, -1]), blob(8000, 7));
    const r = register(source, target, { init: 'global', global: { seed: 0 }, icp: { estimation: 'point-to-plane' } });
    expect(r.schedule[0]!.voxel).toBe(r.stages[0]!.voxel); // the level that reuses them
    // the schedule again from the global transform, every level downsampling for itself
    const again = runSchedule(source, target, r.schedule, { estimation: 'point-to-plane', init: r.history[0]! });
    expect(Array.from(r.transform.data)).toEqual(Array.from(again.transform.data));
    expect(r.rmseHistory).toEqual(again.rmseHistory);
    // and given directly: the keypoints of computeGlobalFeatures are what voxelDown gives
    const v = r.schedule[0]!.voxel!, fs = computeGlobalFeatures(source, { voxel: v }), ft = computeGlobalFeatures(target, { voxel: v });
    const given = runSchedule(source, target, r.schedule, { estimation: 'point-to-plane', init: r.history[0]!, downsampled: { source: fs, target: ft } });
    expect(given.levels[0]!.sourcePoints).toBe(fs.points.rows);
    expect(Array.from(given.transform.data)).toEqual(Array.from(again.transform.data));
  });
  it('two unrelated clouds report low fitness and not confident, with the reason (never a confident wrong answer)', () => {
    const rng = seededRandom(3), sphere = new Matrix(2000, 3);
    for (let i = 0; i < 2000; i++) {
      const g = [rng.gaussian(), rng.gaussian(), rng.gaussian()], l = Math.hypot(...g);
      sphere.data.set(g.map((v) => (1.5 * v) / l), 3 * i);
    }
    const r = register(blob(2000, 4), sphere, { init: 'global', global: { seed: 0 } });
    expect(r.confident).toBe(false);
    expect(r.fitness).toBeLessThan(0.6);
    expect(r.warnings.join('\n')).toMatch(/the matches look random, not a fit|low fitness/);
  });
});

describe('rotation search (2-D)', () => {
  const target = xSinCurve(30, 0, 29, 0.2, 0.5);
  for (const deg of [150, 180, -135]) {
    it(`the seed curve turned by ${deg}° and moved aligns (−${deg}° + 0.565° as for 90°: 31 points against 30)`, () => {
      const source = applyTransform(homogeneous(rotation2D(deg), [-2, 5]), xSinCurve(31, 0, 30, 0.2, 0.5));
      const r = register(source, target, { init: 'global' });
      let a = angle2D(decompose(r.transform).R) + deg;
      a = ((a + 540) % 360) - 180;
      expect(a).toBeCloseTo(0.565, 1);
      expect(r.fitness).toBe(1);
      expect(r.confident).toBe(true);
      expect(r.stages[0]!.stage).toBe('global (rotation search, 12 starts)');
      expect((r.stages[0]!.starts as unknown[]).length).toBe(12);
    });
  }
  it('plain ICP from the identity fails on a curve that the rotation search aligns', () => {
    // a curve that turns back on itself: from 150° plain ICP lands in a local minimum
    const t = new Matrix(60, 2);
    for (let i = 0; i < 60; i++) { const u = (i / 59) * 1.5 * Math.PI; t.data.set([Math.cos(u) * (1 + 0.3 * u), Math.sin(u) * (1 + 0.3 * u)], 2 * i); }
    const source = applyTransform(homogeneous(rotation2D(150), [0.5, 0.2]), t);
    const plain = icp(source, t, { criteria: { maxIterations: 200 } });
    expect(Math.abs(angle2D(decompose(plain.transform).R) + 150)).toBeGreaterThan(5);
    const r = register(source, t, { init: 'global' });
    expect(angle2D(decompose(r.transform).R)).toBeCloseTo(-150, 6);
    expect(r.inlierRmse).toBeLessThan(1e-8);
  });
});

describe.skipIf(!hasShared)('Stanford bunny bun045 → bun000 from any pose (shared data)', () => {
  const load = (f: string) => parsePoints(readFileSync(shared(`pointclouds/${f}`)), { file: f }).points;
  const pose = () => parseConf(readFileSync(shared('pointclouds/bun.conf'), 'utf8')).get('bun045.ply')!;
  it('init global, 5 mm voxel: the identity and 90°/180° turns about each axis all reach < 0.2° against bun.conf', () => {
    const src = load('bun045.ply'), tgt = load('bun000.ply');
    const p = pose();
    const gt = homogeneous(quatToMatrix(...p.q).transpose(), p.t);
    // the target's keypoints and descriptors are computed once and shared by the 7 cases
    const features = computeGlobalFeatures(tgt, { voxel: 0.005 });
    // every 2nd source point keeps the test fast; the pipeline test runs full resolution
    const sub = new Matrix(Math.ceil(src.rows / 2), 3);
    for (let i = 0; i < sub.rows; i++) sub.data.set(src.row(2 * i), 3 * i);
    const cases: [number[], number][] = [[[1, 0, 0], 0], [[1, 0, 0], 90], [[1, 0, 0], 180], [[0, 1, 0], 90], [[0, 1, 0], 180], [[0, 0, 1], 90], [[0, 0, 1], 180]];
    for (const [axis, deg] of cases) {
      const M = homogeneous(axisAngle(axis, deg), [0.02, -0.01, 0.03]);
      const source = applyTransform(M, sub);
      const r = register(source, tgt, { init: 'global', targetFeatures: features, global: { seed: 0 }, icp: { estimation: 'point-to-plane' } });
      const want = compose(gt, invertTransform(M));
      const err = rotationAngleBetween(decompose(r.transform).R, decompose(want).R);
      expect(err, `${deg}° about [${axis}]`).toBeLessThan(0.2);
      expect(r.confident).toBe(true);
      expect(r.fitness).toBeGreaterThan(0.9);
      expect(r.stages.map((s) => s.stage)).toEqual(['global (fpfh + ransac)', 'icp level 1', 'icp level 2', 'icp level 3']);
    }
    expect(rotationAngleBetween(decompose(gt).R, Matrix.identity(3))).toBeCloseTo(34.28, 1);
  }, 30000);
});
if (!hasShared) it.skip(sharedMissingMessage('pointclouds'), () => undefined);
