/**
 * Thin SVD for any m x n matrix: A = U diag(s) Vᵀ, U m x k, V n x k, k = min(m, n)
 * (or the requested rank), s descending and non-negative.
 *
 * Exact path (solver 'exact'), on the tall orientation (a wide A is transposed, U/V swapped):
 *   1. if rows >= QR_FIRST_RATIO (1.8) * cols: blocked Householder QR first (A = Q R), then
 *      work on the n x n R (LAPACK gesdd's crossover is 11/6; below it, bidiagonalising
 *      directly measured ~10% faster on 1028x700);
 *   2. blocked Householder bidiagonalisation (gebrd.ts, LAPACK dlabrd panels of 32): half the
 *      flops are a rank-64 GEMM update, the other half two matrix-vector products per
 *      column, run by WebAssembly SIMD kernels on a working copy in the module's memory;
 *   3. the bidiagonal's SVD: with vectors and order >= DC_MIN (128), divide and conquer
 *      (bdsdc.ts, LAPACK dbdsdc: secular equation, Gu-Eisenstat vectors, deflation, the merges
 *      as GEMMs); below it, and for values only, implicit-shift QR (bdsqr.ts; LINPACK dsvdc
 *      shifts and splitting), whose sweeps run on (d, e) alone and LOG their Givens rotations;
 *      the log is replayed in batches onto U and V by a WebAssembly SIMD kernel. Measured on
 *      the turtle's 700 x 700 bidiagonal (CPU time, one thread): rotations ~0.4 s, divide and
 *      conquer ~0.09 s; the two cross near order 120-160 on image-like bidiagonals;
 *   4. back-transformation by the stored reflectors in compact-WY blocks (GEMM).
 *   GEMM (gemm.ts) packs operands GotoBLAS-style and runs a 4x4 f64x2 WebAssembly micro-kernel
 *   (~27 GFLOP/s in the kernel, vs ~5 for the TS kernel). Every WebAssembly kernel has a pure
 *   TS fallback (used when WebAssembly SIMD is unavailable or SVDFLOW_NO_WASM is set), tested
 *   against it. Accuracy: backward stable; every sigma to about eps * sigma_max absolutely.
 *   One-sided Jacobi was rejected on flop count (6-10 sweeps x 3mn², >= 10 GFLOP).
 *
 * singularValues(A): steps 1-3 without any vectors (the bidiagonal QR on d/e only).
 *
 * Gram path (solver 'gram', for n << m or m << n): eig of the small Gram matrix
 * AᵀA (or AAᵀ), s = sqrt(lambda), U = A V / s. Its values err by about eps * s_1² / s_i and
 * U loses orthogonality like eps * (s_1 / s_i)², so it falls back to the exact path when
 * s_min/s_max < gramMinRatio (default 1e-3: values within ~64 eps * s_1, U orthonormal to
 * ~1e-10; measured in test/linalg/suite.test.ts), reporting solver 'exact'.
 *
 * Scale: every path first multiplies a matrix whose largest entry is below 2^-459 or above
 * 2^459 by a power of two (exact) and the values back afterwards (scale.ts), so that 1e-300,
 * subnormal and 1e300 matrices get values as accurate relative to s_1 as ordinary ones; a
 * matrix whose s_1 would exceed the float64 range is refused with a LinalgError.
 *
 * Randomized (Halko, Martinsson & Tropp 2011), as scikit-learn's randomized_svd: on the tall
 * orientation M (A or Aᵀ), a Gaussian sketch, q power iterations normalised by LU with partial
 * pivoting (P·L, lu.ts), one QR of the last sketch (LAPACK's Householder dgeqrf with OpenBLAS;
 * without it CholeskyQR2, Householder if that fails), the exact SVD of the small projection QᵀM.
 *
 * Empty input: when m or n is 0, k = 0 and U (m x 0), V (n x 0), s empty.
 * Zero matrix: s = 0 and U, V orthonormal (identity columns).
 *
 * Measurements (700x1028 gray image, 2-core machine shared with other jobs, Node 20, one
 * thread; see bench/linalg.bench.ts and its notes for the per-run numbers vs NumPy):
 *   before (pure TS, QR first): 2.2-3.1 s = QR 0.2-0.3 + bidiagonalisation of R 0.5-0.9 +
 *   rotations 0.6-0.8 + back-transformation 0.5-0.6 s.
 *   now: ~0.37 s at a quiet moment (0.5-1.0 s under load) = bidiagonalisation of 1028x700
 *   ~0.12-0.13 s + rotations ~0.14-0.19 s + back-transformation ~0.1 s. numpy gesdd on 2
 *   OpenBLAS threads: 0.09 s quiet, 0.2-0.67 s loaded. The pure-TS fallback: ~2.7 s.
 */
