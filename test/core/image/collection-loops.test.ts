/**
 * The PCA chain's memory-bound loops (issue #15 item 4): stacking, centring, normalising and
 * decoding a batch. Each is checked against values known by construction, and the faster forms
 * against the straightforward ones, to the last bit.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import sharp from 'sharp';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { stackImages, stackInto, stackRows } from '../../../src/core/pca/stack.js';
import { stackInPool, centerInPool, splitParts, SPLIT_VALUES } from '../../../src/core/pca/pooled.js';
import { shardRanges } from '../../../src/core/pca/shards.js';
import { subtractMean, subtractRowMeans, meanOf, applyMean, scalePlanes, newPlanes, SHARED_PLANES_MIN } from '../../../src/core/image/planes.js';
import { decodeImage, decodeImages } from '../../../src/core/image/io.js';
import { stack } from '../../../src/stages/stack.js';
import { center } from '../../../src/stages/center.js';
import { INLINE_VALUES } from '../../../src/core/pool/tasks/images.js';
import { closePool, setPoolThreads, poolThreads } from '../../../src/core/pool/index.js';
import type { Image, ImageBatch, MatrixValue } from '../../../src/core/ports.js';
import { lcg } from '../../stages/pca-fixtures.js';
import { tempDir } from '../../helpers.js';

/**
 * n images of w x h (3 planes) whose plane c pixel q of image j is base(c, q) + (j - (n - 1) / 2):
 * small integers (n odd), so the mean image is exactly base and the centred column j is exactly
 * j - (n - 1) / 2 everywhere. Image 1 is a strided view of a larger plane.
 */
function knownBatch(n: number, w: number, h: number, shared = false): ImageBatch {
  const base = (c: number, q: number) => 1000 * c + (q % 997);
  const images: Image[] = [];
  for (let j = 0; j < n; j++) {
    const off = j - (n - 1) / 2;
    const planes = [0, 1, 2].map((c) => {
      if (shared) {
        const P = newPlanes(h, w, 1)[0]!;
        for (let q = 0; q < w * h; q++) P.data[q] = base(c, q) + off;
        return P;
      }
      if (j === 1) {
        const big = new Matrix(h + 2, w + 3);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) big.set(y + 1, x + 2, base(c, y * w + x) + off);
        return big.block(1, 1 + h, 2, 2 + w);
      }
      const P = new Matrix(h, w);
      for (let q = 0; q < w * h; q++) P.data[q] = base(c, q) + off;
      return P;
    });
    images.push({ kind: 'Image', name: `k${j}`, width: w, height: h, color: 'rgb', planes, range: [0, 4000] });
  }
  return { kind: 'ImageBatch', name: 'known', width: w, height: h, color: 'rgb', images };
}

function checkKnown(X: Matrix, centred: Matrix | undefined, mean: Float64Array | undefined, n: number, w: number, h: number) {
  const hw = w * h;
  expect([X.rows, X.cols]).toEqual([3 * hw, n]);
  let bad = 0;
  for (let c = 0; c < 3; c++)
    for (let q = 0; q < hw; q++) {
      const b = 1000 * c + (q % 997), i = c * hw + q;
      if (mean && mean[i] !== b) bad++;
      for (let j = 0; j < n; j++) {
        const off = j - (n - 1) / 2;
        if (X.get(i, j) !== b + off) bad++;
        if (centred && centred.get(i, j) !== off) bad++;
      }
    }
  expect(bad).toBe(0);
}

afterAll(() => closePool());

