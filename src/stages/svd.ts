/**
 * svd: thin SVD of each plane of an Image, or of a Matrix, with the linear-algebra
 * core. Emits a Factorization that keeps what is needed to rebuild the input
 * (template, mean) and the norms needed for exact error curves.
 *
 * ```yaml
 * - stage: svd
 *   params: { solver: auto }        # all singular values (for curves)
 * - stage: svd
 *   params: { rank: 35 }            # only the top 35 (randomized when that is cheaper)
 * ```
 * @see truncate, reconstruct, compression-report
 */
import { z } from 'zod';
import { defineStage } from '../core/stage.js';
import { boundedConcatMap } from '../core/flow.js';
import { pooled } from '../core/pool/index.js';
import { tasks, svdWork, INLINE_WORK } from '../core/pool/tasks/linalg.js';
import { InputError } from '../core/errors.js';
import { LinalgError, type Matrix } from '../core/linalg/index.js';
import { uncenteredNormSq } from '../core/image/planes.js';
import { checkRankBound } from '../core/image/rank.js';
import type { Factorization, Image, MatrixValue, SvdFactors } from '../core/ports.js';
import type { StageContext } from '../core/stage.js';
import { partsProgress, type ProgressHandle } from '../core/progress.js';

const svdParams = z.strictObject({
  solver: z.enum(['auto', 'exact', 'gram', 'randomized']).default('auto').describe('SVD algorithm (auto chooses by shape and rank)'),
  rank: z.number().int().min(1).optional().describe('compute only the top `rank` singular triplets (must be <= min(rows, cols))'),
  oversample: z.number().int().min(0).default(10).describe('randomized: extra sketch columns'),
  powerIterations: z.number().int().min(0).default(4).describe('randomized: power iterations (more = more accurate)'),
  seed: z.number().int().default(0).describe('randomized: random seed'),
  color: z.enum(['auto', 'per-channel', 'luminance']).default('auto').describe('which planes of an Image to factorise: every plane, or the luminance (Y) only of a ycbcr image'),
  maxMemoryMiB: z.number().int().min(1).default(4096).describe('refuse, before it starts, an SVD whose estimated memory (working copy and factors) is above this many MiB'),
});

/**
 * Memory an SVD of an m x n matrix takes beyond its input, in bytes (Float64):
 * all values need a working copy and the full thin factors (U m x k, V n x k,
 * k = min(m, n)) plus a k x k block; a rank-r randomized SVD needs a few
 * (m + n) x (r + oversample) panels.
 */
export function svdMemoryBytes(m: number, n: number, p: { solver: string; rank?: number; oversample: number }): number {
  const k = Math.min(m, n);
  if (p.rank !== undefined && p.solver !== 'exact' && p.solver !== 'gram') {
    const l = Math.min(k, p.rank + p.oversample);
    return 8 * (4 * (m + n) * l + 2 * l * l);
  }
  return 8 * (2 * m * n + (m + n) * k + 2 * k * k);
}

/** The solver settings of the svd stage, typed from its schema (not written out twice). */
export type SvdParams = Omit<z.output<typeof svdParams>, 'color'>;

/**
 * One plane or matrix → SvdFactors, computed in the compute pool (inline when small);
 * rank-bound and non-finite errors become InputErrors naming `what`. Aborting `signal`
 * ends the computation at once.
 */
