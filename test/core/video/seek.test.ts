/**
 * Frame-exact seeking in video files (src/core/video/io/seek.ts): a `start` or a segment's
 * window far into a file decodes from the keyframe before it, and gives exactly the frames
 * of a whole decode of the same file at those numbers (the oracle: ffmpeg decoding every
 * frame, sliced here). Containers with presentation timestamps (MP4 with B-frames at
 * 30000/1001 fps, MPEG-TS starting at 7 s, Matroska's millisecond time base) and without
 * them (H.264 in AVI, numbered by decoding order; MJPEG AVI).
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { tempDir } from '../../helpers.js';
import { planDecode, decodeFrames } from '../../../src/core/video/io/decode.js';
import { planSeek } from '../../../src/core/video/io/seek.js';
import { ffmpegPath } from '../../../src/core/video/io/ffmpeg.js';

const tmp = tempDir('svdflow-seek-');
const W = 96, H = 64;
const ff = (args: string[]) => {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 1 << 28 });
  expect(r.status, String(r.stderr)).toBe(0);
  return r.stdout;
};
// testsrc draws a frame counter and a moving pattern: every frame differs
const src = (rate: string) => ['-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=${rate}:duration=14`];
const files: Record<string, string[]> = {
  'bframes.mp4': [...src('30000/1001'), '-c:v', 'libx264', '-g', '25', '-bf', '3', '-pix_fmt', 'yuv420p'],
  'offset.ts': [...src('25'), '-c:v', 'libx264', '-g', '30', '-bf', '2', '-pix_fmt', 'yuv420p', '-output_ts_offset', '7'],
  'ms.mkv': [...src('24'), '-c:v', 'libx264', '-g', '24', '-bf', '2', '-pix_fmt', 'yuv420p'],
  'h264.avi': [...src('25'), '-c:v', 'libx264', '-g', '25', '-bf', '2', '-pix_fmt', 'yuv420p'],
  'mjpeg.avi': [...src('25'), '-c:v', 'mjpeg'],
};
const whole: Record<string, Buffer> = {};
beforeAll(() => {
  for (const [name, args] of Object.entries(files)) {
    const path = join(tmp.dir, name);
    ff([...args, path]);
    whole[name] = ff(['-i', path, '-an', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1']);
  }
}, 120_000);
afterAll(() => tmp.cleanup());

describe('frame-exact seeking in video files', () => {
  for (const name of Object.keys(files)) {
    it(`${name}: frames from a start far into the file equal a whole decode's, and the decoder seeks`, async () => {
      const path = join(tmp.dir, name);
      const all = whole[name]!;
      const total = all.length / (W * H);
      expect(total).toBeGreaterThan(300);
      for (const [start, n] of [[1, 5], [97, 20], [251, 30], [total - 12, 12]] as const) {
        const plan = await planDecode({ path, color: 'gray', start, end: start + n - 1 });
        const frames = await lastValueFrom(decodeFrames(plan, path).pipe(toArray()));
        expect(frames.map((f) => f.index), `${name} from ${start}`).toEqual(Array.from({ length: n }, (_, i) => start + i));
        frames.forEach((f) => expect(Buffer.from(f.data).equals(all.subarray(f.index * W * H, (f.index + 1) * W * H)), `${name}: frame ${f.index}`).toBe(true));
        // past the seek margin (3 s) the decoder starts at a keyframe, not at frame 0
        if (start >= 251) expect(plan.args, `${name} from ${start}`).toContain('-ss');
      }
    }, 120_000);
  }

  it('a segment window of a video file seeks the same way (what --workers asks of each segment)', async () => {
    const path = join(tmp.dir, 'bframes.mp4');
    const plan = await planDecode({ path, color: 'gray', window: { start: 300, end: 330 } });
    expect(plan.args).toContain('-ss');
    expect(plan.firstIndex).toBe(300);
    const frames = await lastValueFrom(decodeFrames(plan, path).pipe(toArray()));
    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 30 }, (_, i) => 300 + i));
    frames.forEach((f) => expect(Buffer.from(f.data).equals(whole['bframes.mp4']!.subarray(f.index * W * H, (f.index + 1) * W * H)), `frame ${f.index}`).toBe(true));
  }, 60_000);

  it('gives up (undefined: the caller trims by count) past the last frame or on a file that is not a video', async () => {
    expect(await planSeek(join(tmp.dir, 'bframes.mp4'), 10_000)).toBeUndefined();
    expect(await planSeek(join(tmp.dir, 'missing.mp4'), 10)).toBeUndefined();
  }, 30_000);
});
