/**
 * Optional native backend: the system's OpenBLAS (BLAS + LAPACK, what NumPy calls), reached
 * through koffi (a maintained FFI whose npm package ships prebuilt binaries; no compiler at
 * install). When it loads, the exact SVD runs LAPACK dgesdd (values only: jobz 'N'), GEMM
 * above a size runs dgemm, and the symmetric eigensolver dsyevd; everything else, and
 * everything when the library is absent, runs the WebAssembly / TypeScript kernels, which stay
 * the tested fallback.
 *
 * Selection (read once, on first use; `setBlas` overrides it, for tests and benchmarks):
 *   SVDFLOW_BLAS unset      load libopenblas.so.0 (Debian/Ubuntu libopenblas0-pthread), else fall back
 *   SVDFLOW_BLAS=off        never load it (the WebAssembly kernels; also implied by SVDFLOW_NO_WASM, which runs the TypeScript ones)
 *   SVDFLOW_BLAS=/path.so   load that library (it must export the BLAS/LAPACK routines declared in load())
 * A library that fails to load leaves `blasStatus().reason` saying why (the CLI logs it once).
 *
 * Storage: svdflow's matrices are row-major; a row-major r x c array with row stride s IS the
 * column-major c x r array Aᵀ with leading dimension s, so no operand is transposed to call the
 * Fortran ABI (see each wrapper).
 *
 * Threads: OpenBLAS's own pool (pthreads): one thread for calls below NATIVE_MT_MIN
 * multiply-adds, else this process's thread budget (src/core/threads.ts) divided by the native
 * calls in flight (the pool's workers may call at once). The number is process-wide
 * (openblas_set_num_threads), set before a call when it changes.
 *
 * Cancellation: a thread inside a native call cannot be interrupted, and Node's process exit
 * waits for every worker thread to stop (measured: process.exit(130) during a 3000x3000 dgesdd
 * in a worker returned after the call, 13 s later). So calls are counted in a shared counter
 * (`nativeInFlight`, handed to the compute pool's workers), and the main thread's 'exit' hook
 * ends the process with _exit(code) when a worker is still inside one: the run has already
 * removed its temporary files and written what it writes when it reaches exit.
 */
import { createRequire } from 'node:module';
import { threadBudget } from '../threads.js';
import { optionalLibrary } from '../native-lib.js';
import { wasmKernelsAvailable } from './wasm/kernel.js';

type Fn = (...a: unknown[]) => unknown;
interface Lib { dgesdd: Fn; dgemm: Fn; dsyevd: Fn; dgebrd: Fn; dbdsdc: Fn; dormbr: Fn; dgetrf: Fn; dgeqrf: Fn; dorgqr: Fn; setThreads: Fn; getThreads: Fn; config: string; path: string }

export interface BlasStatus {
  /**
   * what runs the exact SVD / large GEMM: 'openblas' (native) or the fallback kernels: 'wasm'
   * (WebAssembly SIMD) or 'ts' (the TypeScript kernels: SVDFLOW_NO_WASM, or no SIMD); 'unused'
   * (from `blasUsage` only) when nothing in the process made such a call, so the library was not loaded
   */
  backend: 'openblas' | 'wasm' | 'ts' | 'unused';
  /** the library loaded (its OpenBLAS config string), when native */
  library?: string;
  /** OpenBLAS threads of a large call when native (calls below NATIVE_MT_MIN multiply-adds use one) */
  threads?: number;
  /** why the native backend is not in use (absent library, SVDFLOW_BLAS=off, ...) */
  reason?: string;
  /** native calls made by every thread of this process (from `blasUsage`) */
  calls?: number;
}

const DEFAULT_LIBS = ['libopenblas.so.0', 'libopenblas.so', 'libopenblas.dylib'];

