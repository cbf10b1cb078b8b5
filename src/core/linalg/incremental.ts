/**
 * Incremental thin SVD (Brand 2006) with a running mean (Ross, Lim, Lin & Yang 2008)
 * and a forgetting factor.
 *
 * Model: the centred data seen so far (d x n, one column per sample) ≈ U diag(s) Vᵀ with
 * U d x r'. V is never stored. Storage: Uᵀ is kept ROW-major (r' x d: row j is the j-th
 * left singular vector), so every kernel runs over contiguous length-d rows.
 *
 * One update with a block of b samples (rows of the b x d argument):
 *   C   = [x_1 - m_B, ..., x_b - m_B, sqrt(n_a b/(n_a+b)) (m_B - m_A)]   (c = b or b+1 columns,
 *         n_a = forget * n_old; the extra column keeps the model centred on the new mean)
 *   P   = Uᵀ C, H = C - U P (twice, classical Gram-Schmidt re-orthogonalisation)
 *   H   = J R   (Householder LQ of the c x d row storage of H: J orthonormal, R c x c)
 *   K   = [[forget·diag(s), P], [0, R]]  ((r'+c) square, small) = U_K S_K V_Kᵀ
 *   U  <- [U J] U_K[:, :r],  s <- S_K[:r]
 * J is never formed: J·X is computed by applying the c reflectors to [X; 0].
 * Cost per block O(d (r+c)²) flops, memory O(d (r+c)); nothing d x d.
 * Directions whose singular value is negligible (<= 4 q eps s_max) are dropped, so r' can be
 * smaller than `rank` (r' = 0 after a block of identical samples).
 * Every `reorthEvery` updates (default 100) the rows of Uᵀ are re-orthonormalised
 * (Gram-Schmidt twice) to stop the slow loss of orthogonality on long streams.
 * Scale: the model is held times a power of two 2^exponent, chosen when a block's largest
 * entry leaves [SMALL_NUM, BIG_NUM] (scale.ts; 0 for ordinary data, where nothing is copied),
 * so that blocks of 1e-300, subnormal or 1e300 values give values as accurate relative to
 * sigma_1 as ordinary ones; the getters and `project` answer in the data's units.
 */
import { Matrix } from './matrix.js';
import { gemm } from './gemm.js';
import { LinalgError } from './errors.js';
import { BIG_NUM, finiteMaxAbs, pow2Mul, scaledCopy, scaleExponent, scaleInPlace, SMALL_NUM } from './scale.js';
import { makeReflector } from './householder.js';
import { exactSvdFallback } from './svd.js';

export interface IncrementalSvdOptions {
  dim: number;
  rank: number;
  /** forgetting factor in (0, 1]: old singular values are scaled by it and the mean's sample count too (default 1) */
  forget?: number;
  /** re-orthonormalise U every this many updates (default 100; 0 = never) */
  reorthEvery?: number;
  /** keep a running mean and model the centred data (default true) */
  center?: boolean;
}

/** Plain-data snapshot of an IncrementalSvd. */
export interface IncrementalSvdState {
  version: 1;
  dim: number;
  rank: number;
  forget: number;
  reorthEvery: number;
  center: boolean;
  nSeen: number;
  updates: number;
  mean: Float64Array;
  /** r' x dim row-major, rows = left singular vectors */
  Ut: Float64Array;
  s: Float64Array;
  /** mean and s above are the data's times 2^exponent (absent = 0) */
  exponent?: number;
}

export class IncrementalSvd {
  readonly dim: number;
  readonly rank: number;
  readonly forget: number;
  readonly reorthEvery: number;
  readonly center: boolean;
  private n = 0;
  private updates = 0;
  private mu: Float64Array; // times 2^ex
  private muReal: Float64Array; // in the data's units (the same array when ex = 0)
  private Ut: Matrix; // r' x dim
  private sv: Float64Array; // times 2^ex
  private ex = 0;

  constructor(opts: IncrementalSvdOptions) {
    const { dim, rank } = opts;
    if (!Number.isInteger(dim) || dim < 1) throw new LinalgError(`IncrementalSvd: dim must be a positive integer, got ${dim}`);
    if (!Number.isInteger(rank) || rank < 1) throw new LinalgError(`IncrementalSvd: rank must be a positive integer, got ${rank}`);
    const forget = opts.forget ?? 1;
    if (!(forget > 0 && forget <= 1)) throw new LinalgError(`IncrementalSvd: forget must be in (0, 1], got ${forget}`);
    this.dim = dim;
    this.rank = rank;
    this.forget = forget;
    this.reorthEvery = Math.max(0, Math.floor(opts.reorthEvery ?? 100));
    this.center = opts.center ?? true;
    this.mu = new Float64Array(dim);
    this.muReal = this.mu;
    this.Ut = new Matrix(0, dim);
    this.sv = new Float64Array(0);
  }

