/**
 * compression-report: how error and storage change with k, from the singular
 * values (no rebuilding), plus PSNR/SSIM of the chosen rank-k image.
 * Writes {prefix}.json, {prefix}.csv, {prefix}-spectrum.svg, {prefix}-error-storage.svg.
 *
 * ```yaml
 * - stage: compression-report
 *   input: truncate
 *   params: { prefix: "{name}-report" }
 * ```
 * @see truncate, svd
 */
import { z } from 'zod';
import { concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { toJsonText } from '../core/json.js';
import { compressionCurves, curvesCsv, curvesTable, errorStorageSvg, planeNames, spectrumSvg, SOURCE } from '../core/image/report.js';
import { commonLength } from '../core/image/lowrank.js';
import { originalBytes, storageShape } from '../core/image/storage.js';
import { depthOf, encodePixels, toPixels, toPixels8 } from '../core/image/io.js';
import { psnr8, ssim8 } from '../core/image/quality.js';
import { checkRank } from '../core/image/rank.js';
import { reconstructValue } from '../core/image/reconstruct.js';
import type { Image, Metrics } from '../core/ports.js';

export const compressionReport = defineStage({
  name: 'compression-report',
  summary: 'Spectrum, error and storage for every k (from σ, exact), PSNR/SSIM at the chosen k; JSON, CSV and SVG plots',
  description: [
    'error_k = sqrt(Σ_{i>k} σᵢ²) / ‖A_original‖_F with the mean included in A_original, for every k, from the',
    'singular values (the tail beyond the computed values comes from ‖A‖²). Storage per k: k(m+n+1) values per',
    'plane plus the mean, at float32 and float64, against the raw original (8-bit, or 16-bit for a 16-bit PNG/TIFF:',
    'bitDepth), its PNG (of that depth) and JPEG (8-bit) sizes and the source file. PSNR and SSIM at that depth, as',
    'encode writes it, of the rank-k image against the full-rank one need every singular value (svd without rank);',
    'otherwise they are null and only the float PSNR from σ is given.',
  ].join('\n'),
  example: '- stage: compression-report\n  input: truncate\n  params: { prefix: "{name}-report" }',
  input: 'Factorization',
  output: 'Metrics',
  params: z.strictObject({
    prefix: z.string().min(1).default('{name}-report').describe('output file prefix under --out; {name} = value name'),
    rank: z.number().int().min(1).optional().describe('k to report on (default: the rank kept by truncate)'),
    quality: z.boolean().default(true).describe('compute PSNR/SSIM of the rank-k image and the PNG/JPEG sizes of the original (needs all singular values)'),
    plots: z.boolean().default(true).describe('write the SVG plots'),
  }),
  operator: (params, ctx) =>
    concatMap(async (f): Promise<Metrics> => {
      const k = params.rank ?? f.factors[0]!.rank;
      checkRank(f, k, 'compression-report');
      const F = f.factors[0]!;
      const m = F.U.rows, n = F.V.rows, mn = Math.min(m, n), K = commonLength(f.factors);
      const c = compressionCurves(f);
      const names = planeNames(f);
      const t = f.template;
      // the source's bits per sample: a 16-bit PNG is compared, stored and re-encoded at 16 bits
      const depth = t.kind === 'Image' ? depthOf(t) : 8;
      const values: Metrics['values'] = {
        name: f.name, rows: m, cols: n, planes: names.join(','), bitDepth: depth, solver: f.solver, singularValues: K, k,
        truncatedBy: f.truncation?.by ?? null, truncationReason: f.truncation?.reason ?? null,
        relError: c.error[k - 1]!, energy: c.energy[k - 1]!, psnrFloatDb: c.psnrDb[k - 1]!,
        bytesFloat32: c.bytesFloat32[k - 1]!, bytesFloat64: c.bytesFloat64[k - 1]!,
        originalRawBytes: originalBytes(storageShape(f)), ratioFloat32: c.ratioFloat32[k - 1]!, ratioFloat64: c.ratioFloat64[k - 1]!,
        sourceBytes: t.kind === 'Image' ? (t.sourceBytes ?? null) : null,
        originalPngBytes: null, originalJpegBytes: null, psnrDb: null, ssim: null,
      };
      const refs = [{ name: `raw ${depth}-bit`, bytes: values.originalRawBytes as number }];
      // a line on a terminal: rebuilding, comparing and encoding a large image takes seconds
      const quality = params.quality && t.kind === 'Image' && K === mn;
      const bar = ctx.progress({ label: `${ctx.stepId}: ${f.name}`, total: (quality ? 5 : 0) + (params.plots ? 2 : 1), percent: true });
      if (quality) {
        const t0 = performance.now();
        const full = reconstructValue(f, K, true) as Image;
        const orig = toPixels(full, depth);
        bar.tick();
        const approx = toPixels(reconstructValue(f, k, true) as Image, depth);
        bar.tick();
        const peak = depth === 16 ? 65535 : 255;
        values.psnrDb = psnr8(orig.data, approx.data, peak);
        values.ssim = ssim8(orig.data, approx.data, t.width, t.height, orig.channels, peak);
        bar.tick();
        values.originalPngBytes = (await encodePixels(orig.data, t.width, t.height, orig.channels, 'png')).length;
        bar.tick();
        // JPEG is an 8-bit format
        const orig8 = depth === 8 ? orig : toPixels8(full);
        values.originalJpegBytes = (await encodePixels(orig8.data, t.width, t.height, orig8.channels, 'jpeg', { quality: 90 })).length;
        bar.tick();
        refs.push({ name: depth === 16 ? 'PNG 16-bit' : 'PNG', bytes: values.originalPngBytes }, { name: depth === 16 ? 'JPEG q90 (8-bit)' : 'JPEG q90', bytes: values.originalJpegBytes });
        ctx.log.info({ psnrDb: values.psnrDb, ssim: values.ssim, ms: Math.round(performance.now() - t0) }, 'quality of the rank-k image');
      }
      if (typeof values.sourceBytes === 'number') refs.push({ name: SOURCE, bytes: values.sourceBytes });
      const table = curvesTable(c, names);
      const metrics: Metrics = { kind: 'Metrics', name: `${f.name}-compression`, values, tables: { curves: table } };
      const prefix = params.prefix.replaceAll('{name}', f.name);
      const title = reportTitle(f.name, t, m, n, names);
      await ctx.writeFile(`${prefix}.json`, toJsonText(metrics, true), { format: 'json', description: 'compression metrics and curves' });
      await ctx.writeFile(`${prefix}.csv`, curvesCsv(c, names), { format: 'csv', description: 'per-k curves: sigma, energy, error, PSNR, storage' });
      bar.tick();
      if (params.plots) {
        await ctx.writeFile(`${prefix}-spectrum.svg`, await spectrumSvg(f, c, k, `Singular values of ${title}`), { format: 'svg', description: 'spectrum (log) and cumulative energy' });
        await ctx.writeFile(`${prefix}-error-storage.svg`, await errorStorageSvg(c, k, refs, `Error and storage vs k, ${title}`, depth), { format: 'svg', description: 'relative error and storage vs k' });
        bar.tick();
      }
      bar.done();
      ctx.log.info({ k, relError: values.relError, psnrDb: values.psnrDb, ssim: values.ssim }, 'compression report written');
      return metrics;
    }),
});

/**
 * The figures' title: an image as the rest of svdflow writes its size, width x height in pixels
 * (tort: 640x480 px, 3 planes); a matrix by rows and columns.
 */
export function reportTitle(name: string, t: { kind: string; width?: number; height?: number }, rows: number, cols: number, planes: readonly string[]): string {
  const more = planes.length > 1 ? `, ${planes.length} planes` : '';
  return t.kind === 'Image' && t.width !== undefined && t.height !== undefined ? `${name}: ${t.width}x${t.height} px${more}` : `${name}: ${rows} rows x ${cols} columns${more}`;
}