import { Matrix, newDoubles } from './matrix.js';
import { gemm, gramMatrix, matmul, matTmul } from './gemm.js';
import { LinalgError } from './errors.js';
import { finiteMaxAbs, scaleExponent, scaledCopy, scaleInPlace } from './scale.js';
import { applyReflectorsLeft, qrFactor, type Reflectors } from './householder.js';
import { symEig } from './eig.js';
import { bidiagQr } from './bdsqr.js';
import { bidiagDc } from './bdsdc.js';
import { bidiagonalizeBlocked, gebrdTimes } from './gebrd.js';
import { seededRandom } from './random.js';
import { luPermutedT, qrQT } from './lu.js';
import { progressPhase, progressTotal, unobserved, withProgress } from './progress.js';
import { nativeBlas, nativeSvd, nativeSvdPhased } from './native.js';

/**
 * The exact SVD of a matrix with at least this many entries runs LAPACK dgesdd when the native
 * backend (native.ts) is on; smaller ones (Procrustes' 3x3, ...) keep the TS/WebAssembly path,
 * where a call through the FFI would cost more than it saves.
 */
export let NATIVE_SVD_MIN = 4096;
export function setNativeSvdMin(n: number): void { NATIVE_SVD_MIN = n; }
/**
 * From this much work (min(m,n)² max(m,n); dgesdd takes ~0.2-0.5 s there on this machine) the
 * native SVD runs in dgesdd's four LAPACK steps, called one by one (native.ts nativeSvdPhased),
 * so that it reports progress between them; below it, one dgesdd call.
 */
export let NATIVE_PHASED_MIN = 1e9;
export function setNativePhasedMin(n: number): void { NATIVE_PHASED_MIN = n; }

export type SvdSolver = 'auto' | 'exact' | 'gram' | 'randomized';
export interface SvdOptions {
  solver?: SvdSolver;
  /** keep only the leading `rank` triplets (required for 'randomized') */
  rank?: number;
  /** randomized: extra sketch columns (default 10) */
  oversample?: number;
  /** randomized: power iterations (default 4) */
  powerIterations?: number;
  /** randomized: PRNG seed (default 0) */
  seed?: number;
  /** gram: fall back to 'exact' when s_min/s_max is below this (default GRAM_MIN_RATIO = 1e-3) */
  gramMinRatio?: number;
  /** called as the work gets done: (done, total) in estimated flops, done ends at total (progress.ts) */
  onProgress?: (done: number, total: number) => void;
}
export interface SvdResult {
  U: Matrix;
  s: Float64Array;
  V: Matrix;
  solver: Exclude<SvdSolver, 'auto'>;
}

/** Use QR first when rows >= this * cols (tall orientation). Chosen by measurement, see bench. */
/**
 * Default of `gramMinRatio`: the Gram route's values err by about eps * sigma_1² / sigma_k and
 * its U loses orthogonality like eps * (sigma_1 / sigma_k)², so below this ratio the exact path
 * runs instead (see the test-matrix suite, test/linalg/suite.test.ts).
 */
export const GRAM_MIN_RATIO = 1e-3;

/**
 * Bidiagonals of at least this order get their singular vectors by divide and conquer
 * (bdsdc.ts); smaller ones, and values-only requests, by the implicit-shift QR (bdsqr.ts).
 * Chosen by measurement (see the bench notes).
 */
export let DC_MIN = 128;
export function setDcMin(n: number): void { DC_MIN = Math.max(1, Math.floor(n)); }

export let QR_FIRST_RATIO = 1.8;
export function setQrFirstRatio(r: number): void { QR_FIRST_RATIO = r; }

export function svd(A: Matrix, opts: SvdOptions = {}): SvdResult {
  return withProgress(opts.onProgress, () => svdObserved(A, opts));
}

