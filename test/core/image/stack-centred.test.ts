/**
 * Stack + centre fused (issue #15 item 4): stack's `centredRows` variant, which center { mode: row }
 * piped straight onto stack subscribes to, stacks each row and writes it minus its mean in one pass.
 * Its contract: the values, the means and the centering of stack then center, BIT FOR BIT, inline,
 * in one pool task and split over the pool's threads. Checked against a constructed collection
 * whose centred matrix is known exactly, and against the unfused path on random values.
 */
import { describe, it, expect, afterAll, vi } from 'vitest';
import { lastValueFrom, map, merge, of, tap, defer } from 'rxjs';
import { z } from 'zod';
import { defineStage } from '../../../src/core/stage.js';
import { normalize } from '../../../src/stages/normalize.js';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { stackCentredInto, stackCentredImages, stackImages, stackInto, stackRows } from '../../../src/core/pca/stack.js';
import { stackCentredInPool, stackInPool, centerInPool, SPLIT_VALUES } from '../../../src/core/pca/pooled.js';
import { shardRanges } from '../../../src/core/pca/shards.js';
import { subtractRowMeans, newPlanes, variantOf, isHandingOver } from '../../../src/core/image/planes.js';
import { stack } from '../../../src/stages/stack.js';
import { center } from '../../../src/stages/center.js';
import { tasks, INLINE_VALUES } from '../../../src/core/pool/tasks/images.js';
import { closePool, poolThreads, setPoolThreads } from '../../../src/core/pool/index.js';
import type { Image, ImageBatch, MatrixValue } from '../../../src/core/ports.js';
import { lcg } from '../../stages/pca-fixtures.js';
import { join } from 'node:path';
import { mkdirSync, copyFileSync } from 'node:fs';
import { parsePipeline } from '../../../src/core/pipeline.js';
import { runPipeline } from '../../../src/core/runner.js';
import { Registry } from '../../../src/core/registry.js';
import { allStages } from '../../../src/stages/index.js';
import { ROOT, tempDir } from '../../helpers.js';

afterAll(() => closePool());

/** The bits of every value (so +0 and -0, or two NaNs, are compared as stored). */
const bitsOf = (a: Float64Array) => new BigUint64Array(a.buffer, a.byteOffset, a.length);
/** Where `a` and `b` differ bit for bit: their lengths, the count of differing values and the first (a short message, not a diff of a million values). */
function sameBits(a: Float64Array, b: Float64Array): string {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  const x = bitsOf(a), y = bitsOf(b);
  let bad = 0, first = -1;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) { bad++; if (first < 0) first = i; }
  return bad ? `${bad} values differ, the first at ${first}: ${a[first]} vs ${b[first]}` : 'same bits';
}

/**
 * n images (n odd) of w x h, 3 planes in shared memory (as load gives them), pixel q of plane c of
 * image j = 1000 c + q % 997 + j - (n - 1) / 2: small integers, so the mean image is exactly
 * 1000 c + q % 997 and centred column j is exactly j - (n - 1) / 2.
 */
function knownBatch(n: number, w: number, h: number): ImageBatch {
  const images: Image[] = [];
  for (let j = 0; j < n; j++) {
    const planes = newPlanes(h, w, 3);
    planes.forEach((P, c) => { for (let q = 0; q < w * h; q++) P.data[q] = 1000 * c + (q % 997) + j - (n - 1) / 2; });
    images.push({ kind: 'Image', name: `k${j}`, width: w, height: h, color: 'rgb', planes, range: [0, 4000] });
  }
  return { kind: 'ImageBatch', name: 'known', width: w, height: h, color: 'rgb', images };
}

/** Entries of the centred X (d x n) or of its means that differ from the known ones. */
function wrong(X: Matrix, mean: Float64Array, n: number, hw: number): number {
  let bad = 0;
  for (let c = 0; c < 3; c++)
    for (let q = 0; q < hw; q++) {
      const i = c * hw + q;
      if (mean[i] !== 1000 * c + (q % 997)) bad++;
      for (let j = 0; j < n; j++) if (X.get(i, j) !== j - (n - 1) / 2) bad++;
    }
  return bad;
}