// SVDFLOW_BLAS=off (or 0), or SVDFLOW_NO_WASM without SVDFLOW_BLAS, rules the library out
const blas = optionalLibrary<Lib>({
  envName: 'SVDFLOW_BLAS',
  offBy: 'setBlas',
  refuse: (env) => (process.env.SVDFLOW_NO_WASM && !env ? 'SVDFLOW_NO_WASM is set (pure TypeScript kernels)' : undefined),
  defaults: DEFAULT_LIBS,
  bind: (f, path) => {
    const out: Lib = {
      path,
      dgesdd: f('void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info, size_t jl)'),
      dgemm: f('void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const double *alpha, const double *a, const int *lda, const double *b, const int *ldb, const double *beta, double *c, const int *ldc, size_t l1, size_t l2)'),
      dsyevd: f('void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t l1, size_t l2)'),
      dgebrd: f('void dgebrd_(const int *m, const int *n, double *a, const int *lda, double *d, double *e, double *tauq, double *taup, double *work, const int *lwork, int *info)'),
      dbdsdc: f('void dbdsdc_(const char *uplo, const char *compq, const int *n, double *d, double *e, double *u, const int *ldu, double *vt, const int *ldvt, double *q, int *iq, double *work, int *iwork, int *info, size_t l1, size_t l2)'),
      dormbr: f('void dormbr_(const char *vect, const char *side, const char *trans, const int *m, const int *n, const int *k, const double *a, const int *lda, const double *tau, double *c, const int *ldc, double *work, const int *lwork, int *info, size_t l1, size_t l2, size_t l3)'),
      dgetrf: f('void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info)'),
      dgeqrf: f('void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work, const int *lwork, int *info)'),
      dorgqr: f('void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau, double *work, const int *lwork, int *info)'),
      setThreads: f('void openblas_set_num_threads(int n)'),
      getThreads: f('int openblas_get_num_threads()'),
      config: String(f('const char *openblas_get_config()')()),
    };
    out.setThreads(Math.max(1, threadBudget()));
    Atomics.store(inFlight, 2, Math.max(1, threadBudget()));
    return out;
  },
  notFound: (errors) => `OpenBLAS was not found (${errors}); install libopenblas0-pthread (Debian/Ubuntu) for native speed`,
});

/** The native library when it is on and loads, else null (the fallback kernels run). */
export function nativeBlas(): Lib | null {
  return blas.get();
}

/**
 * Turns the native backend on (when it loads) or off for this thread, overriding SVDFLOW_BLAS;
 * `undefined` goes back to the environment's choice. Returns whether it is now in use.
 */
export function setBlas(on: boolean | undefined): boolean {
  return blas.set(on);
}

/** Which backend runs the exact SVD and large products, and why (for run.json and the bench notes). */
export function blasStatus(): BlasStatus {
  const l = nativeBlas();
  if (l) return { backend: 'openblas', library: `${l.path}: ${l.config.trim()}`, threads: Math.max(1, threadBudget()) };
  return { backend: wasmKernelsAvailable() ? 'wasm' : 'ts', reason: blas.reason() };
}

/**
 * What ran, for run.json: `blasStatus()` once any thread of this process has made a native call
 * (the library is then mapped already, so asking costs nothing), or once this thread has resolved
 * the backend; otherwise 'unused', without loading a library that no step needed (a video run's
 * model uses the WebAssembly kernels: loading OpenBLAS only to name it cost ~5 MiB of RSS).
 */
export function blasUsage(): BlasStatus {
  const calls = Atomics.load(inFlight, 1);
  // when the environment rules the library out, blasStatus says why without loading anything
  if (calls > 0 || blas.resolved() || blas.off() || blas.refusal()) return { ...blasStatus(), calls };
  return { backend: 'unused', reason: 'no step made a call that runs on OpenBLAS, so it was not loaded', calls };
}

// ------------------------------------------------------------ calls in flight (cancellation)

/**
 * Shared by every thread of the process (the pool hands it to its workers): [0] native calls in
 * progress, [1] native calls made, [2] OpenBLAS's thread count as last set. The count is
 * process-wide in OpenBLAS, so a thread that remembered only its own last setting ran a small
 * call on the threads another worker had set for a large one.
 */
