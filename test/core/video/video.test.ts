import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, toArray, Observable, take } from 'rxjs';
import { writeFileSync, readFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir, until, hasSharedPath, shared, sharedMissingMessage } from '../../helpers.js';
import { readBmp, writeBmp8 } from '../../../src/core/video/bmp.js';
import { dilate, erode, openClose } from '../../../src/core/video/morphology.js';
import { accumulate, emptyConfusion, scores } from '../../../src/core/video/score.js';
import { formatSequence } from '../../../src/core/video/sequence.js';
import { scanSequence } from '../../../src/core/video/io/sequence-files.js';
import { planDecode, decodeFrames } from '../../../src/core/video/io/decode.js';
import { parseProbe, ffmpegPath } from '../../../src/core/video/io/ffmpeg.js';
import { spawnSync } from 'node:child_process';
import { FlowControl } from '../../../src/core/flow.js';
import { ChildRegistry } from '../../../src/core/children.js';
import { synthFrame } from '../../fixtures/synth-video.js';
import { decodeState, encodeState } from '../../../src/core/video/state.js';
import { ScaleGrid } from '../../../src/core/video/background.js';
import type { Frame } from '../../../src/core/ports.js';

const CLIP = join(ROOT, 'data/video/synthetic/clip.mp4');
const tmp = tempDir('svdflow-video-');
afterAll(() => tmp.cleanup());

describe('bmp', () => {
  it('reads an 8-bit palette BMP it wrote (bottom-up rows, padding)', () => {
    const w = 5, h = 3;
    const data = Uint8Array.from({ length: w * h }, (_, i) => i * 10);
    const img = readBmp(writeBmp8({ width: w, height: h, data }));
    expect([img.width, img.height]).toEqual([w, h]);
    expect([...img.data]).toEqual([...data]);
  });
  it('reads a 24-bit BMP (BGR, rows padded to 4 bytes)', () => {
    const w = 2, h = 2, row = 8, off = 54;
    const buf = new Uint8Array(off + row * h);
    const dv = new DataView(buf.buffer);
    buf.set([0x42, 0x4d]);
    dv.setUint32(10, off, true); dv.setUint32(14, 40, true); dv.setInt32(18, w, true); dv.setInt32(22, h, true); dv.setUint16(28, 24, true);
    // bottom row first: (0,1) white, (1,1) black; top row: (0,0) pure blue, (1,0) pure red
    buf.set([255, 255, 255, 0, 0, 0], off);
    buf.set([255, 0, 0, 0, 0, 255], off + row);
    const img = readBmp(buf);
    expect([...img.data]).toEqual([Math.round(0.114 * 255), Math.round(0.299 * 255), 255, 0]);
  });
  it('rejects non-BMP and truncated files with a reason', () => {
    expect(() => readBmp(new Uint8Array(60), 'x.bmp')).toThrow('x.bmp is not a BMP file (it does not start with "BM")');
    const good = writeBmp8({ width: 8, height: 8, data: new Uint8Array(64) });
    expect(() => readBmp(good.subarray(0, good.length - 10), 'roi.bmp')).toThrow(/roi.bmp is truncated/);
  });
  const roi = 'cdnet/highway/ROI.bmp';
  if (!hasSharedPath(roi)) it.skip(sharedMissingMessage(roi), () => undefined);
  else it('reads the shared CDnet ROI.bmp as all-255', () => {
    const buf = readFileSync(shared(roi));
    const img = readBmp(buf);
    expect([img.width, img.height]).toEqual([320, 240]);
    expect(img.data.every((v) => v === 255)).toBe(true);
  });
});