/** n random images (w x h, rgb or gray) with values of every magnitude and sign: sums that round. */
function randomBatch(n: number, w: number, h: number, seed: number, color: 'rgb' | 'gray' = 'rgb'): ImageBatch {
  const r = lcg(seed), np = color === 'rgb' ? 3 : 1;
  const images: Image[] = [];
  for (let j = 0; j < n; j++) {
    const planes = newPlanes(h, w, np);
    for (const P of planes) for (let q = 0; q < w * h; q++) P.data[q] = (r() - 0.3) * 10 ** Math.floor(r() * 6 - 3) + r() * 1e-9;
    images.push({ kind: 'Image', name: `r${j}`, width: w, height: h, color, planes, range: [0, 1] });
  }
  return { kind: 'ImageBatch', name: 'random', width: w, height: h, color, images };
}

/** stack then subtractRowMeans, one thread: the unfused reference. */
function unfused(images: Image[]): { X: Matrix; mean: Float64Array } {
  const S = stackImages(images).matrix, X = new Matrix(S.rows, S.cols), mean = new Float64Array(S.rows);
  subtractRowMeans(S, X, mean, 0, S.rows);
  return { X, mean };
}

describe('stackCentredInto: the stack minus its mean image in one pass', () => {
  it('gives the known centred matrix and mean image (groups of four images, the odd ones, blocks and their remainder)', () => {
    for (const [n, w, h] of [[9, 37, 29], [3, 20, 13], [1, 5, 4], [23, 80, 61]] as const) {
      const b = knownBatch(n, w, h);
      const { matrix, mean, layout } = stackCentredImages(b.images);
      expect([matrix.rows, matrix.cols]).toEqual([3 * w * h, n]);
      expect(layout.names).toEqual(b.images.map((im) => im.name));
      expect(wrong(matrix, mean, n, w * h)).toBe(0);
    }
  });

  it('equals stack then subtractRowMeans to the last bit, on random values, whole and over row ranges that cut planes and blocks', () => {
    for (const [n, w, h, color] of [[22, 41, 23, 'rgb'], [7, 300, 3, 'rgb'], [5, 17, 19, 'gray'], [4, 33, 9, 'rgb']] as const) {
      const b = randomBatch(n, w, h, n * 31 + w, color);
      const ref = unfused(b.images), d = stackRows(b.images);
      const whole = stackCentredImages(b.images);
      expect(sameBits(whole.matrix.data, ref.X.data)).toBe('same bits');
      expect(sameBits(whole.mean, ref.mean)).toBe('same bits');
      // parts: ranges that start and end inside planes and inside 256-pixel blocks
      const out = new Matrix(d, n), mean = new Float64Array(d);
      const cuts = [0, 1, Math.floor(d / 3) + 7, Math.floor(d / 2) + 255, d - 3, d].filter((x, i, a) => x <= d && (i === 0 || x > a[i - 1]!));
      for (let k = 0; k + 1 < cuts.length; k++) stackCentredInto(b.images, out, mean, cuts[k]!, cuts[k + 1]!);
      expect(sameBits(out.data, ref.X.data)).toBe('same bits');
      expect(sameBits(mean, ref.mean)).toBe('same bits');
    }
  });

  it('planes of more than one 32768-pixel chunk, over ranges that cut chunks: the same bits, progress rising to the part\'s rows', () => {
    // 190 x 181 = 34390 pixels a plane: each plane's loop runs in two chunks (stackCentredInto
    // reports progress between them); the cuts fall inside chunks, blocks and planes
    const b = randomBatch(6, 190, 181, 77), d = stackRows(b.images), hw = 190 * 181;
    const ref = unfused(b.images);
    const out = new Matrix(d, 6), mean = new Float64Array(d);
    const cuts = [0, 32768 + 100, hw + 5, 2 * hw + 32768 - 1, d];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const seen: [number, number][] = [];
      stackCentredInto(b.images, out, mean, cuts[k]!, cuts[k + 1]!, (done, total) => seen.push([done, total]));
      const rows = cuts[k + 1]! - cuts[k]!;
      expect(seen.at(-1)).toEqual([rows, rows]);
      expect(seen.every(([done, total], i) => total === rows && done > 0 && done <= rows && (i === 0 || done >= seen[i - 1]![0]))).toBe(true);
      if (rows > 32768) expect(seen.length).toBeGreaterThan(1);
    }
    expect(sameBits(out.data, ref.X.data)).toBe('same bits');
    expect(sameBits(mean, ref.mean)).toBe('same bits');
  });

  it('stackInto over the same chunk-cutting ranges: entry (c hw + q, j) is pixel q of plane c of image j, progress rising to the part\'s rows', () => {
    const b = randomBatch(7, 190, 181, 78), d = stackRows(b.images), hw = 190 * 181;
    const S = new Matrix(d, 7);
    const cuts = [0, 32768 + 100, hw + 5, 2 * hw + 32768 - 1, d];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const seen: number[] = [];
      stackInto(b.images, S, cuts[k]!, cuts[k + 1]!, (done, total) => { expect(total).toBe(cuts[k + 1]! - cuts[k]!); seen.push(done); });
      expect(seen.at(-1)).toBe(cuts[k + 1]! - cuts[k]!);
      expect(seen.every((x, i) => x > 0 && (i === 0 || x >= seen[i - 1]!))).toBe(true);
    }
    let bad = 0;
    for (let c = 0; c < 3; c++) for (let q = 0; q < hw; q++) for (let j = 0; j < 7; j++) if (S.get(c * hw + q, j) !== b.images[j]!.planes[c]!.data[q]) bad++;
    expect(bad).toBe(0);
  });

  it('successive calls with image objects of other hidden classes (rebuilt key by key, an extra key) give the same bits', () => {
    // a pool task's images are rebuilt from its message on every call; images from other producers
    // carry other keys: the loops must give the same values whatever objects hold the planes
    const b = randomBatch(9, 47, 31, 5), ref = unfused(b.images), d = stackRows(b.images);
    const keyByKey = (im: Image): Image => { const o: Record<string, unknown> = {}; for (const [k, v] of Object.entries(im)) o[k] = k === 'planes' ? (v as Matrix[]).map((P) => new Matrix(P.rows, P.cols, P.data, P.offset, P.stride)) : v; return o as unknown as Image; };
    for (const make of [(im: Image) => im, keyByKey, (im: Image): Image => ({ ...im, bitDepth: 16 }), (im: Image) => im]) {
      const out = new Matrix(d, 9), mean = new Float64Array(d);
      stackCentredInto(b.images.map(make), out, mean, 0, d >> 1);
      stackCentredInto(b.images.map(make), out, mean, d >> 1, d);
      expect(sameBits(out.data, ref.X.data)).toBe('same bits');
      expect(sameBits(mean, ref.mean)).toBe('same bits');
    }
  });

  it('a strided (non-contiguous) plane is read as its values', () => {
    const b = randomBatch(6, 30, 20, 3);
    const big = new Matrix(24, 35);
    const view = big.block(2, 22, 3, 33);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 30; x++) view.set(y, x, b.images[2]!.planes[1]!.get(y, x));
    const strided = { ...b.images[2]!, planes: [b.images[2]!.planes[0]!, view, b.images[2]!.planes[2]!] };
    const images = b.images.map((im, j) => (j === 2 ? strided : im));
    expect(sameBits(stackCentredImages(images).matrix.data, unfused(b.images).X.data)).toBe('same bits');
  });
});

