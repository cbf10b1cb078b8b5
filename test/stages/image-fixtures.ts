/** Small deterministic test images for the image stages (no shared data needed). */
import sharp from 'sharp';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Matrix, seededRandom } from '../../src/core/linalg/index.js';
import type { Image } from '../../src/core/ports.js';

/** Interleaved RGB: smooth gradients plus noise, so that the spectrum decays but is full rank. */
export function rgbPixels(w: number, h: number, seed = 1): Buffer {
  const r = seededRandom(seed);
  const b = Buffer.alloc(w * h * 3);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    const p = 3 * (i * w + j);
    b[p] = Math.min(255, Math.round(120 + 90 * Math.sin(i / 7) * Math.cos(j / 11) + 30 * r.next()));
    b[p + 1] = Math.min(255, Math.round(60 + 2 * j + 40 * r.next()) % 256);
    b[p + 2] = Math.min(255, Math.round(200 - i + 50 * r.next()) & 255);
  }
  return b;
}

export async function writePng(dir: string, name: string, w: number, h: number, seed = 1): Promise<string> {
  const f = join(dir, name);
  writeFileSync(f, await sharp(rgbPixels(w, h, seed), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
  return f;
}

/** A gray Image with random values in [0, 1) (range [0, 1], as after normalize). */
export function randomGray(h: number, w: number, seed = 3): Image {
  const r = seededRandom(seed);
  const M = new Matrix(h, w);
  for (let i = 0; i < M.data.length; i++) M.data[i] = r.next();
  return { kind: 'Image', name: 'rand', width: w, height: h, color: 'gray', planes: [M], range: [0, 1], normalization: { method: 'dtype', scale: 255 } };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A gray Image with a decaying spectrum: Σ_t 0.6^t u_t v_tᵀ plus 1e-3 noise, values near [0, 1]. */
export function decayingGray(h: number, w: number, seed = 7): Image {
  const r = seededRandom(seed);
  const M = new Matrix(h, w);
  for (let t = 0; t < 25; t++) {
    const u = Array.from({ length: h }, () => r.gaussian() / Math.sqrt(h));
    const v = Array.from({ length: w }, () => r.gaussian() / Math.sqrt(w));
    const c = 0.6 ** t * Math.sqrt(h * w) * 0.1;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) M.data[i * w + j]! += c * u[i]! * v[j]!;
  }
  for (let i = 0; i < M.data.length; i++) M.data[i] = 0.5 + M.data[i]! + 1e-3 * r.gaussian();
  return { kind: 'Image', name: 'decay', width: w, height: h, color: 'gray', planes: [M], range: [0, 1], normalization: { method: 'dtype', scale: 255 } };
}
