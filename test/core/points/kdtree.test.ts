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
});