describe('in the compute pool: inline, one task and split over its threads, the same bits', () => {
  it('stackCentredInPool equals stackInPool then centerInPool (row) on the same images', async () => {
    const before = poolThreads();
    await setPoolThreads(2);
    try {
      const b = randomBatch(23, 100, 80, 17); // 3 * 8000 * 23 values: split over the pool
      expect(3 * 8000 * 23).toBeGreaterThanOrEqual(SPLIT_VALUES);
      const ref = unfused(b.images);
      const twoStep = await centerInPool({ kind: 'Matrix', name: 'x', ...(await stackInPool(b.images)) }, 'row');
      expect(sameBits(twoStep.matrix.data, ref.X.data)).toBe('same bits');
      for (const opts of [{}, { inline: true }]) {
        const run = vi.spyOn(tasks, 'run');
        const got = await stackCentredInPool(b.images, opts);
        const names = run.mock.calls.map((c) => c[0]);
        run.mockRestore();
        expect(names).toEqual('inline' in opts ? ['stackCentred'] : ['stackCentredPart', 'stackCentredPart']);
        expect(sameBits(got.matrix.data, ref.X.data)).toBe('same bits');
        expect(sameBits(got.mean, ref.mean)).toBe('same bits');
      }
      // one pool task (planes not in shared memory: each part would copy them)
      const plain = b.images.map((im) => ({ ...im, planes: im.planes.map((P) => P.clone()) }));
      const one = await stackCentredInPool(plain);
      expect(sameBits(one.matrix.data, ref.X.data)).toBe('same bits');
      expect(sameBits(one.mean, ref.mean)).toBe('same bits');
    } finally {
      await setPoolThreads(before);
    }
  });
});