  /** Effective number of samples (n <- forget*n + b at each update). */
  get nSeen(): number { return this.n; }
  /** Running mean (a copy), length dim; zeros when center is false. */
  get mean(): Float64Array { return this.muReal.slice(); }
  /** dim x r' with orthonormal columns (a copy). */
  get U(): Matrix { return this.Ut.transpose(); }
  /** r' singular values, descending (a copy). */
  get s(): Float64Array { return scaleInPlace(this.sv.slice(), -this.ex); }
  /** Uᵀ as stored (r' x dim, rows are the singular vectors). A view: do not modify. */
  get Ut_(): Matrix { return this.Ut; }

  update(blockIn: Matrix): void {
    const d = this.dim;
    if (blockIn.cols !== d) throw new LinalgError(`IncrementalSvd.update: block has ${blockIn.cols} columns, expected dim = ${d}`);
    const amax = finiteMaxAbs(blockIn, 'IncrementalSvd.update block');
    const b = blockIn.rows;
    if (b === 0) return;
    this.rescaleFor(amax);
    const block = this.ex === 0 ? blockIn : scaledCopy(blockIn, this.ex);
    const f = this.forget;
    const nA = this.n * f;
    // ---- columns C (stored as rows, c x d)
    const mB = new Float64Array(d);
    if (this.center) {
      for (let i = 0; i < b; i++) {
        const r = block.row(i);
        for (let j = 0; j < d; j++) mB[j]! += r[j]!;
      }
      for (let j = 0; j < d; j++) mB[j] = mB[j]! / b;
    }
    const extra = this.center && nA > 0;
    const c = b + (extra ? 1 : 0);
    const C = new Matrix(c, d);
    const cd = C.data;
    for (let i = 0; i < b; i++) {
      const r = block.row(i);
      const o = i * d;
      for (let j = 0; j < d; j++) cd[o + j] = r[j]! - mB[j]!;
    }
    const muOld = this.mu;
    if (extra) {
      const w = Math.sqrt((nA * b) / (nA + b));
      const o = b * d;
      for (let j = 0; j < d; j++) cd[o + j] = w * (mB[j]! - muOld[j]!);
    }
    // ---- projection on the current basis, twice
    const r = this.Ut.rows;
    const P = new Matrix(c, r);
    if (r > 0) {
      for (let pass = 0; pass < 2; pass++) {
        if (r <= 4) {
          projectOutSmall(C, this.Ut, P);
        } else {
          const P2 = gemm(C, this.Ut, { transB: true, native: false }); // c x r
          gemm(P2, this.Ut, { alpha: -1, beta: 1, C, native: false }); // C <- C - P2 Uᵀ
          for (let i = 0; i < P.data.length; i++) P.data[i] = P.data[i]! + P2.data[i]!;
        }
      }
    }
    // ---- LQ of the residual rows: H = L Qh, L lower c x c (R = Lᵀ)
    const tau = lqInPlace(C);
    const cr = tau.length; // min(c, d) reflectors
    // ---- small matrix K ((r + cr) x (r + c))
    const qr = r + cr, qc = r + c;
    const K = new Matrix(qr, qc);
    const kd = K.data;
    for (let i = 0; i < r; i++) {
      kd[i * qc + i] = f * this.sv[i]!;
      for (let j = 0; j < c; j++) kd[i * qc + r + j] = P.data[j * r + i]!;
    }
    for (let i = 0; i < cr; i++) for (let j = i; j < c; j++) kd[(r + i) * qc + r + j] = cd[j * d + i]!; // R = Lᵀ
    const sk = exactSvdFallback(K);
    // Keep at most `rank` directions, and only those with a non-negligible singular value:
    // a zero residual row gives a Householder direction (a unit vector) that is not
    // orthogonal to U, and it must not enter the basis.
    const tol = 4 * Math.max(qr, qc) * 2.220446049250313e-16 * (sk.s[0] ?? 0);
    let rNew = Math.min(this.rank, sk.s.length);
    while (rNew > 0 && !(sk.s[rNew - 1]! > tol)) rNew--;
    const uk = sk.U.data, ks = sk.U.cols;
    // ---- U_new rows = U_K[:r, :rNew]ᵀ Uᵀ + (J U_K[r:, :rNew])ᵀ
    const Unew = new Matrix(rNew, d);
    const ud = Unew.data;
    for (let j = 0; j < rNew; j++) for (let i = 0; i < cr; i++) ud[j * d + i] = uk[(r + i) * ks + j]!;
    applyLqReflectorsRight(C, tau, Unew);
    if (r > 0) gemm(sk.U.block(0, r, 0, rNew), this.Ut, { transA: true, beta: 1, C: Unew, native: false });
    this.Ut = Unew;
    this.sv = sk.s.slice(0, rNew);
    // A residual direction that is mostly rounding noise (its row of R ~ eps |C|) comes out of
    // the LQ orthonormal but not orthogonal to U, and a kept direction of K can carry it (seen
    // on the Kahan matrix: |UᵀU - I| ~ 2e-6). Check (r'² dots, cheap next to the update) and
    // re-orthonormalise when it shows.
    if (rNew > 1 && orthDefect(Unew) > 64 * 2.220446049250313e-16 * d ** 0.5) this.reorthogonalize();
    // ---- mean and count
    if (this.center) {
      const nNew = nA + b;
      const a = nA / nNew, bb = b / nNew;
      const mu = new Float64Array(d);
      for (let j = 0; j < d; j++) mu[j] = a * muOld[j]! + bb * mB[j]!;
      this.mu = mu;
      this.muReal = this.ex === 0 ? mu : scaleInPlace(mu.slice(), -this.ex);
    }
    this.n = nA + b;
    this.updates++;
    if (this.reorthEvery > 0 && this.updates % this.reorthEvery === 0) this.reorthogonalize();
  }

