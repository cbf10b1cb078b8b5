/**
 * Blocked Householder bidiagonalisation (LAPACK dgebrd/dlabrd, upper bidiagonal, p >= n),
 * on a row-major matrix. Each panel of NB columns is reduced with two matrix-vector
 * products per column against the (not yet updated) trailing matrix, accumulating
 * X (p x NB) and Y (n x NB) so that the trailing update A -= U Yᵀ + X V is two GEMMs:
 * half of the 8/3 n³ (or 4pn² - 4n³/3) flops become GEMM instead of rank-2 updates.
 * The two products per column read the trailing matrix row by row (contiguous).
 */
import { Matrix } from './matrix.js';
import { gemm } from './gemm.js';
import { makeReflector, type Reflectors } from './householder.js';
import { newWasmInstance, WASM_HEAP } from './wasm/kernel.js';

/** Run the two panel matrix-vector products in WebAssembly SIMD when available (default). */
export let USE_WASM_GEMV = true;
export function setWasmGemv(v: boolean): void { USE_WASM_GEMV = v; }

const NB = 32;

export function bidiagonalizeBlocked(W: Matrix, nb = NB): { d: Float64Array; e: Float64Array; left: Reflectors; right: Reflectors } {
  const p = W.rows, n = W.cols;
  // with WebAssembly, the working copy lives in the module's memory so that its SIMD
  // matrix-vector products read it in place; otherwise a plain copy
  const inst = USE_WASM_GEMV && p * n >= 4096 ? newWasmInstance() : null;
  const mx = Math.max(p, n);
  let vec: Float64Array, out: Float64Array;
  let gemvT: ((rows: number, cols: number, a: number, lda: number, u: number, us: number, y: number) => void) | undefined;
  let gemvN: ((rows: number, cols: number, a: number, lda: number, v: number, x: number) => void) | undefined;
  const wB = WASM_HEAP, vecB = wB + p * n * 8, outB = vecB + mx * 8;
  if (inst) {
    const buf = inst.reserve(outB + mx * 8);
    const wd = new Float64Array(buf, wB, p * n);
    for (let i = 0; i < p; i++) wd.set(W.row(i), i * n);
    W = new Matrix(p, n, wd);
    vec = new Float64Array(buf, vecB, mx);
    out = new Float64Array(buf, outB, mx);
    gemvT = inst.exports.gemv_t as typeof gemvT;
    gemvN = inst.exports.gemv_n as typeof gemvN;
  } else {
    W = W.clone();
    vec = new Float64Array(mx);
    out = vec;
  }
  const w = W.data;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tauq = new Float64Array(n);
  const taup = new Float64Array(n);
  const X = new Float64Array(p * nb); // X[r * nb + j]
  const Y = new Float64Array(n * nb); // Y[c * nb + j]
  const tmp = new Float64Array(nb);
  const tmp2 = new Float64Array(nb);
  for (let b = 0; b < n; b += nb) {
    const nbb = Math.min(nb, n - b);
    X.fill(0); Y.fill(0);
    for (let j = 0; j < nbb; j++) {
      const g = b + j;
      // 1. update column g, rows g..p-1: -= U[:, 0:j] Y[g, 0:j]ᵀ + X[:, 0:j] V[0:j, g]
      if (j > 0) {
        const yg = g * nb;
        for (let t = 0; t < j; t++) tmp[t] = w[(b + t) * n + g]!;
        for (let r = g; r < p; r++) {
          const rb = r * n + b, xb = r * nb;
          let s = 0;
          for (let t = 0; t < j; t++) s += w[rb + t]! * Y[yg + t]! + X[xb + t]! * tmp[t]!;
          w[r * n + g]! -= s;
        }
      }
      // 2. left reflector on column g
      tauq[g] = makeReflector(w, g * n + g, p - g, n);
      d[g] = w[g * n + g]!;
      w[g * n + g] = 1;
      if (g >= n - 1) continue;
      const tq = tauq[g]!;
      // 3. Y[g+1:n, j] = tq * (A[g:p, g+1:n]ᵀ u - Y[:, 0:j] (Uᵀu) - V[0:j, :]ᵀ (Xᵀu))
      const c0 = g + 1, nc = n - c0;
      if (gemvT) {
        gemvT(p - g, nc, wB + (g * n + c0) * 8, n, wB + (g * n + g) * 8, n, vecB);
      } else {
        vec.fill(0, 0, nc);
        let r = g;
        for (; r + 1 < p; r += 2) {
          const u0 = w[r * n + g]!, u1 = w[(r + 1) * n + g]!;
          const r0 = r * n + c0, r1 = r0 + n;
          for (let c = 0; c < nc; c++) vec[c]! += u0 * w[r0 + c]! + u1 * w[r1 + c]!;
        }
        if (r < p) {
          const u0 = w[r * n + g]!, r0 = r * n + c0;
          for (let c = 0; c < nc; c++) vec[c]! += u0 * w[r0 + c]!;
        }
      }
      if (j > 0) {
        tmp.fill(0, 0, j); tmp2.fill(0, 0, j);
        for (let r = g; r < p; r++) {
          const u = w[r * n + g]!;
          if (u === 0) continue;
          const rb = r * n + b, xb = r * nb;
          for (let t = 0; t < j; t++) { tmp[t]! += w[rb + t]! * u; tmp2[t]! += X[xb + t]! * u; }
        }
        for (let c = 0; c < nc; c++) {
          const yb = (c0 + c) * nb;
          let s = 0;
          for (let t = 0; t < j; t++) s += Y[yb + t]! * tmp[t]! + w[(b + t) * n + c0 + c]! * tmp2[t]!;
          vec[c]! -= s;
        }
      }
      for (let c = 0; c < nc; c++) Y[(c0 + c) * nb + j] = tq * vec[c]!;
      // 4. update row g, cols g+1..n-1: -= Y[:, 0:j+1] U[g, 0:j+1]ᵀ + V[0:j, :]ᵀ X[g, 0:j]ᵀ
      {
        const gb = g * n;
        for (let t = 0; t <= j; t++) tmp[t] = w[gb + b + t]!;
        const xb = g * nb;
        for (let c = 0; c < nc; c++) {
          const yb = (c0 + c) * nb;
          let s = 0;
          for (let t = 0; t <= j; t++) s += Y[yb + t]! * tmp[t]!;
          for (let t = 0; t < j; t++) s += w[(b + t) * n + c0 + c]! * X[xb + t]!;
          w[gb + c0 + c]! -= s;
        }
      }
      // 5. right reflector on row g, cols g+1..n-1
      taup[g] = makeReflector(w, g * n + c0, nc, 1);
      e[g] = w[g * n + c0]!;
      w[g * n + c0] = 1;
      const tp = taup[g]!;
      // 6. X[g+1:p, j] = tp * (A[g+1:p, g+1:n] v - U[:, 0:j+1] (Yᵀv) - X[:, 0:j] (V v))
      for (let c = 0; c < nc; c++) vec[c] = w[g * n + c0 + c]!;
      for (let t = 0; t <= j; t++) {
        let s = 0;
        for (let c = 0; c < nc; c++) s += Y[(c0 + c) * nb + t]! * vec[c]!;
        tmp[t] = s;
      }
      for (let t = 0; t < j; t++) {
        const vb = (b + t) * n + c0;
        let s = 0;
        for (let c = 0; c < nc; c++) s += w[vb + c]! * vec[c]!;
        tmp2[t] = s;
      }
      if (gemvN) gemvN(p - g - 1, nc, wB + ((g + 1) * n + c0) * 8, n, vecB, outB);
      for (let r = g + 1; r < p; r++) {
        let s: number;
        if (gemvN) {
          s = out[r - g - 1]!;
        } else {
          const rb = r * n + c0;
          let s0 = 0, s1 = 0, c = 0;
          for (; c + 1 < nc; c += 2) { s0 += w[rb + c]! * vec[c]!; s1 += w[rb + c + 1]! * vec[c + 1]!; }
          if (c < nc) s0 += w[rb + c]! * vec[c]!;
          s = s0 + s1;
        }
        const ub = r * n + b, xb = r * nb;
        for (let t = 0; t <= j; t++) s -= w[ub + t]! * tmp[t]!;
        for (let t = 0; t < j; t++) s -= X[xb + t]! * tmp2[t]!;
        X[xb + j] = tp * s;
      }
    }
    // trailing update A[b+nbb:p, b+nbb:n] -= U Yᵀ + X V
    const t0 = b + nbb;
    if (t0 < n) {
      const C = W.block(t0, p, t0, n);
      const Ub = W.block(t0, p, b, t0);
      const Yb = new Matrix(n - t0, nbb, Y, t0 * nb, nb);
      const Xb = new Matrix(p - t0, nbb, X, t0 * nb, nb);
      const Vb = W.block(b, t0, t0, n);
      gemm(Ub, Yb, { transB: true, alpha: -1, beta: 1, C });
      gemm(Xb, Vb, { alpha: -1, beta: 1, C });
    }
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
    for (let i = k + 1; i < p; i++) lv[lb + i] = w[i * n + k]!;
    if (k + 2 < n) {
      const rb = k * n;
      rv[rb + k + 1] = 1;
      for (let j = k + 2; j < n; j++) rv[rb + j] = w[rb + j]!;
    } else {
      taup[k] = 0;
    }
  }
  return { d, e, left, right };
}
