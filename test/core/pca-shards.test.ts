/**
 * Collection PCA over shards (src/core/pca/shards.ts), without Redis: the merge of the
 * shards' reductions against (a) the one-machine SVD of the whole centred matrix and
 * (b) a synthetic low-rank set of 100,000 images whose centred spectrum is known by
 * construction. Kept singular values must agree to 1e-8 relative.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { Matrix, svd, qr, matmulT, matTmul } from '../../src/core/linalg/index.js';
import { reduceShard, mergeShards, shardRanges, encodeShard, decodeShard, type ShardReduction } from '../../src/core/pca/shards.js';
import { loadImages, normalize } from '../../src/stages/index.js';
import { stackImages } from '../../src/core/pca/stack.js';
import { gaussian } from '../linalg/helpers.js';
import { ROOT } from '../helpers.js';

function columns(X: Matrix, c0: number, c1: number): Matrix {
  return X.block(0, X.rows, c0, c1).clone();
}

/** One-machine reference: exact thin SVD of X - mean 1ᵀ. */
function oneMachine(X: Matrix): { mean: Float64Array; s: Float64Array; U: Matrix; V: Matrix; normSq: number } {
  const d = X.rows, n = X.cols;
  const mean = new Float64Array(d);
  const C = new Matrix(d, n);
  let normSq = 0;
  for (let i = 0; i < d; i++) {
    let a = 0;
    for (let j = 0; j < n; j++) a += X.get(i, j);
    mean[i] = a / n;
    for (let j = 0; j < n; j++) {
      const v = X.get(i, j) - mean[i]!;
      C.data[i * n + j] = v;
      normSq += v * v;
    }
  }
  const r = svd(C, { solver: 'exact' });
  return { mean, s: r.s, U: r.U, V: r.V, normSq };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  let e = 0;
  for (let i = 0; i < k; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  return e;
}

/** max over the first k columns of (1 - |<a_c, b_c>|): 0 when the columns agree up to sign. */
function colMisfit(A: Matrix, B: Matrix, k: number): number {
  let e = 0;
  for (let c = 0; c < k; c++) {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < A.rows; i++) { dot += A.get(i, c) * B.get(i, c); na += A.get(i, c) ** 2; nb += B.get(i, c) ** 2; }
    e = Math.max(e, 1 - Math.abs(dot) / Math.sqrt(na * nb));
  }
  return e;
}

function roundTrip(r: ShardReduction): ShardReduction {
  return decodeShard(encodeShard(r));
}

describe('collection PCA over shards: merge of the stacked U_i S_i blocks', () => {
  it('shardRanges splits n items into contiguous, nearly equal parts', () => {
    expect(shardRanges(22, 3)).toEqual([[0, 7], [7, 14], [14, 22]]);
    expect(shardRanges(2, 5)).toEqual([[0, 1], [1, 2]]);
  });

  it('the 22 stamps in 3 uneven shards equal the one-machine PCA (values 1e-8 relative, vectors up to sign)', async () => {
    const batch = await lastValueFrom(loadImages({ path: join(ROOT, 'data', 'stamps'), mode: 'rgb' }).pipe(normalize({ by: 'dtype' })));
    const { matrix: X, layout } = stackImages(batch.images);
    const ref = oneMachine(X);
    const cuts: Array<[number, number]> = [[0, 5], [5, 16], [16, 22]];
    const shards = cuts.map(([a, b]) => roundTrip(reduceShard(columns(X, a, b), { layout: { ...layout, names: layout.names.slice(a, b) } })));
    const m = mergeShards(shards);
    expect(m.n).toBe(22);
    expect(m.s.length).toBe(21); // centring leaves n - 1
    expect(maxRel(m.s, ref.s, 21)).toBeLessThan(1e-8);
    expect(maxRel(m.mean, ref.mean, m.d)).toBeLessThan(1e-12);
    expect(Math.abs(m.normSq - ref.normSq) / ref.normSq).toBeLessThan(1e-10);
    // components well separated from their neighbours are determined up to sign
    expect(colMisfit(m.U, ref.U, 10)).toBeLessThan(1e-8);
    expect(colMisfit(m.V, ref.V, 10)).toBeLessThan(1e-8);
    expect(m.layout?.names).toEqual(layout.names);
    // control: without the mean-shift columns the merge is wrong, so the test above can fail
    const noShift = svd(
      (() => {
        const k = shards.reduce((a, s) => a + s.US.cols, 0);
        const B = new Matrix(m.d, k);
        let c0 = 0;
        for (const s of shards) {
          for (let i = 0; i < m.d; i++) for (let c = 0; c < s.US.cols; c++) B.data[i * k + c0 + c] = s.US.get(i, c);
          c0 += s.US.cols;
        }
        return B;
      })(),
      { solver: 'exact' },
    );
    expect(maxRel(noShift.s, ref.s, 3)).toBeGreaterThan(1e-3);
  });

  it('100,000 low-rank images (8 x 8 gray, rank 10) in 8 shards: the known spectrum and the one-machine SVD, to 1e-8', () => {
    const d = 64, n = 100_000, r = 10;
    const s0 = Array.from({ length: r }, (_, i) => 1000 / (i + 1) ** 1.5);
    const U0 = qr(gaussian(d, r, 11)).Q;
    // V0: orthonormal columns orthogonal to 1, so the centred matrix's spectrum is exactly s0
    const G = gaussian(n, r, 12);
    for (let c = 0; c < r; c++) {
      let m = 0;
      for (let j = 0; j < n; j++) m += G.data[j * r + c]!;
      m /= n;
      for (let j = 0; j < n; j++) G.data[j * r + c]! -= m;
    }
    const V0 = qr(G).Q;
    const US0 = U0.clone();
    for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) US0.data[i * r + c]! *= s0[c]!;
    const X = matmulT(US0, V0); // d x n
    const mu = Array.from({ length: d }, (_, i) => 0.5 + 0.01 * i);
    for (let i = 0; i < d; i++) for (let j = 0; j < n; j++) X.data[i * n + j]! += mu[i]!;
    const shards = shardRanges(n, 8).map(([a, b]) => roundTrip(reduceShard(columns(X, a, b))));
    expect(shards.every((s) => s.US.cols === r)).toBe(true); // numerically zero components dropped
    const m = mergeShards(shards, { rank: r });
    expect(maxRel(m.s, s0, r)).toBeLessThan(1e-8);
    const ref = oneMachine(X);
    expect(maxRel(m.s, ref.s, r)).toBeLessThan(1e-8);
    expect(maxRel(m.mean, mu, d)).toBeLessThan(1e-10);
    expect(colMisfit(m.U, U0, r)).toBeLessThan(1e-8);
    // V: rows of the merged V against the construction, per component up to sign
    const dots = matTmul(m.V, V0);
    for (let c = 0; c < r; c++) expect(Math.abs(dots.get(c, c))).toBeGreaterThan(1 - 1e-8);
  });

  it('rejects shards of different image sizes, naming the shard', () => {
    const a = reduceShard(gaussian(4, 3, 1));
    const b = reduceShard(gaussian(5, 3, 2));
    expect(() => mergeShards([a, b])).toThrow('shard 1 has images of 5 values, shard 0 of 4');
  });

  it('a truncated shard file is an error naming it', () => {
    const bytes = encodeShard(reduceShard(gaussian(6, 4, 3)));
    expect(() => decodeShard(bytes.subarray(0, bytes.length - 8), 'out/.shards/shard-1.bin')).toThrow('out/.shards/shard-1.bin is truncated');
  });
});
