import { describe, it, expect } from 'vitest';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { KdTree, OFF_SURFACE } from '../../../src/core/points/kdtree.js';
import { axisAngle } from '../../../src/core/points/rigid.js';

function cloud(n: number, d: number, seed: number, dup = false): Matrix {
  const r = seededRandom(seed);
  const m = new Matrix(n, d);
  for (let i = 0; i < n * d; i++) m.data[i] = dup ? Math.round(r.next() * 4) : r.next() * 10 - 5;
  return m;
}

function brute(P: Matrix, q: ArrayLike<number>): { i: number; d: number }[] {
  const out = [];
  for (let i = 0; i < P.rows; i++) {
    let s = 0;
    for (let j = 0; j < P.cols; j++) s += (P.get(i, j) - q[j]!) ** 2;
    out.push({ i, d: s });
  }
  return out.sort((a, b) => a.d - b.d || a.i - b.i);
}


/** A rigid 4x4 (row-major, as ICP's moves) from a 3x3 rotation (or none) and a translation. */
function homogeneousOf(R: Matrix | undefined, t: number[]): Float64Array {
  const M = new Float64Array(16);
  for (let r = 0; r < 3; r++) { for (let c = 0; c < 3; c++) M[4 * r + c] = R ? R.get(r, c) : r === c ? 1 : 0; M[4 * r + 3] = t[r]!; }
  M[15] = 1;
  return M;
}
const axisAngleOf = (axis: number[], deg: number) => axisAngle(axis, deg);

