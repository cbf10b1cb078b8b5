import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers.js';
import { runPipelineFile } from '../../src/index.js';
import { ComponentLabeler, foregroundFraction } from '../../src/core/video/components.js';
import { synthFrame } from '../fixtures/synth-video.js';
import { writeObjects } from '../../src/stages/write-objects.js';
import { lastValueFrom, from, toArray } from 'rxjs';

const tmp = tempDir('svdflow-objects-');
afterAll(() => tmp.cleanup());

/** Brute force: flood fill from every unvisited foreground pixel (8-connected). */
function floodFill(m: Uint8Array, w: number, h: number) {
  const seen = new Uint8Array(w * h);
  const out: Array<{ x: number; y: number; width: number; height: number; area: number; cx: number; cy: number }> = [];
  for (let s = 0; s < w * h; s++) {
    if (!m[s] || seen[s]) continue;
    const stack = [s];
    seen[s] = 1;
    let x0 = w, y0 = h, x1 = -1, y1 = -1, n = 0, sx = 0, sy = 0;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % w, y = Math.floor(i / w);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); n++; sx += x; sy += y;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy, j = yy * w + xx;
        if (xx < 0 || yy < 0 || xx >= w || yy >= h || !m[j] || seen[j]) continue;
        seen[j] = 1;
        stack.push(j);
      }
    }
    out.push({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1, area: n, cx: sx / n, cy: sy / n });
  }
  return out;
}

describe('connected components (core)', () => {
  it('equal a brute-force flood fill on random masks (U shapes, diagonal links, borders), with minArea', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const [w, h, density] of [[40, 30, 0.3], [33, 17, 0.55], [1, 9, 0.5], [64, 1, 0.5]] as const) {
      const lab = new ComponentLabeler(w, h);
      for (let rep = 0; rep < 5; rep++) {
        const m = Uint8Array.from({ length: w * h }, () => (rnd() < density ? 1 : 0));
        const ref = floodFill(m, w, h).sort((a, b) => a.y * w + a.x - (b.y * w + b.x));
        const got = lab.label(m, 0, 1);
        expect(got.length, `${w}x${h}`).toBe(ref.length);
        expect(got.map((c) => c.area).sort()).toEqual(ref.map((c) => c.area).sort());
        const key = (c: { x: number; y: number; width: number; height: number; area: number; cx: number; cy: number }) => `${c.x},${c.y},${c.width},${c.height},${c.area},${c.cx.toFixed(9)},${c.cy.toFixed(9)}`;
        expect(new Set(got.map(key))).toEqual(new Set(ref.map(key)));
        expect(lab.label(m, 0, 5).length).toBe(ref.filter((c) => c.area >= 5).length);
      }
    }
    // a U joined only at the bottom is one object; two diagonal pixels are one (8-connected)
    const u = new ComponentLabeler(5, 3);
    expect(u.label(Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]))).toEqual([{ x: 0, y: 0, width: 5, height: 3, area: 9, cx: 2, cy: (0 * 2 + 1 * 2 + 2 * 5) / 9 }]);
    expect(u.label(Uint8Array.from([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))).toHaveLength(1);
    expect(foregroundFraction(Uint8Array.from([0, 1, 1, 0]), 0, 4)).toBe(0.5);
  });
});

