/**
 * Compression curves of a Factorization, computed from the singular values only
 * (no rebuilding), and their CSV / SVG renderings.
 *
 * For k = 1..K (K = values computed for every plane):
 *  - error_k: ‖A_orig − A_k‖_F / ‖A_orig‖_F with A_orig the image WITH its mean (see lowrank.ts),
 *  - energy_k: fraction of Σσ² of the centred planes kept,
 *  - psnr_k (dB, float): 10 log10(peak² / MSE_k), MSE_k = Σ tail_k / (pixels · factorised planes),
 *    before clamping and 8-bit rounding,
 *  - bytes at float32 / float64 (storage.ts) and the ratio against the raw 8-bit original.
 */
import { svgChart, PALETTE, type Series } from '../plot/svg.js';
import { combinedEnergy, combinedErrors, commonLength } from './lowrank.js';
import { storageShape, lowRankBytes, originalBytes } from './storage.js';
import type { Factorization } from '../ports.js';

export interface Curves {
  k: number[];
  /** one column per factorised plane */
  sigma: number[][];
  energy: number[];
  error: number[];
  psnrDb: number[];
  bytesFloat32: number[];
  bytesFloat64: number[];
  ratioFloat32: number[];
  ratioFloat64: number[];
}

export function planeNames(f: Factorization): string[] {
  const t = f.template;
  if (t.kind === 'Matrix') return ['matrix'];
  if (t.color === 'gray') return ['gray'];
  if (f.passthrough?.length) return ['Y'];
  return t.color === 'rgb' ? ['R', 'G', 'B'] : ['Y', 'Cb', 'Cr'];
}

export function compressionCurves(f: Factorization): Curves {
  const K = commonLength(f.factors);
  const err = combinedErrors(f.factors, f.originalNormSq);
  const en = combinedEnergy(f.factors);
  const shape = storageShape(f);
  const orig = originalBytes(shape);
  const peak = f.template.kind === 'Image' ? f.template.range[1] : 1;
  const cells = shape.m * shape.n * f.factors.length;
  const origNormSq = f.originalNormSq.reduce((a, b) => a + b, 0);
  const c: Curves = { k: [], sigma: f.factors.map(() => []), energy: [], error: [], psnrDb: [], bytesFloat32: [], bytesFloat64: [], ratioFloat32: [], ratioFloat64: [] };
  for (let k = 1; k <= K; k++) {
    c.k.push(k);
    f.factors.forEach((F, p) => c.sigma[p]!.push(F.s[k - 1]!));
    c.energy.push(en[k]!);
    c.error.push(err[k]!);
    const mse = (err[k]! * err[k]! * origNormSq) / cells;
    c.psnrDb.push(mse > 0 ? 10 * Math.log10((peak * peak) / mse) : Infinity);
    const b32 = lowRankBytes(k, shape, 'float32'), b64 = lowRankBytes(k, shape, 'float64');
    c.bytesFloat32.push(b32);
    c.bytesFloat64.push(b64);
    c.ratioFloat32.push(orig / b32);
    c.ratioFloat64.push(orig / b64);
  }
  return c;
}

export function curvesCsv(c: Curves, names: string[]): string {
  const head = ['k', ...names.map((n) => `sigma_${n}`), 'energy', 'rel_error', 'psnr_db', 'bytes_float32', 'bytes_float64', 'ratio_float32', 'ratio_float64'];
  const g = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(10))) : x > 0 ? 'inf' : '');
  const rows = c.k.map((k, i) => [k, ...c.sigma.map((s) => s[i]!), c.energy[i]!, c.error[i]!, c.psnrDb[i]!, c.bytesFloat32[i]!, c.bytesFloat64[i]!, c.ratioFloat32[i]!, c.ratioFloat64[i]!].map(g).join(','));
  return [head.join(','), ...rows].join('\n') + '\n';
}

const PLANE_COLORS: Record<string, string> = { R: '#d62728', G: '#2ca02c', B: '#1f77b4', gray: '#333333', Y: '#333333', matrix: '#333333' };

/** Singular values (log y) per plane, with the cumulative energy on the second axis and the chosen k. */
export function spectrumSvg(f: Factorization, c: Curves, k: number, title: string): string {
  const names = planeNames(f);
  const series: Series[] = names.map((n, p) => ({ name: `σ (${n})`, x: c.k, y: c.sigma[p]!.map((v) => Math.max(v, 1e-16)), color: PLANE_COLORS[n] ?? PALETTE[p] }));
  series.push({ name: 'cumulative energy', x: c.k, y: c.energy.map((e) => 100 * e), axis: 'y2', color: PALETTE[4], dashed: true });
  return svgChart({
    title,
    subtitle: `${names.length > 1 ? 'one SVD per plane' : 'singular values'}; k = ${k} keeps ${(100 * c.energy[k - 1]!).toFixed(2)}% of the energy`,
    x: { label: 'index i' },
    y: { label: 'singular value σᵢ (log scale)', log: true, min: Math.max(1e-16, Math.min(...c.sigma.flat().filter((v) => v > 0)) / 1.5), max: Math.max(...c.sigma.flat()) * 1.5 },
    y2: { label: 'energy kept by the top values (%)', min: 0, max: 100 },
    series,
    vlines: [{ x: k, label: `k = ${k}` }],
  });
}

/** Relative error vs k with storage on the second axis (float32 and float64) and the original's sizes as references. */
export function errorStorageSvg(c: Curves, k: number, refs: Array<{ name: string; bytes: number }>, title: string): string {
  const kib = (b: number) => b / 1024;
  // show k up to where float32 storage passes the largest reference by 25% (at least 3k): the useful range
  const maxRef = Math.max(...refs.map((r) => r.bytes));
  const kCross = c.bytesFloat32.findIndex((b) => b >= 1.25 * maxRef) + 1 || c.k.length;
  const xmax = Math.min(c.k.length, Math.max(3 * k, kCross, 10));
  const cut = <T>(a: T[]) => a.slice(0, xmax);
  const x0 = c.k[0]!, x1 = c.k[xmax - 1]!;
  const series: Series[] = [
    { name: 'relative error (%)', x: cut(c.k), y: cut(c.error).map((e) => 100 * e), color: PALETTE[1] },
    { name: 'storage float32 (KiB)', x: cut(c.k), y: cut(c.bytesFloat32).map(kib), axis: 'y2', color: PALETTE[0] },
    { name: 'storage float64 (KiB)', x: cut(c.k), y: cut(c.bytesFloat64).map(kib), axis: 'y2', color: PALETTE[0], dashed: true },
    ...refs.map((r, i) => ({ name: `${r.name} (${kib(r.bytes).toFixed(0)} KiB)`, x: [x0, x1], y: [kib(r.bytes), kib(r.bytes)], axis: 'y2' as const, color: PALETTE[[7, 2, 3, 5][i % 4]!], dashed: true })),
  ];
  return svgChart({
    title,
    subtitle: `at k = ${k}: error ${(100 * c.error[k - 1]!).toFixed(2)}%, ${kib(c.bytesFloat32[k - 1]!).toFixed(0)} KiB at float32 (ratio ${c.ratioFloat32[k - 1]!.toFixed(1)}x vs raw 8-bit)`,
    x: { label: 'rank k' },
    y: { label: 'relative Frobenius error vs original (%)', min: 0 },
    y2: { label: 'storage (KiB)', min: 0 },
    series,
    vlines: [{ x: k, label: `k = ${k}` }],
  });
}
