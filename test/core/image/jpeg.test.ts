/**
 * The TurboJPEG fast path (src/core/image/jpeg.ts, turbojpeg.ts): the marker scan on constructed
 * byte strings, and the contract of the fast path: the planes it gives (system libjpeg-turbo) equal
 * sharp's (libvips with mozjpeg) bit for bit
 * (stamps, seed images, generated gray / progressive / 4:2:0 / 4:4:4 / odd-sized JPEGs), files it
 * must not take go to sharp (same result as before), and bad files give sharp's one InputError.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import sharp from 'sharp';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, type ColorMode } from '../../../src/core/image/io.js';
import { scanJpeg, exifOrientation, fastPathRefusal, decoderCounts, decoderUsage, type JpegScan } from '../../../src/core/image/jpeg.js';
import { setTurboJpeg, turboJpegStatus, decodeJpegRgb, jpegHeader } from '../../../src/core/image/turbojpeg.js';
import { InputError } from '../../../src/core/errors.js';
import type { Image } from '../../../src/core/ports.js';
import { tempDir, ROOT } from '../../helpers.js';

// ---------------------------------------------------------------- constructed byte strings

const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
const str = (s: string) => [...s].map((c) => c.charCodeAt(0));
const sof = (m: number, precision: number, w: number, h: number, comps: number) => seg(m, [precision, h >> 8, h & 255, w >> 8, w & 255, comps, ...Array.from({ length: comps * 3 }, () => 1)]);
const SOS = seg(0xda, [1, 1, 0, 0, 63, 0]);
const jpeg = (...parts: number[][]) => Uint8Array.from([0xff, 0xd8, ...parts.flat(), 0x12, 0x34, 0xff, 0xd9]);
/** an APP1 Exif segment whose IFD0 holds `entries` (tag, type, count, value) in the byte order given */
function exif(le: boolean, entries: [number, number, number, number][]): number[] {
  const u16 = (v: number) => (le ? [v & 255, v >> 8] : [v >> 8, v & 255]);
  const u32 = (v: number) => (le ? [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24] : [v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255]);
  const tiff = [...(le ? str('II') : str('MM')), ...u16(42), ...u32(8), ...u16(entries.length), ...entries.flatMap(([t, ty, c, v]) => [...u16(t), ...u16(ty), ...u32(c), ...u16(v), 0, 0]), 0, 0, 0, 0];
  return seg(0xe1, [...str('Exif'), 0, 0, ...tiff]);
}

