/**
 * write-video's H.264 settings (encode.ts): libx264 ultrafast with CABAC turned back on
 * (ultrafast alone writes Constrained Baseline, whose CAVLC costs this ffmpeg 1.7-2.3x the CPU
 * on continuous-tone layers: bench/video.bench.ts, CPU rows) and still no B-frames, so that
 * segments stay I/P streams joined by stream copy. Checked on the stream itself: the profile
 * ffmpeg reports, the frame types in display order (a B-frame would show as 'B'), and the
 * quality of a smooth, slowly changing picture (a background layer) decoded back; the options
 * x264 itself wrote into the stream (its SEI): CABAC on and trellis off (cabac=1 alone had turned
 * x264's trellis quantisation on, ~40% of a background frame's encoding CPU); and a mask layer
 * (0/255) decoded back with every pixel on its side of 128.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoEncoder, resolveCodec } from '../../../src/core/video/io/encode.js';
import { ffmpegPath } from '../../../src/core/video/io/ffmpeg.js';
import { tempDir } from '../../helpers.js';

const tmp = tempDir('svdflow-h264-');
afterAll(() => tmp.cleanup());
const hasX264 = !resolveCodec('h264').fallback;

/** Encodes n gray w x h frames painted by `paint` (crf 20, mp4) and decodes them back: the file, the frames sent and the frames read. */
async function roundTrip(name: string, w: number, h: number, n: number, paint: (b: Uint8Array, f: number) => void) {
  const path = join(tmp.dir, name);
  const enc = new VideoEncoder({ width: w, height: h, channels: 1, fps: 25, path, codec: 'h264', crf: 20, format: 'mp4' });
  const src = new Uint8Array(n * w * h);
  for (let f = 0; f < n; f++) {
    const b = enc.buffer();
    paint(b, f);
    src.set(b, f * w * h);
    await enc.write(b, true);
  }
  await enc.finish();
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 26 });
  expect(r.status, String(r.stderr)).toBe(0);
  expect(r.stdout.length).toBe(src.length);
  return { path, src, decoded: r.stdout };
}

describe.runIf(hasX264)('H.264 encoder settings', () => {
  it('writes Main profile (CABAC), no B-frames, and a background-like picture at high quality', async () => {
    const w = 160, h = 120, n = 30;
    // a gradient under a drifting light change with a little fixed texture, as a background layer
    const { path, src, decoded } = await roundTrip('bg.mp4', w, h, n, (b, f) => {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b[y * w + x] = Math.round(60 + 0.6 * x + 0.4 * y + 20 * Math.sin((x + 2 * f) / 25) + ((x * 7 + y * 13) % 5));
    });
    const info = spawnSync(ffmpegPath(), ['-hide_banner', '-i', path], { encoding: 'utf8' }).stderr;
    expect(info).toMatch(/Video: h264 \(Main\)/);
    const shown = spawnSync(ffmpegPath(), ['-hide_banner', '-i', path, '-vf', 'showinfo', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
    const types = [...shown.matchAll(/ type:([IPB]) /g)].map((m) => m[1]);
    expect(types.length).toBe(n);
    expect(types.filter((t) => t === 'B')).toEqual([]);
    let se = 0;
    for (let i = 0; i < src.length; i++) se += (decoded[i]! - src[i]!) ** 2;
    const psnr = 10 * Math.log10((255 * 255) / (se / src.length));
    expect(psnr).toBeGreaterThan(40);
    // x264's own record of the options it encoded with (user-data SEI in the first frame)
    const sei = /x264 - core .*? options: ([^\0]*)/.exec(readFileSync(path).toString('latin1'))?.[1] ?? '';
    expect(sei).toMatch(/\bcabac=1\b/);
    expect(sei).toMatch(/\btrellis=0\b/);
    expect(sei).toMatch(/\bbframes=0\b/);
  }, 60_000);

  it('a mask layer (0/255) decodes back with every pixel on its side of 128', async () => {
    const w = 160, h = 120, n = 20;
    // two moving blobs and a speckle pattern: sharp 0/255 edges everywhere
    const { src, decoded } = await roundTrip('mask.mp4', w, h, n, (b, f) => {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const blob = (x - 20 - 4 * f) ** 2 + (y - 60) ** 2 < 300 || (Math.abs(x - 120 + 2 * f) < 12 && Math.abs(y - 30 - f) < 20);
        b[y * w + x] = blob || (x * 31 + y * 17 + f) % 97 === 0 ? 255 : 0;
      }
    });
    let wrong = 0;
    for (let i = 0; i < src.length; i++) if (decoded[i]! >= 128 !== src[i]! >= 128) wrong++;
    expect(wrong).toBe(0);
  }, 60_000);
});
