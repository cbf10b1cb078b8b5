/**
 * Householder reflectors H = I - tau v vᵀ, stored ROW-WISE: reflector i is row i
 * of `V` (count x len, explicit zeros before its support start, v[start] = 1).
 * Row storage keeps every kernel contiguous in the row-major layout, and a
 * block of rows is directly the Vᵀ of the compact-WY form
 * H_i0 ... H_i1-1 = I - Y T Yᵀ (Y = V[i0:i1]ᵀ), so blocked application is GEMM.
 */
import { Matrix } from './matrix.js';
import { gemm } from './gemm.js';
import { assertFinite, LinalgError } from './errors.js';
import { nrm2, SAFE_MIN } from './scale.js';

export interface Reflectors {
  V: Matrix; // count x len
  tau: Float64Array; // count
  /** support start of reflector i is start[i] (nondecreasing) */
  start: Int32Array;
}

/**
 * LAPACK dlarfg on x[off], x[off+inc], ..., (n entries): on return x[off] = beta,
 * the tail holds v[1:] and the returned tau makes H x = beta e1. The tail's norm is taken
 * without overflow or underflow ({@link nrm2}); when |beta| is below the safe minimum the
 * vector is scaled up by 2^1022 (up to 20 times, as dlarfg does) so that 1 / (alpha - beta)
 * stays finite, and beta scaled back.
 */
export function makeReflector(x: Float64Array, off: number, n: number, inc: number): number {
  if (n <= 1) return 0;
  let alpha = x[off]!;
  let xnorm = nrm2(x, off + inc, n - 1, inc);
  if (xnorm === 0) return 0;
  let beta = -Math.sign(alpha || 1) * Math.hypot(alpha, xnorm);
  let knt = 0;
  if (Math.abs(beta) < SAFE_MIN) {
    const up = 2 ** 1022;
    do {
      knt++;
      for (let i = 1, p = off + inc; i < n; i++, p += inc) x[p] = x[p]! * up;
      beta *= up;
      alpha *= up;
    } while (Math.abs(beta) < SAFE_MIN && knt < 20);
    xnorm = nrm2(x, off + inc, n - 1, inc);
    beta = -Math.sign(alpha || 1) * Math.hypot(alpha, xnorm);
  }
  const tau = (beta - alpha) / beta;
  const f = 1 / (alpha - beta);
  for (let i = 1, p = off + inc; i < n; i++, p += inc) x[p] = x[p]! * f;
  for (let j = 0; j < knt; j++) beta *= SAFE_MIN;
  x[off] = beta;
  return tau;
}

/**
 * T (nb x nb upper) of the compact WY form for reflectors r0..r1-1 (LAPACK dlarft, forward,
 * rowwise V). The inner products v_j . v_i come from one Gram product of the block (GEMM)
 * when the block is long, else from direct dot products.
 */
export function formT(R: Reflectors, r0: number, r1: number): Float64Array {
  const nb = r1 - r0;
  const T = new Float64Array(nb * nb);
  const V = R.V, vd = V.data, vs = V.stride, vo = V.offset, len = V.cols;
  const s0 = nb > 0 ? R.start[r0]! : 0;
  // G[j * nb + i] = v_j . v_i (all reflectors of the block are zero before s0)
  let G: Float64Array | undefined;
  if (nb >= 8 && (len - s0) * nb >= 4096) G = gemm(V.block(r0, r1, s0, len), V.block(r0, r1, s0, len), { transB: true }).data;
  const w = new Float64Array(nb);
  for (let i = 0; i < nb; i++) {
    const ti = R.tau[r0 + i]!;
    T[i * nb + i] = ti;
    if (ti === 0 || i === 0) continue;
    if (G) {
      for (let j = 0; j < i; j++) w[j] = G[j * nb + i]!;
    } else {
      const si = R.start[r0 + i]!;
      const vi = vo + (r0 + i) * vs;
      // w[j] = v_j · v_i, j < i (v_i is zero before si)
      for (let j = 0; j < i; j++) {
        const vj = vo + (r0 + j) * vs;
        let s = 0;
        for (let t = si; t < len; t++) s += vd[vj + t]! * vd[vi + t]!;
        w[j] = s;
      }
    }
    // T[0:i, i] = -tau_i T[0:i,0:i] w
    for (let r = 0; r < i; r++) {
      let s = 0;
      for (let j = r; j < i; j++) s += T[r * nb + j]! * w[j]!;
      T[r * nb + i] = -ti * s;
    }
  }
  return T;
}

const NB = 32;

/**
 * Z <- H_0 H_1 ... H_{c-1} Z  (trans = false)   or   Z <- H_{c-1} ... H_0 Z  (trans = true),
 * Z with len rows. Blocked (compact WY, GEMM) by NB reflectors.
 */
