/**
 * Divide-and-conquer SVD of an upper bidiagonal matrix (LAPACK dbdsdc / dlasd0-dlasd4), for
 * the singular VECTORS of large bidiagonals: instead of ~n² Givens rotations applied to both
 * vector matrices (bdsqr.ts), the work becomes one GEMM per side and merge, run by the packed
 * WebAssembly kernel and the thread team (gemm.ts), and shrinks with deflation.
 *
 * The n x n bidiagonal B (d, e) is split at row k: B1 = rows lo..k-1 (a k x (k+1) upper
 * bidiagonal, "sqre = 1"), the coupling row k (alpha = d[k], beta = e[k]) and B2 = rows
 * k+1..hi-1 (square at the top level's right end, else k' x (k'+1)). With B1 = U1 [S1 0] V1ᵀ
 * and B2 = U2 [S2 0] V2ᵀ solved recursively (leaves of at most DC_LEAF rows by the
 * implicit-shift QR), B = diag(U1, 1, U2) M diag(V1, V2)ᵀ where M is an upper "broken arrow":
 * its first row is z = (alpha * last row of V1, beta * first row of V2), its diagonal
 * d = (0, S1, S2), and MᵀM = diag(d²) + z zᵀ (dlasd1). The two null columns of B1 and B2 are
 * combined by one rotation (dlasd2's sqre handling), so the merged block's own null vector
 * comes out too.
 *
 * Deflation (dlasd2): with tol = 8 eps max(|alpha|, |beta|, max d), an entry with |z_j| <= tol
 * keeps d_j and its vectors; two values closer than tol are rotated so that one z vanishes
 * (both vector matrices get the same rotation). The remaining K values are the roots of the
 * secular equation f(sigma) = 1 + sum_j z_j² / ((d_j - sigma)(d_j + sigma)) = 0, one in each
 * gap (d_i, d_i+1) and the last above d_K. Each root is found relative to its nearer pole
 * (sigma = d_origin + tau, so d_j - sigma = (d_j - d_origin) - tau keeps full relative
 * accuracy) by a two-pole rational model (Li's "middle way"), safeguarded by bisection.
 * The vectors use the Gu-Eisenstat / Löwner z: z^_j² = prod_i (sigma_i² - d_j²) /
 * prod_{i != j} (d_i² - d_j²), which makes the computed roots the exact singular values of a
 * nearby arrow matrix, so the vectors v_i = (z^_j / (d_j² - sigma_i²))_j and
 * u_i = (-1, d_j v_i,j) are orthogonal to working precision however close the roots are.
 *
 * Vectors are kept as ROWS (row i = i-th singular vector) in every sub-problem, so rotations,
 * copies of deflated vectors and the gathering for the GEMMs run over contiguous memory.
 */
import { Matrix } from './matrix.js';
import { gemm } from './gemm.js';
import { bidiagQr, hyp } from './bdsqr.js';
import { LinalgError } from './errors.js';

const EPS = 2 ** -52;

/** Sub-problems of at most this many rows are solved by the implicit-shift QR (dlasdq). */
export let DC_LEAF = 25;
export function setDcLeaf(n: number): void { DC_LEAF = Math.max(3, Math.floor(n)); }

/** Counters since the last reset (tests' controls that merges and deflation really happen). */
export const dcStats = { merges: 0, roots: 0, deflated: 0, rotations: 0, iterations: 0 };
export function resetDcStats(): void { dcStats.merges = 0; dcStats.roots = 0; dcStats.deflated = 0; dcStats.rotations = 0; dcStats.iterations = 0; }

/** A solved block: values s (any order), UT (N x N) and VT (M x M, M = N + sqre) with the vectors as rows. */
interface Solved { s: Float64Array; UT: Matrix; VT: Matrix }

/**
 * SVD of the n x n upper bidiagonal (d, e; e[n-1] ignored) by divide and conquer:
 * s descending, U and V n x n row-major with the singular vectors as COLUMNS (as bidiagQr).
 */
