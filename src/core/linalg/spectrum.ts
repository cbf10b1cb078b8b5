/**
 * Helpers on a spectrum of singular values (descending), computed without
 * rebuilding anything. `totalNormSq` is ||A||_F²; when omitted it is sum s_i²
 * (the SVD was complete). When the SVD was truncated, pass ||A||_F² so that the
 * tail includes the part of the spectrum that was not computed.
 *
 * A zero total (zero matrix) means nothing to capture: every error is 0 and
 * every energy fraction is 1. Choosing k from these curves is core/image/rank.ts's job.
 */

function total(s: ArrayLike<number>, totalNormSq?: number): { tot: number; sq: Float64Array } {
  const sq = new Float64Array(s.length);
  let sum = 0;
  for (let i = 0; i < s.length; i++) { sq[i] = s[i]! * s[i]!; sum += sq[i]!; }
  return { tot: totalNormSq === undefined ? sum : Math.max(totalNormSq, 0), sq };
}

/** Length s.length+1; entry k = ||A - A_k||_F / ||A||_F for the best rank-k approximation A_k. */
export function relativeErrors(s: ArrayLike<number>, totalNormSq?: number): Float64Array {
  const { tot, sq } = total(s, totalNormSq);
  const n = s.length;
  const out = new Float64Array(n + 1);
  if (tot === 0) return out;
  let kept = 0;
  for (let i = 0; i < n; i++) kept += sq[i]!;
  // the part of ||A||² beyond the computed values; a difference within the rounding of the sums
  // (n ulps of the total) is noise, not energy: counting it would put sqrt(eps)-sized errors
  // (~1e-8) on a complete spectrum, depending on which way the last bits of sum s_i² fell
  const diff = tot - kept;
  const unknown = diff > Math.max(1, n) * 2.220446049250313e-16 * tot ? diff : 0;
  let tail = unknown;
  out[n] = Math.sqrt(tail / tot);
  for (let k = n - 1; k >= 0; k--) {
    tail += sq[k]!; // summed from the small end for accuracy
    out[k] = Math.min(1, Math.sqrt(tail / tot));
  }
  return out;
}

/** Length s.length+1; entry k = sum_{i<k} s_i² / ||A||_F². */
export function cumulativeEnergy(s: ArrayLike<number>, totalNormSq?: number): Float64Array {
  const { tot, sq } = total(s, totalNormSq);
  const n = s.length;
  const out = new Float64Array(n + 1);
  if (tot === 0) return out.fill(1);
  let acc = 0;
  for (let k = 1; k <= n; k++) {
    acc += sq[k - 1]!;
    out[k] = Math.min(1, acc / tot);
  }
  return out;
}
