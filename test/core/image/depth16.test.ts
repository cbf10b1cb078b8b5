/**
 * A 16-bit PNG keeps its 16 bits (the new-user trial's gray16.png was cut to 8 bits on load, so the
 * error, PSNR and storage shown were those of the 8-bit data). The image here is a gradient
 * a_i + b_j of 16-bit values: an 8-bit path rounds them to multiples of 257 (a staircase of full
 * rank); the 16-bit path keeps a matrix of rank 2 after the global mean is removed, so its rank-2
 * rebuild is the image itself, value for value.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, encodeImage, toPixels8 } from '../../../src/core/image/io.js';
import { normalizeImage } from '../../../src/stages/normalize.js';
import { cli, requireCli, tempDir } from '../../helpers.js';

const W = 64, H = 48;
/** the gradient: 1000 + 211 i + 13 j (row i, column j): 1000..11736, none a multiple of 257 throughout */
const value = (i: number, j: number) => 1000 + 211 * i + 13 * j;
const gray = new Uint16Array(W * H);
for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) gray[i * W + j] = value(i, j);
/** RGB: R the gradient, G its mirror, B a constant odd value */
const rgb = new Uint16Array(W * H * 3);
for (let p = 0; p < W * H; p++) (rgb[3 * p] = gray[p]!), (rgb[3 * p + 1] = 65535 - gray[p]!), (rgb[3 * p + 2] = 4321);

async function samples(file: string | Buffer, channels: 1 | 3): Promise<{ data: Uint16Array; depth: string | undefined }> {
  const depth = (await sharp(file).metadata()).depth;
  const b = await sharp(file).toColourspace(channels === 1 ? 'grey16' : 'rgb16').raw({ depth: 'ushort' }).toBuffer();
  return { data: new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2), depth };
}

let tmp: ReturnType<typeof tempDir>;
let grayPng: string, rgbPng: string;
beforeAll(async () => {
  tmp = tempDir('svdflow depth16-');
  grayPng = join(tmp.dir, 'gray 16.png');
  rgbPng = join(tmp.dir, 'rgb16.png');
  writeFileSync(grayPng, await sharp(gray, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toBuffer());
  writeFileSync(rgbPng, await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).toColourspace('rgb16').png().toBuffer());
  // the fixtures really are 16-bit, with the values above
  expect(await samples(grayPng, 1)).toEqual({ data: gray, depth: 'ushort' });
});
afterAll(() => tmp.cleanup());

