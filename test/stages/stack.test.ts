import { describe, it, expect } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import type { Image, ImageBatch } from '../../src/core/ports.js';
import { testImage, batchOf } from './pca-fixtures.js';
import { stack } from '../../src/stages/stack.js';

describe('stack', () => {
  it('puts each image in one column, planar (R rows, then G, then B)', async () => {
    const ims = [testImage('a', 3, 2, 'rgb', 0), testImage('b', 3, 2, 'rgb', 1000)];
    const m = await lastValueFrom(of(batchOf(ims)).pipe(stack()));
    expect(m.kind).toBe('Matrix');
    expect(m.matrix.rows).toBe(18);
    expect(m.matrix.cols).toBe(2);
    // entry (c*h*w + y*w + x, j) = pixel (x, y) of plane c of image j
    for (let j = 0; j < 2; j++)
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 3; x++) expect(m.matrix.get(c * 6 + y * 3 + x, j)).toBe(1000 * j + 100 * c + 10 * y + x);
    expect(m.layout).toEqual({ width: 3, height: 2, color: 'rgb', names: ['a', 'b'], range: [0, 1000] });
    expect(m.name).toBe('b');
  });

  it('reads strided plane views', async () => {
    const big = testImage('big', 5, 4, 'gray', 0);
    const view: Image = { ...big, name: 'v', width: 2, height: 2, planes: [big.planes[0]!.block(1, 3, 2, 4)] };
    const m = await lastValueFrom(of(batchOf([view])).pipe(stack({ name: 'X' })));
    expect(Array.from(m.matrix.col(0))).toEqual([12, 13, 22, 23]);
    expect(m.name).toBe('X');
  });

  it('names the odd images when sizes differ', async () => {
    const ims = [testImage('a', 3, 2, 'rgb', 0), testImage('b', 4, 2, 'rgb', 0), testImage('c', 3, 2, 'gray', 0)];
    await expect(lastValueFrom(of(batchOf(ims)).pipe(stack()))).rejects.toThrow(/a is 3x2 rgb, but b is 4x2 rgb, c is 3x2 gray/);
  });

  it('refuses an empty batch', async () => {
    const empty: ImageBatch = { kind: 'ImageBatch', name: 'e', width: 0, height: 0, color: 'gray', images: [] };
    await expect(lastValueFrom(of(empty).pipe(stack()))).rejects.toThrow('cannot stack an empty image batch');
  });
});
