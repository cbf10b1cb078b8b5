/**
 * Collection PCA over shards: each shard of columns is reduced on its own, and the
 * reductions merge into the thin SVD of the whole, row-centred collection.
 *
 * Shard i (d x n_i, columns are images) keeps
 *   - n_i, the column sum Σ_j x_j (for the mean) and ‖X_i‖²_F (for errors against the images),
 *   - the thin SVD of the shard centred by its OWN mean μ_i: X_i - μ_i 1ᵀ = U_i S_i V_iᵀ.
 * With the global mean μ = Σ sum_i / Σ n_i, the centred collection satisfies
 *   (X - μ1ᵀ)(X - μ1ᵀ)ᵀ = Σ_i U_i S_i² U_iᵀ + Σ_i n_i (μ_i - μ)(μ_i - μ)ᵀ = B Bᵀ,
 *   B = [U_1 S_1 | … | U_p S_p | √n_1 (μ_1 - μ) | … | √n_p (μ_p - μ)],
 * so the SVD of the stacked blocks, B = U S Wᵀ, gives the collection's U and S exactly.
 * Its V follows without the data: X_i - μ1ᵀ = U S (W_iᵀ V_iᵀ + w_iᵀ 1ᵀ / √n_i), hence
 *   V_i = V_i W_i + 1 w_i / √n_i   (W_i: B's right vectors on shard i's block, w_i: on its mean column).
 * The merge is exact when the shards keep every non-negligible component (the default).
 *
 * Pure functions on Float64Array; no I/O. `encodeShard`/`decodeShard` give the bytes that
 * a distributed run writes to shared storage.
 */
import { Matrix } from '../linalg/matrix.js';
import { svd, frobeniusNormSq, matmul } from '../linalg/index.js';
import { InputError } from '../errors.js';
import type { StackLayout } from '../ports.js';

export interface ShardReduction {
  /** images (columns) in the shard */
  n: number;
  /** rows (pixels per image) */
  d: number;
  /** Σ_j x_j, length d */
  sum: Float64Array;
  /** ‖X_i‖²_F, the images themselves */
  sumSq: number;
  /** ‖X_i - μ_i 1ᵀ‖²_F */
  centredNormSq: number;
  /** d x k_i: U_i S_i of the shard centred by its own mean */
  US: Matrix;
  /** n_i x k_i: V_i */
  V: Matrix;
  /** image names in column order, and the layout they map back to (from stack) */
  layout?: StackLayout;
}

export interface ReduceOptions {
  /** drop components with s <= relTol * s_max (numerically zero; default 1e-12) */
  relTol?: number;
}

/** Column mean sum and the thin SVD of the shard centred by its own mean. */
export function reduceShard(X: Matrix, opts: ReduceOptions & { layout?: StackLayout } = {}): ShardReduction {
  const d = X.rows, n = X.cols;
  if (n === 0) throw new InputError('a shard has no images', 'give every shard at least one image (fewer shards than images)');
  const sum = new Float64Array(d);
  const C = new Matrix(d, n);
  let sumSq = 0;
  for (let i = 0; i < d; i++) {
    const base = X.offset + i * X.stride;
    let acc = 0;
    for (let j = 0; j < n; j++) {
      const v = X.data[base + j]!;
      acc += v;
      sumSq += v * v;
    }
    sum[i] = acc;
    const mu = acc / n;
    const out = i * n;
    for (let j = 0; j < n; j++) C.data[out + j] = X.data[base + j]! - mu;
  }
  const centredNormSq = frobeniusNormSq(C);
  // exact SVD: the merge needs every component the shard has, to rounding
  const r = n > 1 ? svd(C, { solver: 'exact' }) : { U: new Matrix(d, 0), s: new Float64Array(0), V: new Matrix(n, 0) };
  const tol = (opts.relTol ?? 1e-12) * (r.s[0] ?? 0);
  let k = 0;
  while (k < r.s.length && r.s[k]! > tol) k++;
  const US = new Matrix(d, k);
  for (let i = 0; i < d; i++) for (let c = 0; c < k; c++) US.data[i * k + c] = r.U.get(i, c) * r.s[c]!;
  const V = new Matrix(n, k);
  for (let j = 0; j < n; j++) for (let c = 0; c < k; c++) V.data[j * k + c] = r.V.get(j, c);
  return { n, d, sum, sumSq, centredNormSq, US, V, ...(opts.layout ? { layout: opts.layout } : {}) };
}

