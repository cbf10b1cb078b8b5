/**
 * Normals by PCA of the k nearest neighbours: the eigenvector of the smallest
 * eigenvalue of each neighbourhood's covariance (closed form for 2x2 and 3x3
 * symmetric matrices, as Open3D's FastEigen3x3). Signs are made to face
 * `viewpoint` when one is given (e.g. the scanner position), else left as found.
 *
 * Where the neighbourhood does not determine a normal the result says so instead of
 * returning noise or NaN: coincident points (no direction at all), collinear points (3-D:
 * any direction perpendicular to the line is a normal; one such is returned) and blobs whose
 * two smallest variances are equal (no preferred direction). The covariance is scaled
 * (power of two) so that coordinates at 1e-200 or 1e200 give the same normals.
 */
import { PointsError } from './errors.js';
import { Matrix } from '../linalg/matrix.js';
import { KdTree } from './kdtree.js';
import { queryParts, partRange, runQueryParts, type QueryPart } from './query-team.js';

export interface NormalOptions {
  /** neighbours per point, the point itself included (default 30, as Open3D's KDTreeSearchParamKNN) */
  k?: number;
  /** orient each normal towards this point */
  viewpoint?: ArrayLike<number>;
  /** a tree already built on `points` */
  tree?: KdTree;
}

/** How many neighbourhoods left the normal undetermined, by cause (see the module comment). */
export interface NormalStats {
  collinear: number;
  coincident: number;
  /** two smallest variances equal (no preferred direction) */
  isotropic: number;
}

/** Quality of one eigenvector: determined, or why not. */
export const NormalStatus = { Ok: 0, Collinear: 1, Coincident: 2, Isotropic: 3 } as const;
export type NormalStatus = (typeof NormalStatus)[keyof typeof NormalStatus];

/** Relative size (to the largest variance) below which a variance, or a gap between two, counts as zero. */
export const NORMAL_TOL = 1e-10;

/** Normals per chunk of the query team at least (each a k-nearest search, ~3 µs): a few ms of work per chunk. */
export const NORMALS_PER_PART = 512;

export function estimateNormals(points: Matrix, opts: NormalOptions = {}): Matrix {
  return estimateNormalsChecked(points, opts).normals;
}

/** One sentence for a NormalStats with undetermined normals, or undefined when every normal is determined. */
export function normalsWarning(st: NormalStats, total: number): string | undefined {
  const parts: string[] = [];
  if (st.coincident) parts.push(`${st.coincident} coincident`);
  if (st.collinear) parts.push(`${st.collinear} collinear`);
  if (st.isotropic) parts.push(`${st.isotropic} without a flattest direction`);
  if (!parts.length) return undefined;
  return `normals: ${parts.join(', ')} of ${total} neighbourhoods leave the normal undetermined (an arbitrary perpendicular is used); raise normalNeighbours or use estimation: point-to-point`;
}

export function estimateNormalsChecked(points: Matrix, opts: NormalOptions = {}): { normals: Matrix; stats: NormalStats } {
  const N = new Matrix(points.rows, points.cols);
  return { normals: N, stats: estimateNormalsInto(points, N, opts) };
}

/**
 * Normals of the points listed in `only` (row indices; every point when absent) into those rows
 * of N (n x d, contiguous); the other rows are left as they are. Split by ranges of the list over
 * the points query team when it runs, each normal computed as by the one-thread loop.
 */