export function bidiagDc(d: Float64Array, e: Float64Array): { s: Float64Array; U: Float64Array; V: Float64Array } {
  const n = d.length;
  if (n === 0) return { s: new Float64Array(0), U: new Float64Array(0), V: new Float64Array(0) };
  const r = solve(d, e, 0, n, 0);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => r.s[b]! - r.s[a]! || a - b);
  const s = new Float64Array(n);
  const U = new Float64Array(n * n), V = new Float64Array(n * n);
  const ut = r.UT.data, vt = r.VT.data;
  for (let i = 0; i < n; i++) s[i] = r.s[order[i]!]!;
  // U[j, i] = UT[order[i], j], in 32 x 32 tiles
  for (let i0 = 0; i0 < n; i0 += 32) {
    const i1 = Math.min(n, i0 + 32);
    for (let j0 = 0; j0 < n; j0 += 32) {
      const j1 = Math.min(n, j0 + 32);
      for (let i = i0; i < i1; i++) {
        const b = order[i]! * n;
        for (let j = j0; j < j1; j++) { U[j * n + i] = ut[b + j]!; V[j * n + i] = vt[b + j]!; }
      }
    }
  }
  return { s, U, V };
}

/** Rows lo..hi-1 of the bidiagonal, columns lo..hi-1+sq. */
function solve(d: Float64Array, e: Float64Array, lo: number, hi: number, sq: 0 | 1): Solved {
  const N = hi - lo;
  if (N <= DC_LEAF) return leaf(d, e, lo, hi, sq);
  const k = lo + (N >> 1);
  const L = solve(d, e, lo, k, 1);
  const R = solve(d, e, k + 1, hi, sq);
  return merge(L, R, d[k]!, e[k]!, N, k - lo, sq);
}

/** A small block by the implicit-shift QR; a k x (k+1) block is first rotated square (its last column chased out). */
function leaf(d: Float64Array, e: Float64Array, lo: number, hi: number, sq: 0 | 1): Solved {
  const N = hi - lo, M = N + sq;
  const dd = d.slice(lo, hi);
  const ee = new Float64Array(N);
  for (let i = 0; i < N - 1 + sq; i++) ee[i] = e[lo + i]!;
  // G (M x M, row-major, columns = the rotated basis) with B G = [B' 0]
  let G: Float64Array | undefined;
  if (sq) {
    G = new Float64Array(M * M);
    for (let i = 0; i < M; i++) G[i * M + i] = 1;
    let bulge = ee[N - 1]!;
    ee[N - 1] = 0;
    for (let i = N - 1; i >= 0; i--) {
      const r = hyp(dd[i]!, bulge);
      const c = r === 0 ? 1 : dd[i]! / r, s = r === 0 ? 0 : bulge / r;
      dd[i] = r;
      for (let t = 0; t < M; t++) {
        const x = G[t * M + i]!, y = G[t * M + N]!;
        G[t * M + i] = c * x + s * y;
        G[t * M + N] = c * y - s * x;
      }
      if (i > 0) { bulge = -s * ee[i - 1]!; ee[i - 1] = c * ee[i - 1]!; }
    }
  }
  const q = bidiagQr(dd, ee, true);
  const Ub = q.U!, Vb = q.V!;
  const UT = new Matrix(N, N), VT = new Matrix(M, M);
  const ut = UT.data, vt = VT.data;
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) ut[i * N + j] = Ub[j * N + i]!;
  if (!G) {
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) vt[i * N + j] = Vb[j * N + i]!;
  } else {
    // right vector i = G[:, 0..N-1] Vb[:, i]; the null vector = G[:, N]
    for (let i = 0; i < N; i++) {
      for (let r = 0; r < M; r++) {
        let acc = 0;
        for (let t = 0; t < N; t++) acc += G[r * M + t]! * Vb[t * N + i]!;
        vt[i * M + r] = acc;
      }
    }
    for (let r = 0; r < M; r++) vt[N * M + r] = G[r * M + N]!;
  }
  return { s: q.s, UT, VT };
}

/**
 * Merges two solved blocks through the coupling row (alpha, beta): dlasd1 (deflation dlasd2,
 * roots and vectors dlasd3/dlasd4), the vector products as GEMMs.
 */
