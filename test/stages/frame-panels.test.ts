import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, from, toArray } from 'rxjs';
import sharp from 'sharp';
import { framePanels } from '../../src/stages/frame-panels.js';
import type { FrameBatch } from '../../src/core/ports.js';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';

const tmp = tempDir('svdflow-panels-');
afterAll(() => tmp.cleanup());

/** Batches of constant gray frames (value 200), background 0.5, masks with the left half set. */
function batches(n: number, size: number, w = 40, h = 30): FrameBatch[] {
  const out: FrameBatch[] = [];
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    const mask = new Uint8Array(count * w * h);
    for (let f = 0; f < count; f++) for (let y = 0; y < h; y++) for (let x = 0; x < w / 2; x++) mask[f * w * h + y * w + x] = 1;
    out.push({ kind: 'FrameBatch', start, count, width: w, height: h, channels: 1, frames: new Uint8Array(count * w * h).fill(200), background: new Float32Array(count * w * h).fill(0.5), mask });
  }
  return out;
}

describe('frame-panels', () => {
  it('draws each chosen frame as a row: frame (200), background (0.5 -> 128), foreground |200/255 - 0.5| -> 73, mask (half 255, half 0)', async () => {
    const files = await lastValueFrom(from(batches(50, 15)).pipe(framePanels({ frames: [3, 20, 44] }, { ctx: { outDir: tmp.dir } }), toArray()));
    expect(files).toHaveLength(1);
    const { data, info } = await sharp(files[0]!.path).raw().toBuffer({ resolveWithObject: true });
    // count pixels by exact gray value: three rows of four 40 x 30 tiles; labels are black on white
    const count = new Map<number, number>();
    for (let i = 0; i < data.length; i += info.channels) if (data[i] === data[i + 1] && data[i] === data[i + 2]) count.set(data[i]!, (count.get(data[i]!) ?? 0) + 1);
    const tile = 40 * 30;
    const near = (v: number, n: number) => { expect(count.get(v) ?? 0, `pixels of value ${v}`).toBeGreaterThanOrEqual(n); expect(count.get(v) ?? 0, `pixels of value ${v}`).toBeLessThan(n + 150); };
    near(200, 3 * tile);
    near(128, 3 * tile);
    near(73, 3 * tile);
    expect(count.get(0)! - 0).toBeGreaterThanOrEqual(3 * tile / 2); // the mask's right halves (plus the black text)
    // rows are labelled and the four columns named: the PNG is wider than four tiles and taller than three
    expect(info.width).toBeGreaterThan(4 * 40);
    expect(info.height).toBeGreaterThan(3 * 30);
  });

  it('frames past the end of a short video are left out and said so', async () => {
    const out = await lastValueFrom(from(batches(30, 15)).pipe(framePanels({ frames: [5, 99] }, { ctx: { outDir: tmp.dir } }), toArray()));
    expect(out.map((f) => f.description).join('')).toContain('frame 5: ');
    expect(out.map((f) => f.description).join('')).toContain('frame 99 left out (the video ends at frame 29)');
  });

  it('a video ending before every chosen frame (even 1 frame long) shows its last frame instead, and says so', async () => {
    for (const [n, size, lastF] of [[15, 10, 14], [1, 1, 0], [7, 5, 6]] as const) {
      const out = await lastValueFrom(from(batches(n, size)).pipe(framePanels({ frames: [20, 60, 100] }, { ctx: { outDir: join(tmp.dir, `short${n}`) } }), toArray()));
      expect(out).toHaveLength(1);
      expect(out[0]!.description).toBe(`frame ${lastF}: frames | background | foreground | mask (${out[0]!.description!.match(/\((\d+x\d+)\)/)![1]}); frames 20, 60, 100 left out; its last frame ${lastF} shown instead (the video ends at frame ${lastF})`);
      // one row of the four tiles: frame (200), background (128), foreground (73)
      const { data, info } = await sharp(out[0]!.path).raw().toBuffer({ resolveWithObject: true });
      const count = new Map<number, number>();
      for (let i = 0; i < data.length; i += info.channels) if (data[i] === data[i + 1] && data[i] === data[i + 2]) count.set(data[i]!, (count.get(data[i]!) ?? 0) + 1);
      for (const v of [200, 128, 73]) expect(count.get(v) ?? 0, `pixels of value ${v}`).toBeGreaterThanOrEqual(40 * 30);
      expect(count.get(200)!).toBeLessThan(2 * 40 * 30);
    }
  });
});
