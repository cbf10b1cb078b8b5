import { describe, it, expect } from 'vitest';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { KdTree } from '../../../src/core/points/kdtree.js';

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

describe('KdTree', () => {
  for (const d of [2, 3, 5]) {
    it(`nearest neighbour equals brute force (${d}-D, 2000 points, 300 queries)`, () => {
      const P = cloud(2000, d, d), Q = cloud(300, d, 100 + d);
      const t = new KdTree(P);
      for (let k = 0; k < Q.rows; k++) {
        const r = t.nearest(Q.row(k));
        const b = brute(P, Q.row(k))[0]!;
        expect(r.distSq).toBe(b.d);
        expect(P.get(r.index, 0)).toBe(P.get(b.i, 0));
      }
    });
  }
  it('k nearest neighbours, sorted, equal brute force; duplicates handled', () => {
    const P = cloud(1500, 3, 7, true); // many identical points
    const Q = cloud(50, 3, 8);
    const t = new KdTree(P);
    const idx = new Int32Array(12), dist = new Float64Array(12);
    for (let k = 0; k < Q.rows; k++) {
      const c = t.knnInto(Q.data, k * 3, 12, idx, dist);
      expect(c).toBe(12);
      const b = brute(P, Q.row(k)).slice(0, 12).map((x) => x.d);
      expect(Array.from(dist)).toEqual(b);
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
      if (dup) {
        // control: with ties, a different visiting order would pick other points: the brute-force first index is not always it
        const b = Array.from({ length: Q.rows }, (_, k) => brute(P, Q.row(k))[0]!.i);
        expect(b.some((i, k) => i !== cold[k])).toBe(true);
      }
    }
  });
});