function merge(L: Solved, R: Solved, alpha: number, beta: number, N: number, n1: number, sq: 0 | 1): Solved {
  const n2 = N - n1 - 1;
  const M = N + sq;
  const m1 = n1 + 1; // rows of B1's right vectors; U-side top block is rows 0..n1 (B1 rows and row k)
  const u1 = L.UT.data, v1 = L.VT.data, u2 = R.UT.data, v2 = R.VT.data;
  const M2 = n2 + sq; // size of B2's right vectors
  // scale to max 1 (dlasd1)
  let orgnrm = Math.max(Math.abs(alpha), Math.abs(beta));
  for (let i = 0; i < n1; i++) orgnrm = Math.max(orgnrm, Math.abs(L.s[i]!));
  for (let i = 0; i < n2; i++) orgnrm = Math.max(orgnrm, Math.abs(R.s[i]!));
  const scl = orgnrm > 0 ? orgnrm : 1;
  const a = alpha / scl, b = beta / scl;

  // basis vectors as rows: UC (N x N over the block's rows), VC (N x M over its columns)
  const UC = new Float64Array(N * N), VC = new Float64Array(N * M);
  const topU = new Uint8Array(N), botU = new Uint8Array(N), topV = new Uint8Array(N), botV = new Uint8Array(N);
  const dv = new Float64Array(N), z = new Float64Array(N);
  // index 0: the coupling row (U) and the combination of the two null columns (V)
  const z1 = a * v1[n1 * m1 + n1]!;
  const z2 = sq ? b * v2[n2 * M2 + 0]! : 0;
  const r0 = hyp(z1, z2);
  const c0 = r0 === 0 ? 1 : z1 / r0, s0 = r0 === 0 ? 0 : z2 / r0;
  z[0] = r0;
  UC[n1] = 1; topU[0] = 1;
  for (let t = 0; t < m1; t++) VC[t] = c0 * v1[n1 * m1 + t]!;
  topV[0] = c0 !== 0 ? 1 : 0;
  if (sq && s0 !== 0) { for (let t = 0; t < M2; t++) VC[m1 + t] = s0 * v2[n2 * M2 + t]!; botV[0] = 1; }
  for (let i = 0; i < n1; i++) {
    const j = 1 + i;
    dv[j] = L.s[i]! / scl;
    z[j] = a * v1[i * m1 + n1]!;
    UC.set(u1.subarray(i * n1, i * n1 + n1), j * N);
    VC.set(v1.subarray(i * m1, i * m1 + m1), j * M);
    topU[j] = 1; topV[j] = 1;
  }
  for (let i = 0; i < n2; i++) {
    const j = m1 + i;
    dv[j] = R.s[i]! / scl;
    z[j] = b * v2[i * M2]!;
    UC.set(u2.subarray(i * n2, i * n2 + n2), j * N + m1);
    VC.set(v2.subarray(i * M2, i * M2 + M2), j * M + m1);
    botU[j] = 1; botV[j] = 1;
  }

  // deflation (dlasd2)
  const tol = orgnrm > 0 ? 8 * EPS : 0;
  const sorted = Array.from({ length: N - 1 }, (_, i) => i + 1).sort((x, y) => dv[x]! - dv[y]! || x - y);
  const kept: number[] = [0];
  const defl: number[] = [];
  let prev = -1;
  for (const j of sorted) {
    if (Math.abs(z[j]!) <= tol) { defl.push(j); continue; }
    if (prev >= 0 && dv[j]! - dv[prev]! <= tol) {
      const tau = hyp(z[prev]!, z[j]!);
      const c = z[j]! / tau, s = z[prev]! / tau;
      rotRows(UC, N, prev, j, c, s);
      rotRows(VC, M, prev, j, c, s);
      topU[j] = topU[prev] = topU[j]! | topU[prev]!;
      botU[j] = botU[prev] = botU[j]! | botU[prev]!;
      topV[j] = topV[prev] = topV[j]! | topV[prev]!;
      botV[j] = botV[prev] = botV[j]! | botV[prev]!;
      z[j] = tau; z[prev] = 0;
      defl.push(prev);
      dcStats.rotations++;
    } else if (prev >= 0) {
      kept.push(prev);
    }
    prev = j;
  }
  if (prev >= 0) kept.push(prev);
  const K = kept.length;
  dcStats.merges++; dcStats.roots += K; dcStats.deflated += defl.length;
  const dk = new Float64Array(K), zk = new Float64Array(K);
  for (let q = 0; q < K; q++) { dk[q] = dv[kept[q]!]!; zk[q] = z[kept[q]!]!; }
  dk[0] = 0;
  if (Math.abs(zk[0]!) <= tol) zk[0] = tol;
  if (K > 1 && dk[1]! <= tol / 2) dk[1] = tol / 2;

  // roots, and the vectors of the arrow matrix in the kept coordinates (Su[q, t] = u_t[q])
  const sig = new Float64Array(K);
  const Su = new Float64Array(K * K), Sv = new Float64Array(K * K);
  secular(dk, zk, sig, Su, Sv);

  // outputs: rows 0..K-1 the new vectors, then the deflated ones; for sq the null vector last
  const UT = new Matrix(N, N), VT = new Matrix(M, M);
  const s = new Float64Array(N);
  for (let t = 0; t < K; t++) s[t] = sig[t]! * scl;
  productRows(UC, N, kept, Su, K, topU, botU, m1, UT);
  productRows(VC, M, kept, Sv, K, topV, botV, m1, VT);
  for (let i = 0; i < defl.length; i++) {
    const j = defl[i]!, t = K + i;
    s[t] = dv[j]! * scl;
    UT.data.set(UC.subarray(j * N, j * N + N), t * N);
    VT.data.set(VC.subarray(j * M, j * M + M), t * M);
  }
  if (sq) {
    const vt = VT.data, o = N * M;
    for (let t = 0; t < m1; t++) vt[o + t] = -s0 * v1[n1 * m1 + t]!;
    for (let t = 0; t < M2; t++) vt[o + m1 + t] = c0 * v2[n2 * M2 + t]!;
  }
  return { s, UT, VT };
}

