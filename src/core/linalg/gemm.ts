/**
 * Cache-blocked GEMM on row-major {@link Matrix} views (any offset/stride):
 *   C = alpha * op(A) * op(B) + beta * C,  op(X) = X or Xᵀ.
 *
 * Layout: GotoBLAS-style. op(B) is packed panel by panel (KC x NC, L3) into
 * 4-column strips, op(A) block by block (MC x KC, L2) into 4-row strips, and a
 * 4x4 register-blocked micro-kernel runs over the packed strips (each pair of
 * strips is 2 x KC x 4 doubles = 16 KiB, L1). Transposition is absorbed by the
 * packing (which reads whichever way is contiguous), so no transposed copy of
 * a whole operand is ever made. Small products skip packing.
 */
import { Matrix } from './matrix.js';
import { LinalgError } from './errors.js';
import { wasmGemm } from './wasm/kernel.js';
import { nativeBlas, nativeGemm } from './native.js';
import { runParts, teamAvailable, teamHelpers, type TeamOperand, type TeamPart } from './team.js';

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Output (may be a view). Must not alias A or B. Allocated when absent. */
  C?: Matrix;
  /**
   * false: never the native backend (native.ts), only the TS/WebAssembly kernels (the
   * incremental SVD of the video model keeps them). Default: native dgemm from NATIVE_GEMM_MIN.
   */
  native?: boolean;
}

/** Products of at least this many multiply-adds (m n k) run OpenBLAS dgemm when the native backend is on (measured: bench notes). */
export let NATIVE_GEMM_MIN = 32768;
export function setNativeGemmMin(v: number): void { NATIVE_GEMM_MIN = v; }

const KC = 256;
const MC = 128;
const NC = 2048;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);

export function gemm(A: Matrix, B: Matrix, opts: GemmOptions = {}): Matrix {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const alpha = opts.alpha ?? 1;
  const beta = opts.beta ?? 0;
  const m = transA ? A.cols : A.rows;
  const k = transA ? A.rows : A.cols;
  const kb = transB ? B.cols : B.rows;
  const n = transB ? B.rows : B.cols;
  if (k !== kb) {
    throw new LinalgError(`gemm: inner dimensions differ: op(A) is ${m}x${k}, op(B) is ${kb}x${n}`);
  }
  let C = opts.C;
  if (C && (C.rows !== m || C.cols !== n)) throw new LinalgError(`gemm: C is ${C.rows}x${C.cols}, expected ${m}x${n}`);
  const L = opts.native !== false && m > 0 && n > 0 && k > 0 && m * n * k >= NATIVE_GEMM_MIN && alpha !== 0 ? nativeBlas() : null;
  if (L) {
    C ??= new Matrix(m, n);
    nativeGemm(L, A.data, A.offset, A.stride, B.data, B.offset, B.stride, C.data, C.offset, C.stride, m, n, k, transA, transB, alpha, opts.C ? beta : 0);
    return C;
  }
  if (C) {
    if (beta !== 1) scale(C, beta);
  } else {
    C = new Matrix(m, n);
  }
  if (m === 0 || n === 0 || k === 0 || alpha === 0) return C;
  if (m * n * k <= 32768 || m < 4 || n < 4) {
    small(A, B, C, m, n, k, transA, transB, alpha);
    return C;
  }
  // zero: C holds zeros (fresh, or beta = 0), so the WebAssembly kernel need not read it
  blocked(A, B, C, m, n, k, transA, transB, alpha, false, !opts.C || beta === 0);
  return C;
}

function scale(C: Matrix, beta: number): void {
  const { rows, cols, data, offset, stride } = C;
  for (let i = 0; i < rows; i++) {
    const b = offset + i * stride;
    if (beta === 0) data.fill(0, b, b + cols);
    else for (let j = b; j < b + cols; j++) data[j]! *= beta;
  }
}