  /**
   * Keeps a block whose largest entry is amax inside [SMALL_NUM, BIG_NUM] once scaled by
   * 2^ex: when it would fall outside, the exponent is moved so that the larger of the block
   * and the model lands in [0.5, 1), and the model (s, mean) is rescaled exactly.
   */
  private rescaleFor(amax: number): void {
    if (!(amax > 0)) return;
    const eb = scaleExponent(amax, 1, 1); // amax * 2^eb in [0.5, 1)
    const top = this.ex - eb; // the block's size in internal units is about 2^top
    if (pow2Mul(1, top) >= SMALL_NUM && pow2Mul(1, top) <= BIG_NUM) return;
    let mm = this.sv[0] ?? 0;
    for (let j = 0; j < this.dim; j++) mm = Math.max(mm, Math.abs(this.mu[j]!));
    const newTop = mm > 0 ? Math.max(top, -scaleExponent(mm, 1, 1)) : top;
    if (newTop === 0) return;
    if (this.muReal === this.mu) this.muReal = this.mu.slice();
    scaleInPlace(this.sv, -newTop);
    scaleInPlace(this.mu, -newTop);
    this.ex -= newTop;
    if (this.ex === 0) this.muReal = this.mu;
  }

  /** Gram-Schmidt twice on the rows of Uᵀ. */
  reorthogonalize(): void {
    orthonormaliseRows(this.Ut.data, this.Ut.rows, this.dim);
  }

  /** mean + U Uᵀ (x − mean). */
  project(x: Float64Array, out?: Float64Array): Float64Array {
    const d = this.dim;
    if (x.length !== d) throw new LinalgError(`IncrementalSvd.project: sample has length ${x.length}, expected ${d}`);
    const o = out ?? new Float64Array(d);
    const mu = this.muReal, u = this.Ut.data, r = this.Ut.rows;
    const coef = new Float64Array(r);
    for (let i = 0; i < r; i++) {
      let s = 0;
      const b = i * d;
      for (let t = 0; t < d; t++) s += u[b + t]! * (x[t]! - mu[t]!);
      coef[i] = s;
    }
    for (let t = 0; t < d; t++) o[t] = mu[t]!;
    for (let i = 0; i < r; i++) {
      const ci = coef[i]!, b = i * d;
      for (let t = 0; t < d; t++) o[t]! += ci * u[b + t]!;
    }
    return o;
  }

