/**
 * Normals by PCA of the k nearest neighbours: the eigenvector of the smallest
 * eigenvalue of each neighbourhood's covariance (closed form for 2x2 and 3x3
 * symmetric matrices, as Open3D's FastEigen3x3). Signs are made to face
 * `viewpoint` when one is given (e.g. the scanner position), else left as found.
 */
import { Matrix } from '../linalg/matrix.js';
import { KdTree } from './kdtree.js';

export interface NormalOptions {
  /** neighbours per point, the point itself included (default 30, as Open3D's KDTreeSearchParamKNN) */
  k?: number;
  /** orient each normal towards this point */
  viewpoint?: ArrayLike<number>;
  /** a tree already built on `points` */
  tree?: KdTree;
}

export function estimateNormals(points: Matrix, opts: NormalOptions = {}): Matrix {
  const n = points.rows, d = points.cols;
  if (d !== 2 && d !== 3) throw new RangeError(`normals need 2-D or 3-D points, got ${d}-D`);
  const k = Math.min(opts.k ?? 30, n);
  const tree = opts.tree ?? new KdTree(points);
  const P = points.isContiguous ? points.data : points.clone().data;
  const idx = new Int32Array(k), dist = new Float64Array(k);
  const N = new Matrix(n, d);
  const out = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    const c = tree.knnInto(P, i * d, k, idx, dist);
    let m0 = 0, m1 = 0, m2 = 0;
    for (let j = 0; j < c; j++) { const b = idx[j]! * d; m0 += P[b]!; m1 += P[b + 1]!; if (d === 3) m2 += P[b + 2]!; }
    m0 /= c; m1 /= c; m2 /= c;
    let a00 = 0, a01 = 0, a02 = 0, a11 = 0, a12 = 0, a22 = 0;
    for (let j = 0; j < c; j++) {
      const b = idx[j]! * d;
      const x = P[b]! - m0, y = P[b + 1]! - m1, z = d === 3 ? P[b + 2]! - m2 : 0;
      a00 += x * x; a01 += x * y; a02 += x * z; a11 += y * y; a12 += y * z; a22 += z * z;
    }
    if (d === 2) smallestEigvec2(a00, a01, a11, out);
    else smallestEigvec3(a00, a01, a02, a11, a12, a22, out);
    if (opts.viewpoint) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += out[j]! * (opts.viewpoint[j]! - P[i * d + j]!);
      if (dot < 0) for (let j = 0; j < d; j++) out[j] = -out[j]!;
    }
    for (let j = 0; j < d; j++) N.data[i * d + j] = out[j]!;
  }
  return N;
}

function smallestEigvec2(a: number, b: number, c: number, out: Float64Array): void {
  // eigenvalues of [[a b][b c]]: (a+c)/2 ± sqrt(((a−c)/2)² + b²)
  const h = (a - c) / 2, r = Math.hypot(h, b);
  const lmin = (a + c) / 2 - r;
  // (A − λI) v = 0: v ⟂ the larger row
  let x = b, y = lmin - a;
  if (Math.abs(a - lmin) + Math.abs(b) < Math.abs(c - lmin) + Math.abs(b)) { x = lmin - c; y = b; }
  let len = Math.hypot(x, y);
  if (!(len > 0)) { x = 0; y = 1; len = 1; }
  out[0] = x / len; out[1] = y / len;
}

/** Unit eigenvector of the smallest eigenvalue of a symmetric 3x3 matrix. */
export function smallestEigvec3(a00: number, a01: number, a02: number, a11: number, a12: number, a22: number, out: Float64Array): void {
  const maxC = Math.max(Math.abs(a00), Math.abs(a01), Math.abs(a02), Math.abs(a11), Math.abs(a12), Math.abs(a22));
  if (!(maxC > 0)) { out[0] = 0; out[1] = 0; out[2] = 1; return; }
  const s = 1 / maxC;
  a00 *= s; a01 *= s; a02 *= s; a11 *= s; a12 *= s; a22 *= s;
  const norm = a01 * a01 + a02 * a02 + a12 * a12;
  let lmin: number;
  if (norm === 0) lmin = Math.min(a00, a11, a22);
  else {
    const q = (a00 + a11 + a22) / 3;
    const b00 = a00 - q, b11 = a11 - q, b22 = a22 - q;
    const p = Math.sqrt((b00 * b00 + b11 * b11 + b22 * b22 + 2 * norm) / 6);
    const c00 = b11 * b22 - a12 * a12, c01 = a01 * b22 - a12 * a02, c02 = a01 * a12 - b11 * a02;
    const det = (b00 * c00 - a01 * c01 + a02 * c02) / (p * p * p);
    const half = Math.min(1, Math.max(-1, det / 2));
    const angle = Math.acos(half) / 3;
    const twoThirdsPi = 2.0943951023931954;
    lmin = q + p * 2 * Math.cos(angle + twoThirdsPi);
  }
  // rows of A − λI; the eigenvector is the largest cross product of two rows
  const r0x = a00 - lmin, r0y = a01, r0z = a02;
  const r1x = a01, r1y = a11 - lmin, r1z = a12;
  const r2x = a02, r2y = a12, r2z = a22 - lmin;
  const c0x = r0y * r1z - r0z * r1y, c0y = r0z * r1x - r0x * r1z, c0z = r0x * r1y - r0y * r1x;
  const c1x = r0y * r2z - r0z * r2y, c1y = r0z * r2x - r0x * r2z, c1z = r0x * r2y - r0y * r2x;
  const c2x = r1y * r2z - r1z * r2y, c2y = r1z * r2x - r1x * r2z, c2z = r1x * r2y - r1y * r2x;
  const d0 = c0x * c0x + c0y * c0y + c0z * c0z, d1 = c1x * c1x + c1y * c1y + c1z * c1z, d2 = c2x * c2x + c2y * c2y + c2z * c2z;
  let x, y, z, dd;
  if (d0 >= d1 && d0 >= d2) { x = c0x; y = c0y; z = c0z; dd = d0; }
  else if (d1 >= d2) { x = c1x; y = c1y; z = c1z; dd = d1; }
  else { x = c2x; y = c2y; z = c2z; dd = d2; }
  if (!(dd > 0)) {
    // a repeated smallest eigenvalue (a line or an isotropic blob): any vector ⟂ the dominant row
    out[0] = 0; out[1] = 0; out[2] = 1;
    return;
  }
  const inv = 1 / Math.sqrt(dd);
  out[0] = x * inv; out[1] = y * inv; out[2] = z * inv;
}
