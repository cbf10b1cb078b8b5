/**
 * A segment's window on a looped image sequence (what --workers asks of each segment on
 * `loop: 9` benchmarks): whole passes before the window are skipped instead of decoded and
 * dropped, and the frames are still exactly those of the full looped stream at those numbers
 * (the oracle: ffmpeg decoding the whole looped sequence, sliced here).
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { ROOT, tempDir } from '../../helpers.js';
import { planDecode, decodeFrames } from '../../../src/core/video/io/decode.js';
import { ffmpegPath } from '../../../src/core/video/io/ffmpeg.js';

const tmp = tempDir('svdflow-window-');
const pattern = join(tmp.dir, 'in%06d.png');
const W = 160, H = 120, N = 12;
beforeAll(() => {
  // 12 different frames of the bundled clip as a numbered sequence starting at 1 (as CDnet's)
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', join(ROOT, 'data/video/synthetic/clip.mp4'), '-vf', 'select=not(mod(n\\,7))', '-vsync', '0', '-frames:v', String(N), '-start_number', '1', pattern]);
  expect(r.status, String(r.stderr)).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('decode window on a looped sequence', () => {
  it('skips whole passes (fewer -stream_loop) and gives the frames of the full looped stream', async () => {
    const full = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-stream_loop', '3', '-f', 'image2', '-start_number', '1', '-i', pattern, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 26 }).stdout;
    expect(full.length).toBe(4 * N * W * H);
    for (const [start, end] of [[30, 41], [25, 48], [3, 20], [36, null]] as const) {
      const plan = await planDecode({ path: pattern, color: 'gray', loop: 3, window: { start, end } });
      // the window from frame `start` needs only the passes from floor((start - 1) / N) on
      const passes = Number(plan.args[plan.args.indexOf('-stream_loop') + 1] ?? 0) + 1;
      expect(plan.args.includes('-stream_loop') ? passes : 1).toBe(4 - Math.floor((start - 1) / N));
      const frames = await lastValueFrom(decodeFrames(plan, pattern).pipe(toArray()));
      const last = end ?? 4 * N + 1;
      expect(frames.map((f) => f.index)).toEqual(Array.from({ length: last - start }, (_, i) => start + i));
      frames.forEach((f) => expect(Buffer.from(f.data).equals(full.subarray((f.index - 1) * W * H, f.index * W * H)), `frame ${f.index} of window ${start}-${end}`).toBe(true));
    }
  }, 120_000);
});