describe('KdTree', () => {
  for (const d of [2, 3, 5]) {
    it(`nearest neighbour equals brute force (${d}-D, 2000 points, 300 queries)`, () => {
      const P = cloud(2000, d, d), Q = cloud(300, d, 100 + d);
      const t = new KdTree(P);
      for (let k = 0; k < Q.rows; k++) {
        const r = t.nearest(Q.row(k));
        const b = brute(P, Q.row(k))[0]!;
        expect(r.distSq).toBe(b.d);
        expect(r.index).toBe(b.i);
      }
    });
  }
  for (const d of [2, 3]) {
    it(`nearest, k nearest and radius search: ties go to the lower index, as brute force (${d}-D integer grid, many equal distances)`, () => {
      const P = cloud(1200, d, 30 + d, true), Q = cloud(200, d, 40 + d, true);
      const t = new KdTree(P);
      const idx = new Int32Array(20), dist = new Float64Array(20);
      let ties = 0;
      for (let k = 0; k < Q.rows; k++) {
        const b = brute(P, Q.row(k));
        if (b[1]!.d === b[0]!.d) ties++;
        expect(t.nearest(Q.row(k)).index).toBe(b[0]!.i);
        const c = t.knnInto(Q.data, k * d, 20, idx, dist);
        expect(Array.from(idx.subarray(0, c))).toEqual(b.slice(0, 20).map((x) => x.i));
        const r = t.radiusInto(Q.data, k * d, 1.5, 20, idx, dist);
        expect(Array.from(idx.subarray(0, r))).toEqual(b.filter((x) => x.d <= 2.25).slice(0, 20).map((x) => x.i));
      }
      expect(ties).toBeGreaterThan(100); // the control: the grid does make ties
    });
  }
  for (const d of [2, 3, 5]) {
    it(`k nearest as a set (knnSetInto, ${d}-D integer grid, ties): brute force's first k, listed by ascending index, whatever the bound`, () => {
      const P = cloud(1500, d, 60 + d, true), Q = cloud(150, d, 70 + d, true);
      const t = new KdTree(P);
      const idx = new Int32Array(30), dist = new Float64Array(30);
      let ties = 0;
      for (let k = 0; k < Q.rows; k++) {
        const b = brute(P, Q.row(k));
        if (b[29]!.d === b[30]!.d) ties++; // the 30th and 31st equally far: the index decides
        const want = b.slice(0, 30).map((x) => x.i).sort((x, y) => x - y);
        expect(Array.from(idx.subarray(0, t.knnSetInto(Q.data, k * d, 30, idx, dist)))).toEqual(want);
        // a bound at the 30th distance itself, and a loose one: the same set, the same order
        expect(Array.from(idx.subarray(0, t.knnSetInto(Q.data, k * d, 30, idx, dist, b[29]!.d)))).toEqual(want);
        expect(Array.from(idx.subarray(0, t.knnSetInto(Q.data, k * d, 30, idx, dist, 4 * b[29]!.d + 1)))).toEqual(want);
      }
      expect(ties).toBeGreaterThan(20); // the control: the grid does make ties at the cut
    });
  }
  it('a bound at or above the k-th distance (a neighbouring query\'s neighbours) changes no answer, ties included', () => {
    for (const dup of [false, true]) {
      const P = cloud(2000, 3, 50, dup);
      const t = new KdTree(P);
      const want = new Int32Array(30), wd = new Float64Array(30), idx = new Int32Array(30), dist = new Float64Array(30);
      for (let i = 1; i < 400; i++) {
        t.knnInto(P.data, (i - 1) * 3, 30, idx, dist);
        // every neighbour of point i - 1 bounds point i's 30th distance from above
        let seed = 0;
        for (const j of idx) seed = Math.max(seed, (P.get(j, 0) - P.get(i, 0)) ** 2 + (P.get(j, 1) - P.get(i, 1)) ** 2 + (P.get(j, 2) - P.get(i, 2)) ** 2);
        t.knnInto(P.data, i * 3, 30, want, wd);
        expect(t.knnInto(P.data, i * 3, 30, idx, dist, seed * (1 + 1e-12))).toBe(30);
        expect(Array.from(idx)).toEqual(Array.from(want));
        expect(Array.from(dist)).toEqual(Array.from(wd));
      }
    }
  });
  it('queries far off a surface cloud (ICP\'s first iterations): nearest within a distance as brute force', () => {
    // points on a sphere of radius 1; queries anywhere in the cube [-2, 2]^3
    const r = seededRandom(60);
    const P = new Matrix(3000, 3), Q = new Matrix(400, 3);
    for (let i = 0; i < P.rows; i++) {
      const u = 2 * r.next() - 1, a = 2 * Math.PI * r.next(), s = Math.sqrt(1 - u * u);
      P.data.set([s * Math.cos(a), s * Math.sin(a), u], 3 * i);
    }
    for (let i = 0; i < Q.data.length; i++) Q.data[i] = 4 * r.next() - 2;
    const t = new KdTree(P);
    let none = 0;
    for (let k = 0; k < Q.rows; k++) {
      const b = brute(P, Q.row(k))[0]!;
      const got = t.nearest(Q.row(k), 0.09);
      if (b.d < 0.09) { expect(got.index).toBe(b.i); expect(got.distSq).toBe(b.d); } else { expect(got.index).toBe(-1); none++; }
      // the off-surface hint (an earlier query found nothing) only picks the search by boxes: the same answer
      const out = new Float64Array(1);
      expect(t.nearestInto(Q.data, 3 * k, 0.09, out, OFF_SURFACE)).toBe(got.index);
      expect(out[0]).toBe(b.d < 0.09 ? b.d : Infinity);
      expect(t.nearestInto(Q.data, 3 * k, Infinity, out, OFF_SURFACE)).toBe(b.i);
    }
    expect(none).toBeGreaterThan(100);
  });
  it('k nearest neighbours, sorted, equal brute force; duplicates handled', () => {
    const P = cloud(1500, 3, 7, true); // many identical points
    const Q = cloud(50, 3, 8);
    const t = new KdTree(P);
    const idx = new Int32Array(12), dist = new Float64Array(12);
    for (let k = 0; k < Q.rows; k++) {
      const c = t.knnInto(Q.data, k * 3, 12, idx, dist);
      expect(c).toBe(12);
      const b = brute(P, Q.row(k)).slice(0, 12);
      expect(Array.from(dist)).toEqual(b.map((x) => x.d));
      expect(Array.from(idx)).toEqual(b.map((x) => x.i)); // ties: the lower index first
    }
  });
  it('a distance bound returns -1 when nothing is near; tiny and empty trees', () => {
    const t = new KdTree(Matrix.from2D([[0, 0], [10, 0]]));
    expect(t.nearest([4, 0]).index).toBe(0);
    expect(t.nearest([6, 0]).index).toBe(1);
    expect(t.nearest([5, 3], 4).index).toBe(-1);
    expect(new KdTree(new Matrix(0, 3)).nearest([0, 0, 0]).index).toBe(-1);
  });

  it('radius search (hybrid, at most max): the nearest max within the radius, as brute force', () => {
    const P = cloud(3000, 3, 11), Q = cloud(80, 3, 12);
    const t = new KdTree(P);
    const idx = new Int32Array(40), dist = new Float64Array(40);
    for (const r of [0.4, 1.2, 3]) for (let k = 0; k < Q.rows; k++) {
      const c = t.radiusInto(Q.data, k * 3, r, 40, idx, dist);
      const b = brute(P, Q.row(k)).filter((x) => x.d <= r * r).slice(0, 40);
      expect(c).toBe(b.length);
      expect(Array.from(dist.subarray(0, c))).toEqual(b.map((x) => x.d));
      expect(Array.from(idx.subarray(0, c))).toEqual(b.map((x) => x.i)); // distinct distances: the same points
    }
  });
  it('nearest with margins (ICP\'s repeated searches as its source moves): every step the answers of brute force, ties included; most kept without a search', () => {
    const bruteAll = (P: Matrix, q: Float64Array, n: number, bound: number) => {
      const idx = new Int32Array(n).fill(-1), dist = new Float64Array(n).fill(Infinity);
      for (let i = 0; i < n; i++) for (let j = 0; j < P.rows; j++) {
        const a = P.data[3 * j]! - q[3 * i]!, b = P.data[3 * j + 1]! - q[3 * i + 1]!, c = P.data[3 * j + 2]! - q[3 * i + 2]!;
        const dd = a * a + b * b + c * c;
        if (dd < bound && (dd < dist[i]! || (dd === dist[i]! && j < idx[i]!))) { dist[i] = dd; idx[i] = j; }
      }
      return { idx, dist };
    };
    const rng = seededRandom(77);
    // a wavy sheet (a surface, as ICP's clouds) and an integer grid whose half-unit moves make exact ties
    const sheet = new Matrix(4000, 3);
    for (let i = 0; i < 4000; i++) { const x = rng.next() * 4, y = rng.next() * 4; sheet.data.set([x, y, 0.3 * Math.sin(2 * x) * Math.cos(y)], 3 * i); }
    const grid = cloud(1500, 3, 91, true);
    for (const [P, moves, bound] of [
      [sheet, [[0, 0, 1], 2, 0.02], 0.3 ** 2],
      [grid, [[0, 0, 0], 0, 0.25], 1.6],
    ] as const) {
      const t = new KdTree(P);
      const n = 1500;
      const q = new Float64Array(3 * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) q[3 * i + j] = P.data[3 * (i % P.rows) + j]! + (P === grid ? 0.5 : 0.05 * (rng.next() - 0.5));
      const idx = new Int32Array(n), dist = new Float64Array(n), cert = new Float64Array(n).fill(-1);
      let kept = 0;
      for (let step = 0; step < 8; step++) {
        // a rotation about `axis` by a shrinking angle and a shrinking shift (the grid: exact quarter units along x)
        const [axis, deg, shift] = moves;
        const f = 0.5 ** step;
        const M = homogeneousOf(deg ? axisAngleOf([...axis], deg * f) : undefined, P === grid ? [step % 2 ? 0.25 : -0.25, 0, 0] : [shift * f, -shift * f, 0]);
        const k = t.nearestRange(q, bound, idx, dist, 0, n, step > 0, step > 0 ? M : undefined, cert);
        if (step >= 3 && P === sheet) kept += k;
        const b = bruteAll(P, q, n, bound);
        expect(Array.from(idx), `step ${step}`).toEqual(Array.from(b.idx));
        expect(Array.from(dist), `step ${step}`).toEqual(Array.from(b.dist));
      }
      if (P === sheet) expect(kept).toBeGreaterThan(0.5 * 5 * n); // the control: margins did keep most answers in the small moves
    }
  });
  it('nearest from a hint (ICP\'s last match): the same point as without, ties included', () => {
    for (const dup of [false, true]) {
      const P = cloud(2000, 3, 21, dup), Q = cloud(500, 3, 22, dup); // dup: integer grid, many equal distances
      const t = new KdTree(P);
      const cold = new Int32Array(Q.rows), cd = new Float64Array(Q.rows);
      t.nearestRange(Q.data, Infinity, cold, cd, 0, Q.rows);
      for (const maxD of [Infinity, 0.8, 2]) {
        // hints: the answer itself, an unrelated point, and none
        for (const hint of [cold, Int32Array.from(cold, (_, i) => (7 * i) % P.rows), new Int32Array(Q.rows).fill(-1)]) {
          const want = new Int32Array(Q.rows), wd = new Float64Array(Q.rows);
          t.nearestRange(Q.data, maxD, want, wd, 0, Q.rows);
          const idx = hint.slice(), dist = new Float64Array(Q.rows);
          t.nearestRange(Q.data, maxD, idx, dist, 0, Q.rows, true);
          expect(Array.from(idx)).toEqual(Array.from(want));
          expect(Array.from(dist)).toEqual(Array.from(wd));
        }
      }
      // ties go to the lower index: brute force's first minimum
      expect(Array.from(cold)).toEqual(Array.from({ length: Q.rows }, (_, k) => brute(P, Q.row(k))[0]!.i));
    }
  });
});
