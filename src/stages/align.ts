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
import { defineStage } from '../core/stage.js';
import { boundedConcatMap } from '../core/flow.js';
import { pooled } from '../core/pool/index.js';
import { tasks as pointTasks, INLINE_POINTS, type AlignResult } from '../core/pool/tasks/points.js';
import { InputError, setForm } from '../core/errors.js';
import { Matrix } from '../core/linalg/matrix.js';
import { DEFAULT_CRITERIA } from '../core/points/icp.js';
import { PointsError } from '../core/points/errors.js';
import { checkPair } from '../core/points/check-pair.js';
import type { InitMode } from '../core/points/register.js';
import type { Alignment, PointCloud } from '../core/ports.js';

const name = z.string().min(1).optional().describe('name of the result (default: <source>-to-<target>)');

const params = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('procrustes'),
    translation: z.boolean().default(true).describe('estimate a translation (false: rotate/scale about the origin)'),
    scaling: z.boolean().default(false).describe('estimate a uniform scale too (Umeyama)'),
    allowReflection: z.boolean().default(false).describe('allow det(R) = -1; false gives the best proper rotation'),
    weights: z.array(z.number().min(0)).refine((w) => w.reduce((a, b) => a + b, 0) > 0, { message: 'weights are all zero: give at least one positive weight' }).optional().describe('one non-negative weight per point pair'),
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
    init: z.union([z.enum(['identity', 'centroid', 'pca', 'global']), z.array(z.array(z.number()))]).default('identity').describe('start: identity, centroid (move centroids together), pca (principal axes), global (3-D: FPFH + RANSAC; 2-D: rotation search), or a (d+1)x(d+1) matrix'),
    levels: z.union([z.array(z.strictObject({
      voxel: z.number().positive().nullable().optional().describe('voxel size for downsampling both clouds (absent/null: full resolution)'),
      maxCorrespondenceDistance: z.number().positive().describe('pairs farther apart are ignored at this level'),
      maxIterations: z.number().int().min(1).default(DEFAULT_CRITERIA.maxIterations).describe('at most this many updates at this level'),
    })).min(1), z.literal('auto')]).optional().describe('coarse-to-fine ICP schedule, each level starting from the previous result; auto derives it from the extent and spacing (default: auto after init global, else one level from maxCorrespondenceDistance and criteria)'),
    global: z.strictObject({
      voxel: z.number().positive().optional().describe('keypoint voxel size (default: bounding-box diagonal / 40); FPFH radius 5x, normals 2x, RANSAC distance 1.5x'),
      seed: z.number().int().default(0).describe('RANSAC random seed (same inputs and seed, same transform)'),
      maxIterations: z.number().int().min(1).default(100000).describe('RANSAC samples at most'),
      confidence: z.number().gt(0).lt(1).default(0.999).describe('RANSAC stops when this sure of an all-inlier sample'),
      edgeLength: z.number().gt(0).max(1).default(0.9).describe('edge-length checker similarity'),
      mutual: z.boolean().default(true).describe('keep only mutual nearest-neighbour descriptor matches'),
    }).default({ seed: 0, maxIterations: 100000, confidence: 0.999, edgeLength: 0.9, mutual: true }).describe('3-D global alignment (init: global)'),
    angles: z.number().int().min(2).max(360).default(12).describe('2-D init global: start angles tried (evenly spaced)'),
    minFitness: z.number().min(0).max(1).default(0.3).describe('below this final fitness the result is flagged not confident'),
    maxRmseRatio: z.number().positive().default(0.5).describe('inlier RMSE above this fraction of the final distance is flagged not confident'),
    criteria: z.strictObject({
      maxIterations: z.number().int().min(1).default(DEFAULT_CRITERIA.maxIterations).describe('at most this many updates'),
      relativeRmse: z.number().min(0).default(DEFAULT_CRITERIA.relativeRmse).describe('converged when the relative change of inlier RMSE is below this …'),
      relativeFitness: z.number().min(0).default(DEFAULT_CRITERIA.relativeFitness).describe('… and the relative change of fitness is below this'),
    }).default({ ...DEFAULT_CRITERIA }).describe("stopping rule, as Open3D's ICPConvergenceCriteria (defaults 30, 1e-6, 1e-6)"),
    normalNeighbours: z.number().int().min(3).default(30).describe('neighbours for PCA normals of the target (point-to-plane, when the file has none)'),
    ifNotConfident: z.string().min(1).optional().describe("what to try when the result is not confident, added to the warning (a pipeline's own --set advice)"),
    name,
  }).refine((p) => !(p.estimation === 'point-to-plane' && p.scaling), { message: 'scaling works with point-to-point estimation only: remove scaling or use estimation: point-to-point', path: ['scaling'] }),
]);

type Params = z.output<typeof params>;

