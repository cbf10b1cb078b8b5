/**
 * Compression curves of a Factorization, computed from the singular values only
 * (no rebuilding), and their CSV / SVG renderings.
 *
 * For k = 1..K (K = values computed for every plane):
 *  - error_k: ‖A_orig − A_k‖_F / ‖A_orig‖_F with A_orig the image WITH its mean (see lowrank.ts),
 *  - energy_k: fraction of Σσ² of the centred planes kept,
 *  - psnr_k (dB, float): 10 log10(peak² / MSE_k), MSE_k = Σ tail_k / (pixels · factorised planes),
 *    before clamping and 8-bit rounding,
 *  - bytes at float32 / float64 (storage.ts) and the ratio against the raw original (8- or 16-bit).
 */
import { renderSvg, titleBlock, rows, decadeTicks, FORMAT, type Spec } from '../plot/vl.js';
import { tableCsv } from '../table.js';
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
  /** relative error with the mean only (k = 0) */
  errorAtZero: number;
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
  const c: Curves = { k: [], sigma: f.factors.map(() => []), energy: [], error: [], psnrDb: [], bytesFloat32: [], bytesFloat64: [], ratioFloat32: [], ratioFloat64: [], errorAtZero: err[0]! };
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

/** The per-k table of the JSON report and the CSV: k, sigma<Plane> per plane, energy, relError, psnrDb, storage (camelCase keys). */
export function curvesTable(c: Curves, names: string[]): Record<string, number[]> {
  const table: Record<string, number[]> = { k: c.k };
  names.forEach((nm, p) => (table[`sigma${nm[0]!.toUpperCase()}${nm.slice(1)}`] = c.sigma[p]!));
  Object.assign(table, { energy: c.energy, relError: c.error, psnrDb: c.psnrDb, bytesFloat32: c.bytesFloat32, bytesFloat64: c.bytesFloat64, ratioFloat32: c.ratioFloat32, ratioFloat64: c.ratioFloat64 });
  return table;
}

export function curvesCsv(c: Curves, names: string[]): string {
  return tableCsv(curvesTable(c, names));
}

const PLANE_COLORS: Record<string, string> = { R: '#d62728', G: '#2ca02c', B: '#1f77b4', gray: '#333333', Y: '#333333', Cb: '#1f77b4', Cr: '#d62728', matrix: '#333333' };
const W = 640;

function kRule(k: number, label: boolean): Spec[] {
  const layers: Spec[] = [{ data: { values: [{ k }] }, mark: { type: 'rule', color: '#555', strokeDash: [4, 3] }, encoding: { x: { field: 'k', type: 'quantitative' } } } as Spec];
  if (label) layers.push({ data: { values: [{ k, t: `k = ${k}` }] }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, y: 4, fontWeight: 'bold', color: '#333' }, encoding: { x: { field: 'k', type: 'quantitative' }, text: { field: 't' } } });
  return layers;
}

/** Singular values per plane on a log axis, and the cumulative energy below it on a shared k axis. */
export async function spectrumSvg(f: Factorization, c: Curves, k: number, title: string): Promise<string> {
  const names = planeNames(f);
  const sig = names.flatMap((n, p) => c.sigma[p]!.map((s, i) => ({ i: c.k[i]!, s, plane: n }))).filter((r) => r.s > 0);
  const K = c.k.length;
  const x = { field: 'i', type: 'quantitative', title: 'index i (k)', scale: { domain: [0, K] } };
  const spec = {
    title: titleBlock(title, `${names.length > 1 ? 'one SVD per plane' : 'singular values'}; k = ${k} keeps ${(100 * c.energy[k - 1]!).toFixed(2)}% of the energy (Σ σᵢ² of the centred image)`, W),
    vconcat: [
      {
        width: W, height: 240,
        layer: [
          { data: { values: sig }, mark: { type: 'line' }, encoding: { x, y: { field: 's', type: 'quantitative', scale: { type: 'log' }, axis: { format: FORMAT.logDecades, values: decadeTicks(Math.min(...sig.map((r) => r.s)), Math.max(...sig.map((r) => r.s))) }, title: 'singular value σᵢ (log scale)' }, color: { field: 'plane', type: 'nominal', title: 'plane', scale: { domain: names, range: names.map((n) => PLANE_COLORS[n] ?? '#333') }, legend: names.length > 1 ? { orient: 'top-right', symbolType: 'stroke' } : null } } },
          ...kRule(k, true),
        ],
      },
      {
        width: W, height: 140,
        layer: [
          { data: { values: rows({ i: c.k, e: c.energy }) }, mark: { type: 'line', color: '#9467bd' }, encoding: { x: { ...x, field: 'i' }, y: { field: 'e', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: FORMAT.percent }, title: 'energy kept' } } },
          ...kRule(k, false),
        ],
      },
    ],
  };
  return renderSvg(spec);
}