function svdObserved(A: Matrix, opts: SvdOptions): SvdResult {
  const m = A.rows, n = A.cols;
  const mn = Math.min(m, n);
  const rank = opts.rank === undefined ? mn : Math.max(0, Math.min(mn, Math.floor(opts.rank)));
  let solver = opts.solver ?? 'auto';
  if (solver === 'auto') solver = chooseSolver(m, n, opts.rank, opts.oversample ?? 10);
  const r = scaled(A, 'svd input', (As): SvdResult => {
    if (solver === 'randomized') return randomizedSvdUnchecked(As, rank, opts);
    if (solver === 'gram') return gramSvdUnchecked(As, opts.gramMinRatio ?? GRAM_MIN_RATIO, opts.rank);
    return exactSvdUnchecked(As);
  });
  return rank < r.s.length ? truncate(r, rank) : r;
}

/**
 * Runs `f` on A, or on A scaled by a power of two when its largest entry is outside
 * [SMALL_NUM, BIG_NUM] (see scale.ts), and scales the singular values back: the values of
 * a 1e-300 or 1e300 matrix are then as accurate, relative to sigma_1, as those of a matrix
 * of ones (dgesdd does the same with dlascl). Also checks that every entry is finite.
 */
function scaled<T extends { s: Float64Array }>(A: Matrix, what: string, f: (As: Matrix) => T): T {
  const e = scaleExponent(finiteMaxAbs(A, what));
  if (e === 0) return f(A);
  const r = f(scaledCopy(A, e));
  scaleInPlace(r.s, -e);
  if (r.s[0] === Infinity) {
    throw new LinalgError(`${what}: the largest singular value exceeds the float64 range (~1.8e308; the largest entry is ${finiteMaxAbs(A, what).toExponential(3)}); divide the matrix by a constant first`);
  }
  return r;
}

/** The auto policy: randomized when a small rank is requested, Gram for very skinny shapes, else exact. */
export function chooseSolver(m: number, n: number, rank: number | undefined, oversample: number): Exclude<SvdSolver, 'auto'> {
  const mn = Math.min(m, n), mx = Math.max(m, n);
  if (mn === 0) return 'exact';
  if (rank !== undefined && mn >= 100 && (rank + oversample) * 4 <= mn) return 'randomized';
  if (mx >= 8 * mn && mn <= 512) return 'gram';
  return 'exact';
}

function truncate(r: SvdResult, k: number): SvdResult {
  return { U: cols(r.U, k), s: r.s.slice(0, k), V: cols(r.V, k), solver: r.solver };
}

function cols(M: Matrix, k: number): Matrix {
  return M.cols === k ? M : M.block(0, M.rows, 0, k).clone();
}

// ---------------------------------------------------------------- exact

/** The exact path of {@link svd} (scaled when the entries are tiny or huge). */
export function exactSvd(A: Matrix): SvdResult {
  return scaled(A, 'svd input', exactSvdUnchecked);
}

function exactSvdUnchecked(A: Matrix, fallbackOnly = false): SvdResult {
  const m = A.rows, n = A.cols;
  if (m === 0 || n === 0) return { U: new Matrix(m, 0), s: new Float64Array(0), V: new Matrix(n, 0), solver: 'exact' };
  const L = !fallbackOnly && m * n >= NATIVE_SVD_MIN ? nativeBlas() : null;
  if (L) {
    const k = Math.min(m, n), mx = Math.max(m, n), k3 = k * k * k;
    const U = new Matrix(m, k), V = new Matrix(n, k);
    let s: Float64Array | null;
    if (k * k * mx >= NATIVE_PHASED_MIN) {
      // progress in estimated flops: bidiagonalisation, divide and conquer, the two back-transformations
      const work = [4 * mx * k * k - (4 / 3) * k3, 3 * k3, 2 * mx * k * k, 2 * k3];
      progressTotal(work[0]! + work[1]! + work[2]! + work[3]!);
      s = nativeSvdPhased(L, contiguousCopy(A), m, n, U.data, V.data, (i) => progressPhase(work[i]!));
    } else {
      progressTotal(4 * mx * k * k);
      progressPhase(4 * mx * k * k);
      s = nativeSvd(L, contiguousCopy(A), m, n, true, { U: U.data, V: V.data });
    }
    if (s) return { U, s, V, solver: 'exact' };
    // dgesdd's divide and conquer did not converge (info > 0): the TS/WebAssembly path below
  }
  if (m < n) {
    const r = tallSvd(A.transpose());
    return { U: r.V, s: r.s, V: r.U, solver: 'exact' };
  }
  const r = tallSvd(A);
  return { U: r.U, s: r.s, V: r.V, solver: 'exact' };
}

