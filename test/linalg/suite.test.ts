/**
 * Test-matrix suite in the spirit of LAPACK's dchkbd/dchkgg: hard matrices x every SVD path
 * (exact, Gram, randomized with a rank, incremental fed by blocks), on both kernels
 * (WebAssembly SIMD and the pure-TS fallbacks).
 *
 * Reference values: NumPy's gesdd for the Gaussian, Kahan, Hilbert and integer matrices
 * (test/linalg/suite/make_reference.py, seed 20, writes suite/reference.json; the script ports
 * seededRandom so that both sides build the same matrices), and the constructed spectrum
 * for the others (graded, clustered, repeated, rank-deficient, zeros, identity).
 * Scaled cases (x 1e-300, x 1e300, integers x 2^-1074 = subnormal) expect the reference
 * values times the scale.
 *
 * Every check is in units of eps (2^-52):
 *   values          max_i |s_i - ref_i| / (eps * sigma_1)      (LAPACK's test ratio, without the
 *                                                             max(m, n) factor)
 *   orthogonality   max |UᵀU - I| / eps and max |VᵀV - I| / eps
 *   reconstruction  ||A - U diag(s) Vᵀ||_F / (||A||_F eps), computed on A scaled to max |a| ~ 1
 *                   so that 1e300 and 1e-300 matrices do not overflow or underflow in the check
 * with the tolerances stated per path below (and per case where a case needs its own).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncrementalSvd, Matrix, matmul, matmulT, seededRandom, setGemmBackend, gemmBackend, svd, type SvdResult } from '../../src/core/linalg/index.js';
import { finiteMaxAbs, pow2Mul, scaleExponent } from '../../src/core/linalg/scale.js';
import { setWasmRotations } from '../../src/core/linalg/bdsqr.js';
import { setWasmGemv } from '../../src/core/linalg/gebrd.js';
import { DC_MIN, setDcMin, NATIVE_SVD_MIN, setNativeSvdMin, NATIVE_PHASED_MIN, setNativePhasedMin } from '../../src/core/linalg/svd.js';
import { NATIVE_GEMM_MIN, setNativeGemmMin } from '../../src/core/linalg/gemm.js';
import { NATIVE_EIG_MIN, setNativeEigMin } from '../../src/core/linalg/eig.js';
import { DC_LEAF, setDcLeaf } from '../../src/core/linalg/bdsdc.js';
import { blasStatus, setBlas } from '../../src/core/linalg/native.js';
import { gaussian, orthError, scaleCols, withSpectrum } from './helpers.js';

const EPS = 2 ** -52;

interface RefCase { recipe: string; rows: number; cols: number; seed: number | null; head: number[]; s: number[] }
const REF = JSON.parse(readFileSync(new URL('./suite/reference.json', import.meta.url), 'utf8')) as {
  seed: number; kahan: { c: number; s: number }; cases: Record<string, RefCase>;
};

function integers(m: number, n: number, seed: number): Matrix {
  const g = seededRandom(seed);
  const A = new Matrix(m, n);
  for (let i = 0; i < A.data.length; i++) A.data[i] = Math.floor(g.next() * 2049) - 1024;
  return A;
}

function kahan(n: number, c: number, s: number): Matrix {
  const K = new Matrix(n, n);
  let p = 1;
  for (let i = 0; i < n; i++) {
    K.set(i, i, p);
    for (let j = i + 1; j < n; j++) K.set(i, j, -c * p);
    p = p * s;
  }
  return K;
}

function hilbert(n: number): Matrix {
  const H = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) H.set(i, j, 1 / (i + j + 1));
  return H;
}

/** A matrix with its exact singular values: s (descending, min(m, n) of them) times `unit`. */
interface Case { name: string; A: Matrix; s: number[]; unit: number; /** the path solver 'gram' must take */ gram?: 'gram' | 'exact' }

function fromReference(name: string): Case {
  const c = REF.cases[name]!;
  const A = c.recipe === 'gaussian' ? gaussian(c.rows, c.cols, c.seed!)
    : c.recipe === 'integers' ? integers(c.rows, c.cols, c.seed!)
    : c.recipe === 'kahan' ? kahan(c.rows, REF.kahan.c, REF.kahan.s)
    : hilbert(c.rows);
  // the same matrix as NumPy's (to the last bits of log/sin/cos in the Gaussian generator)
  c.head.forEach((v, i) => expect(Math.abs(A.data[i]! - v)).toBeLessThanOrEqual(4 * EPS * Math.abs(v)));
  return { name, A, s: c.s, unit: 1 };
}