/** Unpacked kernels for small or very thin products. */
function small(A: Matrix, B: Matrix, C: Matrix, m: number, n: number, k: number, tA: boolean, tB: boolean, alpha: number): void {
  const a = A.data, b = B.data, c = C.data;
  const ao = A.offset, as = A.stride, bo = B.offset, bs = B.stride, co = C.offset, cs = C.stride;
  if (!tB) {
    // C[i,:] += alpha * op(A)[i,p] * B[p,:]
    for (let i = 0; i < m; i++) {
      const ci = co + i * cs;
      for (let p = 0; p < k; p++) {
        const aip = alpha * (tA ? a[ao + p * as + i]! : a[ao + i * as + p]!);
        if (aip === 0) continue;
        const bp = bo + p * bs;
        for (let j = 0; j < n; j++) c[ci + j]! += aip * b[bp + j]!;
      }
    }
  } else if (!tA) {
    // C[i,j] += alpha * dot(A[i,:], B[j,:])
    for (let i = 0; i < m; i++) {
      const ai = ao + i * as, ci = co + i * cs;
      for (let j = 0; j < n; j++) {
        const bj = bo + j * bs;
        let s0 = 0, s1 = 0, p = 0;
        for (; p + 1 < k; p += 2) { s0 += a[ai + p]! * b[bj + p]!; s1 += a[ai + p + 1]! * b[bj + p + 1]!; }
        if (p < k) s0 += a[ai + p]! * b[bj + p]!;
        c[ci + j]! += alpha * (s0 + s1);
      }
    }
  } else {
    // C[i,j] += alpha * sum_p A[p,i] B[j,p]
    for (let i = 0; i < m; i++) {
      const ci = co + i * cs;
      for (let j = 0; j < n; j++) {
        const bj = bo + j * bs;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + p * as + i]! * b[bj + p]!;
        c[ci + j]! += alpha * s;
      }
    }
  }
}

/** Which micro-kernel the packed GEMM uses: WebAssembly SIMD when available (default), or pure TS. */
export let GEMM_BACKEND: 'wasm' | 'js' = 'wasm';
export function setGemmBackend(b: 'wasm' | 'js'): void { GEMM_BACKEND = b; }
/** The backend actually in use ('js' when WebAssembly SIMD is unavailable). */
export function gemmBackend(): 'wasm' | 'js' {
  return GEMM_BACKEND === 'wasm' && wasmGemm(MC, KC, NC) ? 'wasm' : 'js';
}

/** Products with fewer multiply-adds (m n k) than this are never split across the thread team. */
export let PARALLEL_MIN = 1 << 22;
export function setParallelMin(v: number): void { PARALLEL_MIN = v; }

/**
 * The split's cost model, in nanoseconds: a multiply-add of the packed product costs MAC_NS
 * (WebAssembly SIMD kernel with its packing and copies, or the TS kernel), copying one value of
 * an operand that is not in shared memory into a new SharedArrayBuffer costs COPY_NS, and one
 * fan-out HOP_NS (posting the parts, a helper's wake-up, the caller's wait; claiming makes a
 * late helper cost at most the part it took). A product is split when the time it saves,
 * work * MAC_NS * (1 - 1 / threads), is larger than HOP_NS plus the copies. Measured (CPU time
 * of one thread, 2-core machine at load ~10, so on the high side): 0.13-0.16 ns per
 * multiply-add for 500^3, 700x45x1028 and 1028x45x700 products; 3.9 ns per value for copying
 * the 70890 x 22 stamps into shared memory (allocation included). A 12 MB operand made outside
 * shared memory therefore stays on one thread unless the product does ~60 multiply-adds per
 * value copied, e.g. XV with V 22 x 22 does 22: one thread.
 */
export const SPLIT_COST = { macNsWasm: 0.13, macNsJs: 0.6, copyNs: 3.9, hopNs: 60_000 };