describe('write-objects stage on exact masks', () => {
  it('reports the synthetic objects as drawn: a 22x14 rectangle (area 308) and a disc of radius 9 at their known positions', async () => {
    const w = 160, h = 120, n = 120;
    const batches = [0, 30, 60, 90].map((start) => {
      const mask = new Uint8Array(30 * w * h);
      for (let i = 0; i < 30; i++) mask.set(synthFrame(start + i).mask.map((v) => (v ? 1 : 0)), i * w * h);
      return { kind: 'FrameBatch' as const, start, count: 30, width: w, height: h, channels: 1 as const, frames: new Uint8Array(30 * w * h), mask };
    });
    const out = join(tmp.dir, 'exact');
    const files = await lastValueFrom(from(batches).pipe(writeObjects({ minArea: 10, path: 'o.jsonl', csv: 'f.csv' }, { ctx: { outDir: out } }), toArray()));
    expect(files.map((f) => f.path.split('/').pop())).toEqual(['o.jsonl', 'f.csv']);
    const lines = readFileSync(join(out, 'o.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { frame: number; objects: Array<{ x: number; y: number; width: number; height: number; area: number; cx: number; cy: number }> });
    expect(lines.length).toBe(n);
    let checked = 0;
    for (const l of lines) {
      const t = l.frame;
      // the drawing in synth.ts: rectangle from x = -22 + 2t (mod 182), y = 36; disc centre (10 + 1.5t mod 140, 12 + 0.8t mod 96)
      const rx = Math.round(-22 + ((t * 2) % 182)), cx = 10 + ((t * 1.5) % 140), cy = 12 + ((t * 0.8) % 96);
      const apart = rx >= 0 && rx + 22 <= w && (cx + 9 < rx - 1 || cx - 9 > rx + 23 || cy + 9 < 35 || cy - 9 > 50);
      if (!apart) continue;
      checked++;
      const rect = l.objects.find((o) => o.area === 308);
      expect(rect, `frame ${t}`).toMatchObject({ x: rx, y: 36, width: 22, height: 14, cx: rx + 10.5, cy: 42.5 });
      const disc = l.objects.find((o) => o !== rect)!;
      expect(l.objects.length).toBe(2);
      expect(Math.abs(disc.area - Math.PI * 81)).toBeLessThan(12); // 253 or so lattice points
      expect(Math.abs(disc.cx - cx)).toBeLessThan(0.5);
      expect(Math.abs(disc.cy - cy)).toBeLessThan(0.5);
      for (const side of [disc.width, disc.height]) expect(side >= 17 && side <= 19, `disc ${side} px across`).toBe(true);
    }
    expect(checked).toBeGreaterThan(15);
  });
});

describe('write-objects in pipelines/video-background.yaml', () => {
  it('finds the two known objects of the synthetic clip in every frame: boxes and areas near the truth', async () => {
    const out = join(tmp.dir, 'run');
    await runPipelineFile(join(ROOT, 'pipelines/video-background.yaml'), { outDir: out, progress: false });
    const lines = readFileSync(join(out, 'objects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { frame: number; foreground: number; objects: Array<{ x: number; y: number; width: number; height: number; area: number; cx: number; cy: number }> });
    expect(lines.map((l) => l.frame)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    const csv = readFileSync(join(out, 'foreground.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('frame,foreground,objects');
    expect(csv.length).toBe(121);
    let matched = 0, scored = 0;
    const lab = new ComponentLabeler(160, 120);
    for (const l of lines) {
      const truth = lab.label(synthFrame(l.frame).mask, 0, 50).map((c) => ({ ...c }));
      const [n, frac, count] = csv[l.frame + 1]!.split(',').map(Number);
      expect([n, count]).toEqual([l.frame, l.objects.length]);
      expect(frac).toBeCloseTo(l.foreground, 5);
      // scored: frames whose two objects are inside the picture and further apart than the mask closing (radius 4) bridges
      if (truth.length !== 2 || truth.some((t) => t.x === 0 || t.y === 0 || t.x + t.width === 160 || t.y + t.height === 120)) continue;
      const [a, b] = truth as [typeof truth[0], typeof truth[0]];
      if (Math.max(b.x - (a.x + a.width), a.x - (b.x + b.width), b.y - (a.y + a.height), a.y - (b.y + b.height)) < 10) continue;
      scored++;
      const ok = truth.every((t) => l.objects.some((o) => Math.abs(o.cx - t.cx) <= 2 && Math.abs(o.cy - t.cy) <= 2 && Math.abs(o.width - t.width) <= 4 && Math.abs(o.height - t.height) <= 4 && Math.abs(o.area - t.area) <= 0.25 * t.area));
      if (ok) matched++;
    }
    // misses are the model's: a ghost of the disc's early position merges with the rectangle in frames 105-108
    console.log(`objects: both true objects found in ${matched} of ${scored} scored frames`);
    expect(scored).toBeGreaterThan(15);
    expect(matched / scored).toBeGreaterThan(0.8);
  }, 60_000);
});