describe('scanJpeg (marker scan before the first scan)', () => {
  it('reads the frame: SOF type, precision, size, components', () => {
    const s = scanJpeg(jpeg(seg(0xe0, str('JFIF\0')), sof(0xc0, 8, 139, 170, 3), SOS)) as JpegScan;
    expect(s).toMatchObject({ sof: 0xc0, precision: 8, width: 139, height: 170, components: 3, icc: false });
    expect(s.orientation).toBeUndefined();
    expect(fastPathRefusal(s)).toBeUndefined();
    expect(fastPathRefusal(scanJpeg(jpeg(sof(0xc2, 8, 3000, 4000, 1), SOS)))).toBeUndefined(); // progressive gray
  });
  it('EXIF orientation in either byte order; 1 is fast, others go to sharp', () => {
    for (const le of [true, false]) {
      const tags: [number, number, number, number][] = [[0x010f, 2, 4, 0], [0x0112, 3, 1, 6]];
      expect((scanJpeg(jpeg(exif(le, tags), sof(0xc0, 8, 9, 7, 3), SOS)) as JpegScan).orientation).toBe(6);
      const one = scanJpeg(jpeg(exif(le, [[0x0112, 3, 1, 1]]), sof(0xc0, 8, 9, 7, 3), SOS));
      expect(fastPathRefusal(one)).toBeUndefined();
    }
    expect(fastPathRefusal(scanJpeg(jpeg(exif(true, [[0x0112, 3, 1, 8]]), sof(0xc0, 8, 9, 7, 3), SOS)))).toMatch(/orientation 8/);
    // no orientation tag at all
    expect((scanJpeg(jpeg(exif(false, [[0x010f, 2, 4, 0]]), sof(0xc0, 8, 9, 7, 3), SOS)) as JpegScan).orientation).toBeUndefined();
    // unreadable EXIF (bad byte order mark, IFD past the end, wrong type): sharp decides
    expect(exifOrientation(Uint8Array.from(str('XX*\0')))).toBeNaN();
    expect(exifOrientation(Uint8Array.from([...str('II'), 42, 0, 200, 0, 0, 0]))).toBeNaN();
    expect(fastPathRefusal(scanJpeg(jpeg(exif(true, [[0x0112, 4, 1, 1]]), sof(0xc0, 8, 9, 7, 3), SOS)))).toMatch(/EXIF/);
    // two orientation entries in IFD0 (libvips takes the last, a first-match scan the first): sharp decides
    for (const le of [true, false]) {
      expect(fastPathRefusal(scanJpeg(jpeg(exif(le, [[0x0112, 3, 1, 1], [0x0112, 3, 1, 6]]), sof(0xc0, 8, 9, 7, 3), SOS)))).toMatch(/EXIF segment the scan cannot read/);
      expect(fastPathRefusal(scanJpeg(jpeg(exif(le, [[0x0112, 3, 1, 1], [0x0112, 3, 1, 1]]), sof(0xc0, 8, 9, 7, 3), SOS)))).toMatch(/EXIF/);
    }
    // an APP1 that starts 'Exif' without the two NULs: not ignored, sharp decides
    const tiff = exif(true, [[0x0112, 3, 1, 6]]).slice(10); // the TIFF structure after 'Exif\0\0'
    for (const pad of [[], [0], [0, 1], [0x20, 0x20]]) {
      expect(fastPathRefusal(scanJpeg(jpeg(seg(0xe1, [...str('Exif'), ...pad, ...tiff]), sof(0xc0, 8, 9, 7, 3), SOS))), JSON.stringify(pad)).toMatch(/EXIF segment the scan cannot read/);
    }
    // other APP1 segments (XMP) are not EXIF
    expect(fastPathRefusal(scanJpeg(jpeg(seg(0xe1, str('http://ns.adobe.com/xap/1.0/\0<x/>')), sof(0xc0, 8, 9, 7, 3), SOS)))).toBeUndefined();
  });
  it('refuses what sharp would convert or this path does not take: ICC, CMYK, RGB-coded, 12-bit, arithmetic/lossless', () => {
    const icc = seg(0xe2, [...str('ICC_PROFILE'), 0, 1, 1, 0, 0]);
    expect(fastPathRefusal(scanJpeg(jpeg(icc, sof(0xc0, 8, 9, 7, 3), SOS)))).toMatch(/ICC/);
    expect(fastPathRefusal(scanJpeg(jpeg(sof(0xc0, 8, 9, 7, 4), SOS)))).toMatch(/CMYK/);
    expect(fastPathRefusal(scanJpeg(jpeg(seg(0xee, [...str('Adobe'), 0, 100, 0, 0, 0, 0, 0]), sof(0xc0, 8, 9, 7, 3), SOS)))).toMatch(/RGB-coded/);
    expect(fastPathRefusal(scanJpeg(jpeg(seg(0xee, [...str('Adobe'), 0, 100, 0, 0, 0, 0, 1]), sof(0xc0, 8, 9, 7, 3), SOS)))).toBeUndefined();
    expect(fastPathRefusal(scanJpeg(jpeg(sof(0xc1, 12, 9, 7, 3), SOS)))).toMatch(/12-bit/);
    expect(fastPathRefusal(scanJpeg(jpeg(sof(0xc9, 8, 9, 7, 3), SOS)))).toMatch(/SOF9/);
    expect(fastPathRefusal(scanJpeg(jpeg(sof(0xc3, 8, 9, 7, 3), SOS)))).toMatch(/SOF3/);
  });
  it('anything it cannot read goes to sharp with a reason', () => {
    expect(scanJpeg(Uint8Array.from(str('\x89PNG\r\n')))).toBe('not a JPEG file');
    const whole = jpeg(sof(0xc0, 8, 9, 7, 3), SOS);
    expect(scanJpeg(whole.subarray(0, 8))).toMatch(/ends inside/);
    expect(scanJpeg(jpeg(SOS))).toMatch(/scan before any frame/);
    expect(scanJpeg(jpeg(sof(0xc0, 8, 9, 7, 3), sof(0xc2, 8, 9, 7, 3), SOS))).toBe('two frame headers');
    expect(scanJpeg(Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]))).toMatch(/no image data/);
    expect(fastPathRefusal(scanJpeg(jpeg(sof(0xc0, 8, 0, 7, 3), SOS)))).toMatch(/no size/);
  });
});

