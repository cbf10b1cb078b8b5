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
 * then Gram-Schmidt twice on the new rows. Cost per block O(d (r + c)²/2) multiply-adds, on the
 * pixel kernels (gram_f64: the Gram matrix of the rows [U; C] in cache-sized chunks, f64x2 lanes;
 * combine_f64: the new rows in one pass); the LQ route takes several times that. Nothing d x d;
 * the (r + c) x d rows live in this thread's kernel heap, reused from batch to batch.
 *
 * The Gram form resolves singular values down to ~1e-8 s_1 (the LQ route: ~1e-16 s_1), so a
 * block whose kept directions are not clearly above that (s_r < 1e-4 s_1: a nearly static or
 * degenerate scene), or a model held at a scale exponent, takes IncrementalSvd.update itself.
 */
import { IncrementalSvd, Matrix, symEig } from '../linalg/index.js';
import { orthonormaliseRows } from '../linalg/incremental.js';
import { heapStart, heapSlot, pixelKernels, type PixelKernels } from './kernels/index.js';

/** this thread's kernels for the steady blocks (their heap holds the update's rows between batches) */
let steady: PixelKernels | undefined;
/** the most bytes the steady heap has been asked to hold */
let steadyBytes = 0;

/** The most bytes this thread's steady update heap has held (tests: a one-off block does not grow it). */
export function steadyHeapBytes(): number {
  return steadyBytes;
}

const EPS = 2.220446049250313e-16;
/** kept directions must have s_j >= this times s_1 for the Gram form's answer (else the LQ route) */
const RESOLVED = 1e-4;

/**
 * The model after `block` (rows = samples): a new IncrementalSvd; `model` is left as it was.
 * `oneOff`: a block unlike the steady ones (the first batch of a model, such as the 45-frame seed
 * sample: 15 rows where the steady batches have 5) works in a kernel heap of its own, dropped
 * afterwards, so that this thread's steady heap (WebAssembly memory never shrinks) keeps only
 * the steady blocks' size: 2.8 MB instead of the seed's 6.2 MB at 480x360.
 */
export function gramUpdate(model: IncrementalSvd, block: Matrix, oneOff = false): IncrementalSvd {
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
  const mu = st.mean;
  // rows [U_0 .. U_{r-1}, C_0 .. C_{c-1}] in the kernels' heap, C_i = x_i − m_B (i < b), w (m_B − μ) (i = b);
  // this thread's kernels: the heap grows to the largest steady block and is reused (a heap per
  // call would stay resident until the thread's next GC); a one-off block gets its own
  const kern = oneOff ? pixelKernels() : (steady ??= pixelKernels()), al = heapSlot;
  const ROWS = heapStart(kern), GB = ROWS + al(8 * k * d), AB = GB + al(8 * k * k), OUT = AB + al(8 * st.rank * k);
  if (!kern.reserve(OUT + al(8 * st.rank * d))) return lqUpdate(model, block);
  if (kern === steady) steadyBytes = Math.max(steadyBytes, OUT + al(8 * st.rank * d));
  const heap = new Float64Array(kern.buffer), R = ROWS >> 3;
  heap.set(st.Ut.subarray(0, r * d), R);
  for (let i = 0; i < b; i++) {
    const o = i * d, h = R + (r + i) * d;
    for (let q = 0; q < d; q++) heap[h + q] = xs[o + q]! - mB[q]!;
  }
  if (extra) for (let q = 0, h = R + (r + b) * d; q < d; q++) heap[h + q] = w * (mB[q]! - mu[q]!);
  // G = MᵀM (k x k): f² s², f s P (P_ji = U_j · C_i), C Cᵀ, from the Gram matrix of the rows
  kern.gramF64(d, k, ROWS, GB);
  const all = new Float64Array(kern.buffer, GB, k * k).slice();
  const G = new Matrix(k, k), g = G.data;
  for (let j = 0; j < r; j++) {
    g[j * k + j] = f * f * st.s[j]! * st.s[j]!;
    const fs = f * st.s[j]!;
    for (let i = 0; i < c; i++) g[j * k + r + i] = g[(r + i) * k + j] = fs * all[j * k + r + i]!;
  }
  for (let i = 0; i < c; i++) for (let j = i; j < c; j++) g[(r + i) * k + r + j] = g[(r + j) * k + r + i] = all[(r + i) * k + r + j]!;
  const { values, vectors } = symEig(G);
  const sv = Float64Array.from(values, (v) => Math.sqrt(Math.max(0, v)));
  // the directions IncrementalSvd keeps: at most `rank`, above 4 max(r + min(c, d), r + c) eps s_1
  const tol = 4 * (r + c) * EPS * (sv[0] ?? 0);
  let rNew = Math.min(st.rank, k, r + Math.min(c, d));
  while (rNew > 0 && !(sv[rNew - 1]! > tol)) rNew--;
  if (!sv.every(Number.isFinite) || (rNew > 0 && !(sv[rNew - 1]! >= RESOLVED * sv[0]!))) return lqUpdate(model, block);
  // u_j = (Σ_i U_i f s_i V_ij + Σ_i C_i V_{r+i,j}) / s_j: one pass over the rows (combineF64)
  const A = new Float64Array(kern.buffer, AB, rNew * k);
  for (let j = 0; j < rNew; j++) {
    const inv = 1 / sv[j]!;
    for (let i = 0; i < r; i++) A[j * k + i] = f * st.s[i]! * vectors.get(i, j) * inv;
    for (let i = 0; i < c; i++) A[j * k + r + i] = vectors.get(r + i, j) * inv;
  }
  if (rNew > 0) kern.combineF64(d, k, ROWS, rNew, AB, OUT);
  const Ut = new Float64Array(kern.buffer, OUT, rNew * d).slice();
  orthonormaliseRows(Ut, rNew, d);
  const nNew = nA + b, wa = nA / nNew, wb = b / nNew;
  const mean = new Float64Array(d);
  for (let q = 0; q < d; q++) mean[q] = wa * mu[q]! + wb * mB[q]!;
  return IncrementalSvd.fromState({ ...st, nSeen: nNew, updates: st.updates + 1, mean, Ut, s: sv.slice(0, rNew) });
}

/** IncrementalSvd's own update on a copy (the model passed in stays as it was, as with gramUpdate). */
function lqUpdate(model: IncrementalSvd, block: Matrix): IncrementalSvd {
  const m = IncrementalSvd.fromState(model.toState());
  m.update(block);
  return m;
}
