import { describe, it, expect, beforeAll } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import { svd } from '../../src/stages/svd.js';
import { center } from '../../src/stages/center.js';
import { truncate } from '../../src/stages/truncate.js';
import { reconstruct } from '../../src/stages/reconstruct.js';
import { Matrix } from '../../src/core/linalg/index.js';
import type { Factorization, Image, MatrixValue } from '../../src/core/ports.js';
import { decayingGray, maxAbsDiff } from './image-fixtures.js';

const img = decayingGray(50, 40);
let f: Factorization;
beforeAll(async () => {
  f = (await lastValueFrom(of(img).pipe(center(), svd({ solver: 'exact' })))) as Factorization;
});

describe('reconstruct', () => {
  it('rank-k error measured on the rebuilt image (mean added back) equals sqrt(Σ_{i>k} σᵢ²)/‖A‖ to 1e-9', async () => {
    const A = img.planes[0]!.data;
    const normA = Math.sqrt(A.reduce((a, v) => a + v * v, 0));
    const s = f.factors[0]!.s;
    for (const k of [1, 3, 8, 20, 40]) {
      const r = (await lastValueFrom(of(f).pipe(reconstruct({ rank: k, clamp: false })))) as Image;
      let se = 0;
      for (let i = 0; i < A.length; i++) se += (A[i]! - r.planes[0]!.data[i]!) ** 2;
      let tail = 0;
      for (let i = k; i < s.length; i++) tail += s[i]! ** 2;
      expect(Math.abs(Math.sqrt(se) / normA - Math.sqrt(tail) / normA)).toBeLessThan(1e-9);
      expect(r.centering).toBeUndefined();
    }
  });

  it('full rank returns the input; default rank is the truncated one; clamp to [0, 1]', async () => {
    const r = (await lastValueFrom(of(f).pipe(reconstruct({ clamp: false })))) as Image;
    expect(maxAbsDiff(r.planes[0]!.data, img.planes[0]!.data)).toBeLessThan(1e-12);
    const t = (await lastValueFrom(of(f).pipe(truncate({ rank: 2 }), reconstruct()))) as Image;
    const two = (await lastValueFrom(of(f).pipe(reconstruct({ rank: 2 })))) as Image;
    expect(maxAbsDiff(t.planes[0]!.data, two.planes[0]!.data)).toBe(0);
    expect(Math.min(...t.planes[0]!.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...t.planes[0]!.data)).toBeLessThanOrEqual(1);
  });

  it('a list of ranks emits one value per rank named -r<rank>', async () => {
    const out = (await lastValueFrom(of(f).pipe(reconstruct({ rank: [1, 5, 10] }), toArray()))) as Array<Image | MatrixValue>;
    expect(out.map((o) => o.name)).toEqual(['decay-r1', 'decay-r5', 'decay-r10']);
  });

  it('a Matrix template gives a Matrix with the row mean added back', async () => {
    const X = Matrix.from2D([[1, 2, 3], [2, 4, 7], [0, 1, 1]]);
    const g = (await lastValueFrom(of({ kind: 'Matrix' as const, name: 'X', matrix: X.clone() }).pipe(center({ mode: 'row' }), svd(), reconstruct()))) as MatrixValue;
    expect(g.kind).toBe('Matrix');
    expect(maxAbsDiff(g.matrix.data, X.data)).toBeLessThan(1e-12);
  });

  it('rank above what svd computed says how to fix it', async () => {
    const small = (await lastValueFrom(of(img).pipe(svd({ rank: 5 })))) as Factorization;
    await expect(lastValueFrom(of(small).pipe(reconstruct({ rank: 6 })))).rejects.toThrow(/svd step computed only 5 singular values/);
    await expect(lastValueFrom(of(f).pipe(reconstruct({ rank: 41 })))).rejects.toThrow(/rank 41 is larger than min\(rows, cols\) = min\(50, 40\) = 40/);
  });
});