/** A contiguous (stride = cols) plain copy of A's values, for LAPACK to overwrite. */
function contiguousCopy(A: Matrix): Float64Array {
  const { rows, cols, data, offset, stride } = A;
  if (stride === cols) return data.slice(offset, offset + rows * cols);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(data.subarray(offset + i * stride, offset + i * stride + cols), i * cols);
  return out;
}

/** The exact SVD on the TS/WebAssembly kernels only (never the native backend): the incremental SVD's inner step. */
export function exactSvdFallback(A: Matrix): SvdResult {
  return scaled(A, 'svd input', (As) => exactSvdUnchecked(As, true));
}

/**
 * All min(m, n) singular values of A, descending, without the vectors: QR (when tall),
 * bidiagonalisation and the bidiagonal QR on (d, e) alone (no rotations applied), e.g.
 * for the error curves of every rank. Same values as {@link svd}'s exact path to rounding.
 */
export function singularValues(A: Matrix): Float64Array {
  return scaled(A, 'singularValues input', (As) => ({ s: singularValuesUnchecked(As) })).s;
}

function singularValuesUnchecked(A: Matrix): Float64Array {
  const m = A.rows, n = A.cols;
  if (m === 0 || n === 0) return new Float64Array(0);
  const L = m * n >= NATIVE_SVD_MIN ? nativeBlas() : null;
  const sn = L ? nativeSvd(L, contiguousCopy(A), m, n, false) : null;
  if (sn) return sn;
  const T = m < n ? A.transpose() : A;
  const W = T.rows >= QR_FIRST_RATIO * T.cols && T.rows > T.cols ? qrFactor(T).R : T.clone();
  const bd = bidiagonalize(W);
  return bidiagQr(bd.d, bd.e, false).s;
}

/**
 * Where the last exact SVD with vectors spent its time (milliseconds, wall clock), for the
 * benchmark's breakdown: QR first (tall inputs), the bidiagonalisation's panels and its GEMM
 * trailing updates, the bidiagonal SVD (rotations or divide and conquer), and the
 * back-transformations of U and V by the Householder blocks.
 */
export const svdPhases = { qr: 0, panels: 0, trailing: 0, bidiagSvd: 0, backU: 0, backV: 0, bidiagMethod: 'qr' as 'qr' | 'dc', n: 0 };

function tallSvd(A: Matrix): { U: Matrix; s: Float64Array; V: Matrix } {
  const m = A.rows, n = A.cols;
  let qrRefl: Reflectors | undefined;
  let W: Matrix;
  let t = performance.now();
  const lap = () => { const t1 = performance.now(), d = t1 - t; t = t1; return d; };
  // progress phases, in estimated flops (the bidiagonal SVD's vectors: ~6 n³ by rotations, less by divide and conquer)
  const qrFirst = m >= QR_FIRST_RATIO * n && m > n, p0 = qrFirst ? n : m, n3 = n * n * n;
  const work = { qr: qrFirst ? 2 * m * n * n - (2 / 3) * n3 : 0, bd: 4 * p0 * n * n - (4 / 3) * n3, rot: (n >= DC_MIN ? 3 : 6) * n3, back: 2 * p0 * n * n + 2 * n3 + (qrFirst ? 4 * m * n * n - 2 * n3 : 0) };
  progressTotal(work.qr + work.bd + work.rot + work.back);
  progressPhase(work.qr);
  if (qrFirst) {
    const f = qrFactor(A);
    qrRefl = f.refl;
    W = f.R;
  } else {
    W = A.clone();
  }
  svdPhases.qr = lap();
  progressPhase(work.bd);
  const bd = bidiagonalize(W);
  const tb = lap();
  svdPhases.trailing = gebrdTimes.trailing;
  svdPhases.panels = tb - gebrdTimes.trailing;
  const useDc = n >= DC_MIN;
  progressPhase(work.rot);
  const { s, U: Ub, V: Vb } = useDc ? bidiagDc(bd.d, bd.e) : bidiagQr(bd.d, bd.e, true);
  svdPhases.bidiagSvd = lap();
  svdPhases.bidiagMethod = useDc ? 'dc' : 'qr';
  svdPhases.n = n;
  progressPhase(work.back);
  // U = Q * HL * [Ub; 0], V = HR * Vb
  const p = W.rows;
  const Z = new Matrix(p, n);
  Z.data.set(Ub!);
  applyReflectorsLeft(bd.left, Z);
  let U = Z;
  if (qrRefl) {
    U = new Matrix(m, n);
    U.data.set(Z.data.subarray(0, n * n));
    applyReflectorsLeft(qrRefl, U);
  }
  svdPhases.backU = lap();
  // in shared memory when the thread team is on (shared allocation), so that its GEMMs split
  const Vd = newDoubles(n * n);
  const V = new Matrix(n, n, Vd.buffer instanceof SharedArrayBuffer ? (Vd.set(Vb!), Vd) : Vb!);
  applyReflectorsLeft(bd.right, V);
  svdPhases.backV = lap();
  return { U, s, V };
}

