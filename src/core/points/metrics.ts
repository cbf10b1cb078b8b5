/**
 * The one definition of the two registration metrics (Open3D's fitness_ and inlier_rmse_):
 *   fitness    = correspondences / source points, a correspondence being a source point whose
 *                nearest target point lies within the correspondence distance (higher is better)
 *   inlierRmse = RMS distance over those correspondences (lower is better)
 * ICP (per iteration), RANSAC and register's stage records all score through scoreMatches,
 * and their results share ScoredTransform; registration.ts has the one result the align
 * stage reports.
 */
import type { Matrix } from '../linalg/matrix.js';

/** What every registration step returns (Open3D's RegistrationResult, with the iteration count and convergence). */
export interface ScoredTransform {
  /** source → target, (d+1) x (d+1) */
  transform: Matrix;
  /** higher is better (see above) */
  fitness: number;
  /** lower is better (see above) */
  inlierRmse: number;
  iterations: number;
  converged: boolean;
}

/** fitness and inlier RMSE from the match count, the source size and the sum of squared distances. */
export function scoreMatches(matched: number, total: number, sumSq: number): { fitness: number; inlierRmse: number } {
  return { fitness: total ? matched / total : 0, inlierRmse: matched ? Math.sqrt(sumSq / matched) : 0 };
}
