/**
 * Orthogonal Procrustes / Umeyama for matched point sets in any dimension:
 * the s, R, t minimising Σ wᵢ ‖s·R·xᵢ + t − yᵢ‖². With the weighted, centred
 * cross-covariance Σ = Σ wᵢ (yᵢ − ȳ)(xᵢ − x̄)ᵀ = U S Vᵀ, R = U D Vᵀ where
 * D = diag(1, …, 1, sign det(U Vᵀ)) (no reflection) or I (reflection allowed),
 * s = tr(S D) / Σ wᵢ‖xᵢ − x̄‖², t = ȳ − s R x̄ (Umeyama 1991).
 */
import { Matrix } from '../linalg/matrix.js';
import { svd } from '../linalg/index.js';
import { determinant } from './rigid.js';

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
  if (!(W > 0)) throw new RangeError('procrustes: the weights sum to zero');
  if (useT) for (let j = 0; j < d; j++) { mx[j]! /= W; my[j]! /= W; }
  const C = new Matrix(d, d);
  let varX = 0;
  const dx = new Float64Array(d), dy = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    const a = xi(i), b = yi(i);
    for (let j = 0; j < d; j++) { dx[j] = X.data[a + j]! - mx[j]!; dy[j] = Y.data[b + j]! - my[j]!; varX += wi * dx[j]! * dx[j]!; }
    for (let r = 0; r < d; r++) { const f = wi * dy[r]!; for (let c = 0; c < d; c++) C.data[r * d + c]! += f * dx[c]!; }
  }
  for (let i = 0; i < d * d; i++) C.data[i]! /= W;
  varX /= W;
  const { U, s, V } = svd(C, { solver: 'exact' });
  const D = new Float64Array(d).fill(1);
  // R = U Vᵀ; det(U Vᵀ) = det U · det V
  if (!opts.allowReflection && determinant(U) * determinant(V) < 0) D[d - 1] = -1;
  const R = new Matrix(d, d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) {
    let v = 0;
    for (let k = 0; k < d; k++) v += U.get(r, k) * D[k]! * V.get(c, k);
    R.data[r * d + c] = v;
  }
  let scale = 1;
  if (opts.scaling) {
    let tr = 0;
    for (let k = 0; k < d; k++) tr += s[k]! * D[k]!;
    if (!(varX > 0)) throw new RangeError('procrustes: the source points all coincide, so no scale can be estimated');
    scale = tr / varX;
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
      const e = v - Y.data[b + r]!;
      sse += wi * e * e;
    }
  }
  return { R, t, scale, reflection: determinant(R) < 0, rmse: Math.sqrt(sse / W), singularValues: s };
}
