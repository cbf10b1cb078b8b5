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
    expect(csv[0]).toBe('k,sigma_gray,energy,rel_error,psnr_db,bytes_float32,bytes_float64,ratio_float32,ratio_float64');
    expect(csv.length).toBe(37);
    expect(readFileSync(join(tmp.dir, 'decay-report-spectrum.svg'), 'utf8')).toMatch(/<svg[\s\S]*k = 6/);
    expect(readFileSync(join(tmp.dir, 'decay-report-error-storage.svg'), 'utf8')).toMatch(/storage float32/);
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