export function estimateNormalsInto(points: Matrix, N: Matrix, opts: NormalOptions & { only?: Int32Array } = {}): NormalStats {
  const n = points.rows, d = points.cols;
  if (d !== 2 && d !== 3) throw new RangeError(`normals need 2-D or 3-D points, got ${d}-D`);
  const k = Math.min(opts.k ?? 30, n);
  const tree = opts.tree ?? new KdTree(points);
  const only = opts.only;
  const count = only ? only.length : n;
  const stats: NormalStats = { collinear: 0, coincident: 0, isotropic: 0 };
  const parts = queryParts(count, NORMALS_PER_PART);
  let P = points.isContiguous ? points.data : points.clone().data;
  if (parts > 1 && tree.shared && N.data.buffer instanceof SharedArrayBuffer && (!only || only.buffer instanceof SharedArrayBuffer)) {
    // one range of points per thread of the query team: every normal as the loop below computes it
    if (!(P.buffer instanceof SharedArrayBuffer)) { const S = new Float64Array(new SharedArrayBuffer(P.length * 8)); S.set(P); P = S; }
    const counts = new Int32Array(new SharedArrayBuffer(12 * parts));
    const vp = opts.viewpoint ? Float64Array.from(opts.viewpoint) : undefined;
    const state = tree.state();
    const list: QueryPart[] = [];
    for (let p = 0; p < parts; p++) {
      const [from, to] = partRange(count, parts, p);
      list.push({ op: 'normals', tree: state, P, k, N: N.data, stats: counts, part: p, from, to, ...(vp ? { viewpoint: vp } : {}), ...(only ? { only } : {}) });
    }
    runQueryParts(list, (part) => {
      if (part.op !== 'normals') return;
      const st: NormalStats = { collinear: 0, coincident: 0, isotropic: 0 };
      normalsRange(P, d, k, tree, N.data, part.from, part.to, st, vp, only);
      counts.set([st.collinear, st.coincident, st.isotropic], 3 * part.part);
    });
    for (let p = 0; p < parts; p++) { stats.collinear += counts[3 * p]!; stats.coincident += counts[3 * p + 1]!; stats.isotropic += counts[3 * p + 2]!; }
    return stats;
  }
  normalsRange(P, d, k, tree, N.data, 0, count, stats, opts.viewpoint, only);
  return stats;
}

/**
 * Normals of points from..to-1 of P (row-major, d = 2 or 3), or of points only[from..to-1], from
 * their k nearest neighbours, into N; counts undetermined ones in stats.
 */
export function normalsRange(P: Float64Array, d: number, k: number, tree: KdTree, N: Float64Array, from: number, to: number, stats: NormalStats, viewpoint?: ArrayLike<number>, only?: Int32Array): void {
  const idx = new Int32Array(k), dist = new Float64Array(k);
  const out = new Float64Array(3);
  // the neighbourhood's coordinates, gathered once (3 per point; z = 0 in 2-D)
  const X = new Float64Array(3 * k);
  let prev = 0;
  for (let t = from; t < to; t++) {
    const i = only ? only[t]! : t;
    // the search starts at the point's own leaf (P is the tree's cloud), bounded by the farthest of
    // the previous point's k neighbours from this one: the same k neighbours, less work. They come
    // by ascending index (a fixed order for the sums below, whatever the bound), not nearest first
    const c = tree.knnSetInto(P, i * d, k, idx, dist, prev === k ? tree.maxDistSq(P, i * d, idx, k) : Infinity);
    prev = c;
    let m0 = 0, m1 = 0, m2 = 0;
    for (let j = 0; j < c; j++) {
      const b = idx[j]! * d, x = P[b]!, y = P[b + 1]!, z = d === 3 ? P[b + 2]! : 0;
      X[3 * j] = x; X[3 * j + 1] = y; X[3 * j + 2] = z;
      m0 += x; m1 += y; m2 += z;
    }
    m0 /= c; m1 /= c; m2 /= c;
    // the direction does not depend on the covariance's scale: divide the centred coordinates
    // by their largest magnitude so that the squares neither overflow nor underflow
    let mx = 0;
    for (let j = 0; j < 3 * c; j += 3) mx = Math.max(mx, Math.abs(X[j]! - m0), Math.abs(X[j + 1]! - m1), Math.abs(X[j + 2]! - m2));
    const inv = mx > 0 ? (1 / mx < Infinity ? 1 / mx : 2 ** 1000) : 0;
    const inv2 = mx > 0 && !(1 / mx < Infinity) ? 2 ** 74 : 1;
    let a00 = 0, a01 = 0, a02 = 0, a11 = 0, a12 = 0, a22 = 0;
    for (let j = 0; j < 3 * c; j += 3) {
      const x = (X[j]! - m0) * inv * inv2, y = (X[j + 1]! - m1) * inv * inv2, z = (X[j + 2]! - m2) * inv * inv2;
      a00 += x * x; a01 += x * y; a02 += x * z; a11 += y * y; a12 += y * z; a22 += z * z;
    }
    const st = d === 2 ? smallestEigvec2(a00, a01, a11, out) : smallestEigvec3(a00, a01, a02, a11, a12, a22, out);
    if (st === NormalStatus.Collinear) stats.collinear++;
    else if (st === NormalStatus.Coincident) stats.coincident++;
    else if (st === NormalStatus.Isotropic) stats.isotropic++;
    if (viewpoint) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += out[j]! * (viewpoint[j]! - P[i * d + j]!);
      if (dot < 0) for (let j = 0; j < d; j++) out[j] = -out[j]!;
    }
    for (let j = 0; j < d; j++) N[i * d + j] = out[j]!;
  }
}

