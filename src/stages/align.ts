/**
 * align: finds the transform mapping the source (main input) onto the target
 * (side input `target`): orthogonal Procrustes / Umeyama for matched points, or
 * ICP (point-to-point or point-to-plane) when the correspondence is unknown.
 *
 * ```yaml
 * - id: fit
 *   stage: align
 *   input: moved
 *   inputs: { target: original }
 *   params: { method: icp, estimation: point-to-plane, maxCorrespondenceDistance: 0.005 }
 * ```
 * @see transform, plot-alignment, write-points
 */
import { z } from 'zod';
import { map } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import { Matrix } from '../core/linalg/matrix.js';
import { assertFinite } from '../core/linalg/errors.js';
import { procrustes } from '../core/points/procrustes.js';
import { icp, IcpError, DEFAULT_CRITERIA, type RobustKernel } from '../core/points/icp.js';
import { applyTransform, homogeneous, decompose, determinant, rotateVectors } from '../core/points/rigid.js';
import type { Alignment, PointCloud } from '../core/ports.js';

const name = z.string().min(1).optional().describe('name of the result (default: <source>-to-<target>)');

const params = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('procrustes'),
    translation: z.boolean().default(true).describe('estimate a translation (false: rotate/scale about the origin)'),
    scaling: z.boolean().default(false).describe('estimate a uniform scale too (Umeyama)'),
    allowReflection: z.boolean().default(false).describe('allow det(R) = -1; false gives the best proper rotation'),
    weights: z.array(z.number().min(0)).optional().describe('one non-negative weight per point pair'),
    name,
  }),
  z.strictObject({
    method: z.literal('icp'),
    estimation: z.enum(['point-to-point', 'point-to-plane']).default('point-to-point').describe('point-to-plane needs target normals (from the file, else PCA of normalNeighbours neighbours)'),
    scaling: z.boolean().default(false).describe('point-to-point only: estimate a uniform scale too'),
    maxCorrespondenceDistance: z.number().positive().optional().describe('pairs farther apart are ignored (default: no limit, every source point matches)'),
    trim: z.number().gt(0).max(1).default(1).describe('estimate from the closest fraction of the pairs (trimmed ICP)'),
    kernel: z.strictObject({
      type: z.enum(['none', 'huber', 'tukey', 'cauchy']).default('none').describe('robust loss on the residuals'),
      scale: z.number().positive().default(1).describe('kernel scale, in coordinate units'),
    }).default({ type: 'none', scale: 1 }).describe('robust kernel (weights by residual)'),
    init: z.array(z.array(z.number())).optional().describe('initial (d+1)x(d+1) homogeneous transform applied to the source (default identity)'),
    criteria: z.strictObject({
      maxIterations: z.number().int().min(1).default(DEFAULT_CRITERIA.maxIterations).describe('at most this many updates'),
      relativeRmse: z.number().min(0).default(DEFAULT_CRITERIA.relativeRmse).describe('converged when the relative change of inlier RMSE is below this …'),
      relativeFitness: z.number().min(0).default(DEFAULT_CRITERIA.relativeFitness).describe('… and the relative change of fitness is below this'),
    }).default({ ...DEFAULT_CRITERIA }).describe("stopping rule, as Open3D's ICPConvergenceCriteria (defaults 30, 1e-6, 1e-6)"),
    normalNeighbours: z.number().int().min(3).default(30).describe('neighbours for PCA normals of the target (point-to-plane, when the file has none)'),
    name,
  }),
]);

function check(src: PointCloud, tgt: PointCloud): number {
  const d = src.points.cols;
  if (tgt.points.cols !== d) throw new InputError(`source '${src.name}' is ${d}-D but target '${tgt.name}' is ${tgt.points.cols}-D`, 'align point sets of the same dimension');
  for (const c of [src, tgt]) {
    if (c.points.rows < d + 1) throw new InputError(`'${c.name}' has ${c.points.rows} point${c.points.rows === 1 ? '' : 's'}; a ${d}-D alignment needs at least ${d + 1}`, 'give more points');
    try {
      assertFinite(c.points, `'${c.name}'`);
    } catch (e) {
      throw new InputError(`${(e as Error).message.replace('row', 'point')}`, 'remove non-finite points before aligning');
    }
  }
  return d;
}