describe('morphology and scores', () => {
  it('opening removes an isolated pixel and closing fills a one-pixel hole', () => {
    const w = 11, h = 11;
    const m = new Uint8Array(w * h);
    m[0 * w + 10] = 1; // speck
    for (let y = 2; y < 9; y++) for (let x = 2; x < 9; x++) m[y * w + x] = 1;
    m[5 * w + 5] = 0; // hole
    openClose(m, w, h, 1, 1);
    expect(m[10]).toBe(0);
    expect(m[5 * w + 5]).toBe(1);
    expect(m.reduce((s, v) => s + v, 0)).toBe(49);
  });
  it('dilate then erode with radius 2 on a single pixel', () => {
    const w = 7, h = 7, m = new Uint8Array(49);
    m[3 * 7 + 3] = 1;
    const d = dilate(m, w, h, 2);
    expect(d.reduce((s, v) => s + v, 0)).toBe(25);
    expect(erode(d, w, h, 2).reduce((s, v) => s + v, 0)).toBe(1);
  });
  it('dilate and erode equal a brute-force square window (word-packed and byte paths, borders, offsets)', () => {
    const naive = (m: Uint8Array, w: number, h: number, r: number, er: boolean) => {
      const o = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        let any = false, all = true;
        for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy, xx = x + dx;
          const v = yy < 0 || yy >= h || xx < 0 || xx >= w ? (er ? 1 : 0) : m[yy * w + xx]!;
          any ||= v === 1;
          all &&= v === 1;
        }
        o[y * w + x] = (er ? all : any) ? 1 : 0;
      }
      return o;
    };
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const [w, h, off] of [[64, 40, 0], [63, 41, 0], [64, 40, 1], [5, 3, 0]] as const) {
      for (const density of [0.15, 0.85]) {
        const buf = new Uint8Array(w * h + 8);
        const m = buf.subarray(off, off + w * h);
        for (let i = 0; i < m.length; i++) m[i] = rnd() < density ? 1 : 0;
        for (const r of [1, 2, 4]) {
          expect([...dilate(m, w, h, r)], `dilate ${w}x${h}+${off} r${r}`).toEqual([...naive(m, w, h, r, false)]);
          expect([...erode(m, w, h, r)], `erode ${w}x${h}+${off} r${r}`).toEqual([...naive(m, w, h, r, true)]);
        }
      }
    }
  });
  it('scores follow CDnet rules (50 is background, 85/170 ignored, ROI respected)', () => {
    const gt = Uint8Array.from([255, 255, 0, 50, 85, 170, 255, 0]);
    const mask = Uint8Array.from([1, 0, 1, 0, 1, 1, 1, 1]);
    const roi = Uint8Array.from([255, 255, 255, 255, 255, 255, 0, 0]);
    const c = accumulate(emptyConfusion(), mask, gt, roi);
    expect(c).toEqual({ tp: 1, fn: 1, fp: 1, tn: 1 });
    const s = scores(c);
    expect(s.fMeasure).toBeCloseTo(0.5, 12);
    expect(s.pwc).toBeCloseTo(50, 12);
  });
});

describe('model grid (modelScale)', () => {
  it('box-downsamples by 2 (odd sizes average the pixels that exist) and upsamples a linear ramp exactly inside', () => {
    const w = 7, h = 5, g = new ScaleGrid(w, h, 1, 2);
    expect([g.sw, g.sh, g.size]).toEqual([4, 3, 12]);
    const x = Uint8Array.from({ length: w * h }, (_, i) => i);
    const s = g.down(x, 0, 1, new Float64Array(g.size));
    expect(s[0]).toBeCloseTo((0 + 1 + 7 + 8) / 4, 12);
    expect(s[3]).toBeCloseTo((6 + 13) / 2, 12); // last column: one pixel wide
    expect(s[11]).toBeCloseTo(34, 12); // corner: one pixel
    // ramp 3x + 5y sampled at the small pixels' centres; bilinear upsampling gives it back away from the borders
    const G = new ScaleGrid(16, 12, 1, 2);
    const small = Float64Array.from({ length: G.size }, (_, q) => 3 * (2 * (q % 8) + 0.5) + 5 * (2 * Math.floor(q / 8) + 0.5));
    const out = new Float64Array(16 * 12);
    G.upAdd(small, new Float64Array(16 * 12), out, 0);
    for (let y = 1; y < 11; y++) for (let x2 = 1; x2 < 15; x2++) expect(out[y * 16 + x2]).toBeCloseTo(3 * x2 + 5 * y, 9);
    // factor 1 is the identity both ways
    const one = new ScaleGrid(3, 2, 3, 1);
    const rgb = Uint8Array.from({ length: 18 }, (_, i) => i * 7);
    const d = one.down(rgb, 0, 1, new Float64Array(18));
    expect([...d]).toEqual([...rgb]);
    const back = new Float64Array(18);
    one.upAdd(d, new Float64Array(18), back, 0);
    expect([...back]).toEqual([...rgb]);
  });
});

describe('sequences, probe and state', () => {
  it('formats and scans numbered files', () => {
    expect(formatSequence('in%06d.jpg', 7)).toBe('in000007.jpg');
    const dir = join(tmp.dir, 'seq');
    mkdirSync(dir);
    for (const n of [3, 4, 5, 7]) writeFileSync(join(dir, formatSequence('in%06d.jpg', n)), '');
    expect(scanSequence(join(dir, 'in%06d.jpg'))).toMatchObject({ first: 3, last: 5, count: 3 });
    expect(() => scanSequence(join(dir, 'gt%06d.png'))).toThrow(/no files match the image sequence/);
  });
  it('parses ffmpeg -i output', () => {
    const info = parseProbe('  Duration: 00:01:19.71, start: 0.000000\n    Stream #0:0: Video: h264 (High) (H264 / 0x34363248), yuv420p(tv, bt709, progressive), 480x360 [SAR 1:1 DAR 4:3], 178 kb/s, 10 fps, 10 tbr', 'v.avi');
    expect(info).toMatchObject({ width: 480, height: 360, fps: 10, frames: 797, codec: 'h264' });
  });
  it('round-trips model state with typed arrays', () => {
    const st = decodeState(encodeState({ frames: 7, a: Float64Array.from([1.5, -2]), m: Uint8Array.from([1, 2, 3]) }));
    expect(st.frames).toBe(7);
    expect([...(st.a as Float64Array)]).toEqual([1.5, -2]);
    expect([...(st.m as Uint8Array)]).toEqual([1, 2, 3]);
    const fromBuffer = decodeState(Buffer.concat([Buffer.alloc(3), Buffer.from(encodeState({ a: Float64Array.from([4, 5]) }))]).subarray(3));
    expect([...(fromBuffer.a as Float64Array)]).toEqual([4, 5]);
  });
});

