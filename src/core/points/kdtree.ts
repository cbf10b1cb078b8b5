/**
 * A static k-d tree on flat typed arrays (no per-node objects): the points are
 * copied in tree order into one Float64Array, and each node is a few entries in
 * Int32Array/Float64Array tables. Built by median splits on the widest axis
 * (quickselect), with leaf buckets. Nearest neighbour and k nearest neighbours.
 */
import type { Matrix } from '../linalg/matrix.js';

const LEAF = 12;

/** The arrays of a tree, enough to query it from another thread (shared memory: no copy). */
export interface KdTreeState {
  dim: number; size: number; pts: Float64Array; index: Int32Array; pos: Int32Array; lo: Int32Array; hi: Int32Array;
  axis: Int8Array; split: Float64Array; left: Int32Array; right: Int32Array;
}

let sharedTrees = false;
/** Trees built from now on keep their arrays in shared memory (the query team's threads read them). */
export function setSharedTrees(on: boolean): void {
  sharedTrees = on;
}
function alloc<T extends Float64Array | Int32Array | Int8Array>(C: { new (n: number): T; new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return sharedTrees ? new C(new SharedArrayBuffer(n * C.BYTES_PER_ELEMENT)) : new C(n);
}

export class KdTree {
  readonly dim: number;
  readonly size: number;
  /** points in tree order, size x dim */
  private readonly pts: Float64Array;
  /** original index of each point in tree order */
  readonly index: Int32Array;
  /** tree-order position of each original point (the inverse of index) */
  readonly pos: Int32Array;
  // node tables, built depth-first: node i's children at left[i], right[i]
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly axis: Int8Array;
  private readonly split: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private nodes = 0;

  /** The tree's arrays (shared when built with setSharedTrees(true)). */
  state(): KdTreeState {
    return { dim: this.dim, size: this.size, pts: this.pts, index: this.index, pos: this.pos, lo: this.lo, hi: this.hi, axis: this.axis, split: this.split, left: this.left, right: this.right };
  }

  /** True when another thread can query the tree without a copy. */
  get shared(): boolean {
    return this.pts.buffer instanceof SharedArrayBuffer && this.left.buffer instanceof SharedArrayBuffer;
  }

  /** A tree over the arrays of `state` (another thread's tree; nothing is copied). */
  static fromState(s: KdTreeState): KdTree {
    const t = Object.create(KdTree.prototype) as KdTree;
    Object.assign(t, s);
    return t;
  }

  /**
   * Nearest neighbours of the query points from..to-1 of q (row-major, dim values each):
   * original index (-1: none within sqrt(maxDistSq)) into idxOut[i], squared distance into distOut[i].
   */
  nearestRange(q: ArrayLike<number>, maxDistSq: number, idxOut: Int32Array, distOut: Float64Array, from: number, to: number, warm = false): void {
    const d = this.dim, tmp = new Float64Array(1), pos = this.pos;
    for (let i = from; i < to; i++) {
      // warm: idxOut holds an earlier answer (ICP's last iteration), a near point to start from
      const prev = warm ? idxOut[i]! : -1;
      idxOut[i] = this.nearestInto(q, i * d, maxDistSq, tmp, prev >= 0 ? pos[prev]! : -1);
      distOut[i] = tmp[0]!;
    }
  }

  constructor(points: Matrix) {
    const n = points.rows, d = points.cols;
    this.dim = d;
    this.size = n;
    const idx = alloc(Int32Array, n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const src = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const base = points.offset + i * points.stride;
      for (let j = 0; j < d; j++) src[i * d + j] = points.data[base + j]!;
    }
    const maxNodes = Math.max(1, 2 * Math.ceil(n / (LEAF / 2)) + 1);
    this.lo = alloc(Int32Array, maxNodes);
    this.hi = alloc(Int32Array, maxNodes);
    this.axis = alloc(Int8Array, maxNodes);
    this.split = alloc(Float64Array, maxNodes);
    this.left = alloc(Int32Array, maxNodes);
    this.right = alloc(Int32Array, maxNodes);
    if (n > 0) this.build(src, idx, 0, n);
    this.index = idx;
    this.pos = alloc(Int32Array, n);
    for (let i = 0; i < n; i++) this.pos[idx[i]!] = i;
    this.pts = alloc(Float64Array, n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) this.pts[i * d + j] = src[idx[i]! * d + j]!;
  }

  private build(src: Float64Array, idx: Int32Array, lo: number, hi: number): number {
    const node = this.nodes++;
    this.lo[node] = lo;
    this.hi[node] = hi;
    if (hi - lo <= LEAF) {
      this.axis[node] = -1;
      return node;
    }
    const d = this.dim;
    let best = 0, bestSpread = -1;
    for (let j = 0; j < d; j++) {
      let mn = Infinity, mx = -Infinity;
      for (let i = lo; i < hi; i++) {
        const v = src[idx[i]! * d + j]!;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      if (mx - mn > bestSpread) { bestSpread = mx - mn; best = j; }
    }
    const mid = (lo + hi) >> 1;
    select(src, idx, lo, hi - 1, mid, d, best);
    this.axis[node] = best;
    this.split[node] = src[idx[mid]! * d + best]!;
    this.left[node] = this.build(src, idx, lo, mid);
    this.right[node] = this.build(src, idx, mid, hi);
    return node;
  }

  /**
   * Nearest neighbour of q (length dim) among the tree points: original index,
   * squared distance. Returns -1 when no point is within sqrt(maxDistSq).
   */
  nearest(q: ArrayLike<number>, maxDistSq = Infinity): { index: number; distSq: number } {
    const r = this.nearestInto(q, 0, maxDistSq, SCRATCH);
    return { index: r, distSq: SCRATCH[0]! };
  }

  /**
   * Nearest neighbour of the point at q[qOff..qOff+dim); writes the squared distance into out[0].
   * `hint` (a tree-order position, e.g. the previous answer's: `pos`) only tightens the starting
   * bound: the answer is the same point as without it (see searchNearest).
   */
  nearestInto(q: ArrayLike<number>, qOff: number, maxDistSq: number, out: Float64Array, hint = -1): number {
    if (this.size === 0) { out[0] = Infinity; return -1; }
    const d = this.dim;
    if (d > 3) return this.nearestGeneral(q, qOff, maxDistSq, out);
    const q0 = q[qOff]!, q1 = q[qOff + 1]!, q2 = d > 2 ? q[qOff + 2]! : 0;
    let bound = maxDistSq;
    if (hint >= 0) {
      const pts = this.pts, b = hint * d;
      const a = pts[b]! - q0, c = pts[b + 1]! - q1, e = d > 2 ? pts[b + 2]! - q2 : 0;
      // strictly above the hint's distance (so the hint itself is accepted when visited), at most maxDistSq
      const hd = d > 2 ? a * a + c * c + e * e : a * a + c * c;
      const above = hd > 0 ? hd * (1 + 2 ** -52) : Number.MIN_VALUE;
      if (above < bound) bound = above;
    }
    const bestI = this.searchNearest(q0, q1, q2, bound, out);
    if (bestI < 0) { out[0] = Infinity; return -1; }
    return this.index[bestI]!;
  }

  /**
   * Depth-first search from the root, nearer child first, with the incremental box distance of
   * Arya & Mount (as nanoflann): a subtree is skipped when the sum of the squared per-axis gaps
   * between q and its cell is not below the best distance so far. Points are accepted when
   * strictly nearer than the best so far (initially `bound`), so the answer is the first point in
   * this fixed visiting order that attains the minimum: the same for any bound above the minimum
   * (a hint), and as with the plain split-distance test (the skipped cells hold no nearer point:
   * float rounding is monotone, so a point's computed distance is never below its cell's bound).
   * Returns the tree-order position (-1: none strictly within `bound`), distance into out[0].
   */
  private searchNearest(q0: number, q1: number, q2: number, bound: number, out: Float64Array): number {
    const pts = this.pts, axis = this.axis, split = this.split, left = this.left, right = this.right, los = this.lo, his = this.hi;
    const three = this.dim === 3;
    let bestD = bound, bestI = -1;
    const stack = STACK, off = OFF;
    let sp = 0;
    stack[0] = 0; off[0] = 0; off[1] = 0; off[2] = 0; sp = 1;
    while (sp > 0) {
      sp--;
      const o = 3 * sp;
      const o0 = off[o]!, o1 = off[o + 1]!, o2 = off[o + 2]!;
      if (o0 * o0 + o1 * o1 + o2 * o2 >= bestD) continue;
      let node = stack[sp]!;
      // descend to a leaf, pushing far children whose cell may hold a nearer point
      for (;;) {
        const ax = axis[node]!;
        if (ax < 0) break;
        const diff = (ax === 0 ? q0 : ax === 1 ? q1 : q2) - split[node]!;
        let near, far;
        if (diff < 0) { near = left[node]!; far = right[node]!; } else { near = right[node]!; far = left[node]!; }
        const f0 = ax === 0 ? diff : o0, f1 = ax === 1 ? diff : o1, f2 = ax === 2 ? diff : o2;
        if (f0 * f0 + f1 * f1 + f2 * f2 < bestD) {
          const w = 3 * sp;
          stack[sp] = far; off[w] = f0; off[w + 1] = f1; off[w + 2] = f2; sp++;
        }
        node = near;
      }
      const hi = his[node]!;
      if (three) {
        for (let i = los[node]!; i < hi; i++) {
          const b = i * 3;
          const a = pts[b]! - q0, c = pts[b + 1]! - q1, e = pts[b + 2]! - q2;
          const dist = a * a + c * c + e * e;
          if (dist < bestD) { bestD = dist; bestI = i; }
        }
      } else {
        for (let i = los[node]!; i < hi; i++) {
          const b = i * 2;
          const a = pts[b]! - q0, c = pts[b + 1]! - q1;
          const dist = a * a + c * c;
          if (dist < bestD) { bestD = dist; bestI = i; }
        }
      }
    }
    out[0] = bestD;
    return bestI;
  }

  /** nearestInto for more than 3 dimensions (split distance only). */
  private nearestGeneral(q: ArrayLike<number>, qOff: number, maxDistSq: number, out: Float64Array): number {
    const d = this.dim, pts = this.pts;
    let bestD = maxDistSq, bestI = -1;
    const stack = STACK;
    const sdist = SDIST;
    let sp = 0;
    stack[sp] = 0; sdist[sp] = 0; sp++;
    while (sp > 0) {
      sp--;
      if (sdist[sp]! >= bestD) continue;
      let node = stack[sp]!;
      for (;;) {
        const ax = this.axis[node]!;
        if (ax < 0) break;
        const diff = q[qOff + ax]! - this.split[node]!;
        const near = diff < 0 ? this.left[node]! : this.right[node]!;
        const far = diff < 0 ? this.right[node]! : this.left[node]!;
        const dd = diff * diff;
        if (dd < bestD) { stack[sp] = far; sdist[sp] = dd; sp++; }
        node = near;
      }
      const hi = this.hi[node]!;
      for (let i = this.lo[node]!; i < hi; i++) {
        let dist = 0;
        for (let j = 0; j < d; j++) { const a = pts[i * d + j]! - q[qOff + j]!; dist += a * a; }
        if (dist < bestD) { bestD = dist; bestI = i; }
      }
    }
    out[0] = bestI < 0 ? Infinity : bestD;
    return bestI < 0 ? -1 : this.index[bestI]!;
  }

  /**
   * The k nearest neighbours of the point at q[qOff..], nearest first: original
   * indices into `idxOut` and squared distances into `distOut`. Returns the count found.
   * `bound`: only points with squared distance <= bound (radius search; default all).
   */
  knnInto(q: ArrayLike<number>, qOff: number, k: number, idxOut: Int32Array, distOut: Float64Array, bound = Infinity): number {
    const d = this.dim, pts = this.pts;
    k = Math.min(k, this.size);
    if (k <= 0) return 0;
    if (d > 3) return this.knnGeneral(q, qOff, k, idxOut, distOut, bound);
    const axis = this.axis, split = this.split, left = this.left, right = this.right, los = this.lo, his = this.hi;
    // max-heap of size k on distOut/idxOut (tree-order indices while searching); a point enters
    // when its distance is <= bound while the heap is not full, then when below the heap's root
    let count = 0;
    const q0 = q[qOff]!, q1 = d > 1 ? q[qOff + 1]! : 0, q2 = d > 2 ? q[qOff + 2]! : 0;
    const three = d === 3;
    // until k are found, anything within `bound` enters (overflowed distances too, as Infinity <= Infinity)
    let worst = bound, full = false;
    const stack = STACK, off = OFF;
    let sp = 1;
    stack[0] = 0; off[0] = 0; off[1] = 0; off[2] = 0;
    while (sp > 0) {
      sp--;
      const o = 3 * sp;
      const o0 = off[o]!, o1 = off[o + 1]!, o2 = off[o + 2]!;
      const box = o0 * o0 + o1 * o1 + o2 * o2;
      if (full ? box >= worst : box > worst) continue;
      let node = stack[sp]!;
      let p0 = o0, p1 = o1, p2 = o2;
      for (;;) {
        const ax = axis[node]!;
        if (ax < 0) break;
        const diff = (ax === 0 ? q0 : ax === 1 ? q1 : q2) - split[node]!;
        let near, far;
        if (diff < 0) { near = left[node]!; far = right[node]!; } else { near = right[node]!; far = left[node]!; }
        const f0 = ax === 0 ? diff : p0, f1 = ax === 1 ? diff : p1, f2 = ax === 2 ? diff : p2;
        const fb = f0 * f0 + f1 * f1 + f2 * f2;
        if (full ? fb < worst : fb <= worst) {
          const w = 3 * sp;
          stack[sp] = far; off[w] = f0; off[w + 1] = f1; off[w + 2] = f2; sp++;
        }
        node = near;
      }
      p0 = p1 = p2 = 0;
      const hi = his[node]!;
      for (let i = los[node]!; i < hi; i++) {
        const b = three ? 3 * i : 2 * i;
        const a0 = pts[b]! - q0, a1 = pts[b + 1]! - q1;
        let dist = a0 * a0 + a1 * a1;
        if (three) { const a2 = pts[b + 2]! - q2; dist = a0 * a0 + a1 * a1 + a2 * a2; }
        if (full ? dist >= worst : !(dist <= worst)) continue;
        if (count < k) {
          let c = count++;
          while (c > 0) {
            const p = (c - 1) >> 1;
            if (distOut[p]! >= dist) break;
            distOut[c] = distOut[p]!; idxOut[c] = idxOut[p]!; c = p;
          }
          distOut[c] = dist; idxOut[c] = i;
          if (count === k) { worst = distOut[0]!; full = true; }
        } else {
          siftDown(distOut, idxOut, k, dist, i);
          worst = distOut[0]!;
        }
      }
    }
    return finishKnn(distOut, idxOut, count, this.index);
  }

  /** knnInto for more than 3 dimensions (split distance only). */
  private knnGeneral(q: ArrayLike<number>, qOff: number, k: number, idxOut: Int32Array, distOut: Float64Array, bound: number): number {
    const d = this.dim, pts = this.pts;
    let count = 0;
    // until k are found, anything within `bound` enters (overflowed distances too, as Infinity <= Infinity)
    let worst = bound, full = false;
    const stack = STACK, sdist = SDIST;
    let sp = 0;
    stack[sp] = 0; sdist[sp] = 0; sp++;
    while (sp > 0) {
      sp--;
      if (full ? sdist[sp]! >= worst : sdist[sp]! > worst) continue;
      let node = stack[sp]!;
      for (;;) {
        const ax = this.axis[node]!;
        if (ax < 0) break;
        const diff = q[qOff + ax]! - this.split[node]!;
        const near = diff < 0 ? this.left[node]! : this.right[node]!;
        const far = diff < 0 ? this.right[node]! : this.left[node]!;
        const dd = diff * diff;
        if (full ? dd < worst : dd <= worst) { stack[sp] = far; sdist[sp] = dd; sp++; }
        node = near;
      }
      const hi = this.hi[node]!;
      for (let i = this.lo[node]!; i < hi; i++) {
        let dist = 0;
        for (let j = 0; j < d; j++) { const a = pts[i * d + j]! - q[qOff + j]!; dist += a * a; }
        if (full ? dist >= worst : !(dist <= worst)) continue;
        if (count < k) {
          let c = count++;
          while (c > 0) {
            const p = (c - 1) >> 1;
            if (distOut[p]! >= dist) break;
            distOut[c] = distOut[p]!; idxOut[c] = idxOut[p]!; c = p;
          }
          distOut[c] = dist; idxOut[c] = i;
          if (count === k) { worst = distOut[0]!; full = true; }
        } else {
          siftDown(distOut, idxOut, k, dist, i);
          worst = distOut[0]!;
        }
      }
    }
    return finishKnn(distOut, idxOut, count, this.index);
  }
  /**
   * Neighbours of the point at q[qOff..] within distance `radius` (squared distances
   * <= radius²), nearest first, at most `max` of them (the nearest `max`, as Open3D's
   * hybrid search): original indices into `idxOut`, squared distances into `distOut`
   * (both of length >= max). Returns the count found.
   */
  radiusInto(q: ArrayLike<number>, qOff: number, radius: number, max: number, idxOut: Int32Array, distOut: Float64Array): number {
    // the bound only skips cells and points beyond the radius: the same neighbours as the
    // nearest `max` cut at the radius
    const r2 = radius * radius;
    const c = this.knnInto(q, qOff, max, idxOut, distOut, r2);
    let n = c;
    while (n > 0 && distOut[n - 1]! > r2) n--;
    return n;
  }
}

const SCRATCH = new Float64Array(1);
// depth is ~log2(n / LEAF) + 1; one far child pushed per level
const STACK = new Int32Array(256);
const SDIST = new Float64Array(256);
/** per stack entry: q's gap to the entry's cell along each axis (0 inside), for the incremental box distance */
const OFF = new Float64Array(3 * 256);

/** Heap (tree-order indices) to sorted ascending with original indices; returns count. */
function finishKnn(distOut: Float64Array, idxOut: Int32Array, count: number, index: Int32Array): number {
  for (let end = count - 1; end > 0; end--) {
    const td = distOut[0]!, ti = idxOut[0]!;
    const ld = distOut[end]!, lid = idxOut[end]!;
    distOut[end] = td; idxOut[end] = ti;
    siftDown(distOut, idxOut, end, ld, lid);
  }
  for (let i = 0; i < count; i++) idxOut[i] = index[idxOut[i]!]!;
  return count;
}

/** Quickselect on idx[lo..hi] so that idx[k] has the k-th smallest coordinate `ax`. */
function select(src: Float64Array, idx: Int32Array, lo: number, hi: number, k: number, d: number, ax: number): void {
  while (hi > lo) {
    const m = (lo + hi) >> 1;
    // median of three as pivot
    const a = src[idx[lo]! * d + ax]!, b = src[idx[m]! * d + ax]!, c = src[idx[hi]! * d + ax]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo, j = hi;
    while (i <= j) {
      while (src[idx[i]! * d + ax]! < pivot) i++;
      while (src[idx[j]! * d + ax]! > pivot) j--;
      if (i <= j) {
        const t = idx[i]!; idx[i] = idx[j]!; idx[j] = t;
        i++; j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * Max-heap on (dist, idx) over [0, size): puts (d, id) in place of the root and sifts it down
 * (the k-nearest search replaces its farthest candidate; the final sort pops the root).
 */
function siftDown(dist: Float64Array, idx: Int32Array, size: number, d: number, id: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1, r = l + 1;
    let m = c, md = d;
    if (l < size && dist[l]! > md) { m = l; md = dist[l]!; }
    if (r < size && dist[r]! > md) { m = r; md = dist[r]!; }
    if (m === c) break;
    dist[c] = dist[m]!; idx[c] = idx[m]!; c = m;
  }
  dist[c] = d; idx[c] = id;
}