describe('stacking and centring a collection (known answers)', () => {
  // 9 images: two groups of four and a remainder of one; 37 x 29 = 1073 pixels: two full blocks of 512 and a part
  it('stackImages puts pixel q of plane c of image j at (c*h*w + q, j), every block and remainder', () => {
    const b = knownBatch(9, 37, 29);
    checkKnown(stackImages(b.images).matrix, undefined, undefined, 9, 37, 29);
    const three = knownBatch(3, 37, 29); // fewer images than one group of four
    checkKnown(stackImages(three.images).matrix, undefined, undefined, 3, 37, 29);
  });

  it('the stack and center stages give the exact mean image and centred columns, inline and in the pool', async () => {
    for (const [n, w, h] of [[9, 37, 29], [23, 80, 61]] as const) {
      const b = knownBatch(n, w, h);
      const pooled = 3 * w * h * n >= INLINE_VALUES;
      expect(pooled).toBe(n === 23); // the second batch is large enough for the compute pool
      const X = (await lastValueFrom(of(b).pipe(stack()))) as MatrixValue;
      const C = (await lastValueFrom(of(X).pipe(center({ mode: 'row' })))) as MatrixValue;
      expect(C.centering!.mode).toBe('row');
      checkKnown(X.matrix, C.matrix, C.centering!.mean, n, w, h);
    }
  });
});

describe('split over the pool\'s threads: parts of the rows into one shared matrix', () => {
  it('stackInto over row ranges that cut planes and blocks gives stackImages\' matrix to the last bit', () => {
    const b = knownBatch(9, 37, 29);
    const ref = stackImages(b.images).matrix, d = stackRows(b.images);
    const out = new Matrix(d, 9);
    for (const [r0, r1] of [[0, 700], [700, 1073 + 5], [1078, 2 * 1073 + 511], [2 * 1073 + 511, d]]) stackInto(b.images, out, r0, r1);
    expect(Array.from(out.data)).toEqual(Array.from(ref.data));
  });

  it('subtractRowMeans over ranges (not multiples of 4) gives subtractMean\'s values to the last bit', () => {
    const r = lcg(11);
    const X = new Matrix(103, 22);
    for (let i = 0; i < X.data.length; i++) X.data[i] = r() * 1e3 - 400;
    const ref = subtractMean(X, 'row');
    const out = new Matrix(103, 22), mean = new Float64Array(103);
    for (const [a, b] of shardRanges(103, 3)) subtractRowMeans(X, out, mean, a, b);
    expect(shardRanges(103, 3)).toEqual([[0, 34], [34, 68], [68, 103]]);
    expect(Array.from(mean)).toEqual(Array.from(ref.mean));
    expect(Array.from(out.data)).toEqual(Array.from(ref.out.data));
  });

  it('subtractRowMeans on views, over ranges leaving 0 to 3 odd rows, equals the row-by-row formula to the last bit', () => {
    // the formula written out: each row summed left to right, divided by cols, then x + (-mean)
    const r = lcg(5);
    const big = new Matrix(60, 30);
    for (let i = 0; i < big.data.length; i++) big.data[i] = (r() - 0.4) * 1e3 + r() * 1e-6;
    const P = big.block(3, 58, 4, 26); // 55 x 22, offset and stride of the larger matrix
    const want = new Float64Array(55 * 22), wantMean = new Float64Array(55);
    for (let i = 0; i < 55; i++) {
      let s = 0;
      for (let k = 0; k < 22; k++) s += P.get(i, k);
      wantMean[i] = s / 22;
      for (let k = 0; k < 22; k++) want[i * 22 + k] = P.get(i, k) + -wantMean[i]!;
    }
    const host = new Matrix(57, 25), out = host.block(1, 56, 2, 24); // a strided destination too
    const mean = new Float64Array(55);
    const ranges = [[0, 8], [8, 13], [13, 19], [19, 26], [26, 55]]; // 8, 5, 6, 7 and 29 rows: 0, 1, 2, 3, 1 odd ones
    for (const [a, b] of ranges) subtractRowMeans(P, out, mean, a!, b!);
    expect(Array.from(mean)).toEqual(Array.from(wantMean));
    const got = new Float64Array(55 * 22);
    for (let i = 0; i < 55; i++) for (let k = 0; k < 22; k++) got[i * 22 + k] = out.get(i, k);
    expect(Array.from(got)).toEqual(Array.from(want));
    // the rows of the host outside the view are untouched
    expect(host.get(0, 5)).toBe(0);
    expect(host.get(56, 5)).toBe(0);
    expect(host.get(10, 1)).toBe(0);
    expect(host.get(10, 24)).toBe(0);
  });

  it('stackImages for 1 to 9 images (groups of four and the ones left) puts every pixel where it belongs', () => {
    for (let n = 1; n <= 9; n += 2) checkKnown(stackImages(knownBatch(n, 23, 29).images).matrix, undefined, undefined, n, 23, 29);
    for (const n of [4, 8]) checkKnown(stackImages(knownBatch(n, 23, 29).images).matrix, undefined, undefined, n, 23, 29);
  });

  it('stackInPool and centerInPool in 2 parts give the exact stack, mean image and centred columns', async () => {
    const before = poolThreads();
    await setPoolThreads(2);
    try {
      const n = 25, w = 100, h = 80; // 24000 x 25 = 600k values: above SPLIT_VALUES
      expect(3 * w * h * n).toBeGreaterThanOrEqual(SPLIT_VALUES);
      expect(splitParts(3 * w * h * n)).toBe(2);
      const b = knownBatch(n, w, h, true);
      const ticks: number[] = [];
      const { matrix, layout } = await stackInPool(b.images, { onProgress: (d, t) => ticks.push(d / t) });
      expect(matrix.data.buffer).toBeInstanceOf(SharedArrayBuffer); // made by the parts in place
      expect(ticks.at(-1)).toBe(1);
      expect(layout.names).toEqual(b.images.map((im) => im.name));
      const C = await centerInPool({ kind: 'Matrix', name: 'X', matrix, layout } as MatrixValue, 'row');
      checkKnown(matrix, C.matrix, C.centering!.mean, n, w, h);
      await expect(centerInPool(C, 'row')).rejects.toThrow(/already centred \(row\)/);
    } finally {
      await setPoolThreads(before);
    }
  });
});

