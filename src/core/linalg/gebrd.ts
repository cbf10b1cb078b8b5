/**
 * Blocked Householder bidiagonalisation (LAPACK dgebrd/dlabrd, upper bidiagonal, p >= n),
 * on a row-major matrix. Each panel of NB columns is reduced with matrix-vector products
 * against the (not yet updated) trailing matrix, accumulating X (p x NB) and Y (n x NB) so
 * that the trailing update A -= U Yᵀ + X V is two GEMMs: half of the flops become GEMM.
 *
 * All the panel's matrix-vector products (the two big ones per column against the trailing
 * matrix, and the small ones with the panel's U, V, X, Y) go through gemvN/gemvT on one heap
 * (W, X, Y and work vectors): a WebAssembly SIMD kernel working in the module's memory
 * (default), or the same operations in TS when WebAssembly SIMD is unavailable.
 */
import { Matrix } from './matrix.js';
import { gemm, PARALLEL_MIN } from './gemm.js';
import { teamAvailable, panelTeam, PANEL_N, PANEL_T, type PanelTeam } from './team.js';
import { makeReflector, type Reflectors } from './householder.js';
import { newSharedWasmInstance, newWasmInstance, WASM_HEAP } from './wasm/kernel.js';
import { progressWithin } from './progress.js';

const NB = 32;

/** A panel product with the trailing matrix of at least this many values is split over the thread team. */
export let PANEL_SPLIT_MIN = 1 << 16;
export function setPanelSplitMin(v: number): void { PANEL_SPLIT_MIN = v; }

/** Milliseconds of the last bidiagonalisation's GEMM trailing updates (the rest is panel work). */
export const gebrdTimes = { trailing: 0 };

/** Run the panel matrix-vector products in WebAssembly SIMD when available (default). */
export let USE_WASM_GEMV = true;
export function setWasmGemv(v: boolean): void { USE_WASM_GEMV = v; }

/** x[r*xs] = beta x[r*xs] + alpha A[r, :cols] . v(stride vs), A at a with row stride lda (heap offsets). */
type GemvN = (rows: number, cols: number, a: number, lda: number, v: number, vs: number, x: number, xs: number, alpha: number, beta: number) => void;
/** y[c] = beta y[c] + alpha sum_r u[r*us] A[r, c], y contiguous (heap offsets). */
type GemvT = (rows: number, cols: number, a: number, lda: number, u: number, us: number, y: number, alpha: number, beta: number) => void;

function tsGemv(h: Float64Array): { gN: GemvN; gT: GemvT } {
  return {
    gN(rows, cols, a, lda, v, vs, x, xs, alpha, beta) {
      for (let r = 0; r < rows; r++) {
        const ab = a + r * lda;
        let s0 = 0, s1 = 0, c = 0;
        if (vs === 1) {
          for (; c + 1 < cols; c += 2) { s0 += h[ab + c]! * h[v + c]!; s1 += h[ab + c + 1]! * h[v + c + 1]!; }
        }
        for (; c < cols; c++) s0 += h[ab + c]! * h[v + c * vs]!;
        const o = x + r * xs;
        h[o] = beta === 0 ? alpha * (s0 + s1) : beta * h[o]! + alpha * (s0 + s1);
      }
    },
    gT(rows, cols, a, lda, u, us, y, alpha, beta) {
      if (beta === 0) h.fill(0, y, y + cols);
      else if (beta !== 1) for (let c = 0; c < cols; c++) h[y + c]! *= beta;
      let r = 0;
      for (; r + 1 < rows; r += 2) {
        const u0 = alpha * h[u + r * us]!, u1 = alpha * h[u + (r + 1) * us]!;
        const r0 = a + r * lda, r1 = r0 + lda;
        for (let c = 0; c < cols; c++) h[y + c]! += u0 * h[r0 + c]! + u1 * h[r1 + c]!;
      }
      if (r < rows) {
        const u0 = alpha * h[u + r * us]!, r0 = a + r * lda;
        for (let c = 0; c < cols; c++) h[y + c]! += u0 * h[r0 + c]!;
      }
    },
  };
}

const bidiagWork = (p: number, n: number) => (n <= 0 ? 0 : 4 * p * n * n - (4 / 3) * n * n * n);