// ---------------------------------------------------------------- the fast path vs sharp

const fastAvailable = setTurboJpeg(undefined);
const missing = fastAvailable ? undefined : `TurboJPEG is not loaded (${turboJpegStatus().reason})`;
if (missing && process.env.CI === 'true' && process.env.SVDFLOW_JPEG !== 'off') throw new Error(`${missing}, and CI=true runs every test (.ci/run installs libturbojpeg0)`);
if (missing) console.warn(`test/core/image/jpeg.test.ts: ${missing}: the bit-for-bit comparisons with sharp are skipped`);

const tmp = tempDir('svdflow-jpeg-');
afterAll(() => tmp.cleanup());
afterEach(() => void setTurboJpeg(undefined));

/** noise with strong colour, so that chroma subsampling and upsampling matter */
function noisy(w: number, h: number, ch: 1 | 3, seed: number): Buffer {
  const b = Buffer.alloc(w * h * ch);
  let s = seed >>> 0;
  for (let i = 0; i < b.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = i / ch, smooth = 128 + 100 * Math.sin(x / 7 + (i % ch)) * Math.cos(x / (w + 3));
    b[i] = Math.max(0, Math.min(255, Math.round(smooth + ((s >>> 24) - 128) * 0.4)));
  }
  return b;
}

const generated: Record<string, string> = {};
beforeAll(async () => {
  const make = async (name: string, w: number, h: number, ch: 1 | 3, opts: Parameters<ReturnType<typeof sharp>['jpeg']>[0], then?: (s: ReturnType<typeof sharp>) => ReturnType<typeof sharp>) => {
    let s = sharp(noisy(w, h, ch, w * 31 + h), { raw: { width: w, height: h, channels: ch } });
    if (ch === 1) s = s.toColourspace('b-w');
    if (then) s = then(s);
    const f = join(tmp.dir, name);
    await s.jpeg(opts).toFile(f);
    generated[name] = f;
  };
  await make('420.jpg', 160, 120, 3, { quality: 85, chromaSubsampling: '4:2:0' });
  await make('444.jpg', 160, 120, 3, { quality: 85, chromaSubsampling: '4:4:4' });
  await make('progressive.jpg', 131, 77, 3, { quality: 80, progressive: true });
  await make('gray.jpg', 97, 61, 1, { quality: 90 });
  await make('gray-progressive.jpg', 45, 33, 1, { quality: 70, progressive: true });
  await make('odd-1x1.jpg', 1, 1, 3, {});
  await make('odd-7x5-420.jpg', 7, 5, 3, { chromaSubsampling: '4:2:0' });
  await make('odd-33x17.jpg', 33, 17, 3, { chromaSubsampling: '4:4:4', quality: 95 });
  await make('odd-3x251.jpg', 3, 251, 3, { quality: 60 });
  // files the fast path must leave to sharp
  await make('rotated.jpg', 24, 16, 3, {}, (s) => s.withMetadata({ orientation: 6 }));
  await make('icc-p3.jpg', 24, 16, 3, {}, (s) => s.withIccProfile('p3'));
  await make('cmyk.jpg', 24, 16, 3, {}, (s) => s.toColourspace('cmyk'));
  const png = join(tmp.dir, 'plain.png');
  await sharp(noisy(24, 16, 3, 5), { raw: { width: 24, height: 16, channels: 3 } }).png().toFile(png);
  generated['plain.png'] = png;
});

const both = async (file: string, mode: ColorMode, extra: Partial<Parameters<typeof decodeImage>[1]> = {}) => {
  setTurboJpeg(true);
  const c0 = decoderCounts();
  const fast = await decodeImage(file, { mode, ...extra });
  const used = decoderUsage(c0);
  setTurboJpeg(false);
  const ref = await decodeImage(file, { mode, ...extra });
  return { fast, ref, used };
};
/** number of plane values that differ (as bits: Object.is) */
const diffs = (a: Image, b: Image) => {
  expect([a.width, a.height, a.color, a.planes.length]).toEqual([b.width, b.height, b.color, b.planes.length]);
  let n = 0;
  a.planes.forEach((P, k) => P.data.forEach((v, i) => void (Object.is(v, b.planes[k]!.data[i]) || n++)));
  return n;
};

