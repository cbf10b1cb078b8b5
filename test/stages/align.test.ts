import { describe, it, expect } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { align } from '../../src/stages/align.js';
import { transform } from '../../src/stages/transform.js';
import { loadPoints } from '../../src/stages/load-points.js';
import { generatePoints } from '../../src/stages/generate-points.js';
import { Matrix } from '../../src/core/linalg/matrix.js';
import { angle2D, determinant } from '../../src/core/points/rigid.js';
import type { PointCloud } from '../../src/core/ports.js';
import { ROOT } from '../helpers.js';

const cloud = (name: string, rows: number[][]): PointCloud => ({ kind: 'PointCloud', name, points: Matrix.from2D(rows) });
const seed = () => lastValueFrom(loadPoints({ path: 'data/point_cloud.txt' }, { ctx: { baseDir: ROOT } }));
const rad = (d: number) => (d * Math.PI) / 180;

describe('align (procrustes)', () => {
  it("recovers the seed's 34° rotation and shift to 1e-10", async () => {
    const original = await seed();
    const moved = await lastValueFrom(of(original).pipe(transform({ ops: [{ op: 'translate', by: [0, -1] }, { op: 'rotate', degrees: 34 }, { op: 'translate', by: [0, 1] }] })));
    const a = await lastValueFrom(of(moved).pipe(align({ method: 'procrustes' }, { sides: { target: original } })));
    // moved → original is the inverse: R(−34°), t = (0, 1) − R(−34°)·(0, 1) = (−sin 34°, 1 − cos 34°)
    expect(angle2D(a.rotation)).toBeCloseTo(-34, 10);
    expect(a.translation[0]).toBeCloseTo(-Math.sin(rad(34)), 10);
    expect(a.translation[1]).toBeCloseTo(1 - Math.cos(rad(34)), 10);
    expect(a.scale).toBeCloseTo(1, 12);
    expect(a.reflection).toBe(false);
    expect(a.inlierRmse).toBeLessThan(1e-10);
    for (let i = 0; i < 70; i++) for (let j = 0; j < 2; j++) expect(a.aligned.points.get(i, j)).toBeCloseTo(original.points.get(i, j), 10);
    // and the other way round: the forward rotation
    const b = await lastValueFrom(of(original).pipe(align({ method: 'procrustes' }, { sides: { target: moved } })));
    expect(angle2D(b.rotation)).toBeCloseTo(34, 10);
    expect(b.transform.to2D()[2]).toEqual([0, 0, 1]);
  });
  it('on a mirrored input gives the best proper rotation (det +1), or the reflection with allowReflection', async () => {
    const original = await seed();
    const mirrored = await lastValueFrom(of(original).pipe(transform({ ops: [{ op: 'mirror', axis: 0 }, { op: 'rotate', degrees: 20 }] })));
    const proper = await lastValueFrom(of(mirrored).pipe(align({ method: 'procrustes' }, { sides: { target: original } })));
    expect(determinant(proper.rotation)).toBeCloseTo(1, 12);
    expect(proper.reflection).toBe(false);
    expect(proper.inlierRmse).toBeGreaterThan(0.05); // a rotation cannot undo a mirror
    const refl = await lastValueFrom(of(mirrored).pipe(align({ method: 'procrustes', allowReflection: true }, { sides: { target: original } })));
    expect(determinant(refl.rotation)).toBeCloseTo(-1, 12);
    expect(refl.reflection).toBe(true);
    expect(refl.inlierRmse).toBeLessThan(1e-10);
    // the reflection found is exactly (rotate 20° after mirror x)⁻¹ = mirror x · R(−20°)
    const c = Math.cos(rad(20)), s = Math.sin(rad(20));
    const expected = [[-c, -s], [-s, c]];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(refl.rotation.get(i, j)).toBeCloseTo(expected[i]![j]!, 10);
  });
  it('scaling (Umeyama) recovers a known scale; without it the scale is 1', async () => {
    const original = await seed();
    const grown = await lastValueFrom(of(original).pipe(transform({ ops: [{ op: 'scale', factor: 2.5 }, { op: 'rotate', degrees: -50 }, { op: 'translate', by: [3, 1] }] })));
    const a = await lastValueFrom(of(original).pipe(align({ method: 'procrustes', scaling: true }, { sides: { target: grown } })));
    expect(a.scale).toBeCloseTo(2.5, 10);
    expect(angle2D(a.rotation)).toBeCloseTo(-50, 10);
    expect(Array.from(a.translation)).toEqual([expect.closeTo(3, 10), expect.closeTo(1, 10)]);
    const b = await lastValueFrom(of(original).pipe(align({ method: 'procrustes' }, { sides: { target: grown } })));
    expect(b.scale).toBe(1);
    expect(b.inlierRmse).toBeGreaterThan(0.01);
  });
  it('translation: false fits about the origin', async () => {
    const src = cloud('s', [[1, 0], [0, 1], [1, 1], [2, 3]]);
    const tgt = await lastValueFrom(of(src).pipe(transform({ ops: [{ op: 'rotate', degrees: 30 }, { op: 'translate', by: [5, 5] }] })));
    const a = await lastValueFrom(of(src).pipe(align({ method: 'procrustes', translation: false }, { sides: { target: tgt } })));
    expect(Array.from(a.translation)).toEqual([0, 0]);
    expect(a.inlierRmse).toBeGreaterThan(1);
  });
});

