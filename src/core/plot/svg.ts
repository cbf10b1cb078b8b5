/**
 * Small SVG charts with no dependencies: line and point series on linear or log
 * axes, an optional second y axis (e.g. storage beside error), and images placed
 * at data coordinates (thumbnails in a PCA scatter). Pure: returns SVG text.
 */

export interface Axis {
  label: string;
  log?: boolean;
  min?: number;
  max?: number;
}

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** 'line' (default), 'points' or 'both' */
  kind?: 'line' | 'points' | 'both';
  /** plot against the second y axis */
  axis?: 'y' | 'y2';
  color?: string;
  /** point radius in px */
  radius?: number;
  dashed?: boolean;
}

export interface PlacedImage {
  x: number;
  y: number;
  /** data: URI or relative file name */
  href: string;
  /** width and height in px */
  width: number;
  height: number;
  title?: string;
}

export interface Marker {
  x: number;
  y: number;
  label: string;
  color?: string;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  width?: number;
  height?: number;
  x: Axis;
  y: Axis;
  y2?: Axis;
  series: Series[];
  images?: PlacedImage[];
  markers?: Marker[];
  /** vertical lines, e.g. the chosen k */
  vlines?: Array<{ x: number; label?: string; color?: string }>;
  /** keep x and y at the same scale (scatter of coordinates, point clouds) */
  equalAspect?: boolean;
  /** where the legend goes; 'auto' (default) picks the place that covers the fewest points and lines */
  legend?: 'auto' | 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'middle-right' | 'middle-left' | 'none';
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Rounds to a few significant digits for labels. */
export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** "Nice" linear ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
}

interface Scale {
  lo: number;
  hi: number;
  log: boolean;
  map(v: number): number;
  ticks: number[];
}

function extent(values: number[], axis: Axis): [number, number] {
  const vals = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  let lo = axis.min ?? (vals.length ? Math.min(...vals) : 0);
  let hi = axis.max ?? (vals.length ? Math.max(...vals) : 1);
  if (lo === hi) {
    lo = axis.log ? lo / 10 : lo - 1;
    hi = axis.log ? hi * 10 : hi + 1;
  }
  return [lo, hi];
}

function makeScale(lo: number, hi: number, axis: Axis, p0: number, p1: number): Scale {
  const log = !!axis.log;
  if (!log && axis.min === undefined && axis.max === undefined) {
    const pad = (hi - lo) * 0.04;
    lo -= pad;
    hi += pad;
  }
  const f = (v: number) => (log ? Math.log10(v) : v);
  const a = f(lo), b = f(hi);
  return { lo, hi, log, map: (v) => p0 + ((f(v) - a) / (b - a || 1)) * (p1 - p0), ticks: log ? logTicks(lo, hi) : niceTicks(lo, hi) };
}

function manyValues(a: ArrayLike<number>): number[] {
  return Array.from(a);
}

