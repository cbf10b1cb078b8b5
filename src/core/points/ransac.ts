/**
 * Feature correspondences and RANSAC for a rigid 3-D transform, in the manner of
 * Open3D's RegistrationRANSACBasedOnFeatureMatching:
 *
 * - `matchFeatures`: each source descriptor's nearest target descriptor (Euclidean),
 *   optionally kept only when mutual (the target's nearest source descriptor is it);
 * - `ransacRigid`: repeatedly draws 3 correspondences (seeded), rejects samples whose
 *   edge lengths disagree (CorrespondenceCheckerBasedOnEdgeLength, ratio 0.9), fits
 *   the rotation and translation (Horn's closed form), rejects it when a sampled pair
 *   stays farther apart than the distance (CorrespondenceCheckerBasedOnDistance), and
 *   scores it by the correspondences it brings within the distance. It stops after
 *   maxIterations or when the confidence is reached
 *   (k = log(1 − confidence) / log(1 − w³), w = inlier ratio of the best so far).
 *   The best hypotheses are refitted on their inliers and ranked by fitness over every
 *   source point (nearest target point within the distance), as Open3D's result.
 */
import { PointsError } from './errors.js';
import { scoreMatches, type ScoredTransform } from './metrics.js';
import { Matrix } from '../linalg/matrix.js';
import { matmulT } from '../linalg/index.js';
import { seededRandom } from '../linalg/random.js';
import { KdTree } from './kdtree.js';
import { applyTransform } from './rigid.js';
import { queryParts, partRange, runQueryParts, type QueryPart } from './query-team.js';
import { nearestAll } from './queries.js';

export interface Matches {
  src: Int32Array;
  dst: Int32Array;
  count: number;
  /** matches before the mutual filter */
  oneWay: number;
  mutual: boolean;
}

/** The arrays of one descriptor matching (shared memory when split over the query team). */
export interface MatchWork {
  /** source and target descriptors, row-major ns x f and nt x f, and their squared norms */
  S: Float64Array;
  T: Float64Array;
  f: number;
  ns: number;
  nt: number;
  sn: Float64Array;
  tn: Float64Array;
  /** per source row: nearest target row and its squared distance */
  s2t: Int32Array;
  sBest: Float64Array;
  /** per part p, per target row: nearest source row among the part's rows (p * nt + j) */
  t2s: Int32Array;
  tBest: Float64Array;
}

/** Source rows from..to-1 against every target row (blocked GEMM); the part's own slice of t2s/tBest. */
export function matchRange(w: MatchWork, part: number, from: number, to: number): void {
  const { f, nt, sn, tn, s2t, sBest, t2s, tBest } = w;
  const tgtF = new Matrix(nt, f, w.T), o = part * nt;
  const B = 512;
  for (let r0 = from; r0 < to; r0 += B) {
    const r1 = Math.min(to, r0 + B);
    const C = matmulT(new Matrix(r1 - r0, f, w.S, r0 * f), tgtF);
    for (let i = r0; i < r1; i++) {
      const base = (i - r0) * nt;
      for (let j = 0; j < nt; j++) {
        const d = sn[i]! + tn[j]! - 2 * C.data[base + j]!;
        if (d < sBest[i]!) { sBest[i] = d; s2t[i] = j; }
        if (d < tBest[o + j]!) { tBest[o + j] = d; t2s[o + j] = i; }
      }
    }
  }
}

/**
 * Nearest target descriptor of each source descriptor (rows of n x f matrices), blocked GEMM;
 * split by source rows over the points query team when it runs. Each distance is computed
 * as by one thread, and the per-part nearest sources are merged in row order with the same
 * strict comparison, so the matches do not depend on the split.
 */