export function bidiagonalizeBlocked(W0: Matrix, nb = NB): { d: Float64Array; e: Float64Array; left: Reflectors; right: Reflectors } {
  const p = W0.rows, n = W0.cols;
  const mx = Math.max(p, n);
  // heap layout (doubles): W p x n | X p x nb | Y n x nb | vec | out | tmp | tmp2
  const xO = p * n, yO = xO + p * nb, vecO = yO + n * nb, outO = vecO + mx, tmpO = outO + mx, tmp2O = tmpO + nb;
  const total = tmp2O + nb;
  // with the thread team running and trailing updates worth splitting, the working copy lives
  // in shared memory, so that the helpers write their parts of the updates in place
  const split = teamAvailable() && (p - nb) * (n - nb) * nb >= PARALLEL_MIN;
  const bytes = WASM_HEAP + total * 8;
  const inst = USE_WASM_GEMV && p * n >= 1024 ? (split ? newSharedWasmInstance(bytes) : null) ?? newWasmInstance() : null;
  const buf = inst?.reserve(bytes);
  let h: Float64Array, gN: GemvN, gT: GemvT;
  // the two products per column with the whole trailing matrix (bigN, bigT): split over the
  // thread team when the working copy is in shared WebAssembly memory (team.ts, panelTeam)
  let bigN: GemvN, bigT: GemvT;
  let pt: PanelTeam | null = null;
  if (inst && buf) {
    h = new Float64Array(buf, WASM_HEAP, total);
    const wn = inst.exports.gemv_n as GemvN, wt = inst.exports.gemv_t as GemvT;
    const B = (o: number) => WASM_HEAP + o * 8;
    gN = (rows, cols, a, lda, v, vs, x, xs, alpha, beta) => wn(rows, cols, B(a), lda, B(v), vs, B(x), xs, alpha, beta);
    gT = (rows, cols, a, lda, u, us, y, alpha, beta) => wt(rows, cols, B(a), lda, B(u), us, B(y), alpha, beta);
    bigN = gN; bigT = gT;
    const memory = (inst as { memory?: unknown }).memory;
    if (split && memory) {
      pt = panelTeam(memory, (kind, rows, cols, a, lda, v, vs, x, xs, alpha, beta) => (kind === PANEL_N ? wn(rows, cols, a, lda, v, vs, x, xs, alpha, beta) : wt(rows, cols, a, lda, v, vs, x, alpha, beta)));
      if (pt) {
        const team = pt;
        bigN = (rows, cols, a, lda, v, vs, x, xs, alpha, beta) => (rows * cols >= PANEL_SPLIT_MIN ? team.run(PANEL_N, rows, cols, B(a), lda, B(v), vs, B(x), xs, alpha, beta) : gN(rows, cols, a, lda, v, vs, x, xs, alpha, beta));
        bigT = (rows, cols, a, lda, u, us, y, alpha, beta) => (rows * cols >= PANEL_SPLIT_MIN ? team.run(PANEL_T, rows, cols, B(a), lda, B(u), us, B(y), 1, alpha, beta) : gT(rows, cols, a, lda, u, us, y, alpha, beta));
      }
    }
  } else {
    h = split ? new Float64Array(new SharedArrayBuffer(total * 8)) : new Float64Array(total);
    ({ gN, gT } = tsGemv(h));
    bigN = gN; bigT = gT;
  }
  try {
    return reduce(W0, p, n, nb, h, gN, gT, bigN, bigT, pt);
  } finally {
    pt?.pause();
  }
}