/** rows p, j of X (width w): x_p <- c x_p - s x_j, x_j <- s x_p + c x_j */
function rotRows(X: Float64Array, w: number, p: number, j: number, c: number, s: number): void {
  const bp = p * w, bj = j * w;
  for (let t = 0; t < w; t++) {
    const x = X[bp + t]!, y = X[bj + t]!;
    X[bp + t] = c * x - s * y;
    X[bj + t] = s * x + c * y;
  }
}

/**
 * OUT[t, :] = sum_q S[q, t] X[kept[q], :] for t < K, X (rows x w) split into the column ranges
 * [0, split) and [split, w): each range is one GEMM over the kept rows that have entries there.
 */
function productRows(X: Float64Array, w: number, kept: number[], S: Float64Array, K: number, top: Uint8Array, bot: Uint8Array, split: number, OUT: Matrix): void {
  for (const [lo, hi, has] of [[0, split, top], [split, w, bot]] as const) {
    const width = hi - lo;
    if (width === 0) continue;
    const qs: number[] = [];
    for (let q = 0; q < K; q++) if (has[kept[q]!]) qs.push(q);
    if (qs.length === 0) continue;
    const Gx = new Matrix(qs.length, width), Gs = new Matrix(qs.length, K);
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i]!, row = kept[q]! * w;
      Gx.data.set(X.subarray(row + lo, row + hi), i * width);
      Gs.data.set(S.subarray(q * K, q * K + K), i * K);
    }
    gemm(Gs, Gx, { transA: true, C: OUT.block(0, K, lo, hi) });
  }
}

/**
 * Roots sigma_0 < ... < sigma_K-1 of 1 + sum_j z_j² / (d_j² - sigma²) (d_0 = 0 < d_1 < ...,
 * gaps and |z| above the deflation tolerance, all <= 1 after scaling), and the normalised
 * vectors of the arrow matrix through the Löwner z: Su[q, t] = u_t[q], Sv[q, t] = v_t[q].
 */