describe('center { mode: row } piped straight onto stack subscribes to stack\'s centred variant', () => {
  const sizes = [
    { n: 25, w: 100, h: 80, what: 'split over the pool' },
    { n: 5, w: 20, h: 10, what: 'inline (small)' },
  ];
  it('the sizes cover the split pool path and the inline one', () => {
    expect(3 * 100 * 80 * 25).toBeGreaterThanOrEqual(SPLIT_VALUES);
    expect(3 * 20 * 10 * 5).toBeLessThan(INLINE_VALUES);
  });

  it.each(sizes)('$what: the known answer, in one fused pass (no separate centring task), the same value as stack, a tap, then center', async ({ n, w, h }) => {
    const before = poolThreads();
    await setPoolThreads(2);
    try {
      const b = knownBatch(n, w, h);
      const run = vi.spyOn(tasks, 'run');
      const fused = (await lastValueFrom(of(b).pipe(stack(), center({ mode: 'row' })))) as MatrixValue;
      const names = run.mock.calls.map((c) => c[0]);
      run.mockRestore();
      expect(names.every((x) => x.startsWith('stackCentred'))).toBe(true);
      expect(names.length).toBe(n === 25 ? 2 : 1);
      expect(wrong(fused.matrix, fused.centering!.mean, n, w * h)).toBe(0);
      // unfused: a tap between them (the stack is then also seen elsewhere): stacked, then centred
      let seen: MatrixValue | undefined;
      const run2 = vi.spyOn(tasks, 'run');
      const two = (await lastValueFrom(of(b).pipe(stack(), tap((v) => (seen = v)), center({ mode: 'row' })))) as MatrixValue;
      const names2 = run2.mock.calls.map((c) => c[0]);
      run2.mockRestore();
      expect(names2.some((x) => x.startsWith('stackCentred'))).toBe(false);
      expect(seen!.centering).toBeUndefined();
      // the same value: name, layout, centering (mode and mean), matrix, bit for bit
      expect({ ...fused, matrix: undefined, centering: undefined }).toEqual({ ...two, matrix: undefined, centering: undefined });
      expect(Object.keys(fused)).toEqual(Object.keys(two));
      expect(fused.centering!.mode).toBe(two.centering!.mode);
      expect(sameBits(fused.centering!.mean, two.centering!.mean)).toBe('same bits');
      expect(sameBits(fused.matrix.data, two.matrix.data)).toBe('same bits');
    } finally {
      await setPoolThreads(before);
    }
  });

  it('random values: fused and unfused agree to the last bit, split and inline', async () => {
    const before = poolThreads();
    await setPoolThreads(2);
    try {
      for (const b of [randomBatch(22, 100, 70, 5), randomBatch(7, 15, 11, 6)]) {
        const fused = (await lastValueFrom(of(b).pipe(stack(), center({ mode: 'row' })))) as MatrixValue;
        const two = (await lastValueFrom(of(b).pipe(stack(), map((v) => v), center({ mode: 'row' })))) as MatrixValue;
        expect(sameBits(fused.matrix.data, two.matrix.data)).toBe('same bits');
        expect(sameBits(fused.centering!.mean, two.centering!.mean)).toBe('same bits');
      }
    } finally {
      await setPoolThreads(before);
    }
  });

  it('only stack\'s own observable offers the variant; other modes and a second centring are not fused', async () => {
    const b = knownBatch(3, 6, 5);
    const src = stack()(of(b));
    expect(isHandingOver(src)).toBe(true);
    expect(variantOf(src, 'centredRows')).toBeDefined();
    expect(variantOf(src, 'divided', 255)).toBeUndefined(); // stack offers no divided planes
    expect(variantOf(src.pipe(map((x) => x)), 'centredRows')).toBeUndefined();
    // global mode: the ordinary path (one mean for the whole matrix)
    const g = (await lastValueFrom(of(b).pipe(stack(), center({ mode: 'global' })))) as MatrixValue;
    expect(g.centering!.mode).toBe('global');
    // each subscription of the variant stacks anew (a source subscribed once per run)
    let subscribed = 0;
    const counted = defer(() => { subscribed++; return of(b); });
    await lastValueFrom(counted.pipe(stack(), center({ mode: 'row' })));
    expect(subscribed).toBe(1);
    // centring the fused result again is refused, as for any centred matrix
    const fused = await lastValueFrom(of(b).pipe(stack(), center({ mode: 'row' })));
    await expect(lastValueFrom(of(fused).pipe(center({ mode: 'row' })))).rejects.toThrow(/already centred/);
  });
});

