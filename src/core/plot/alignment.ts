/**
 * Figures of an Alignment (Procrustes, ICP, registration from any pose), as SVG text:
 *  - points: target, source as given and aligned source (2-D, or a projection of 3-D);
 *  - error: ICP's inlier RMSE and fitness per step (two panels, one per quantity, level
 *    boundaries marked); for one-step methods (Procrustes) the residual of every matched
 *    pair before and after the fit instead, since one RMSE value is no curve;
 *  - correspondences: the pairs the first iteration uses (nearest neighbours within the
 *    first level's distance; Procrustes: the given pairs i <-> i);
 *  - anim: the source moving from its pose as given, through the global step, iteration by
 *    iteration onto the target (SMIL).
 * The numbers are the Alignment's own: these functions plot what the result says.
 */
import { renderSvg, titleBlock, equalAspect, guardedDomain, decadeTicks, FORMAT, type Spec } from './vl.js';
import { animatedScatterSvg } from './anim.js';
import { viewBasis, project, sampleIndices, type Projection } from '../points/project.js';
import { applyTransform, angle2D } from '../points/rigid.js';
import { KdTree } from '../points/kdtree.js';
import { Matrix } from '../linalg/matrix.js';
import type { Alignment } from '../ports.js';

export interface AlignmentFigureOptions {
  projection: Projection;
  maxPoints: number;
  animation: boolean;
  frameMs: number;
  correspondences: boolean;
}

export interface Figure {
  rel: string;
  data: string;
  description: string;
}

interface Stage { stage: string; fitness?: number; inlierRmse?: number; voxel?: number | null; maxCorrespondenceDistance?: number; iterations?: number; bestStartAngle?: number }

const W = 640;
const COLORS = { target: '#d62728', source: '#9ecae1', aligned: '#1f77b4', rmse: '#1f77b4', fitness: '#2ca02c', line: '#888' };

/** One line saying what the result is. */
export function alignmentSummary(a: Alignment): string {
  const rot = a.dim === 2 ? `rotation ${angle2D(a.rotation).toFixed(3)}°` : `${a.dim}-D`;
  return `${a.method}: ${rot}, scale ${a.scale.toPrecision(4)}, inlier RMSE ${a.inlierRmse.toPrecision(3)}, ${a.fitness === null ? '' : `fitness ${a.fitness.toFixed(3)}, `}${a.converged === null ? 'closed form' : `${a.iterations} iteration${a.iterations === 1 ? '' : 's'}${a.converged ? `, converged${a.stop && a.stop !== 'criteria' ? ` (${a.stop === 'exact' ? 'exact fit' : '2-cycle'})` : ''}` : ', NOT converged'}`}`;
}

function stagesOf(a: Alignment): Stage[] {
  return a.stages as Stage[];
}

function globalStage(a: Alignment): Stage | undefined {
  return stagesOf(a).find((s) => s.stage.startsWith('global'));
}

/** Largest extent of the target, the scale below which RMSE differences are rounding noise. */
function extentOf(P: Matrix): number {
  let e = 0;
  for (let c = 0; c < P.cols; c++) {
    let lo = Infinity, hi = -Infinity;
    for (let r = 0; r < P.rows; r++) { const v = P.get(r, c); if (v < lo) lo = v; if (v > hi) hi = v; }
    if (hi - lo > e) e = hi - lo;
  }
  return e || 1;
}

function dist(A: Matrix, i: number, B: Matrix, j: number): number {
  let s = 0;
  for (let c = 0; c < A.cols; c++) { const d = A.get(i, c) - B.get(j, c); s += d * d; }
  return Math.sqrt(s);
}

