/**
 * Linear-algebra pool tasks: the SVD (exact, Gram, randomized) with the input's squared
 * Frobenius norm, for the svd stage and anything else that factorises a large matrix.
 */
import { svd, frobeniusNormSq, type Matrix, type SvdOptions, type SvdResult } from '../../linalg/index.js';
import { defineTasks, taskProgress } from '../index.js';

export const tasks = defineTasks(import.meta.url, {
  /** svd(A, opts) and ‖A‖²_F; reports progress in estimated flops */
  svd(A: Matrix, opts: Omit<SvdOptions, 'onProgress'>): SvdResult & { normSq: number } {
    return { ...svd(A, { ...opts, onProgress: taskProgress() }), normSq: frobeniusNormSq(A) };
  },
});

/** Rough flop count of an SVD of A, to decide inline vs pooled. */
export function svdWork(rows: number, cols: number): number {
  const mn = Math.min(rows, cols), mx = Math.max(rows, cols);
  return 4 * mx * mn * mn;
}

/** Below this many flops (a few ms) a task runs inline: the thread hop would cost more. */
export const INLINE_WORK = 2e7;