/**
 * Householder bidiagonalisation of W (p x n, p >= n): W = HL B HRᵀ, B upper bidiagonal
 * with diagonal d and superdiagonal e (e[n-1] = 0). Blocked (see gebrd.ts).
 */
export function bidiagonalize(W: Matrix): { d: Float64Array; e: Float64Array; left: Reflectors; right: Reflectors } {
  return bidiagonalizeBlocked(W);
}

/**
 * SVD of the n x n upper bidiagonal (d, e): B = Ub diag(s) Vbᵀ, returned as Ut = Ubᵀ
 * and Vt = Vbᵀ (row-major n x n; row i is the i-th singular vector), s descending.
 * (Kept for compatibility; the SVD uses {@link bidiagQr}, which returns Ub and Vb.)
 */
export function bidiagSvd(dIn: Float64Array, eIn: Float64Array): { s: Float64Array; Ut: Float64Array; Vt: Float64Array } {
  const n = dIn.length;
  const r = bidiagQr(dIn, eIn, true);
  const Ut = new Float64Array(n * n), Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { Ut[j * n + i] = r.U![i * n + j]!; Vt[j * n + i] = r.V![i * n + j]!; }
  return { s: r.s, Ut, Vt };
}

// ---------------------------------------------------------------- Gram

/**
 * Gram route: for m >= n, eig(AᵀA) = V diag(s²) Vᵀ and U = A V diag(1/s); for m < n the
 * transpose. Falls back to exactSvd (solver 'exact') when s_min/s_max < minRatio, s_min taken
 * over the first `rank` values when a rank is given; with a rank, only that many triplets are
 * returned (the tall factor is computed for them only).
 */
export function gramSvd(A: Matrix, minRatio = GRAM_MIN_RATIO, rank?: number): SvdResult {
  return scaled(A, 'svd input', (As) => gramSvdUnchecked(As, minRatio, rank));
}

function gramSvdUnchecked(A: Matrix, minRatio: number, rank?: number): SvdResult {
  const m = A.rows, n = A.cols;
  if (m === 0 || n === 0) return exactSvdUnchecked(A);
  const wide = m < n;
  const mn = Math.min(m, n), mx = Math.max(m, n);
  progressTotal(4 * mx * mn * mn + 10 * mn * mn * mn);
  progressPhase(mx * mn * mn); // the Gram product (symmetric: half the flops)
  const G = gramMatrix(A, wide);
  progressPhase(10 * mn * mn * mn); // its eigendecomposition
  const { values, vectors } = symEig(G);
  const k = values.length;
  const s = new Float64Array(k);
  for (let i = 0; i < k; i++) s[i] = Math.sqrt(Math.max(values[i]!, 0));
  // the guard looks only at the values asked for: a row-centred d x n stack has rank n - 1, and
  // asking for rank n - 1 keeps the Gram route (its null direction is dropped, not resolved)
  const kk = rank === undefined ? k : Math.max(1, Math.min(k, Math.floor(rank)));
  if (!(s[0]! > 0) || s[kk - 1]! < minRatio * s[0]!) return exactSvdUnchecked(A);
  progressPhase(2 * mx * mn * mn);
  // the other factor is A V diag(1/s), of the `rank` leading columns only (svd() drops the
  // rest): the small V is scaled first, so the tall product is the only pass over it
  const kc = rank === undefined ? k : kk;
  const Vs = new Matrix(k, kc);
  const vs = Vs.data, vv = vectors.data;
  for (let i = 0; i < k; i++) for (let j = 0; j < kc; j++) vs[i * kc + j] = vv[i * k + j]! * (s[j]! > 0 ? 1 / s[j]! : 0);
  const other = wide ? matTmul(A, Vs) : matmul(A, Vs); // (n or m) x kc
  const small = kc === k ? vectors : cols(vectors, kc), sk = kc === k ? s : s.slice(0, kc);
  return wide ? { U: small, s: sk, V: other, solver: 'gram' } : { U: other, s: sk, V: small, solver: 'gram' };
}

