/**
 * Fast Point Feature Histograms (Rusu, Blodow, Beetz, "Fast Point Feature Histograms
 * (FPFH) for 3D registration", ICRA 2009), computed as Open3D's ComputeFPFHFeature:
 *
 * 1. SPFH of each point p: for each neighbour q within `radius` (at most `maxNeighbours`),
 *    the Darboux-frame angles (alpha, phi, theta) of the pair, each binned into 11 bins
 *    (alpha = atan2 over [-π, π], phi and theta as cosines over [-1, 1]) → 33 values,
 *    each pair adding 100 / (neighbours) so that each 11-bin block sums to 100.
 * 2. FPFH(p) = SPFH(p) + the neighbours' SPFH weighted by 1 / (squared distance), each
 *    11-bin block of the weighted sum rescaled to sum to 100.
 *
 * Normals must be consistently oriented for the histograms of two scans to agree;
 * `orientOutward` turns them away from the cloud's centroid (rotation-invariant).
 */
import { Matrix } from '../linalg/matrix.js';
import { KdTree } from './kdtree.js';
import { smallestEigvec3 } from './normals.js';
import { queryParts, partRange, runQueryParts, type QueryPart } from './query-team.js';

export const FPFH_BINS = 11;
export const FPFH_DIM = 3 * FPFH_BINS;

export interface FpfhOptions {
  /** neighbourhood radius, in coordinate units (Open3D's tutorial: 5 x the voxel size) */
  radius: number;
  /** at most this many neighbours (the nearest; default 100) */
  maxNeighbours?: number;
  /** a tree already built on the points */
  tree?: KdTree;
}

/**
 * Pair features of (p1, n1) and (p2, n2), as Open3D's ComputePairFeatures: writes
 * [alpha (atan2), phi (cosine), theta (cosine)] into out; returns false for coincident
 * points or a degenerate frame.
 */
export function pairFeatures(P: Float64Array, N: Float64Array, i: number, j: number, out: Float64Array): boolean {
  const a = 3 * i, b = 3 * j;
  let dx = P[b]! - P[a]!, dy = P[b + 1]! - P[a + 1]!, dz = P[b + 2]! - P[a + 2]!;
  const len = Math.sqrt(dx * dx + dy * dy + dz * dz);
  if (len === 0) return false;
  let n1x = N[a]!, n1y = N[a + 1]!, n1z = N[a + 2]!;
  let n2x = N[b]!, n2y = N[b + 1]!, n2z = N[b + 2]!;
  const a1 = (n1x * dx + n1y * dy + n1z * dz) / len;
  const a2 = (n2x * dx + n2y * dy + n2z * dz) / len;
  let theta: number;
  // Open3D compares acos(|a1|) > acos(|a2|); acos is decreasing, so that is |a1| < |a2| except
  // where acos rounds two close values to one: apart by more than 1e-9 the plain comparison
  // decides (acos's slope is at least 1 in magnitude, its rounding ~1e-16), closer ones go to acos;
  // |a2| rounded above 1 makes acos NaN and the comparison false, as there
  const b1 = Math.abs(a1), b2 = Math.abs(a2);
  if (b2 <= 1 && (b2 - b1 > 1e-9 || (!(b1 - b2 > 1e-9) && Math.acos(b1) > Math.acos(b2)))) {
    // use the point whose normal is closer to the connecting line as the source
    [n1x, n2x] = [n2x, n1x]; [n1y, n2y] = [n2y, n1y]; [n1z, n2z] = [n2z, n1z];
    dx = -dx; dy = -dy; dz = -dz;
    theta = -a2;
  } else theta = a1;
  // v = d × n1, w = n1 × v
  let vx = dy * n1z - dz * n1y, vy = dz * n1x - dx * n1z, vz = dx * n1y - dy * n1x;
  const vl = Math.sqrt(vx * vx + vy * vy + vz * vz);
  if (vl === 0) return false;
  vx /= vl; vy /= vl; vz /= vl;
  const wx = n1y * vz - n1z * vy, wy = n1z * vx - n1x * vz, wz = n1x * vy - n1y * vx;
  out[0] = Math.atan2(wx * n2x + wy * n2y + wz * n2z, n1x * n2x + n1y * n2y + n1z * n2z);
  out[1] = vx * n2x + vy * n2y + vz * n2z;
  out[2] = theta;
  return true;
}