/** Unit eigenvector of the smallest eigenvalue of [[a b][b c]] (symmetric, positive semi-definite). */
export function smallestEigvec2(a: number, b: number, c: number, out: Float64Array): NormalStatus {
  const maxC = Math.max(Math.abs(a), Math.abs(b), Math.abs(c));
  if (!(maxC > 0)) { out[0] = 0; out[1] = 1; return NormalStatus.Coincident; }
  const sc = 1 / maxC < Infinity ? 1 / maxC : 2 ** 1000;
  a *= sc; b *= sc; c *= sc;
  // eigenvalues of [[a b][b c]]: (a+c)/2 ± sqrt(((a−c)/2)² + b²)
  const h = (a - c) / 2, r = Math.hypot(h, b);
  const lmin = (a + c) / 2 - r;
  const status = 2 * r <= NORMAL_TOL * ((a + c) / 2 + r) ? NormalStatus.Isotropic : NormalStatus.Ok;
  // (A − λI) v = 0: v ⟂ the larger row
  let x = b, y = lmin - a;
  if (Math.abs(a - lmin) + Math.abs(b) < Math.abs(c - lmin) + Math.abs(b)) { x = lmin - c; y = b; }
  let len = Math.hypot(x, y);
  if (!(len > 0)) { x = 0; y = 1; len = 1; }
  out[0] = x / len; out[1] = y / len;
  return status;
}

/**
 * Unit eigenvector of the smallest eigenvalue of a symmetric positive semi-definite 3x3
 * matrix (closed form, after scaling by its largest entry), and whether it is determined:
 * Coincident (zero matrix), Collinear (rank 1: a unit vector perpendicular to the line is
 * returned) or Isotropic (the two smallest eigenvalues equal: no preferred direction).
 */
