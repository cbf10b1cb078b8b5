/**
 * generate: new images from a collection's PCA (mean + U_r c), at given principal
 * coordinates, along a path between two images, or on a grid over two components.
 *
 * ```yaml
 * - { id: grid, stage: generate, input: svd, params: { from: grid, steps: 5, extent: 2 } }
 * ```
 */
import { z } from 'zod';
import { defineStage } from '../core/stage.js';
import { poolMap } from '../core/pool/index.js';
import { tasks, INLINE_VALUES } from '../core/pool/tasks/images.js';
import { pcaModel, gridCoordinates, pathCoordinates, imageIndex, type NamedCoordinates, linspace } from '../core/pca/model.js';

const imageRef = z.union([z.string().min(1), z.number().int()]);

export const generate = defineStage({
  name: 'generate',
  summary: 'Make new images from a collection PCA: at coordinates, on a path between two images, or on a PC grid',
  description: [
    'x = mean + U_r c, clamped to the image range. c is in principal coordinates, the units of',
    "pca-scatter and of pca-report's coordinates table (c_j = Uᵀ(x_j - mean) = s ⊙ V[j,:]).",
    '  from: coordinates  one image per list in coordinates (each list: c_1..c_r, r <= rank)',
    '  from: path         steps images on the straight line from image between[0] to between[1]',
    '                     (names or 0-based indices, -1 = the last; default: the first and the last image)',
    '                     in the first rank coordinates; name may use {from} and {to} (their image names)',
    '  from: grid         steps x steps images over components (a, b), each from -extent to +extent',
    '                     standard deviations of that coordinate; top row = +extent on b',
    'Feed the batch to contact-sheet (columns: steps for a grid) and to encode for PNG files.',
  ].join('\n'),
  example: `- { id: grid, stage: generate, input: svd, params: { from: grid, components: [1, 2], steps: 5, extent: 2 } }\n- { id: grid-sheet, stage: contact-sheet, params: { columns: 5, path: generated-grid.png } }`,
  input: 'Factorization',
  output: 'ImageBatch',
  params: z
    .strictObject({
      from: z.enum(['coordinates', 'path', 'grid']).default('grid').describe('how to choose the coordinates'),
      coordinates: z.array(z.array(z.number()).min(1)).min(1).optional().describe('from: coordinates: one list of principal coordinates per image'),
      between: z.tuple([imageRef, imageRef]).optional().describe('from: path: two images (names or 0-based indices, negative from the end: -1 = the last); default [0, -1]'),
      steps: z.number().int().min(1).max(64).default(5).describe('from: path: images on the path (ends included); from: grid: images per side'),
      components: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1, 2]).describe('from: grid: the two components (1-based) the grid spans'),
      extent: z.number().positive().default(2).describe('from: grid: half-width of the grid in standard deviations of each coordinate'),
      rank: z.number().int().min(1).optional().describe('from: path: coordinates used (default: all the factorization keeps)'),
      clamp: z.boolean().default(true).describe('clamp to the image range (e.g. [0, 1])'),
      name: z.string().min(1).default('generated').describe('name of the output batch; from: path may use {from} and {to}, the two images\' names'),
    })
    .superRefine((p, ctx) => {
      const need = (key: 'coordinates' | 'between', text: string) => {
        if (p[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], input: undefined, message: `from: ${p.from} needs ${key}: ${text}` });
      };
      if (p.from === 'coordinates') need('coordinates', 'a list of coordinate lists, e.g. [[0.5, -1.2], [3, 0]]');
      if (p.from !== 'coordinates' && p.coordinates !== undefined) ctx.addIssue({ code: 'custom', path: ['coordinates'], message: `coordinates is used only with from: coordinates (from is ${p.from})` });
      if (p.from !== 'path' && p.between !== undefined) ctx.addIssue({ code: 'custom', path: ['between'], message: `between is used only with from: path (from is ${p.from})` });
    }),
  needs: (p) => {
    if (p.from === 'grid') return [{ components: Math.max(...p.components), why: `a grid over components [${p.components.join(', ')}]`, fix: '--set {step}.components=[1,1]' }];
    if (p.from === 'coordinates') return [{ components: Math.max(...p.coordinates!.map((c) => c.length)), why: 'the coordinates given' }];
    // image indices (0-based, negative from the end); names are checked when the images are known
    const idx = (p.between ?? [0, -1]).filter((r): r is number => typeof r === 'number').map((i) => (i < 0 ? -i : i + 1));
    return idx.length ? [{ images: Math.max(...idx), why: `a path between images [${(p.between ?? [0, -1]).join(', ')}]`, fix: '--set {step}.between=[0,-1]' }] : [];
  },
  operator: (params, ctx) =>
    poolMap(async (f, signal) => {
      const m = pcaModel(f);
      let list: NamedCoordinates[];
      let name = params.name;
      if (params.from === 'coordinates') {
        list = params.coordinates!.map((c, i) => ({ name: `${params.name}_${String(i).padStart(2, '0')}`, coords: Float64Array.from(c) }));
      } else if (params.from === 'path') {
        const [a, b] = params.between ?? [0, -1];
        const i = imageIndex(m, a, 'between[0]');
        const j = imageIndex(m, b, 'between[1]');
        name = name.replaceAll('{from}', m.layout.names[i]!).replaceAll('{to}', m.layout.names[j]!);
        list = pathCoordinates(m, i, j, params.steps, Math.min(params.rank ?? m.k, m.k));
      } else {
        list = gridCoordinates(m, params.components, params.steps, params.extent);
      }
      const fmt = (t: number) => (t === 0 ? '0' : `${t > 0 ? '+' : '−'}${Number(Math.abs(t).toFixed(2))} sd`);
      const ts = linspace(-params.extent, params.extent, params.steps);
      const grid = params.from === 'grid' ? { x: `PC${params.components[0]}`, y: `PC${params.components[1]}`, columns: ts.map(fmt), rows: [...ts].reverse().map(fmt) } : undefined;
      // in the compute pool when large: d x (r + 1) values per image
      const bar = list.length * m.d * (m.k + 1) >= 1e7 ? ctx.progress({ label: `${ctx.stepId}: generating`, total: list.length, unit: 'images' }) : undefined;
      const images = await tasks.run('generate', [f, list, params.clamp], { signal, inline: list.length * m.d * (m.k + 1) < INLINE_VALUES, onProgress: bar?.set });
      bar?.done();
      return { kind: 'ImageBatch' as const, name, width: m.layout.width, height: m.layout.height, color: m.layout.color, images, ...(grid ? { grid } : {}) };
    }, ctx),
});
