/**
 * reconstruct: rebuilds U_k S_k V_kᵀ plus the mean from a Factorization, as the
 * kind that was factorised (Image or Matrix), clamped to the value range.
 *
 * ```yaml
 * - stage: reconstruct               # the rank chosen by truncate
 * - stage: reconstruct
 *   params: { rank: [5, 20, 50] }    # one value per rank, named {name}-r5, {name}-r20, …
 * ```
 * @see svd, truncate, encode
 */
import { z } from 'zod';
import { mergeMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import { applyMean, clampInPlace } from '../core/image/planes.js';
import { commonLength, rebuild } from '../core/image/lowrank.js';
import type { Factorization, Image, MatrixValue } from '../core/ports.js';
import type { Matrix } from '../core/linalg/index.js';

/** Checks k against the factorisation's bounds; states them when it does not fit. */
export function checkRank(f: Factorization, k: number, stage: string): void {
  const F = f.factors[0]!;
  const mn = Math.min(F.U.rows, F.V.rows);
  if (k > mn) throw new InputError(`rank ${k} is larger than min(rows, cols) = min(${F.U.rows}, ${F.V.rows}) = ${mn} (${stage} of ${f.name})`, `set rank between 1 and ${mn}`);
  const have = commonLength(f.factors);
  if (k > have) throw new InputError(`rank ${k} asked, but the svd step computed only ${have} singular values of ${f.name}`, k < mn ? `raise svd's rank to at least ${k}, or leave it out to compute all ${mn}` : `centred data has at most ${mn - 1} non-zero singular values, so svd computed ${have}; ask for rank ${have} or less here, or use svd solver: exact to get all ${mn}`);
}

/** The rank-k value (mean added back; clamped to the value range when `clamp`). */
export function reconstructValue(f: Factorization, k: number, clamp: boolean, name = f.name): Image | MatrixValue {
  const t = f.template;
  if (t.kind === 'Matrix') {
    let M: Matrix = rebuild(f.factors[0]!, k);
    if (t.centering && t.centering.mode !== 'none') M = applyMean(M, t.centering, 1, M);
    if (clamp && t.layout) clampInPlace(M, t.layout.range[0], t.layout.range[1]);
    const { centering: _c, ...rest } = t;
    return { ...rest, name, matrix: M };
  }
  const nPlanes = t.color === 'gray' ? 1 : 3;
  const planes: Matrix[] = new Array(nPlanes);
  for (const p of f.passthrough ?? []) planes[p.plane] = p.matrix.clone();
  let next = 0;
  for (let i = 0; i < nPlanes; i++) if (!planes[i]) planes[i] = rebuild(f.factors[next++]!, k);
  planes.forEach((P, i) => {
    const c = t.centering?.[i];
    if (c && c.mode !== 'none') applyMean(P, c, 1, P);
    if (clamp) clampInPlace(P, t.range[0], t.range[1]);
  });
  const { centering: _c, ...rest } = t;
  return { ...rest, name, planes, rank: k };
}

export const reconstruct = defineStage({
  name: 'reconstruct',
  summary: 'Rebuild U_k S_k V_kᵀ plus the mean (Image or Matrix, like the input of svd), clamped to the value range',
  description: [
    'k is `rank` if given, else the rank kept by truncate (else every computed value). A list of ranks emits',
    'one value per rank, named {name}-r{rank}; tooLarge: clamp lowers ranks above the available singular values to',
    'that count (one list then fits any collection size). The mean subtracted by center is added back. clamp: true',
    '(default) clamps to the value range ([0, 1] after normalize; a Matrix only when it holds stacked images).',
  ].join('\n'),
  example: '- stage: reconstruct\n  params: { rank: [5, 20, 50] }',
  input: 'Factorization',
  output: ['Image', 'Matrix'] as const,
  params: z.strictObject({
    rank: z.union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1)]).optional().describe('rank k, or a list of ranks (one output each); default: the truncated rank'),
    clamp: z.boolean().default(true).describe('clamp values to the value range'),
    tooLarge: z.enum(['error', 'clamp']).default('error').describe('a rank above the singular values available: error, or clamp: use every available one (ranks that become equal are made once), so that one list fits collections of any size'),
  }),
  operator: (params, ctx) =>
    mergeMap((f: Factorization) => {
      const list = Array.isArray(params.rank);
      let ranks = params.rank === undefined ? [f.factors[0]!.rank] : list ? (params.rank as number[]) : [params.rank as number];
      if (params.tooLarge === 'clamp') {
        const have = Math.min(commonLength(f.factors), f.factors[0]!.rank);
        const asked = ranks;
        ranks = [...new Set(ranks.map((k) => Math.min(k, have)))];
        if (asked.some((k) => k > have)) ctx.log.warn({ asked, used: ranks, available: have }, `${ctx.stepId}: rank${asked.filter((k) => k > have).length > 1 ? "s" : ""} ${asked.filter((k) => k > have).join(", ")} lowered to ${have}, the singular values available for ${f.name}`);
      }
      for (const k of ranks) checkRank(f, k, 'reconstruct');
      return ranks.map((k) => {
        const t0 = performance.now();
        const out = reconstructValue(f, k, params.clamp, list ? `${f.name}-r${k}` : f.name);
        ctx.log.info({ rank: k, ms: Math.round(performance.now() - t0) }, 'reconstructed');
        return out;
      });
    }),
});