export interface MergedPca {
  n: number;
  d: number;
  mean: Float64Array;
  /** d x k */
  U: Matrix;
  s: Float64Array;
  /** n x k, shards' columns in order */
  V: Matrix;
  /** ‖X - μ1ᵀ‖²_F */
  normSq: number;
  /** ‖X‖²_F */
  originalNormSq: number;
  /** the shards' layouts joined (names in order), when every shard had one */
  layout?: StackLayout;
}

export interface MergeOptions {
  /** components to keep (default: min(d, n - 1), what centring leaves) */
  rank?: number;
}

/** Merges shard reductions (in column order) into the thin SVD of the whole centred collection. */
export function mergeShards(shards: readonly ShardReduction[], opts: MergeOptions = {}): MergedPca {
  if (shards.length === 0) throw new InputError('no shards to merge', 'run at least one shard');
  const d = shards[0]!.d;
  const bad = shards.findIndex((s) => s.d !== d);
  if (bad >= 0) throw new InputError(`shard ${bad} has images of ${shards[bad]!.d} values, shard 0 of ${d}`, 'every shard must hold images of the same size and colour (give load a resize)');
  const n = shards.reduce((a, s) => a + s.n, 0);
  const mean = new Float64Array(d);
  for (const s of shards) for (let i = 0; i < d; i++) mean[i]! += s.sum[i]!;
  for (let i = 0; i < d; i++) mean[i]! /= n;
  const kTot = shards.reduce((a, s) => a + s.US.cols, 0);
  const p = shards.length;
  const cols = kTot + p;
  const B = new Matrix(d, cols);
  let normSq = 0, originalNormSq = 0;
  let c0 = 0;
  shards.forEach((s, q) => {
    const k = s.US.cols;
    for (let i = 0; i < d; i++) for (let c = 0; c < k; c++) B.data[i * cols + c0 + c] = s.US.get(i, c);
    const rn = Math.sqrt(s.n);
    let shift = 0;
    for (let i = 0; i < d; i++) {
      const dm = s.sum[i]! / s.n - mean[i]!;
      B.data[i * cols + kTot + q] = rn * dm;
      shift += dm * dm;
    }
    normSq += s.centredNormSq + s.n * shift;
    originalNormSq += s.sumSq;
    c0 += k;
  });
  const maxRank = Math.min(d, n - 1, cols);
  const rank = Math.min(opts.rank ?? maxRank, maxRank);
  if (rank < 1) throw new InputError(`the collection has ${n} image${n === 1 ? '' : 's'}; centring leaves no component`, 'give at least two images');
  const r = svd(B, { solver: 'exact' });
  const U = r.U.block(0, d, 0, rank).clone();
  const sv = r.s.slice(0, rank);
  // deterministic signs: the largest |U| entry of each component is positive
  const sign = new Float64Array(rank);
  for (let c = 0; c < rank; c++) {
    let best = 0;
    for (let i = 0; i < d; i++) { const v = U.data[i * rank + c]!; if (Math.abs(v) > Math.abs(best)) best = v; }
    sign[c] = best < 0 ? -1 : 1;
  }
  for (let i = 0; i < d; i++) for (let c = 0; c < rank; c++) U.data[i * rank + c]! *= sign[c]!;
  // V_i = V_i W_i + 1 w_i / √n_i, with W = B's right vectors (signs as U's)
  const W = r.V;
  const V = new Matrix(n, rank);
  let row0 = 0;
  c0 = 0;
  shards.forEach((s, q) => {
    const k = s.US.cols;
    const Wi = new Matrix(k, rank);
    for (let a = 0; a < k; a++) for (let c = 0; c < rank; c++) Wi.data[a * rank + c] = W.get(c0 + a, c) * sign[c]!;
    const Vi = k > 0 ? matmul(s.V, Wi) : new Matrix(s.n, rank);
    const inv = 1 / Math.sqrt(s.n);
    for (let j = 0; j < s.n; j++) for (let c = 0; c < rank; c++) V.data[(row0 + j) * rank + c] = Vi.get(j, c) + W.get(kTot + q, c) * sign[c]! * inv;
    row0 += s.n;
    c0 += k;
  });
  const layouts = shards.map((s) => s.layout);
  let layout: StackLayout | undefined;
  if (layouts.every((l): l is StackLayout => !!l)) {
    const f = layouts[0]!;
    const odd = layouts.findIndex((l) => l.width !== f.width || l.height !== f.height || l.color !== f.color);
    if (odd >= 0) throw new InputError(`shard ${odd} holds ${layouts[odd]!.width}x${layouts[odd]!.height} ${layouts[odd]!.color} images, shard 0 ${f.width}x${f.height} ${f.color}`, 'give load a resize so that every image has the same size');
    layout = { ...f, names: layouts.flatMap((l) => l.names) };
  }
  return { n, d, mean, U, s: sv, V, normSq, originalNormSq, ...(layout ? { layout } : {}) };
}

