/**
 * Animated scatter plots as SVG with SMIL `<animate>` (plays in browsers, no
 * script): static point sets plus one moving set whose positions change frame by
 * frame (e.g. the source points after each ICP iteration), with a frame caption.
 * Equal x/y scale. Pure: returns SVG text.
 */
import { escapeXml, tickLabels, niceTicks, PALETTE } from './svg.js';
import { wrapText } from './vl.js';

export interface AnimLayer {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
  radius?: number;
}

export interface AnimOptions {
  title: string;
  subtitle?: string;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** point sets that do not move */
  fixed: AnimLayer[];
  /** the moving set: positions per frame (every frame has the same number of points) */
  moving: { name: string; frames: Array<{ x: ArrayLike<number>; y: ArrayLike<number> }>; color?: string; radius?: number };
  /** one caption per frame, e.g. "iteration 3: RMSE 0.12" */
  captions?: string[];
  /** milliseconds per frame (default 600) */
  frameMs?: number;
  /** extra frames to hold the last one before looping (default 3) */
  hold?: number;
}

export function animatedScatterSvg(o: AnimOptions): string {
  const W = o.width ?? 720;
  // the subtitle wrapped to the width (about 6.5 px per 12 px character), the frame caption on its own line above the plot, the legend below it
  const subLines = o.subtitle ? wrapText(o.subtitle, Math.floor((W - 24) / 6.5)) : [];
  const capY = 44 + subLines.length * 16;
  const H = (o.height ?? 480) + subLines.length * 16;
  const m = { l: 64, r: 24, t: capY + 12, b: 72 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const frames = o.moving.frames;
  const F = frames.length;
  if (F === 0) throw new RangeError('animatedScatterSvg: no frames');
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const grow = (xs: ArrayLike<number>, ys: ArrayLike<number>) => {
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!, y = ys[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
  };
  for (const l of o.fixed) grow(l.x, l.y);
  for (const f of frames) grow(f.x, f.y);
  if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
  if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
  const pad = 0.04;
  const span = Math.max((x1 - x0) / pw, (y1 - y0) / ph) * (1 + 2 * pad);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const X0 = cx - (span * pw) / 2, Y0 = cy - (span * ph) / 2;
  const sx = (v: number) => m.l + (v - X0) / span;
  const sy = (v: number) => m.t + ph - (v - Y0) / span;
  const hold = o.hold ?? 3;
  const frameMs = o.frameMs ?? 600;
  const total = F + hold;
  const dur = (total * frameMs) / 1000;
  // keyTimes: frame f at f / (total - 1)… the last frame repeated for `hold` frames
  const keyTimes = Array.from({ length: total }, (_, i) => (i / (total - 1)).toFixed(4)).join(';');
  const seq = (get: (f: number) => number) => Array.from({ length: total }, (_, i) => get(Math.min(i, F - 1)).toFixed(1)).join(';');

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(o.title)}</text>`);
  subLines.forEach((l, i) => parts.push(`<text x="${W / 2}" y="${40 + i * 16}" text-anchor="middle" fill="#555">${escapeXml(l)}</text>`));
  const xt = niceTicks(X0, X0 + span * pw), yt = niceTicks(Y0, Y0 + span * ph);
  const xl = tickLabels(xt), yl = tickLabels(yt);
  xt.forEach((t, i) => parts.push(`<line x1="${sx(t).toFixed(1)}" y1="${m.t}" x2="${sx(t).toFixed(1)}" y2="${m.t + ph}" stroke="#eee"/><text x="${sx(t).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${xl[i]}</text>`));
  yt.forEach((t, i) => parts.push(`<line x1="${m.l}" y1="${sy(t).toFixed(1)}" x2="${m.l + pw}" y2="${sy(t).toFixed(1)}" stroke="#eee"/><text x="${m.l - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${yl[i]}</text>`));
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  if (o.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 34}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  parts.push(`<clipPath id="anim-plot"><rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}"/></clipPath><g clip-path="url(#anim-plot)">`);
  o.fixed.forEach((l, k) => {
    const color = l.color ?? PALETTE[(k + 1) % PALETTE.length]!;
    const r = l.radius ?? 3;
    const dots: string[] = [];
    for (let i = 0; i < l.x.length; i++) dots.push(`<circle cx="${sx(l.x[i]!).toFixed(1)}" cy="${sy(l.y[i]!).toFixed(1)}" r="${r}"/>`);
    parts.push(`<g fill="${color}" fill-opacity="0.8">${dots.join('')}</g>`);
  });
  const mc = o.moving.color ?? PALETTE[0]!;
  const mr = o.moving.radius ?? 3;
  const n = frames[0]!.x.length;
  const circles: string[] = [];
  for (let i = 0; i < n; i++) {
    const xs = seq((f) => sx(frames[f]!.x[i]!)), ys = seq((f) => sy(frames[f]!.y[i]!));
    circles.push(`<circle cx="${sx(frames[0]!.x[i]!).toFixed(1)}" cy="${sy(frames[0]!.y[i]!).toFixed(1)}" r="${mr}">` +
      `<animate attributeName="cx" values="${xs}" keyTimes="${keyTimes}" dur="${dur}s" repeatCount="indefinite"/>` +
      `<animate attributeName="cy" values="${ys}" keyTimes="${keyTimes}" dur="${dur}s" repeatCount="indefinite"/></circle>`);
  }
  parts.push(`<g fill="${mc}" fill-opacity="0.8">${circles.join('')}</g>`);
  parts.push('</g>');
  // captions: one text per frame, visible during its frame (discrete opacity)
  (o.captions ?? []).slice(0, F).forEach((c, f) => {
    const vis = Array.from({ length: total }, (_, i) => (Math.min(i, F - 1) === f ? 1 : 0)).join(';');
    parts.push(`<text x="${m.l}" y="${capY}" font-weight="bold" opacity="${f === 0 ? 1 : 0}">${escapeXml(c)}<animate attributeName="opacity" values="${vis}" keyTimes="${keyTimes}" calcMode="discrete" dur="${dur}s" repeatCount="indefinite"/></text>`);
  });
  // legend
  const legend = [{ name: o.moving.name, color: mc }, ...o.fixed.map((l, k) => ({ name: l.name, color: l.color ?? PALETTE[(k + 1) % PALETTE.length]! }))];
  let lx = m.l;
  const ly = m.t + ph + 56;
  for (const l of legend) {
    parts.push(`<circle cx="${lx + 5}" cy="${ly - 4}" r="5" fill="${l.color}"/><text x="${lx + 14}" y="${ly}">${escapeXml(l.name)}</text>`);
    lx += 30 + l.name.length * 6.5;
  }
  parts.push('</svg>');
  return parts.join('\n');
}