describe('decode', () => {
  it('decodes the bundled clip frame-exactly (within codec error) with frame numbers', async () => {
    const plan = await planDecode({ path: CLIP, color: 'gray' });
    expect([plan.width, plan.height, plan.expected]).toEqual([160, 120, 120]);
    const frames = await lastValueFrom(decodeFrames(plan, CLIP).pipe(toArray()));
    expect(frames.length).toBe(120);
    expect(frames[5]!.index).toBe(5);
    const ref = synthFrame(5).data;
    let err = 0;
    for (let i = 0; i < ref.length; i++) err += Math.abs(ref[i]! - frames[5]!.data[i]!);
    expect(err / ref.length).toBeLessThan(3);
  });
  it('applies crop, scale and range', async () => {
    const plan = await planDecode({ path: CLIP, color: 'rgb', crop: { x: 10, y: 20, width: 100, height: 60 }, scale: 0.5, start: 10, end: 19 });
    const frames = await lastValueFrom(decodeFrames(plan, CLIP).pipe(toArray()));
    expect(frames.map((f) => f.index)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect([frames[0]!.width, frames[0]!.height, frames[0]!.channels, frames[0]!.data.length]).toEqual([50, 30, 3, 50 * 30 * 3]);
  });
  it('gives clear errors for a missing, corrupt, truncated or frame-less video and a bad crop', async () => {
    await expect(planDecode({ path: join(tmp.dir, 'nope.mp4'), color: 'gray' })).rejects.toThrow(`video file not found: ${join(tmp.dir, 'nope.mp4')}`);
    const bad = join(tmp.dir, 'bad.mp4');
    writeFileSync(bad, 'this is not a video at all');
    await expect(planDecode({ path: bad, color: 'gray' })).rejects.toThrow(/cannot read video .*bad\.mp4: .*Invalid data found when processing input/);
    const trunc = join(tmp.dir, 'trunc.mp4');
    writeFileSync(trunc, readFileSync(CLIP).subarray(0, 20000));
    await expect(planDecode({ path: trunc, color: 'gray' })).rejects.toThrow(/cannot read video .*trunc\.mp4: moov atom not found; Invalid data found/);
    await expect(planDecode({ path: CLIP, color: 'gray', crop: { x: 100, y: 0, width: 100, height: 10 } })).rejects.toThrow('crop 100x10+100+0 does not fit in the 160x120 frames');
    // a truncated file whose header (moov first) announces every frame still opens: the decoder must notice
    const fast = join(tmp.dir, 'fast.mp4');
    spawnSync(ffmpegPath(), ['-loglevel', 'error', '-i', CLIP, '-c', 'copy', '-movflags', '+faststart', '-y', fast]);
    const cut = join(tmp.dir, 'cut.mp4');
    writeFileSync(cut, readFileSync(fast).subarray(0, Math.floor(readFileSync(fast).length / 2)));
    const plan = await planDecode({ path: cut, color: 'gray' });
    await expect(lastValueFrom(decodeFrames(plan, cut).pipe(toArray()))).rejects.toThrow(/cut\.mp4 is truncated or corrupt: decoded \d+ frames, its header announces 120 \(ffmpeg: .*Invalid data found/);
    // zero frames: a file without a video stream, and a decode that yields nothing
    const zero = join(tmp.dir, 'zero.mp4');
    spawnSync(ffmpegPath(), ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-frames:v', '0', '-y', zero]);
    await expect(planDecode({ path: zero, color: 'gray' })).rejects.toThrow(`${zero} has no video stream`);
    const p0 = await planDecode({ path: CLIP, color: 'gray' });
    const i = p0.args.indexOf('rawvideo') - 1;
    const empty = { ...p0, args: [...p0.args.slice(0, i), '-frames:v', '0', ...p0.args.slice(i)], expected: 0 };
    await expect(lastValueFrom(decodeFrames(empty, CLIP).pipe(toArray()))).rejects.toThrow(`${CLIP} has no frames`);
  });
  it('pauses ffmpeg while the valve is closed (bounded frames in flight) and kills it on unsubscribe', async () => {
    const flow = new FlowControl();
    const reg = new ChildRegistry();
    const plan = await planDecode({ path: CLIP, color: 'gray', loop: 20 });
    const token = {};
    const got: Frame[] = [];
    await new Promise<void>((resolve) => {
      const sub = decodeFrames(plan, CLIP, { flow, spawn: (c, a) => reg.spawn(c, a) }).subscribe((f) => {
        got.push(f);
        if (got.length === 1) {
          flow.hold(token);
          setTimeout(() => {
            // 19200-byte frames, 64 KiB pipe chunks: at most a few chunks arrive after the pause
            expect(got.length).toBeLessThan(12);
            expect(reg.size).toBe(1);
            sub.unsubscribe();
            resolve();
          }, 700);
        }
      });
    });
    await until(() => reg.size === 0, 'every child of the registry to end');
  });
});

void Observable; void take; void copyFileSync;
