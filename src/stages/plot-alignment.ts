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
import { svgChart, type Series } from '../core/plot/svg.js';
import { animatedScatterSvg } from '../core/plot/anim.js';
import { viewBasis, project, sampleIndices } from '../core/points/project.js';
import { applyTransform, angle2D } from '../core/points/rigid.js';
import type { Alignment, FileRef } from '../core/ports.js';

export const plotAlignment = defineStage({
  name: 'plot-alignment',
  summary: 'SVG plots of an alignment: target/source/aligned points, RMSE per iteration, and an ICP animation',
  description: [
    'With report: true also <prefix>-report.json (the result without point lists: stages, finalStage, confident).',
    'Writes <prefix>-points.svg (target, source and aligned), <prefix>-error.svg (inlier RMSE per iteration,',
    'fitness on the right axis) and, when the alignment has per-iteration transforms (ICP), <prefix>-anim.svg:',
    'the source moving iteration by iteration onto the target (SMIL animation; open it in a browser).',
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
    report: z.boolean().default(false).describe('also write <prefix>-report.json: transform, fitness and inlier RMSE per stage, final stage, confidence (no point lists)'),
  }),
  operator: (p, ctx) =>
    concatMap(async function* (a: Alignment): AsyncGenerator<FileRef> {
      const prefix = p.prefix.replaceAll('{name}', a.name);
      const { B, labels } = viewBasis(a.target.points, p.projection);
      const tg = project(a.target.points, B, sampleIndices(a.target.points.rows, p.maxPoints));
      const se = sampleIndices(a.source.points.rows, p.maxPoints);
      const src = project(a.source.points, B, se);
      const al = project(a.aligned.points, B, se);
      const rotText = a.dim === 2 ? `rotation ${angle2D(a.rotation).toFixed(3)}°` : `${a.dim}-D`;
      const sub = `${a.method}: ${rotText}, scale ${a.scale.toPrecision(4)}, inlier RMSE ${a.inlierRmse.toPrecision(3)}, fitness ${a.fitness.toFixed(3)}, ${a.iterations} iteration${a.iterations === 1 ? '' : 's'}${a.converged ? ', converged' : ', NOT converged'}`;
      const pts: Series[] = [
        { name: `target (${a.target.name})`, x: tg.x, y: tg.y, kind: 'points', color: '#d62728', radius: 3 },
        { name: `source (${a.source.name})`, x: src.x, y: src.y, kind: 'points', color: '#9ecae1', radius: 3 },
        { name: 'aligned source', x: al.x, y: al.y, kind: 'points', color: '#1f77b4', radius: 2 },
      ];
      const view = a.dim === 3 ? ` (${p.projection} view)` : '';
      yield await ctx.writeFile(`${prefix}-points.svg`, svgChart({ title: `Alignment ${a.name}${view}`, subtitle: sub, x: { label: labels[0] }, y: { label: labels[1] }, series: pts, equalAspect: true }), { format: 'svg', description: 'target, source and aligned points' });
      const its = a.rmseHistory.map((_, i) => i);
      const fit = (a.details?.fitnessHistory as number[] | undefined) ?? [];
      const err: Series[] = [{ name: 'inlier RMSE', x: its, y: a.rmseHistory, kind: 'both', color: '#1f77b4' }];
      if (fit.length) err.push({ name: 'fitness', x: its, y: fit, kind: 'both', axis: 'y2', color: '#2ca02c', dashed: true });
      // coarse-to-fine schedules: one curve across all levels, a line where each level starts
      const starts = (a.details?.levelStarts as number[] | undefined) ?? [];
      const lvls = (a.details?.stages as { stage: string; voxel?: number | null; maxCorrespondenceDistance?: number }[] | undefined)?.filter((s) => s.stage.startsWith('icp level')) ?? [];
      const vlines = starts.length > 1 ? starts.map((x, i) => ({ x, label: `L${i + 1}`, color: '#999' })) : undefined;
      const lvlText = lvls.map((l, i) => `L${i + 1} d ${l.maxCorrespondenceDistance!.toPrecision(2)}${l.voxel ? ` voxel ${l.voxel.toPrecision(2)}` : ' full res'}`).join('; ');
      const verdict = a.details?.finalStage ? ` | final: ${a.details.finalStage as string}${a.details.confident === false ? ' (NOT confident)' : ''}` : '';
      yield await ctx.writeFile(`${prefix}-error.svg`, svgChart({
        title: `Error per iteration: ${a.name}`, subtitle: sub + verdict, vlines, x: { label: starts.length > 1 ? `iteration, all levels (${lvlText})` : 'iteration (0 = before the first update)' },
        y: { label: 'inlier RMSE (coordinate units)' }, y2: fit.length ? { label: 'fitness (fraction matched)', min: 0, max: 1 } : undefined, series: err,
      }), { format: 'svg', description: 'RMSE (and fitness) per iteration' });
      if (p.report) {
        const { source: _s, target: _t, aligned: _a, history: _h, details, ...rest } = a;
        const { fitnessHistory: _f, ...det } = details ?? {};
        const summary = { ...rest, transform: a.transform.to2D(), rotation: a.rotation.to2D(), translation: Array.from(a.translation), source: a.source.name, target: a.target.name, sourcePoints: a.source.points.rows, targetPoints: a.target.points.rows, ...det };
        yield await ctx.writeFile(`${prefix}-report.json`, JSON.stringify(summary, null, 2), { format: 'json', description: 'alignment summary: stages, final stage, confidence' });
      }
      if (p.animation && a.history && a.history.length > 1) {
        const sub0 = a.source.points;
        const frames = a.history.map((T) => project(applyTransform(T, sub0), B, se));
        const captions = a.history.map((_, i) => `iteration ${i}: inlier RMSE ${a.rmseHistory[i]?.toPrecision(3) ?? '?'}${fit[i] !== undefined ? `, fitness ${fit[i]!.toFixed(3)}` : ''}`);
        const svg = animatedScatterSvg({
          title: `ICP iterations: ${a.name}${view}`, subtitle: sub, xLabel: labels[0], yLabel: labels[1], frameMs: p.frameMs,
          fixed: [{ name: `target (${a.target.name})`, x: tg.x, y: tg.y, color: '#d62728' }],
          moving: { name: `source (${a.source.name})`, frames, color: '#1f77b4' }, captions,
        });
        yield await ctx.writeFile(`${prefix}-anim.svg`, svg, { format: 'svg', description: 'animation of the ICP iterations (SMIL)' });
      }
    }),
});
