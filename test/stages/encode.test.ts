import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import sharp from 'sharp';
import { join } from 'node:path';
import { load } from '../../src/stages/load.js';
import { normalize } from '../../src/stages/normalize.js';
import { center } from '../../src/stages/center.js';
import { svd } from '../../src/stages/svd.js';
import { reconstruct } from '../../src/stages/reconstruct.js';
import { encode } from '../../src/stages/encode.js';
import type { FileRef, Image, ImageBatch } from '../../src/core/ports.js';
import { tempDir } from '../helpers.js';
import { writePng, rgbPixels, maxAbsDiff } from './image-fixtures.js';

const tmp = tempDir('svdflow-encode-');
afterAll(() => tmp.cleanup());
const ctx = { baseDir: tmp.dir, outDir: join(tmp.dir, 'out') };

describe('encode', () => {
  it('colour round trip at full rank returns the input within quantisation (rgb and ycbcr)', async () => {
    const W = 24, H = 18;
    await writePng(tmp.dir, 'c.png', W, H);
    for (const mode of ['rgb', 'ycbcr'] as const) {
      const files = (await lastValueFrom(
        (load({ path: 'c.png', mode }, { ctx }) as import('rxjs').Observable<Image>).pipe(normalize({ by: 'max' }), center(), svd() as never, reconstruct() as never, encode({ path: `{name}-${mode}.png` }, { ctx }), toArray()),
      )) as FileRef[];
      expect(files.length).toBe(1);
      const back = await sharp(files[0]!.path).raw().toBuffer({ resolveWithObject: true });
      expect([back.info.width, back.info.height, back.info.channels]).toEqual([W, H, 3]);
      expect(maxAbsDiff(back.data, rgbPixels(W, H))).toBeLessThanOrEqual(1);
    }
  });

  it('gray PNG, JPEG by extension, and one file per image of a batch', async () => {
    const img: Image = { kind: 'Image', name: 'g', width: 2, height: 1, color: 'gray', planes: [new (await import('../../src/core/linalg/index.js')).Matrix(1, 2, Float64Array.of(0.5, 1.2))], range: [0, 1], normalization: { method: 'dtype', scale: 255 } };
    const [f] = (await lastValueFrom(of(img).pipe(encode({}, { ctx }), toArray()))) as FileRef[];
    expect(f!.path).toBe(join(ctx.outDir, 'g.png'));
    const px = await sharp(f!.path).extractChannel(0).raw().toBuffer();
    expect([(await sharp(f!.path).metadata()).channels, px[0], px[1]]).toEqual([1, 128, 255]); // 0.5*255 = 127.5 → 128; 1.2 → clamped
    const batch: ImageBatch = { kind: 'ImageBatch', name: 'b', width: 2, height: 1, color: 'gray', images: [{ ...img, name: 'one' }, { ...img, name: 'two' }] };
    const fs = (await lastValueFrom(of(batch).pipe(encode({ path: 'set/{index}-{name}.jpg' }, { ctx }), toArray()))) as FileRef[];
    expect(fs.map((x) => [x.path.slice(ctx.outDir.length + 1), x.format])).toEqual([['set/0-one.jpg', 'jpeg'], ['set/1-two.jpg', 'jpeg']]);
    expect((await sharp(fs[0]!.path).metadata()).format).toBe('jpeg');
  });

  it('{k} in the path is the rank of the reconstruction (a list of ranks gives one file each); an image without a rank is a clear error', async () => {
    const W = 20, H = 12;
    await writePng(tmp.dir, 'k.png', W, H);
    const files = (await lastValueFrom(
      (load({ path: 'k.png', mode: 'gray' }, { ctx }) as import('rxjs').Observable<Image>).pipe(normalize({ by: 'max' }), center(), svd() as never, reconstruct({ rank: [2, 5] }) as never, encode({ path: 'img-k{k}.png' }, { ctx }), toArray()),
    )) as FileRef[];
    expect(files.map((f) => f.path.slice(ctx.outDir.length + 1))).toEqual(['img-k2.png', 'img-k5.png']);
    const plain = (load({ path: 'k.png', mode: 'gray' }, { ctx }) as import('rxjs').Observable<Image>).pipe(encode({ path: 'img-k{k}.png' }, { ctx }));
    await expect(lastValueFrom(plain)).rejects.toThrow(/path img-k\{k\}\.png uses \{k\}, but image k is not a low-rank reconstruction/);
  });
});