export function matchFeatures(srcF: Matrix, tgtF: Matrix, opts: { mutual?: boolean; minMutual?: number } = {}): Matches {
  const ns = srcF.rows, nt = tgtF.rows, f = srcF.cols;
  if (tgtF.cols !== f) throw new RangeError(`descriptors differ in length: ${f} and ${tgtF.cols}`);
  const parts = queryParts(ns, 256);
  const split = parts > 1;
  const f64 = (len: number) => (split ? new Float64Array(new SharedArrayBuffer(8 * len)) : new Float64Array(len));
  const i32 = (len: number) => (split ? new Int32Array(new SharedArrayBuffer(4 * len)) : new Int32Array(len));
  const dense = (M: Matrix) => {
    const D = M.isContiguous ? M.data.subarray(M.offset, M.offset + M.rows * M.cols) : M.clone().data;
    if (!split || D.buffer instanceof SharedArrayBuffer) return D;
    const X = f64(D.length); X.set(D); return X;
  };
  const w: MatchWork = {
    S: dense(srcF), T: dense(tgtF), f, ns, nt, sn: f64(ns), tn: f64(nt),
    s2t: i32(ns).fill(-1), sBest: f64(ns).fill(Infinity), t2s: i32(parts * nt).fill(-1), tBest: f64(parts * nt).fill(Infinity),
  };
  for (let i = 0; i < ns; i++) { let s = 0; for (let j = 0; j < f; j++) s += srcF.get(i, j) ** 2; w.sn[i] = s; }
  for (let i = 0; i < nt; i++) { let s = 0; for (let j = 0; j < f; j++) s += tgtF.get(i, j) ** 2; w.tn[i] = s; }
  if (!split) matchRange(w, 0, 0, ns);
  else {
    const list: QueryPart[] = [];
    for (let p = 0; p < parts; p++) { const [from, to] = partRange(ns, parts, p); list.push({ op: 'match', work: w, part: p, from, to }); }
    runQueryParts(list, (part) => { if (part.op === 'match') matchRange(w, part.part, part.from, part.to); });
  }
  const s2t = w.s2t, t2s = new Int32Array(nt).fill(-1), tBest = new Float64Array(nt).fill(Infinity);
  for (let p = 0; p < parts; p++) for (let j = 0; j < nt; j++) if (w.tBest[p * nt + j]! < tBest[j]!) { tBest[j] = w.tBest[p * nt + j]!; t2s[j] = w.t2s[p * nt + j]!; }
  const src: number[] = [], dst: number[] = [];
  for (let i = 0; i < ns; i++) if (t2s[s2t[i]!] === i) { src.push(i); dst.push(s2t[i]!); }
  const useMutual = (opts.mutual ?? true) && src.length >= (opts.minMutual ?? 9);
  if (!useMutual) {
    src.length = 0; dst.length = 0;
    for (let i = 0; i < ns; i++) { src.push(i); dst.push(s2t[i]!); }
  }
  return { src: Int32Array.from(src), dst: Int32Array.from(dst), count: src.length, oneWay: ns, mutual: useMutual };
}

export interface RansacOptions {
  /** pairs within this distance after the transform are inliers */
  maxCorrespondenceDistance: number;
  /** edge-length similarity of sampled pairs (Open3D's checker; default 0.9) */
  edgeLength?: number;
  /** at most this many samples (default 100000, Open3D's RANSACConvergenceCriteria) */
  maxIterations?: number;
  /** stop when this confident of having drawn an all-inlier sample (default 0.999) */
  confidence?: number;
  seed?: number;
  /** a tree built on the target points (for the final fitness) */
  targetTree?: KdTree;
}

export interface RansacResult extends ScoredTransform {
  /** correspondences brought within the distance by the best transform */
  inlierCorrespondences: number;
  correspondences: number;
  /** samples that passed both checkers and were scored (iterations: samples drawn) */
  validHypotheses: number;
  /** (converged: the confidence was reached before maxIterations) */
}

/** Rotation and translation mapping rows srcIdx of S onto rows dstIdx of T (least squares, Horn 1987). */
export function rigidFit3(S: Float64Array, T: Float64Array, srcIdx: ArrayLike<number>, dstIdx: ArrayLike<number>, m: number, out = Matrix.identity(4)): Matrix {
  let sx = 0, sy = 0, sz = 0, tx = 0, ty = 0, tz = 0;
  for (let k = 0; k < m; k++) {
    const a = 3 * srcIdx[k]!, b = 3 * dstIdx[k]!;
    sx += S[a]!; sy += S[a + 1]!; sz += S[a + 2]!; tx += T[b]!; ty += T[b + 1]!; tz += T[b + 2]!;
  }
  sx /= m; sy /= m; sz /= m; tx /= m; ty /= m; tz /= m;
  let xx = 0, xy = 0, xz = 0, yx = 0, yy = 0, yz = 0, zx = 0, zy = 0, zz = 0;
  for (let k = 0; k < m; k++) {
    const a = 3 * srcIdx[k]!, b = 3 * dstIdx[k]!;
    const px = S[a]! - sx, py = S[a + 1]! - sy, pz = S[a + 2]! - sz;
    const qx = T[b]! - tx, qy = T[b + 1]! - ty, qz = T[b + 2]! - tz;
    xx += px * qx; xy += px * qy; xz += px * qz; yx += py * qx; yy += py * qy; yz += py * qz; zx += pz * qx; zy += pz * qy; zz += pz * qz;
  }
  const N = [
    xx + yy + zz, yz - zy, zx - xz, xy - yx,
    yz - zy, xx - yy - zz, xy + yx, zx + xz,
    zx - xz, xy + yx, -xx + yy - zz, yz + zy,
    xy - yx, zx + xz, yz + zy, -xx - yy + zz,
  ];
  const q = largestEigvec4(N);
  const [w, x, y, z] = q;
  const R = [
    w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z,
  ];
  const o = out.data;
  for (let r = 0; r < 3; r++) {
    o[4 * r] = R[3 * r]!; o[4 * r + 1] = R[3 * r + 1]!; o[4 * r + 2] = R[3 * r + 2]!;
    o[4 * r + 3] = [tx, ty, tz][r]! - (R[3 * r]! * sx + R[3 * r + 1]! * sy + R[3 * r + 2]! * sz);
  }
  o[12] = 0; o[13] = 0; o[14] = 0; o[15] = 1;
  return out;
}

