import { describe, it, expect } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { normalize } from '../../src/stages/normalize.js';
import { Matrix } from '../../src/core/linalg/index.js';
import type { Image, ImageBatch } from '../../src/core/ports.js';

const img = (vals: number[], name = 'a'): Image => ({ kind: 'Image', name, width: vals.length, height: 1, color: 'gray', planes: [new Matrix(1, vals.length, Float64Array.from(vals))], range: [0, 255] });

describe('normalize', () => {
  it('by max divides by the largest value and records the scale', async () => {
    const out = (await lastValueFrom(of(img([0, 50, 200])).pipe(normalize({ by: 'max' })))) as Image;
    expect(Array.from(out.planes[0]!.data)).toEqual([0, 0.25, 1]);
    expect(out.normalization).toEqual({ method: 'max', scale: 200 });
    expect(out.range).toEqual([0, 1]);
  });
  it('by dtype divides by 255', async () => {
    const out = (await lastValueFrom(of(img([0, 51, 255])).pipe(normalize({ by: 'dtype' })))) as Image;
    expect(Array.from(out.planes[0]!.data)).toEqual([0, 0.2, 1]);
    expect(out.normalization).toEqual({ method: 'dtype', scale: 255 });
  });
  it('an ImageBatch: per image, or one maximum for the batch', async () => {
    const b: ImageBatch = { kind: 'ImageBatch', name: 'b', width: 2, height: 1, color: 'gray', images: [img([10, 20], 'x'), img([40, 0], 'y')] };
    const per = (await lastValueFrom(of(b).pipe(normalize({ by: 'max' })))) as ImageBatch;
    expect(per.images.map((i) => i.normalization!.scale)).toEqual([20, 40]);
    const one = (await lastValueFrom(of(b).pipe(normalize({ by: 'max', perBatch: true })))) as ImageBatch;
    expect(Array.from(one.images[0]!.planes[0]!.data)).toEqual([0.25, 0.5]);
  });
  it('an all-zero image by max is a clear error', async () => {
    await expect(lastValueFrom(of(img([0, 0])).pipe(normalize({ by: 'max' })))).rejects.toThrow(/maximum is 0 .*all zero/);
  });
});
