/**
 * The streaming model's SVD update in the Gram form: the same step as IncrementalSvd.update
 * (Brand's update with a running mean and a forgetting factor, truncated to `rank`), computed from
 * the small (r + c) x (r + c) matrix MᵀM instead of an LQ of the c x d residual rows.
 *
 * With U (d x r, orthonormal), s, the old mean μ and a block of b rows x_i (mean m_B), the new
 * data in the model's terms is M = [U f·diag(s), Cᵀ] (d x (r + c)), C the rows x_i − m_B plus,
 * once the model has seen data, √(n_a b / (n_a + b))·(m_B − μ). Its leading left singular vectors
 * and values are the new U and s (what IncrementalSvd gets from [U J]·svd(K)):
 *   MᵀM = [[f² s², f diag(s) P], [Pᵀ f diag(s), C Cᵀ]], P = Uᵀ Cᵀ   (r x c)
 *   MᵀM = V Λ Vᵀ,  s_j = √λ_j,  u_j = M v_j / s_j = Σ_i U_i f s_i V_ij / s_j + Σ_k C_k V_{r+k,j} / s_j
 * then Gram-Schmidt twice on the new rows. Cost per block O(d (r + c)²/2) multiply-adds in a few
 * passes over the rows (the LQ route takes several times that), nothing d x d, nothing d x c
 * beyond the block itself.
 *
 * The Gram form resolves singular values down to ~1e-8 s_1 (the LQ route: ~1e-16 s_1), so a
 * block whose kept directions are not clearly above that (s_r < 1e-4 s_1: a nearly static or
 * degenerate scene), or a model held at a scale exponent, takes IncrementalSvd.update itself.
 */
import { IncrementalSvd, Matrix, symEig } from '../linalg/index.js';

const EPS = 2.220446049250313e-16;
/** kept directions must have s_j >= this times s_1 for the Gram form's answer (else the LQ route) */
const RESOLVED = 1e-4;