describe('16-bit PNG load and encode', () => {
  it('a gray 16-bit PNG loads with its 16-bit values, range [0, 65535], bitDepth 16', async () => {
    const img = await decodeImage(grayPng, { mode: 'gray' });
    expect(img.bitDepth).toBe(16);
    expect(img.range).toEqual([0, 65535]);
    expect(Array.from(img.planes[0]!.data)).toEqual(Array.from(gray));
  });

  it('an RGB 16-bit PNG loads every channel at 16 bits; gray mode of it is the Pillow luma at 16 bits', async () => {
    const img = await decodeImage(rgbPng, { mode: 'rgb' });
    expect(img.bitDepth).toBe(16);
    for (let c = 0; c < 3; c++) expect(Array.from(img.planes[c]!.data)).toEqual(Array.from({ length: W * H }, (_, p) => rgb[3 * p + c]));
    const g = await decodeImage(rgbPng, { mode: 'gray' });
    const p = 5 * W + 7, [r, gg, b] = [rgb[3 * p]!, rgb[3 * p + 1]!, rgb[3 * p + 2]!];
    expect(g.planes[0]!.data[p]).toBe(Math.floor((r * 19595 + gg * 38470 + b * 7471 + 32768) / 65536));
  });

  it('an 8-bit PNG still loads as 8-bit (no bitDepth, range [0, 255])', async () => {
    const f = join(tmp.dir, 'eight.png');
    writeFileSync(f, await sharp(Buffer.from(Array.from({ length: W * H }, (_, p) => p % 256)), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toBuffer());
    const img = await decodeImage(f, { mode: 'gray' });
    expect(img.bitDepth).toBeUndefined();
    expect(img.range).toEqual([0, 255]);
    expect(img.planes[0]!.data[300]).toBe(300 % 256);
  });

  it('normalize by dtype divides a 16-bit image by 65535; encode writes a 16-bit PNG of the same values (gray and RGB)', async () => {
    const img = normalizeImage(await decodeImage(grayPng, { mode: 'gray' }), 'dtype');
    expect(img.normalization).toEqual({ method: 'dtype', scale: 65535 });
    expect(img.planes[0]!.data[W + 1]).toBe(value(1, 1) / 65535);
    expect(await samples(await encodeImage(img, 'png'), 1)).toEqual({ data: gray, depth: 'ushort' });
    const c = normalizeImage(await decodeImage(rgbPng, { mode: 'rgb' }), 'max');
    expect(await samples(await encodeImage(c, 'png'), 3)).toEqual({ data: rgb, depth: 'ushort' });
    const y = await decodeImage(rgbPng, { mode: 'ycbcr' });
    const back = await samples(await encodeImage(y, 'png'), 3);
    expect(back.depth).toBe('ushort');
    expect(Math.max(...back.data.map((v, i) => Math.abs(v - rgb[i]!)))).toBeLessThanOrEqual(1);
  });

  it('as JPEG (an 8-bit format) a 16-bit image is written as its values / 257', async () => {
    const img = await decodeImage(grayPng, { mode: 'gray' });
    expect(toPixels8(img).data[W + 1]).toBe(Math.round(value(1, 1) / 257));
    expect((await sharp(await encodeImage(img, 'jpeg')).metadata()).depth).toBe('uchar');
  });
});

describe('image-compress on a 16-bit PNG (CLI)', () => {
  beforeAll(() => requireCli());

  it('rank 2 rebuilds the gradient exactly: error ~0, the written PNG is 16-bit and equal; report and run.json say 16-bit', async () => {
    const out = join(tmp.dir, 'out');
    const r = cli(['run', 'pipelines/image-compress.yaml', '--set', `input=${grayPng}`, '--set', 'truncate.percent=null', '--set', 'truncate.rank=2', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'gray 16-gray-report.json'), 'utf8')).values;
    expect(rep.bitDepth).toBe(16);
    expect(rep.k).toBe(2);
    // an 8-bit path leaves the staircase's error (~1e-3 of the norm); 16 bits leave rounding only
    expect(rep.relError).toBeLessThan(1e-9);
    expect(rep.originalRawBytes).toBe(2 * W * H);
    // identical at 16 bits: PSNR infinite (null in JSON), SSIM 1
    expect(rep.psnrDb).toBe(null);
    expect(rep.ssim).toBe(1);
    expect(await samples(join(out, 'gray 16-gray-k2.png'), 1)).toEqual({ data: gray, depth: 'ushort' });
    const svg = readFileSync(join(out, 'gray 16-gray-report-error-storage.svg'), 'utf8');
    expect(svg).toContain('raw 16-bit');
    expect(svg).toMatch(/at k = 2: error \d\.\de-\d+%/);
    expect(svg).not.toContain('raw 8-bit');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    // identical at 16 bits (PSNR infinite): the float PSNR is shown, before 16-bit rounding
    expect(html).toContain('before 16-bit rounding');
    expect(html).toContain('against the raw 16-bit 6,144');
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.files.find((f: { path: string }) => f.path === 'gray 16-gray-k2.png').description).toBe('gray image gray 16 64x48, 16-bit');  });

  it('normalize by dtype straight after load in YAML (load divides as it fills: by 65535 for 16 bits) rebuilds the same 16-bit values', async () => {
    const yaml = join(tmp.dir, 'dtype.yaml');
    writeFileSync(yaml, `name: dtype\nsteps:\n  - { id: img, stage: load, params: { path: "${grayPng}", mode: gray } }\n  - { id: norm, stage: normalize, params: { by: dtype } }\n  - { id: f, stage: svd }\n  - { id: cut, stage: truncate, params: { rank: 2 } }\n  - { id: back, stage: reconstruct }\n  - { id: png, stage: encode, params: { path: out.png } }\n`);
    const out = join(tmp.dir, 'out-dtype');
    const r = cli(['run', yaml, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(await samples(join(out, 'out.png'), 1)).toEqual({ data: gray, depth: 'ushort' });
  });
});
