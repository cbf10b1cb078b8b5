/**
 * Figures of a collection PCA as Vega-Lite charts: explained variance per component,
 * and the collection in two principal coordinates with every image's thumbnail and name,
 * the mean image at the origin. Thumbnails that would cover one another are moved to the
 * nearest free spot and joined to their point by a line (`placeThumbnails`).
 */
import { renderSvg, titleBlock, equalAspect, FORMAT } from './vl.js';
import type { ExplainedVariance } from '../pca/model.js';

export async function varianceSvg(name: string, n: number, d: number, solver: string, ev: ExplainedVariance): Promise<string> {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const values = ev.component.map((c, i) => ({ c, ratio: ev.ratio[i]!, cumulative: ev.cumulative[i]! }));
  const x = { field: 'c', type: 'ordinal', title: 'component', axis: { labelAngle: 0 } };
  return renderSvg({
    title: titleBlock(`Explained variance: ${name} (${n} images, d = ${d.toLocaleString('en')})`, `PC1 ${pct(ev.ratio[0] ?? 0)}, PC1-2 ${pct(ev.cumulative[1] ?? ev.cumulative[0] ?? 0)}, PC1-3 ${pct(ev.cumulative[2] ?? ev.cumulative.at(-1) ?? 0)} of the variance (solver ${solver}); bars: each component, line: cumulative`, 640),
    width: 640, height: 300, data: { values },
    encoding: { x },
    layer: [
      { mark: { type: 'bar', color: '#1f77b4' }, encoding: { y: { field: 'ratio', type: 'quantitative', title: 'fraction of the variance', scale: { domain: [0, 1] }, axis: { format: FORMAT.percent } } } },
      { mark: { type: 'line', color: '#ff7f0e', point: { color: '#ff7f0e' } }, encoding: { y: { field: 'cumulative', type: 'quantitative' } } },
    ],
  });
}

export interface Thumb {
  name: string;
  x: number;
  y: number;
  href: string;
}

export interface Placed {
  /** the thumbnail's centre in px from the plot's top-left */
  cx: number;
  cy: number;
  /** the point's position in px */
  px: number;
  py: number;
  moved: boolean;
}

/**
 * Greedy placement of w x h boxes (plus a label band of `labelH` below) centred on their
 * points when free, else at the nearest free spot on rings around the point (up to
 * `maxRings` rings); boxes are placed from the centre of the cloud outwards. Returns one
 * placement per input, in input order.
 */
export function placeThumbnails(points: Array<{ px: number; py: number }>, w: number, h: number, labelH: number, maxRings = 12, fixed: Array<{ cx: number; cy: number }> = []): Placed[] {
  const boxH = h + labelH;
  const boxes: Array<{ cx: number; cy: number }> = [...fixed];
  const free = (cx: number, cy: number) => boxes.every((b) => Math.abs(b.cx - cx) >= w + 2 || Math.abs(b.cy - cy) >= boxH + 2);
  const mx = points.reduce((s, p) => s + p.px, 0) / Math.max(1, points.length);
  const my = points.reduce((s, p) => s + p.py, 0) / Math.max(1, points.length);
  const order = points.map((_, i) => i).sort((a, b) => Math.hypot(points[a]!.px - mx, points[a]!.py - my) - Math.hypot(points[b]!.px - mx, points[b]!.py - my));
  const out: Placed[] = new Array(points.length);
  for (const i of order) {
    const p = points[i]!;
    let best = { cx: p.px, cy: p.py + labelH / 2 };
    let moved = false;
    if (!free(best.cx, best.cy)) {
      moved = true;
      search: for (let r = 1; r <= maxRings; r++) {
        const steps = 8 * r;
        for (let s = 0; s < steps; s++) {
          const t = (2 * Math.PI * s) / steps;
          const cx = p.px + Math.cos(t) * r * (w + 2) * 0.6, cy = p.py + labelH / 2 + Math.sin(t) * r * (boxH + 2) * 0.6;
          if (free(cx, cy)) { best = { cx, cy }; break search; }
        }
      }
    }
    boxes.push(best);
    out[i] = { cx: best.cx, cy: best.cy - labelH / 2, px: p.px, py: p.py, moved };
  }
  return out;
}