function constructed(name: string, m: number, n: number, s: number[], seed: number): Case {
  const k = Math.min(m, n);
  const full = [...s, ...new Array<number>(k - s.length).fill(0)];
  const nz = s.filter((v) => v > 0);
  return { name, A: nz.length ? withSpectrum(m, n, nz, seed) : new Matrix(m, n), s: full, unit: 1 };
}

function scaled(c: Case, label: string, f: number): Case {
  const A = c.A.clone();
  for (let i = 0; i < A.data.length; i++) A.data[i] = A.data[i]! * f;
  return { name: `${c.name} x ${label}`, A, s: c.s, unit: c.unit * f };
}

function cases(): Case[] {
  const g120 = fromReference('gaussian-120x80');
  const graded = constructed('graded 60x40 (2^0..2^-39)', 60, 40, Array.from({ length: 40 }, (_, i) => 2 ** -i), 3);
  const ints = fromReference('integers-60x40');
  const identity: Case = { name: 'identity 25x25', A: Matrix.identity(25), s: new Array<number>(25).fill(1), unit: 1 };
  const kahanC = fromReference('kahan-100');
  const geometric = (lo: number, gram: 'gram' | 'exact'): Case => ({
    ...constructed(`geometric 2000x20 (1 .. ${lo})`, 2000, 20, Array.from({ length: 20 }, (_, i) => lo ** (i / 19)), 11), gram,
  });
  return [
    { ...g120, gram: 'gram' },
    { ...graded, gram: 'exact' },
    // either side of GRAM_MIN_RATIO (1e-3): at 1e-4 the Gram values would err by ~200-500 eps s_1
    geometric(2e-3, 'gram'),
    geometric(1e-4, 'exact'),
    constructed('clustered 60x40 (1 - i 2^-40)', 60, 40, Array.from({ length: 40 }, (_, i) => 1 - i * 2 ** -40), 5),
    constructed('repeated 50x30 (4 x10, 2 x10, 1 x10)', 50, 30, [...new Array<number>(10).fill(4), ...new Array<number>(10).fill(2), ...new Array<number>(10).fill(1)], 7),
    kahanC,
    fromReference('hilbert-12'),
    constructed('rank 5 of 400x300', 400, 300, [5, 4, 3, 2, 1], 9),
    fromReference('gaussian-50x900'),
    fromReference('gaussian-900x50'),
    fromReference('gaussian-500x1'),
    fromReference('gaussian-1x500'),
    constructed('zeros 30x20', 30, 20, [], 0),
    identity,
    scaled(g120, '1e-300', 1e-300),
    scaled(g120, '1e300', 1e300),
    scaled(graded, '1e-300', 1e-300),
    scaled(kahanC, '1e300', 1e300),
    scaled(identity, '2^-1070 (subnormal)', 2 ** -1070),
    scaled(ints, '2^-1074 (subnormal integers)', 2 ** -1074),
  ];
}

interface Checks { values: number; orthU: number; orthV: number; recon: number }

/**
 * Values error in eps * sigma_1 over the first `k` values (missing values count as 0),
 * compared in units of c.unit (exact for powers of two). A subnormal answer cannot be closer
 * than half its spacing (2^-1075): that much is forgiven.
 */
function valuesError(c: Case, s: ArrayLike<number>, k: number): number {
  const s1 = c.s[0]!;
  const floor = 0.5 * (2 ** -1074 / c.unit); // (2 ** -1075 itself rounds to 0)
  let e = 0;
  for (let i = 0; i < k; i++) e = Math.max(e, Math.max(0, Math.abs((s[i] ?? 0) / c.unit - c.s[i]!) - floor));
  return s1 > 0 ? e / (EPS * s1) : e / EPS;
}

/** What rounding the values to the subnormal grid alone costs the reconstruction, in eps. */
function subnormalFloor(c: Case, k: number): number {
  const norm = Math.hypot(...c.s);
  return norm > 0 ? (Math.sqrt(k) * 0.5 * (2 ** -1074 / c.unit)) / norm / EPS : 0;
}

/** ||A - U diag(s) Vᵀ||_F / (||A||_F eps), on A and s scaled by the same power of two. */
function reconError(A: Matrix, U: Matrix, s: ArrayLike<number>, V: Matrix): number {
  const e = scaleExponent(finiteMaxAbs(A, 'A'), 1, 1);
  const R = matmulT(scaleCols(U, Array.from(s, (v) => pow2Mul(v, e))), V);
  let num = 0, den = 0;
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) {
    const a = pow2Mul(A.get(i, j), e);
    num += (R.get(i, j) - a) ** 2;
    den += a * a;
  }
  return Math.sqrt(den > 0 ? num / den : num) / EPS;
}