  /** Row-wise projection of a b x dim block: mean + ((X − mean) U) Uᵀ, two skinny GEMMs. */
  projectBlock(block: Matrix, out?: Matrix): Matrix {
    const d = this.dim, b = block.rows, r = this.Ut.rows;
    if (block.cols !== d) throw new LinalgError(`IncrementalSvd.projectBlock: block has ${block.cols} columns, expected ${d}`);
    const o = out ?? new Matrix(b, d);
    if (o.rows !== b || o.cols !== d) throw new LinalgError(`IncrementalSvd.projectBlock: out is ${o.rows}x${o.cols}, expected ${b}x${d}`);
    const Pc = gemm(block, this.Ut, { transB: true, native: false }); // b x r
    const mu = this.muReal, u = this.Ut.data;
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += u[i * d + t]! * mu[t]!;
      for (let k = 0; k < b; k++) Pc.data[k * r + i]! -= s;
    }
    for (let k = 0; k < b; k++) o.row(k).set(mu);
    gemm(Pc, this.Ut, { beta: 1, C: o, native: false });
    return o;
  }

  toState(): IncrementalSvdState {
    return {
      version: 1,
      dim: this.dim,
      rank: this.rank,
      forget: this.forget,
      reorthEvery: this.reorthEvery,
      center: this.center,
      nSeen: this.n,
      updates: this.updates,
      mean: this.mu.slice(),
      Ut: this.Ut.data.slice(0, this.Ut.rows * this.dim),
      s: this.sv.slice(),
      ...(this.ex !== 0 ? { exponent: this.ex } : {}),
    };
  }

  static fromState(st: IncrementalSvdState): IncrementalSvd {
    const m = new IncrementalSvd({ dim: st.dim, rank: st.rank, forget: st.forget, reorthEvery: st.reorthEvery, center: st.center });
    const r = st.s.length;
    if (st.mean.length !== st.dim || st.Ut.length !== r * st.dim) throw new LinalgError('IncrementalSvd.fromState: inconsistent state sizes');
    m.n = st.nSeen;
    m.updates = st.updates;
    m.mu = Float64Array.from(st.mean);
    m.Ut = new Matrix(r, st.dim, Float64Array.from(st.Ut));
    m.sv = Float64Array.from(st.s);
    m.ex = st.exponent ?? 0;
    m.muReal = m.ex === 0 ? m.mu : scaleInPlace(m.mu.slice(), -m.ex);
    return m;
  }
}

/** Gram-Schmidt twice on the first r rows (length d, contiguous) of u, in place; a zero row stays zero. */
export function orthonormaliseRows(u: Float64Array, r: number, d: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < r; i++) {
      const bi = i * d;
      for (let j = 0; j < i; j++) {
        const bj = j * d;
        let s = 0;
        for (let t = 0; t < d; t++) s += u[bi + t]! * u[bj + t]!;
        for (let t = 0; t < d; t++) u[bi + t]! -= s * u[bj + t]!;
      }
      let nn = 0;
      for (let t = 0; t < d; t++) nn += u[bi + t]! * u[bi + t]!;
      const inv = nn > 0 ? 1 / Math.sqrt(nn) : 0;
      for (let t = 0; t < d; t++) u[bi + t] = u[bi + t]! * inv;
    }
  }
}

/** max |U Uᵀ - I| over the rows of Ut. */
function orthDefect(Ut: Matrix): number {
  const G = gemm(Ut, Ut, { transB: true, native: false }), r = Ut.rows, g = G.data;
  let e = 0;
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) e = Math.max(e, Math.abs(g[i * r + j]! - (i === j ? 1 : 0)));
  return e;
}

/**
 * For each row x of C (c x d): p = U x (U = Ut, r <= 4 rows), x <- x - Uᵀ p, P[row] += p.
 * One read pass and one read-write pass per row (GEMM would re-read each row r times).
 */
function projectOutSmall(C: Matrix, Ut: Matrix, P: Matrix): void {
  const r = Ut.rows, d = C.cols, cd = C.data, u = Ut.data;
  const zero = new Float64Array(d);
  const u0 = r > 0 ? u.subarray(0, d) : zero;
  const u1 = r > 1 ? u.subarray(d, 2 * d) : zero;
  const u2 = r > 2 ? u.subarray(2 * d, 3 * d) : zero;
  const u3 = r > 3 ? u.subarray(3 * d, 4 * d) : zero;
  for (let i = 0; i < C.rows; i++) {
    const x = cd.subarray(i * d, i * d + d);
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    for (let t = 0; t < d; t++) {
      const v = x[t]!;
      p0 += v * u0[t]!; p1 += v * u1[t]!; p2 += v * u2[t]!; p3 += v * u3[t]!;
    }
    for (let t = 0; t < d; t++) x[t] = x[t]! - (p0 * u0[t]! + p1 * u1[t]! + p2 * u2[t]! + p3 * u3[t]!);
    const pr = P.data, o = i * r;
    const ps = [p0, p1, p2, p3];
    for (let q = 0; q < r; q++) pr[o + q] = pr[o + q]! + ps[q]!;
  }
}