const bin = (v: number) => Math.min(FPFH_BINS - 1, Math.max(0, Math.floor(v)));

/** The arrays one FPFH computation works on (shared memory when split over the query team). */
export interface FpfhWork {
  P: Float64Array;
  N: Float64Array;
  radius: number;
  /** neighbours kept per point (self included) */
  maxK: number;
  /** neighbour indices and squared distances, maxK slots per point, and the count found */
  nbIdx: Int32Array;
  nbDist: Float64Array;
  nbCount: Int32Array;
  spfh: Float64Array;
  F: Float64Array;
}

/** Pass 1 for points from..to-1: their neighbours within the radius and their SPFH (needs nothing from other points). */
export function fpfhNeighboursRange(w: FpfhWork, tree: KdTree, from: number, to: number): void {
  const { P, N, maxK, nbIdx, nbDist, nbCount, spfh } = w;
  const idx = new Int32Array(maxK), dist = new Float64Array(maxK);
  const f = new Float64Array(3);
  let prev = 0;
  for (let i = from; i < to; i++) {
    // from the point's own leaf, bounded by the previous point's neighbours when it had maxK (normals.ts)
    const c = tree.radiusInto(P, 3 * i, w.radius, maxK, idx, dist, prev === maxK ? tree.maxDistSq(P, 3 * i, idx, maxK) : Infinity);
    prev = c;
    nbCount[i] = c;
    nbIdx.set(idx.subarray(0, c), i * maxK);
    nbDist.set(dist.subarray(0, c), i * maxK);
    const others = c - 1;
    if (others <= 0) continue;
    const inc = 100 / others;
    const o = i * FPFH_DIM;
    for (let k = 0; k < c; k++) {
      const j = idx[k]!;
      if (j === i) continue;
      if (!pairFeatures(P, N, i, j, f)) continue;
      spfh[o + bin((FPFH_BINS * (f[0]! + Math.PI)) / (2 * Math.PI))]! += inc;
      spfh[o + FPFH_BINS + bin(FPFH_BINS * (f[1]! + 1) * 0.5)]! += inc;
      spfh[o + 2 * FPFH_BINS + bin(FPFH_BINS * (f[2]! + 1) * 0.5)]! += inc;
    }
  }
}

/** Pass 2 for points from..to-1: FPFH from their own and their neighbours' SPFH (after pass 1 of every point). */
export function fpfhHistogramsRange(w: FpfhWork, from: number, to: number): void {
  const { maxK, nbIdx, nbDist, nbCount, spfh, F } = w;
  const sum = new Float64Array(3);
  for (let i = from; i < to; i++) {
    const o = i * FPFH_DIM, b0 = i * maxK, c = nbCount[i]!;
    sum.fill(0);
    for (let k = 0; k < c; k++) {
      const j = nbIdx[b0 + k]!, dd = nbDist[b0 + k]!;
      if (j === i || dd === 0) continue;
      const wt = 1 / dd;
      const s = j * FPFH_DIM;
      // the three 11-bin blocks, each with its own sum (the same additions, in the same order)
      for (let blk = 0; blk < 3; blk++) {
        let acc = sum[blk]!;
        const e = blk * FPFH_BINS + FPFH_BINS;
        for (let h = blk * FPFH_BINS; h < e; h++) {
          const v = spfh[s + h]! * wt;
          F[o + h]! += v;
          acc += v;
        }
        sum[blk] = acc;
      }
    }
    for (let b = 0; b < 3; b++) sum[b] = sum[b]! !== 0 ? 100 / sum[b]! : 0;
    for (let blk = 0; blk < 3; blk++) {
      const sc = sum[blk]!, e = blk * FPFH_BINS + FPFH_BINS;
      for (let h = blk * FPFH_BINS; h < e; h++) F[o + h] = F[o + h]! * sc + spfh[o + h]!;
    }
  }
}

/**
 * FPFH descriptors: n x 33, one row per point. Points and normals are n x 3. Each pass is
 * split by point ranges over the points query team when it runs (each point's values are
 * computed as by the one-thread loop, so the descriptors are the same for any split).
 */
