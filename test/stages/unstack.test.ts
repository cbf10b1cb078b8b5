import { describe, it, expect } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { Matrix } from '../../src/core/linalg/matrix.js';
import type { MatrixValue } from '../../src/core/ports.js';
import { stack } from '../../src/stages/stack.js';
import { unstack } from '../../src/stages/unstack.js';
import { testImage, batchOf } from './pca-fixtures.js';

describe('unstack', () => {
  it('inverts stack exactly', async () => {
    const ims = [testImage('a', 4, 3, 'rgb', 0), testImage('b', 4, 3, 'rgb', 7), testImage('c', 4, 3, 'rgb', 500)];
    const out = await lastValueFrom(of(batchOf(ims)).pipe(stack(), unstack()));
    expect(out.kind).toBe('ImageBatch');
    expect(out.images.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    out.images.forEach((im, j) => {
      expect(im.width).toBe(4);
      expect(im.height).toBe(3);
      for (let c = 0; c < 3; c++) expect(Array.from(im.planes[c]!.data)).toEqual(Array.from(ims[j]!.planes[c]!.data));
    });
  });

  it('adds back a row mean, or keeps the values centred, and clamps', async () => {
    const X = await lastValueFrom(of(batchOf([testImage('a', 2, 1, 'gray', 0), testImage('b', 2, 1, 'gray', 4)])).pipe(stack()));
    // centre by hand: mean of [0, 4] and [1, 5] per row
    const mean = Float64Array.from([2, 3]);
    const centred: MatrixValue = { ...X, matrix: Matrix.from2D([[-2, 2], [-2, 2]]), centering: { mode: 'row', mean } };
    const added = await lastValueFrom(of(centred).pipe(unstack()));
    expect(Array.from(added.images[1]!.planes[0]!.data)).toEqual([4, 5]);
    const kept = await lastValueFrom(of(centred).pipe(unstack({ mean: 'keep' })));
    expect(Array.from(kept.images[1]!.planes[0]!.data)).toEqual([2, 2]);
    const wild: MatrixValue = { ...X, matrix: Matrix.from2D([[-5, 2000], [3, 4]]) };
    const clamped = await lastValueFrom(of(wild).pipe(unstack({ clamp: true })));
    expect(Array.from(clamped.images[0]!.planes[0]!.data)).toEqual([0, 3]);
    expect(Array.from(clamped.images[1]!.planes[0]!.data)).toEqual([1000, 4]);
  });

  it('explains a matrix without layout or with the wrong shape', async () => {
    const bare: MatrixValue = { kind: 'Matrix', name: 'M', matrix: new Matrix(6, 2) };
    await expect(lastValueFrom(of(bare).pipe(unstack()))).rejects.toThrow("matrix 'M' (6 x 2) has no image layout");
    const wrong: MatrixValue = { ...bare, layout: { width: 2, height: 2, color: 'rgb', names: ['a', 'b'], range: [0, 1] } };
    await expect(lastValueFrom(of(wrong).pipe(unstack()))).rejects.toThrow('matrix has 6 rows, but its layout (2x2 rgb) needs 12');
  });
});
