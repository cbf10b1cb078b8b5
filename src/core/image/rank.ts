/**
 * How many singular values to keep: the one k-selection policy (truncate's targets) and the
 * one rank-bound check (svd, truncate, reconstruct, compression-report), so that every step
 * states the same bounds in the same words.
 *
 * Targets: rank (k itself); percent (of the min(m, n) values, rounded, at least 1: 5% of 700
 * = 35); energy (smallest k keeping at least this fraction of Σσ² of the centred matrix); error
 * (smallest k whose relative Frobenius error against the original, mean included, is at most
 * this); ratio (largest k whose k(m+n+1) stored values per plane plus the mean are at most
 * 1/ratio of the 8-bit original).
 */
import { InputError } from '../errors.js';
import type { Factorization } from '../ports.js';
import { combinedEnergy, combinedErrors, commonLength } from './lowrank.js';
import { lowRankBytes, originalBytes, rankForRatio, storageShape, type StorageType } from './storage.js';

export const RANK_TARGETS = ['rank', 'percent', 'energy', 'error', 'ratio'] as const;
export type RankTarget = (typeof RANK_TARGETS)[number];

/** k for `percent` of `count` singular values: rounded to the nearest integer, at least 1 (5% of 700 = 35). */
export function rankForPercent(percent: number, count: number): number {
  return Math.max(1, Math.round((percent * count) / 100));
}

/** The rank bound: k <= min(rows, cols), else an InputError stating the bound (`where` names the data). */
export function checkRankBound(k: number, rows: number, cols: number, where: string, hint?: string): void {
  const mn = Math.min(rows, cols);
  if (k > mn) throw new InputError(`rank ${k} is larger than min(rows, cols) = min(${rows}, ${cols}) = ${mn}${where ? ` ${where}` : ''}`, hint ?? `set rank between 1 and ${mn}`);
}

/** k against a factorisation: within min(rows, cols) and within the values the svd step computed. */
export function checkRank(f: Factorization, k: number, stage: string): void {
  const F = f.factors[0]!;
  const mn = Math.min(F.U.rows, F.V.rows);
  checkRankBound(k, F.U.rows, F.V.rows, `(${stage} of ${f.name})`);
  const have = commonLength(f.factors);
  if (k > have) throw new InputError(`rank ${k} asked, but the svd step computed only ${have} singular values of ${f.name}`, k < mn ? `raise svd's rank to at least ${k}, or leave it out to compute all ${mn}` : `centred data has at most ${mn - 1} non-zero singular values, so svd computed ${have}; ask for rank ${have} or less here, or use svd solver: exact to get all ${mn}`);
}

/** The k that `target` (of kind `by`) asks for on f, and why, in words; InputError when it cannot be met. */
export function selectRank(f: Factorization, by: RankTarget, target: number, storage: StorageType): { k: number; reason: string } {
  const F = f.factors[0]!;
  const mn = Math.min(F.U.rows, F.V.rows);
  const K = commonLength(f.factors);
  const fewer = (k: number) => `the svd step computed only ${K} of the ${mn} singular values; leave out svd's rank (or raise it to ≥ ${k})`;
  if (by === 'rank' || by === 'percent') {
    const k = by === 'rank' ? target : rankForPercent(target, mn);
    checkRankBound(k, F.U.rows, F.V.rows, '');
    if (k > K) throw new InputError(`k = ${k} asked, but only ${K} singular values are available`, fewer(k));
    return { k, reason: by === 'rank' ? `rank ${k} given` : `${target}% of ${mn} singular values = ${(target * mn) / 100} → ${k} (rounded)` };
  }
  if (by === 'energy' || by === 'error') {
    const curve = by === 'energy' ? combinedEnergy(f.factors) : combinedErrors(f.factors, f.originalNormSq);
    const ok = (k: number) => (by === 'energy' ? curve[k]! >= target : curve[k]! <= target);
    let k = 0;
    for (let j = 1; j <= K; j++) if (ok(j)) { k = j; break; }
    if (!k) {
      const best = curve[K]!;
      if (K < mn) throw new InputError(`${by} target ${target} not reached with the ${K} computed values (best ${best.toPrecision(4)})`, fewer(mn));
      throw new InputError(`${by} target ${target} cannot be reached (best at full rank: ${best.toPrecision(4)})`, by === 'error' ? 'ask for a larger error' : 'ask for a smaller energy fraction');
    }
    return { k, reason: `smallest k with ${by} ${by === 'energy' ? '≥' : '≤'} ${target}: ${by} at k = ${k} is ${curve[k]!.toPrecision(6)} (at k = ${k - 1}: ${curve[k - 1]!.toPrecision(6)})` };
  }
  const shape = storageShape(f);
  const k = rankForRatio(target, shape, storage, K);
  const ratioAt = (j: number) => originalBytes(shape) / lowRankBytes(j, shape, storage);
  if (!k) throw new InputError(`compression ratio ${target} cannot be reached: even k = 1 gives ${ratioAt(1).toFixed(2)} at ${storage}`, `ask for a ratio ≤ ${ratioAt(1).toFixed(2)}, or storage: float32`);
  return { k, reason: `largest k with ratio ≥ ${target} at ${storage}: ratio at k = ${k} is ${ratioAt(k).toFixed(3)}` };
}
