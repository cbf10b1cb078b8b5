/**
 * A PCA model read from the Factorization of a stacked, row-centred collection
 * (d x n, one image per column): X - mean 1ᵀ = U diag(s) Vᵀ.
 *
 *  - principal coordinates of image j: c_j = Uᵀ (x_j - mean) = s ⊙ V[j, :]
 *  - explained variance of component i: s_i² / (n - 1); ratio s_i² / ‖X - mean‖²_F
 *  - a new image from coordinates c (first r components): x = mean + U_r c
 *
 * Pure functions on Float64Array; no I/O.
 */
import { Matrix } from '../linalg/matrix.js';
import { InputError, suggestion } from '../errors.js';
import type { Factorization, StackLayout } from '../ports.js';
import { layoutDim } from './stack.js';

export interface PcaModel {
  name: string;
  layout: StackLayout;
  /** mean image as a d-vector (zeros if the matrix was not centred) */
  mean: Float64Array;
  /** d x k, eigen-images as columns */
  U: Matrix;
  s: Float64Array;
  /** n x k */
  V: Matrix;
  n: number;
  d: number;
  k: number;
  /** ‖X - mean‖²_F (the centred matrix) */
  normSq: number;
  /** ‖X‖²_F (the images themselves) */
  originalNormSq: number;
  centred: boolean;
}

/** Reads the PCA model out of a Factorization of a Matrix made by `stack` (and `center` with mode row). */
export function pcaModel(f: Factorization): PcaModel {
  const t = f.template;
  if (t.kind !== 'Matrix') {
    throw new InputError(`factorization '${f.name}' is of an Image, not of a stacked image collection`, 'build the collection with load (a folder) → normalize → stack → center { mode: row } → svd');
  }
  const layout = t.layout;
  if (!layout) throw new InputError(`factorization '${f.name}' is of a Matrix without an image layout`, 'make the matrix with stack, so that its columns map back to images');
  if (f.factors.length !== 1) throw new InputError(`factorization '${f.name}' has ${f.factors.length} factors, expected 1 for a matrix`, 'factorise the stacked matrix with svd');
  const fac = f.factors[0]!;
  const d = layoutDim(layout);
  if (fac.U.rows !== d) throw new InputError(`factorization '${f.name}' has ${fac.U.rows} rows, but its layout needs ${d}`, 'factorise the d x n matrix from stack, not its transpose');
  const n = fac.V.rows;
  const k = fac.rank;
  let mean = new Float64Array(d);
  const c = t.centering;
  let centred = false;
  if (c && c.mode !== 'none') {
    if (c.mode === 'row') mean = Float64Array.from(c.mean);
    else if (c.mode === 'global') mean.fill(c.mean[0]!);
    else throw new InputError(`factorization '${f.name}' was centred by column (one mean per image), so it has no mean image`, "use center { mode: row } on the stacked matrix (subtracts the mean image)");
    centred = true;
  }
  const U = k === fac.U.cols ? fac.U : fac.U.block(0, d, 0, k);
  const V = k === fac.V.cols ? fac.V : fac.V.block(0, n, 0, k);
  return { name: f.name, layout, mean, U, s: fac.s.subarray(0, k), V, n, d, k, normSq: fac.normSq, originalNormSq: f.originalNormSq[0] ?? fac.normSq, centred };
}

/** Principal coordinates, n x r: row j = s ⊙ V[j, :r]. */
export function principalCoordinates(m: PcaModel, r = m.k): Matrix {
  const C = new Matrix(m.n, r);
  for (let j = 0; j < m.n; j++) for (let i = 0; i < r; i++) C.data[j * r + i] = m.s[i]! * m.V.get(j, i);
  return C;
}

/** Standard deviation of each principal coordinate over the collection: s_i / sqrt(n - 1). */
export function coordinateStd(m: PcaModel): Float64Array {
  return m.s.map((v) => v / Math.sqrt(Math.max(1, m.n - 1)));
}

export interface ExplainedVariance {
  component: number[];
  singularValue: number[];
  /** s_i² / (n - 1), as scikit-learn's explained_variance_ */
  variance: number[];
  /** s_i² / ‖X - mean‖²_F */
  ratio: number[];
  cumulative: number[];
  /** ‖(X - mean) - rank-i approx‖_F / ‖X - mean‖_F */
  relErrorCentred: number[];
  /** ‖X - rank-i reconstruction‖_F / ‖X‖_F (against the images, mean included, unclamped) */
  relErrorOriginal: number[];
}

export function explainedVariance(m: PcaModel): ExplainedVariance {
  const out: ExplainedVariance = { component: [], singularValue: [], variance: [], ratio: [], cumulative: [], relErrorCentred: [], relErrorOriginal: [] };
  const total = m.normSq > 0 ? m.normSq : 1;
  let cum = 0;
  for (let i = 0; i < m.k; i++) {
    const e = m.s[i]! * m.s[i]!;
    cum += e;
    const tail = Math.max(0, m.normSq - cum);
    out.component.push(i + 1);
    out.singularValue.push(m.s[i]!);
    out.variance.push(e / Math.max(1, m.n - 1));
    out.ratio.push(e / total);
    out.cumulative.push(Math.min(1, cum / total));
    out.relErrorCentred.push(Math.sqrt(tail / total));
    out.relErrorOriginal.push(m.originalNormSq > 0 ? Math.sqrt(tail / m.originalNormSq) : 0);
  }
  return out;
}

