/**
 * Charts as Vega-Lite specs rendered to SVG in Node (no browser): vega-lite compiles
 * the spec, vega lays out axes, ticks, legends and titles and writes the SVG. The
 * same specs can be embedded in a page. Plus the few rules svdflow adds on top:
 * titles wrapped to the figure width, one tick format per axis kind, and a y domain
 * that never magnifies rounding noise (`guardedDomain`).
 */
import type { TopLevelSpec } from 'vega-lite';

// loaded on first use: the two libraries take a few hundred ms to import, which every CLI start would pay
let libs: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined;
const load = () => (libs ??= Promise.all([import('vega'), import('vega-lite')]));

/** A Vega-Lite spec as plain data (checked by vega-lite's compiler when rendered; the TS types of nested layers are too strict to write by hand). */
export type Spec = Record<string, unknown>;

export const FONT = 'Helvetica, Arial, sans-serif';

/** Shared look: white background, light grid, no ARIA labels (they would repeat every datum, data URIs included). */
export const CONFIG = {
  font: FONT,
  aria: false,
  background: 'white',
  padding: 12,
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#444', anchor: 'start', offset: 10, subtitlePadding: 4 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e8e8e8', labelOverlap: true, labelFlush: false },
  legend: { labelFontSize: 11, titleFontSize: 11, symbolStrokeWidth: 2, labelLimit: 320 },
  view: { stroke: '#999' },
  line: { strokeWidth: 2 },
} as const;

/** Tick label formats: linear axes use d3's step-aware default (one precision per axis); these are for the rest. */
export const FORMAT = {
  /** log axes spanning decades: 1e-16, 1e-8, 1e+0 (never 5e-4 beside 0.001) */
  logDecades: '.0e',
  /** integer counts and indices */
  integer: 'd',
  /** percentages held as fractions */
  percent: '.0%',
} as const;

/**
 * Splits text into lines of at most `maxChars`, breaking after '; ', ', ' or spaces
 * (a Vega title or subtitle given as an array draws one line per entry, so nothing is cut).
 */
export function wrapText(text: string, maxChars: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/(?<=[;,]) |\s+/)) {
      if (!word) continue;
      const next = line ? `${line} ${word}` : word;
      if (next.length > maxChars && line) {
        out.push(line);
        line = word;
      } else line = next;
    }
    if (line) out.push(line);
  }
  return out.length ? out : [''];
}

/**
 * A title block: bold title and a grey subtitle, both wrapped for a figure `width` px wide.
 * Without a canvas, vega sizes text at 0.8 em per character (about 1.3 times the real width),
 * so lines are cut to that estimate: longer ones would widen the figure with empty space.
 */
export function titleBlock(text: string, subtitle: string | undefined, width: number): Record<string, unknown> {
  const t = wrapText(text, Math.max(20, Math.floor(width / (0.8 * CONFIG.title.fontSize))));
  const block: Record<string, unknown> = { text: t.length === 1 ? t[0] : t };
  if (subtitle) block.subtitle = wrapText(subtitle, Math.max(30, Math.floor(width / (0.8 * CONFIG.title.subtitleFontSize))));
  return block;
}

/**
 * A linear y domain that does not turn rounding noise into a full-height curve: when the
 * data's spread is below `relTol` of its magnitude (e.g. an RMSE that changes in the 15th
 * digit), the domain is widened to ±`relPad` of the magnitude around the values; otherwise
 * undefined (let the scale fit the data). `zero` keeps 0 in the domain for quantities
 * that start at 0 (errors, counts).
 */
export function guardedDomain(values: ArrayLike<number>, opts: { relTol?: number; relPad?: number; zero?: boolean } = {}): [number, number] | undefined {
  const relTol = opts.relTol ?? 1e-6, relPad = opts.relPad ?? 0.05;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi >= lo)) return undefined;
  const mag = Math.max(Math.abs(lo), Math.abs(hi));
  if (hi - lo > relTol * mag) return undefined;
  const mid = (lo + hi) / 2;
  const half = mag > 0 ? relPad * mag : 1;
  if (opts.zero && mid >= 0) return [0, mid + half];
  if (opts.zero && mid < 0) return [mid - half, 0];
  return [mid - half, mid + half];
}

/**
 * Equal data units on x and y (point clouds, principal coordinates): domains padded to the
 * plot's aspect, and the plot height derived from the width within [minH, maxH].
 */
export function equalAspect(
  xs: ArrayLike<number>[],
  ys: ArrayLike<number>[],
  width: number,
  opts: { minHeight?: number; maxHeight?: number; pad?: number } = {},
): { x: [number, number]; y: [number, number]; width: number; height: number } {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const a of xs) for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]!)) { x0 = Math.min(x0, a[i]!); x1 = Math.max(x1, a[i]!); }
  for (const a of ys) for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]!)) { y0 = Math.min(y0, a[i]!); y1 = Math.max(y1, a[i]!); }
  if (!(x1 >= x0)) [x0, x1] = [-1, 1];
  if (!(y1 >= y0)) [y0, y1] = [-1, 1];
  if (x1 - x0 < 1e-12) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = opts.pad ?? 0.05;
  const dx = x1 - x0, dy = y1 - y0;
  x0 -= pad * dx; x1 += pad * dx; y0 -= pad * dy; y1 += pad * dy;
  const minH = opts.minHeight ?? 200, maxH = opts.maxHeight ?? 640;
  let height = Math.round((width * (y1 - y0)) / (x1 - x0));
  let w = width;
  if (height > maxH) {
    height = maxH;
    w = width; // widen the x domain instead of the plot
  }
  height = Math.max(minH, height);
  // units per pixel equal on both axes: grow the shorter domain about its centre
  const upp = Math.max((x1 - x0) / w, (y1 - y0) / height);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return { x: [cx - (upp * w) / 2, cx + (upp * w) / 2], y: [cy - (upp * height) / 2, cy + (upp * height) / 2], width: w, height };
}

/** Powers of ten covering [lo, hi] (lo > 0): the tick values of a log axis, one per decade, thinned to at most `max`. */
export function decadeTicks(lo: number, hi: number, max = 10): number[] {
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
  const step = Math.max(1, Math.ceil((b - a + 1) / max));
  const out: number[] = [];
  for (let e = a; e <= b; e += step) out.push(10 ** e);
  return out;
}

/** Compiles a Vega-Lite spec (svdflow's CONFIG merged under the spec's own) and renders it to SVG text. */
export async function renderSvg(spec: Spec): Promise<string> {
  const [vega, vl] = await load();
  const s = { ...spec, config: { ...CONFIG, ...((spec.config as object | undefined) ?? {}) } } as unknown as TopLevelSpec;
  const compiled = vl.compile(s, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rows of a long table for `data: { values }` from parallel arrays. */
export function rows<K extends string>(cols: Record<K, ArrayLike<number | string | null>>): Array<Record<K, number | string | null>> {
  const keys = Object.keys(cols) as K[];
  const n = Math.min(...keys.map((k) => cols[k].length));
  const out: Array<Record<K, number | string | null>> = [];
  for (let i = 0; i < n; i++) {
    const r = {} as Record<K, number | string | null>;
    for (const k of keys) {
      const v = cols[k][i]!;
      r[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    }
    out.push(r);
  }
  return out;
}
