/**
 * A synthetic fixed-camera clip with exact foreground masks: a textured
 * background whose brightness drifts slowly, a bright rectangle moving right and
 * a dark disc moving diagonally. Used for the bundled clip (data/video/) and tests.
 *
 *   npx tsx src/core/video/synth.ts data/video/synthetic   # writes clip.mp4 + CDnet-style ground truth
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { VideoEncoder } from './io/encode.js';
import { writeBmp8 } from './bmp.js';
import { formatSequence } from './sequence.js';

export interface SynthOptions {
  width?: number;
  height?: number;
  frames?: number;
  /** brightness drift amplitude (0 = static light) */
  drift?: number;
  /** draw the moving objects (false = static scene) */
  objects?: boolean;
}

export interface SynthFrame {
  /** width*height gray bytes */
  data: Uint8Array;
  /** width*height, 255 foreground, 0 background */
  mask: Uint8Array;
}

export function synthFrame(t: number, o: SynthOptions = {}): SynthFrame {
  const w = o.width ?? 160, h = o.height ?? 120, n = o.frames ?? 120;
  const drift = o.drift ?? 0.08;
  const gain = 1 + drift * Math.sin((2 * Math.PI * t) / n);
  const data = new Uint8Array(w * h);
  const mask = new Uint8Array(w * h);
  // objects: a bright 22x14 rectangle moving right, a dark disc (radius 9) moving diagonally
  const rx = Math.round(-22 + ((t * 2) % (w + 22))), ry = Math.round(h * 0.3);
  const cx = 10 + ((t * 1.5) % (w - 20)), cy = 12 + ((t * 0.8) % (h - 24));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const tex = 0.45 + 0.12 * Math.sin(x / 7) * Math.cos(y / 9) + 0.08 * (((x * 7 + y * 13) % 17) / 17);
      let v = Math.min(1, tex * gain);
      let fg = false;
      if (o.objects !== false) {
        if (x >= rx && x < rx + 22 && y >= ry && y < ry + 14) {
          v = 0.95;
          fg = true;
        } else if ((x - cx) ** 2 + (y - cy) ** 2 <= 81) {
          v = 0.04;
          fg = true;
        }
      }
      data[y * w + x] = Math.round(v * 255);
      mask[y * w + x] = fg ? 255 : 0;
    }
  }
  return { data, mask };
}

/** Writes `clip.mp4` (H.264, near-lossless) and CDnet-style ground truth into `dir`. */
export async function writeSyntheticClip(dir: string, o: SynthOptions = {}, crf = 10): Promise<{ video: string; frames: number }> {
  const w = o.width ?? 160, h = o.height ?? 120, n = o.frames ?? 120;
  mkdirSync(join(dir, 'groundtruth'), { recursive: true });
  const video = join(dir, 'clip.mp4');
  const enc = new VideoEncoder({ width: w, height: h, channels: 1, fps: 25, path: video, codec: 'h264', crf });
  for (let t = 0; t < n; t++) {
    const f = synthFrame(t, o);
    await enc.write(f.data);
    await sharp(f.mask, { raw: { width: w, height: h, channels: 1 } }).png({ compressionLevel: 9, palette: false }).toFile(join(dir, formatSequence('groundtruth/gt%06d.png', t)));
  }
  await enc.finish();
  writeFileSync(join(dir, 'temporalROI.txt'), `0 ${n - 1}\n`);
  writeFileSync(join(dir, 'ROI.bmp'), writeBmp8({ width: w, height: h, data: new Uint8Array(w * h).fill(255) }));
  return { video, frames: n };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? 'data/video/synthetic';
  writeSyntheticClip(dir).then((r) => console.log(`wrote ${r.video} (${r.frames} frames) and ground truth in ${dir}`));
}