export const align = defineStage({
  name: 'align',
  summary: 'Align the source onto the target: Procrustes/Umeyama (matched points) or ICP (point-to-point, point-to-plane)',
  description: [
    'Result (Alignment): transform x\' = s R x + t as a (d+1)x(d+1) matrix, rotation, translation, scale, reflection,',
    'rmseHistory (entry 0 before any update), fitness (fraction of source points with a target point within',
    'maxCorrespondenceDistance; higher is better), inlierRmse (RMS distance over those; lower is better),',
    'iterations, converged, and the aligned source. ICP stops when both relative changes fall below the criteria.',
    'Procrustes: R = U D Vᵀ from the SVD of the centred cross-covariance (D fixes det = +1 unless allowReflection).',
  ].join('\n'),
  example: '- stage: align\n  input: moved\n  inputs: { target: original }\n  params: { method: procrustes }',
  input: 'PointCloud',
  output: 'Alignment',
  sides: { target: 'PointCloud' },
  params,
  operator: (p, ctx, sides) =>
    map((source: PointCloud): Alignment => {
      const target = sides.target;
      const d = check(source, target);
      let T: Matrix, rmseHistory: number[], fitness: number, inlierRmse: number, iterations: number, converged: boolean;
      let history: Matrix[] | undefined;
      let details: Record<string, unknown>;
      if (p.method === 'procrustes') {
        if (source.points.rows !== target.points.rows) {
          throw new InputError(`procrustes needs matched points (row i of the source with row i of the target), but source '${source.name}' has ${source.points.rows} and target '${target.name}' has ${target.points.rows}`, 'use method: icp for point sets without known correspondences');
        }
        if (p.weights && p.weights.length !== source.points.rows) throw new InputError(`weights has ${p.weights.length} values for ${source.points.rows} point pairs`, 'give one weight per pair');
        if (p.weights && !(p.weights.reduce((a, b) => a + b, 0) > 0)) throw new InputError('weights are all zero', 'give at least one positive weight');
        const r = procrustes(source.points, target.points, { translation: p.translation, scaling: p.scaling, allowReflection: p.allowReflection, weights: p.weights });
        T = homogeneous(r.R, r.t, r.scale);
        rmseHistory = [r.rmse];
        fitness = 1;
        inlierRmse = r.rmse;
        iterations = 1;
        converged = true;
        details = { singularValues: Array.from(r.singularValues) };
      } else {
        let init: Matrix | undefined;
        if (p.init) {
          if (p.init.length !== d + 1 || p.init.some((row) => row.length !== d + 1)) throw new InputError(`init must be a ${d + 1}x${d + 1} homogeneous matrix for ${d}-D points, got ${p.init.length}x${p.init[0]?.length ?? 0}`, 'give d+1 rows of d+1 numbers, last row [0, …, 0, 1]');
          init = Matrix.from2D(p.init);
        }
        if (p.estimation === 'point-to-plane' && p.scaling) throw new InputError('scaling works with point-to-point estimation only', 'remove scaling or use estimation: point-to-point');
        const kernel: RobustKernel = p.kernel.type === 'none' ? { type: 'none' } : { type: p.kernel.type, scale: p.kernel.scale };
        try {
          const r = icp(source.points, target.points, {
            estimation: p.estimation, scaling: p.scaling, maxCorrespondenceDistance: p.maxCorrespondenceDistance, trim: p.trim,
            kernel, init, criteria: p.criteria, normalNeighbours: p.normalNeighbours, targetNormals: target.normals,
          });
          ({ transform: T, rmseHistory, fitness, inlierRmse, iterations, converged, history } = r);
          details = { estimation: r.estimation, fitnessHistory: r.fitnessHistory, correspondences: r.correspondences, criteria: p.criteria, targetNormals: target.normals ? 'from input' : r.targetNormals ? `PCA of ${p.normalNeighbours} neighbours` : 'not used' };
        } catch (e) {
          if (e instanceof IcpError) throw new InputError(e.message, e.hint);
          if (e instanceof RangeError) throw new InputError(e.message);
          throw e;
        }
        if (!converged) ctx.log.warn({ iterations, rmse: inlierRmse }, `ICP did not converge in ${iterations} iterations; raise criteria.maxIterations`);
      }
      const dec = decompose(T);
      // without scaling the linear part is the rotation itself (no det-based rescaling round-off)
      const scaled = p.method === 'procrustes' ? p.scaling : p.estimation === 'point-to-point' && p.scaling;
      const { R, t, scale } = scaled ? dec : { R: T.block(0, d, 0, d).clone(), t: dec.t, scale: 1 };
      const aligned: PointCloud = { kind: 'PointCloud', name: `${source.name}-aligned`, points: applyTransform(T, source.points) };
      if (source.normals) aligned.normals = rotateVectors(T, source.normals);
      ctx.log.info({ method: p.method, iterations, converged, fitness, inlierRmse }, 'aligned');
      const out: Alignment = {
        kind: 'Alignment', name: p.name ?? `${source.name}-to-${target.name}`, method: p.method === 'icp' ? `icp (${p.estimation})` : 'procrustes', dim: d,
        transform: T, rotation: R, translation: t, scale, reflection: determinant(R) < 0,
        rmseHistory, fitness, inlierRmse, iterations, converged, source, target, aligned, details,
      };
      if (history) out.history = history;
      return out;
    }),
});