/** A percentage of `v` to 2 decimals, or 2 significant digits below 0.01% (a 16-bit image's 0.0012% is not 0.00%). */
const smallPct = (v: number) => (v > 0 && v < 1e-4 ? (100 * v).toPrecision(2) : (100 * v).toFixed(2));

/** the reference line of the input file's own size (compression-report names it so) */
export const SOURCE = 'source file';

/**
 * Relative error against k from k = 0 (the mean alone) to every computed k, and the storage of the
 * rank-k factors (float32 solid, float64 dashed, log axis) against the original's sizes (dotted
 * reference lines), on one shared k axis. Legends sit outside the plots.
 */
export async function errorStorageSvg(c: Curves, k: number, refs: Array<{ name: string; bytes: number }>, title: string, depth: 8 | 16 = 8): Promise<string> {
  const kib = (b: number) => b / 1024;
  const K = c.k.length;
  const x = { field: 'k', type: 'quantitative', title: 'rank k (0 = the mean alone)', scale: { domain: [0, K], nice: false } };
  const err = [{ k: 0, e: c.errorAtZero }, ...c.k.map((kk, i) => ({ k: kk, e: c.error[i]! }))];
  const store = [
    ...c.k.map((kk, i) => ({ k: kk, b: kib(c.bytesFloat32[i]!), s: 'factors, float32' })),
    ...c.k.map((kk, i) => ({ k: kk, b: kib(c.bytesFloat64[i]!), s: 'factors, float64' })),
  ];
  const refNames = refs.map((r) => `${r.name} (${kib(r.bytes).toFixed(0)} KiB)`);
  const refRows = refs.flatMap((r, i) => [{ k: 0, b: kib(r.bytes), s: refNames[i]! }, { k: K, b: kib(r.bytes), s: refNames[i]! }]);
  const domain = ['factors, float32', 'factors, float64', ...refNames];
  const refColors = ['#7f7f7f', '#2ca02c', '#ff7f0e', '#8c564b'];
  const series = {
    color: { field: 's', type: 'nominal', title: null, scale: { domain, range: ['#1f77b4', '#1f77b4', ...refNames.map((_, i) => refColors[i % refColors.length]!)] }, legend: { orient: 'bottom', direction: 'vertical', columns: 2, symbolType: 'stroke', symbolSize: 300 } },
    // the source file's size is drawn as a wider long-dashed line beneath the others: a PNG input's
    // source size is about the PNG re-encoding's, and a dotted line on a dotted line would hide it
    strokeDash: { field: 's', type: 'nominal', title: null, scale: { domain, range: [[1, 0], [7, 4], ...refs.map((r) => (r.name === SOURCE ? [12, 4] : [2, 3]))] } },
  };
  const isSource = (row: { s: string }) => refs[refNames.indexOf(row.s)]?.name === SOURCE;
  const spec = {
    title: titleBlock(title, `at k = ${k}: error ${smallPct(c.error[k - 1]!)}%, ${kib(c.bytesFloat32[k - 1]!).toFixed(0)} KiB of float32 factors (${c.ratioFloat32[k - 1]!.toFixed(1)}x smaller than the raw ${depth}-bit image); the mean alone leaves ${(100 * c.errorAtZero).toFixed(1)}%`, W),
    vconcat: [
      {
        width: W, height: 220,
        layer: [
          { data: { values: err }, mark: { type: 'line', color: '#d62728' }, encoding: { x, y: { field: 'e', type: 'quantitative', scale: { domain: [0, Math.max(1e-12, ...err.map((r) => r.e))], nice: true }, axis: { format: '.0%' }, title: 'relative Frobenius error' } } },
          ...kRule(k, true),
        ],
      },
      {
        width: W, height: 220,
        layer: [
          { data: { values: refRows.filter(isSource) }, mark: { type: 'line', clip: true, strokeWidth: 4 }, encoding: { x, y: { field: 'b', type: 'quantitative' }, ...series } },
          { data: { values: [...store, ...refRows.filter((r) => !isSource(r))] }, mark: { type: 'line', clip: true }, encoding: { x, y: { field: 'b', type: 'quantitative', scale: { type: 'log' }, axis: { format: ',~g', values: decadeTicks(Math.min(...store.map((r) => r.b), ...refRows.map((r) => r.b)), Math.max(...store.map((r) => r.b), ...refRows.map((r) => r.b))) }, title: 'storage (KiB, log scale)' }, ...series } },
          ...kRule(k, false),
        ],
      },
    ],
  };
  return renderSvg(spec);
}
