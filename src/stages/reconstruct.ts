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
import { mergeMap, from } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { poolMap } from '../core/pool/index.js';
import { tasks, INLINE_VALUES, reconstructWork } from '../core/pool/tasks/images.js';
import { commonLength } from '../core/image/lowrank.js';
import { checkRank } from '../core/image/rank.js';
import type { Factorization } from '../core/ports.js';

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
  needs: (p) => (p.tooLarge === 'error' && p.rank !== undefined ? [{ components: Math.max(...[p.rank].flat()), why: `rank ${[p.rank].flat().join(', ')} with tooLarge: error`, fix: '--set {step}.tooLarge=clamp (ranks lowered to what there is), or svd solver: exact (all n values)' }] : []),
  operator: (params, ctx) =>
    (source) => source.pipe(poolMap(async (f: Factorization, signal) => {
      const list = Array.isArray(params.rank);
      let ranks = params.rank === undefined ? [f.factors[0]!.rank] : list ? (params.rank as number[]) : [params.rank as number];
      if (params.tooLarge === 'clamp') {
        const have = Math.min(commonLength(f.factors), f.factors[0]!.rank);
        const asked = ranks;
        ranks = [...new Set(ranks.map((k) => Math.min(k, have)))];
        if (asked.some((k) => k > have)) ctx.log.warn({ asked, used: ranks, available: have }, `${ctx.stepId}: rank${asked.filter((k) => k > have).length > 1 ? "s" : ""} ${asked.filter((k) => k > have).join(", ")} lowered to ${have}, the singular values available for ${f.name}`);
      }
      for (const k of ranks) checkRank(f, k, 'reconstruct');
      // in the compute pool when large: all ranks in one task, so the factors cross once
      const t0 = performance.now();
      const work = ranks.reduce((a, k) => a + reconstructWork(f, k), 0);
      const bar = work >= 1e7 ? ctx.progress({ label: `${ctx.stepId}: rebuilding`, total: ranks.length, unit: 'ranks' }) : undefined;
      const out = await tasks.run('reconstruct', [f, ranks, params.clamp, ranks.map((k) => (list ? `${f.name}-r${k}` : f.name))], { signal, inline: work < INLINE_VALUES, onProgress: bar?.set });
      bar?.done();
      ctx.log.info({ ranks, ms: Math.round(performance.now() - t0) }, 'reconstructed');
      return out;
    }, ctx), mergeMap((values) => from(values))),
});
