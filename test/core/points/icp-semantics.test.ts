/**
 * ICP stopping and reporting semantics (issue #13 item 9, issue #19 item 6), on constructed
 * cases: an exact fit is converged, a 2-cycle is detected, iteration 0 has one fitness, and
 * the reported iteration count is the plotted series' last x.
 */
import { describe, expect, it } from 'vitest';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { icp, icpStop, pointToPoint, DEFAULT_CRITERIA, type EstimationStrategy } from '../../../src/core/points/icp.js';
import { register } from '../../../src/core/points/register.js';
import { applyTransform, axisAngle, homogeneous, invertTransform } from '../../../src/core/points/rigid.js';
import { wavySurface as surface } from './surfaces.js';


describe('icpStop: the stopping rule', () => {
  const crit = { ...DEFAULT_CRITERIA };
  it('criteria: both relative changes below the tolerances', () => {
    expect(icpStop([1, 0.5, 0.5 * (1 + 1e-9)], [1, 1, 1], crit, 0)).toBe('criteria');
    expect(icpStop([1, 0.5, 0.4], [1, 1, 1], crit, 0)).toBeUndefined();
    expect(icpStop([1, 0.5, 0.5], [0.9, 0.9, 0.8], crit, 0)).toBeUndefined();
  });
  it('exact: an RMSE at the rounding floor, whatever its last digits do', () => {
    // 6.8e-15 then 3.1e-15: a 54% relative change, but both are rounding
    expect(icpStop([1, 6.8e-15, 3.1e-15], [1, 1, 1], crit, 1e-12)).toBe('exact');
    expect(icpStop([1, 6.8e-15, 3.1e-15], [1, 1, 1], crit, 0)).toBeUndefined();
  });
  it('cycle: RMSE and fitness repeating every second update, twice over', () => {
    const r = [2, 0.31, 0.29, 0.31, 0.29];
    const f = [0.5, 0.8, 0.7, 0.8, 0.7];
    expect(icpStop(r.slice(0, 4), f.slice(0, 4), crit, 0)).toBeUndefined(); // seen once: not yet a cycle
    expect(icpStop(r, f, crit, 0)).toBe('cycle');
    // decreasing towards a limit is not a cycle
    expect(icpStop([2, 0.4, 0.3, 0.25, 0.22], [1, 1, 1, 1, 1], crit, 0)).toBeUndefined();
  });
});

describe('icp: exact fits and 2-cycles are converged', () => {
  it('a rigid copy converges to an exact fit (RMSE ~1e-15) with stop "exact", and register does not say "did not converge"', () => {
    const P = surface(800, 3);
    const G = homogeneous(axisAngle([0.3, 1, 0.2], 6), [0.04, -0.03, 0.02]);
    const S = applyTransform(invertTransform(G), P);
    // tolerances that rounding noise never meets: only the exact-fit rule can stop this run
    const criteria = { maxIterations: 60, relativeRmse: 1e-15, relativeFitness: 1e-15 };
    const r = icp(S, P, { criteria });
    expect(r.inlierRmse).toBeLessThan(1e-12);
    expect(r.converged).toBe(true);
    expect(r.stop).toBe('exact');
    expect(r.iterations).toBeLessThan(60);
    const reg = register(S, P, { single: { maxCorrespondenceDistance: 0.2, maxIterations: 60 }, icp: { criteria } });
    expect(reg.converged).toBe(true);
    expect(reg.warnings.join(' ')).not.toMatch(/did not converge/);
  });

  it('an estimate that goes back and forth stops as a 2-cycle after 3 updates (states 0, 1 repeat as 2, 3) instead of running to maxIterations', () => {
    const P = surface(300, 4);
    let k = 0;
    const base = pointToPoint();
    const flip: EstimationStrategy = {
      ...base, name: 'flip',
      // alternately +0.01 and -0.01 along x: the RMSE takes two values forever
      estimate: () => homogeneous(Matrix.identity(3), [k++ % 2 === 0 ? 0.01 : -0.01, 0, 0]),
    };
    const r = icp(applyTransform(homogeneous(Matrix.identity(3), [0.003, 0, 0]), P), P, { estimation: flip, criteria: { maxIterations: 30 } });
    expect(r.converged).toBe(true);
    expect(r.stop).toBe('cycle');
    expect(r.iterations).toBe(3);
    expect(r.rmseHistory[3]).toBeCloseTo(r.rmseHistory[1]!, 15);
  });
});

describe('register: one iteration 0, one iteration count', () => {
  it('the stage before ICP reports the fitness and RMSE that the plotted series starts with', () => {
    const P = surface(1500, 5);
    const G = homogeneous(axisAngle([1, 0.2, 0.1], 5), [0.05, 0, 0]);
    const S = applyTransform(invertTransform(G), P);
    // a downsampled first level with a tight distance: full-resolution scoring would disagree
    const r = register(S, P, { levels: [{ voxel: 0.1, maxCorrespondenceDistance: 0.05, maxIterations: 30 }, { voxel: null, maxCorrespondenceDistance: 0.05, maxIterations: 30 }] });
    const init = r.stages[0]!;
    expect(init.stage).toBe('init (identity)');
    expect(init.fitness).toBe(r.fitnessHistory[0]);
    expect(init.inlierRmse).toBe(r.rmseHistory[0]);
  });

  it('iterationOf runs 0 .. iterations across levels, so the plotted series ends at the reported count', () => {
    const P = surface(1500, 6);
    const G = homogeneous(axisAngle([0, 1, 0.3], 7), [0.03, 0.02, 0]);
    const S = applyTransform(invertTransform(G), P);
    const r = register(S, P, { levels: [{ voxel: 0.1, maxCorrespondenceDistance: 0.3, maxIterations: 30 }, { voxel: 0.05, maxCorrespondenceDistance: 0.1, maxIterations: 30 }, { voxel: null, maxCorrespondenceDistance: 0.05, maxIterations: 30 }] });
    expect(r.levels).toHaveLength(3);
    expect(r.iterationOf).toHaveLength(r.rmseHistory.length);
    expect(r.rmseHistory.length).toBe(r.iterations + r.levels.length); // each level's entry 0 is a measurement too
    expect(r.iterationOf[0]).toBe(0);
    expect(r.iterationOf[r.iterationOf.length - 1]).toBe(r.iterations);
    expect(r.iterations).toBe(r.levels.reduce((s, l) => s + l.iterations, 0));
    // a level's first entry repeats the count at which the previous level ended
    for (const [i, st] of r.levelStarts.entries()) if (i > 0) expect(r.iterationOf[st]).toBe(r.iterationOf[st - 1]);
  });
});