export function computeFpfh(points: Matrix, normals: Matrix, opts: FpfhOptions): Matrix {
  const n = points.rows;
  if (points.cols !== 3 || normals.cols !== 3) throw new RangeError(`FPFH needs 3-D points and normals, got ${points.cols}-D`);
  if (normals.rows !== n) throw new RangeError(`FPFH: ${n} points but ${normals.rows} normals`);
  if (!(opts.radius > 0)) throw new RangeError(`FPFH radius must be positive, got ${opts.radius}`);
  const maxK = Math.min(n, Math.max(2, (opts.maxNeighbours ?? 100) + 1));
  const tree = opts.tree ?? new KdTree(points);
  // a few hundred points per part: each costs ~100 neighbours' pair features
  const parts = tree.shared ? queryParts(n, 256) : 1;
  const split = parts > 1;
  const f64 = (len: number) => (split ? new Float64Array(new SharedArrayBuffer(8 * len)) : new Float64Array(len));
  const i32 = (len: number) => (split ? new Int32Array(new SharedArrayBuffer(4 * len)) : new Int32Array(len));
  const own = (M: Matrix) => {
    const D = M.isContiguous ? M.data : M.clone().data;
    if (!split || D.buffer instanceof SharedArrayBuffer) return D;
    const S = f64(D.length); S.set(D); return S;
  };
  const out = new Matrix(n, FPFH_DIM);
  const w: FpfhWork = {
    P: own(points), N: own(normals), radius: opts.radius, maxK,
    nbIdx: i32(n * maxK), nbDist: f64(n * maxK), nbCount: i32(n), spfh: f64(n * FPFH_DIM), F: split ? f64(n * FPFH_DIM) : out.data,
  };
  if (!split) {
    fpfhNeighboursRange(w, tree, 0, n);
    fpfhHistogramsRange(w, 0, n);
    return out;
  }
  const state = tree.state();
  for (const pass of [1, 2] as const) {
    const list: QueryPart[] = [];
    for (let p = 0; p < parts; p++) {
      const [from, to] = partRange(n, parts, p);
      list.push({ op: 'fpfh', pass, tree: state, work: w, from, to });
    }
    runQueryParts(list, (part) => {
      if (part.op !== 'fpfh') return;
      if (part.pass === 1) fpfhNeighboursRange(w, tree, part.from, part.to);
      else fpfhHistogramsRange(w, part.from, part.to);
    });
  }
  out.data.set(w.F);
  return out;
}

/**
 * Normals by PCA of the neighbours within `radius` (at most `maxNeighbours`, default 30),
 * as Open3D's KDTreeSearchParamHybrid; points with fewer than 3 neighbours fall back to
 * their 3 nearest.
 */
export function radiusNormals(points: Matrix, radius: number, maxNeighbours = 30, tree?: KdTree): Matrix {
  const n = points.rows;
  const t = tree ?? new KdTree(points);
  const P = points.isContiguous ? points.data : points.clone().data;
  const k = Math.min(n, maxNeighbours);
  const idx = new Int32Array(k), dist = new Float64Array(k);
  const out = new Matrix(n, 3);
  const v = new Float64Array(3);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    let c = t.radiusInto(P, 3 * i, radius, k, idx, dist, prev === k ? t.maxDistSq(P, 3 * i, idx, k) : Infinity);
    prev = c;
    if (c < 3) c = t.knnInto(P, 3 * i, Math.min(3, n), idx, dist, Infinity);
    let m0 = 0, m1 = 0, m2 = 0;
    for (let j = 0; j < c; j++) { const b = 3 * idx[j]!; m0 += P[b]!; m1 += P[b + 1]!; m2 += P[b + 2]!; }
    m0 /= c; m1 /= c; m2 /= c;
    let a00 = 0, a01 = 0, a02 = 0, a11 = 0, a12 = 0, a22 = 0;
    for (let j = 0; j < c; j++) {
      const b = 3 * idx[j]!;
      const x = P[b]! - m0, y = P[b + 1]! - m1, z = P[b + 2]! - m2;
      a00 += x * x; a01 += x * y; a02 += x * z; a11 += y * y; a12 += y * z; a22 += z * z;
    }
    smallestEigvec3(a00, a01, a02, a11, a12, a22, v);
    out.data.set(v, 3 * i);
  }
  return out;
}

/** Flips normals to point away from the centroid of `points` (in place); rotation-invariant. */
export function orientOutward(points: Matrix, normals: Matrix): Matrix {
  const n = points.rows, d = points.cols;
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) c[j]! += points.get(i, j) / n;
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += normals.get(i, j) * (points.get(i, j) - c[j]!);
    if (dot < 0) for (let j = 0; j < d; j++) normals.set(i, j, -normals.get(i, j));
  }
  return normals;
}