// ---------------------------------------------------------------- randomized

export function randomizedSvd(A: Matrix, rank: number, opts: { oversample?: number; powerIterations?: number; seed?: number } = {}): SvdResult {
  return scaled(A, 'svd input', (As) => randomizedSvdUnchecked(As, rank, opts));
}

/**
 * Orthonormal basis of the columns of the tall sketch Y (m x l): CholeskyQR2 (two rounds of
 * Q = Y R⁻¹ with RᵀR = YᵀY: two Gram products and two GEMMs, no level-2 panel work), accepted
 * only when it is numerically orthonormal (max |QᵀQ - I| <= 1e-13); otherwise (rank-deficient
 * or ill-conditioned Y, e.g. a sketch of a low-rank matrix) Householder QR.
 */
function orthonormalColumns(Y: Matrix): Matrix {
  const Q = Y.rows >= Y.cols ? cholQr(Y) : null;
  const Q2 = Q ? cholQr(Q) : null;
  if (Q2 && orthOk(Q2, 1e-13)) return Q2;
  const { refl } = qrFactor(Y);
  const H = new Matrix(Y.rows, Y.cols);
  for (let i = 0; i < Y.cols; i++) H.data[i * Y.cols + i] = 1;
  applyReflectorsLeft(refl, H);
  return H;
}

/** Y R⁻¹ with RᵀR = YᵀY (Cholesky), or null when a pivot is not safely positive. */
function cholQr(Y: Matrix): Matrix | null {
  const l = Y.cols;
  const G = gramMatrix(Y).data;
  let gmax = 0;
  for (let j = 0; j < l; j++) gmax = Math.max(gmax, G[j * l + j]!);
  if (!(gmax > 0)) return null;
  const R = new Float64Array(l * l);
  for (let j = 0; j < l; j++) {
    let d = G[j * l + j]!;
    for (let k = 0; k < j; k++) d -= R[k * l + j]! * R[k * l + j]!;
    if (!(d > 1e-13 * gmax)) return null; // cond(Y) beyond ~3e6: not safe for CholeskyQR2
    const rjj = Math.sqrt(d);
    R[j * l + j] = rjj;
    for (let i = j + 1; i < l; i++) {
      let t = G[j * l + i]!;
      for (let k = 0; k < j; k++) t -= R[k * l + j]! * R[k * l + i]!;
      R[j * l + i] = t / rjj;
    }
  }
  // Rinv (upper) by back substitution, column by column
  const Ri = new Matrix(l, l);
  const ri = Ri.data;
  for (let c = 0; c < l; c++) {
    ri[c * l + c] = 1 / R[c * l + c]!;
    for (let i = c - 1; i >= 0; i--) {
      let t = 0;
      for (let k = i + 1; k <= c; k++) t += R[i * l + k]! * ri[k * l + c]!;
      ri[i * l + c] = -t / R[i * l + i]!;
    }
  }
  return matmul(Y, Ri);
}

function orthOk(Q: Matrix, tol: number): boolean {
  const G = gramMatrix(Q), l = Q.cols, g = G.data;
  for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) if (Math.abs(g[i * l + j]! - (i === j ? 1 : 0)) > tol) return false;
  return true;
}