let inFlight = new Int32Array(new SharedArrayBuffer(12));
/** The shared counter of native calls in progress (the pool hands it to its workers). */
export function nativeInFlightBuffer(): SharedArrayBuffer { return inFlight.buffer as SharedArrayBuffer; }
/** In a pool worker: count this thread's native calls in the main thread's counter. */
export function useNativeInFlightBuffer(b: SharedArrayBuffer): void { inFlight = new Int32Array(b); }
export function nativeInFlight(): number { return Atomics.load(inFlight, 0); }

/**
 * Calls below this many multiply-adds run on ONE OpenBLAS thread, larger ones on the thread
 * budget shared by the native calls in flight. Measured (bench notes; 2 cores shared with other
 * jobs, load ~5): a 70890x22 XᵀX took 3.1 ms CPU on one thread and 15 ms on two (the two
 * threads wait for each other whenever one is descheduled), the randomized rank-35 SVD 34 ms vs
 * 91 ms; the 700x1028 dgesdd (~2e9 flops) gains from both cores at a quiet moment. Below
 * NATIVE_MT_MIN the thread count is a fixed rule, not chosen by the moment's load (larger calls
 * share the budget among the native calls in flight, so their bits can vary with concurrency): OpenBLAS's threaded dgemm sums in
 * another order than its one-thread dgemm (32936 of the 46260 entries of a 45x700x1028 product
 * differ in their last bits between 1 and 2 threads; bench linalg counts it each run), so a
 * load-driven choice would give the same call different bits from run to run.
 */
export let NATIVE_MT_MIN = 1e8;
export function setNativeMtMin(v: number): void { NATIVE_MT_MIN = v; }

function counted<T>(f: () => T, L?: Lib, macs = 0): T {
  const n = Atomics.add(inFlight, 0, 1) + 1;
  Atomics.add(inFlight, 1, 1);
  try {
    if (L) {
      // openblas_set_num_threads is process-wide: concurrent callers share the budget
      const want = macs < NATIVE_MT_MIN ? 1 : Math.max(1, Math.floor(Math.max(1, threadBudget()) / n));
      if (Atomics.exchange(inFlight, 2, want) !== want) L.setThreads(want);
    }
    return f();
  } finally { Atomics.sub(inFlight, 0, 1); }
}
/** OpenBLAS's thread count now (process-wide), or 0 without the library: for tests and notes. */
export function nativeThreads(): number {
  const L = nativeBlas();
  return L ? Number(L.getThreads()) : 0;
}

let exitHook = false;
/**
 * On the main thread: when the process exits while a worker thread is inside a native call,
 * end it with _exit(code) at once instead of waiting for the call (see the header).
 * Installed by the compute pool when it starts; idempotent.
 */
export function installNativeExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', (code) => {
    if (nativeInFlight() === 0) return;
    try {
      const koffi = createRequire(import.meta.url)('koffi') as { load(p: string): { func(d: string): Fn } };
      const libc = koffi.load(process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6');
      libc.func('void _exit(int code)')(typeof code === 'number' ? code : 1);
    } catch {
      // no libc through koffi: the ordinary exit, which waits for the call
    }
  });
}

// ------------------------------------------------------------ wrappers

const i32 = (v: number) => new Int32Array([v]);
const f64 = (v: number) => new Float64Array([v]);
/** a typed array starting at element `offset` of `data` (no copy) */
const at = (data: Float64Array, offset: number) => (offset === 0 ? data : data.subarray(offset));

/**
 * C = alpha op(A) op(B) + beta C on row-major views (m x n result, inner dimension k): in
 * column-major terms Cᵀ = alpha op(B)ᵀ op(A)ᵀ + beta Cᵀ, i.e. dgemm with the operands swapped.
 */
export function nativeGemm(L: Lib, a: Float64Array, aOff: number, lda: number, b: Float64Array, bOff: number, ldb: number, c: Float64Array, cOff: number, ldc: number,
  m: number, n: number, k: number, tA: boolean, tB: boolean, alpha: number, beta: number): void {
  counted(() => L.dgemm(tB ? 'T' : 'N', tA ? 'T' : 'N', i32(n), i32(m), i32(k), f64(alpha), at(b, bOff), i32(ldb), at(a, aOff), i32(lda), f64(beta), at(c, cOff), i32(ldc), 1, 1), L, m * n * k);
}