describe.skipIf(!fastAvailable)('TurboJPEG fast path: the same planes as sharp, bit for bit', () => {
  it('the 22 stamps (4:4:4, Adobe APP14) in rgb, gray and ycbcr', async () => {
    const dir = join(ROOT, 'data', 'stamps');
    const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort();
    expect(files.length).toBe(22);
    for (const f of files) {
      for (const mode of ['rgb', 'gray', 'ycbcr'] as const) {
        const { fast, ref, used } = await both(join(dir, f), mode);
        expect(used).toMatchObject({ decoder: 'turbojpeg', turbojpeg: 1, sharp: 0 });
        expect(diffs(fast, ref)).toBe(0);
        expect([fast.sourceBytes, fast.name, fast.source, fast.range]).toEqual([ref.sourceBytes, ref.name, ref.source, ref.range]);
      }
    }
  });
  it('the seed turtle (4:2:0, 720 x 960) and the bundled copy', async () => {
    const files = [join(ROOT, 'data', 'turtle.JPG'), join(ROOT, '..', 'shared', 'data', 'seed', 'turtle.JPG')].filter(existsSync);
    expect(files.length).toBeGreaterThan(0); // data/turtle.JPG is in the repository: the test must not pass vacuously
    for (const f of files) {
      for (const mode of ['rgb', 'gray'] as const) {
        const { fast, ref, used } = await both(f, mode);
        expect(used.turbojpeg).toBe(1);
        expect(diffs(fast, ref)).toBe(0);
      }
    }
  });
  it('generated gray, progressive, 4:2:0, 4:4:4 and odd-sized JPEGs', async () => {
    const names = ['420.jpg', '444.jpg', 'progressive.jpg', 'gray.jpg', 'gray-progressive.jpg', 'odd-1x1.jpg', 'odd-7x5-420.jpg', 'odd-33x17.jpg', 'odd-3x251.jpg'];
    expect((scanJpeg(readFileSync(generated['gray.jpg']!)) as JpegScan).components).toBe(1);
    expect((scanJpeg(readFileSync(generated['progressive.jpg']!)) as JpegScan).sof).toBe(0xc2);
    for (const n of names) {
      for (const mode of ['rgb', 'gray', 'ycbcr'] as const) {
        const { fast, ref, used } = await both(generated[n]!, mode);
        expect(used, n).toMatchObject({ decoder: 'turbojpeg' });
        expect(diffs(fast, ref), `${n} ${mode}`).toBe(0);
      }
    }
  });
  it('rotated (EXIF 6), ICC (Display P3), CMYK, PNG and a resize go to sharp, with the reason counted', async () => {
    const cases: [string, RegExp, Partial<Parameters<typeof decodeImage>[1]>?][] = [
      ['rotated.jpg', /EXIF orientation 6/],
      ['icc-p3.jpg', /ICC profile/],
      ['cmyk.jpg', /CMYK/],
      ['plain.png', /not a JPEG/],
      ['444.jpg', /resize/, { resize: { width: 40, height: 30 } }],
    ];
    for (const [n, why, extra] of cases) {
      const { fast, ref, used } = await both(generated[n]!, 'rgb', extra);
      expect(used, n).toMatchObject({ decoder: 'sharp', turbojpeg: 0, sharp: 1 });
      expect(Object.keys(used.sharpBecause!).join(), n).toMatch(why);
      expect(diffs(fast, ref)).toBe(0);
    }
    // the known answers: the rotated 24 x 16 file is shown 16 x 24; the P3 profile changed pixels
    const rot = await decodeImage(generated['rotated.jpg']!, { mode: 'rgb' });
    expect([rot.width, rot.height]).toEqual([16, 24]);
  });
  it('a truncated JPEG is the same one InputError naming the file on both paths; corrupt data goes to sharp', async () => {
    const whole = readFileSync(join(ROOT, 'data', 'stamps', 'im_00.jpg'));
    const cut = join(tmp.dir, 'cut.jpg');
    writeFileSync(cut, whole.subarray(0, 3000));
    const messages: string[] = [];
    for (const on of [true, false]) {
      setTurboJpeg(on);
      const c0 = decoderCounts();
      const e = await decodeImage(cut, { mode: 'rgb', shown: 'cut.jpg' }).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      messages.push((e as Error).message);
      expect(decoderUsage(c0).sharp).toBe(1); // TurboJPEG's warning sent it to sharp, whose verdict counts
    }
    expect(messages[0]).toBe(messages[1]);
    expect(messages[0]).toMatch(/cut\.jpg.*truncated or corrupt/);
    // cut inside the entropy-coded data (after the markers the scan reads): TurboJPEG warns, and the
    // reason comes from the error code alone (tjGetErrorStr2's text is per thread in libjpeg-turbo 2.1,
    // read on the main thread after the decode on a libuv thread it said 'No error' or a stale text)
    const cut2 = join(tmp.dir, 'cut2.jpg');
    writeFileSync(cut2, whole.subarray(0, 20000));
    setTurboJpeg(true);
    const c1 = decoderCounts();
    await expect(decodeImage(cut2, { mode: 'rgb', shown: 'cut2.jpg' })).rejects.toBeInstanceOf(InputError);
    expect(decoderUsage(c1).sharpBecause).toEqual({ 'TurboJPEG warning (corrupt or truncated data)': 1 });
    // bytes flipped inside the entropy-coded data: whatever sharp says (pixels or an error), the fast path says too
    const bad = Buffer.from(whole);
    for (let i = 2000; i < 2400; i += 7) bad[i] = bad[i]! ^ 0x5a;
    const badFile = join(tmp.dir, 'bad.jpg');
    writeFileSync(badFile, bad);
    const outcome = async (on: boolean) => {
      setTurboJpeg(on);
      return decodeImage(badFile, { mode: 'rgb', shown: 'bad.jpg' }).then((im) => im, (x: unknown) => (x as Error).message);
    };
    const [f, r] = [await outcome(true), await outcome(false)];
    if (typeof r === 'string') expect(f).toBe(r);
    else expect(diffs(f as Image, r)).toBe(0);
  });
  it('files beyond the 64 KiB head: a JPEG whose markers run past it still takes the fast path; a large PNG goes to sharp', async () => {
    const small = readFileSync(generated['444.jpg']!);
    const com = (n: number) => [0xff, 0xfe, (n + 2) >> 8, (n + 2) & 255, ...new Array<number>(n).fill(0x41)];
    const f = join(tmp.dir, 'long-markers.jpg');
    writeFileSync(f, Buffer.concat([small.subarray(0, 2), Buffer.from([...com(40000), ...com(40000)]), small.subarray(2)]));
    const { fast, ref, used } = await both(f, 'rgb');
    expect(used).toMatchObject({ decoder: 'turbojpeg', turbojpeg: 1 });
    expect(diffs(fast, ref)).toBe(0);
    const png = join(tmp.dir, 'large.png');
    await sharp(noisy(300, 200, 3, 9), { raw: { width: 300, height: 200, channels: 3 } }).png().toFile(png);
    expect(readFileSync(png).length).toBeGreaterThan(64 << 10);
    const p = await both(png, 'rgb');
    expect(p.used).toMatchObject({ decoder: 'sharp', sharpBecause: { 'not a JPEG file': 1 } });
    expect(diffs(p.fast, p.ref)).toBe(0);
  });
  it('the pixel limit is checked from the header before decoding, with the same error as the sharp path', async () => {
    const f = join(ROOT, 'data', 'stamps', 'im_00.jpg');
    const msgs: string[] = [];
    for (const on of [true, false]) {
      setTurboJpeg(on);
      const e = await decodeImage(f, { mode: 'rgb', maxPixels: 139 * 170 - 1, shown: 'im_00.jpg' }).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      msgs.push((e as Error).message);
    }
    expect(msgs[0]).toBe(msgs[1]);
    expect(msgs[0]).toMatch(/139x170.*above the limit/);
    setTurboJpeg(true);
    expect((await decodeImage(f, { mode: 'rgb', maxPixels: 139 * 170 })).width).toBe(139);
  });
  it('without maxPixels, a small file whose header claims 65000 x 65000 goes to sharp (its default limit): one InputError naming the file, no 12 GB buffer', async () => {
    const whole = Buffer.from(readFileSync(join(ROOT, 'data', 'stamps', 'im_00.jpg')));
    const s = scanJpeg(whole) as JpegScan;
    expect([s.width, s.height]).toEqual([139, 170]);
    // patch the frame header's height and width
    let p = 2;
    while (!(whole[p] === 0xff && whole[p + 1]! >= 0xc0 && whole[p + 1]! <= 0xc2)) p += 2 + whole.readUInt16BE(p + 2);
    whole.writeUInt16BE(65000, p + 5);
    whole.writeUInt16BE(65000, p + 7);
    expect(scanJpeg(whole)).toMatchObject({ width: 65000, height: 65000 });
    const f = join(tmp.dir, 'bomb.jpg');
    writeFileSync(f, whole);
    setTurboJpeg(true);
    const c0 = decoderCounts();
    const e = await decodeImage(f, { mode: 'rgb', shown: 'bomb.jpg' }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/bomb\.jpg/);
    expect(decoderUsage(c0)).toMatchObject({ turbojpeg: 0, sharp: 1, sharpBecause: { "65000x65000 is above sharp's default pixel limit (sharp reports it)": 1 } });
  });
});