/**
 * Where the last randomized SVD's time went (ms, wall clock of the calling thread): the Gaussian
 * sketch, the 2q + 2 products with A, the normalisations (LU after each power step, the final
 * QR), the small SVD with U = Q Ub. The input check and scaling (`scaled`) are outside: a caller
 * timing the whole call gets them as the difference. For the benchmark's phase rows.
 */
export const randomizedPhases = { sketch: 0, products: 0, normalise: 0, smallSvd: 0 };

function randomizedSvdUnchecked(A: Matrix, rank: number, opts: { oversample?: number; powerIterations?: number; seed?: number }): SvdResult {
  const m = A.rows, n = A.cols;
  const mn = Math.min(m, n);
  const k = Math.max(0, Math.min(mn, Math.floor(rank)));
  if (k === 0) return { U: new Matrix(m, 0), s: new Float64Array(0), V: new Matrix(n, 0), solver: 'randomized' };
  const l = Math.min(mn, k + Math.max(0, opts.oversample ?? 10));
  const q = Math.max(0, opts.powerIterations ?? 4);
  // M = A when tall, else Aᵀ (as scikit-learn's randomized_svd transposes a wide matrix): the
  // sketch starts from min(m, n) x l random values and the small SVD is l x min(m, n). The
  // sketches are kept transposed (l x max / l x min, row-major = column-major Y), so that LAPACK
  // factors them in place and every product is op(small) times A with the long side of the
  // output leading (the faster dgemm shape here: 1.4 vs 1.9 ms CPU for 700x1028x45).
  const tall = m >= n, big = Math.max(m, n);
  const mulM = (Xt: Matrix) => gemm(Xt, A, { transB: tall }); // (M X)ᵀ = Xᵀ Mᵀ: l x big
  const mulMt = (Yt: Matrix) => gemm(Yt, A, { transB: !tall }); // (Mᵀ Y)ᵀ = Yᵀ M: l x mn
  let t = performance.now();
  const lap = () => { const t1 = performance.now(), d = t1 - t; t = t1; return d; };
  const ph = randomizedPhases;
  ph.products = ph.normalise = 0;
  const rng = seededRandom(opts.seed ?? 0);
  let Xt = new Matrix(l, mn);
  rng.fillGaussian(Xt.data);
  ph.sketch = lap();
  // progress: 2q + 2 products with A (2mnl flops each, plus a normalisation), the small SVD
  const prod = 2 * m * n * l + 2 * big * l * l;
  progressTotal((2 * q + 2) * prod + 4 * mn * l * l + 22 * l * l * l);
  // power iterations normalised by LU (P·L; lu.ts), as scikit-learn's 'auto' for n_iter > 2; one
  // Householder QR at the end for the orthonormal basis of the range
  for (let it = 0; it < q; it++) {
    progressPhase(prod);
    const Yt = mulM(Xt);
    ph.products += lap();
    luPermutedT(Yt);
    ph.normalise += lap();
    progressPhase(prod);
    Xt = mulMt(Yt);
    ph.products += lap();
    luPermutedT(Xt);
    ph.normalise += lap();
  }
  progressPhase(prod);
  const Y = mulM(Xt);
  ph.products += lap();
  const Qt = orthonormalRowsT(Y); // l x big, orthonormal rows
  ph.normalise += lap();
  progressPhase(prod);
  const B = mulMt(Qt); // Qᵀ M: l x mn
  ph.products += lap();
  progressPhase(4 * mn * l * l + 22 * l * l * l);
  const r = unobserved(() => exactSvdUnchecked(B)); // U l x l, V mn x l
  const UM = gemm(Qt, r.U.block(0, l, 0, k), { transA: true }); // Q Ub: big x k
  const VM = cols(r.V, k);
  const s = r.s.slice(0, k);
  ph.smallSvd = lap();
  return tall ? { U: UM, s, V: VM, solver: 'randomized' } : { U: VM, s, V: UM, solver: 'randomized' };
}

/**
 * Orthonormal rows spanning those of Yt (l x big, l <= big): LAPACK's Householder QR on Ytᵀ
 * (lu.ts qrQT) when the native backend is on, else CholeskyQR2 with its Householder fallback
 * ({@link orthonormalColumns}) on the transposed copy.
 */
function orthonormalRowsT(Yt: Matrix): Matrix {
  if (qrQT(Yt)) return Yt;
  return orthonormalColumns(Yt.transpose()).transpose();
}

