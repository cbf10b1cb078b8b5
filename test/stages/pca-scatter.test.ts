import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { pcaScatter } from '../../src/stages/pca-scatter.js';
import { tempDir } from '../helpers.js';
import { imagesOf, markItems } from '../core/plot/svg-parse.js';
import { placeThumbnails } from '../../src/core/plot/pca.js';
import { knownFactorization, lastValueFrom, of } from './pca-fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('pca-scatter', () => {
  it('places each thumbnail at its principal coordinates with its name, the mean image at the origin', async () => {
    const file = await lastValueFrom(of(knownFactorization()).pipe(pcaScatter({ thumbnail: 20 }, { ctx: { outDir: tmp.dir } })));
    expect(file.format).toBe('svg');
    const svg = readFileSync(file.path, 'utf8');
    const imgs = imagesOf(svg);
    expect(imgs).toHaveLength(4); // the mean, then p, q, r
    const c = imgs.map((m) => [m.x + m.width / 2, m.y + m.height / 2] as const);
    const [mean, p, q, r] = c as unknown as Array<readonly [number, number]>;
    // x: r < q = mean < p, symmetric; y (SVG grows down): q below the mean, p and r above it
    expect(q![0]).toBeCloseTo(mean![0], 0);
    expect(p![0] - mean![0]).toBeCloseTo(mean![0] - r![0], 0);
    expect(p![0]).toBeGreaterThan(mean![0] + 50);
    expect(p![1]).toBeCloseTo(r![1], 0);
    expect(p![1]).toBeLessThan(mean![1]);
    expect(q![1]).toBeGreaterThan(mean![1]);
    // equal scales: |x_p| / |y_q| in pixels equals 0.4a / 0.2b
    const ratio = (0.4 / Math.sqrt(2)) / (0.2 / Math.sqrt(6));
    expect((p![0] - mean![0]) / (q![1] - mean![1])).toBeCloseTo(ratio, 1);
    // names under the thumbnails, 'mean' under the mean
    const names = markItems(svg, 'text').map((t) => /<text[^>]*>([^<]*)</.exec(t)![1]);
    expect(names).toEqual(expect.arrayContaining(['p', 'q', 'r', 'mean']));
  });

  it('moves thumbnails that would overlap to free spots and says how many', async () => {
    // three points within one thumbnail of each other, one far away
    const pts = [{ px: 100, py: 100 }, { px: 105, py: 102 }, { px: 98, py: 97 }, { px: 400, py: 300 }];
    const placed = placeThumbnails(pts, 40, 50, 12);
    expect(placed.filter((p) => p.moved)).toHaveLength(2);
    expect(placed[3]!.moved).toBe(false);
    for (let i = 0; i < placed.length; i++) for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i]!, b = placed[j]!;
      expect(Math.abs(a.cx - b.cx) >= 40 || Math.abs(a.cy - b.cy) >= 62).toBe(true);
    }
  });

  it('renders PNG when the path ends in .png', async () => {
    const file = await lastValueFrom(of(knownFactorization()).pipe(pcaScatter({ path: 'map.png', width: 400, height: 300 }, { ctx: { outDir: tmp.dir } })));
    const meta = await sharp(file.path).metadata();
    expect(meta.format).toBe('png');
    expect(Math.abs(meta.width! - 400)).toBeLessThan(60);
  });

  it('states the bound when a component is not kept', async () => {
    await expect(lastValueFrom(of(knownFactorization()).pipe(pcaScatter({ components: [1, 3] }, { ctx: { outDir: tmp.dir } })))).rejects.toThrow(
      'component 3 asked, but the factorization of X keeps only 2',
    );
  });
});