describe('subtractMean (one pass for row means) is meanOf + applyMean to the last bit', () => {
  it.each(['row', 'column', 'global'] as const)('mode %s, contiguous and strided', (mode) => {
    const r = lcg(7);
    const big = new Matrix(301, 40);
    for (let i = 0; i < big.data.length; i++) big.data[i] = (r() - 0.3) * 1e3 + r() * 1e-7;
    for (const P of [big, big.block(3, 290, 5, 27)]) {
      const ref = applyMean(P, { mode, mean: meanOf(P, mode) }, -1);
      const { mean, out } = subtractMean(P, mode);
      expect(Array.from(mean)).toEqual(Array.from(meanOf(P, mode)));
      expect(Array.from(out.data)).toEqual(Array.from(ref.data));
    }
  });
});

describe('scalePlanes', () => {
  it('gives value * (1 / scale) per plane, in one buffer per image (shared when large), from strided planes too', () => {
    const r = lcg(3);
    const P = [0, 1, 2].map(() => { const M = new Matrix(90, 70); for (let i = 0; i < M.data.length; i++) M.data[i] = Math.floor(r() * 256); return M; });
    const planes = [P[0]!, P[1]!.block(0, 90, 0, 70), P[2]!];
    const out = scalePlanes(planes, 255);
    for (let c = 0; c < 3; c++) {
      expect(out[c]!.isContiguous).toBe(true);
      expect(out[c]!.data.buffer).toBe(out[0]!.data.buffer);
      for (let i = 0; i < 90 * 70; i++) expect(out[c]!.data[i]).toBe(P[c]!.data[i]! * (1 / 255));
    }
    expect(3 * 90 * 70 >= SHARED_PLANES_MIN && out[0]!.data.buffer instanceof SharedArrayBuffer).toBe(true);
    expect(newPlanes(2, 3, 1)[0]!.data.buffer instanceof SharedArrayBuffer).toBe(false); // small: a plain buffer
  });
});

