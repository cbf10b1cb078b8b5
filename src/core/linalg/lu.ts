/**
 * LU with partial pivoting as a basis-maker for the randomized SVD's power iterations
 * (scikit-learn's power_iteration_normalizer 'LU': scipy.linalg.lu(Y, permute_l=True)): for a
 * tall Y (m x n, m >= n) with Y = P L U, the m x n factor P·L spans Y's columns whenever U is
 * invertible, has a unit diagonal (after P) and entries of magnitude <= 1, so it keeps the sketch
 * well scaled and its columns apart at about a third of the flops of a Householder QR and a
 * fifth of CholeskyQR2 with its orthogonality check. It is not orthonormal: the range finder
 * ends with one proper QR.
 *
 * Storage: the sketches are kept TRANSPOSED, Yt = Yᵀ row-major (n x m), which is Y column-major
 * with leading dimension Yt.stride: LAPACK dgetrf takes it as it is (no copy), and Y's columns
 * are contiguous for the TypeScript fallback below.
 */
import type { Matrix } from './matrix.js';
import { nativeBlas, nativeLuPermuted, nativeQrQ, permutedL } from './native.js';
import { SAFE_MIN } from './scale.js';

/**
 * Overwrites Yt (n x m row-major, i.e. Y = Ytᵀ column-major, m >= n) with (P·L)ᵀ where Y = P L U:
 * LAPACK dgetrf when the native backend is on, else {@link luPermutedTs}.
 */
export function luPermutedT(Yt: Matrix): void {
  const n = Yt.rows, m = Yt.cols;
  if (m < n) throw new RangeError(`luPermutedT: Y must be tall (got ${m}x${n} as Ytᵀ)`);
  const L = n > 0 ? nativeBlas() : null;
  if (L) nativeLuPermuted(L, Yt.data, Yt.offset, Yt.stride, m, n);
  else luPermutedTs(Yt.data, Yt.offset, Yt.stride, m, n);
}

/**
 * The same as LAPACK dgetf2 + forming P·L, in TypeScript, on the column-major m x n array at
 * `off` with leading dimension `ld`: right-looking, one column at a time (each column of Y is a
 * contiguous run, so the pivot search, the scaling and every update are unit-stride loops).
 * Pivot: the first entry of largest magnitude (as idamax). About m n² / 2 multiply-adds.
 */
export function luPermutedTs(a: Float64Array, off: number, ld: number, m: number, n: number): void {
  const ipiv = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const cj = off + j * ld;
    let p = j, best = Math.abs(a[cj + j]!);
    for (let i = j + 1; i < m; i++) {
      const v = Math.abs(a[cj + i]!);
      if (v > best) { best = v; p = i; }
    }
    ipiv[j] = p + 1;
    if (p !== j) {
      for (let c = 0; c < n; c++) {
        const o = off + c * ld, t = a[o + j]!;
        a[o + j] = a[o + p]!;
        a[o + p] = t;
      }
    }
    const piv = a[cj + j]!;
    if (piv === 0) continue; // the column is zero from j down: nothing to eliminate (dgetf2 goes on too)
    if (Math.abs(piv) >= SAFE_MIN) {
      const r = 1 / piv;
      for (let i = j + 1; i < m; i++) a[cj + i]! *= r;
    } else {
      for (let i = j + 1; i < m; i++) a[cj + i]! /= piv;
    }
    for (let c = j + 1; c < n; c++) {
      const cc = off + c * ld, f = a[cc + j]!;
      if (f === 0) continue;
      for (let i = j + 1; i < m; i++) a[cc + i]! -= f * a[cj + i]!;
    }
  }
  permutedL(a, off, ld, n, ipiv);
}

/**
 * Overwrites Yt (n x m row-major = Y column-major, m >= n) with Qᵀ, Q the thin orthonormal
 * factor of Y's Householder QR (LAPACK dgeqrf + dorgqr). Returns false, Yt unchanged, without
 * the native backend (or when LAPACK refuses the arguments): the caller orthonormalises another way.
 */
export function qrQT(Yt: Matrix): boolean {
  const n = Yt.rows, m = Yt.cols;
  if (m < n) throw new RangeError(`qrQT: Y must be tall (got ${m}x${n} as Ytᵀ)`);
  const L = n > 0 ? nativeBlas() : null;
  return L ? nativeQrQ(L, Yt.data, Yt.offset, Yt.stride, m, n) : false;
}