export async function factorMatrix(A: Matrix, p: SvdParams, what: string, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<{ f: SvdFactors; solver: string }> {
  const mn = Math.min(A.rows, A.cols);
  if (p.rank !== undefined) checkRankBound(p.rank, A.rows, A.cols, `for ${what}`, `set rank between 1 and ${mn}, or leave it out to compute all ${mn} singular values`);
  if (p.solver === 'randomized' && p.rank === undefined) {
    throw new InputError('solver randomized needs a rank', `set rank (e.g. rank: ${Math.max(1, Math.round(mn / 20))}), or use solver: auto for all singular values`);
  }
  if (p.maxMemoryMiB !== undefined) {
    const need = svdMemoryBytes(A.rows, A.cols, p) / 2 ** 20;
    if (need > p.maxMemoryMiB) {
      const r = Math.max(1, Math.min(mn, 100));
      const withRank = svdMemoryBytes(A.rows, A.cols, { solver: 'randomized', rank: r, oversample: p.oversample }) / 2 ** 20;
      throw new InputError(
        `the SVD of ${what} (${A.rows}x${A.cols}) would need about ${need.toFixed(0)} MiB of memory, above the limit of ${p.maxMemoryMiB} MiB (svd's maxMemoryMiB); nothing was computed`,
        `ask for the top values only with rank: (e.g. rank: ${r}, solved by a randomized SVD in about ${Math.ceil(withRank)} MiB), load the image smaller (load's resize), or raise the limit with maxMemoryMiB: ${Math.ceil(need)}`,
      );
    }
  }
  try {
    const opts = { solver: p.solver, rank: p.rank, oversample: p.oversample, powerIterations: p.powerIterations, seed: p.seed };
    const r = await tasks.run('svd', [A, opts], { signal, inline: svdWork(A.rows, A.cols) < INLINE_WORK, onProgress });
    return { f: { U: r.U, s: r.s, V: r.V, normSq: r.normSq, rank: r.s.length }, solver: r.solver };
  } catch (e) {
    if (e instanceof LinalgError) throw new InputError(`cannot factorise ${what}: ${e.message}`, 'check the input for NaN or infinite values', e);
    throw e;
  }
}

export const svd = defineStage({
  name: 'svd',
  summary: 'Thin SVD of each image plane (or of a matrix) → Factorization, asking only for the rank needed',
  description: [
    'solver auto picks exact (all values), gram (very skinny matrices) or randomized (when a small rank is',
    'asked for). Without rank every singular value is computed, which the error/storage curves of',
    'compression-report use. With rank only the top values are computed; tail errors stay exact because the',
    "matrix norm is kept. color: luminance factorises only Y of a ycbcr image (load with mode: ycbcr) and",
    'passes Cb and Cr through unchanged; auto does that for ycbcr images and factorises every plane otherwise.',
  ].join('\n'),
  example: '- stage: svd\n  params: { solver: auto }',
  input: ['Image', 'Matrix'] as const,
  output: 'Factorization',
  params: svdParams,
  // as factorValue: a row-centred stack gets its n - 1 values unless solver is exact (all n) or a rank is asked
  collection: (p, c) => ({ ...c, components: p.rank !== undefined ? Math.min(c.images, p.rank) : p.solver === 'exact' ? c.images : c.components }),
  needs: () => [{ components: 1, why: 'a PCA (it factorises what is left once the mean image is removed)' }],
  operator: (params, ctx) =>
    boundedConcatMap((v) => pooled(async (signal) => {
      // a progress line for work that can take a while (not for the many small SVDs of a stream)
      const big = v.kind === 'Matrix' ? svdWork(v.matrix.rows, v.matrix.cols) >= INLINE_WORK : svdWork(v.height, v.width) >= INLINE_WORK;
      const bar = big ? ctx.progress({ label: `${ctx.stepId}: ${v.name}`, percent: true }) : undefined;
      const out = await factorValue(v, params, ctx.log, signal, bar);
      bar?.done();
      return out;
    }, ctx.signal), ctx.flow, { highWaterMark: 2 }),
});

async function factorValue(v: Image | MatrixValue, params: SvdParams & { color: 'auto' | 'per-channel' | 'luminance' }, log: StageContext['log'], signal: AbortSignal, bar?: ProgressHandle): Promise<Factorization> {
  const t0 = performance.now();
  if (v.kind === 'Matrix') {
    // Removing the row means (A·1 = 0) or the column means (1ᵀA = 0) leaves at most
    // min(m, n) - 1 non-zero singular values; without a rank, ask for those only, so that
    // the Gram route's conditioning guard is not tripped by the structural zero.
    const m = v.matrix.rows, n = v.matrix.cols, mode = v.centering?.mode;
    log.info({ rows: m, cols: n }, 'svd started');
    const structural = (mode === 'row' && n <= m) || (mode === 'column' && m <= n);
    const p = params.rank === undefined && params.solver !== 'exact' && structural && Math.min(m, n) > 1 ? { ...params, rank: Math.min(m, n) - 1 } : params;
    const { f, solver } = await factorMatrix(v.matrix, p, `matrix ${v.name}`, signal, bar && partsProgress(bar, 1)(0));
    const { matrix, ...template } = v;
    const orig = v.centering ? uncenteredNormSq(matrix, v.centering) : f.normSq;
    log.info({ rows: matrix.rows, cols: matrix.cols, rank: f.rank, ms: Math.round(performance.now() - t0) }, 'svd done');
    return { kind: 'Factorization', name: v.name, factors: [f], solver, template, originalNormSq: [orig] };
  }
  const lumaOnly = params.color === 'luminance' || (params.color === 'auto' && v.color === 'ycbcr');
  if (lumaOnly && v.color !== 'ycbcr') {
    throw new InputError(`color: luminance needs a ycbcr image, but ${v.name} is ${v.color}`, "load it with mode: ycbcr (Y is factorised, Cb and Cr are kept), or use color: per-channel");
  }
  const planeIdx = lumaOnly ? [0] : v.planes.map((_, i) => i);
  log.info({ planes: planeIdx.length, rows: v.height, cols: v.width }, 'svd started');
  const progressOf = bar && partsProgress(bar, planeIdx.length);
  const results = await Promise.all(planeIdx.map((i, n) => factorMatrix(v.planes[i]!, params, `plane ${i} (${v.color}) of image ${v.name} (${v.height} rows x ${v.width} columns)`, signal, progressOf?.(n))));
  const factors = results.map((r) => r.f);
  const { planes, ...template } = v;
  const originalNormSq = planeIdx.map((i, n) => (v.centering?.[i] ? uncenteredNormSq(planes[i]!, v.centering[i]) : factors[n]!.normSq));
  const passthrough = lumaOnly ? [1, 2].map((plane) => ({ plane, matrix: planes[plane]! })) : undefined;
  const solver = results[0]!.solver;
  log.info({ planes: factors.length, rows: v.height, cols: v.width, rank: factors[0]!.rank, solver, ms: Math.round(performance.now() - t0) }, 'svd done');
  return { kind: 'Factorization', name: v.name, factors, solver, template, originalNormSq, ...(passthrough ? { passthrough } : {}) };
}
