/**
 * Helpers for the SVG svdflow still writes by hand (the SMIL animation in anim.ts):
 * XML escaping, tick values and labels, the palette. Every chart is a Vega-Lite spec
 * (vl.ts); hand-written charts had covered legends, repeated ticks and cut titles.
 */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Labels for one axis's ticks in one format: fixed with the decimals the step needs, or,
 * for steps below 1e-4 or values from 1e5 up, exponents with the same mantissa digits
 * (never "5e-4" beside "0.001").
 */
export function tickLabels(ticks: number[]): string[] {
  if (ticks.length === 0) return [];
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : Math.abs(ticks[0]!) || 1;
  const big = Math.max(...ticks.map(Math.abs));
  if (step >= 1e-4 && big < 1e5) {
    const d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    return ticks.map((t) => (t === 0 ? '0' : t.toFixed(d)));
  }
  const e = Math.floor(Math.log10(big || 1));
  const d = Math.max(0, e - Math.floor(Math.log10(step) + 1e-9));
  return ticks.map((t) => (t === 0 ? '0' : t.toExponential(d).replace('e+', 'e')));
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