describe('in a YAML run: the runner offers the producer\'s variants to its sole reader (nothing kept)', () => {
  const tmp = tempDir('svdflow-stack-centred-');
  afterAll(() => tmp.cleanup());
  const reg = new Registry(allStages as never);
  const dir = join(tmp.dir, 'imgs');
  mkdirSync(dir, { recursive: true });
  const files = ['im_00.jpg', 'im_01.jpg', 'im_02.jpg', 'im_03.jpg', 'im_04.jpg'];
  for (const f of files) copyFileSync(join(ROOT, 'data', 'stamps', f), join(dir, f));
  const run = (steps: string, keepValues: 'sinks' | 'all', opts: { signal?: AbortSignal } = {}) =>
    runPipeline(
      parsePipeline(`name: t\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(dir)} } }\n  - { id: n, stage: normalize, params: { by: dtype } }\n  - { id: X, stage: stack }\n${steps}`, { file: join(tmp.dir, 'p.yaml'), baseDir: tmp.dir }, reg),
      { outDir: join(tmp.dir, 'out'), progress: false, keepValues, ...opts },
    );
  const centre = '  - { id: C, stage: center, input: X, params: { mode: row } }\n';

  it('stack -> center alone is fused (one stackCentred task, no centring task), with the values, centering and step counts of the unfused run', async () => {
    const before = poolThreads();
    await setPoolThreads(2);
    try {
      // every value kept: nothing fused; X is the plain stack, C centred from it
      const spy0 = vi.spyOn(tasks, 'run');
      const kept = await run(centre, 'all');
      const names0 = spy0.mock.calls.map((c) => c[0]);
      spy0.mockRestore();
      expect(names0.some((x) => x.startsWith('stackCentred'))).toBe(false);
      const X = kept.values.X as MatrixValue, ref = kept.values.C as MatrixValue;
      expect(X.centering).toBeUndefined();
      // the reference from the kept stack, by the formula: each row summed left to right, / n, then x + (-mean)
      const n = X.matrix.cols, want = new Float64Array(X.matrix.rows * n), wantMean = new Float64Array(X.matrix.rows);
      for (let i = 0; i < X.matrix.rows; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += X.matrix.get(i, j);
        wantMean[i] = s / n;
        for (let j = 0; j < n; j++) want[i * n + j] = X.matrix.get(i, j) + -wantMean[i]!;
      }
      expect(sameBits(ref.matrix.data, want)).toBe('same bits');
      // the sinks only: stack -> center fused
      const spy = vi.spyOn(tasks, 'run');
      const fused = await run(centre, 'sinks');
      const names = spy.mock.calls.map((c) => c[0]);
      spy.mockRestore();
      expect(names.filter((x) => x.startsWith('stackCentred')).length).toBeGreaterThan(0);
      expect(names.some((x) => x === 'center' || x === 'centerRowsPart' || x === 'stack' || x === 'stackPart')).toBe(false);
      const C = fused.values.C as MatrixValue;
      expect(sameBits(C.matrix.data, want)).toBe('same bits');
      expect(C.centering!.mode).toBe('row');
      expect(sameBits(C.centering!.mean, wantMean)).toBe('same bits');
      expect({ ...C, matrix: undefined, centering: undefined }).toEqual({ ...ref, matrix: undefined, centering: undefined });
      // each step counted its items as before: one batch in, one value out
      const counts = (r: typeof fused) => r.steps.map((x) => [x.id, x.itemsIn, x.itemsOut]);
      expect(counts(fused)).toEqual([['imgs', 0, 1], ['n', 1, 1], ['X', 1, 1], ['C', 1, 1]]);
      expect(counts(fused)).toEqual(counts(kept));
      // load -> normalize { by: dtype } alone took load's divided variant: the same planes as the kept run's
      const planesOf = (r: typeof fused) => (r.values.n as ImageBatch | undefined)?.images;
      expect(planesOf(fused)).toBeUndefined(); // not a sink, not kept
    } finally {
      await setPoolThreads(before);
    }
  });

  it('a fan-out of the stack is not fused: each reader gets its own centred copy, the same bits', async () => {
    const spy = vi.spyOn(tasks, 'run');
    const two = await run('  - { id: C1, stage: center, input: X, params: { mode: row } }\n  - { id: C2, stage: center, input: X, params: { mode: row } }\n', 'sinks');
    const names = spy.mock.calls.map((c) => c[0]);
    spy.mockRestore();
    expect(names.some((x) => x.startsWith('stackCentred'))).toBe(false);
    const a = two.values.C1 as MatrixValue, b = two.values.C2 as MatrixValue;
    expect(a.matrix.data).not.toBe(b.matrix.data);
    expect(sameBits(a.matrix.data, b.matrix.data)).toBe('same bits');
    const fused = (await run(centre, 'sinks')).values.C as MatrixValue;
    expect(sameBits(fused.matrix.data, a.matrix.data)).toBe('same bits');
  });

  it('load -> normalize { by: dtype } alone (load\'s divided variant offered, as from code): the planes a kept run gets, bit for bit', async () => {
    const one = (keep: 'sinks' | 'all') =>
      runPipeline(parsePipeline(`name: t\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(dir)} } }\n  - { id: n, stage: normalize, params: { by: dtype } }\n`, { file: join(tmp.dir, 'q.yaml'), baseDir: tmp.dir }, reg), { outDir: join(tmp.dir, 'out2'), progress: false, keepValues: keep });
    const kept = await one('all'), alone = await one('sinks');
    const k = kept.values.n as ImageBatch, a = alone.values.n as ImageBatch;
    expect((kept.values.imgs as ImageBatch).images[0]!.range).toEqual([0, 255]); // the kept load's planes were not divided
    expect(a.images.map((im) => im.normalization)).toEqual(k.images.map((im) => im.normalization));
    expect(a.images.map((im) => im.range)).toEqual(k.images.map((im) => im.range));
    for (let i = 0; i < k.images.length; i++) for (let c = 0; c < 3; c++) expect(sameBits(a.images[i]!.planes[c]!.data, k.images[i]!.planes[c]!.data), `${i}/${c}`).toBe('same bits');
    expect(alone.steps.map((x) => [x.id, x.itemsIn, x.itemsOut])).toEqual([['imgs', 0, 1], ['n', 1, 1]]);
  });

  // A custom stage, sole reader of stack (or of load), that calls center (normalize) from code on its input:
  // the runner's offer is its own context's, never a mark on the input observable (which is the
  // producer's multicast). The review that found these: the inner center got the variant's promise
  // but stack made plain values (uncentred matrices labelled as nothing), and a stage merging its
  // input with center { global } of it saw the held matrix changed in place.
  const customs = () => {
    let held: MatrixValue | undefined, heldFirst = NaN;
    const callsCenter = defineStage({ name: 'calls-center', summary: 'test', input: 'Matrix', output: 'Matrix', params: z.strictObject({}), operator: () => (src: any) => center({ mode: 'row' })(src as never) as never });
    const callsNormalize = defineStage({ name: 'calls-normalize', summary: 'test', input: 'ImageBatch', output: 'ImageBatch', params: z.strictObject({}), operator: () => (src: any) => normalize({ by: 'dtype' })(src as never) as never });
    const keepsAndCentres = defineStage({
      name: 'keeps-and-centres', summary: 'test', input: 'Matrix', output: 'Matrix', params: z.strictObject({}),
      operator: () => (src: any) => merge(src.pipe(tap((v) => { held = v as MatrixValue; heldFirst = held.matrix.data[0]!; })), center({ mode: 'global' })(src as never)) as never,
    });
    const r = new Registry([...(allStages as unknown as never[]), callsCenter, callsNormalize, keepsAndCentres] as never);
    return { r, held: () => ({ held: held!, heldFirst }) };
  };
  const runWith = (r: Registry, steps: string) =>
    runPipeline(parsePipeline(`name: t\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(dir)} } }\n${steps}`, { file: join(tmp.dir, 'c.yaml'), baseDir: tmp.dir }, r), { outDir: join(tmp.dir, 'out3'), progress: false, keepValues: 'sinks' });

  it('a custom stage calling center { row } from code on stack\'s output gets centred values (no variant leaks into a stage it calls)', async () => {
    const { r } = customs();
    const ref = (await run(centre, 'all')).values.C as MatrixValue;
    const got = (await runWith(r, '  - { id: n, stage: normalize, params: { by: dtype } }\n  - { id: X, stage: stack }\n  - { id: M, stage: calls-center, input: X }\n')).values.M as MatrixValue;
    expect(got.centering?.mode).toBe('row');
    expect(sameBits(got.matrix.data, ref.matrix.data)).toBe('same bits');
  });

  it('a custom stage calling normalize { dtype } from code on load\'s output gets planes in [0, 1] (load made no variant for it)', async () => {
    const { r } = customs();
    const got = (await runWith(r, '  - { id: N, stage: calls-normalize, input: imgs }\n')).values.N as ImageBatch;
    let max = 0;
    for (const im of got.images) for (const P of im.planes) for (const x of P.data) max = Math.max(max, x);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.5);
    expect(got.images[0]!.normalization).toEqual({ method: 'dtype', scale: 255 });
  });

  it('a custom stage that keeps stack\'s matrix and centres it from code: the held matrix is never changed in place', async () => {
    const { r, held } = customs();
    await runWith(r, '  - { id: n, stage: normalize, params: { by: dtype } }\n  - { id: X, stage: stack }\n  - { id: M, stage: keeps-and-centres, input: X }\n');
    const h = held();
    expect(h.held.centering).toBeUndefined();
    expect(h.held.matrix.data[0]).toBe(h.heldFirst);
  });

  it('after a fused pair, errors still name their step; a cancelled run ends as cancelled', async () => {
    // a second centring of the fused result is refused, naming that step
    await expect(run(`${centre}  - { id: D, stage: center, input: C, params: { mode: row } }\n`, 'sinks')).rejects.toThrow(/step 'D' \(stage center\) failed: .*already centred/);
    const ac = new AbortController();
    ac.abort('interrupted');
    await expect(run(centre, 'sinks', { signal: ac.signal })).rejects.toMatchObject({ name: 'CancelledError' });
  });
});
