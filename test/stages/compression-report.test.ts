import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { svd } from '../../src/stages/svd.js';
import { center } from '../../src/stages/center.js';
import { truncate } from '../../src/stages/truncate.js';
import { reconstruct } from '../../src/stages/reconstruct.js';
import { compressionReport } from '../../src/stages/compression-report.js';
import { toPixels8 } from '../../src/core/image/io.js';
import { psnr8 } from '../../src/core/image/quality.js';
import type { Factorization, Image, Metrics } from '../../src/core/ports.js';
import { tempDir } from '../helpers.js';
import { axes, legendLabels, legendSymbols, markItems, pathXs, pathYs } from '../core/plot/svg-parse.js';
import { decayingGray } from './image-fixtures.js';

const tmp = tempDir('svdflow-report-');
afterAll(() => tmp.cleanup());
const ctx = { outDir: tmp.dir };

describe('compression-report', () => {
  const img = decayingGray(48, 36);
  it('error for every k equals sqrt(Σ_{i>k} σᵢ²)/‖A_original‖ (mean included) to 1e-9; storage k(m+n+1); files', async () => {
    const f = (await lastValueFrom(of(img).pipe(center(), svd(), truncate({ rank: 6 })))) as Factorization;
    const r = (await lastValueFrom(of(f).pipe(compressionReport({}, { ctx })))) as Metrics;
    const A = img.planes[0]!.data;
    const normA2 = A.reduce((a, v) => a + v * v, 0);
    const s = f.factors[0]!.s;
    const t = r.tables!.curves!;
    expect(t.k!.length).toBe(36);
    for (let k = 1; k <= 36; k++) {
      let tail = 0;
      for (let i = k; i < 36; i++) tail += s[i]! ** 2;
      expect(Math.abs((t.relError as number[])[k - 1]! - Math.sqrt(tail / normA2))).toBeLessThan(1e-9);
      expect((t.bytesFloat32 as number[])[k - 1]).toBe(k * (48 + 36 + 1) * 4 + 4);
      expect((t.bytesFloat64 as number[])[k - 1]).toBe(k * (48 + 36 + 1) * 8 + 8);
    }
    // against the error measured on the rebuilt image
    const rebuilt = (await lastValueFrom(of(f).pipe(reconstruct({ rank: 6, clamp: false })))) as Image;
    let se = 0;
    for (let i = 0; i < A.length; i++) se += (A[i]! - rebuilt.planes[0]!.data[i]!) ** 2;
    expect(Math.abs((r.values.relError as number) - Math.sqrt(se / normA2))).toBeLessThan(1e-9);
    // PSNR/SSIM of the 8-bit rank-6 image against the 8-bit original
    const clamped = (await lastValueFrom(of(f).pipe(reconstruct({ rank: 6 })))) as Image;
    const orig8 = toPixels8({ ...img, planes: [img.planes[0]!] });
    expect(r.values.psnrDb).toBeCloseTo(psnr8(orig8.data, toPixels8(clamped).data), 9);
    expect(r.values.ssim as number).toBeGreaterThan(0);
    expect(r.values.ssim as number).toBeLessThan(1);
    expect(r.values).toMatchObject({ k: 6, truncatedBy: 'rank', originalRawBytes: 48 * 36, rows: 48, cols: 36 });
    const json = JSON.parse(readFileSync(join(tmp.dir, 'decay-report.json'), 'utf8'));
    expect(json.values.k).toBe(6);
    const csv = readFileSync(join(tmp.dir, 'decay-report.csv'), 'utf8').trim().split('\n');
    // CSV columns are the JSON table's (camelCase) keys, in order
    expect(csv[0]).toBe(Object.keys(json.tables.curves).join(','));
    expect(csv[0]).toBe('k,sigmaGray,energy,relError,psnrDb,bytesFloat32,bytesFloat64,ratioFloat32,ratioFloat64');
    expect(csv.length).toBe(37);
    // the last k has no error left: PSNR is infinite, null in JSON and an empty field in CSV (never 'inf')
    expect(json.tables.curves.psnrDb.at(-1)).toBeNull();
    expect(csv.at(-1)!.split(',')[4]).toBe('');
    expect(csv.join('\n')).not.toMatch(/inf/i);
    expect(readFileSync(join(tmp.dir, 'decay-report-spectrum.svg'), 'utf8')).toMatch(/<svg[\s\S]*k = 6/);
  });

  it('error-storage figure: every k on the axis, error from k = 0, legend outside the plots with dashed swatches for dashed series', async () => {
    const f = (await lastValueFrom(of(img).pipe(center(), svd(), truncate({ rank: 6 })))) as Factorization;
    await lastValueFrom(of(f).pipe(compressionReport({ prefix: 'es' }, { ctx })));
    const svg = readFileSync(join(tmp.dir, 'es-error-storage.svg'), 'utf8');
    // the k axis runs to the last computed k (36 here), in both panels
    const kAxes = axes(svg).filter((a) => a.title.startsWith('rank k'));
    expect(kAxes).toHaveLength(2);
    for (const a of kAxes) expect(Number(a.labels.at(-1))).toBeGreaterThanOrEqual(35);
    // the error curve starts at k = 0 (x pixel 0 of its panel), at the mean-only error
    const errLine = markItems(svg, 'line')[0]!;
    expect(pathXs(/d="([^"]+)"/.exec(errLine)![1]!)[0]).toBeCloseTo(0, 6);
    // legend: float64 is dashed in the plot and in its swatch, float32 solid; the references dotted
    const labels = legendLabels(svg);
    expect(labels).toEqual(expect.arrayContaining(['factors, float32', 'factors, float64']));
    const sym = legendSymbols(svg);
    const dash = (i: number) => /stroke-dasharray="([^"]+)"/.exec(sym[i]!)?.[1] ?? 'solid';
    expect(dash(labels.indexOf('factors, float32'))).toMatch(/^(solid|1,0)$/);
    expect(dash(labels.indexOf('factors, float64'))).toBe('7,4');
    expect(dash(labels.findIndex((l) => l.startsWith('raw 8-bit')))).toBe('2,3');
    // the legend sits below both plots: its top is below the lowest axis title
    const legendTop = Number(/<g class="mark-group role-legend"[^>]*transform="translate\([-\d.]+,([-\d.]+)\)"/.exec(svg)?.[1] ?? /role-legend[\s\S]*?translate\([-\d.]+,([-\d.]+)\)/.exec(svg)![1]);
    expect(legendTop).toBeGreaterThan(2 * 220);
    // y values inside the panel (nothing runs off the top): every vertex of every line within [0, 220]
    for (const l of markItems(svg, 'line')) for (const y of pathYs(/d="([^"]+)"/.exec(l)![1]!)) expect(y).toBeGreaterThanOrEqual(-0.5);
  });

  it('with only the top values computed, tails stay exact and PSNR/SSIM are null', async () => {
    const full = (await lastValueFrom(of(img).pipe(center(), svd()))) as Factorization;
    const top = (await lastValueFrom(of(img).pipe(center(), svd({ rank: 10, solver: 'randomized', powerIterations: 8 }), truncate({ rank: 4 })))) as Factorization;
    const r = (await lastValueFrom(of(top).pipe(compressionReport({ prefix: 'top', plots: false }, { ctx })))) as Metrics;
    const s = full.factors[0]!.s;
    let tail = 0;
    for (let i = 4; i < s.length; i++) tail += s[i]! ** 2;
    expect(Math.abs((r.values.relError as number) - Math.sqrt(tail / full.originalNormSq[0]!))).toBeLessThan(1e-6);
    expect([r.values.psnrDb, r.values.ssim]).toEqual([null, null]);
  });
});