/** Changes the cost model (tests force splits of small products with hopNs 0). */
export function setSplitCost(c: Partial<typeof SPLIT_COST>): void { Object.assign(SPLIT_COST, c); }

const shared = (M: Matrix) => M.data.buffer instanceof SharedArrayBuffer;

/** Whether splitting a product of `work` multiply-adds pays, `copied` values to move into shared memory first. */
export function splitPays(work: number, copied: number): boolean {
  if (work < PARALLEL_MIN || !teamAvailable()) return false;
  const T = teamHelpers() + 1;
  const mac = gemmBackend() === 'wasm' ? SPLIT_COST.macNsWasm : SPLIT_COST.macNsJs;
  return work * mac * (1 - 1 / T) > SPLIT_COST.hopNs + copied * SPLIT_COST.copyNs;
}

/** C's values must be in shared memory for helpers to write them; A and B are copied there if not (the model counts it). */
function parallelOk(A: Matrix, B: Matrix, C: Matrix, m: number, n: number, k: number): boolean {
  if (!shared(C)) return false;
  const copied = (shared(A) ? 0 : A.rows * A.cols) + (shared(B) || B.data === A.data ? 0 : B.rows * B.cols);
  return splitPays(m * n * k, copied);
}

const operand = (M: Matrix): TeamOperand => {
  if (M.data.buffer instanceof SharedArrayBuffer) return { data: M.data, rows: M.rows, cols: M.cols, offset: M.offset, stride: M.stride };
  const data = new Float64Array(new SharedArrayBuffer(M.rows * M.cols * 8));
  for (let i = 0; i < M.rows; i++) data.set(M.data.subarray(M.offset + i * M.stride, M.offset + i * M.stride + M.cols), i * M.cols);
  return { data, rows: M.rows, cols: M.cols, offset: 0, stride: M.cols };
};
const asMatrix = (o: TeamOperand) => new Matrix(o.rows, o.cols, o.data, o.offset, o.stride);
const sub = (o: TeamOperand, r0: number, r1: number, c0: number, c1: number): TeamOperand => ({ data: o.data, rows: r1 - r0, cols: c1 - c0, offset: o.offset + r0 * o.stride + c0, stride: o.stride });

/**
 * Splits C into (helpers + 1) column blocks (or row blocks when C is tall) on 4-aligned
 * boundaries, or with `bounds` given, into those column blocks with rows 0..j1 only (the
 * upper triangle of a Gram product), and runs them on the thread team. Each element is summed
 * exactly as by the one-thread kernel.
 */
function parallelBlocked(A: Matrix, B: Matrix, C: Matrix, m: number, n: number, k: number, tA: boolean, tB: boolean, alpha: number, bounds?: number[], zero = false): void {
  const a = operand(A), b = B.data === A.data && B.offset === A.offset && B.stride === A.stride && B.rows === A.rows && B.cols === A.cols ? a : operand(B), c = operand(C);
  const T = teamHelpers() + 1;
  const parts: TeamPart[] = [];
  const byCols = bounds !== undefined || n >= m;
  const len = byCols ? n : m;
  const cuts = bounds ?? Array.from({ length: T + 1 }, (_, i) => (i === T ? len : Math.round((len * i) / T / 4) * 4));
  for (let i = 0; i < cuts.length - 1; i++) {
    const x0 = cuts[i]!, x1 = cuts[i + 1]!;
    if (x1 <= x0) continue;
    if (byCols) {
      const rows = bounds ? x1 : m; // Gram: rows 0..j1 of the column block
      parts.push({ A: tA ? sub(a, 0, k, 0, rows) : sub(a, 0, rows, 0, k), B: tB ? sub(b, x0, x1, 0, k) : sub(b, 0, k, x0, x1), C: sub(c, 0, rows, x0, x1), m: rows, n: x1 - x0, k, tA, tB, alpha, zero });
    } else {
      parts.push({ A: tA ? sub(a, 0, k, x0, x1) : sub(a, x0, x1, 0, k), B: b, C: sub(c, x0, x1, 0, n), m: x1 - x0, n, k, tA, tB, alpha, zero });
    }
  }
  runParts(parts, (p) => gemmPart(asMatrix(p.A), asMatrix(p.B), asMatrix(p.C), p.m, p.n, p.k, p.tA, p.tB, p.alpha, p.zero));
}