export function applyReflectorsLeft(R: Reflectors, Z: Matrix, trans = false): void {
  const c = R.tau.length;
  const len = R.V.cols;
  if (Z.rows !== len) throw new LinalgError(`applyReflectorsLeft: Z has ${Z.rows} rows, reflectors have length ${len}`);
  if (c === 0 || Z.cols === 0) return;
  const blocks: number[] = [];
  for (let b = 0; b < c; b += NB) blocks.push(b);
  if (!trans) blocks.reverse();
  for (const b0 of blocks) {
    const b1 = Math.min(c, b0 + NB);
    const s0 = R.start[b0]!;
    if (s0 >= len) continue;
    const Y = R.V.block(b0, b1, s0, len); // nb x (len - s0)
    const Zs = Z.rowsView(s0, len);
    const nb = b1 - b0;
    const T = new Matrix(nb, nb, formT(R, b0, b1));
    const M = gemm(Y, Zs); // Yᵀ Z in math
    const M2 = gemm(T, M, { transA: trans });
    gemm(Y, M2, { transA: true, alpha: -1, beta: 1, C: Zs });
  }
}

/**
 * Z <- Z H_{c-1} ... H_0 (rows of Z are transformed; Z has len columns), unblocked.
 * This is (H_0 ... H_{c-1} Zᵀ)ᵀ.
 */
export function applyReflectorsRight(R: Reflectors, Z: Matrix, reverse = true): void {
  const c = R.tau.length;
  const len = R.V.cols;
  if (Z.cols !== len) throw new LinalgError(`applyReflectorsRight: Z has ${Z.cols} cols, reflectors have length ${len}`);
  const vd = R.V.data, vs = R.V.stride, vo = R.V.offset;
  const zd = Z.data, zs = Z.stride, zo = Z.offset;
  for (let q = 0; q < c; q++) {
    const i = reverse ? c - 1 - q : q;
    const tau = R.tau[i]!;
    if (tau === 0) continue;
    const st = R.start[i]!;
    const vb = vo + i * vs;
    for (let r = 0; r < Z.rows; r++) {
      const zb = zo + r * zs;
      let s0 = 0, s1 = 0, t = st;
      for (; t + 1 < len; t += 2) { s0 += zd[zb + t]! * vd[vb + t]!; s1 += zd[zb + t + 1]! * vd[vb + t + 1]!; }
      if (t < len) s0 += zd[zb + t]! * vd[vb + t]!;
      const f = tau * (s0 + s1);
      if (f === 0) continue;
      for (t = st; t < len; t++) zd[zb + t]! -= f * vd[vb + t]!;
    }
  }
}

/**
 * Blocked Householder QR of A (m x n, m >= n), A untouched.
 * Returns the reflectors (n x m, reflector k supported on [k, m)) and R (n x n upper).
 */
export function qrFactor(A: Matrix): { refl: Reflectors; R: Matrix } {
  const m = A.rows, n = A.cols;
  if (m < n) throw new LinalgError(`qr: needs rows >= cols, got ${m}x${n}`);
  const W = A.clone();
  const wd = W.data;
  const V = new Matrix(n, m);
  const vd = V.data;
  const tau = new Float64Array(n);
  const start = new Int32Array(n);
  const refl: Reflectors = { V, tau, start };
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) start[k] = k;
  for (let b0 = 0; b0 < n; b0 += NB) {
    const b1 = Math.min(n, b0 + NB);
    // unblocked factorisation of the panel columns b0..b1-1
    for (let k = b0; k < b1; k++) {
      tau[k] = makeReflector(wd, k * n + k, m - k, n);
      const vb = k * m;
      vd[vb + k] = 1;
      for (let i = k + 1; i < m; i++) { vd[vb + i] = wd[i * n + k]!; wd[i * n + k] = 0; }
      const t = tau[k]!;
      if (t === 0 || k + 1 >= b1) continue;
      // apply H_k to panel columns k+1..b1-1
      for (let j = k + 1; j < b1; j++) w[j] = 0;
      for (let i = k; i < m; i++) {
        const vi = vd[vb + i]!;
        if (vi === 0) continue;
        const rb = i * n;
        for (let j = k + 1; j < b1; j++) w[j]! += vi * wd[rb + j]!;
      }
      for (let i = k; i < m; i++) {
        const f = t * vd[vb + i]!;
        if (f === 0) continue;
        const rb = i * n;
        for (let j = k + 1; j < b1; j++) wd[rb + j]! -= f * w[j]!;
      }
    }
    if (b1 < n) {
      // trailing update W[b0:, b1:] <- (I - Y Tᵀ Yᵀ) W  (= H_{b1-1} ... H_b0 W)
      const Y = V.block(b0, b1, b0, m);
      const Ws = W.block(b0, m, b1, n);
      const T = new Matrix(b1 - b0, b1 - b0, formT(refl, b0, b1));
      const M = gemm(Y, Ws);
      const M2 = gemm(T, M, { transA: true });
      gemm(Y, M2, { transA: true, alpha: -1, beta: 1, C: Ws });
    }
  }
  const R = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) R.data[i * n + j] = wd[i * n + j]!;
  return { refl, R };
}

/** Thin QR: A (m x n, m >= n) = Q (m x n, orthonormal columns) R (n x n, upper triangular). */
export function qr(A: Matrix): { Q: Matrix; R: Matrix } {
  assertFinite(A, 'qr input');
  const m = A.rows, n = A.cols;
  const { refl, R } = qrFactor(A);
  const Q = new Matrix(m, n);
  for (let i = 0; i < n; i++) Q.data[i * n + i] = 1;
  applyReflectorsLeft(refl, Q);
  return { Q, R };
}