/** Unit eigenvector of the largest eigenvalue of a symmetric 4x4 (cyclic Jacobi). */
function largestEigvec4(A: number[]): [number, number, number, number] {
  const a = A.slice();
  const V = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[4 * p + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) {
      const apq = a[4 * p + q]!;
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (a[4 * q + q]! - a[4 * p + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 4; k++) {
        const akp = a[4 * k + p]!, akq = a[4 * k + q]!;
        a[4 * k + p] = c * akp - s * akq; a[4 * k + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 4; k++) {
        const apk = a[4 * p + k]!, aqk = a[4 * q + k]!;
        a[4 * p + k] = c * apk - s * aqk; a[4 * q + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 4; k++) {
        const vkp = V[4 * k + p]!, vkq = V[4 * k + q]!;
        V[4 * k + p] = c * vkp - s * vkq; V[4 * k + q] = s * vkp + c * vkq;
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (a[5 * i]! > a[5 * best]!) best = i;
  const v: [number, number, number, number] = [V[best]!, V[4 + best]!, V[8 + best]!, V[12 + best]!];
  const n = Math.hypot(...v);
  return [v[0] / n, v[1] / n, v[2] / n, v[3] / n];
}

/** Fitness and inlier RMSE (metrics.ts) of `T` (source → target) over every source point. */
export function evaluateTransform(source: Matrix, tree: KdTree, T: Matrix, maxDistance: number): { fitness: number; inlierRmse: number; inliers: number } {
  const cur = applyTransform(T, source);
  const d = source.cols, n = source.rows, md2 = maxDistance * maxDistance;
  // RANSAC's last step scores 16 transforms of the keypoints: split over the query team when it
  // runs (nearestAll searches on one thread otherwise: the same answers); the sums below in
  // point order, as one thread adds them
  const shared = tree.shared && queryParts(n, EVALUATE_PER_PART) > 1;
  const buf = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const q = shared ? new Float64Array(buf(8 * n * d)) : cur.data;
  if (shared) q.set(cur.data.subarray(0, n * d));
  const idx = new Int32Array(buf(4 * n)), dist = new Float64Array(buf(8 * n));
  nearestAll(tree, q, n, md2 * (1 + 1e-12), idx, dist, false, undefined, undefined, EVALUATE_PER_PART);
  let c = 0, sse = 0;
  for (let i = 0; i < n; i++) {
    if (idx[i]! < 0 || dist[i]! > md2) continue;
    c++; sse += dist[i]!;
  }
  return { ...scoreMatches(c, n, sse), inliers: c };
}

/** Points per chunk of evaluateTransform's searches at least (each ~0.5 µs: a few hundred µs per chunk). */
const EVALUATE_PER_PART = 512;

/** RANSAC over feature correspondences for a rigid 3-D transform (see the file comment). */
export function ransacRigid(source: Matrix, target: Matrix, matches: Matches, opts: RansacOptions): RansacResult {
  const m = matches.count;
  if (source.cols !== 3 || target.cols !== 3) throw new RangeError(`RANSAC registration is 3-D; got ${source.cols}-D points`);
  if (m < 3) throw new PointsError(`RANSAC needs at least 3 feature correspondences, found ${m}`);
  const S = source.isContiguous ? source.data : source.clone().data;
  const T = target.isContiguous ? target.data : target.clone().data;
  const dist = opts.maxCorrespondenceDistance, d2 = dist * dist;
  const sim = opts.edgeLength ?? 0.9;
  const maxIt = opts.maxIterations ?? 100000;
  const conf = opts.confidence ?? 0.999;
  const rng = seededRandom(opts.seed ?? 0);
  const { src, dst } = matches;
  const H = Matrix.identity(4), h = H.data;
  const si = new Int32Array(3), di = new Int32Array(3);
  // the best few distinct hypotheses by inlier count, refined and ranked by fitness at the end
  const TOP = 8;
  const top: { T: Matrix; inliers: number }[] = [];
  let bestInliers = 0, valid = 0, it = 0, kNeeded = maxIt, converged = false;
  /** squared distance between the current hypothesis h applied to source point i and target point j */
  const residualSq = (i: number, j: number): number => {
    const a = 3 * i, b = 3 * j;
    const x = S[a]!, y = S[a + 1]!, z = S[a + 2]!;
    const ex = h[0]! * x + h[1]! * y + h[2]! * z + h[3]! - T[b]!;
    const ey = h[4]! * x + h[5]! * y + h[6]! * z + h[7]! - T[b + 1]!;
    const ez = h[8]! * x + h[9]! * y + h[10]! * z + h[11]! - T[b + 2]!;
    return ex * ex + ey * ey + ez * ez;
  };
  const inlierCount = (): number => {
    let c = 0;
    for (let k = 0; k < m; k++) if (residualSq(src[k]!, dst[k]!) <= d2) c++;
    return c;
  };
  const pdist = (P: Float64Array, i: number, j: number) => Math.hypot(P[3 * i]! - P[3 * j]!, P[3 * i + 1]! - P[3 * j + 1]!, P[3 * i + 2]! - P[3 * j + 2]!);
  for (; it < maxIt; it++) {
    if (it >= kNeeded) { converged = true; break; }
    const a = Math.floor(rng.next() * m);
    let b = Math.floor(rng.next() * (m - 1)); if (b >= a) b++;
    let c = Math.floor(rng.next() * (m - 2)); if (c >= Math.min(a, b)) c++; if (c >= Math.max(a, b)) c++;
    si[0] = src[a]!; si[1] = src[b]!; si[2] = src[c]!; di[0] = dst[a]!; di[1] = dst[b]!; di[2] = dst[c]!;
    let ok = true;
    for (let p = 0; p < 3 && ok; p++) for (let q = p + 1; q < 3; q++) {
      const ds = pdist(S, si[p]!, si[q]!), dt = pdist(T, di[p]!, di[q]!);
      if (!(ds >= sim * dt && dt >= sim * ds)) { ok = false; break; }
    }
    if (!ok) continue;
    rigidFit3(S, T, si, di, 3, H);
    for (let p = 0; p < 3 && ok; p++) if (residualSq(si[p]!, di[p]!) > d2) ok = false;
    if (!ok) continue;
    valid++;
    const n = inlierCount();
    if (top.length < TOP || n > top[top.length - 1]!.inliers) {
      top.push({ T: H.clone(), inliers: n });
      top.sort((x, y) => y.inliers - x.inliers);
      if (top.length > TOP) top.pop();
    }
    if (n > bestInliers) {
      bestInliers = n;
      const w = n / m;
      const k = w >= 1 ? 0 : Math.log(1 - conf) / Math.log(1 - w * w * w);
      kNeeded = Math.min(maxIt, Math.ceil(k));
    }
  }
  if (!top.length) {
    throw new PointsError(`RANSAC found no sample of 3 correspondences passing the edge-length (${sim}) and distance (${dist}) checks in ${it} tries`);
  }
  const tree = opts.targetTree ?? new KdTree(target);
  let best: RansacResult | undefined;
  const idxS: number[] = [], idxT: number[] = [];
  for (const cand of top) {
    // refit on the candidate's inlier correspondences
    h.set(cand.T.data);
    idxS.length = 0; idxT.length = 0;
    for (let k = 0; k < m; k++) if (residualSq(src[k]!, dst[k]!) <= d2) { idxS.push(src[k]!); idxT.push(dst[k]!); }
    const refit = idxS.length >= 3 ? rigidFit3(S, T, idxS, idxT, idxS.length, Matrix.identity(4)) : cand.T;
    for (const Tc of [refit, cand.T]) {
      const ev = evaluateTransform(source, tree, Tc, dist);
      if (!best || ev.fitness > best.fitness || (ev.fitness === best.fitness && ev.inlierRmse < best.inlierRmse)) {
        best = { transform: Tc.clone(), fitness: ev.fitness, inlierRmse: ev.inlierRmse, inlierCorrespondences: cand.inliers, correspondences: m, iterations: it, validHypotheses: valid, converged };
      }
    }
  }
  return best!;
}
