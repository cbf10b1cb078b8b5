/**
 * plot-alignment: SVG plots of an Alignment: target, source and aligned points
 * (2-D, or a projection of 3-D), the RMSE per iteration (fitness on a second
 * axis for ICP), and an animation of the ICP iterations (SVG with SMIL).
 *
 * ```yaml
 * - stage: plot-alignment
 *   input: fit
 *   params: { prefix: icp }
 * ```
 * @see align
 */
import { z } from 'zod';
import { concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { alignmentFigures } from '../core/plot/alignment.js';
import { alignmentSummary } from '../core/points/registration.js';
import type { Alignment, FileRef } from '../core/ports.js';

export const plotAlignment = defineStage({
  name: 'plot-alignment',
  summary: 'SVG plots of an alignment: target/source/aligned points, RMSE per iteration, and an ICP animation',
  description: [
    'With report: true also <prefix>-report.json (the result without point lists: stages, finalStage, confident).',
    'Writes <prefix>-points.svg (target, source as given and aligned), <prefix>-error.svg (ICP: inlier RMSE and',
    'fitness per step, one panel each, level starts marked; Procrustes: the residual of every matched pair before',
    'and after the fit), <prefix>-correspondences.svg (with correspondences: true: the pairs of the first iteration,',
    'nearest neighbours within the first level\'s distance, or the given pairs for Procrustes) and, when the',
    'alignment has per-iteration transforms (ICP), <prefix>-anim.svg: the source from its pose as given, through',
    'the global step (init global), iteration by iteration onto the target (SMIL animation; open it in a browser).',
    '3-D points are drawn in projection (xy, xz, yz, or pca: the target\'s two main principal axes).',
  ].join('\n'),
  example: '- stage: plot-alignment\n  input: fit\n  params: { prefix: icp, projection: xy }',
  input: 'Alignment',
  output: 'File',
  params: z.strictObject({
    prefix: z.string().min(1).default('{name}').describe('file name prefix under --out; {name} is the alignment name'),
    projection: z.enum(['xy', 'xz', 'yz', 'pca']).default('xy').describe('view of 3-D points'),
    maxPoints: z.number().int().min(10).default(1500).describe('draw about this many points per set at most (an evenly spread subset)'),
    animation: z.boolean().default(true).describe('write the animation when per-iteration transforms exist'),
    frameMs: z.number().int().min(20).default(500).describe('animation: milliseconds per iteration'),
    correspondences: z.boolean().default(true).describe('write <prefix>-correspondences.svg: lines between the pairs the first iteration matches'),
    report: z.boolean().default(false).describe('also write <prefix>-report.json: transform, fitness and inlier RMSE per stage, final stage, confidence (no point lists)'),
  }),
  operator: (p, ctx) =>
    concatMap(async function* (a: Alignment): AsyncGenerator<FileRef> {
      const prefix = p.prefix.replaceAll('{name}', a.name);
      for (const f of await alignmentFigures(a, prefix, p)) yield await ctx.writeFile(f.rel, f.data, { format: 'svg', description: f.description });
      if (p.report) {
        yield await ctx.writeFile(`${prefix}-report.json`, JSON.stringify(alignmentSummary(a), null, 2), { format: 'json', description: 'alignment summary: stages, final stage, confidence' });
      }
    }),
});
