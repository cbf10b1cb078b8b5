/**
 * center centres in place only a matrix nobody else holds (planes.ts, stage.ts handsOver): stack's
 * fresh matrix reaching center alone, from code (piped straight onto stack) or in a run (the only
 * reader, nothing kept). Every other case writes a new matrix, and nobody can see a difference but
 * the memory: the values are the same bits, and a matrix someone else holds is never changed.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, map, of, tap } from 'rxjs';
import { join } from 'node:path';
import { mkdirSync, copyFileSync } from 'node:fs';
import { stack } from '../../src/stages/stack.js';
import { center } from '../../src/stages/center.js';
import { handsOver, isHandingOver, newPlanes } from '../../src/core/image/planes.js';
import { SPLIT_VALUES } from '../../src/core/pca/pooled.js';
import { INLINE_VALUES } from '../../src/core/pool/tasks/images.js';
import { closePool, poolThreads, setPoolThreads } from '../../src/core/pool/index.js';
import { Matrix } from '../../src/core/linalg/matrix.js';
import { parsePipeline } from '../../src/core/pipeline.js';
import { runPipeline } from '../../src/core/runner.js';
import { Registry } from '../../src/core/registry.js';
import { allStages } from '../../src/stages/index.js';
import type { Image, ImageBatch, MatrixValue } from '../../src/core/ports.js';
import { ROOT, tempDir } from '../helpers.js';

const tmp = tempDir('svdflow-center-inplace-');
afterAll(async () => {
  tmp.cleanup();
  await closePool();
});

/**
 * n images (n odd) of w x h, 3 planes, pixel q of plane c of image j = 1000 c + q % 997 + j - (n - 1) / 2:
 * small integers, so the mean image is exactly 1000 c + q % 997 and centred column j is exactly j - (n - 1) / 2.
 */
function knownBatch(n: number, w: number, h: number): ImageBatch {
  const images: Image[] = [];
  for (let j = 0; j < n; j++) {
    const planes = newPlanes(h, w, 3); // shared memory when large, as load gives them
    planes.forEach((P, c) => { for (let q = 0; q < w * h; q++) P.data[q] = 1000 * c + (q % 997) + j - (n - 1) / 2; });
    images.push({ kind: 'Image', name: `k${j}`, width: w, height: h, color: 'rgb', planes, range: [0, 4000] });
  }
  return { kind: 'ImageBatch', name: 'known', width: w, height: h, color: 'rgb', images };
}

/** Entries of X (d x n) that differ from the known stack (centred: the known centred columns); the mean checked too. */
function wrong(X: Matrix, n: number, hw: number, centred: boolean, mean?: Float64Array): number {
  let bad = 0;
  for (let c = 0; c < 3; c++)
    for (let q = 0; q < hw; q++) {
      const b = 1000 * c + (q % 997), i = c * hw + q;
      if (mean && mean[i] !== b) bad++;
      for (let j = 0; j < n; j++) if (X.get(i, j) !== (centred ? 0 : b) + j - (n - 1) / 2) bad++;
    }
  return bad;
}

const sizes = [
  { n: 25, w: 100, h: 80, what: 'split over the pool (shared memory)' },
  { n: 5, w: 20, h: 10, what: 'inline (small)' },
];

