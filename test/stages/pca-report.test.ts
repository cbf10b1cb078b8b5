import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { pcaReport } from '../../src/stages/pca-report.js';
import type { Factorization } from '../../src/core/ports.js';
import { tempDir } from '../helpers.js';
import { knownFactorization, lastValueFrom, of } from './pca-fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function readCsv(path: string): Record<string, string[]> {
  const [head, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  const keys = head!.split(',');
  return Object.fromEntries(keys.map((k, i) => [k, rows.map((r) => r.split(',')[i]!)]));
}

describe('pca-report', () => {
  it('tabulates explained variance from the singular values and ‖X - mean‖²', async () => {
    const f = knownFactorization(); // s = [0.4, 0.1], normSq 0.17, n = 3
    const m = await lastValueFrom(of(f).pipe(pcaReport({ prefix: 'k' }, { ctx: { outDir: tmp.dir } })));
    expect(m.kind).toBe('Metrics');
    const t = m.tables!.explainedVariance! as Record<string, number[]>;
    const orig = f.originalNormSq[0]!;
    const want = {
      component: [1, 2],
      singularValue: [0.4, 0.1],
      variance: [0.16 / 2, 0.01 / 2],
      ratio: [0.16 / 0.17, 0.01 / 0.17],
      cumulative: [0.16 / 0.17, 1],
      relErrorCentred: [Math.sqrt(0.01 / 0.17), 0],
      relErrorOriginal: [Math.sqrt(0.01 / orig), 0],
    };
    for (const [k, v] of Object.entries(want)) v.forEach((x, i) => expect(t[k]![i]).toBeCloseTo(x, 12));
    expect(m.values).toMatchObject({ images: 3, dim: 4, rank: 2, componentsFor90: 1, componentsFor99: 2, centred: true });
    const csv = readCsv(join(tmp.dir, 'k-variance.csv'));
    expect(Number(csv.ratio![0])).toBeCloseTo(0.16 / 0.17, 10);
    const coords = readCsv(join(tmp.dir, 'k-coordinates.csv'));
    expect(coords.image).toEqual(['p', 'q', 'r']);
    expect(Number(coords.pc1![0])).toBeCloseTo(0.4 / Math.sqrt(2), 10);
    expect(Number(coords.pc2![1])).toBeCloseTo(-0.2 / Math.sqrt(6), 10);
    expect(readFileSync(join(tmp.dir, 'k-variance.svg'), 'utf8')).toContain('PC1 94.1%');
  });

  it('draws the mean image and eigen-images rescaled around mid-grey', async () => {
    await lastValueFrom(of(knownFactorization()).pipe(pcaReport({ prefix: 'e' }, { ctx: { outDir: tmp.dir } })));
    const mean = await sharp(join(tmp.dir, 'e-mean.png')).raw().toBuffer({ resolveWithObject: true });
    expect(mean.info.width).toBe(2);
    // mean [0.5, 0.5, 0.2, 0.8] as gray pixels, row-major
    expect([0, 1, 2, 3].map((p) => mean.data[p * mean.info.channels]!)).toEqual([128, 128, 51, 204]);
    const sheet = await sharp(join(tmp.dir, 'e-eigenimages.png')).metadata();
    expect(sheet.width).toBeGreaterThan(120);
  });

  it('refuses a factorization that is not of a stacked collection', async () => {
    const f = knownFactorization();
    const img = { ...f, template: { kind: 'Image', name: 'x', width: 2, height: 2, color: 'gray', range: [0, 1] } } as Factorization;
    await expect(lastValueFrom(of(img).pipe(pcaReport({}, { ctx: { outDir: tmp.dir } })))).rejects.toThrow("factorization 'X' is of an Image, not of a stacked image collection");
    const noLayout = { ...f, template: { kind: 'Matrix', name: 'X' } } as Factorization;
    await expect(lastValueFrom(of(noLayout).pipe(pcaReport({}, { ctx: { outDir: tmp.dir } })))).rejects.toThrow('is of a Matrix without an image layout');
  });
});