/**
 * Thin SVD of a contiguous row-major r x c array `a` (destroyed), by dgesdd on the column-major
 * c x r array it is: Aᵀ = Uc S Vcᵀ, so A = Vc S Ucᵀ. dgesdd's VT (k x r, ld k) read row-major
 * is r x k = Vc = U of A, as is; its U (c x k, ld c) read row-major is Ucᵀ, transposed once into
 * V (c x k). With `vectors` false only s (jobz 'N'). Returns null when dgesdd reports that its
 * bidiagonal divide and conquer did not converge (info > 0): the caller falls back.
 */
export function nativeSvd(L: Lib, a: Float64Array, r: number, c: number, vectors: boolean, out?: { U: Float64Array; V: Float64Array }): Float64Array | null {
  const M = c, N = r, k = Math.min(M, N);
  const s = new Float64Array(k);
  const u = vectors ? new Float64Array(M * k) : new Float64Array(1);
  const vt = out?.U ?? new Float64Array(vectors ? k * N : 1);
  const info = new Int32Array(1), iw = new Int32Array(8 * Math.max(1, k)), q = new Float64Array(1);
  const jobz = vectors ? 'S' : 'N';
  const ldu = vectors ? M : 1, ldvt = vectors ? k : 1;
  L.dgesdd(jobz, i32(M), i32(N), a, i32(Math.max(1, M)), s, u, i32(ldu), vt, i32(Math.max(1, ldvt)), q, i32(-1), iw, info, 1);
  if (info[0]! !== 0) throw new Error(`dgesdd workspace query failed (info ${info[0]})`);
  const work = new Float64Array(Math.max(1, Math.ceil(q[0]!)));
  counted(() => L.dgesdd(jobz, i32(M), i32(N), a, i32(Math.max(1, M)), s, u, i32(ldu), vt, i32(Math.max(1, ldvt)), work, i32(work.length), iw, info, 1), L, 2 * Math.max(M, N) * k * k);
  if (info[0]! > 0) return null;
  if (info[0]! < 0) throw new Error(`dgesdd: argument ${-info[0]!} is invalid`);
  if (vectors && out) {
    // V (c x k) row-major from u: V[i][j] = u[j * c + i]
    const V = out.V;
    const B = 32;
    for (let j0 = 0; j0 < k; j0 += B) {
      const j1 = Math.min(k, j0 + B);
      for (let i = 0; i < c; i++) {
        const row = i * k;
        for (let j = j0; j < j1; j++) V[row + j] = u[j * c + i]!;
      }
    }
  }
  return s;
}

/**
 * The same thin SVD as {@link nativeSvd}, in the four LAPACK steps dgesdd takes (without its QR
 * first for very tall shapes): dgebrd (bidiagonalisation), dbdsdc (the bidiagonal's divide and
 * conquer), dormbr twice (back-transformations). For large matrices: `phase(i)` is called before
 * step i (0..3), so that a long SVD reports progress and no single native call spans the whole
 * factorisation. `a` holds A (r x c, row-major, contiguous) and is destroyed; U (r x k) and
 * V (c x k) are filled row-major. Works on the column-major M x N view with M >= N: Aᵀ itself
 * when c >= r, else A, copied transposed (column-major A is row-major Aᵀ).
 */
