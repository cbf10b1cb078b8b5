/**
 * A static k-d tree on flat typed arrays (no per-node objects): the points are
 * copied in tree order into one Float64Array, and each node is a few entries in
 * Int32Array/Float64Array tables. Built by median splits on the widest axis
 * (quickselect), with leaf buckets. Nearest neighbour and k nearest neighbours.
 *
 * Answers are canonical: among points at equal distance the lower point index wins (the
 * nearest neighbour is brute force's first minimum; the k nearest are the first k of the
 * points sorted by distance, then index). So an answer never depends on the order in which
 * cells are visited, on a starting bound (ICP's hint, a seeded k-th distance) or on which
 * thread asks.
 *
 * Searches go depth first, the nearer side first, and skip a subtree that cannot hold a nearer
 * point. Near a surface (a query with a close candidate, as ICP's hint, or the cloud's own
 * points) the bound is the split-plane cell (the incremental distance of Arya & Mount, as
 * nanoflann). A nearest-neighbour query without a candidate uses the tight bounding box each
 * 2-D/3-D node keeps instead: a point cloud is a surface, so most of a cell is empty space, and a
 * query off the surface (ICP's early iterations, most of them unmatched) is far from nearly every
 * box (the bunny ICP's searches: 2.3x faster over its 29 iterations, measured).
 */
import type { Matrix } from '../linalg/matrix.js';
import { moveRowInPlace } from './rigid.js';

const LEAF = 12;
/** doubles per node in the box table: lo x, y, z then hi x, y, z (2-D: z is 0, 0) */
const BOX = 6;

/** The arrays of a tree, enough to query it from another thread (shared memory: no copy). */
export interface KdTreeState {
  dim: number; size: number; pts: Float64Array; index: Int32Array; pos: Int32Array; lo: Int32Array; hi: Int32Array;
  axis: Int8Array; split: Float64Array; left: Int32Array; right: Int32Array; box: Float64Array;
}

let sharedTrees = false;
/** Runs subtree builds on the query team (query-team.ts sets it with the shared trees); undefined: one thread. */
type BuildTeam = (parts: { from: number; to: number; node: number }[], state: KdTreeState, src: Float64Array) => void;
let buildTeam: BuildTeam | undefined;
/**
 * Trees built from now on keep their arrays in shared memory (the query team's threads read them);
 * with `team`, large trees are built by subtrees over the team's threads.
 */
export function setSharedTrees(on: boolean, team?: BuildTeam): void {
  sharedTrees = on;
  buildTeam = on ? team : undefined;
}

/** Nodes of a subtree over m points (the build's split: m >> 1 points left, the rest right). */
const NODE_COUNTS = new Map<number, number>();
function nodeCount(m: number): number {
  if (m <= LEAF) return 1;
  let c = NODE_COUNTS.get(m);
  if (c === undefined) { c = 1 + nodeCount(m >> 1) + nodeCount(m - (m >> 1)); NODE_COUNTS.set(m, c); }
  return c;
}