describe('center in place (hand-over)', () => {
  it('the sizes cover the split pool path and the inline one', () => {
    expect(3 * 100 * 80 * 25).toBeGreaterThanOrEqual(SPLIT_VALUES);
    expect(3 * 20 * 10 * 5).toBeLessThan(INLINE_VALUES);
  });

  it.each(sizes)('the protocol, $what: a matrix straight from a handing-over source is centred in its own memory; anything else is copied', async ({ n, w, h }) => {
    const before = poolThreads();
    await setPoolThreads(2);
    try {
      const b = knownBatch(n, w, h);
      const X = (await lastValueFrom(of(b).pipe(stack()))) as MatrixValue;
      const data = X.matrix.data;
      const C = (await lastValueFrom(handsOver(of(X)).pipe(center({ mode: 'row' })))) as MatrixValue;
      expect(C.matrix.data).toBe(data); // its memory reused
      expect(wrong(C.matrix, n, w * h, true, C.centering!.mean)).toBe(0);
      // a plain source (a user re-emitting a stack they hold), or a handing-over source seen through a map: a new matrix, the input untouched
      for (const make of [(v: MatrixValue) => of(v), (v: MatrixValue) => handsOver(of(v)).pipe(map((x) => x))]) {
        const Y = (await lastValueFrom(of(b).pipe(stack()))) as MatrixValue;
        const D = (await lastValueFrom(make(Y).pipe(center({ mode: 'row' })))) as MatrixValue;
        expect(D.matrix.data).not.toBe(Y.matrix.data);
        expect(wrong(Y.matrix, n, w * h, false)).toBe(0);
        expect(wrong(D.matrix, n, w * h, true, D.centering!.mean)).toBe(0);
      }
    } finally {
      await setPoolThreads(before);
    }
  });

  it.each(sizes)('from code, $what: stack().pipe into center() centres the fresh stack; a tap in between keeps its matrix unchanged; same bits', async ({ n, w, h }) => {
    const before = poolThreads();
    await setPoolThreads(2);
    try {
      const b = knownBatch(n, w, h);
      expect(isHandingOver(stack()(of(b)))).toBe(true);
      expect(isHandingOver(stack()(of(b)).pipe(map((x) => x)))).toBe(false);
      const direct = (await lastValueFrom(of(b).pipe(stack(), center({ mode: 'row' })))) as MatrixValue;
      expect(wrong(direct.matrix, n, w * h, true, direct.centering!.mean)).toBe(0);
      let seen: MatrixValue | undefined;
      const copied = (await lastValueFrom(of(b).pipe(stack(), tap((v) => (seen = v)), center({ mode: 'row' })))) as MatrixValue;
      expect(wrong(seen!.matrix, n, w * h, false)).toBe(0); // the kept stack still holds the images
      expect(copied.matrix.data.buffer).not.toBe(seen!.matrix.data.buffer);
      expect(Array.from(copied.matrix.data)).toEqual(Array.from(direct.matrix.data));
      expect(Array.from(copied.centering!.mean)).toEqual(Array.from(direct.centering!.mean));
    } finally {
      await setPoolThreads(before);
    }
  });
});

describe('center in place in a run: only as the sole reader of stack, nothing kept', () => {
  const reg = new Registry(allStages as never);
  const dir = join(tmp.dir, 'imgs');
  mkdirSync(dir, { recursive: true });
  for (const f of ['im_00.jpg', 'im_01.jpg', 'im_02.jpg']) copyFileSync(join(ROOT, 'data', 'stamps', f), join(dir, f));
  const run = (steps: string, keepValues: 'sinks' | 'all') =>
    runPipeline(
      parsePipeline(`name: t\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(dir)} } }\n  - { id: X, stage: stack }\n${steps}`, { file: join(tmp.dir, 'p.yaml'), baseDir: tmp.dir }, reg),
      { outDir: join(tmp.dir, 'out'), progress: false, keepValues },
    );

  it('alone, kept or fanned out: every reader gets the centred stack, and a kept stack keeps the images', async () => {
    const kept = await run('  - { id: C, stage: center, input: X, params: { mode: row } }\n', 'all');
    const X = kept.values.X as MatrixValue, ref = kept.values.C as MatrixValue;
    // the kept stack: not centred; its rows minus the mean image are the centred matrix
    expect(X.centering).toBeUndefined();
    const { rows, cols } = X.matrix;
    let bad = 0;
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += X.matrix.get(i, j);
      if (s / cols !== ref.centering!.mean[i]) bad++;
      for (let j = 0; j < cols; j++) if (X.matrix.get(i, j) + -ref.centering!.mean[i]! !== ref.matrix.get(i, j)) bad++;
    }
    expect(bad).toBe(0);
    const alone = await run('  - { id: C, stage: center, input: X, params: { mode: row } }\n', 'sinks');
    expect(Array.from((alone.values.C as MatrixValue).matrix.data)).toEqual(Array.from(ref.matrix.data));
    const two = await run('  - { id: C1, stage: center, input: X, params: { mode: row } }\n  - { id: C2, stage: center, input: X, params: { mode: row } }\n', 'sinks');
    for (const k of ['C1', 'C2']) expect(Array.from((two.values[k] as MatrixValue).matrix.data), k).toEqual(Array.from(ref.matrix.data));
  });
});