export function nativeSvdPhased(L: Lib, a: Float64Array, r: number, c: number, U: Float64Array, V: Float64Array, phase: (i: number) => void): Float64Array | null {
  const wide = c >= r; // row-major wide: the column-major view Aᵀ is tall
  const M = wide ? c : r, N = wide ? r : c;
  let w = a;
  if (!wide) { w = new Float64Array(r * c); for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) w[j * r + i] = a[i * c + j]!; }
  const info = new Int32Array(1), q = new Float64Array(1);
  const d = new Float64Array(N), e = new Float64Array(Math.max(1, N - 1)), tauq = new Float64Array(N), taup = new Float64Array(N);
  const check = (what: string) => { if (info[0]! < 0) throw new Error(`${what}: argument ${-info[0]!} is invalid`); return info[0]! === 0; };
  phase(0);
  L.dgebrd(i32(M), i32(N), w, i32(M), d, e, tauq, taup, q, i32(-1), info);
  let work = new Float64Array(Math.max(1, Math.ceil(q[0]!)));
  counted(() => L.dgebrd(i32(M), i32(N), w, i32(M), d, e, tauq, taup, work, i32(work.length), info), L, 2 * M * N * N);
  if (!check('dgebrd')) return null;
  phase(1);
  const Ub = new Float64Array(N * N), VT = new Float64Array(N * N);
  counted(() => L.dbdsdc('U', 'I', i32(N), d, e, Ub, i32(N), VT, i32(N), new Float64Array(1), new Int32Array(1), new Float64Array(3 * N * N + 4 * N), new Int32Array(8 * N), info, 1, 1), L, N * N * N);
  if (!check('dbdsdc')) return null;
  phase(2);
  // Q [Ub; 0] (M x N, column-major)
  const Uf = new Float64Array(M * N);
  for (let j = 0; j < N; j++) Uf.set(Ub.subarray(j * N, j * N + N), j * M);
  L.dormbr('Q', 'L', 'N', i32(M), i32(N), i32(N), w, i32(M), tauq, Uf, i32(M), q, i32(-1), info, 1, 1, 1);
  work = new Float64Array(Math.max(1, Math.ceil(q[0]!)));
  counted(() => L.dormbr('Q', 'L', 'N', i32(M), i32(N), i32(N), w, i32(M), tauq, Uf, i32(M), work, i32(work.length), info, 1, 1, 1), L, M * N * N);
  if (!check('dormbr Q')) return null;
  phase(3);
  // VT P^T (N x N, column-major)
  L.dormbr('P', 'R', 'T', i32(N), i32(N), i32(M), w, i32(M), taup, VT, i32(N), q, i32(-1), info, 1, 1, 1);
  work = new Float64Array(Math.max(1, Math.ceil(q[0]!)));
  counted(() => L.dormbr('P', 'R', 'T', i32(N), i32(N), i32(M), w, i32(M), taup, VT, i32(N), work, i32(work.length), info, 1, 1, 1), L, N * N * N);
  if (!check('dormbr P')) return null;
  // column-major Uf (M x N) = the tall factor of the view; VT (N x N) read row-major is its other factor
  const tallOut = wide ? V : U, other = wide ? U : V; // wide: view = Aᵀ, so Uf = V of A
  for (let j0 = 0; j0 < N; j0 += 32) {
    const j1 = Math.min(N, j0 + 32);
    for (let i = 0; i < M; i++) for (let j = j0; j < j1; j++) tallOut[i * N + j] = Uf[j * M + i]!;
  }
  other.set(VT);
  return d;
}

/**
 * Eigen-decomposition of the symmetric n x n row-major `a` (destroyed; symmetric, so row- and
 * column-major are the same array) by dsyevd: values ascending in w, eigenvectors as the
 * COLUMNS of the column-major result, i.e. the ROWS of `a` read row-major. Null if it fails.
 */
export function nativeSymEig(L: Lib, a: Float64Array, n: number): Float64Array | null {
  const w = new Float64Array(n), info = new Int32Array(1), q = new Float64Array(1), qi = new Int32Array(1);
  L.dsyevd('V', 'U', i32(n), a, i32(Math.max(1, n)), w, q, i32(-1), qi, i32(-1), info, 1, 1);
  if (info[0]! !== 0) return null;
  const work = new Float64Array(Math.max(1, Math.ceil(q[0]!))), iwork = new Int32Array(Math.max(1, qi[0]!));
  counted(() => L.dsyevd('V', 'U', i32(n), a, i32(Math.max(1, n)), w, work, i32(work.length), iwork, i32(iwork.length), info, 1, 1), L, 3 * n * n * n);
  return info[0]! === 0 ? w : null;
}

/**
 * LU with partial pivoting of the column-major m x n array `a` (m >= n, leading dimension lda;
 * LAPACK dgetrf: A = P L U), overwritten by the m x n product P·L (L unit lower trapezoidal),
 * what scipy.linalg.lu(A, permute_l=True) returns as its first factor: the randomized SVD's
 * power iterations use it as a cheap well-conditioned basis of A's columns (|entries| <= 1).
 * An exactly singular U (dgetrf info > 0) is no error here: L is complete.
 */