export async function alignmentFigures(a: Alignment, prefix: string, o: AlignmentFigureOptions): Promise<Figure[]> {
  const { B, labels } = viewBasis(a.target.points, o.projection);
  const ti = sampleIndices(a.target.points.rows, o.maxPoints);
  const si = sampleIndices(a.source.points.rows, o.maxPoints);
  const tg = project(a.target.points, B, ti);
  const view = a.dim === 3 ? ` (${o.projection} view)` : '';
  const sub = alignmentSummary(a);
  const out: Figure[] = [];
  // hollow sets (the target) are drawn last, as rings around the filled points: a perfect fit puts each
  // aligned point inside its target's ring, and neither hides the other
  const scatter = async (title: string, subtitle: string, sets: Array<{ name: string; x: ArrayLike<number>; y: ArrayLike<number>; color: string; size: number; hollow?: boolean }>, lines?: Array<{ x: number; y: number; x2: number; y2: number }>) => {
    const ea = equalAspect(sets.map((s) => s.x), sets.map((s) => s.y), W, { maxHeight: 560 });
    const valuesOf = (ss: typeof sets) => ss.flatMap((s) => Array.from(s.x, (x, i) => ({ x, y: s.y[i]!, set: s.name })));
    const enc = { x: { field: 'x', type: 'quantitative', title: labels[0], scale: { domain: ea.x, nice: false, zero: false } }, y: { field: 'y', type: 'quantitative', title: labels[1], scale: { domain: ea.y, nice: false, zero: false } } };
    const layers: Spec[] = [];
    if (lines?.length) layers.push({ data: { values: lines }, mark: { type: 'rule', color: COLORS.line, strokeWidth: 0.8, clip: true }, encoding: { ...enc, x2: { field: 'x2' }, y2: { field: 'y2' } } });
    const style = { ...enc, color: { field: 'set', type: 'nominal', title: null, sort: null, scale: { domain: sets.map((s) => s.name), range: sets.map((s) => s.color) }, legend: { orient: 'bottom', direction: 'horizontal' } }, size: { field: 'set', type: 'nominal', sort: null, scale: { domain: sets.map((s) => s.name), range: sets.map((s) => s.size) }, legend: null } };
    const filled = sets.filter((s) => !s.hollow), rings = sets.filter((s) => s.hollow);
    if (filled.length) layers.push({ data: { values: valuesOf(filled) }, mark: { type: 'circle', opacity: 0.85, clip: true }, encoding: style });
    if (rings.length) layers.push({ data: { values: valuesOf(rings) }, mark: { type: 'point', shape: 'circle', filled: false, strokeWidth: 1.3, opacity: 0.95, clip: true }, encoding: style });
    return renderSvg({ title: titleBlock(title, subtitle, ea.width), width: ea.width, height: ea.height, layer: layers });
  };

  const src = project(a.source.points, B, si);
  const al = project(a.aligned.points, B, si);
  out.push({
    rel: `${prefix}-points.svg`,
    description: 'target, source and aligned points',
    data: await scatter(`Alignment ${a.name}${view}`, sub, [
      { name: `target (${a.target.name})`, x: tg.x, y: tg.y, color: COLORS.target, size: 60, hollow: true },
      { name: `source as given (${a.source.name})`, x: src.x, y: src.y, color: COLORS.source, size: 22 },
      { name: 'aligned source', x: al.x, y: al.y, color: COLORS.aligned, size: 16 },
    ]),
  });

  out.push(a.rmseHistory.length > 1 ? { rel: `${prefix}-error.svg`, description: 'inlier RMSE and fitness per ICP step', data: await errorSvg(a, sub) } : { rel: `${prefix}-error.svg`, description: 'residual of every matched pair before and after the fit', data: await residualSvg(a, sub) });

  if (o.correspondences) {
    const T0 = a.history?.[0];
    const start = T0 ? applyTransform(T0, a.source.points) : a.source.points;
    const pairs = correspondencePairs(a, start, Math.min(o.maxPoints, 400));
    const s0 = project(start, B);
    const t0 = project(a.target.points, B);
    const lines = pairs.map(([i, j]) => ({ x: s0.x[i]!, y: s0.y[i]!, x2: t0.x[j]!, y2: t0.y[j]! }));
    const sp = project(start, B, si);
    const matched = a.method === 'procrustes' ? 'the given pairs (row i with row i)' : `nearest neighbours${Number.isFinite(firstDistance(a)) ? ` within ${firstDistance(a).toPrecision(3)}` : ''}`;
    const pose = a.method === 'procrustes' ? 'the source as given' : globalStage(a) ? 'the source after the global step (iteration 0)' : 'the source at iteration 0';
    out.push({
      rel: `${prefix}-correspondences.svg`,
      description: 'correspondences of the first iteration',
      data: await scatter(`Correspondences at the first iteration: ${a.name}${view}`, `${pose}; grey lines: ${matched}; ${lines.length} of ${start.rows} source points drawn`, [
        { name: `target (${a.target.name})`, x: tg.x, y: tg.y, color: COLORS.target, size: 40, hollow: true },
        { name: 'source at iteration 0', x: sp.x, y: sp.y, color: COLORS.aligned, size: 22 },
      ], lines),
    });
  }

  if (o.animation && a.history && a.history.length > 1) out.push({ rel: `${prefix}-anim.svg`, description: 'animation: the source from its pose as given to the aligned pose (SMIL)', data: animation(a, B, labels, si, tg, view, sub, o.frameMs) });
  return out;
}