function secular(dk: Float64Array, zk: Float64Array, sig: Float64Array, Su: Float64Array, Sv: Float64Array): void {
  const K = dk.length;
  if (K === 1) {
    sig[0] = Math.abs(zk[0]!);
    Su[0] = -1;
    Sv[0] = zk[0]! >= 0 ? -1 : 1;
    return;
  }
  // Dl[t * K + j] = d_j² - sigma_t², as (d_j - sigma_t)(d_j + sigma_t) from the root's origin
  const Dl = new Float64Array(K * K);
  const z2 = new Float64Array(K);
  let zz = 0;
  for (let j = 0; j < K; j++) { z2[j] = zk[j]! * zk[j]!; zz += z2[j]!; }
  const dko = new Float64Array(K);
  for (let t = 0; t < K; t++) {
    const last = t === K - 1;
    let origin: number, lo: number, hi: number, tau: number;
    if (!last) {
      const dl = dk[t]!, du = dk[t + 1]!;
      const half = ((du - dl) * (du + dl)) / 2;
      const tmid = half / (Math.sqrt(dl * dl + half) + dl); // the middle of the gap in sigma², as dl + tmid
      // f there decides the nearer pole (evaluated in the same representation as the iteration)
      let f = 1;
      for (let j = 0; j < K; j++) f += z2[j]! / ((dk[j]! - dl - tmid) * (dk[j]! + dl + tmid));
      // the bracket is the whole gap: the middle is only known to rounding, so f's sign there
      // chooses the origin but does not halve the bracket
      if (f >= 0) { origin = dl; lo = 0; hi = du - dl; tau = tmid / 2; }
      else { origin = du; lo = dl - du; hi = 0; tau = (dl - du + tmid) / 2; }
    } else {
      origin = dk[K - 1]!;
      lo = 0;
      hi = zz / (Math.sqrt(origin * origin + zz) + origin);
      tau = hi / 2;
    }
    for (let j = 0; j < K; j++) dko[j] = dk[j]! - origin;
    let converged = false;
    for (let it = 0; it < 200 && !converged; it++) {
      let psi = 0, phi = 0, dpsi = 0, dphi = 0;
      const sigma = origin + tau;
      for (let j = 0; j <= t; j++) {
        const inv = 1 / ((dko[j]! - tau) * (dk[j]! + sigma));
        const w = z2[j]! * inv;
        psi += w; dpsi += w * inv;
      }
      for (let j = t + 1; j < K; j++) {
        const inv = 1 / ((dko[j]! - tau) * (dk[j]! + sigma));
        const w = z2[j]! * inv;
        phi += w; dphi += w * inv;
      }
      const Da = (dko[t]! - tau) * (dk[t]! + sigma);
      const Db = last ? 0 : (dko[t + 1]! - tau) * (dk[t + 1]! + sigma);
      const f = 1 + psi + phi;
      dcStats.iterations++;
      if (Math.abs(f) <= EPS * (8 * (phi - psi) + 8)) break;
      if (f < 0) lo = tau; else hi = tau;
      // two-pole (one-pole for the last root) rational model in lambda = sigma², step eta
      let eta = NaN;
      const sa = Da * Da * dpsi, ca = psi - Da * dpsi;
      if (!last) {
        const sb = Db * Db * dphi, cb = phi - Db * dphi;
        const c = 1 + ca + cb;
        const B = c * (Da + Db) + sa + sb;
        const C = f * Da * Db;
        if (c === 0) eta = C / B;
        else {
          const disc = Math.max(0, B * B - 4 * c * C);
          const qq = (B + (B >= 0 ? 1 : -1) * Math.sqrt(disc)) / 2;
          const e1 = qq / c, e2 = qq !== 0 ? C / qq : NaN;
          eta = e1 > Da && e1 < Db ? e1 : e2;
        }
      } else {
        const c = 1 + ca;
        if (c > 0) eta = Da + sa / c;
      }
      let next = NaN;
      if (Number.isFinite(eta)) {
        const s2 = sigma * sigma + eta;
        if (s2 > 0) next = tau + eta / (sigma + Math.sqrt(s2));
      }
      if (!(next > lo && next < hi)) next = (lo + hi) / 2;
      if (Math.abs(next - tau) <= 2 * EPS * Math.abs(next) || hi - lo <= 4 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) converged = true;
      tau = next;
    }
    sig[t] = origin + tau;
    const sigma = origin + tau;
    for (let j = 0; j < K; j++) Dl[t * K + j] = (dko[j]! - tau) * (dk[j]! + sigma);
  }
  // Löwner / Gu-Eisenstat z
  const zh = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    const dj = dk[j]!;
    let p = -Dl[(K - 1) * K + j]!;
    for (let i = 0; i < j; i++) p *= -Dl[i * K + j]! / ((dk[i]! - dj) * (dk[i]! + dj));
    for (let i = j; i < K - 1; i++) p *= -Dl[i * K + j]! / ((dk[i + 1]! - dj) * (dk[i + 1]! + dj));
    zh[j] = (zk[j]! >= 0 ? 1 : -1) * Math.sqrt(Math.abs(p));
  }
  for (let t = 0; t < K; t++) {
    let nu = 1, nv = 0;
    for (let j = 0; j < K; j++) {
      const v = zh[j]! / Dl[t * K + j]!;
      Sv[j * K + t] = v;
      nv += v * v;
      if (j > 0) { const u = dk[j]! * v; Su[j * K + t] = u; nu += u * u; }
    }
    Su[t] = -1;
    const iu = 1 / Math.sqrt(nu), iv = 1 / Math.sqrt(nv);
    if (!(iu > 0 && iv > 0 && Number.isFinite(iu) && Number.isFinite(iv))) throw new LinalgError('svd: divide and conquer produced a non-finite singular vector');
    for (let j = 0; j < K; j++) { Su[j * K + t]! *= iu; Sv[j * K + t]! *= iv; }
  }
}
