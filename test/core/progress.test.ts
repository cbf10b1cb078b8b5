/**
 * Progress of long steps (#13 item 5): the compute pool's progress channel (a task reports
 * with taskProgress(), the caller's onProgress sees it, from a worker thread through shared
 * memory or inline), the SVD's progress on every route, ICP's in iterations, and on a
 * terminal the progress lines of svd and align.
 */
import { describe, it, expect, afterAll, onTestFinished } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Matrix, svd } from '../../src/core/linalg/index.js';
import { setBlas } from '../../src/core/linalg/native.js';
import { tasks } from '../../src/core/pool/tasks/linalg.js';
import { tasks as pointTasks } from '../../src/core/pool/tasks/points.js';
import { closePool } from '../../src/core/pool/index.js';
import { monotone, progressBuffer, readProgress, sharedReporter } from '../../src/core/pool/progress.js';
import { DEFAULT_CRITERIA } from '../../src/core/points/icp.js';
import { ProgressRenderer } from '../../src/core/progress.js';
import { ROOT, CLI, tempDir } from '../helpers.js';

afterAll(() => closePool());
const tmp = tempDir('svdflow-progress-');
afterAll(() => tmp.cleanup());

function filled(m: number, n: number, seed = 1): Matrix {
  const A = new Matrix(m, n);
  let x = seed;
  for (let i = 0; i < A.data.length; i++) { x = (x * 16807) % 2147483647; A.data[i] = x / 2147483647 - 0.5; }
  return A;
}

type Seen = Array<[number, number]>;
const isMonotone = (s: Seen) => s.every(([d, t], i) => d <= t && (i === 0 || (d >= s[i - 1]![0] && t === s[i - 1]![1])));

