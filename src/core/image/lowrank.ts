/**
 * Low-rank helpers on SVD factors: rebuilding U_k S_k V_kᵀ, and error/energy
 * curves over several planes (one k for all planes), from the singular values only.
 *
 * Relative error of the rank-k image against the ORIGINAL (mean included):
 *   e_k = sqrt( Σ_planes (‖A_p‖² − Σ_{i<k} σ_{p,i}²) ) / sqrt( Σ_planes ‖A_p + mean_p‖² )
 * where A_p is the centred plane that was factorised (so ‖A_p‖² − Σ_{i<k} σ² = Σ_{i≥k} σ²,
 * including values the SVD did not compute). The mean is stored exactly, so it adds no error.
 */
import { Matrix, gemm, relativeErrors, cumulativeEnergy } from '../linalg/index.js';
import type { SvdFactors } from '../ports.js';

/** U[:, :k] diag(s[:k]) V[:, :k]ᵀ as a new m x n matrix. */
export function rebuild(f: SvdFactors, k: number): Matrix {
  const m = f.U.rows, n = f.V.rows;
  const US = new Matrix(m, k);
  const ud = f.U.data, uo = f.U.offset, us = f.U.stride, d = US.data, s = f.s;
  for (let i = 0; i < m; i++) for (let r = uo + i * us, o = i * k, j = 0; j < k; j++) d[o + j] = ud[r + j]! * s[j]!;
  const Vk = f.V.block(0, n, 0, k);
  return gemm(US, Vk, { transB: true });
}

/** Number of values usable for every plane (the smallest s.length). */
export function commonLength(factors: readonly SvdFactors[]): number {
  return Math.min(...factors.map((f) => f.s.length));
}

/**
 * Length K+1 (K = commonLength): entry k = relative Frobenius error of the rank-k approximation
 * against `denomNormSq` per plane (default: the factorised matrices' norms).
 */
export function combinedErrors(factors: readonly SvdFactors[], denomNormSq?: readonly number[]): Float64Array {
  const K = commonLength(factors);
  const tailSq = new Float64Array(K + 1);
  let denom = 0;
  factors.forEach((f, p) => {
    // relativeErrors(s, ‖A‖²)[k]² · ‖A‖² = tail_k, summed from the small end by the core
    const e = relativeErrors(f.s, f.normSq);
    for (let k = 0; k <= K; k++) tailSq[k]! += e[k]! * e[k]! * f.normSq;
    denom += denomNormSq ? denomNormSq[p]! : f.normSq;
  });
  const out = new Float64Array(K + 1);
  if (denom <= 0) return out;
  for (let k = 0; k <= K; k++) out[k] = Math.sqrt(Math.max(0, tailSq[k]!) / denom);
  return out;
}

/** Length K+1: entry k = Σ_planes Σ_{i<k} σ² / Σ_planes ‖A_p‖² (fraction of the centred energy kept). */
export function combinedEnergy(factors: readonly SvdFactors[]): Float64Array {
  const K = commonLength(factors);
  if (factors.length === 1) return cumulativeEnergy(factors[0]!.s, factors[0]!.normSq).slice(0, K + 1);
  const out = new Float64Array(K + 1);
  let tot = 0;
  for (const f of factors) tot += f.normSq;
  if (tot <= 0) return out.fill(1);
  let acc = 0;
  for (let k = 1; k <= K; k++) {
    for (const f of factors) acc += f.s[k - 1]! * f.s[k - 1]!;
    out[k] = Math.min(1, acc / tot);
  }
  return out;
}
