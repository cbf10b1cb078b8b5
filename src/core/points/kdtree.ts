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
  dim: number; size: number; pts: Float64Array; index: Int32Array; lo: Int32Array; hi: Int32Array;
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
    return { dim: this.dim, size: this.size, pts: this.pts, index: this.index, lo: this.lo, hi: this.hi, axis: this.axis, split: this.split, left: this.left, right: this.right };
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
  nearestRange(q: ArrayLike<number>, maxDistSq: number, idxOut: Int32Array, distOut: Float64Array, from: number, to: number): void {
    const d = this.dim, tmp = new Float64Array(1);
    for (let i = from; i < to; i++) {
      idxOut[i] = this.nearestInto(q, i * d, maxDistSq, tmp);
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

  /** Nearest neighbour of the point at q[qOff..qOff+dim); writes the squared distance into out[0]. */
  nearestInto(q: ArrayLike<number>, qOff: number, maxDistSq: number, out: Float64Array): number {
    if (this.size === 0) { out[0] = Infinity; return -1; }
    const d = this.dim, pts = this.pts;
    const q0 = q[qOff]!, q1 = q[qOff + 1]!, q2 = d > 2 ? q[qOff + 2]! : 0;
    let bestD = maxDistSq, bestI = -1;
    const stack = STACK;
    const sdist = SDIST;
    let sp = 0;
    stack[sp] = 0; sdist[sp] = 0; sp++;
    while (sp > 0) {
      sp--;
      if (sdist[sp]! >= bestD) continue;
      let node = stack[sp]!;
      // descend to a leaf, pushing far children
      for (;;) {
        const ax = this.axis[node]!;
        if (ax < 0) break;
        const diff = (ax === 0 ? q0 : ax === 1 ? q1 : ax === 2 ? q2 : q[qOff + ax]!) - this.split[node]!;
        const near = diff < 0 ? this.left[node]! : this.right[node]!;
        const far = diff < 0 ? this.right[node]! : this.left[node]!;
        const dd = diff * diff;
        if (dd < bestD) { stack[sp] = far; sdist[sp] = dd; sp++; }
        node = near;
      }
      const hi = this.hi[node]!;
      if (d === 3) {
        for (let i = this.lo[node]!; i < hi; i++) {
          const b = i * 3;
          const a = pts[b]! - q0, c = pts[b + 1]! - q1, e = pts[b + 2]! - q2;
          const dist = a * a + c * c + e * e;
          if (dist < bestD) { bestD = dist; bestI = i; }
        }
      } else if (d === 2) {
        for (let i = this.lo[node]!; i < hi; i++) {
          const b = i * 2;
          const a = pts[b]! - q0, c = pts[b + 1]! - q1;
          const dist = a * a + c * c;
          if (dist < bestD) { bestD = dist; bestI = i; }
        }
      } else {
        for (let i = this.lo[node]!; i < hi; i++) {
          let dist = 0;
          for (let j = 0; j < d; j++) { const a = pts[i * d + j]! - q[qOff + j]!; dist += a * a; }
          if (dist < bestD) { bestD = dist; bestI = i; }
        }
      }
    }
    out[0] = bestI < 0 ? Infinity : bestD;
    return bestI < 0 ? -1 : this.index[bestI]!;
  }

  /**
   * The k nearest neighbours of the point at q[qOff..], nearest first: original
   * indices into `idxOut` and squared distances into `distOut`. Returns the count found.
   */
  knnInto(q: ArrayLike<number>, qOff: number, k: number, idxOut: Int32Array, distOut: Float64Array): number {
    const d = this.dim, pts = this.pts;
    k = Math.min(k, this.size);
    if (k <= 0) return 0;
    // max-heap of size k on distOut/idxOut (tree-order indices while searching)
    let count = 0;
    const q0 = q[qOff]!, q1 = d > 1 ? q[qOff + 1]! : 0, q2 = d > 2 ? q[qOff + 2]! : 0;
    const push = (i: number, dist: number) => {
      if (count < k) {
        let c = count++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (distOut[p]! >= dist) break;
          distOut[c] = distOut[p]!; idxOut[c] = idxOut[p]!; c = p;
        }
        distOut[c] = dist; idxOut[c] = i;
      } else if (dist < distOut[0]!) {
        siftDown(distOut, idxOut, k, dist, i);
      }
    };
    const stack = STACK, sdist = SDIST;
    let sp = 0;
    stack[sp] = 0; sdist[sp] = 0; sp++;
    while (sp > 0) {
      sp--;
      if (count === k && sdist[sp]! >= distOut[0]!) continue;
      let node = stack[sp]!;
      for (;;) {
        const ax = this.axis[node]!;
        if (ax < 0) break;
        const diff = q[qOff + ax]! - this.split[node]!;
        const near = diff < 0 ? this.left[node]! : this.right[node]!;
        const far = diff < 0 ? this.right[node]! : this.left[node]!;
        const dd = diff * diff;
        if (count < k || dd < distOut[0]!) { stack[sp] = far; sdist[sp] = dd; sp++; }
        node = near;
      }
      const hi = this.hi[node]!;
      if (d === 3) {
        for (let i = this.lo[node]!; i < hi; i++) {
          const b = 3 * i;
          const a0 = pts[b]! - q0, a1 = pts[b + 1]! - q1, a2 = pts[b + 2]! - q2;
          const dist = a0 * a0 + a1 * a1 + a2 * a2;
          if (count < k || dist < distOut[0]!) push(i, dist);
        }
      } else {
        for (let i = this.lo[node]!; i < hi; i++) {
          let dist = 0;
          for (let j = 0; j < d; j++) { const a = pts[i * d + j]! - q[qOff + j]!; dist += a * a; }
          if (count < k || dist < distOut[0]!) push(i, dist);
        }
      }
    }
    // heap -> sorted ascending
    for (let end = count - 1; end > 0; end--) {
      const td = distOut[0]!, ti = idxOut[0]!;
      // sift the last element down from the root of [0, end)
      const ld = distOut[end]!, lid = idxOut[end]!;
      distOut[end] = td; idxOut[end] = ti;
      siftDown(distOut, idxOut, end, ld, lid);
    }
    for (let i = 0; i < count; i++) idxOut[i] = this.index[idxOut[i]!]!;
    return count;
  }
  /**
   * Neighbours of the point at q[qOff..] within distance `radius` (squared distances
   * <= radius²), nearest first, at most `max` of them (the nearest `max`, as Open3D's
   * hybrid search): original indices into `idxOut`, squared distances into `distOut`
   * (both of length >= max). Returns the count found.
   */
  radiusInto(q: ArrayLike<number>, qOff: number, radius: number, max: number, idxOut: Int32Array, distOut: Float64Array): number {
    const c = this.knnInto(q, qOff, max, idxOut, distOut);
    const r2 = radius * radius;
    let n = c;
    while (n > 0 && distOut[n - 1]! > r2) n--;
    return n;
  }
}

const SCRATCH = new Float64Array(1);
// depth is ~log2(n / LEAF) + 1; one far child pushed per level
const STACK = new Int32Array(256);
const SDIST = new Float64Array(256);

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