/** ||A - (A U) Uᵀ||_F / (||A||_F eps): the sample rows lie in the span of U (A scaled as above). */
function projectionError(A: Matrix, U: Matrix): number {
  const e = scaleExponent(finiteMaxAbs(A, 'A'), 1, 1);
  const As = new Matrix(A.rows, A.cols, Float64Array.from(A.clone().data, (v) => pow2Mul(v, e)));
  const P = matmulT(matmul(As, U), U);
  let num = 0, den = 0;
  for (let i = 0; i < As.data.length; i++) { num += (As.data[i]! - P.data[i]!) ** 2; den += As.data[i]! ** 2; }
  return Math.sqrt(den > 0 ? num / den : num) / EPS;
}

function checksOf(c: Case, r: SvdResult, k: number): Checks {
  return { values: valuesError(c, r.s, k), orthU: orthError(r.U) / EPS, orthV: orthError(r.V) / EPS, recon: reconError(c.A, r.U, r.s, r.V) };
}

/** Rank-k optimal relative error sqrt(sum_{i>=k} s_i²) / ||s||, in eps units. */
function tailError(c: Case, k: number): number {
  let t = 0, all = 0;
  c.s.forEach((v, i) => { all += (v / c.s[0]!) ** 2; if (i >= k) t += (v / c.s[0]!) ** 2; });
  return all > 0 ? Math.sqrt(t / all) / EPS : 0;
}

/**
 * Kernels x bidiagonal solver: 'rotations' leaves the exact path's default (divide and conquer
 * only from order DC_MIN), 'divide and conquer' forces it for every bidiagonal with vectors,
 * with leaves of 4 rows so that even the small cases go through several merges.
 */
const MODES = [
  ['native', 'default'], ['native', 'LAPACK steps'], ['wasm', 'default'], ['ts', 'default'], ['wasm', 'divide and conquer'], ['ts', 'divide and conquer'],
] as const;
// the native backend (system OpenBLAS, linalg/native.ts): its modes run only when it loads; a
// machine without it says so (and CI, which installs libopenblas0-pthread, fails instead)
const NATIVE_MIN = { svd: NATIVE_SVD_MIN, gemm: NATIVE_GEMM_MIN, eig: NATIVE_EIG_MIN, phased: NATIVE_PHASED_MIN };
const nativeOk = setBlas(true);
setBlas(undefined);
if (!nativeOk) {
  const why = `native BLAS suite modes: ${blasStatus().reason}`;
  // turned off on purpose (SVDFLOW_BLAS=off, or SVDFLOW_NO_WASM: the pure-TS run) is no missing component
  const chosenOff = process.env.SVDFLOW_BLAS === 'off' || (!!process.env.SVDFLOW_NO_WASM && !process.env.SVDFLOW_BLAS);
  if (process.env.CI === 'true' && !chosenOff) throw new Error(`${why}, and CI=true runs every test (.ci/run installs libopenblas0-pthread)`);
  process.stderr.write(`svdflow tests: skipped: ${why}\n`);
}
const rows: string[] = [];