/** Thumbnails at their principal coordinates (equal scales), names below them, the mean image at the origin in a red frame. */
export async function pcaScatterSvg(o: {
  title: string; subtitle: string; xTitle: string; yTitle: string; width: number; height: number;
  thumbs: Thumb[]; mean: { href: string }; tw: number; th: number;
}): Promise<{ svg: string; moved: number }> {
  const { tw, th } = o;
  const labelH = 13;
  const xs = [0, ...o.thumbs.map((t) => t.x)], ys = [0, ...o.thumbs.map((t) => t.y)];
  // room for half a thumbnail around the extreme points
  const plotW = o.width - 120;
  const ea0 = equalAspect([xs], [ys], plotW - tw, { maxHeight: o.height - 160 - th, minHeight: 200 });
  const upp = (ea0.x[1] - ea0.x[0]) / (plotW - tw);
  const ea = { x: [ea0.x[0] - (upp * tw) / 2, ea0.x[1] + (upp * tw) / 2] as [number, number], y: [ea0.y[0] - (upp * (th + labelH)) / 2, ea0.y[1] + (upp * (th + labelH)) / 2] as [number, number], width: plotW, height: ea0.height + th + labelH };
  const toPx = (x: number, y: number) => ({ px: ((x - ea.x[0]) / (ea.x[1] - ea.x[0])) * ea.width, py: ea.height - ((y - ea.y[0]) / (ea.y[1] - ea.y[0])) * ea.height });
  const toData = (px: number, py: number) => ({ x: ea.x[0] + (px / ea.width) * (ea.x[1] - ea.x[0]), y: ea.y[0] + ((ea.height - py) / ea.height) * (ea.y[1] - ea.y[0]) });
  const origin = toPx(0, 0);
  const placed = placeThumbnails(o.thumbs.map((t) => toPx(t.x, t.y)), tw, th, labelH, 12, [{ cx: origin.px, cy: origin.py + labelH / 2 }]);
  const moved = placed.filter((p) => p.moved).length;
  const images = o.thumbs.map((t, i) => {
    const c = toData(placed[i]!.cx, placed[i]!.cy);
    const lab = toData(placed[i]!.cx, placed[i]!.cy + th / 2 + 1);
    return { x: t.x, y: t.y, ix: c.x, iy: c.y, lx: lab.x, ly: lab.y, url: t.href, name: t.name, moved: placed[i]!.moved };
  });
  const frame0 = toData(origin.px - tw / 2 - 2, origin.py - th / 2 - 2), frame1 = toData(origin.px + tw / 2 + 2, origin.py + th / 2 + 2);
  const meanLab = toData(origin.px, origin.py + th / 2 + 3);
  const x = { field: 'x', type: 'quantitative', title: o.xTitle, scale: { domain: ea.x, nice: false, zero: false } };
  const y = { field: 'y', type: 'quantitative', title: o.yTitle, scale: { domain: ea.y, nice: false, zero: false } };
  const svg = await renderSvg({
    title: titleBlock(o.title, o.subtitle + (moved ? `; ${moved} thumbnail${moved === 1 ? '' : 's'} moved off ${moved === 1 ? 'its point' : 'their points'} to avoid overlap (grey line to the point)` : ''), ea.width),
    width: ea.width, height: ea.height,
    layer: [
      { data: { values: images.filter((m) => m.moved) }, mark: { type: 'rule', color: '#999', strokeWidth: 1 }, encoding: { x, y, x2: { field: 'ix' }, y2: { field: 'iy' } } },
      { data: { values: images }, mark: { type: 'circle', size: 14, color: '#333' }, encoding: { x, y } },
      { data: { values: [{ x: frame0.x, y: frame0.y, x2: frame1.x, y2: frame1.y }] }, mark: { type: 'rect', fill: '#d62728' }, encoding: { x, y, x2: { field: 'x2' }, y2: { field: 'y2' } } },
      { data: { values: [{ x: 0, y: 0, url: o.mean.href }] }, mark: { type: 'image', width: tw, height: th, align: 'center', baseline: 'middle' }, encoding: { x, y, url: { field: 'url' } } },
      { data: { values: [{ x: meanLab.x, y: meanLab.y, t: 'mean' }] }, mark: { type: 'text', baseline: 'top', fontWeight: 'bold', fontSize: 10, color: '#d62728' }, encoding: { x, y, text: { field: 't' } } },
      { data: { values: images }, mark: { type: 'image', width: tw, height: th, align: 'center', baseline: 'middle' }, encoding: { x: { ...x, field: 'ix' }, y: { ...y, field: 'iy' }, url: { field: 'url' } } },
      { data: { values: images }, mark: { type: 'text', baseline: 'top', fontSize: 9, color: '#222' }, encoding: { x: { ...x, field: 'lx' }, y: { ...y, field: 'ly' }, text: { field: 'name' } } },
    ],
  });
  return { svg, moved };
}
