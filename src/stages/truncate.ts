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
import { combinedEnergy, combinedErrors, commonLength } from '../core/image/lowrank.js';
import { storageShape, rankForRatio, lowRankBytes, originalBytes } from '../core/image/storage.js';
import type { Factorization } from '../core/ports.js';

const TARGETS = ['rank', 'percent', 'energy', 'error', 'ratio'] as const;

/** k for `percent` of `count` singular values: rounded to the nearest integer, at least 1 (5% of 700 = 35). */
export function rankForPercent(percent: number, count: number): number {
  return Math.max(1, Math.round((percent * count) / 100));
}

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
      const F = f.factors[0]!;
      const mn = Math.min(F.U.rows, F.V.rows);
      const K = commonLength(f.factors);
      const fewer = (k: number) => `the svd step computed only ${K} of the ${mn} singular values; leave out svd's rank (or raise it to ≥ ${k})`;
      let k: number;
      let reason: string;
      if (by === 'rank' || by === 'percent') {
        k = by === 'rank' ? target : rankForPercent(target, mn);
        if (k > mn) throw new InputError(`rank ${k} is larger than min(rows, cols) = min(${F.U.rows}, ${F.V.rows}) = ${mn}`, `set rank between 1 and ${mn}`);
        if (k > K) throw new InputError(`k = ${k} asked, but only ${K} singular values are available`, fewer(k));
        reason = by === 'rank' ? `rank ${k} given` : `${target}% of ${mn} singular values = ${(target * mn) / 100} → ${k} (rounded)`;
      } else if (by === 'energy' || by === 'error') {
        const curve = by === 'energy' ? combinedEnergy(f.factors) : combinedErrors(f.factors, f.originalNormSq);
        const ok = (k: number) => (by === 'energy' ? curve[k]! >= target : curve[k]! <= target);
        k = 0;
        for (let j = 1; j <= K; j++) if (ok(j)) { k = j; break; }
        if (!k) {
          const best = curve[K]!;
          if (K < mn) throw new InputError(`${by} target ${target} not reached with the ${K} computed values (best ${best.toPrecision(4)})`, fewer(mn));
          throw new InputError(`${by} target ${target} cannot be reached (best at full rank: ${best.toPrecision(4)})`, by === 'error' ? 'ask for a larger error' : 'ask for a smaller energy fraction');
        }
        reason = `smallest k with ${by} ${by === 'energy' ? '≥' : '≤'} ${target}: ${by} at k = ${k} is ${curve[k]!.toPrecision(6)} (at k = ${k - 1}: ${curve[k - 1]!.toPrecision(6)})`;
      } else {
        const shape = storageShape(f);
        k = rankForRatio(target, shape, params.storage, K);
        const ratioAt = (j: number) => originalBytes(shape) / lowRankBytes(j, shape, params.storage);
        if (!k) throw new InputError(`compression ratio ${target} cannot be reached: even k = 1 gives ${ratioAt(1).toFixed(2)} at ${params.storage}`, `ask for a ratio ≤ ${ratioAt(1).toFixed(2)}, or storage: float32`);
        reason = `largest k with ratio ≥ ${target} at ${params.storage}: ratio at k = ${k} is ${ratioAt(k).toFixed(3)}`;
      }
      ctx.log.info({ by, target, rank: k, reason }, `truncate: keeping ${k} singular values`);
      const factors = f.factors.map((x) =>
        params.drop
          ? { ...x, U: x.U.block(0, x.U.rows, 0, k).clone(), s: x.s.slice(0, k), V: x.V.block(0, x.V.rows, 0, k).clone(), rank: k }
          : { ...x, rank: k },
      );
      return { ...f, factors, truncation: { by, target, rank: k, reason } };
    }),
});
