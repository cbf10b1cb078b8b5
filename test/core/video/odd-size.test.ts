/**
 * A video of odd size (the new-user trial's 321 x 239 with audio): 4:2:0 H.264/MPEG-4 need even
 * sides, so the written videos gain a column/row; it repeats the last one (pad alone left a black
 * line), and every written video's description says the size it has and that the input's audio is
 * not carried over. Checked on the file itself (lossless gray: exact pixels), the probe, the wording.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { VideoEncoder, encodedSize } from '../../../src/core/video/io/encode.js';
import { ffmpegPath, parseProbe } from '../../../src/core/video/io/ffmpeg.js';
import { joinedDescription } from '../../../src/core/video/io/stitch.js';
import { videoDescription } from '../../../src/stages/write-video.js';
import { tempDir } from '../../helpers.js';

const tmp = tempDir('svdflow-odd-');
afterAll(() => tmp.cleanup());

describe('odd-size videos', () => {
  it('a 7 x 5 gray video is written 8 x 6 with its last column and row repeated (not black)', async () => {
    const w = 7, h = 5, n = 3;
    for (const codec of ['h264', 'mpeg4'] as const) {
      const path = join(tmp.dir, `odd-${codec}.mkv`);
      // crf 0: lossless gray (H.264); MPEG-4 part 2 is lossy: compared within its error
      const enc = new VideoEncoder({ width: w, height: h, channels: 1, fps: 7, path, codec, crf: 0, format: 'matroska' });
      const src = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src[y * w + x] = 40 + 25 * x + 5 * y;
      for (let f = 0; f < n; f++) await enc.write(src.slice());
      await enc.finish();
      const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 20 });
      const W = 8, H = 6;
      expect(r.stdout.length).toBe(n * W * H);
      const px = (x: number, y: number) => r.stdout[y * W + x]!;
      // the picture as sent (within the codec's error), and the added column 7 and row 5 equal to the
      // column 6 and row 4 decoded (pad alone left 0 there; the pixels here are 40..210)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(Math.abs(px(x, y) - src[y * w + x]!), `${codec} (${x}, ${y})`).toBeLessThanOrEqual(16);
      for (let y = 0; y < H; y++) expect(Math.abs(px(7, y) - px(6, y)), `${codec} column 7, row ${y}`).toBeLessThanOrEqual(3);
      for (let x = 0; x < W; x++) expect(Math.abs(px(x, 5) - px(x, 4)), `${codec} row 5, column ${x}`).toBeLessThanOrEqual(3);
      expect(px(7, 5)).toBeGreaterThan(150);
    }
  });

  it('encodedSize: even sides for H.264/MPEG-4, any for FFV1', () => {
    expect(encodedSize(321, 239, 'h264')).toEqual({ width: 322, height: 240, padded: true });
    expect(encodedSize(320, 239, 'mpeg4')).toEqual({ width: 320, height: 240, padded: true });
    expect(encodedSize(320, 240, 'h264')).toEqual({ width: 320, height: 240, padded: false });
    expect(encodedSize(321, 239, 'ffv1')).toEqual({ width: 321, height: 239, padded: false });
  });

  it('the probe tells an audio stream; the description says the size written and that the audio is not carried over', () => {
    const head = 'Input #0, mov,mp4,m4a,3gp,3g2,mj2, from \'odd.mp4\':\n  Duration: 00:00:06.00, start: 0.000000, bitrate: 107 kb/s\n';
    const video = '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 321x239 [SAR 1:1 DAR 321:239], 40 kb/s, 7 fps, 7 tbr, 14336 tbn (default)\n';
    const audio = '  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)\n';
    expect(parseProbe(head + video + audio, 'odd.mp4')).toMatchObject({ width: 321, height: 239, fps: 7, frames: 42, audio: true });
    expect(parseProbe(head + video, 'odd.mp4').audio).toBe(false);
    expect(videoDescription('mask', 42, { width: 321, height: 239 }, 'h264', true)).toBe("mask video, 42 frames; 322x240: the input's 321x239 with its last column and row repeated (H.264/MPEG-4 need even sizes); no audio (the input's is not carried over)");
    expect(videoDescription('background', 1, { width: 320, height: 239 }, 'h264', false)).toBe("background video, 1 frame; 320x240: the input's 320x239 with its last row repeated (H.264/MPEG-4 need even sizes)");
    expect(videoDescription('mask', 5, { width: 321, height: 239 }, 'ffv1', false)).toBe('mask video, 5 frames');
    const d = videoDescription('mask', 1, { width: 320, height: 240 }, 'h264', false);
    expect(joinedDescription([{ description: d }, { description: d }] as never)).toBe('mask video, 2 frames (2 segments joined)');
    expect(joinedDescription([{ description: d }] as never)).toBe('mask video, 1 frame (1 segment joined)');
  });
});
