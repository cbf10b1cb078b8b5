import { describe, it, expect } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { center } from '../../src/stages/center.js';
import { Matrix } from '../../src/core/linalg/index.js';
import type { Image, MatrixValue } from '../../src/core/ports.js';

const A = Matrix.from2D([[1, 2, 3], [4, 5, 9]]);
const image = (): Image => ({ kind: 'Image', name: 'a', width: 3, height: 2, color: 'gray', planes: [A.clone()], range: [0, 1] });

describe('center', () => {
  it('global, row and column means are subtracted and kept', async () => {
    const g = (await lastValueFrom(of(image()).pipe(center({ mode: 'global' })))) as Image;
    expect(Array.from(g.centering![0]!.mean)).toEqual([4]);
    expect(g.planes[0]!.to2D()).toEqual([[-3, -2, -1], [0, 1, 5]]);
    const r = (await lastValueFrom(of(image()).pipe(center({ mode: 'row' })))) as Image;
    expect(Array.from(r.centering![0]!.mean)).toEqual([2, 6]);
    const c = (await lastValueFrom(of(image()).pipe(center({ mode: 'column' })))) as Image;
    expect(Array.from(c.centering![0]!.mean)).toEqual([2.5, 3.5, 6]);
    expect(c.planes[0]!.to2D()).toEqual([[-1.5, -1.5, -3], [1.5, 1.5, 3]]);
  });
  it('a d x n Matrix with mode row subtracts the mean column (the mean image)', async () => {
    const m: MatrixValue = { kind: 'Matrix', name: 'X', matrix: A.clone() };
    const out = (await lastValueFrom(of(m).pipe(center({ mode: 'row' })))) as MatrixValue;
    expect(out.centering!.mode).toBe('row');
    expect(Array.from(out.centering!.mean)).toEqual([2, 6]);
    for (let i = 0; i < 2; i++) expect(out.matrix.row(i).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
  });
  it('centring twice is an error', async () => {
    await expect(lastValueFrom(of(image()).pipe(center(), center()))).rejects.toThrow(/already centred \(global\)/);
  });
  it('rejects an unknown mode with the choices', () => {
    expect(() => center({ mode: 'rows' } as never)).toThrow(/invalid params for stage center[\s\S]*mode/);
  });
});