export function svgChart(o: ChartOptions): string {
  const W = o.width ?? 720, H = o.height ?? 440;
  const m = { l: 72, r: o.y2 ? 80 : 24, t: o.subtitle ? 58 : 44, b: 56 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const main = o.series.filter((s) => s.axis !== 'y2');
  const second = o.series.filter((s) => s.axis === 'y2');
  const xs = [...o.series.flatMap((s) => manyValues(s.x)), ...(o.images ?? []).map((i) => i.x), ...(o.markers ?? []).map((k) => k.x)];
  const ys = [...main.flatMap((s) => manyValues(s.y)), ...(o.images ?? []).map((i) => i.y), ...(o.markers ?? []).map((k) => k.y)];
  let [x0, x1] = extent(xs, o.x);
  let [y0, y1] = extent(ys, o.y);
  if (o.equalAspect) {
    const span = Math.max((x1 - x0) / pw, (y1 - y0) / ph);
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    [x0, x1] = [cx - (span * pw) / 2, cx + (span * pw) / 2];
    [y0, y1] = [cy - (span * ph) / 2, cy + (span * ph) / 2];
  }
  const sx = makeScale(x0, x1, o.x, m.l, m.l + pw);
  const sy = makeScale(y0, y1, o.y, m.t + ph, m.t);
  const sy2 = o.y2 ? makeScale(...extent(second.flatMap((s) => manyValues(s.y)), o.y2), o.y2, m.t + ph, m.t) : undefined;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  // shrink a long title to fit the width (bold Helvetica is about 0.6 em per character)
  const titleSize = Math.max(10, Math.min(16, (W - 24) / (o.title.length * 0.6)));
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="${titleSize.toFixed(1)}" font-weight="bold">${escapeXml(o.title)}</text>`);
  if (o.subtitle) parts.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${escapeXml(o.subtitle)}</text>`);
  // grid and ticks
  for (const t of sx.ticks) {
    const X = sx.map(t);
    parts.push(`<line x1="${X.toFixed(1)}" y1="${m.t}" x2="${X.toFixed(1)}" y2="${m.t + ph}" stroke="#eee"/><text x="${X.toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  for (const t of sy.ticks) {
    const Y = sy.map(t);
    parts.push(`<line x1="${m.l}" y1="${Y.toFixed(1)}" x2="${m.l + pw}" y2="${Y.toFixed(1)}" stroke="#eee"/><text x="${m.l - 6}" y="${(Y + 4).toFixed(1)}" text-anchor="end">${fmtTick(t)}</text>`);
  }
  if (sy2) for (const t of sy2.ticks) parts.push(`<text x="${m.l + pw + 6}" y="${(sy2.map(t) + 4).toFixed(1)}" text-anchor="start" fill="#555">${fmtTick(t)}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(o.x.label)}</text>`);
  parts.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.y.label)}</text>`);
  if (o.y2) parts.push(`<text transform="translate(${W - 14} ${m.t + ph / 2}) rotate(90)" text-anchor="middle" fill="#555">${escapeXml(o.y2.label)}</text>`);
  parts.push(`<clipPath id="plot"><rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}"/></clipPath><g clip-path="url(#plot)">`);
  for (const im of o.images ?? []) {
    const X = sx.map(im.x) - im.width / 2, Y = sy.map(im.y) - im.height / 2;
    parts.push(`<image x="${X.toFixed(1)}" y="${Y.toFixed(1)}" width="${im.width}" height="${im.height}" href="${escapeXml(im.href)}" xlink:href="${escapeXml(im.href)}">${im.title ? `<title>${escapeXml(im.title)}</title>` : ''}</image>`);
  }
  const plotted: Array<[number, number]> = [];
  o.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const scale = s.axis === 'y2' && sy2 ? sy2 : sy;
    const pts: string[] = [];
    const kind = s.kind ?? 'line';
    const n = Math.min(s.x.length, s.y.length);
    for (let j = 0; j < n; j++) {
      const xv = s.x[j]!, yv = s.y[j]!;
      if (!Number.isFinite(xv) || !Number.isFinite(yv) || (scale.log && yv <= 0) || (sx.log && xv <= 0)) continue;
      const X = sx.map(xv), Y = scale.map(yv);
      const prev = plotted.length && j > 0 && kind !== 'points' ? plotted[plotted.length - 1]! : undefined;
      if (prev) {
        // sample the segment so that a legend avoids lines, not only vertices
        const steps = Math.min(200, Math.floor(Math.hypot(X - prev[0], Y - prev[1]) / 6));
        for (let q = 1; q < steps; q++) plotted.push([prev[0] + ((X - prev[0]) * q) / steps, prev[1] + ((Y - prev[1]) * q) / steps]);
      }
      plotted.push([X, Y]);
      pts.push(`${X.toFixed(2)},${Y.toFixed(2)}`);
    }
    if (kind !== 'points' && pts.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"/>`);
    if (kind !== 'line') for (const p of pts) { const [X, Y] = p.split(','); parts.push(`<circle cx="${X}" cy="${Y}" r="${s.radius ?? 3}" fill="${color}"/>`); }
  });
  for (const v of o.vlines ?? []) {
    const X = sx.map(v.x);
    parts.push(`<line x1="${X.toFixed(1)}" y1="${m.t}" x2="${X.toFixed(1)}" y2="${m.t + ph}" stroke="${v.color ?? '#444'}" stroke-dasharray="4 3"/>`);
    if (v.label) parts.push(`<text x="${(X + 4).toFixed(1)}" y="${m.t + 14}" fill="${v.color ?? '#444'}">${escapeXml(v.label)}</text>`);
  }
  for (const k of o.markers ?? []) {
    const X = sx.map(k.x), Y = sy.map(k.y);
    parts.push(`<g stroke="${k.color ?? 'black'}" stroke-width="2"><line x1="${X - 7}" y1="${Y}" x2="${X + 7}" y2="${Y}"/><line x1="${X}" y1="${Y - 7}" x2="${X}" y2="${Y + 7}"/></g><text x="${X + 9}" y="${Y - 6}" font-weight="bold">${escapeXml(k.label)}</text>`);
  }
  parts.push('</g>');
  // legend: a white box in the corner that hides the fewest plotted points
  const named = o.series.filter((s) => s.name);
  if (named.length && o.legend !== 'none') {
    const lw = 12 + 8 + Math.max(...named.map((s) => (s.name.length + (s.axis === 'y2' ? 14 : 0)) * 6.6)) + 10;
    const lh = named.length * 16 + 8;
    const corners = {
      'top-right': [m.l + pw - lw - 6, m.t + 6],
      'top-left': [m.l + 6, m.t + 6],
      'bottom-right': [m.l + pw - lw - 6, m.t + ph - lh - 6],
      'bottom-left': [m.l + 6, m.t + ph - lh - 6],
      'middle-right': [m.l + pw - lw - 6, m.t + (ph - lh) / 2],
      'middle-left': [m.l + 6, m.t + (ph - lh) / 2],
    } as const;
    let corner: keyof typeof corners = o.legend && o.legend !== 'auto' ? o.legend : 'top-right';
    if (!o.legend || o.legend === 'auto') {
      let best = Infinity;
      for (const [name, [bx, by]] of Object.entries(corners) as Array<[keyof typeof corners, readonly [number, number]]>) {
        let hits = 0;
        for (const [X, Y] of plotted) if (X >= bx - 4 && X <= bx + lw + 4 && Y >= by - 4 && Y <= by + lh + 4) hits++;
        if (hits < best) {
          best = hits;
          corner = name;
        }
      }
    }
    const [bx, by] = corners[corner];
    parts.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${lw.toFixed(1)}" height="${lh}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`);
    named.forEach((s, i) => {
      const color = s.color ?? PALETTE[o.series.indexOf(s) % PALETTE.length]!;
      const Y = by + 16 + i * 16;
      parts.push(`<rect x="${(bx + 8).toFixed(1)}" y="${Y - 9}" width="12" height="10" fill="${color}"/><text x="${(bx + 26).toFixed(1)}" y="${Y}">${escapeXml(s.name)}${s.axis === 'y2' ? ' (right axis)' : ''}</text>`);
    });
  }
  parts.push('</svg>');
  return parts.join('\n');
}