/** One part of a split product (thread team helpers and the caller's own share): the one-thread kernel. */
export function gemmPart(A: Matrix, B: Matrix, C: Matrix, m: number, n: number, k: number, tA: boolean, tB: boolean, alpha: number, zero = false): void {
  if (m === 0 || n === 0) return;
  if (m * n * k <= 32768 || m < 4 || n < 4) small(A, B, C, m, n, k, tA, tB, alpha);
  else sequential(A, B, C, m, n, k, tA, tB, alpha, false, zero);
}

function blocked(A: Matrix, B: Matrix, C: Matrix, m: number, n: number, k: number, tA: boolean, tB: boolean, alpha: number, upperOnly = false, zero = false): void {
  if (!upperOnly && parallelOk(A, B, C, m, n, k)) { parallelBlocked(A, B, C, m, n, k, tA, tB, alpha, undefined, zero); return; }
  sequential(A, B, C, m, n, k, tA, tB, alpha, upperOnly, zero);
}

function sequential(A: Matrix, B: Matrix, C: Matrix, m: number, n: number, k: number, tA: boolean, tB: boolean, alpha: number, upperOnly = false, zero = false): void {
  if (GEMM_BACKEND === 'wasm') {
    const w = wasmGemm(MC, KC, NC);
    if (w) { blockedWasm(w, A, B, C, m, n, k, tA, tB, alpha, zero); return; }
  }
  const a = A.data, b = B.data, c = C.data;
  const ao = A.offset, as = A.stride, bo = B.offset, bs = B.stride, co = C.offset, cs = C.stride;
  const direct = DIRECT_A;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const nStrips = (nc + 3) >> 2;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      // pack op(B)[pc:pc+kc, jc:jc+nc] into 4-column strips
      const Bp = packB;
      for (let s = 0; s < nStrips; s++) {
        const j0 = jc + 4 * s;
        const w = Math.min(4, n - j0);
        let dst = s * kc * 4;
        if (!tB) {
          let src = bo + pc * bs + j0;
          if (w === 4) {
            for (let p = 0; p < kc; p++, src += bs, dst += 4) {
              Bp[dst] = b[src]!; Bp[dst + 1] = b[src + 1]!; Bp[dst + 2] = b[src + 2]!; Bp[dst + 3] = b[src + 3]!;
            }
          } else {
            for (let p = 0; p < kc; p++, src += bs, dst += 4) for (let t = 0; t < 4; t++) Bp[dst + t] = t < w ? b[src + t]! : 0;
          }
        } else {
          for (let t = 0; t < 4; t++) {
            if (t < w) {
              const src = bo + (j0 + t) * bs + pc;
              for (let p = 0; p < kc; p++) Bp[dst + p * 4 + t] = b[src + p]!;
            } else {
              for (let p = 0; p < kc; p++) Bp[dst + p * 4 + t] = 0;
            }
          }
        }
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        const mStrips = (mc + 3) >> 2;
        const Ap = packA;
        if (!tA && direct) {
          // op(A) rows are contiguous: the kernel reads them in place (no A packing)
          for (let sj = 0; sj < nStrips; sj++) {
            const j0 = jc + 4 * sj;
            const w = Math.min(4, n - j0);
            const bOff = sj * kc * 4;
            for (let si = 0; si < mStrips; si++) {
              const i0 = ic + 4 * si;
              if (upperOnly && i0 > j0 + 3) break;
              const h = Math.min(4, m - i0);
              kernelDirect(a, ao + i0 * as + pc, as, h, Bp, bOff, kc, c, co + i0 * cs + j0, cs, w, alpha);
            }
          }
          continue;
        }
        for (let s = 0; s < mStrips; s++) {
          const i0 = ic + 4 * s;
          const h = Math.min(4, m - i0);
          const dst = s * kc * 4;
          if (!tA) {
            for (let t = 0; t < 4; t++) {
              if (t < h) {
                const src = ao + (i0 + t) * as + pc;
                for (let p = 0; p < kc; p++) Ap[dst + p * 4 + t] = a[src + p]!;
              } else {
                for (let p = 0; p < kc; p++) Ap[dst + p * 4 + t] = 0;
              }
            }
          } else {
            let src = ao + pc * as + i0;
            let d = dst;
            if (h === 4) {
              for (let p = 0; p < kc; p++, src += as, d += 4) {
                Ap[d] = a[src]!; Ap[d + 1] = a[src + 1]!; Ap[d + 2] = a[src + 2]!; Ap[d + 3] = a[src + 3]!;
              }
            } else {
              for (let p = 0; p < kc; p++, src += as, d += 4) for (let t = 0; t < 4; t++) Ap[d + t] = t < h ? a[src + t]! : 0;
            }
          }
        }
        for (let sj = 0; sj < nStrips; sj++) {
          const j0 = jc + 4 * sj;
          const w = Math.min(4, n - j0);
          const bOff = sj * kc * 4;
          for (let si = 0; si < mStrips; si++) {
            const i0 = ic + 4 * si;
            if (upperOnly && i0 > j0 + 3) break;
            const h = Math.min(4, m - i0);
            kernel4x4(Ap, si * kc * 4, Bp, bOff, kc, c, co + i0 * cs + j0, cs, h, w, alpha);
          }
        }
      }
    }
  }
}