/** Points per subtree built by one thread at least, when a tree is built over the query team. */
const BUILD_PER_PART = 4096;
function alloc<T extends Float64Array | Int32Array | Int8Array>(C: { new (n: number): T; new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return sharedTrees ? new C(new SharedArrayBuffer(n * C.BYTES_PER_ELEMENT)) : new C(n);
}

/** Squared distance from (q0, q1, q2) to box `node` of the table (0 inside). */
function boxDist(box: Float64Array, node: number, q0: number, q1: number, q2: number): number {
  const o = BOX * node;
  let s = 0, t = box[o]! - q0;
  if (t > 0) s = t * t; else { t = q0 - box[o + 3]!; if (t > 0) s = t * t; }
  t = box[o + 1]! - q1;
  if (t > 0) s += t * t; else { t = q1 - box[o + 4]!; if (t > 0) s += t * t; }
  t = box[o + 2]! - q2;
  if (t > 0) s += t * t; else { t = q2 - box[o + 5]!; if (t > 0) s += t * t; }
  return s;
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
  /** tight bounding box of each node's points, BOX doubles per node (2-D and 3-D trees) */
  private readonly box: Float64Array;

  /** The tree's arrays (shared when built with setSharedTrees(true)). */
  state(): KdTreeState {
    return { dim: this.dim, size: this.size, pts: this.pts, index: this.index, pos: this.pos, lo: this.lo, hi: this.hi, axis: this.axis, split: this.split, left: this.left, right: this.right, box: this.box };
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
   *
   * `move` (a (dim+1)x(dim+1) row-major transform): each query point is first moved by it in place
   * (as transformRowsInPlace does). `cert` (ICP's repeated searches; 2-D/3-D): per query, a distance
   * below which no tree point but its answer idxOut[i] lies (-1: none known). A query that moved by
   * less than that margin minus its answer's distance keeps its answer without a search (the triangle
   * inequality: every other point stays farther, so the answer is the canonical one, no tie possible);
   * the margin shrinks by each move. A searched query gets its answer and a new margin (the
   * second-nearest point's distance, or the bound's) from one search for its two nearest. The answers are those of searches for every query (test). Returns how
   * many answers were kept without a search.
   */
  nearestRange(q: Float64Array, maxDistSq: number, idxOut: Int32Array, distOut: Float64Array, from: number, to: number, warm = false, move?: Float64Array, cert?: Float64Array): number {
    const d = this.dim, tmp = new Float64Array(1), pos = this.pos;
    let kept = 0;
    const pts = this.pts, three = d === 3;
    const useCert = cert !== undefined && this.boxed;
    const k2i = useCert ? new Int32Array(2) : undefined, k2d = useCert ? new Float64Array(2) : undefined;
    const row = new Float64Array(d);
    for (let i = from; i < to; i++) {
      const b = i * d;
      let lim = useCert ? cert[i]! : -1;
      if (move) {
        // as transformRowsInPlace, and how far the point went
        moveRowInPlace(move, d, q, b, row);
        let m2 = 0;
        for (let r = 0; r < d; r++) m2 += (q[b + r]! - row[r]!) * (q[b + r]! - row[r]!);
        if (lim > 0) lim -= Math.sqrt(m2) * CERT_UP;
      }
      // warm: idxOut holds an earlier answer (ICP's last iteration), a near point to start from,
      // or -1: nothing was near then, the query is likely still off the surface
      const prev = warm ? idxOut[i]! : -2;
      if (useCert) {
        if (prev >= 0 && lim > 0) {
          // the earlier answer's distance now, as the searches compute it
          const c = pos[prev]! * d, q0 = q[b]!, q1 = q[b + 1]!;
          const a0 = pts[c]! - q0, a1 = pts[c + 1]! - q1;
          let dd = a0 * a0 + a1 * a1;
          if (three) { const a2 = pts[c + 2]! - q[b + 2]!; dd = a0 * a0 + a1 * a1 + a2 * a2; }
          if (dd < maxDistSq && Math.sqrt(dd) * CERT_UP < lim) {
            distOut[i] = dd;
            cert[i] = lim;
            kept++;
            continue;
          }
        }
      }
      if (useCert && prev !== -1) {
        // not known to be off the cloud (a match last time, or a first search): the two nearest in one search, the first the answer
        // (the same canonical point: nearest by distance, then index), the second the margin
        const c = this.knnInto(q, b, 2, k2i!, k2d!, maxDistSq);
        const found = c > 0 && k2d![0]! < maxDistSq;
        idxOut[i] = found ? k2i![0]! : -1;
        distOut[i] = found ? k2d![0]! : Infinity;
        cert[i] = found ? Math.sqrt(c > 1 ? k2d![1]! : maxDistSq) * CERT_DOWN : -1;
        continue;
      }
      const j = this.nearestInto(q, b, maxDistSq, tmp, prev >= 0 ? pos[prev]! : prev === -1 ? OFF_SURFACE : -1);
      idxOut[i] = j;
      distOut[i] = tmp[0]!;
      if (useCert) {
        // the margin: the second-nearest point's distance, or the bound's when none is within it (j,
        // strictly within the bound, is the two-nearest search's first: the same canonical nearest)
        cert[i] = j >= 0 ? Math.sqrt(this.knnInto(q, b, 2, k2i!, k2d!, maxDistSq) > 1 ? k2d![1]! : maxDistSq) * CERT_DOWN : -1;
      }
    }
    return kept;
  }

  constructor(points: Matrix) {
    const n = points.rows, d = points.cols;
    this.dim = d;
    this.size = n;
    const idx = alloc(Int32Array, n);
    for (let i = 0; i < n; i++) idx[i] = i;
    // a team build reads the points from the helpers' threads: copied once, into shared memory
    const team = buildTeam && n >= 2 * BUILD_PER_PART ? buildTeam : undefined;
    const src = team ? new Float64Array(new SharedArrayBuffer(8 * n * d)) : new Float64Array(n * d);
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
    this.box = alloc(Float64Array, this.boxed ? BOX * maxNodes : 0);
    this.index = idx;
    this.pos = alloc(Int32Array, n);
    this.pts = alloc(Float64Array, n * d);
    if (!team) {
      if (n > 0) buildNodes(this.state(), src, 0, n, 0);
      finishRange(this.state(), src, 0, n);
    } else {
      // the top levels here, down to subtrees of at most n / 8 points (and BUILD_PER_PART at
      // least); the subtrees over the team: the same nodes, numbered as depth first, in place
      const parts: { from: number; to: number; node: number }[] = [];
      const most = Math.max(BUILD_PER_PART, Math.ceil(n / 8));
      buildNodes(this.state(), src, 0, n, 0, (from, to, node) => {
        if (to - from > most) return false;
        parts.push({ from, to, node });
        return true;
      });
      team(parts, this.state(), src);
    }
  }

  /** Builds the subtree over idx[from..to) whose root is `node` (from another thread: a part of a team build), then its points' rows. */
  static buildPart(state: KdTreeState, src: Float64Array, from: number, to: number, node: number): void {
    buildNodes(state, src, from, to, node);
    finishRange(state, src, from, to);
  }

  /** 2-D and 3-D trees search by node boxes; others by split planes. */
  private get boxed(): boolean {
    return this.dim === 2 || this.dim === 3;
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
   * Nearest neighbour of the point at q[qOff..qOff+dim) (squared distance strictly below
   * maxDistSq; ties: the lowest index); writes the squared distance into out[0] (Infinity: none).
   * `hint` (a tree-order position, e.g. the previous answer's: `pos`) is only a first candidate,
   * and OFF_SURFACE (an earlier query from about here found nothing within the distance) only
   * chooses the search: the answer is the same as without a hint.
   */
  nearestInto(q: ArrayLike<number>, qOff: number, maxDistSq: number, out: Float64Array, hint = -1): number {
    if (this.size === 0) { out[0] = Infinity; return -1; }
    const d = this.dim;
    if (!this.boxed) return this.nearestGeneral(q, qOff, maxDistSq, out);
    const q0 = q[qOff]!, q1 = q[qOff + 1]!, q2 = d > 2 ? q[qOff + 2]! : 0;
    if (hint >= 0) {
      const pts = this.pts, b = hint * d;
      const a = pts[b]! - q0, c = pts[b + 1]! - q1;
      let hd = a * a + c * c;
      if (d > 2) { const e = pts[b + 2]! - q2; hd = a * a + c * c + e * e; }
      // a candidate within the bound: the query is near the cloud, where cells prune well
      if (hd < maxDistSq) return this.foundIndex(this.searchCells(q0, q1, q2, hd, hint, out), out);
    }
    // no candidate: by cells if the query's own cell holds a point within the bound (near the
    // cloud), else by boxes (off the surface)
    const r = hint === OFF_SURFACE ? NO_CELL : this.searchCells(q0, q1, q2, maxDistSq, -1, out);
    return this.foundIndex(r === NO_CELL ? this.searchBoxes(q0, q1, q2, maxDistSq, out) : r, out);
  }

  private foundIndex(bestI: number, out: Float64Array): number {
    if (bestI < 0) { out[0] = Infinity; return -1; }
    return this.index[bestI]!;
  }

  /**
   * Nearest neighbour by boxes: depth first from the root, the nearer child box first; a box
   * farther than the best distance so far is skipped. Only points strictly nearer than `bound`
   * count; a point replaces the best when nearer, or equally near with a lower index, so the
   * answer is the least (distance, index) pair whatever the visiting order.
   * Returns the tree-order position (-1: none), distance into out[0].
   */
  private searchBoxes(q0: number, q1: number, q2: number, bound: number, out: Float64Array): number {
    const pts = this.pts, box = this.box, left = this.left, right = this.right, axis = this.axis, los = this.lo, his = this.hi, index = this.index;
    const three = this.dim === 3;
    let bestD = bound, bestI = -1, bestO = -1;
    const stack = STACK, sdist = SDIST;
    let sp = 0, node = boxDist(box, 0, q0, q1, q2) <= bestD ? 0 : -1;
    while (node >= 0) {
      const ax = axis[node]!;
      if (ax >= 0) {
        const l = left[node]!, r = right[node]!;
        const dl = boxDist(box, l, q0, q1, q2), dr = boxDist(box, r, q0, q1, q2);
        let near = l, far = r, dn = dl, df = dr;
        if (dr < dl) { near = r; far = l; dn = dr; df = dl; }
        if (df <= bestD) { stack[sp] = far; sdist[sp] = df; sp++; }
        if (dn <= bestD) { node = near; continue; }
      } else {
        const hi = his[node]!;
        if (three) {
          for (let i = los[node]!; i < hi; i++) {
            const b = i * 3;
            const a = pts[b]! - q0, c = pts[b + 1]! - q1, e = pts[b + 2]! - q2;
            const dist = a * a + c * c + e * e;
            if (dist < bestD || (dist === bestD && bestI >= 0 && index[i]! < bestO)) { bestD = dist; bestI = i; bestO = index[i]!; }
          }
        } else {
          for (let i = los[node]!; i < hi; i++) {
            const b = i * 2;
            const a = pts[b]! - q0, c = pts[b + 1]! - q1;
            const dist = a * a + c * c;
            if (dist < bestD || (dist === bestD && bestI >= 0 && index[i]! < bestO)) { bestD = dist; bestI = i; bestO = index[i]!; }
          }
        }
      }
      // the next pushed box not farther than the best so far
      node = -1;
      while (sp > 0) { sp--; if (sdist[sp]! <= bestD) { node = stack[sp]!; break; } }
    }
    out[0] = bestD;
    return bestI;
  }

  /**
   * Nearest neighbour by cells, from a candidate `first` (a tree position at squared distance
   * `bound`): depth first from the root, nearer child first, with the incremental cell distance
   * of Arya & Mount (the sum of the squared per-axis gaps between q and the cell); a cell
   * farther than the best so far is skipped. The same tie rule as searchBoxes, so the same answer.
   * Without a candidate (first = -1) it returns NO_CELL when the first leaf, the one whose
   * cell holds q, has no point strictly within `bound`.
   */
  private searchCells(q0: number, q1: number, q2: number, bound: number, first: number, out: Float64Array): number {
    const pts = this.pts, axis = this.axis, split = this.split, left = this.left, right = this.right, los = this.lo, his = this.hi, index = this.index;
    const three = this.dim === 3;
    let bestD = bound, bestI = first, bestO = first >= 0 ? index[first]! : -1;
    let probe = first < 0;
    const stack = STACK, off = OFF;
    let sp = 0;
    stack[0] = 0; off[0] = 0; off[1] = 0; off[2] = 0; sp = 1;
    while (sp > 0) {
      sp--;
      const o = 3 * sp;
      const o0 = off[o]!, o1 = off[o + 1]!, o2 = off[o + 2]!;
      if (o0 * o0 + o1 * o1 + o2 * o2 > bestD) continue;
      let node = stack[sp]!;
      // descend to a leaf, pushing far children whose cell may hold a point as near
      for (;;) {
        const ax = axis[node]!;
        if (ax < 0) break;
        const diff = (ax === 0 ? q0 : ax === 1 ? q1 : q2) - split[node]!;
        let near, far;
        if (diff < 0) { near = left[node]!; far = right[node]!; } else { near = right[node]!; far = left[node]!; }
        const f0 = ax === 0 ? diff : o0, f1 = ax === 1 ? diff : o1, f2 = ax === 2 ? diff : o2;
        if (f0 * f0 + f1 * f1 + f2 * f2 <= bestD) {
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
          if (dist < bestD || (dist === bestD && bestI >= 0 && index[i]! < bestO)) { bestD = dist; bestI = i; bestO = index[i]!; }
        }
      } else {
        for (let i = los[node]!; i < hi; i++) {
          const b = i * 2;
          const a = pts[b]! - q0, c = pts[b + 1]! - q1;
          const dist = a * a + c * c;
          if (dist < bestD || (dist === bestD && bestI >= 0 && index[i]! < bestO)) { bestD = dist; bestI = i; bestO = index[i]!; }
        }
      }
      if (probe) {
        if (bestI < 0) return NO_CELL;
        probe = false;
      }
    }
    out[0] = bestD;
    return bestI;
  }

  /** nearestInto for other dimensions (split distance only; the same tie rule). */
  private nearestGeneral(q: ArrayLike<number>, qOff: number, maxDistSq: number, out: Float64Array): number {
    const d = this.dim, pts = this.pts, index = this.index;
    let bestD = maxDistSq, bestI = -1;
    const stack = STACK;
    const sdist = SDIST;
    let sp = 0;
    stack[sp] = 0; sdist[sp] = 0; sp++;
    while (sp > 0) {
      sp--;
      if (sdist[sp]! > bestD) continue;
      let node = stack[sp]!;
      for (;;) {
        const ax = this.axis[node]!;
        if (ax < 0) break;
        const diff = q[qOff + ax]! - this.split[node]!;
        const near = diff < 0 ? this.left[node]! : this.right[node]!;
        const far = diff < 0 ? this.right[node]! : this.left[node]!;
        const dd = diff * diff;
        if (dd <= bestD) { stack[sp] = far; sdist[sp] = dd; sp++; }
        node = near;
      }
      const hi = this.hi[node]!;
      for (let i = this.lo[node]!; i < hi; i++) {
        let dist = 0;
        for (let j = 0; j < d; j++) { const a = pts[i * d + j]! - q[qOff + j]!; dist += a * a; }
        if (dist < bestD || (dist === bestD && bestI >= 0 && index[i]! < index[bestI]!)) { bestD = dist; bestI = i; }
      }
    }
    out[0] = bestI < 0 ? Infinity : bestD;
    return bestI < 0 ? -1 : index[bestI]!;
  }

  /**
   * The k nearest neighbours of the point at q[qOff..], nearest first (ties: lower index
   * first): original indices into `idxOut` and squared distances into `distOut`. Returns the
   * count found. `bound`: only points with squared distance <= bound (radius search; default
   * all). A bound at or above the k-th nearest distance (e.g. from a neighbouring query's
   * neighbours) leaves the answer as it is and only skips work.
   */
  knnInto(q: ArrayLike<number>, qOff: number, k: number, idxOut: Int32Array, distOut: Float64Array, bound = Infinity): number {
    k = Math.min(k, this.size);
    if (k <= 0) return 0;
    if (!this.boxed) return finishKnn(distOut, idxOut, this.knnGeneral(q, qOff, k, idxOut, distOut, bound));
    return finishKnn(distOut, idxOut, this.knnHeap(q, qOff, k, idxOut, distOut, bound));
  }

  /**
   * The same k nearest neighbours as knnInto (the same set: nearest by distance, then index), but
   * listed by ascending original index, without their distances (distOut is scratch): for users of
   * the set whose sums need a fixed order but not nearest first (the PCA of a neighbourhood). Ordering
   * k indices costs far less than sorting the candidates' (distance, index) pairs.
   */
  knnSetInto(q: ArrayLike<number>, qOff: number, k: number, idxOut: Int32Array, distOut: Float64Array, bound = Infinity): number {
    k = Math.min(k, this.size);
    if (k <= 0) return 0;
    const c = this.boxed ? this.knnHeap(q, qOff, k, idxOut, distOut, bound) : this.knnGeneral(q, qOff, k, idxOut, distOut, bound);
    // insertion sort: k is small (tens), and this costs less than a typed-array sort call
    for (let a = 1; a < c; a++) {
      const v = idxOut[a]!;
      let b = a - 1;
      while (b >= 0 && idxOut[b]! > v) { idxOut[b + 1] = idxOut[b]!; b--; }
      idxOut[b + 1] = v;
    }
    return c;
  }

  /** The k-nearest search of a 2-D/3-D tree (k >= 1): the answer as a max-heap in idxOut/distOut; returns the count. */
  private knnHeap(q: ArrayLike<number>, qOff: number, k: number, idxOut: Int32Array, distOut: Float64Array, bound: number): number {
    const d = this.dim;
    const pts = this.pts, axis = this.axis, split = this.split, left = this.left, right = this.right, los = this.lo, his = this.hi, index = this.index;
    // max-heap of size k on (distOut, idxOut) by (distance, original index); a point enters
    // while the heap is not full when its distance is <= bound, then when below the heap's root
    let count = 0;
    const q0 = q[qOff]!, q1 = q[qOff + 1]!, q2 = d > 2 ? q[qOff + 2]! : 0;
    const three = d === 3;
    // the root's (distance, index), or (bound, +inf) until k are found: anything within bound enters
    let wd = bound, wo = 0x7fffffff;
    // by cells (searchCells): the queries are near the cloud (its own points, FPFH's keypoints).
    // The descent below is searchCells' own, written out again on purpose: one method for both
    // measured 5-10% more CPU in these searches (2026-11-30)
    const stack = STACK, off = OFF;
    let sp = 1;
    stack[0] = 0; off[0] = 0; off[1] = 0; off[2] = 0;
    while (sp > 0) {
      sp--;
      const o = 3 * sp;
      const o0 = off[o]!, o1 = off[o + 1]!, o2 = off[o + 2]!;
      if (!(o0 * o0 + o1 * o1 + o2 * o2 <= wd)) continue;
      let node = stack[sp]!;
      for (;;) {
        const ax = axis[node]!;
        if (ax < 0) break;
        const diff = (ax === 0 ? q0 : ax === 1 ? q1 : q2) - split[node]!;
        let near, far;
        if (diff < 0) { near = left[node]!; far = right[node]!; } else { near = right[node]!; far = left[node]!; }
        const f0 = ax === 0 ? diff : o0, f1 = ax === 1 ? diff : o1, f2 = ax === 2 ? diff : o2;
        if (f0 * f0 + f1 * f1 + f2 * f2 <= wd) {
          const w = 3 * sp;
          stack[sp] = far; off[w] = f0; off[w + 1] = f1; off[w + 2] = f2; sp++;
        }
        node = near;
      }
      const hi = his[node]!;
      for (let i = los[node]!; i < hi; i++) {
        let dist;
        if (three) {
          const b = 3 * i, a0 = pts[b]! - q0, a1 = pts[b + 1]! - q1, a2 = pts[b + 2]! - q2;
          dist = a0 * a0 + a1 * a1 + a2 * a2;
        } else {
          const b = 2 * i, a0 = pts[b]! - q0, a1 = pts[b + 1]! - q1;
          dist = a0 * a0 + a1 * a1;
        }
        if (!(dist <= wd)) continue;
        const oi = index[i]!;
        if (dist === wd && oi > wo) continue;
        count = heapOffer(distOut, idxOut, count, k, dist, oi);
        if (count === k) { wd = distOut[0]!; wo = idxOut[0]!; }
      }
    }
    return count;
  }

  /** knnHeap for other dimensions (split distance only; the same tie rule). */
  private knnGeneral(q: ArrayLike<number>, qOff: number, k: number, idxOut: Int32Array, distOut: Float64Array, bound: number): number {
    const d = this.dim, pts = this.pts, index = this.index;
    let count = 0;
    let wd = bound, wo = 0x7fffffff;
    const stack = STACK, sdist = SDIST;
    let sp = 0;
    stack[sp] = 0; sdist[sp] = 0; sp++;
    while (sp > 0) {
      sp--;
      if (!(sdist[sp]! <= wd)) continue;
      let node = stack[sp]!;
      for (;;) {
        const ax = this.axis[node]!;
        if (ax < 0) break;
        const diff = q[qOff + ax]! - this.split[node]!;
        const near = diff < 0 ? this.left[node]! : this.right[node]!;
        const far = diff < 0 ? this.right[node]! : this.left[node]!;
        const dd = diff * diff;
        if (dd <= wd) { stack[sp] = far; sdist[sp] = dd; sp++; }
        node = near;
      }
      const hi = this.hi[node]!;
      for (let i = this.lo[node]!; i < hi; i++) {
        let dist = 0;
        for (let j = 0; j < d; j++) { const a = pts[i * d + j]! - q[qOff + j]!; dist += a * a; }
        if (!(dist <= wd)) continue;
        const o = index[i]!;
        if (dist === wd && o > wo) continue;
        count = heapOffer(distOut, idxOut, count, k, dist, o);
        if (count === k) { wd = distOut[0]!; wo = idxOut[0]!; }
      }
    }
    return count;
  }
  /**
   * The largest squared distance from the point at q[qOff..] to the tree points with original
   * indices idx[0..count), each computed as the searches compute it: with count = k, a bound
   * at or above q's k-th nearest distance (knnInto's `bound`), e.g. from the neighbours of a
   * nearby query.
   */
  maxDistSq(q: ArrayLike<number>, qOff: number, idx: Int32Array, count: number): number {
    const d = this.dim, pts = this.pts, pos = this.pos;
    let m = 0;
    if (d === 3 || d === 2) {
      const q0 = q[qOff]!, q1 = q[qOff + 1]!, q2 = d > 2 ? q[qOff + 2]! : 0;
      for (let j = 0; j < count; j++) {
        const b = d * pos[idx[j]!]!;
        const a0 = pts[b]! - q0, a1 = pts[b + 1]! - q1;
        let dist = a0 * a0 + a1 * a1;
        if (d === 3) { const a2 = pts[b + 2]! - q2; dist = a0 * a0 + a1 * a1 + a2 * a2; }
        if (!(dist <= m)) m = dist;
      }
    } else {
      for (let j = 0; j < count; j++) {
        const b = d * pos[idx[j]!]!;
        let dist = 0;
        for (let c = 0; c < d; c++) { const a = pts[b + c]! - q[qOff + c]!; dist += a * a; }
        if (!(dist <= m)) m = dist;
      }
    }
    return m;
  }

  /**
   * Neighbours of the point at q[qOff..] within distance `radius` (squared distances
   * <= radius²), nearest first, at most `max` of them (the nearest `max`, as Open3D's
   * hybrid search): original indices into `idxOut`, squared distances into `distOut`
   * (both of length >= max). Returns the count found. `bound` (optional, squared): an upper
   * bound on the max-th nearest distance known beforehand: as knnInto's, it changes nothing but the work.
   */
  radiusInto(q: ArrayLike<number>, qOff: number, radius: number, max: number, idxOut: Int32Array, distOut: Float64Array, bound = Infinity): number {
    // the bound only skips cells and points beyond the radius: the same neighbours as the
    // nearest `max` cut at the radius
    const r2 = radius * radius;
    return this.knnInto(q, qOff, max, idxOut, distOut, Math.min(r2, bound));
  }
}

/**
 * Builds the subtree of idx[lo..hi) (points of src, row-major) rooted at `node`, its descendants
 * numbered depth first (left subtree next, then right: as one recursive build numbers them).
 * `stop(lo, hi, node)` may take a subtree over (true: not built here) before its split.
 */
function buildNodes(t: KdTreeState, src: Float64Array, lo: number, hi: number, node: number, stop?: (lo: number, hi: number, node: number) => boolean): void {
  if (stop?.(lo, hi, node)) return;
  const idx = t.index, d = t.dim, boxed = d === 2 || d === 3, leaf = hi - lo <= LEAF;
  t.lo[node] = lo;
  t.hi[node] = hi;
  let best = 0, bestSpread = -1;
  // the extent along each axis: the widest is split; in 2-D/3-D it is also the node's box
  if (!leaf || boxed) for (let j = 0; j < d; j++) {
    let mn = Infinity, mx = -Infinity;
    for (let i = lo; i < hi; i++) {
      const v = src[idx[i]! * d + j]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (boxed) { t.box[BOX * node + j] = mn; t.box[BOX * node + 3 + j] = mx; }
    if (mx - mn > bestSpread) { bestSpread = mx - mn; best = j; }
  }
  if (leaf) {
    t.axis[node] = -1;
    return;
  }
  const mid = (lo + hi) >> 1;
  select(src, idx, lo, hi - 1, mid, d, best);
  t.axis[node] = best;
  t.split[node] = src[idx[mid]! * d + best]!;
  const l = node + 1, r = l + nodeCount(mid - lo);
  t.left[node] = l;
  t.right[node] = r;
  buildNodes(t, src, lo, mid, l, stop);
  buildNodes(t, src, mid, hi, r, stop);
}

/** The tree-order rows of points idx[from..to) and their positions (after their subtree is built). */
function finishRange(t: KdTreeState, src: Float64Array, from: number, to: number): void {
  const idx = t.index, d = t.dim, pts = t.pts, pos = t.pos;
  for (let i = from; i < to; i++) {
    const o = idx[i]!;
    pos[o] = i;
    for (let j = 0; j < d; j++) pts[i * d + j] = src[o * d + j]!;
  }
}

const SCRATCH = new Float64Array(1);
/** nearestRange's certificates: distances rounded up / down by far more than sqrt's and a move's rounding */
const CERT_UP = 1 + 1e-9, CERT_DOWN = 1 - 1e-9;
/** nearestInto's hint when an earlier query from about the same place had no neighbour within the distance */
export const OFF_SURFACE = -2;
/** searchCells without a candidate: nothing within the bound in the query's own cell */
const NO_CELL = -2;
// depth is ~log2(n / LEAF) + 1; one far child pushed per level
const STACK = new Int32Array(256);
const SDIST = new Float64Array(256);
/** per stack entry: q's gap to the entry's cell along each axis (0 inside), for the incremental cell distance */
const OFF = new Float64Array(3 * 256);

/** Heap (original indices) to sorted ascending by (distance, index); returns count. */
function finishKnn(distOut: Float64Array, idxOut: Int32Array, count: number): number {
  for (let end = count - 1; end > 0; end--) {
    const td = distOut[0]!, ti = idxOut[0]!;
    const ld = distOut[end]!, lid = idxOut[end]!;
    distOut[end] = td; idxOut[end] = ti;
    siftDown(distOut, idxOut, end, ld, lid);
  }
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
 * Offers (d, id) to the max-heap of `count` entries in dist/idx (largest distance, then largest
 * index, on top) that keeps the k nearest: while it holds fewer than k it takes every entry
 * (sift up), then an entry the caller let through (nearer than the top, or as near with a
 * smaller index) replaces the top. Returns the new count.
 */
function heapOffer(dist: Float64Array, idx: Int32Array, count: number, k: number, d: number, id: number): number {
  if (count === k) {
    siftDown(dist, idx, k, d, id);
    return count;
  }
  let c = count;
  while (c > 0) {
    const p = (c - 1) >> 1, pd = dist[p]!;
    if (pd > d || (pd === d && idx[p]! > id)) break;
    dist[c] = pd; idx[c] = idx[p]!; c = p;
  }
  dist[c] = d; idx[c] = id;
  return count + 1;
}

/**
 * Max-heap on (dist, idx) over [0, size), ordered by distance then index: puts (d, id) in
 * place of the root and sifts it down (the k-nearest search replaces its farthest candidate;
 * the final sort pops the root).
 */
function siftDown(dist: Float64Array, idx: Int32Array, size: number, d: number, id: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1, r = l + 1;
    let m = c, md = d, mi = id;
    if (l < size) { const ld = dist[l]!; if (ld > md || (ld === md && idx[l]! > mi)) { m = l; md = ld; mi = idx[l]!; } }
    if (r < size) { const rd = dist[r]!; if (rd > md || (rd === md && idx[r]! > mi)) { m = r; md = rd; mi = idx[r]!; } }
    if (m === c) break;
    dist[c] = md; idx[c] = mi; c = m;
  }
  dist[c] = d; idx[c] = id;
}