/** Contiguous column ranges of n items in `shards` nearly equal parts ([start, end) each). */
export function shardRanges(n: number, shards: number): Array<[number, number]> {
  const p = Math.max(1, Math.min(shards, n));
  const out: Array<[number, number]> = [];
  for (let q = 0; q < p; q++) out.push([Math.floor((q * n) / p), Math.floor(((q + 1) * n) / p)]);
  return out;
}

const MAGIC = 'SVDFSHD1';

/** Bytes of a shard reduction: magic, JSON header length (u32 LE), header, padding to 8, then Float64 data. */
export function encodeShard(r: ShardReduction): Uint8Array {
  const header = JSON.stringify({ n: r.n, d: r.d, k: r.US.cols, sumSq: r.sumSq, centredNormSq: r.centredNormSq, layout: r.layout ?? null });
  const hb = new TextEncoder().encode(header);
  const start = Math.ceil((8 + 4 + hb.length) / 8) * 8;
  const k = r.US.cols;
  const floats = r.d + r.d * k + r.n * k;
  const buf = new Uint8Array(start + floats * 8);
  buf.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(buf.buffer).setUint32(8, hb.length, true);
  buf.set(hb, 12);
  const f = new Float64Array(buf.buffer, start, floats);
  f.set(r.sum, 0);
  f.set(r.US.clone().data, r.d);
  f.set(r.V.clone().data, r.d + r.d * k);
  return buf;
}

export function decodeShard(bytes: Uint8Array, what = 'shard file'): ShardReduction {
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== MAGIC) throw new InputError(`${what} is not a svdflow shard (bad magic '${magic}')`, 'rerun the shard job');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hl = dv.getUint32(8, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hl))) as { n: number; d: number; k: number; sumSq: number; centredNormSq: number; layout: StackLayout | null };
  const start = Math.ceil((12 + hl) / 8) * 8;
  const floats = h.d + h.d * h.k + h.n * h.k;
  if (bytes.byteLength < start + floats * 8) throw new InputError(`${what} is truncated (${bytes.byteLength} bytes, expected ${start + floats * 8})`, 'rerun the shard job');
  const f = new Float64Array(floats);
  f.set(new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + floats * 8)));
  return {
    n: h.n,
    d: h.d,
    sum: f.slice(0, h.d),
    sumSq: h.sumSq,
    centredNormSq: h.centredNormSq,
    US: new Matrix(h.d, h.k, f.slice(h.d, h.d + h.d * h.k)),
    V: new Matrix(h.n, h.k, f.slice(h.d + h.d * h.k)),
    ...(h.layout ? { layout: h.layout } : {}),
  };
}