describe.each(MODES.filter(([b]) => b !== 'native' || nativeOk))('SVD test-matrix suite, %s kernels, %s bidiagonal solver', (backend, solver) => {
  const saved = gemmBackend();
  const savedMin = DC_MIN, savedLeaf = DC_LEAF;
  beforeAll(() => {
    // the native backend takes the exact SVD, large products and eigenproblems; the other modes turn it off
    setBlas(backend === 'native');
    // every case through the native calls, not only those above the size thresholds
    if (backend === 'native') { setNativeSvdMin(1); setNativeGemmMin(1); setNativeEigMin(1); }
    // native, 'LAPACK steps': the exact SVD as dgebrd, dbdsdc, dormbr x2 (what large matrices run, for progress)
    if (solver === 'LAPACK steps') setNativePhasedMin(1);
    const ts = backend === 'ts';
    setGemmBackend(ts ? 'js' : 'wasm');
    setWasmRotations(!ts);
    setWasmGemv(!ts);
    if (solver === 'divide and conquer') { setDcMin(1); setDcLeaf(4); }
  });
  afterAll(() => { setBlas(undefined); setNativeSvdMin(NATIVE_MIN.svd); setNativeGemmMin(NATIVE_MIN.gemm); setNativeEigMin(NATIVE_MIN.eig); setNativePhasedMin(NATIVE_MIN.phased); setGemmBackend(saved); setWasmRotations(true); setWasmGemv(true); setDcMin(savedMin); setDcLeaf(savedLeaf); });

  for (const c of cases()) {
    const m = c.A.rows, n = c.A.cols, mn = Math.min(m, n);
    describe(`${c.name} (${m}x${n})`, () => {
      it('exact: values, U and V orthonormal, A = U S Vᵀ', () => {
        const r = svd(c.A, { solver: 'exact' });
        const x = checksOf(c, r, mn);
        rows.push(`${backend}/${solver} ${c.name} exact ${fmt(x)}`);
        expect(x.values).toBeLessThanOrEqual(TOL.exact.values);
        expect(x.orthU).toBeLessThanOrEqual(TOL.exact.orth);
        expect(x.orthV).toBeLessThanOrEqual(TOL.exact.orth);
        expect(x.recon).toBeLessThanOrEqual(TOL.exact.recon + subnormalFloor(c, mn));
      });

      it('gram: the Gram route where it is accurate, else the exact path', () => {
        const r = svd(c.A, { solver: 'gram' });
        const x = checksOf(c, r, mn);
        rows.push(`${backend}/${solver} ${c.name} gram(${r.solver}) ${fmt(x)}`);
        if (c.gram) expect(r.solver).toBe(c.gram);
        // the Gram route's U loses orthogonality like eps (s_1 / s_k)²: allowed on top
        const cond2 = r.solver === 'gram' && r.s[mn - 1]! > 0 ? (r.s[0]! / r.s[mn - 1]!) ** 2 : 0;
        expect(x.values).toBeLessThanOrEqual(TOL.exact.values);
        expect(x.orthU).toBeLessThanOrEqual(TOL.exact.orth + cond2);
        expect(x.orthV).toBeLessThanOrEqual(TOL.exact.orth + cond2);
        expect(x.recon).toBeLessThanOrEqual(TOL.exact.recon + subnormalFloor(c, mn));
      });

      const k = Math.min(mn, 10);
      it(`randomized rank ${k}: values and the rank-${k} error`, () => {
        const r = svd(c.A, { solver: 'randomized', rank: k });
        const x = checksOf(c, r, k);
        const tail = tailError(c, k);
        rows.push(`${backend}/${solver} ${c.name} randomized ${fmt(x)} tail ${tail.toExponential(2)}`);
        // the sketch holds k + 10 columns: it spans the whole range when rank(A) <= k + 10
        const rankA = c.s.filter((v) => v > 1e-14 * c.s[0]!).length;
        const t = rankA <= k + 10 || mn <= k + 10 ? TOL.exact : TOL.randomizedApprox;
        expect(x.values).toBeLessThanOrEqual(t.values);
        expect(x.orthU).toBeLessThanOrEqual(TOL.exact.orth);
        expect(x.orthV).toBeLessThanOrEqual(TOL.exact.orth);
        // no better than the best rank-k approximation, and within 5% of it (plus rounding)
        expect(x.recon).toBeLessThanOrEqual(tail * (1 + TOL.randomizedApprox.recon) + TOL.exact.recon + subnormalFloor(c, k));
      });

      it('incremental, blocks of 16 rows: values, U orthonormal, rows reproduced by U Uᵀ', () => {
        const inc = new IncrementalSvd({ dim: n, rank: mn, center: false });
        for (let i = 0; i < m; i += 16) inc.update(c.A.rowsView(i, Math.min(m, i + 16)));
        const s = inc.s, U = inc.U;
        const values = valuesError(c, s, mn);
        const orthU = U.cols ? orthError(U) / EPS : 0;
        const recon = projectionError(c.A, U);
        rows.push(`${backend}/${solver} ${c.name} incremental ${fmt({ values, orthU, orthV: 0, recon })} kept ${s.length}`);
        expect(values).toBeLessThanOrEqual(TOL.incremental.values);
        expect(orthU).toBeLessThanOrEqual(TOL.incremental.orth);
        expect(recon).toBeLessThanOrEqual(TOL.incremental.recon + subnormalFloor(c, mn));
      });
    });
  }
});

afterAll(() => { if (process.env.SUITE_TABLE) console.log(rows.join('\n')); });

function fmt(x: Checks): string {
  return `values ${x.values.toFixed(1)} orthU ${x.orthU.toFixed(1)} orthV ${x.orthV.toFixed(1)} recon ${x.recon.toFixed(1)}`;
}

/** Tolerances in eps units (see the header); measured maxima are in the comments. */
const TOL = {
  /** exact, and Gram where it is taken (Gram: plus (s_1/s_k)² on orthogonality) */
  exact: { values: 64, orth: 256, recon: 64 },
  /**
   * randomized when the sketch cannot hold the whole range (flat spectra: Gaussian, identity):
   * values within 5% of s_1 (measured up to 2.8%, 900x50), error within 5% of the optimal
   * rank-k error; this is the method's approximation, not rounding
   */
  randomizedApprox: { values: 0.05 / EPS, recon: 0.05 },
  /** incremental (Brand): rounding accumulates over the updates (measured up to 291 / 396 / 194 eps with 125 blocks) */
  incremental: { values: 512, orth: 1024, recon: 512 },
};