/**
 * The same blocking with the WebAssembly SIMD micro-kernel: the blocks of op(A), op(B) and C
 * are copied into the module's memory (TypedArray.set, i.e. memcpy: one call for a block whose
 * rows are contiguous, else one per row when rows are long), packed there into the same strip
 * layout by SIMD code, the kernel adds alpha times the product into the C block, and the block
 * is copied back. The C block keeps C's row length (the kernel stores a last, narrower strip
 * lane by lane), so a thin C (n = 22: the Gram route's U = X V) copies as one memcpy; a C
 * known to be zero is not copied in at all (the kernel adds to zeros), and for AᵀA the A block
 * is packed from the B panel already copied. The summation order per element is the TS
 * kernel's (sequential over each KC chunk, then alpha * sum added to C), so both backends give
 * the same values up to the last bit.
 */
function blockedWasm(w: NonNullable<ReturnType<typeof wasmGemm>>, A: Matrix, B: Matrix, C: Matrix, m: number, n: number, k: number, tA: boolean, tB: boolean, alpha: number, zero: boolean): void {
  const a = A.data, b = B.data, c = C.data, f = w.f64;
  const ao = A.offset, as = A.stride, bo = B.offset, bs = B.stride, co = C.offset, cs = C.stride;
  const { AP, BP, CB, RA, RB } = w;
  // AᵀA (a Gram product): op(A)'s block rows pc.. are the B panel's rows, already in RB
  const gram = tA && !tB && a === b && ao === bo && as === bs;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const nStrips = (nc + 3) >> 2;
    const ldc = nc;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      if (!tB) {
        copyRows(b, bo + pc * bs + jc, bs, f, RB, nc, kc, nc);
        w.packCols(kc, nc, RB * 8, nc, BP * 8);
      } else {
        copyRows(b, bo + jc * bs + pc, bs, f, RB, kc, nc, kc);
        w.packRows(nc, kc, RB * 8, kc, BP * 8);
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        const mStrips = (mc + 3) >> 2;
        if (!tA) {
          copyRows(a, ao + ic * as + pc, as, f, RA, kc, mc, kc);
          w.packRows(mc, kc, RA * 8, kc, AP * 8);
        } else if (gram && ic >= jc && ic + mc <= jc + nc) {
          w.packCols(kc, mc, (RB + ic - jc) * 8, nc, AP * 8);
        } else {
          copyRows(a, ao + pc * as + ic, as, f, RA, mc, kc, mc);
          w.packCols(kc, mc, RA * 8, mc, AP * 8);
        }
        const cb = co + ic * cs + jc;
        const acc = !(zero && pc === 0);
        if (acc) copyRows(c, cb, cs, f, CB, ldc, mc, nc);
        w.kernel(kc, mStrips, nStrips, AP * 8, BP * 8, CB * 8, ldc, alpha, nc, acc ? 1 : 0);
        copyRows(f, CB, ldc, c, cb, cs, mc, nc);
      }
    }
  }
}