describe('TurboJPEG selection', () => {
  it('decompressor handles: one whose async call throws goes back to the pool; a NULL from tjInitDecompress is refused, never pooled', async () => {
    type L = Parameters<typeof decodeJpegRgb>[0];
    const fn = (f: (...a: unknown[]) => unknown, async: (...a: unknown[]) => void = () => {}) => Object.assign(f, { async });
    const fake = (o: { init?: () => unknown; header?: (h: unknown) => number; async?: (...a: unknown[]) => void }) =>
      ({ path: 'fake', init: fn(o.init ?? (() => { throw new Error('init not expected'); })), header: fn((h) => o.header?.(h) ?? 0), decompress: fn(() => 0, o.async), errorStr: fn(() => 'x'), errorCode: fn(() => 1) }) as unknown as L;
    const px = new Uint8Array(3), token = { handle: 1 };
    // empty the pool of the handles earlier tests left (calls that never complete keep them)
    for (let got: unknown, fresh = { fresh: 1 }; got !== fresh; ) void decodeJpegRgb(fake({ init: () => fresh, async: (h) => void (got = h) }), px, px, 1, 1);
    // NULL handles: refused without calling the library
    const nul = fake({ init: () => null, header: () => { throw new Error('header called with a NULL handle'); }, async: () => { throw new Error('decompress called with a NULL handle'); } });
    expect(jpegHeader(nul, px)).toBe('tjInitDecompress failed');
    await expect(decodeJpegRgb(nul, px, px, 1, 1)).resolves.toMatch(/tjInitDecompress failed/);
    // the async call throws synchronously: the handle is returned (the next call takes it, not a new one)
    await expect(decodeJpegRgb(fake({ init: () => token, async: () => { throw new TypeError('bad argument'); } }), px, px, 1, 1)).rejects.toThrow(/bad argument/);
    let seen: unknown;
    jpegHeader(fake({ header: (h) => ((seen = h), 0) }), px);
    expect(seen).toBe(token);
    // take the fake handle out of the pool again (a call that never completes keeps it)
    void decodeJpegRgb(fake({}), px, px, 1, 1);
  });
  it('SVDFLOW_JPEG=off or an unloadable path: sharp decodes, and the reason is reported', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = "import('./src/core/image/io.ts').then(async (io) => { const j = await import('./src/core/image/jpeg.ts'); const t = await import('./src/core/image/turbojpeg.ts'); const im = await io.decodeImage('data/stamps/im_00.jpg', { mode: 'rgb' }); console.log(JSON.stringify({ w: im.width, used: j.decoderUsage(), status: t.turboJpegStatus() })); })";
    for (const [env, why] of [['off', /SVDFLOW_JPEG=off/], ['/nonexistent/libturbojpeg.so', /SVDFLOW_JPEG=\/nonexistent\/libturbojpeg\.so could not be loaded/]] as const) {
      const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...process.env, SVDFLOW_JPEG: env }, encoding: 'utf8' }).trim().split('\n').pop()!);
      expect(out.w).toBe(139);
      expect(out.used).toMatchObject({ decoder: 'sharp', turbojpeg: 0, sharp: 1 });
      expect(out.status.loaded).toBe(false);
      expect(out.status.reason).toMatch(why);
      expect(Object.keys(out.used.sharpBecause).join()).toMatch(why);
    }
  });
});