/** The data-dependent checks (counts, matrix sizes), then the registration and the aligned source (in the compute pool unless small). */
async function registration(p: Params, source: PointCloud, target: PointCloud, d: number, signal: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<AlignResult> {
  const inline = source.points.rows + target.points.rows < INLINE_POINTS;
  if (p.method === 'procrustes') {
    if (source.points.rows !== target.points.rows) {
      throw new InputError(`procrustes needs matched points (row i of the source with row i of the target), but source '${source.name}' has ${source.points.rows} and target '${target.name}' has ${target.points.rows}`, 'use method: icp for point sets without known correspondences');
    }
    if (p.weights && p.weights.length !== source.points.rows) throw new InputError(`weights has ${p.weights.length} values for ${source.points.rows} point pairs`, 'give one weight per pair');
    return pointTasks.run('align', [source.points, target.points, p, undefined, source.normals], { signal, inline });
  }
  let init: Matrix | InitMode = p.init as InitMode;
  if (Array.isArray(p.init)) {
    if (p.init.length !== d + 1 || p.init.some((row) => row.length !== d + 1)) throw new InputError(`init must be a ${d + 1}x${d + 1} homogeneous matrix for ${d}-D points, got ${p.init.length}x${p.init[0]?.length ?? 0}`, 'give d+1 rows of d+1 numbers, last row [0, …, 0, 1]');
    init = Matrix.from2D(p.init);
  }
  return pointTasks.run('align', [source.points, target.points, { ...p, init }, target.normals, source.normals], { signal, inline, onProgress });
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
    'ICP from any pose: init global (3-D: voxel keypoints, FPFH descriptors, mutual matches, seeded RANSAC with',
    'edge-length 0.9 and distance checks; 2-D: a grid of start angles, best fitness kept), then a coarse-to-fine',
    'schedule (levels: voxel, maxCorrespondenceDistance, maxIterations; auto from extent and spacing).',
    'Also: stages (fitness and inlier RMSE per stage), finalStage, confident and warnings (low fitness,',
    'random-looking matches, undetermined rotations or normals, unmatched Procrustes rows: flagged, never hidden),',
    'stop (criteria, exact, cycle, maxIterations), levelStarts and iterationOf (the update count of each history entry).',
    'Procrustes has no fitness, iterations or convergence (null, 0, null): its pairs are given and it is closed form.',
  ].join('\n'),
  example: '- stage: align\n  input: moved\n  inputs: { target: original }\n  params: { method: procrustes }',
  input: 'PointCloud',
  output: 'Alignment',
  sides: { target: 'PointCloud' },
  params,
  operator: (p, ctx, sides) =>
    boundedConcatMap((source: PointCloud) => pooled(async (signal): Promise<Alignment> => {
      const target = sides.target;
      const d = checkPair(source, target);
      let res: AlignResult;
      try {
        if (p.method === 'icp') ctx.log.info({ source: source.points.rows, target: target.points.rows }, 'registration started');
        const bar = p.method === 'icp' ? ctx.progress({ label: `${ctx.stepId}: ICP`, percent: true }) : undefined;
        res = await registration(p, source, target, d, signal, bar?.set);
        bar?.done();
      } catch (e) {
        // data the geometry cannot align becomes a user error; anything else is a bug and stays one
        if (e instanceof PointsError) throw new InputError(e.message, e.hint);
        throw e;
      }
      const r = res.registration;
      const va = r.voxelAdvice;
      if (va) {
        const n = (v: number) => String(Number(v.toPrecision(2)));
        r.warnings.push(`the target spans ~${n(va.extent)} units (bounding-box diagonal), but the global voxel ${va.voxel} suits clouds about ${n(40 * va.voxel)} across (about 40 voxels): try ${setForm(ctx.stepId, 'global.voxel', va.suggested)}`);
      }
      if (!r.confident && p.method === 'icp') {
        const tries = [...(p.init !== 'global' ? [`try ${setForm(ctx.stepId, 'init', 'global')} (searches start angles in 2-D, features in 3-D)`] : []), ...(p.ifNotConfident ? [p.ifNotConfident] : [])];
        if (tries.length) r.warnings.push(`the alignment is not confident: ${tries.join('; or ')}`);
      }
      for (const w of r.warnings) ctx.log.warn({ finalStage: r.finalStage }, w);
      const aligned: PointCloud = { kind: 'PointCloud', name: `${source.name}-aligned`, points: res.points, ...(res.normals ? { normals: res.normals } : {}) };
      ctx.log.info({ method: r.method, iterations: r.iterations, converged: r.converged, fitness: r.fitness, inlierRmse: r.inlierRmse }, 'aligned');
      return { kind: 'Alignment', name: p.name ?? `${source.name}-to-${target.name}`, ...r, source, target, aligned };
    }, ctx.signal), ctx.flow, { highWaterMark: 2 }),
});
