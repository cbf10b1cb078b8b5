import { describe, it, expect } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { svd } from '../../src/stages/svd.js';
import { center } from '../../src/stages/center.js';
import { Matrix, matmulT, frobeniusNormSq } from '../../src/core/linalg/index.js';
import { InputError } from '../../src/core/errors.js';
import type { Factorization, Image } from '../../src/core/ports.js';
import { randomGray, decayingGray, maxAbsDiff } from './image-fixtures.js';

const run = (v: Image, params: Parameters<typeof svd>[0] = {}) => lastValueFrom(of(v).pipe(center(), svd(params))) as Promise<Factorization>;

describe('svd', () => {
  it('factorises each plane: U diag(s) Vᵀ equals the centred plane; norms kept for exact tails', async () => {
    const img = randomGray(40, 30);
    const f = await run(img);
    expect(f.factors.length).toBe(1);
    const F = f.factors[0]!;
    expect([F.U.rows, F.U.cols, F.V.rows, F.s.length, F.rank]).toEqual([40, 30, 30, 30, 30]);
    const US = F.U.clone();
    for (let i = 0; i < 40; i++) for (let j = 0; j < 30; j++) US.data[i * 30 + j]! *= F.s[j]!;
    const mean = img.planes[0]!.data.reduce((a, b) => a + b, 0) / 1200;
    const A = img.planes[0]!.data.map((v) => v - mean);
    expect(maxAbsDiff(matmulT(US, F.V).data, A)).toBeLessThan(1e-12);
    expect(F.normSq).toBeCloseTo(A.reduce((a, v) => a + v * v, 0), 10);
    expect(f.originalNormSq[0]).toBeCloseTo(frobeniusNormSq(img.planes[0]!), 10);
    expect(f.template.kind).toBe('Image');
    expect((f.template as Image).centering![0]!.mean[0]).toBeCloseTo(mean, 14);
  });

  it('with a rank only the top values are computed (randomized) and match the exact ones', async () => {
    const img = decayingGray(200, 150);
    const exact = await run(img, { solver: 'exact' });
    const top = await run(img, { rank: 10 });
    expect(top.solver).toBe('randomized');
    expect(top.factors[0]!.s.length).toBe(10);
    expect(maxAbsDiff(top.factors[0]!.s, exact.factors[0]!.s.slice(0, 10)) / exact.factors[0]!.s[0]!).toBeLessThan(1e-6);
  });

  it('rank larger than min(rows, cols) is an InputError stating the bound', async () => {
    const e = await run(randomGray(20, 12), { rank: 13 }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/rank 13 is larger than min\(rows, cols\) = min\(20, 12\) = 12/);
  });

  it('a ycbcr image: only Y is factorised, Cb and Cr pass through', async () => {
    const y = randomGray(16, 12, 1), cb = randomGray(16, 12, 2), cr = randomGray(16, 12, 4);
    const img: Image = { ...y, color: 'ycbcr', planes: [y.planes[0]!, cb.planes[0]!, cr.planes[0]!] };
    const f = (await lastValueFrom(of(img).pipe(svd()))) as Factorization;
    expect(f.factors.length).toBe(1);
    expect(f.passthrough!.map((p) => p.plane)).toEqual([1, 2]);
    expect(f.passthrough![0]!.matrix).toBe(cb.planes[0]);
    const rgb = (await lastValueFrom(of({ ...img, color: 'rgb' as const }).pipe(svd()))) as Factorization;
    expect(rgb.factors.length).toBe(3);
    await expect(lastValueFrom(of({ ...img, color: 'rgb' as const }).pipe(svd({ color: 'luminance' })))).rejects.toThrow(/color: luminance needs a ycbcr image, but rand is rgb/);
  });

  it('a Matrix gives a Matrix template', async () => {
    const f = (await lastValueFrom(of({ kind: 'Matrix' as const, name: 'M', matrix: Matrix.from2D([[3, 0], [0, 4], [0, 0]]) }).pipe(svd()))) as Factorization;
    expect(Array.from(f.factors[0]!.s)).toEqual([4, 3].map((x) => expect.closeTo(x, 12)));
    expect(f.template.kind).toBe('Matrix');
  });
});