describe('run.json says which decoder read the images', () => {
  it('a folder of two stamps (TurboJPEG, when loaded) and a PNG (sharp): counts and the reason', async () => {
    const { runPipelineFile } = await import('../../../src/index.js');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    const dir = join(tmp.dir, 'run');
    mkdirSync(join(dir, 'imgs'), { recursive: true });
    for (const n of ['im_00.jpg', 'im_01.jpg']) copyFileSync(join(ROOT, 'data', 'stamps', n), join(dir, 'imgs', n));
    await sharp(join(ROOT, 'data', 'stamps', 'im_02.jpg')).png().toFile(join(dir, 'imgs', 'im_02.png'));
    writeFileSync(join(dir, 'p.yaml'), 'name: decoders\nsteps:\n  - { id: imgs, stage: load, params: { path: imgs } }\n  - { id: n, stage: normalize, params: { by: dtype } }\n');
    await runPipelineFile(join(dir, 'p.yaml'), { outDir: join(dir, 'out'), progress: false });
    const run = JSON.parse(readFileSync(join(dir, 'out', 'run.json'), 'utf8')) as { decoder: ReturnType<typeof decoderUsage> };
    if (fastAvailable) expect(run.decoder).toEqual({ decoder: 'both', turbojpeg: 2, sharp: 1, sharpBecause: { 'not a JPEG file': 1 } });
    else expect(run.decoder).toMatchObject({ decoder: 'sharp', turbojpeg: 0, sharp: 3 });
  });

  it('two runs at once in one process each count their own images: 22 stamps in one, 2 stamps + 1 PNG in the other', async () => {
    const { runPipelineFile } = await import('../../../src/index.js');
    const dir = join(tmp.dir, 'run2');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(join(dir, 'imgs'), { recursive: true });
    for (const n of ['im_00.jpg', 'im_01.jpg']) copyFileSync(join(ROOT, 'data', 'stamps', n), join(dir, 'imgs', n));
    await sharp(join(ROOT, 'data', 'stamps', 'im_02.jpg')).png().toFile(join(dir, 'imgs', 'im_02.png'));
    const yaml = (path: string) => `name: decoders\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(path)} } }\n  - { id: n, stage: normalize, params: { by: dtype } }\n`;
    writeFileSync(join(dir, 'small.yaml'), yaml('imgs'));
    writeFileSync(join(dir, 'stamps.yaml'), yaml(join(ROOT, 'data', 'stamps')));
    const stamps = readdirSync(join(ROOT, 'data', 'stamps')).filter((n) => n.endsWith('.jpg')).length;
    expect(stamps).toBe(22);
    const before = decoderCounts();
    await Promise.all([
      runPipelineFile(join(dir, 'stamps.yaml'), { outDir: join(dir, 'out-stamps'), progress: false }),
      runPipelineFile(join(dir, 'small.yaml'), { outDir: join(dir, 'out-small'), progress: false }),
    ]);
    const of = (o: string) => (JSON.parse(readFileSync(join(dir, o, 'run.json'), 'utf8')) as { decoder: ReturnType<typeof decoderUsage> }).decoder;
    if (fastAvailable) {
      expect(of('out-stamps')).toEqual({ decoder: 'turbojpeg', turbojpeg: 22, sharp: 0 });
      expect(of('out-small')).toEqual({ decoder: 'both', turbojpeg: 2, sharp: 1, sharpBecause: { 'not a JPEG file': 1 } });
    } else {
      expect(of('out-stamps')).toMatchObject({ decoder: 'sharp', turbojpeg: 0, sharp: 22 });
      expect(of('out-small')).toMatchObject({ decoder: 'sharp', turbojpeg: 0, sharp: 3 });
    }
    // the process's counts hold both runs' (what a caller outside any run sees)
    const all = decoderUsage(before);
    expect(all.turbojpeg + all.sharp).toBe(25);
  });
});

describe('cancellation while converting a large image', () => {
  it('an aborted signal stops a large image between chunks with CancelledError, on both paths; a small one is unaffected', async () => {
    const { CancelledError } = await import('../../../src/core/errors.js');
    const { FILL_CHUNK } = await import('../../../src/core/image/io.js');
    const [w, h] = [1100, 1000]; // more than 4 chunks of FILL_CHUNK pixels
    expect(w * h).toBeGreaterThan(4 * FILL_CHUNK);
    const f = join(tmp.dir, 'large.jpg');
    await sharp(noisy(w, h, 3, 3), { raw: { width: w, height: h, channels: 3 } }).jpeg().toFile(f);
    const ac = new AbortController();
    ac.abort('interrupted');
    for (const on of [true, false]) {
      setTurboJpeg(on);
      await expect(decodeImage(f, { mode: 'rgb', signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
      expect((await decodeImage(f, { mode: 'gray' })).width).toBe(w);
      expect((await decodeImage(generated['444.jpg']!, { mode: 'rgb', signal: ac.signal })).width).toBe(160);
    }
  });
});