describe('pool progress channel', () => {
  it('shared memory carries [done, total]; monotone() keeps done from going back or past the total', () => {
    const buf = progressBuffer();
    expect(readProgress(buf)).toEqual([0, 0]);
    sharedReporter(buf)(3.5, 10);
    expect(readProgress(buf)).toEqual([3.5, 10]);
    const seen: Seen = [];
    const m = monotone((d, t) => seen.push([d, t]));
    for (const d of [2, 1, 5, 5, 30]) m(d, 10);
    m(1, 0); // no total: ignored
    expect(seen).toEqual([[2, 10], [5, 10], [10, 10]]);
    // control: the check used below rejects a sequence that goes back
    expect(isMonotone([[2, 10], [1, 10]])).toBe(false);
    expect(isMonotone(seen)).toBe(true);
  });

  it('svd reports monotone progress on every route, ending at the total (exact, gram, randomized)', () => {
    // the TS/WebAssembly kernels' phases and panels (the native backend's steps: test/linalg/native.test.ts)
    setBlas(false);
    onTestFinished(() => { setBlas(undefined); });
    for (const [A, opts, solver] of [
      [filled(300, 200), {}, 'exact'],
      [filled(600, 150), { solver: 'exact' as const }, 'exact'], // QR first
      [filled(2000, 40), {}, 'gram'],
      [filled(400, 300), { rank: 10 }, 'randomized'],
    ] as const) {
      const seen: Seen = [];
      const r = svd(A, { ...opts, onProgress: (d, t) => seen.push([d, t]) });
      expect(r.solver).toBe(solver);
      expect(isMonotone(seen), `${solver} ${A.rows}x${A.cols}: ${JSON.stringify(seen)}`).toBe(true);
      const [d, t] = seen[seen.length - 1]!;
      expect(t).toBeGreaterThan(0);
      expect(d).toBe(t);
      // phases (and panels of the bidiagonalisation) show up as steps in between
      expect(seen.filter(([x]) => x > 0 && x < t).length).toBeGreaterThanOrEqual({ exact: 5, gram: 2, randomized: 8 }[solver]);
    }
  });

  it('a pooled svd reports from its worker thread: values in between, monotone, ending at the total', async () => {
    const seen: Seen = [];
    const r = await tasks.run('svd', [filled(1200, 1000, 3), {}], { onProgress: (d, t) => seen.push([d, t]) });
    expect(r.s.length).toBe(1000);
    expect(isMonotone(seen)).toBe(true);
    const [d, t] = seen[seen.length - 1]!;
    expect(d).toBe(t);
    // the SVD takes well over 0.1 s (the polling period): the bar moved before the end
    expect(seen.some(([x]) => x > 0 && x < t)).toBe(true);
  }, 60_000);

  it('ICP reports its iterations: one value per update, then the total (maxIterations)', async () => {
    // a 3-D cloud and the same cloud turned by 10° about z: ICP converges in a few updates
    const n = 500, src = filled(n, 3, 5), c = Math.cos(0.17), s = Math.sin(0.17);
    const tgt = new Matrix(n, 3);
    for (let i = 0; i < n; i++) {
      const [x, y, z] = [src.get(i, 0), src.get(i, 1), src.get(i, 2)];
      tgt.data.set([c * x - s * y, s * x + c * y, z], i * 3);
    }
    const p = { estimation: 'point-to-point' as const, scaling: false, trim: 1, kernel: { type: 'none' as const, scale: 1 }, init: 'identity' as const, global: {}, angles: 12, minFitness: 0.3, maxRmseRatio: 0.5, criteria: { ...DEFAULT_CRITERIA, maxIterations: 40 }, normalNeighbours: 30 };
    for (const inline of [true, false]) {
      const seen: Seen = [];
      const r = await pointTasks.run('icpRegistration', [src, tgt, p], { inline, onProgress: (d, t) => seen.push([d, t]) });
      expect(r.converged).toBe(true);
      expect(isMonotone(seen)).toBe(true);
      expect(seen[seen.length - 1]).toEqual([40, 40]);
      if (inline) {
        // every update reported as it happened: 0 (before the first), 1, ..., iterations, then the end
        const its = Array.from({ length: r.iterations + 1 }, (_, i) => [i, 40]);
        expect(seen).toEqual([...its, ...(r.iterations < 40 ? [[40, 40]] : [])]);
        expect(r.iterations).toBeGreaterThan(1);
      }
    }
  }, 60_000);

  it('a synchronous loop on the main thread still draws (the timer gets no turn)', () => {
    const chunks: string[] = [];
    const stream = { write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream;
    const r = new ProgressRenderer(true, stream);
    const bar = r.create('stack', { total: 3, unit: 'images' });
    const until = (ms: number) => { const t = performance.now() + ms; while (performance.now() < t); };
    for (let i = 0; i < 3; i++) { until(120); bar.tick(); }
    expect(chunks.length).toBeGreaterThanOrEqual(2); // drawn from tick(), before done()
    bar.done();
    r.stop();
    expect(chunks.join('')).toMatch(/stack .*100% 3\/3 images .* done/);
  });
});

/** The percentages a terminal saw on the lines starting with `label`. */
function percents(out: string, label: string): number[] {
  return out.split(/\r?\n|\x1b\[\d*F/).filter((l) => l.replace(/\x1b\[2K/, '').startsWith(label)).map((l) => Number(/(\d+)%/.exec(l)?.[1] ?? NaN)).filter((v) => !Number.isNaN(v)); // before its first report a line shows the time only
}

/** The line `label` reported at least `min` times, never went down, and ended as a full bar, "100% done". Returns the percentages. */
function expectRisingLine(out: string, label: string, min: number): number[] {
  const p = percents(out, label);
  expect(p.length).toBeGreaterThanOrEqual(min);
  expect(p.every((v, i) => i === 0 || v >= p[i - 1]!)).toBe(true);
  expect(out).toMatch(new RegExp(`${label} +\\[#{20}\\] 100% done`));
  return p;
}

describe.skipIf(!existsSync('/usr/bin/script'))('on a terminal (script(1) gives the run a TTY)', () => {
  const tty = (args: string, env: NodeJS.ProcessEnv = {}) => spawnSync('/usr/bin/script', ['-qec', `${process.execPath} ${CLI} run ${args}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('svd and the compression report show progress lines that rise to 100% done', () => {
    // the WebAssembly kernels' SVD reports each phase (bidiagonalisation panels, vectors, back-transformations);
    // OpenBLAS's dgesdd of this size is one call of ~0.2 s, whose line goes straight to done (below)
    const r = tty(`${join(ROOT, 'pipelines', 'image-compress.yaml')} --out ${join(tmp.dir, 'ic')}`, { SVDFLOW_BLAS: 'off' });
    expect(r.status, r.stdout).toBe(0);
    const p = expectRisingLine(r.stdout, 'svd: turtle', 2);
    expect(p[p.length - 1]).toBe(100);
    // the compression report (rebuilding, comparing and encoding the image: seconds) has its line too
    expectRisingLine(r.stdout, 'report: turtle', 0);
    // with the native backend (when it loads) the svd line still ends at 100% done
    const n = tty(`${join(ROOT, 'pipelines', 'image-compress.yaml')} --out ${join(tmp.dir, 'ic-native')}`);
    expect(n.status, n.stdout).toBe(0);
    expect(expectRisingLine(n.stdout, 'svd: turtle', 1).at(-1)).toBe(100);
  }, 120_000);

  it('align (ICP) shows a progress line that rises to 100% done', () => {
    const r = tty(`${join(ROOT, 'pipelines', 'icp.yaml')} --out ${join(tmp.dir, 'icp')}`);
    expect(r.status, r.stdout).toBe(0);
    expectRisingLine(r.stdout, 'fit: ICP', 1);
  }, 120_000);
});

describe('PCA steps report progress', () => {
  it('stackImages reports the pixels stacked, monotone, ending at the total; the stack step draws a line on a large collection (from its pool task)', async () => {
    const { stackImages } = await import('../../src/core/pca/stack.js');
    const { Matrix: M } = await import('../../src/core/linalg/index.js');
    const img = (i: number, w: number, h: number) => ({ kind: 'Image' as const, name: `im${i}`, width: w, height: h, color: 'gray' as const, range: [0, 1] as [number, number], planes: [Object.assign(new M(h, w), {})] });
    const seen: Seen = [];
    const { matrix } = stackImages([img(0, 300, 400), img(1, 300, 400)], (d, t) => seen.push([d, t]));
    expect(matrix.rows).toBe(120_000);
    expect(isMonotone(seen)).toBe(true);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[seen.length - 1]).toEqual([120_000, 120_000]);
    // the stages' lines, through a renderer that records what it draws
    const chunks: string[] = [];
    const r = new ProgressRenderer(true, { write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream);
    const { lastValueFrom, of } = await import('rxjs');
    const { stack } = await import('../../src/stages/stack.js');
    const ctx = { signal: new AbortController().signal, progress: (o: { label?: string; total?: number; unit?: string; percent?: boolean } = {}) => r.create(o.label ?? 's', o) };
    const images = Array.from({ length: 90 }, (_, i) => img(i, 400, 300)); // 90 x 120,000 = 1.08e7 values
    const X = await lastValueFrom(of({ kind: 'ImageBatch' as const, name: 'big', width: 400, height: 300, color: 'gray' as const, images }).pipe(stack({}, { ctx: ctx as never })));
    r.stop();
    const text = chunks.join("");
    expect(text).toMatch(/stack: stacking +\[#{20}\] 100% done/);
  }, 60_000);
});
