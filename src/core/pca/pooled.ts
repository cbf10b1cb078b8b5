/**
 * Stacking and row-centring of a large collection split over the compute pool's threads.
 *
 * Both are memory-bound passes whose cost on a 12 MB stack (22 stamps, 70890 x 22) is mostly
 * the first touch of the fresh result (a page fault per 4 KiB page, ~3000 of them) and one read
 * and write of every value; a part of the rows per thread spreads both over the cores. The
 * result lives in shared memory, allocated here and written in place by the parts (rows are
 * independent), so every value is computed exactly as by the one-task path: the same bits
 * (test/core/image/collection-loops.test.ts). Below SPLIT_VALUES, with one pool thread, or when
 * the operands are not in shared memory already (each part would copy them), one task does it.
 */
import { Matrix } from '../linalg/matrix.js';
import { poolThreads, type RunOptions } from '../pool/index.js';
import { tasks } from '../pool/tasks/images.js';
import { stackLayout, stackRows } from './stack.js';
import { shardRanges } from './shards.js';
import { assertNotCentred, type CenterMode } from '../image/center.js';
import type { Image, ImageBatch, MatrixValue, StackLayout } from '../ports.js';

/** Values from which a stack or a row-centring is split over the pool's threads (4 MiB of doubles). */
export const SPLIT_VALUES = 1 << 19;

const isShared = (a: Float64Array) => a.buffer instanceof SharedArrayBuffer;
const sharedMatrix = (rows: number, cols: number) => new Matrix(rows, cols, new Float64Array(new SharedArrayBuffer(rows * cols * 8)));

/** How many parts the pool runs `values` of work in (1: one task). */
export function splitParts(values: number, opts: RunOptions = {}): number {
  return opts.inline || values < SPLIT_VALUES ? 1 : Math.max(1, poolThreads());
}

/** Runs one pool task per part, all at once; the first failure aborts the others. Progress is summed over the parts. */
async function runParts(parts: [number, number][], run: (range: [number, number], o: RunOptions) => Promise<unknown>, opts: RunOptions): Promise<void> {
  const ac = new AbortController();
  const onOuter = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  if (opts.signal?.aborted) ac.abort(opts.signal.reason);
  const done = parts.map(() => 0), total = parts.reduce((t, [a, b]) => t + b - a, 0);
  try {
    await Promise.all(parts.map((range, k) => run(range, {
      signal: ac.signal,
      onProgress: opts.onProgress && ((d) => { done[k] = d; opts.onProgress!(done.reduce((a, b) => a + b, 0), total); }),
    }).catch((e) => { ac.abort('a part failed'); throw e; })));
  } finally {
    opts.signal?.removeEventListener('abort', onOuter);
  }
}

/** The d x n stack of `images` (stackImages), in the pool: in parts over its threads when large. */
export async function stackInPool(images: Image[], opts: RunOptions = {}): Promise<{ matrix: Matrix; layout: StackLayout }> {
  const d = stackRows(images), n = images.length;
  const parts = splitParts(d * n, opts);
  if (parts <= 1 || !images.every((im) => im.planes.every((P) => isShared(P.data)))) return tasks.run('stack', [images], opts);
  const layout = stackLayout(images);
  const matrix = sharedMatrix(d, n);
  await runParts(shardRanges(d, parts), ([r0, r1], o) => tasks.run('stackPart', [images, matrix, r0, r1], o), opts);
  return { matrix, layout };
}

/**
 * The stack of `images` minus its mean image in one pass (stackCentredInto; the same bits as
 * stackInPool then centerInPool 'row'), in the pool: in parts over its threads when large.
 */
export async function stackCentredInPool(images: Image[], opts: RunOptions = {}): Promise<{ matrix: Matrix; mean: Float64Array; layout: StackLayout }> {
  const d = stackRows(images), n = images.length;
  const parts = splitParts(d * n, opts);
  if (parts <= 1 || !images.every((im) => im.planes.every((P) => isShared(P.data)))) return tasks.run('stackCentred', [images], opts);
  const layout = stackLayout(images);
  const matrix = sharedMatrix(d, n);
  const mean = new Float64Array(new SharedArrayBuffer(d * 8));
  await runParts(shardRanges(d, parts), ([r0, r1], o) => tasks.run('stackCentredPart', [images, matrix, mean, r0, r1], o), opts);
  return { matrix, mean, layout };
}

/**
 * `v` minus its mean (centerValue), in the pool: row means of a large matrix in parts over its
 * threads. `inPlace` (a matrix nobody else holds, such as the one stack hands over): the result
 * is written over the matrix's own values, no second matrix of fresh memory, when they are in
 * shared memory or the task runs inline (a plain matrix sent to one pool task is copied anyway).
 */
export async function centerInPool<V extends Image | ImageBatch | MatrixValue>(v: V, mode: CenterMode, opts: RunOptions & { inPlace?: boolean } = {}): Promise<V> {
  const { inPlace = false, ...run } = opts;
  const own = inPlace && v.kind === 'Matrix' && (run.inline || poolThreads() === 0 || isShared(v.matrix.data));
  if (v.kind !== 'Matrix' || mode !== 'row') return tasks.run('center', [v, mode, own], run) as Promise<V>;
  const X = v.matrix;
  const parts = splitParts(X.rows * X.cols, run);
  if (parts <= 1 || !isShared(X.data)) return tasks.run('center', [v, mode, own], run) as Promise<V>;
  assertNotCentred(v);
  const out = own ? X : sharedMatrix(X.rows, X.cols);
  const mean = new Float64Array(new SharedArrayBuffer(X.rows * 8));
  await runParts(shardRanges(X.rows, parts), ([i0, i1], o) => tasks.run('centerRowsPart', [X, out, mean, i0, i1], o), run);
  return { ...v, matrix: out, centering: { mode, mean } };
}