export function nativeLuPermuted(L: Lib, a: Float64Array, aOff: number, lda: number, m: number, n: number): void {
  if (m < n) throw new Error(`nativeLuPermuted: needs m >= n, got ${m}x${n}`);
  if (n === 0) return;
  const ipiv = new Int32Array(n), info = new Int32Array(1);
  // always ONE thread (work 0 below NATIVE_MT_MIN): OpenBLAS 0.3.21's threaded dgetrf crashed
  // (SIGSEGV, 2 of 3 runs, also from a bare koffi script) on an all-zero 1028x45 matrix with 2
  // threads, never with one; and an LU of a few dozen columns gains nothing from a second thread
  counted(() => L.dgetrf(i32(m), i32(n), at(a, aOff), i32(lda), ipiv, info), L, 0);
  if (info[0]! < 0) throw new Error(`dgetrf: argument ${-info[0]!} is invalid`);
  permutedL(a, aOff, lda, n, ipiv);
}

/**
 * Column-major m x n `a` holding dgetrf's L below the diagonal (1-based pivots `ipiv`, n of
 * them) becomes P·L: the U part cleared, the unit diagonal set, then the row interchanges applied
 * in reverse order (A = P_1 ... P_n L U, so P·L = P_1 (... (P_n L))).
 */
export function permutedL(a: Float64Array, aOff: number, lda: number, n: number, ipiv: Int32Array): void {
  for (let j = 0; j < n; j++) {
    const c = aOff + j * lda;
    for (let i = 0; i < j; i++) a[c + i] = 0;
    a[c + j] = 1;
  }
  for (let i = n - 1; i >= 0; i--) {
    const p = ipiv[i]! - 1;
    if (p === i) continue;
    for (let j = 0; j < n; j++) {
      const c = aOff + j * lda, t = a[c + i]!;
      a[c + i] = a[c + p]!;
      a[c + p] = t;
    }
  }
}

/**
 * Householder QR of the column-major m x n array `a` (m >= n, leading dimension lda), overwritten
 * by its thin orthonormal factor Q (m x n): LAPACK dgeqrf then dorgqr, as scipy.linalg.qr(mode=
 * 'economic') computes it. Backward stable whatever the rank (a rank-deficient A still gets an
 * orthonormal Q). Returns false, with `a` unchanged, when LAPACK's workspace queries refuse the
 * arguments.
 */
export function nativeQrQ(L: Lib, a: Float64Array, aOff: number, lda: number, m: number, n: number): boolean {
  if (m < n) throw new Error(`nativeQrQ: needs m >= n, got ${m}x${n}`);
  if (n === 0) return true;
  const A = at(a, aOff), tau = new Float64Array(n), info = new Int32Array(1), q = new Float64Array(1), q2 = new Float64Array(1);
  L.dgeqrf(i32(m), i32(n), A, i32(lda), tau, q, i32(-1), info);
  if (info[0]! !== 0) return false;
  L.dorgqr(i32(m), i32(n), i32(n), A, i32(lda), tau, q2, i32(-1), info);
  if (info[0]! !== 0) return false;
  // from here `a` is overwritten: a failure can no longer hand it back unchanged (and cannot
  // happen with arguments the workspace queries accepted)
  const work = new Float64Array(Math.max(1, Math.ceil(q[0]!), Math.ceil(q2[0]!)));
  counted(() => L.dgeqrf(i32(m), i32(n), A, i32(lda), tau, work, i32(work.length), info), L, 2 * m * n * n);
  if (info[0]! !== 0) throw new Error(`dgeqrf: argument ${-info[0]!} is invalid`);
  counted(() => L.dorgqr(i32(m), i32(n), i32(n), A, i32(lda), tau, work, i32(work.length), info), L, 2 * m * n * n);
  if (info[0]! !== 0) throw new Error(`dorgqr: argument ${-info[0]!} is invalid`);
  return true;
}