/** dst[d0 + i*ds + j] = src[s0 + i*ss + j] for i < rows, j < cols (memcpy per row when rows are long). */
function copyRows(src: Float64Array, s0: number, ss: number, dst: Float64Array, d0: number, ds: number, rows: number, cols: number): void {
  if (cols >= 48) {
    for (let i = 0; i < rows; i++) dst.set(src.subarray(s0 + i * ss, s0 + i * ss + cols), d0 + i * ds);
  } else if (ss === cols && ds === cols) {
    dst.set(src.subarray(s0, s0 + rows * cols), d0);
  } else {
    for (let i = 0; i < rows; i++) {
      const sb = s0 + i * ss, db = d0 + i * ds;
      for (let j = 0; j < cols; j++) dst[db + j] = src[sb + j]!;
    }
  }
}

/** Read op(A) rows in place instead of packing them (measured: see bench notes). */
export let DIRECT_A = true;
export function setDirectA(v: boolean): void { DIRECT_A = v; }

function kernelDirect(a: Float64Array, aOff: number, as: number, h: number, Bp: Float64Array, bOff: number, kc: number, c: Float64Array, cOff: number, cs: number, w: number, alpha: number): void {
  const r0 = aOff, r1 = aOff + (h > 1 ? as : 0), r2 = aOff + (h > 2 ? 2 * as : 0), r3 = aOff + (h > 3 ? 3 * as : 0);
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let pb = bOff;
  for (let p = 0; p < kc; p++, pb += 4) {
    const a0 = a[r0 + p]!, a1 = a[r1 + p]!, a2 = a[r2 + p]!, a3 = a[r3 + p]!;
    const b0 = Bp[pb]!, b1 = Bp[pb + 1]!, b2 = Bp[pb + 2]!, b3 = Bp[pb + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (h === 4 && w === 4) {
    let o = cOff;
    c[o]! += alpha * c00; c[o + 1]! += alpha * c01; c[o + 2]! += alpha * c02; c[o + 3]! += alpha * c03; o += cs;
    c[o]! += alpha * c10; c[o + 1]! += alpha * c11; c[o + 2]! += alpha * c12; c[o + 3]! += alpha * c13; o += cs;
    c[o]! += alpha * c20; c[o + 1]! += alpha * c21; c[o + 2]! += alpha * c22; c[o + 3]! += alpha * c23; o += cs;
    c[o]! += alpha * c30; c[o + 1]! += alpha * c31; c[o + 2]! += alpha * c32; c[o + 3]! += alpha * c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let t = 0; t < h; t++) for (let u = 0; u < w; u++) c[cOff + t * cs + u]! += alpha * acc[t * 4 + u]!;
}

/**
 * kernelDirect's tile on a packed A strip (4 values of the strip's rows per step, interleaved).
 * Kept apart on purpose: one kernel for both (reading the packed strip as 4 rows of stride kc,
 * or with a step argument) gives the same bits but cost 3-11% more CPU in the TS fallback's
 * packed paths (measured 2026-11-30, 301x403x257, load 2.5).
 */
function kernel4x4(Ap: Float64Array, aOff: number, Bp: Float64Array, bOff: number, kc: number, c: Float64Array, cOff: number, cs: number, h: number, w: number, alpha: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let pa = aOff, pb = bOff;
  const end = aOff + kc * 4;
  for (; pa < end; pa += 4, pb += 4) {
    const a0 = Ap[pa]!, a1 = Ap[pa + 1]!, a2 = Ap[pa + 2]!, a3 = Ap[pa + 3]!;
    const b0 = Bp[pb]!, b1 = Bp[pb + 1]!, b2 = Bp[pb + 2]!, b3 = Bp[pb + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (h === 4 && w === 4) {
    let o = cOff;
    c[o]! += alpha * c00; c[o + 1]! += alpha * c01; c[o + 2]! += alpha * c02; c[o + 3]! += alpha * c03; o += cs;
    c[o]! += alpha * c10; c[o + 1]! += alpha * c11; c[o + 2]! += alpha * c12; c[o + 3]! += alpha * c13; o += cs;
    c[o]! += alpha * c20; c[o + 1]! += alpha * c21; c[o + 2]! += alpha * c22; c[o + 3]! += alpha * c23; o += cs;
    c[o]! += alpha * c30; c[o + 1]! += alpha * c31; c[o + 2]! += alpha * c32; c[o + 3]! += alpha * c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let t = 0; t < h; t++) for (let u = 0; u < w; u++) c[cOff + t * cs + u]! += alpha * acc[t * 4 + u]!;
}

/**
 * Gram matrix AᵀA (n x n; or AAᵀ with `rowsGram`), computing only the upper tiles
 * (half the flops of a general product) and mirroring them.
 */
export function gramMatrix(A: Matrix, rowsGram = false): Matrix {
  const n = rowsGram ? A.rows : A.cols;
  const k = rowsGram ? A.cols : A.rows;
  const C = new Matrix(n, n);
  if (n === 0 || k === 0) return C;
  if (n < 8 || n * n * k <= 32768 || (n * n * k >= NATIVE_GEMM_MIN && nativeBlas())) return rowsGram ? gemm(A, A, { transB: true }) : gemm(A, A, { transA: true });
  if (parallelOk(A, A, C, n, n, k)) {
    // column blocks [j0, j1) with rows 0..j1, cut so that each has about the same area
    const T = teamHelpers() + 1;
    const bounds = [0];
    for (let i = 1; i < T; i++) bounds.push(Math.min(n, Math.round((n * Math.sqrt(i / T)) / 4) * 4));
    bounds.push(n);
    parallelBlocked(A, A, C, n, n, k, !rowsGram, rowsGram, 1, bounds, true);
  } else {
    blocked(A, A, C, n, n, k, !rowsGram, rowsGram, 1, true, true);
  }
  const c = C.data;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) c[i * n + j] = c[j * n + i]!;
  return C;
}

/** A·B */
export function matmul(A: Matrix, B: Matrix): Matrix {
  return gemm(A, B);
}
/** Aᵀ·B */
export function matTmul(A: Matrix, B: Matrix): Matrix {
  return gemm(A, B, { transA: true });
}
/** A·Bᵀ */
export function matmulT(A: Matrix, B: Matrix): Matrix {
  return gemm(A, B, { transB: true });
}

export function frobeniusNormSq(A: Matrix): number {
  const { rows, cols, data, offset, stride } = A;
  let s0 = 0, s1 = 0;
  for (let i = 0; i < rows; i++) {
    const b = offset + i * stride, e = b + cols;
    let j = b;
    for (; j + 1 < e; j += 2) { const x = data[j]!, y = data[j + 1]!; s0 += x * x; s1 += y * y; }
    if (j < e) { const x = data[j]!; s0 += x * x; }
  }
  return s0 + s1;
}