describe('align (procrustes): what it does not invent, what it warns about (#18 item 1, #13 item 9)', () => {
  it('no fitness, no iterations, no convergence for a closed-form fit of given pairs; confident without warnings', async () => {
    const original = await seed();
    const moved = await lastValueFrom(of(original).pipe(transform({ ops: [{ op: 'rotate', degrees: 34 }] })));
    const a = await lastValueFrom(of(moved).pipe(align({ method: 'procrustes' }, { sides: { target: original } })));
    expect(a.fitness).toBeNull();
    expect(a.iterations).toBe(0);
    expect(a.converged).toBeNull();
    expect(a.stop).toBeNull();
    expect(a.confident).toBe(true);
    expect(a.warnings).toEqual([]);
    expect(a.procrustes!.relativeRmse).toBeLessThan(1e-10);
  });
  it('shuffled rows: the rotation is wrong and the result says so (warning, not confident)', async () => {
    const original = await seed();
    const moved = await lastValueFrom(of(original).pipe(transform({ ops: [{ op: 'rotate', degrees: 20 }] })));
    const n = moved.points.rows;
    const shuffled = cloud('shuffled', Array.from({ length: n }, (_, i) => Array.from(moved.points.row((i * 37) % n))));
    const a = await lastValueFrom(of(shuffled).pipe(align({ method: 'procrustes' }, { sides: { target: original } })));
    expect(a.confident).toBe(false);
    expect(a.warnings.join(' ')).toMatch(/not the same point as row i of the target \(shuffled or unmatched\); use method: icp/);
  });
});

describe('align (icp)', () => {
  it('seed curve from 90°: about −89.4°, converged, per-iteration RMSE and transforms', async () => {
    const target = await lastValueFrom(generatePoints({ shape: 'curve', n: 30, from: 0, to: 29 }));
    const source = await lastValueFrom(generatePoints({ shape: 'curve', n: 31, from: 0, to: 30 }).pipe(transform({ ops: [{ op: 'rotate', degrees: 90 }, { op: 'translate', by: [-2, 5] }] })));
    const a = await lastValueFrom(of(source).pipe(align({ method: 'icp', criteria: { maxIterations: 100 } }, { sides: { target } })));
    expect(a.converged).toBe(true);
    expect(angle2D(a.rotation)).toBeGreaterThan(-89.6);
    expect(angle2D(a.rotation)).toBeLessThan(-89.2);
    expect(a.fitness).toBe(1);
    expect(a.iterations).toBeGreaterThan(5);
    expect(a.rmseHistory.length).toBe(a.iterations + 1);
    expect(a.history!.length).toBe(a.iterations + 1);
    expect(a.rmseHistory[a.iterations]).toBe(a.inlierRmse);
    expect(a.method).toBe('icp (point-to-point)');
  });
  it('an init transform is applied first and included in the result', async () => {
    const target = await lastValueFrom(generatePoints({ shape: 'curve', n: 30, from: 0, to: 29 }));
    const source = await lastValueFrom(of(target).pipe(transform({ ops: [{ op: 'translate', by: [0, 40] }] })));
    const far = of(source).pipe(align({ method: 'icp', maxCorrespondenceDistance: 1 }, { sides: { target } }));
    await expect(lastValueFrom(far)).rejects.toThrow('no source points have a target point within maxCorrespondenceDistance 1');
    const a = await lastValueFrom(of(source).pipe(align({ method: 'icp', maxCorrespondenceDistance: 1, init: [[1, 0, 0], [0, 1, -40], [0, 0, 1]] }, { sides: { target } })));
    expect(a.translation[1]).toBeCloseTo(-40, 10);
    expect(a.inlierRmse).toBeLessThan(1e-10);
  });
});