/** The model after `block` (rows = samples): a new IncrementalSvd; `model` is left as it was. */
export function gramUpdate(model: IncrementalSvd, block: Matrix): IncrementalSvd {
  const st = model.toState();
  const d = st.dim, b = block.rows, xs = block.data;
  if (block.cols !== d || b === 0 || st.exponent || !st.center) return lqUpdate(model, block);
  const r = st.s.length, f = st.forget, nA = st.nSeen * f, extra = nA > 0;
  const c = b + (extra ? 1 : 0), k = r + c;
  // block mean (row order, then / b, as IncrementalSvd.update) and the mean-correction row
  const mB = new Float64Array(d);
  for (let i = 0; i < b; i++) {
    const o = i * d;
    for (let q = 0; q < d; q++) mB[q]! += xs[o + q]!;
  }
  for (let q = 0; q < d; q++) mB[q] = mB[q]! / b;
  const w = extra ? Math.sqrt((nA * b) / (nA + b)) : 0;
  const mu = st.mean, U = st.Ut;
  // C (c x d): rows x_i − m_B (i < b) and w (m_B − μ) (i = b), in a scratch kept between calls
  // (kept for blocks of up to 8 rows, the steady case; a larger one, such as the seed's, gets its own)
  const C = c <= 8 ? (scratch.length >= c * d ? scratch : (scratch = new Float64Array(c * d))) : new Float64Array(c * d);
  for (let i = 0; i < b; i++) {
    const o = i * d;
    for (let q = 0; q < d; q++) C[o + q] = xs[o + q]! - mB[q]!;
  }
  if (extra) for (let q = 0, o = b * d; q < d; q++) C[o + q] = w * (mB[q]! - mu[q]!);
  // G = MᵀM (k x k): f² s², f s P (P_ji = U_j · C_i), C Cᵀ
  const G = new Matrix(k, k), g = G.data;
  for (let j = 0; j < r; j++) {
    g[j * k + j] = f * f * st.s[j]! * st.s[j]!;
    const fs = f * st.s[j]!;
    for (let i = 0; i < c; i++) g[j * k + r + i] = g[(r + i) * k + j] = fs * dot(U, j * d, C, i * d, d);
  }
  for (let i = 0; i < c; i++) for (let j = i; j < c; j++) g[(r + i) * k + r + j] = g[(r + j) * k + r + i] = dot(C, i * d, C, j * d, d);
  const { values, vectors } = symEig(G);
  const sv = Float64Array.from(values, (v) => Math.sqrt(Math.max(0, v)));
  // the directions IncrementalSvd keeps: at most `rank`, above 4 max(r + min(c, d), r + c) eps s_1
  const tol = 4 * (r + c) * EPS * (sv[0] ?? 0);
  let rNew = Math.min(st.rank, k, r + Math.min(c, d));
  while (rNew > 0 && !(sv[rNew - 1]! > tol)) rNew--;
  if (!sv.every(Number.isFinite) || (rNew > 0 && !(sv[rNew - 1]! >= RESOLVED * sv[0]!))) return lqUpdate(model, block);
  // u_j = (Σ_i U_i f s_i V_ij + Σ_i C_i V_{r+i,j}) / s_j
  const Ut = new Float64Array(rNew * d);
  for (let j = 0; j < rNew; j++) {
    const inv = 1 / sv[j]!, o = j * d;
    for (let i = 0; i < r; i++) axpy(f * st.s[i]! * vectors.get(i, j) * inv, U, i * d, Ut, o, d);
    for (let i = 0; i < c; i++) axpy(vectors.get(r + i, j) * inv, C, i * d, Ut, o, d);
  }
  orthonormalise(Ut, rNew, d);
  const nNew = nA + b, wa = nA / nNew, wb = b / nNew;
  const mean = new Float64Array(d);
  for (let q = 0; q < d; q++) mean[q] = wa * mu[q]! + wb * mB[q]!;
  return IncrementalSvd.fromState({ ...st, nSeen: nNew, updates: st.updates + 1, mean, Ut, s: sv.slice(0, rNew) });
}

let scratch = new Float64Array(0);

function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, n: number): number {
  let s0 = 0, s1 = 0, q = 0;
  for (; q + 1 < n; q += 2) {
    s0 += x[xo + q]! * y[yo + q]!;
    s1 += x[xo + q + 1]! * y[yo + q + 1]!;
  }
  if (q < n) s0 += x[xo + q]! * y[yo + q]!;
  return s0 + s1;
}

/** y[yo ..] += a x[xo ..] over n values */
function axpy(a: number, x: Float64Array, xo: number, y: Float64Array, yo: number, n: number): void {
  for (let q = 0; q < n; q++) y[yo + q]! += a * x[xo + q]!;
}

/** IncrementalSvd's own update on a copy (the model passed in stays as it was, as with gramUpdate). */
function lqUpdate(model: IncrementalSvd, block: Matrix): IncrementalSvd {
  const m = IncrementalSvd.fromState(model.toState());
  m.update(block);
  return m;
}

/** Gram-Schmidt twice on the r rows (length d) of Ut. */
function orthonormalise(Ut: Float64Array, r: number, d: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < r; i++) {
      const bi = i * d;
      for (let j = 0; j < i; j++) {
        const bj = j * d;
        let s = 0;
        for (let q = 0; q < d; q++) s += Ut[bi + q]! * Ut[bj + q]!;
        for (let q = 0; q < d; q++) Ut[bi + q]! -= s * Ut[bj + q]!;
      }
      let nn = 0;
      for (let q = 0; q < d; q++) nn += Ut[bi + q]! * Ut[bi + q]!;
      const inv = nn > 0 ? 1 / Math.sqrt(nn) : 0;
      for (let q = 0; q < d; q++) Ut[bi + q] = Ut[bi + q]! * inv;
    }
  }
}
