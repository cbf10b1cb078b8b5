/**
 * pca-report: explained variance (table + plot), principal coordinates, the mean image
 * and the leading eigen-images of a collection PCA.
 *
 * ```yaml
 * - { id: report, stage: pca-report, input: svd, params: { eigenImages: 8 } }
 * ```
 */
import { z } from 'zod';
import { concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { vectorToImage } from '../core/pca/stack.js';
import { pcaModel, explainedVariance, principalCoordinates, eigenImageForView } from '../core/pca/model.js';
import { contactSheet, imagePng } from '../core/image/collage.js';
import { varianceSvg } from '../core/plot/pca.js';
import { tableCsv as csv } from '../core/table.js';
import type { Metrics } from '../core/ports.js';

export const pcaReport = defineStage({
  name: 'pca-report',
  summary: 'Explained variance table (CSV) and plot (SVG), principal coordinates, mean image and eigen-images (PNG)',
  description: [
    'For the Factorization of a stacked, row-centred image collection (stack → center { mode: row } → svd):',
    '  {prefix}-variance.csv   per component: singular value, variance s²/(n-1), ratio s²/‖X-mean‖², cumulative,',
    '                          relative error of the rank-k reconstruction (centred and against the images)',
    '  {prefix}-variance.svg   ratio per component and cumulative (right axis)',
    '  {prefix}-coordinates.csv principal coordinates of each image (s ⊙ V rows: the units of generate)',
    '  {prefix}-mean.png       the mean image; {prefix}-eigenimages.png the mean and the leading eigen-images',
    '                          rescaled for viewing (mid-grey = 0, extremes = ±max|u|)',
    'Emits Metrics with the same tables (feed it to write-json for JSON).',
  ].join('\n'),
  example: `- { id: report, stage: pca-report, input: svd, params: { eigenImages: 8 } }\n- { stage: write-json, params: { path: pca-report.json } }`,
  input: 'Factorization',
  output: 'Metrics',
  params: z.strictObject({
    prefix: z.string().min(1).default('pca').describe('file name prefix under --out'),
    eigenImages: z.number().int().min(0).default(8).describe('how many leading eigen-images to draw (capped at the rank)'),
    coordinates: z.number().int().min(1).default(10).describe('principal coordinates per image in the coordinates table (capped at the rank)'),
    scale: z.number().positive().max(4).default(1).describe('size of the eigen-images relative to the images'),
  }),
  operator: (params, ctx) =>
    concatMap(async (f): Promise<Metrics> => {
      const m = pcaModel(f);
      const ev = explainedVariance(m);
      const p = params.prefix;
      const varTable = { ...ev };
      await ctx.writeFile(`${p}-variance.csv`, csv(varTable), { format: 'csv', description: `explained variance of ${m.k} components` });
      const r = Math.min(params.coordinates, m.k);
      const C = principalCoordinates(m, r);
      const coordTable: Record<string, number[] | string[]> = { image: m.layout.names };
      for (let i = 0; i < r; i++) coordTable[`pc${i + 1}`] = Array.from(C.col(i));
      await ctx.writeFile(`${p}-coordinates.csv`, csv(coordTable), { format: 'csv', description: `first ${r} principal coordinates of ${m.n} images` });
      const svg = await varianceSvg(m.name, m.n, m.d, f.solver, ev);
      await ctx.writeFile(`${p}-variance.svg`, svg, { format: 'svg', description: 'explained variance per component and cumulative' });
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      const mean = vectorToImage(m.mean, m.layout, 'mean', { clamp: true });
      await ctx.writeFile(`${p}-mean.png`, await imagePng(mean), { format: 'png', description: `mean image of ${m.n} images` });
      const e = Math.min(params.eigenImages, m.k);
      if (e > 0) {
        const eig = Array.from({ length: e }, (_, i) => vectorToImage(eigenImageForView(m, i), m.layout, `PC${i + 1} ${pct(ev.ratio[i]!)}`));
        const { png } = await contactSheet([{ label: 'mean, PCs', note: 'mid-grey = 0', images: [{ ...mean, name: 'mean' }, ...eig] }], { scale: params.scale, title: `Mean and leading eigen-images of ${m.name}` });
        await ctx.writeFile(`${p}-eigenimages.png`, png, { format: 'png', description: `mean and ${e} eigen-images` });
      }
      const firstAbove = (t: number) => { const i = ev.cumulative.findIndex((c) => c >= t - 1e-12); return i < 0 ? null : i + 1; };
      return {
        kind: 'Metrics',
        name: `${m.name}-pca`,
        values: { images: m.n, dim: m.d, rank: m.k, solver: f.solver, centred: m.centred, ratioPc1: ev.ratio[0] ?? null, cumulativePc2: ev.cumulative[1] ?? null, componentsFor90: firstAbove(0.9), componentsFor95: firstAbove(0.95), componentsFor99: firstAbove(0.99) },
        tables: { explainedVariance: varTable, coordinates: coordTable },
      };
    }),
});