/**
 * Householder LQ of the rows of H (c x d, contiguous; min(c, d) reflectors), in place: afterwards
 * H[i, 0..i] holds row i of L and H[i, i+1..d-1] the tail of reflector i (v_i = 1).
 * H_orig = L · Qh with Qh = first c rows of H_{c-1} ... H_0.
 */
export function lqInPlace(H: Matrix): Float64Array {
  const c = H.rows, d = H.cols, h = H.data;
  const nr = Math.min(c, d);
  const tau = new Float64Array(nr);
  if (nr === 0) return tau;
  const dots = new Float64Array(c);
  const CH = 1024;
  // Look-ahead: while rows j > i+1 receive the update of reflector i, their dot with
  // reflector i+1 is accumulated in the same chunked pass, so each reflector costs one
  // pass over the trailing rows instead of two.
  tau[0] = makeReflector(h, 0, d, 1);
  for (let i = 0; i < nr; i++) {
    const t = tau[i]!;
    const bi = i * d;
    if (i + 1 >= c) break;
    // dots of reflector i with rows j > i (for i = 0 a separate pass; later ones come from the fused pass)
    if (i === 0) {
      for (let j = 1; j < c; j++) dots[j] = rowDot(h, j * d, bi, i, d);
    }
    // update row i+1, then build reflector i+1 from it
    const b1 = (i + 1) * d;
    if (t !== 0) {
      const f = t * dots[i + 1]!;
      if (f !== 0) { h[b1 + i]! -= f; for (let k = i + 1; k < d; k++) h[b1 + k]! -= f * h[bi + k]!; }
    }
    const hasNext = i + 1 < nr;
    if (hasNext) tau[i + 1] = makeReflector(h, b1 + i + 1, d - i - 1, 1);
    const tn = hasNext ? tau[i + 1]! : 0;
    if (i + 2 >= c) break;
    // fused pass on rows j >= i+2: apply reflector i, accumulate dot with reflector i+1
    const fs = new Float64Array(c);
    for (let j = i + 2; j < c; j++) {
      fs[j] = t * dots[j]!;
      dots[j] = 0;
    }
    const i1 = i + 1;
    for (let c0 = i; c0 < d; c0 += CH) {
      const c1 = Math.min(d, c0 + CH);
      for (let j = i + 2; j < c; j++) {
        const bj = j * d;
        const f = fs[j]!;
        let k = c0;
        let acc = 0;
        if (k === i) { h[bj + i]! -= f; k++; }
        if (k === i1) { h[bj + i1]! -= f * h[bi + i1]!; acc = h[bj + i1]!; k++; } // v_{i+1}[i+1] = 1
        if (f !== 0) {
          for (; k < c1; k++) {
            const x = h[bj + k]! - f * h[bi + k]!;
            h[bj + k] = x;
            acc += x * h[b1 + k]!;
          }
        } else {
          for (; k < c1; k++) acc += h[bj + k]! * h[b1 + k]!;
        }
        dots[j]! += acc;
      }
    }
    if (tn === 0) for (let j = i + 2; j < c; j++) dots[j] = 0;
  }
  return tau;
}

function rowDot(h: Float64Array, bj: number, bi: number, i: number, d: number): number {
  let s0 = h[bj + i]!, s1 = 0, k = i + 1;
  for (; k + 1 < d; k += 2) { s0 += h[bj + k]! * h[bi + k]!; s1 += h[bj + k + 1]! * h[bi + k + 1]!; }
  if (k < d) s0 += h[bj + k]! * h[bi + k]!;
  return s0 + s1;
}

/** Z <- Z H_{c-1} ... H_0 ... i.e. rows of Z times Qh-like product; Z rows have length d. Uses the reflectors from lqInPlace. */
export function applyLqReflectorsRight(H: Matrix, tau: Float64Array, Z: Matrix): void {
  const d = H.cols, h = H.data, z = Z.data;
  for (let i = tau.length - 1; i >= 0; i--) {
    const t = tau[i]!;
    if (t === 0) continue;
    const bi = i * d;
    for (let r = 0; r < Z.rows; r++) {
      const br = Z.offset + r * Z.stride;
      let s0 = z[br + i]!, s1 = 0, k = i + 1;
      for (; k + 1 < d; k += 2) { s0 += z[br + k]! * h[bi + k]!; s1 += z[br + k + 1]! * h[bi + k + 1]!; }
      if (k < d) s0 += z[br + k]! * h[bi + k]!;
      const fct = t * (s0 + s1);
      if (fct === 0) continue;
      z[br + i]! -= fct;
      for (let k2 = i + 1; k2 < d; k2++) z[br + k2]! -= fct * h[bi + k2]!;
    }
  }
}
