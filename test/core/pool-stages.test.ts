/**
 * Heavy stages in the compute pool (issue #15 items 1-2): stack, center, reconstruct, generate
 * and align run their loops in a worker thread when large (the results come back in shared
 * memory, which only a pool worker allocates: the control that the work really left this
 * thread), give the known answers, and a reconstruction stops within a second when the run is
 * aborted mid-computation.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import { Matrix } from '../../src/core/linalg/index.js';
import { closePool, poolBusy } from '../../src/core/pool/index.js';
import { stack } from '../../src/stages/stack.js';
import { center } from '../../src/stages/center.js';
import { svd } from '../../src/stages/svd.js';
import { reconstruct } from '../../src/stages/reconstruct.js';
import { generate } from '../../src/stages/generate.js';
import { align } from '../../src/stages/align.js';
import type { Factorization, Image, ImageBatch, MatrixValue, PointCloud, Alignment } from '../../src/core/ports.js';

afterAll(() => closePool());

const shared = (M: Matrix) => M.data.buffer instanceof SharedArrayBuffer;

function lcg(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 16807) % 2147483647; return x / 2147483647; };
}

// 12 RGB images of 128 x 128 (590k values, above the inline bound; planes of 16 Ki values,
// which a pool worker allocates in shared memory) that are EXACTLY
// mean + a_j u1 + b_j u2: a rank-2 collection, so a rank-2 reconstruction and the generated
// image at image j's coordinates both give image j back (to rounding).
const W = 128, H = 128, N = 12, D = 3 * W * H;
const rnd = lcg(11);
const mean = Float64Array.from({ length: D }, () => 0.3 + 0.4 * rnd());
const u1 = Float64Array.from({ length: D }, () => rnd() - 0.5);
const u2 = Float64Array.from({ length: D }, () => rnd() - 0.5);
const coef = Array.from({ length: N }, (_, j) => [0.2 * Math.sin(j), 0.1 * Math.cos(3 * j)] as const);
const images: Image[] = coef.map(([a, b], j) => ({
  kind: 'Image', name: `im${j}`, width: W, height: H, color: 'rgb', range: [0, 1],
  planes: [0, 1, 2].map((c) => {
    const P = new Matrix(H, W);
    for (let p = 0; p < W * H; p++) { const q = c * W * H + p; P.data[p] = mean[q]! + a * u1[q]! + b * u2[q]!; }
    return P;
  }),
}));
const batch: ImageBatch = { kind: 'ImageBatch', name: 'synthetic', width: W, height: H, color: 'rgb', images };

describe('PCA stages in the compute pool', () => {
  it('stack and center run in a worker; a rank-2 reconstruction and generated images give the rank-2 collection back', async () => {
    const X = await lastValueFrom(of(batch).pipe(stack())) as MatrixValue;
    expect(shared(X.matrix)).toBe(true); // made in a pool worker
    expect([X.matrix.rows, X.matrix.cols]).toEqual([D, N]);
    expect(X.matrix.get(5 * W + 7, 3)).toBeCloseTo(images[3]!.planes[0]!.get(5, 7), 15); // planar, column = image
    const C = await lastValueFrom(of(X).pipe(center({ mode: 'row' }))) as MatrixValue;
    expect(shared(C.matrix)).toBe(true);
    let rowSum = 0;
    for (let j = 0; j < N; j++) rowSum += C.matrix.get(100, j);
    expect(Math.abs(rowSum)).toBeLessThan(1e-12);
    const f = await lastValueFrom(of(C).pipe(svd({ solver: 'gram', rank: 2 }))) as Factorization;
    const rs: (Image | MatrixValue)[] = await lastValueFrom(of(f).pipe(reconstruct({ rank: [2], clamp: false }), toArray()));
    const r2 = rs[0] as MatrixValue;
    expect(shared(r2.matrix)).toBe(true);
    let err = 0;
    for (let i = 0; i < D; i++) for (let j = 0; j < N; j++) err = Math.max(err, Math.abs(r2.matrix.get(i, j) - X.matrix.get(i, j)));
    expect(err).toBeLessThan(1e-10);
    // generated at image j's principal coordinates c = s ⊙ V[j, :]: image j
    const { s, V } = f.factors[0]!;
    const js = [0, 7, 11];
    const coordinates = js.map((j) => [s[0]! * V.get(j, 0), s[1]! * V.get(j, 1)]);
    const g = await lastValueFrom(of(f).pipe(generate({ from: 'coordinates', coordinates, clamp: false }))) as ImageBatch;
    expect(g.images).toHaveLength(3);
    expect(shared(g.images[0]!.planes[0]!)).toBe(true);
    let gerr = 0;
    for (let i = 0; i < 3; i++) {
      const want = images[js[i]!]!;
      for (let c = 0; c < 3; c++) for (let p = 0; p < W * H; p++) gerr = Math.max(gerr, Math.abs(g.images[i]!.planes[c]!.data[p]! - want.planes[c]!.data[p]!));
    }
    expect(gerr).toBeLessThan(1e-10);
  });

  it('reconstruct: aborting the run mid-computation ends the worker task within a second', async () => {
    // a 4000 x 4000 rank-2000 rebuild: ~64 GFlop, seconds of GEMM even on the native backend (OpenBLAS dgemm)
    const m = 4000, k = 2000;
    const r = lcg(5);
    const U = new Matrix(m, k), V = new Matrix(m, k);
    for (let i = 0; i < U.data.length; i++) { U.data[i] = r() - 0.5; V.data[i] = r() - 0.5; }
    const s = Float64Array.from({ length: k }, (_, i) => 1 / (i + 1));
    const f: Factorization = { kind: 'Factorization', name: 'big', factors: [{ U, s, V, normSq: 1, rank: k }], solver: 'exact', template: { kind: 'Matrix', name: 'big' }, originalNormSq: [1] };
    const ac = new AbortController();
    let ended: unknown;
    const sub = of(f).pipe(reconstruct({ rank: k }, { ctx: { signal: ac.signal } })).subscribe({ next: () => (ended = 'value'), error: (e) => (ended = e), complete: () => (ended ??= 'complete') });
    const t0 = performance.now();
    while (poolBusy() === 0 && performance.now() - t0 < 10_000) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 300));
    // control: still computing when aborted, so the end below is the abort's doing
    expect(ended).toBeUndefined();
    expect(poolBusy()).toBe(1);
    const t1 = performance.now();
    ac.abort('test');
    while (poolBusy() > 0 && performance.now() - t1 < 5000) await new Promise((res) => setTimeout(res, 5));
    expect(performance.now() - t1).toBeLessThan(1000);
    expect(poolBusy()).toBe(0);
    expect(ended).not.toBe('value');
    sub.unsubscribe();
  }, 30_000);
});

describe('align in the compute pool', () => {
  it('returns the aligned source (points and normals) made in the worker: R x + t of the source', async () => {
    const n = 6000, r = lcg(3); // 18k values per cloud: shared when made in a worker
    const tgt = new Matrix(n, 3), nrm = new Matrix(n, 3);
    for (let i = 0; i < n; i++) {
      const x = r(), y = r();
      tgt.set(i, 0, x); tgt.set(i, 1, y); tgt.set(i, 2, 0.3 * Math.sin(3 * x) * Math.cos(2 * y));
      const a = r() - 0.5, b = r() - 0.5, c = r() + 0.5, l = Math.hypot(a, b, c);
      nrm.set(i, 0, a / l); nrm.set(i, 1, b / l); nrm.set(i, 2, c / l);
    }
    // source = Rᵀ (target - t): aligning it back needs R, t
    const th = 0.04, co = Math.cos(th), si = Math.sin(th), t = [0.02, -0.01, 0.005];
    const src = new Matrix(n, 3), srcN = new Matrix(n, 3);
    for (let i = 0; i < n; i++) {
      const x = tgt.get(i, 0) - t[0]!, y = tgt.get(i, 1) - t[1]!, z = tgt.get(i, 2) - t[2]!;
      src.set(i, 0, co * x + si * y); src.set(i, 1, -si * x + co * y); src.set(i, 2, z);
      const a = nrm.get(i, 0), b = nrm.get(i, 1);
      srcN.set(i, 0, co * a + si * b); srcN.set(i, 1, -si * a + co * b); srcN.set(i, 2, nrm.get(i, 2));
    }
    const cloud = (name: string, points: Matrix, normals?: Matrix): PointCloud => ({ kind: 'PointCloud', name, points, ...(normals ? { normals } : {}) });
    const a = await lastValueFrom(of(cloud('src', src, srcN)).pipe(align({ method: 'icp', maxCorrespondenceDistance: 0.1 }, { sides: { target: cloud('tgt', tgt) } }))) as Alignment;
    expect(shared(a.aligned.points)).toBe(true); // moved in the pool task, not in this thread
    let pe = 0, ne = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) {
      pe = Math.max(pe, Math.abs(a.aligned.points.get(i, j) - tgt.get(i, j)));
      ne = Math.max(ne, Math.abs(a.aligned.normals!.get(i, j) - nrm.get(i, j)));
    }
    expect(pe).toBeLessThan(1e-6);
    expect(ne).toBeLessThan(1e-6);
  });
});