describe('decodeImages (several files at once)', () => {
  const tmp = tempDir('svdflow-decode-');
  const files: string[] = [];
  beforeAll(async () => {
    for (let k = 0; k < 7; k++) {
      const w = 31 + k, h = 17;
      const px = Buffer.alloc(w * h * 3);
      for (let i = 0; i < px.length; i++) px[i] = (i * (k + 3) + 11 * k) % 256;
      const f = join(tmp.dir, `f${k}.png`);
      writeFileSync(f, await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
      files.push(f);
    }
    writeFileSync(join(tmp.dir, 'bad1.jpg'), 'not an image');
    writeFileSync(join(tmp.dir, 'bad2.jpg'), 'not an image either');
  });
  afterAll(() => tmp.cleanup());

  it('returns the images in the files\' order with the pixels of the files (lossless PNG)', async () => {
    const ticks: number[] = [];
    const out = (await decodeImages(files, () => ({ mode: 'rgb', maxPixels: 1e8 }), 3, undefined, () => ticks.push(1)))!;
    expect(ticks.length).toBe(7);
    out.forEach((im, k) => {
      const w = 31 + k;
      expect([im.name, im.width, im.height]).toEqual([`f${k}`, w, 17]);
      for (let c = 0; c < 3; c++) for (let i = 0; i < w * 17; i++) if (im.planes[c]!.data[i] !== ((3 * i + c) * (k + 3) + 11 * k) % 256) throw new Error(`f${k} plane ${c} pixel ${i}`);
    });
  });

  it('gray and ycbcr planes are those of one decode at a time', async () => {
    for (const mode of ['gray', 'ycbcr'] as const) {
      const many = (await decodeImages(files, () => ({ mode }), 4))!;
      for (let k = 0; k < files.length; k++) {
        const one = await decodeImage(files[k]!, { mode });
        expect(many[k]!.planes.map((P) => Array.from(P.data))).toEqual(one.planes.map((P) => Array.from(P.data)));
      }
    }
  });

  it('a bad file fails with the first bad file in the files\' order, whichever finishes first', async () => {
    const list = [files[0]!, join(tmp.dir, 'bad1.jpg'), files[1]!, join(tmp.dir, 'bad2.jpg'), files[2]!];
    for (const k of [1, 2, 4]) await expect(decodeImages(list, (f) => ({ mode: 'rgb', shown: f.split('/').pop() }), k)).rejects.toThrow(/cannot read bad1\.jpg/);
  });

  it('an image above maxPixels is refused before decoding, with its size', async () => {
    await expect(decodeImage(files[0]!, { mode: 'rgb', maxPixels: 31 * 17 - 1, shown: 'f0.png' })).rejects.toThrow('image f0.png is 31x17 = 0.0 megapixels, above the limit of 0.0 megapixels');
    expect((await decodeImage(files[0]!, { mode: 'rgb', maxPixels: 31 * 17 })).width).toBe(31);
    await expect(decodeImage(files[0]!, { mode: 'rgb', maxPixels: 400, resize: { width: 40 }, shown: 'f0.png' })).rejects.toThrow('image f0.png is 31x17');
    await expect(decodeImage(files[0]!, { mode: 'rgb', maxPixels: 1000, resize: { width: 62 }, shown: 'f0.png' })).rejects.toThrow('resize of f0.png to 62x34 = 0.0 megapixels is above the limit');
    await expect(decodeImage(files[0]!, { mode: 'rgb', maxPixels: 1000, resize: { width: 50, height: 50 }, shown: 'f0.png' })).rejects.toThrow('resize of f0.png to 50x50');
  });

  it('stops starting decodes once aborted', async () => {
    const ac = new AbortController();
    let done = 0;
    const out = await decodeImages(files, () => ({ mode: 'rgb' }), 2, ac.signal, () => { done++; ac.abort(); });
    expect(out).toBeUndefined();
    expect(done).toBeLessThanOrEqual(2);
  });
});
