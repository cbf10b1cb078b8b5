import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { pcaScatter } from '../../src/stages/pca-scatter.js';
import { tempDir } from '../helpers.js';
import { knownFactorization, lastValueFrom, of } from './pca-fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('pca-scatter', () => {
  it('places each thumbnail at its principal coordinates and marks the mean at the origin', async () => {
    const file = await lastValueFrom(of(knownFactorization()).pipe(pcaScatter({ thumbnail: 20 }, { ctx: { outDir: tmp.dir } })));
    expect(file.format).toBe('svg');
    const svg = readFileSync(file.path, 'utf8');
    const imgs = [...svg.matchAll(/<image x="([-\d.]+)" y="([-\d.]+)" width="(\d+)" height="(\d+)" href="data:image\/png;base64,[A-Za-z0-9+/=]+"[^>]*><title>([^<]+)<\/title>/g)];
    expect(imgs.map((m) => m[5])).toEqual(['p (0.28, 0.04)', 'q (0.00, -0.08)', 'r (-0.28, 0.04)']);
    const cx = imgs.map((m) => Number(m[1]) + Number(m[3]) / 2);
    const cy = imgs.map((m) => Number(m[2]) + Number(m[4]) / 2);
    const mark = /<line x1="([-\d.]+)" y1="([-\d.]+)" x2="[-\d.]+" y2="[-\d.]+"\/><line x1="[-\d.]+" y1="[-\d.]+" x2="[-\d.]+" y2="[-\d.]+"\/><\/g><text[^>]*>mean<\/text>/.exec(svg)!;
    const mx = Number(mark[1]) + 7, my = Number(mark[2]);
    // x: r < q = mean < p, symmetric; y (SVG grows down): q below the mean, p and r above it
    expect(cx[1]).toBeCloseTo(mx, 0);
    expect(cx[0]! - mx).toBeCloseTo(mx - cx[2]!, 0);
    expect(cx[0]).toBeGreaterThan(mx + 50);
    expect(cy[0]).toBeCloseTo(cy[2]!, 0);
    expect(cy[0]).toBeLessThan(my);
    expect(cy[1]).toBeGreaterThan(my);
    // equal scales: |x_p| / |y_q| in pixels equals 0.4a / 0.2b
    const ratio = (0.4 / Math.sqrt(2)) / (0.2 / Math.sqrt(6));
    expect((cx[0]! - mx) / (cy[1]! - my)).toBeCloseTo(ratio, 1);
  });

  it('renders PNG when the path ends in .png', async () => {
    const file = await lastValueFrom(of(knownFactorization()).pipe(pcaScatter({ path: 'map.png', width: 400, height: 300 }, { ctx: { outDir: tmp.dir } })));
    const meta = await sharp(file.path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 400, 300]);
  });

  it('states the bound when a component is not kept', async () => {
    await expect(lastValueFrom(of(knownFactorization()).pipe(pcaScatter({ components: [1, 3] }, { ctx: { outDir: tmp.dir } })))).rejects.toThrow(
      'component 3 asked, but the factorization of X keeps only 2',
    );
  });
});
