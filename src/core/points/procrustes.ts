/**
 * Orthogonal Procrustes / Umeyama for matched point sets in any dimension:
 * the s, R, t minimising Σ wᵢ ‖s·R·xᵢ + t − yᵢ‖². With the weighted, centred
 * cross-covariance Σ = Σ wᵢ (yᵢ − ȳ)(xᵢ − x̄)ᵀ = U S Vᵀ, R = U D Vᵀ where
 * D = diag(1, …, 1, sign det(U Vᵀ)) (no reflection) or I (reflection allowed),
 * s = tr(S D) / Σ wᵢ‖xᵢ − x̄‖², t = ȳ − s R x̄ (Umeyama 1991).
 *
 * The centred coordinates are scaled by a power of two (exact) before the products, so
 * clouds at 1e-200 or 1e200 neither underflow nor overflow. Where the data do not
 * determine the answer the result says so in `warnings` (never NaN): R is unique only when
 * rank Σ >= d - 1 (d with reflections allowed), i.e. not for collinear 3-D or coincident
 * points; and a residual comparable to the target's own spread means the rows are not in
 * correspondence (e.g. shuffled), which a least-squares fit cannot detect by itself.
 */
import { PointsError } from './errors.js';
import { Matrix } from '../linalg/matrix.js';
import { svd } from '../linalg/index.js';
import { determinant } from './rigid.js';
import { pow2Mul, scaleExponent } from '../linalg/scale.js';

/** Σ's singular values below this fraction of the largest count as zero (rank of the geometry). */
export const RANK_TOL = 1e-12;
/** Above this ratio of RMSE to the target's RMS spread, the fit explains too little for matched points. */
export const MISMATCH_RATIO = 0.5;

export interface ProcrustesOptions {
  /** estimate a translation (default true); false fits s·R·x about the origin */
  translation?: boolean;
  /** estimate a uniform scale (Umeyama, default false) */
  scaling?: boolean;
  /** allow det(R) = −1 (default false: the best proper rotation) */
  allowReflection?: boolean;
  /** one non-negative weight per pair (default all 1) */
  weights?: ArrayLike<number>;
}

export interface ProcrustesResult {
  R: Matrix;
  t: Float64Array;
  scale: number;
  /** det(R) < 0 */
  reflection: boolean;
  /** weighted RMS residual ‖s·R·x + t − y‖ after the fit */
  rmse: number;
  /** singular values of the cross-covariance (diagnostics: a zero one means a degenerate, e.g. collinear, set) */
  singularValues: Float64Array;
  /** RMSE / RMS distance of the target points from their mean: ~0 for a good fit, ~1 when the fit explains nothing */
  relativeRmse: number;
  /** why the result cannot be trusted (rotation not determined by the geometry, rows not in correspondence); empty when none */
  warnings: string[];
}

/**
 * Fits y ≈ s·R·x + t for matched rows of X (source) and Y (target), both n x d.
 * `pairs` optionally restricts to rows (srcIdx[i], dstIdx[i]) of X and Y.
 */