function firstDistance(a: Alignment): number {
  const lv = stagesOf(a).find((s) => s.stage.startsWith('icp level'));
  return a.icp?.schedule[0]?.maxCorrespondenceDistance ?? lv?.maxCorrespondenceDistance ?? Infinity;
}

/** [source index, target index] pairs the first iteration uses, for an evenly spread subset of the source. */
export function correspondencePairs(a: Alignment, start: Matrix, max: number): Array<[number, number]> {
  const idx = sampleIndices(start.rows, max);
  if (a.method === 'procrustes') return Array.from(idx, (i) => [i, i] as [number, number]);
  const tree = new KdTree(a.target.points);
  const d = firstDistance(a);
  const out: Array<[number, number]> = [];
  for (const i of idx) {
    const { index, distSq } = tree.nearest(start.row(i), Number.isFinite(d) ? d * d : Infinity);
    if (index >= 0 && distSq <= d * d) out.push([i, index]);
  }
  return out;
}

/** Inlier RMSE (top) and fitness (bottom) per step; dashed rules where each level of a coarse-to-fine schedule starts. */
async function errorSvg(a: Alignment, sub: string): Promise<string> {
  const rmse = a.rmseHistory;
  const fit = a.fitnessHistory;
  // x = the number of updates before each value (a level's first value repeats the previous
  // count): the last x is the iteration count the report gives
  const at = (i: number) => a.iterationOf[i] ?? i;
  const starts = a.levelStarts;
  const levels = stagesOf(a).filter((s) => s.stage.startsWith('icp level'));
  const g = globalStage(a);
  const n = rmse.length;
  const x = { field: 'step', type: 'quantitative', title: g ? 'step (0 = after the global step, before the first ICP update)' : 'step (0 = before the first update)', axis: { format: FORMAT.integer, tickMinStep: 1 }, scale: { domain: [0, Math.max(1, at(n - 1))], nice: false } };
  const floor = 1e-9 * extentOf(a.target.points);
  const dom = guardedDomain(rmse, { zero: true }) ?? [0, Math.max(floor, ...rmse.filter(Number.isFinite)) * 1.05];
  const rules: Spec[] = starts.length > 1 ? [
    { data: { values: starts.slice(1).map((s, i) => ({ step: at(s), t: `level ${i + 2}` })) }, mark: { type: 'rule', color: '#999', strokeDash: [4, 3] }, encoding: { x: { field: 'step', type: 'quantitative' } } },
    { data: { values: starts.slice(1).map((s, i) => ({ step: at(s), t: `level ${i + 2}` })) }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 3, color: '#666' }, encoding: { x: { field: 'step', type: 'quantitative' }, text: { field: 't' } } },
  ] : [];
  const lvText = levels.map((l, i) => `level ${i + 1}: max distance ${l.maxCorrespondenceDistance?.toPrecision(3) ?? '?'}, ${l.voxel ? `voxel ${l.voxel.toPrecision(2)}` : 'full resolution'}${l.iterations !== undefined ? `, ${l.iterations} iteration${l.iterations === 1 ? '' : 's'}` : ''}`).join('; ');
  const glText = g ? `${g.stage}${g.bestStartAngle !== undefined ? ` (best start ${g.bestStartAngle}°)` : ''}, fitness ${g.fitness?.toFixed(3) ?? '?'}, inlier RMSE ${g.inlierRmse?.toPrecision(3) ?? '?'}. ` : '';
  const verdict = ` Final: ${a.finalStage}${a.confident ? '' : ' (NOT confident)'}.`;
  const subtitle = `${sub}. ${n} values plotted.${verdict}\n${glText}${lvText}`;
  const panels: Spec[] = [{
    width: W, height: 200,
    layer: [{ data: { values: rmse.map((r, i) => ({ step: at(i), v: r })) }, mark: { type: 'line', point: true, color: COLORS.rmse }, encoding: { x, y: { field: 'v', type: 'quantitative', title: 'inlier RMSE (coordinate units)', scale: { domain: dom, nice: true } } } }, ...rules],
  }];
  if (fit.length) panels.push({
    width: W, height: 120,
    layer: [{ data: { values: fit.map((f, i) => ({ step: at(i), v: f })) }, mark: { type: 'line', point: true, color: COLORS.fitness }, encoding: { x, y: { field: 'v', type: 'quantitative', title: 'fitness (fraction matched)', scale: { domain: [0, 1.08], nice: false }, axis: { values: [0, 0.25, 0.5, 0.75, 1], format: '.2f' } } } }, ...rules.slice(0, 1)],
  });
  return renderSvg({ title: titleBlock(`Error per ICP step: ${a.name}`, subtitle, W), vconcat: panels });
}

