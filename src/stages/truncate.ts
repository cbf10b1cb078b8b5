/**
 * truncate: chooses how many singular values to keep, by exactly one target,
 * and records the choice (`Factorization.truncation`, logged). The factors are
 * kept whole (the spectrum stays available for reports) unless `drop: true`.
 *
 * ```yaml
 * - stage: truncate
 *   params: { percent: 5 }     # 5% of min(m, n) = 700 values → k = 35
 * - stage: truncate
 *   params: { error: 0.05 }    # smallest k with relative error ≤ 5%
 * ```
 * @see svd, reconstruct, compression-report
 */
import { z } from 'zod';
import { map } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import { RANK_TARGETS as TARGETS, selectRank } from '../core/image/rank.js';
import type { Factorization } from '../core/ports.js';

export { rankForPercent } from '../core/image/rank.js';

export const truncate = defineStage({
  name: 'truncate',
  summary: 'Keep the top k singular values, k given as a rank, percent, energy, error or compression ratio',
  description: [
    'Give exactly one of: rank (k itself); percent (of the min(m, n) singular values, rounded to the nearest',
    'integer, at least 1: 5% of 700 = 35); energy (smallest k keeping at least this fraction of Σσ² of the',
    'centred matrix); error (smallest k whose relative Frobenius error against the original, mean included,',
    'is at most this); ratio (largest k whose storage, k(m+n+1) values per plane plus the mean at `storage`',
    'precision, is at most 1/ratio of the 8-bit original). One k is used for every plane.',
  ].join('\n'),
  example: '- stage: truncate\n  params: { percent: 5 }',
  input: 'Factorization',
  output: 'Factorization',
  params: z
    .strictObject({
      rank: z.number().int().min(1).nullish().describe('keep exactly k values'),
      percent: z.number().gt(0).max(100).nullish().describe('keep this percentage of the min(m, n) values (rounded; at least 1)'),
      energy: z.number().gt(0).max(1).nullish().describe('smallest k keeping at least this fraction of Σσ²'),
      error: z.number().min(0).lt(1).nullish().describe('smallest k with relative Frobenius error ≤ this'),
      ratio: z.number().gt(1).nullish().describe('largest k with compression ratio (8-bit original bytes / stored bytes) ≥ this'),
      storage: z.enum(['float32', 'float64']).default('float32').describe('precision of the stored factors, for ratio'),
      drop: z.boolean().default(false).describe('also slice U, s, V to k (frees memory; later steps then see only k values)'),
    })
    .refine((p) => TARGETS.filter((t) => p[t] != null).length === 1, {
      message: `give exactly one of ${TARGETS.join(', ')} (null counts as not given, so --set truncate.percent=null --set truncate.error=0.05 switches target)`,
    }),
  operator: (params, ctx) =>
    map((f: Factorization): Factorization => {
      const by = TARGETS.find((t) => params[t] != null)!;
      const target = params[by]!;
      const { k, reason } = selectRank(f, by, target, params.storage);
      ctx.log.info({ by, target, rank: k, reason }, `truncate: keeping ${k} singular values`);
      const factors = f.factors.map((x) =>
        params.drop
          ? { ...x, U: x.U.block(0, x.U.rows, 0, k).clone(), s: x.s.slice(0, k), V: x.V.block(0, x.V.rows, 0, k).clone(), rank: k }
          : { ...x, rank: k },
      );
      return { ...f, factors, truncation: { by, target, rank: k, reason } };
    }),
});