export function procrustes(X: Matrix, Y: Matrix, opts: ProcrustesOptions = {}, pairs?: { src: Int32Array; dst: Int32Array; count: number }): ProcrustesResult {
  const d = X.cols;
  const n = pairs ? pairs.count : X.rows;
  const w = opts.weights;
  const useT = opts.translation !== false;
  const mx = new Float64Array(d), my = new Float64Array(d);
  let W = 0;
  const xi = (i: number) => X.offset + (pairs ? pairs.src[i]! : i) * X.stride;
  const yi = (i: number) => Y.offset + (pairs ? pairs.dst[i]! : i) * Y.stride;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    W += wi;
    if (!useT) continue;
    const a = xi(i), b = yi(i);
    for (let j = 0; j < d; j++) { mx[j]! += wi * X.data[a + j]!; my[j]! += wi * Y.data[b + j]!; }
  }
  if (!(W > 0)) throw new PointsError('procrustes: the weights sum to zero', 'give at least one positive weight');
  if (useT) for (let j = 0; j < d; j++) { mx[j]! /= W; my[j]! /= W; }
  // scale the centred coordinates into [0.5, 1) (by 2^ex, exact) when they are tiny or huge
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const a = xi(i), b = yi(i);
    for (let j = 0; j < d; j++) amax = Math.max(amax, Math.abs(X.data[a + j]! - mx[j]!), Math.abs(Y.data[b + j]! - my[j]!));
  }
  const ex = amax > 2 ** -200 && amax < 2 ** 200 ? 0 : scaleExponent(amax, 1, 1);
  const f2 = ex === 0 ? 1 : 2 ** Math.max(-1000, Math.min(1000, ex)); // |ex| <= 1074: two factors when beyond 1000
  const f3 = ex === 0 ? 1 : pow2Mul(1, ex - Math.max(-1000, Math.min(1000, ex)));
  const C = new Matrix(d, d);
  let varX = 0, varY = 0;
  const dx = new Float64Array(d), dy = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    const a = xi(i), b = yi(i);
    for (let j = 0; j < d; j++) {
      dx[j] = (X.data[a + j]! - mx[j]!) * f2 * f3; dy[j] = (Y.data[b + j]! - my[j]!) * f2 * f3;
      varX += wi * dx[j]! * dx[j]!; varY += wi * dy[j]! * dy[j]!;
    }
    for (let r = 0; r < d; r++) { const f = wi * dy[r]!; for (let c = 0; c < d; c++) C.data[r * d + c]! += f * dx[c]!; }
  }
  for (let i = 0; i < d * d; i++) C.data[i]! /= W;
  varX /= W;
  varY /= W;
  const { U, s, V } = svd(C, { solver: 'exact' });
  const D = new Float64Array(d).fill(1);
  // R = U Vᵀ; det(U Vᵀ) = det U · det V
  if (!opts.allowReflection && determinant(U) * determinant(V) < 0) D[d - 1] = -1;
  const R = new Matrix(d, d);
  if (!(varX > 0) || !(varY > 0)) {
    for (let k = 0; k < d; k++) R.data[k * d + k] = 1; // nothing to rotate: the identity (and a warning below)
  } else {
    for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += U.get(r, k) * D[k]! * V.get(c, k);
      R.data[r * d + c] = v;
    }
  }
  let scale = 1;
  if (opts.scaling) {
    let tr = 0;
    for (let k = 0; k < d; k++) tr += s[k]! * D[k]!;
    if (!(varX > 0)) throw new PointsError('procrustes: the source points all coincide, so no scale can be estimated', 'give distinct points, or set scaling: false');
    scale = tr / varX; // both in the same scaled units: the ratio is scale-free
  }
  const t = new Float64Array(d);
  for (let r = 0; r < d; r++) {
    let v = 0;
    for (let c = 0; c < d; c++) v += R.get(r, c) * mx[c]!;
    t[r] = my[r]! - scale * v;
  }
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    const a = xi(i), b = yi(i);
    for (let r = 0; r < d; r++) {
      let v = t[r]!;
      for (let c = 0; c < d; c++) v += scale * R.get(r, c) * X.data[a + c]!;
      const e = (v - Y.data[b + r]!) * f2 * f3;
      sse += wi * e * e;
    }
  }
  const rmseScaled = Math.sqrt(sse / W);
  const rmse = ex === 0 ? rmseScaled : pow2Mul(rmseScaled, -ex);
  const spread = Math.sqrt(varY);
  const relativeRmse = spread > 0 ? rmseScaled / spread : rmseScaled > 0 ? Infinity : 0;
  const singularValues = ex === 0 ? s : s.map((v) => pow2Mul(v, -2 * ex));
  return { R, t, scale, reflection: determinant(R) < 0, rmse, singularValues, relativeRmse, warnings: procrustesWarnings(s, d, !!opts.allowReflection, varX, varY, relativeRmse, rmse, pow2Mul(spread, -ex)) };
}

/** What the data leave undetermined or contradict (see the module comment). */
function procrustesWarnings(s: Float64Array, d: number, reflection: boolean, varX: number, varY: number, rel: number, rmse: number, spread: number): string[] {
  const out: string[] = [];
  const need = reflection ? d : d - 1; // non-zero singular values the rotation needs
  const rank = s.filter((v) => v > RANK_TOL * s[0]!).length;
  const sv = Array.from(s, (v) => (s[0]! > 0 ? v / s[0]! : 0).toPrecision(2)).join(', ');
  if (!(varX > 0) || !(varY > 0)) {
    out.push(`procrustes: all ${!(varX > 0) ? 'source' : 'target'} points coincide, so no rotation is determined by the data (the identity is returned); give points that span ${d === 2 ? 'a line' : 'a plane'}`);
  } else if (rank < need) {
    const what = d === 3 && rank === 1 ? 'the points are collinear, so the rotation about their line' : `the points span only ${rank} dimension${rank === 1 ? '' : 's'}, so the rotation`;
    out.push(`procrustes: ${what} is not determined by the data (cross-covariance singular values relative to the largest: ${sv}); the result is one of many equally good fits${reflection && rank === d - 1 ? ' (with allowReflection a mirror image fits as well)' : ''}`);
  }
  if (out.length === 0 && rel > MISMATCH_RATIO) {
    out.push(`procrustes: the residuals are ${rel.toFixed(2)} x the target's spread (RMSE ${rmse.toPrecision(3)} vs RMS distance to its mean ${spread.toPrecision(3)}): matched points should fit far better, so row i of the source is probably not the same point as row i of the target (shuffled or unmatched); use method: icp when the correspondence is unknown`);
  }
  return out;
}
