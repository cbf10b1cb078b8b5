import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { lastValueFrom } from 'rxjs';
import sharp from 'sharp';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from '../../src/stages/load.js';
import { InputError } from '../../src/core/errors.js';
import type { Image, ImageBatch } from '../../src/core/ports.js';
import { tempDir, hasShared, shared, sharedMissingMessage } from '../helpers.js';

const tmp = tempDir('svdflow-load-');
const W = 5, H = 4;
/** interleaved RGB with distinct, known values */
const rgb = Buffer.alloc(W * H * 3);
for (let i = 0; i < W * H; i++) (rgb[3 * i] = (i * 13) % 256), (rgb[3 * i + 1] = (i * 29 + 7) % 256), (rgb[3 * i + 2] = (i * 53 + 100) % 256);

const png = (data: Buffer, w: number, h: number) => sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
const run = (params: Parameters<typeof load>[0]) => lastValueFrom(load(params, { ctx: { baseDir: tmp.dir } }));

beforeAll(async () => {
  writeFileSync(join(tmp.dir, 'a.png'), await png(rgb, W, H));
  // a 2 x 3 (w x h) image stored sideways with EXIF orientation 6 (rotate 90° clockwise to display)
  await sharp(Buffer.alloc(3 * 2 * 3, 200), { raw: { width: 3, height: 2, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(join(tmp.dir, 'rot.jpg'));
  mkdirSync(join(tmp.dir, 'set'));
  for (const n of [10, 2, 1]) writeFileSync(join(tmp.dir, 'set', `im_${n}.png`), await png(Buffer.alloc(W * H * 3, n), W, H));
  writeFileSync(join(tmp.dir, 'set', 'notes.txt'), 'not an image');
  mkdirSync(join(tmp.dir, 'mixed'));
  writeFileSync(join(tmp.dir, 'mixed', 'a.png'), await png(rgb, W, H));
  writeFileSync(join(tmp.dir, 'mixed', 'b.png'), await png(rgb, W, H));
  writeFileSync(join(tmp.dir, 'mixed', 'odd.png'), await png(Buffer.alloc(4 * 4 * 3), 4, 4));
  mkdirSync(join(tmp.dir, 'empty'));
  writeFileSync(join(tmp.dir, 'fake.jpg'), 'hello, I am text\n');
  const jpg = await sharp(Buffer.alloc(64 * 64 * 3, 90), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
  writeFileSync(join(tmp.dir, 'trunc.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
});
afterAll(() => tmp.cleanup());

describe('load', () => {
  it('gray is BT.601 luma with Pillow rounding; rgb keeps the channels', async () => {
    const g = (await run({ path: 'a.png', mode: 'gray' })) as Image;
    expect([g.kind, g.width, g.height, g.color, g.planes.length, g.range]).toEqual(['Image', W, H, 'gray', 1, [0, 255]]);
    for (let i = 0; i < W * H; i++) {
      const want = (rgb[3 * i]! * 19595 + rgb[3 * i + 1]! * 38470 + rgb[3 * i + 2]! * 7471 + 0x8000) >> 16;
      expect(g.planes[0]!.data[i]).toBe(want);
    }
    const c = (await run({ path: 'a.png', mode: 'rgb' })) as Image;
    expect(c.planes.map((p) => p.data[7])).toEqual([rgb[21], rgb[22], rgb[23]]);
    expect(c.sourceBytes).toBe(readFileSync(join(tmp.dir, 'a.png')).length);
  });

  it('ycbcr planes follow the JPEG transform', async () => {
    const y = (await run({ path: 'a.png', mode: 'ycbcr' })) as Image;
    const [r, g, b] = [rgb[0]!, rgb[1]!, rgb[2]!];
    expect(y.planes[0]!.data[0]).toBeCloseTo(0.299 * r + 0.587 * g + 0.114 * b, 9);
    expect(y.planes[1]!.data[0]).toBeCloseTo(128 + (0.5 * (b - (0.299 * r + 0.587 * g + 0.114 * b))) / 0.886, 6);
  });

  it('applies the EXIF orientation and resizes', async () => {
    const r = (await run({ path: 'rot.jpg', mode: 'gray' })) as Image;
    expect([r.width, r.height]).toEqual([2, 3]);
    const s = (await run({ path: 'a.png', mode: 'gray', resize: { width: 7, height: 9 } })) as Image;
    expect([s.width, s.height, s.planes[0]!.rows, s.planes[0]!.cols]).toEqual([7, 9, 9, 7]);
  });

  it('a folder or a glob gives one ImageBatch in natural order, skipping non-image names', async () => {
    const b = (await run({ path: 'set', mode: 'gray' })) as ImageBatch;
    expect(b.kind).toBe('ImageBatch');
    expect(b.images.map((i) => i.name)).toEqual(['im_1', 'im_2', 'im_10']);
    expect(b.images.map((i) => i.planes[0]!.data[0])).toEqual([1, 2, 10]);
    const g = (await run({ path: 'set/im_?.png', mode: 'gray' })) as ImageBatch;
    expect(g.images.map((i) => i.name)).toEqual(['im_1', 'im_2']);
  });

  it('images of different sizes: an error listing the odd ones, or resize', async () => {
    await expect(run({ path: 'mixed', mode: 'gray' })).rejects.toThrow(/differ in size: most are 5x4 \(width x height\), but mixed\/odd\.png \(4x4\)/);
    // a folder outside the pipeline's (a --set path) is named as given, not as ../../..
    const away = (params: Parameters<typeof load>[0]) => lastValueFrom(load(params, { ctx: { baseDir: join(tmp.dir, 'set') } }));
    await expect(away({ path: join(tmp.dir, 'mixed'), mode: 'gray' })).rejects.toThrow(`but ${join(tmp.dir, 'mixed', 'odd.png')} (4x4)`);
    const b = (await run({ path: 'mixed', mode: 'gray', resize: { width: 5, height: 4 } })) as ImageBatch;
    expect(b.images.length).toBe(3);
  });

  it('empty folder, missing file, text named .jpg and truncated JPEG give one clear InputError naming the file', async () => {
    await expect(run({ path: 'empty' })).rejects.toThrow(/folder empty has no image files \(it is empty\)/);
    await expect(run({ path: 'nope.png' })).rejects.toThrow(/image not found: nope\.png/);
    const fake = await run({ path: 'fake.jpg' }).catch((e) => e);
    expect(fake).toBeInstanceOf(InputError);
    expect(fake.message).toMatch(/cannot read fake\.jpg: it is not an image/);
    expect(fake.hint).toMatch(/remove it/);
    const trunc = await run({ path: 'trunc.jpg' }).catch((e) => e);
    expect(trunc).toBeInstanceOf(InputError);
    expect(trunc.message).toMatch(/cannot read trunc\.jpg: the image file is truncated or corrupt/);
  });

  it('rejects unknown params with the stage name', () => {
    expect(() => load({ path: 'a.png', colour: 'gray' } as never)).toThrow(/invalid params for stage load[\s\S]*colour/);
  });
});

describe.skipIf(!hasShared)('load on the seed data', () => {
  if (!hasShared) it.skip(sharedMissingMessage('seed'), () => {});
  it('reads the 22 stamps as one 139 x 170 ImageBatch in order', async () => {
    const b = (await lastValueFrom(load({ path: shared('seed/stamps/*.jpg'), mode: 'rgb' }))) as ImageBatch;
    expect([b.images.length, b.width, b.height, b.color]).toEqual([22, 139, 170, 'rgb']);
    expect(b.images[21]!.name).toBe('im_21');
  });
});
