/**
 * The plane helpers' loops (src/core/image/planes.ts, lowrank.ts rebuild) against element-wise
 * definitions, on contiguous matrices and on views (offset, stride > cols), every centring mode.
 */
import { describe, it, expect } from 'vitest';
import { Matrix } from '../../../src/core/linalg/index.js';
import { addMeanClamped, applyMean, clampInPlace, uncenteredNormSq } from '../../../src/core/image/planes.js';
import { rebuild } from '../../../src/core/image/lowrank.js';
import type { Centering } from '../../../src/core/ports.js';

function filled(m: number, n: number, seed: number): Matrix {
  const A = new Matrix(m, n);
  let x = seed;
  for (let i = 0; i < A.data.length; i++) { x = (x * 16807) % 2147483647; A.data[i] = 2 * (x / 2147483647) - 1; }
  return A;
}
const view = (M: Matrix) => M.block(2, M.rows - 1, 1, M.cols - 2); // offset and stride > cols
const meanFor = (mode: Centering['mode'], P: Matrix): Centering => ({
  mode,
  mean: Float64Array.from({ length: mode === 'row' ? P.rows : mode === 'column' ? P.cols : 1 }, (_, i) => 0.25 + i / 7),
});
const meanAt = (c: Centering, i: number, j: number) => (c.mode === 'none' ? 0 : c.mode === 'row' ? c.mean[i]! : c.mode === 'column' ? c.mean[j]! : c.mean[0]!);

describe('plane helpers', () => {
  for (const shape of ['contiguous', 'view'] as const) {
    const P = shape === 'view' ? view(filled(40, 25, 3)) : filled(37, 22, 3);
    for (const mode of ['none', 'global', 'row', 'column'] as const) {
      it(`applyMean ${mode} (${shape}): P ± mean element by element, into a new matrix or in place`, () => {
        const c = meanFor(mode, P);
        for (const sign of [1, -1] as const) {
          const out = applyMean(P, c, sign);
          for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) expect(out.get(i, j)).toBe(P.get(i, j) + sign * meanAt(c, i, j));
        }
        const big = filled(P.rows + 3, P.cols + 4, 9), into = big.block(1, P.rows + 1, 2, P.cols + 2);
        applyMean(P, c, 1, into);
        for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) expect(into.get(i, j)).toBe(P.get(i, j) + meanAt(c, i, j));
        expect(big.get(0, 0)).toBe(filled(P.rows + 3, P.cols + 4, 9).get(0, 0)); // outside the view: untouched
      });
      it(`uncenteredNormSq ${mode} (${shape}) = ‖P + mean‖²`, () => {
        const c = meanFor(mode, P);
        let want = 0;
        for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) want += (P.get(i, j) + meanAt(c, i, j)) ** 2;
        expect(uncenteredNormSq(P, c)).toBeCloseTo(want, 10);
      });
    }
    it(`clampInPlace (${shape}): values into [lo, hi], NaN kept, nothing outside the view touched`, () => {
      const base = shape === 'view' ? filled(40, 25, 5) : filled(37, 22, 5);
      const M = shape === 'view' ? view(base) : base;
      M.set(0, 0, NaN);
      const before = base.clone();
      clampInPlace(M, -0.5, 0.25);
      for (let i = 0; i < base.rows; i++) for (let j = 0; j < base.cols; j++) {
        const inView = shape === 'contiguous' || (i >= 2 && i < base.rows - 1 && j >= 1 && j < base.cols - 2);
        const v = before.get(i, j);
        expect(base.get(i, j)).toBe(!inView || Number.isNaN(v) ? v : Math.min(0.25, Math.max(-0.5, v)));
      }
    });
  }
  it('rebuild U_k S_k V_kᵀ from a view of U equals the explicit sum', () => {
    const U = view(filled(60, 12, 7)), V = filled(15, 9, 8), s = Float64Array.from({ length: 9 }, (_, i) => 3 - i / 4);
    const R = rebuild({ U, s, V, normSq: 0, rank: 9 }, 4);
    for (let i = 0; i < U.rows; i++) for (let j = 0; j < V.rows; j++) {
      let want = 0;
      for (let t = 0; t < 4; t++) want += U.get(i, t) * s[t]! * V.get(j, t);
      expect(R.get(i, j)).toBeCloseTo(want, 12);
    }
  });
  it('addMeanClamped (one pass) = P + mean clamped into the range, for every centring mode, views included', () => {
    const big = new Matrix(7, 9);
    for (let i = 0; i < big.data.length; i++) big.data[i] = Math.sin(i * 1.7) * 2; // values in [-2, 2]
    const P = big.block(1, 6, 2, 8); // 5 x 6 view, stride 9
    const means: Record<Centering['mode'], Float64Array> = {
      none: new Float64Array(0), global: Float64Array.of(0.3), row: Float64Array.from({ length: 5 }, (_, i) => i * 0.4 - 0.8), column: Float64Array.from({ length: 6 }, (_, j) => 0.5 - j * 0.3),
    };
    for (const mode of ['none', 'global', 'row', 'column'] as const) {
      const got = P.clone();
      addMeanClamped(got, { mode, mean: means[mode] }, -1, 1);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 6; j++) {
        const m = mode === 'none' ? 0 : mode === 'global' ? means.global[0]! : mode === 'row' ? means.row[i]! : means.column[j]!;
        expect(got.get(i, j)).toBe(Math.min(1, Math.max(-1, P.get(i, j) + m)));
      }
      // both ends are reached, so the clamp is exercised
      expect(got.data.some((v) => v === 1) && got.data.some((v) => v === -1)).toBe(true);
    }
  });
});
