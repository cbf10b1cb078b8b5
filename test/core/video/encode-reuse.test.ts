/**
 * The encoder's frame buffers are reused once ffmpeg's pipe has taken them (no allocation per
 * frame): every frame still arrives intact (lossless FFV1 decoded back and compared byte for
 * byte), and the reuse does happen (the control: the same buffer comes back from buffer()).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { VideoEncoder } from '../../../src/core/video/io/encode.js';
import { ffmpegPath } from '../../../src/core/video/io/ffmpeg.js';
import { tempDir } from '../../helpers.js';

const tmp = tempDir('svdflow-encode-');
afterAll(() => tmp.cleanup());

describe('VideoEncoder buffer reuse', () => {
  it('reused buffers give every frame intact, and buffers are reused', async () => {
    const w = 320, h = 240, n = 40; // frames larger than the pipe stream's 16 KiB buffer, as real ones: each write waits for the pipe
    const path = join(tmp.dir, 'frames.mkv');
    const enc = new VideoEncoder({ width: w, height: h, channels: 1, fps: 25, path, codec: 'ffv1', crf: 0, format: 'matroska' });
    const expected = Buffer.alloc(n * w * h);
    const seen = new Set<Uint8Array>();
    for (let f = 0; f < n; f++) {
      const b = enc.buffer();
      seen.add(b);
      // a frame unlike its neighbours: a reused buffer written too early would show another frame's bytes
      for (let p = 0; p < w * h; p++) b[p] = (p * 7 + f * 31 + ((p >> 6) ^ f) * 13) & 255;
      expected.set(b, f * w * h);
      await enc.write(b, true);
    }
    await enc.finish();
    expect(seen.size).toBeLessThan(n / 2);
    const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 26 });
    expect(r.status, String(r.stderr)).toBe(0);
    expect(r.stdout.length).toBe(expected.length);
    expect(r.stdout.equals(expected)).toBe(true);
  }, 60_000);
});