describe('align: clear errors', () => {
  const tri = cloud('tri', [[0, 0], [1, 0], [0, 1]]);
  it('fewer than d + 1 points', async () => {
    await expect(lastValueFrom(of(cloud('two', [[0, 0], [1, 1]])).pipe(align({ method: 'procrustes' }, { sides: { target: tri } })))).rejects.toThrow("'two' has 2 points; a 2-D alignment needs at least 3");
  });
  it('mismatched dimensions', async () => {
    const p3 = cloud('p3', [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    await expect(lastValueFrom(of(p3).pipe(align({ method: 'icp' }, { sides: { target: tri } })))).rejects.toThrow("source 'p3' is 3-D but target 'tri' is 2-D");
  });
  it('NaN and Inf coordinates', async () => {
    const bad = cloud('bad', [[0, 0], [1, NaN], [0, 1]]);
    await expect(lastValueFrom(of(bad).pipe(align({ method: 'procrustes' }, { sides: { target: tri } })))).rejects.toThrow("'bad' contains NaN at point 1, col 1");
    const inf = cloud('inf', [[0, 0], [1, 0], [Infinity, 1]]);
    await expect(lastValueFrom(of(tri).pipe(align({ method: 'icp' }, { sides: { target: inf } })))).rejects.toThrow("'inf' contains Infinity at point 2, col 0");
  });
  it('procrustes with unmatched counts points to icp; bad weights and init shapes', async () => {
    const four = cloud('four', [[0, 0], [1, 0], [0, 1], [1, 1]]);
    await expect(lastValueFrom(of(four).pipe(align({ method: 'procrustes' }, { sides: { target: tri } })))).rejects.toThrow(/procrustes needs matched points .* source 'four' has 4 and target 'tri' has 3/);
    try {
      await lastValueFrom(of(four).pipe(align({ method: 'procrustes' }, { sides: { target: tri } })));
    } catch (e) {
      expect((e as { hint: string }).hint).toBe('use method: icp for point sets without known correspondences');
    }
    await expect(lastValueFrom(of(tri).pipe(align({ method: 'procrustes', weights: [1, 2] }, { sides: { target: tri } })))).rejects.toThrow('weights has 2 values for 3 point pairs');
    await expect(lastValueFrom(of(tri).pipe(align({ method: 'icp', init: [[1, 0], [0, 1]] }, { sides: { target: tri } })))).rejects.toThrow('init must be a 3x3 homogeneous matrix for 2-D points, got 2x2');
  });
  it('params are checked: ICP keys under procrustes are unknown, criteria bounds', () => {
    expect(() => align({ method: 'procrustes', maxCorrespondenceDistance: 1 } as never, { sides: { target: tri } })).toThrow(/maxCorrespondenceDistance/);
    expect(() => align({ method: 'icp', criteria: { maxIterations: 0 } }, { sides: { target: tri } })).toThrow(/criteria\.maxIterations/);
    expect(() => align({ method: 'icp', trim: 0 }, { sides: { target: tri } })).toThrow(/trim/);
  });
  it('checks that depend on params only are schema refinements, caught before any data (#18 item 3)', () => {
    expect(() => align({ method: 'procrustes', weights: [0, 0, 0] }, { sides: { target: tri } })).toThrow(/weights are all zero: give at least one positive weight/);
    expect(() => align({ method: 'icp', estimation: 'point-to-plane', scaling: true }, { sides: { target: tri } })).toThrow(/scaling works with point-to-point estimation only/);
    expect(() => align({ method: 'icp', estimation: 'point-to-point', scaling: true }, { sides: { target: tri } })).not.toThrow();
  });
});

describe('align (icp from any pose, #10)', () => {
  const curve = () => lastValueFrom(generatePoints({ shape: 'curve', n: 30, from: 0, to: 29 }));
  it('init global on the 2-D curve turned 180°: the report names the stages, the final one, and is confident', async () => {
    const target = await curve();
    const source = await lastValueFrom(generatePoints({ shape: 'curve', n: 31, from: 0, to: 30 }).pipe(transform({ ops: [{ op: 'rotate', degrees: 180 }, { op: 'translate', by: [-2, 5] }] })));
    const a = await lastValueFrom(of(source).pipe(align({ method: 'icp', init: 'global' }, { sides: { target } })));
    expect(angle2D(a.rotation)).toBeCloseTo(-179.435, 2);
    const d = a;
    expect(d.stages.map((s) => s.stage)).toEqual(['global (rotation search, 12 starts)', 'icp level 1', 'icp level 2', 'icp level 3']);
    expect(d.finalStage).toBe('icp level 3');
    expect(d.confident).toBe(true);
    expect(d.warnings).toEqual([]);
    expect(d.stages[3]!.fitness).toBe(a.fitness);
    expect(d.levelStarts.length).toBe(3);
    expect(a.rmseHistory.length).toBe(a.history!.length);
  });
  it('init centroid and pca; levels given in YAML form', async () => {
    const target = await curve();
    const source = await lastValueFrom(of(target).pipe(transform({ ops: [{ op: 'rotate', degrees: 60, about: 'centroid' }, { op: 'translate', by: [100, -50] }] })));
    const c = await lastValueFrom(of(source).pipe(align({ method: 'icp', init: 'centroid', levels: [{ maxCorrespondenceDistance: 10 }, { maxCorrespondenceDistance: 2, maxIterations: 50 }] }, { sides: { target } })));
    expect(c.stages[0]!.stage).toBe('init (centroid)');
    expect(c.inlierRmse).toBeLessThan(1e-9);
    expect(angle2D(c.rotation)).toBeCloseTo(-60, 8);
    const p = await lastValueFrom(of(source).pipe(align({ method: 'icp', init: 'pca', levels: 'auto' }, { sides: { target } })));
    expect(angle2D(p.rotation)).toBeCloseTo(-60, 8);
  });
  it('unrelated clouds: low fitness, confident false and the reason, not an error', async () => {
    const target = await lastValueFrom(generatePoints({ shape: 'uniform', n: 400, dim: 3, seed: 1 }));
    const rng = (await import('../../src/core/linalg/random.js')).seededRandom(2);
    const ring = new Matrix(400, 3);
    for (let i = 0; i < 400; i++) { const t = (2 * Math.PI * i) / 400; ring.data.set([0.5 + 0.4 * Math.cos(t), 0.5 + 0.4 * Math.sin(t), 0.5 + 0.01 * rng.gaussian()], 3 * i); }
    const a = await lastValueFrom(of<PointCloud>({ kind: 'PointCloud', name: 'ring', points: ring }).pipe(align({ method: 'icp', init: 'global' }, { sides: { target } })));
    expect(a.confident).toBe(false);
    expect(a.fitness).toBeLessThan(0.6);
    expect(a.warnings.join(' ')).toMatch(/low fitness|look random/);
  });
  it('params: a misspelt init gets the choices; a level needs a distance', () => {
    const t = cloud('t', [[0, 0], [1, 0], [0, 1]]);
    expect(() => align({ method: 'icp', init: 'globl' } as never, { sides: { target: t } })).toThrow(/init/);
    expect(() => align({ method: 'icp', levels: [{ voxel: 1 }] } as never, { sides: { target: t } })).toThrow(/levels\[0\]\.maxCorrespondenceDistance/);
    expect(() => align({ method: 'icp', global: { seed: 1, confidence: 1 } }, { sides: { target: t } })).toThrow(/global\.confidence/);
  });
});