export function smallestEigvec3(a00: number, a01: number, a02: number, a11: number, a12: number, a22: number, out: Float64Array): NormalStatus {
  let maxC = Math.max(Math.abs(a00), Math.abs(a01), Math.abs(a02), Math.abs(a11), Math.abs(a12), Math.abs(a22));
  if (!(maxC > 0)) { out[0] = 0; out[1] = 0; out[2] = 1; return NormalStatus.Coincident; }
  if (maxC === Infinity) {
    // the sums of squares overflowed: no scale information is left to recover here
    throw new PointsError('normals: the covariance of a neighbourhood overflows float64 (coordinates beyond ~1e154)', 'rescale the points');
  }
  const s = 1 / maxC;
  a00 *= s; a01 *= s; a02 *= s; a11 *= s; a12 *= s; a22 *= s;
  maxC = 1;
  const norm = a01 * a01 + a02 * a02 + a12 * a12;
  let lmin: number, lmax: number, lmid: number;
  if (norm === 0) {
    lmin = Math.min(a00, a11, a22);
    lmax = Math.max(a00, a11, a22);
    lmid = a00 + a11 + a22 - lmin - lmax;
  } else {
    const q = (a00 + a11 + a22) / 3;
    const b00 = a00 - q, b11 = a11 - q, b22 = a22 - q;
    const p = Math.sqrt((b00 * b00 + b11 * b11 + b22 * b22 + 2 * norm) / 6);
    if (!(p > 1e-100)) {
      // all three eigenvalues equal to within 1e-100: an isotropic blob
      lmin = lmid = lmax = q;
    } else {
      const c00 = b11 * b22 - a12 * a12, c01 = a01 * b22 - a12 * a02, c02 = a01 * a12 - b11 * a02;
      const det = (b00 * c00 - a01 * c01 + a02 * c02) / (p * p * p);
      const half = Math.min(1, Math.max(-1, det / 2));
      const angle = Math.acos(half) / 3;
      const twoThirdsPi = 2.0943951023931954;
      lmin = q + p * 2 * Math.cos(angle + twoThirdsPi);
      lmax = q + p * 2 * Math.cos(angle);
      lmid = 3 * q - lmin - lmax;
    }
  }
  const tol = NORMAL_TOL * Math.max(lmax, 0);
  if (lmid <= tol) {
    // rank 1 (a line): the direction is the eigenvector of lmax; any perpendicular is a normal
    const e = new Float64Array(3);
    if (!eigvecFromRows(a00, a01, a02, a11, a12, a22, lmax, e)) { out[0] = 0; out[1] = 0; out[2] = 1; return NormalStatus.Collinear; }
    // cross with the coordinate axis least aligned with the line
    const ax = Math.abs(e[0]!), ay = Math.abs(e[1]!), az = Math.abs(e[2]!);
    const k = ax <= ay && ax <= az ? 0 : ay <= az ? 1 : 2;
    const u = [0, 0, 0]; u[k] = 1;
    let x = e[1]! * u[2]! - e[2]! * u[1]!, y = e[2]! * u[0]! - e[0]! * u[2]!, z = e[0]! * u[1]! - e[1]! * u[0]!;
    const l = Math.hypot(x, y, z);
    x /= l; y /= l; z /= l;
    out[0] = x; out[1] = y; out[2] = z;
    return NormalStatus.Collinear;
  }
  if (lmid - lmin <= tol) {
    if (!eigvecFromRows(a00, a01, a02, a11, a12, a22, lmax, out)) { out[0] = 0; out[1] = 0; out[2] = 1; }
    // a flat disc has lmin < lmid; here the two smallest are equal: the normal of the plane
    // spanned by them is lmax's direction only for a needle, which was handled above
    return NormalStatus.Isotropic;
  }
  if (!eigvecFromRows(a00, a01, a02, a11, a12, a22, lmin, out)) { out[0] = 0; out[1] = 0; out[2] = 1; return NormalStatus.Isotropic; }
  return NormalStatus.Ok;
}

/** Unit vector in the null space of A − λI from the largest cross product of two rows; false when none is found. */
function eigvecFromRows(a00: number, a01: number, a02: number, a11: number, a12: number, a22: number, l: number, out: Float64Array): boolean {
  const r0x = a00 - l, r0y = a01, r0z = a02;
  const r1x = a01, r1y = a11 - l, r1z = a12;
  const r2x = a02, r2y = a12, r2z = a22 - l;
  const c0x = r0y * r1z - r0z * r1y, c0y = r0z * r1x - r0x * r1z, c0z = r0x * r1y - r0y * r1x;
  const c1x = r0y * r2z - r0z * r2y, c1y = r0z * r2x - r0x * r2z, c1z = r0x * r2y - r0y * r2x;
  const c2x = r1y * r2z - r1z * r2y, c2y = r1z * r2x - r1x * r2z, c2z = r1x * r2y - r1y * r2x;
  const d0 = c0x * c0x + c0y * c0y + c0z * c0z, d1 = c1x * c1x + c1y * c1y + c1z * c1z, d2 = c2x * c2x + c2y * c2y + c2z * c2z;
  let x, y, z, dd;
  if (d0 >= d1 && d0 >= d2) { x = c0x; y = c0y; z = c0z; dd = d0; }
  else if (d1 >= d2) { x = c1x; y = c1y; z = c1z; dd = d1; }
  else { x = c2x; y = c2y; z = c2z; dd = d2; }
  if (!(dd > 0)) return false;
  const inv = 1 / Math.sqrt(dd);
  out[0] = x * inv; out[1] = y * inv; out[2] = z * inv;
  return true;
}