/** Procrustes (one step): distance of every matched pair before the fit and after it, on a log axis. */
async function residualSvg(a: Alignment, sub: string): Promise<string> {
  const S = a.source.points, T = a.target.points, A = a.aligned.points;
  const n = Math.min(S.rows, T.rows, A.rows);
  const before = Array.from({ length: n }, (_, i) => dist(S, i, T, i));
  const after = Array.from({ length: n }, (_, i) => dist(A, i, T, i));
  const pos = [...before, ...after].filter((v) => v > 0);
  const floor = pos.length ? Math.min(...pos) / 10 : 1e-300;
  const zeros = after.filter((v) => v <= 0).length + before.filter((v) => v <= 0).length;
  const rms = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / Math.max(1, v.length));
  const values = [...before.map((v, i) => ({ i, v: Math.max(v, floor), s: 'before the fit' })), ...after.map((v, i) => ({ i, v: Math.max(v, floor), s: 'after the fit' }))];
  const subtitle = `${sub}. RMSE of the pairs: ${rms(before).toPrecision(3)} before, ${rms(after).toPrecision(3)} after${zeros ? `; ${zeros} exact zeros drawn at ${floor.toExponential(0)}` : ''}`;
  return renderSvg({
    title: titleBlock(`Residual per matched pair: ${a.name}`, subtitle, W), width: W, height: 280,
    data: { values }, mark: { type: 'point', filled: true, size: 30 },
    encoding: {
      x: { field: 'i', type: 'quantitative', title: 'pair (row index)', axis: { format: FORMAT.integer, tickMinStep: 1 }, scale: { domain: [0, Math.max(1, n - 1)], nice: false } },
      y: { field: 'v', type: 'quantitative', title: '|aligned source − target| (log scale)', scale: { type: 'log' }, axis: { format: FORMAT.logDecades, values: decadeTicks(floor, Math.max(...values.map((v) => v.v)), 12) } },
      color: { field: 's', type: 'nominal', title: null, sort: null, scale: { domain: ['before the fit', 'after the fit'], range: [COLORS.source, COLORS.aligned] }, legend: { orient: 'bottom', direction: 'horizontal' } },
    },
  });
}

function animation(a: Alignment, B: Matrix, labels: [string, string], si: Int32Array, tg: { x: Float64Array; y: Float64Array }, view: string, sub: string, frameMs: number): string {
  const hist = a.history!;
  const fit = a.fitnessHistory;
  const starts = a.levelStarts;
  const g = globalStage(a);
  const d = a.dim;
  const identity = Matrix.identity(d + 1);
  const isIdentity = (T: Matrix) => T.data.every((v, i) => Math.abs(v - identity.data[i]!) < 1e-12);
  // registration from any pose: show the pose as given, then the global step, then ICP
  const lead = !isIdentity(hist[0]!) ? [identity] : [];
  const frames = [...lead, ...hist].map((T) => project(applyTransform(T, a.source.points), B, si));
  const level = (i: number) => { let l = 0; for (let q = 0; q < starts.length; q++) if (i >= starts[q]!) l = q; return l; };
  const captions = [
    ...lead.map(() => 'start: the source as given (no guess)'),
    ...hist.map((_, i) => {
      const vals = `inlier RMSE ${a.rmseHistory[i]?.toPrecision(3) ?? '?'}${fit[i] !== undefined ? `, fitness ${fit[i]!.toFixed(3)}` : ''}`;
      if (i === 0 && g) return `after ${g.stage}: ${vals}`;
      const l = level(i);
      return `${starts.length > 1 ? `level ${l + 1}, ` : ''}iteration ${i - starts[l]!}: ${vals}`;
    }),
  ];
  return animatedScatterSvg({
    title: `${g ? 'Registration' : 'ICP iterations'}: ${a.name}${view}`, subtitle: sub, xLabel: labels[0], yLabel: labels[1], frameMs,
    fixed: [{ name: `target (${a.target.name})`, x: tg.x, y: tg.y, color: COLORS.target }],
    moving: { name: `source (${a.source.name})`, frames, color: COLORS.aligned }, captions,
  });
}
