/**
 * pca-scatter: a map of an image collection in two principal coordinates, each image's
 * thumbnail and name drawn at its point and the mean image at the origin (SVG, or PNG).
 *
 * ```yaml
 * - { id: map, stage: pca-scatter, input: svd, params: { thumbnail: 44 } }
 * ```
 */
import { z } from 'zod';
import { concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import { sharp } from '../core/image/sharp.js';
import { vectorToImage } from '../core/pca/stack.js';
import { pcaModel, principalCoordinates, reconstructColumn, explainedVariance } from '../core/pca/model.js';
import { pngDataUri } from '../core/image/collage.js';
import { pcaScatterSvg } from '../core/plot/pca.js';

export const pcaScatter = defineStage({
  name: 'pca-scatter',
  summary: 'Scatter of two principal coordinates with each image and its name drawn at its point, the mean image at the origin (SVG or PNG)',
  description: [
    'Coordinates: c_j = s ⊙ V[j, :] (the units generate takes). Thumbnails are the images rebuilt from',
    'every kept component (exact when svd kept them all, as the gram solver does), embedded as',
    'base64 PNG, so the SVG is one self-contained file. Equal scales on both axes. Thumbnails that would cover',
    'one another are moved to the nearest free spot, with a grey line back to their point (the subtitle says how many).',
  ].join('\n'),
  example: `- { id: map, stage: pca-scatter, input: svd, params: { components: [1, 2], thumbnail: 44 } }`,
  input: 'Factorization',
  output: 'File',
  params: z.strictObject({
    components: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1, 2]).describe('the two components (1-based) on the x and y axes'),
    thumbnail: z.number().int().min(8).max(256).default(44).describe('thumbnail width in px'),
    path: z.string().min(1).default('pca-scatter.svg').describe('file under --out; .png renders the SVG to PNG'),
    width: z.number().int().min(200).default(960).describe('figure width in px'),
    height: z.number().int().min(200).default(720).describe('figure height in px'),
  }),
  needs: (p) => [{ components: Math.max(...p.components), why: `components [${p.components.join(', ')}]`, fix: '--set {step}.components=[1,1]' }],
  operator: (params, ctx) =>
    concatMap(async (f) => {
      const m = pcaModel(f);
      const [a, b] = params.components;
      const top = Math.max(a, b);
      if (top > m.k) throw new InputError(`component ${top} asked, but the factorization of ${m.name} keeps only ${m.k}`, `choose components between 1 and ${m.k}`);
      const C = principalCoordinates(m, top);
      const xs = Array.from(C.col(a - 1)), ys = Array.from(C.col(b - 1));
      const tw = params.thumbnail, th = Math.round((tw * m.layout.height) / m.layout.width);
      const thumbs = [];
      for (let j = 0; j < m.n; j++) {
        const im = vectorToImage(reconstructColumn(m, j), m.layout, m.layout.names[j]!, { clamp: true });
        thumbs.push({ x: xs[j]!, y: ys[j]!, href: await pngDataUri(im, tw), name: m.layout.names[j]! });
      }
      const mean = { href: await pngDataUri(vectorToImage(m.mean, m.layout, 'mean', { clamp: true }), tw) };
      const ev = explainedVariance(m);
      const pct = (i: number) => `${(100 * ev.ratio[i - 1]!).toFixed(1)}%`;
      const { svg } = await pcaScatterSvg({
        title: `${m.name}: ${m.n} images in principal coordinates`,
        subtitle: `PC${a} and PC${b} explain ${pct(a)} and ${pct(b)} of the variance; the mean image (red frame) sits at the origin`,
        width: params.width, height: params.height, xTitle: `PC${a} coordinate (${pct(a)} of variance)`, yTitle: `PC${b} coordinate (${pct(b)} of variance)`,
        thumbs, mean, tw, th,
      });
      const png = params.path.toLowerCase().endsWith('.png');
      const data = png ? await sharp(Buffer.from(svg)).png().toBuffer() : svg;
      return ctx.writeFile(params.path, data, { format: png ? 'png' : 'svg', description: `PC${a}/PC${b} scatter of ${m.n} images with thumbnails` });
    }),
});