/** mean + U[:, :c.length] c, as a d-vector (unclamped). */
export function fromCoordinates(m: PcaModel, c: ArrayLike<number>): Float64Array {
  const r = c.length;
  if (r > m.k) throw new InputError(`got ${r} coordinates, but the factorization keeps only ${m.k} components`, `give at most ${m.k} coordinates per image (or keep more components in svd)`);
  const x = Float64Array.from(m.mean);
  const U = m.U;
  for (let p = 0; p < m.d; p++) {
    const base = U.offset + p * U.stride;
    let acc = 0;
    for (let i = 0; i < r; i++) acc += U.data[base + i]! * c[i]!;
    x[p]! += acc;
  }
  return x;
}

/** Image j of the collection rebuilt from its first r coordinates (its rank-r reconstruction). */
export function reconstructColumn(m: PcaModel, j: number, r = m.k): Float64Array {
  const c = new Float64Array(r);
  for (let i = 0; i < r; i++) c[i] = m.s[i]! * m.V.get(j, i);
  return fromCoordinates(m, c);
}

/** Eigen-image i (0-based) rescaled for viewing: 0 maps to mid-grey, ±max|u| to the range ends. */
export function eigenImageForView(m: PcaModel, i: number): Float64Array {
  const [lo, hi] = m.layout.range;
  let amax = 0;
  for (let p = 0; p < m.d; p++) amax = Math.max(amax, Math.abs(m.U.get(p, i)));
  const out = new Float64Array(m.d);
  const mid = (lo + hi) / 2, half = (hi - lo) / 2;
  for (let p = 0; p < m.d; p++) out[p] = mid + (amax > 0 ? (half * m.U.get(p, i)) / amax : 0);
  return out;
}

/** Index of an image given by name or 0-based index (numbers or numeric strings; negative counts from the end, -1 = the last). */
export function imageIndex(m: PcaModel, ref: string | number, what: string): number {
  if (typeof ref === 'number' || /^-?\d+$/.test(ref)) {
    const given = Number(ref);
    const j = given < 0 ? m.n + given : given;
    if (j < 0 || j >= m.n) throw new InputError(`${what}: image index ${given} is out of range; the collection has ${m.n} images (0 to ${m.n - 1}, or -1 to -${m.n} from the end)`, 'give an index in range or an image name');
    return j;
  }
  const j = m.layout.names.indexOf(ref);
  if (j < 0) {
    throw new InputError(`${what}: no image named '${ref}' in the collection`, `${suggestion(ref, m.layout.names, 'image names')} (or a 0-based index below ${m.n})`);
  }
  return j;
}

export interface NamedCoordinates {
  name: string;
  coords: Float64Array;
}

/** Evenly spaced values from a to b inclusive. */
export function linspace(a: number, b: number, steps: number): number[] {
  if (steps === 1) return [(a + b) / 2];
  return Array.from({ length: steps }, (_, i) => a + ((b - a) * i) / (steps - 1));
}

function signed(v: number): string {
  return (v >= 0 ? '+' : '-') + Math.abs(v).toFixed(1);
}

/**
 * A steps x steps grid over components (a, b) (1-based), spanning ±extent standard
 * deviations of each; other coordinates 0. Row-major, top row = highest b.
 */
export function gridCoordinates(m: PcaModel, components: [number, number], steps: number, extent: number): NamedCoordinates[] {
  const [a, b] = components;
  for (const c of components) if (c > m.k) throw new InputError(`grid component ${c} is beyond the ${m.k} component${m.k === 1 ? '' : 's'} the factorization of ${m.n} images keeps`, `choose components between 1 and ${m.k}${m.k < 2 ? ' (a grid over two components needs at least 3 images)' : ''}`);
  const sd = coordinateStd(m);
  const r = Math.max(a, b);
  const out: NamedCoordinates[] = [];
  const ts = linspace(-extent, extent, steps);
  for (const tb of [...ts].reverse()) {
    for (const ta of ts) {
      const c = new Float64Array(r);
      c[a - 1] = ta * sd[a - 1]!;
      c[b - 1]! += tb * sd[b - 1]!;
      out.push({ name: `grid_pc${a}${signed(ta)}sd_pc${b}${signed(tb)}sd`, coords: c });
    }
  }
  return out;
}

/** `steps` points on the straight line between images i and j in the first r coordinates. */
export function pathCoordinates(m: PcaModel, i: number, j: number, steps: number, r = m.k): NamedCoordinates[] {
  const ci = principalCoordinates(m, r).row(i);
  const cj = principalCoordinates(m, r).row(j);
  return linspace(0, 1, steps).map((t) => ({
    name: `path_${m.layout.names[i]}_${m.layout.names[j]}_t${t.toFixed(2)}`,
    coords: ci.map((v, q) => (1 - t) * v + t * cj[q]!),
  }));
}