function reduce(W0: Matrix, p: number, n: number, nb: number, h: Float64Array, gN: GemvN, gT: GemvT, bigN: GemvN, bigT: GemvT, pt: PanelTeam | null): { d: Float64Array; e: Float64Array; left: Reflectors; right: Reflectors } {
  const mx = Math.max(p, n);
  const xO = p * n, yO = xO + p * nb, vecO = yO + n * nb, outO = vecO + mx, tmpO = outO + mx, tmp2O = tmpO + nb;
  for (let i = 0; i < p; i++) h.set(W0.row(i), i * n);
  const W = new Matrix(p, n, h);
  const Wi = (i: number, j: number) => i * n + j;
  const Xi = (r: number, t: number) => xO + r * nb + t;
  const Yi = (c: number, t: number) => yO + c * nb + t;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tauq = new Float64Array(n);
  const taup = new Float64Array(n);
  gebrdTimes.trailing = 0;
  for (let b = 0; b < n; b += nb) {
    const nbb = Math.min(nb, n - b);
    h.fill(0, xO, vecO);
    for (let j = 0; j < nbb; j++) {
      const g = b + j;
      // 1. column g, rows g..p-1: -= U[:, b:g] Y[g, 0:j]ᵀ + X[:, 0:j] V[0:j, g]
      if (j > 0) {
        gN(p - g, j, Wi(g, b), n, Yi(g, 0), 1, Wi(g, g), n, -1, 1);
        gN(p - g, j, Xi(g, 0), nb, Wi(b, g), n, Wi(g, g), n, -1, 1);
      }
      // 2. left reflector u on column g
      tauq[g] = makeReflector(h, Wi(g, g), p - g, n);
      d[g] = h[Wi(g, g)]!;
      h[Wi(g, g)] = 1;
      if (g >= n - 1) continue;
      const c0 = g + 1, nc = n - c0;
      // 3. Y[c0:n, j] = tauq (A[g:p, c0:n]ᵀ u - Y[c0:n, 0:j] (U[g:p, b:g]ᵀ u) - V[0:j, c0:n]ᵀ (X[g:p, 0:j]ᵀ u))
      bigT(p - g, nc, Wi(g, c0), n, Wi(g, g), n, vecO, 1, 0);
      if (j > 0) {
        gT(p - g, j, Wi(g, b), n, Wi(g, g), n, tmpO, 1, 0);
        gT(p - g, j, Xi(g, 0), nb, Wi(g, g), n, tmp2O, 1, 0);
        gN(nc, j, Yi(c0, 0), nb, tmpO, 1, vecO, 1, -1, 1);
        gT(j, nc, Wi(b, c0), n, tmp2O, 1, vecO, -1, 1);
      }
      const tq = tauq[g]!;
      for (let c = 0; c < nc; c++) h[Yi(c0 + c, j)] = tq * h[vecO + c]!;
      // 4. row g, cols c0..n-1: -= Y[c0:n, 0:j+1] U[g, b:g+1]ᵀ + V[0:j, c0:n]ᵀ X[g, 0:j]ᵀ
      gN(nc, j + 1, Yi(c0, 0), nb, Wi(g, b), 1, Wi(g, c0), 1, -1, 1);
      if (j > 0) gT(j, nc, Wi(b, c0), n, Xi(g, 0), 1, Wi(g, c0), -1, 1);
      // 5. right reflector v on row g, cols c0..n-1
      taup[g] = makeReflector(h, Wi(g, c0), nc, 1);
      e[g] = h[Wi(g, c0)]!;
      h[Wi(g, c0)] = 1;
      // 6. X[g+1:p, j] = taup (A[g+1:p, c0:n] v - U[g+1:p, b:g+1] (Y[c0:n, 0:j+1]ᵀ v) - X[g+1:p, 0:j] (V[0:j, c0:n] v))
      const rows = p - g - 1;
      bigN(rows, nc, Wi(g + 1, c0), n, Wi(g, c0), 1, outO, 1, 1, 0);
      gT(nc, j + 1, Yi(c0, 0), nb, Wi(g, c0), 1, tmpO, 1, 0);
      gN(rows, j + 1, Wi(g + 1, b), n, tmpO, 1, outO, 1, -1, 1);
      if (j > 0) {
        gN(j, nc, Wi(b, c0), n, Wi(g, c0), 1, tmp2O, 1, 1, 0);
        gN(rows, j, Xi(g + 1, 0), nb, tmp2O, 1, outO, 1, -1, 1);
      }
      const tp = taup[g]!;
      for (let r = 0; r < rows; r++) h[Xi(g + 1 + r, j)] = tp * h[outO + r]!;
    }
    // trailing update A[b+nbb:p, b+nbb:n] -= U Yᵀ + X V
    const t0 = b + nbb;
    if (t0 < n) {
      const tt = performance.now();
      const C = W.block(t0, p, t0, n);
      const Ub = W.block(t0, p, b, t0);
      const Yb = new Matrix(n - t0, nbb, h, Yi(t0, 0), nb);
      const Xb = new Matrix(p - t0, nbb, h, Xi(t0, 0), nb);
      const Vb = W.block(b, t0, t0, n);
      pt?.pause(); // the helper takes GEMM parts now
      gemm(Ub, Yb, { transB: true, alpha: -1, beta: 1, C });
      gemm(Xb, Vb, { alpha: -1, beta: 1, C });
      pt?.resume();
      gebrdTimes.trailing += performance.now() - tt;
    }
    // work left after column t0 is about 4(p - t0)(n - t0)² - 4/3 (n - t0)³ flops
    progressWithin(1 - bidiagWork(p - t0, n - t0) / bidiagWork(p, n));
  }
  // reflectors, row-wise
  const left: Reflectors = { V: new Matrix(n, p), tau: tauq, start: new Int32Array(n) };
  const right: Reflectors = { V: new Matrix(n, n), tau: taup, start: new Int32Array(n) };
  const lv = left.V.data, rv = right.V.data;
  for (let k = 0; k < n; k++) {
    left.start[k] = k;
    right.start[k] = Math.min(k + 1, n);
    const lb = k * p;
    lv[lb + k] = 1;
    for (let i = k + 1; i < p; i++) lv[lb + i] = h[i * n + k]!;
    if (k + 2 < n) {
      const rb = k * n;
      rv[rb + k + 1] = 1;
      for (let j = k + 2; j < n; j++) rv[rb + j] = h[rb + j]!;
    } else {
      taup[k] = 0;
    }
  }
  return { d, e, left, right };
}
