/**
 * Image and collection-PCA pool tasks: stacking, centring, rank-k reconstructions and
 * generated images, the memory-bound loops of the PCA chain and the image pipeline. In a
 * worker thread they leave the main thread free (event-loop delay) and can be stopped at
 * any moment; results come back moved (large matrices are shared, not copied).
 */
import { stackImages, stackInto, stackCentredImages, stackCentredInto, vectorToImage } from '../../pca/stack.js';
import { subtractRowMeans } from '../../image/planes.js';
import type { Matrix } from '../../linalg/matrix.js';
import { centerValue, type CenterMode } from '../../image/center.js';
import { reconstructValue } from '../../image/reconstruct.js';
import { pcaModel, fromCoordinates, type NamedCoordinates } from '../../pca/model.js';
import type { Factorization, Image, ImageBatch, MatrixValue } from '../../ports.js';
import { defineTasks, taskProgress } from '../index.js';

export const tasks = defineTasks(import.meta.url, {
  stack(images: Image[]) {
    return stackImages(images, taskProgress());
  },
  /** the stack minus its mean image, in one pass (stack's centredRows variant) */
  stackCentred(images: Image[]) {
    return stackCentredImages(images, taskProgress());
  },
  /** `inPlace`: a matrix in shared memory is centred in the caller's storage (see centerValue) */
  center(v: Image | ImageBatch | MatrixValue, mode: CenterMode, inPlace = false) {
    return centerValue(v, mode, inPlace);
  },
  /** rows [r0, r1) of the stack of `images` into `out` (shared memory): one part of a stack split over the pool's threads */
  stackPart(images: Image[], out: Matrix, r0: number, r1: number): void {
    stackInto(images, out, r0, r1, taskProgress());
  },
  /** rows [r0, r1) of the stack of `images` minus their means into `out`, the means into `mean` (shared memory): one part of a split fused stack + centre */
  stackCentredPart(images: Image[], out: Matrix, mean: Float64Array, r0: number, r1: number): void {
    stackCentredInto(images, out, mean, r0, r1, taskProgress());
  },
  /** rows [i0, i1) of X minus their means into `out`, the means into `mean` (shared memory): one part of a split centring */
  centerRowsPart(X: Matrix, out: Matrix, mean: Float64Array, i0: number, i1: number): void {
    subtractRowMeans(X, out, mean, i0, i1);
  },
  /** one reconstruction per rank, named names[i] */
  reconstruct(f: Factorization, ranks: number[], clamp: boolean, names: string[]): (Image | MatrixValue)[] {
    const report = taskProgress();
    return ranks.map((k, i) => { const v = reconstructValue(f, k, clamp, names[i]); report(i + 1, ranks.length); return v; });
  },
  /** mean + U c for each coordinate list, as images of the collection's layout */
  generate(f: Factorization, list: NamedCoordinates[], clamp: boolean): Image[] {
    const m = pcaModel(f);
    const report = taskProgress();
    return list.map((c, i) => { const im = vectorToImage(fromCoordinates(m, c.coords), m.layout, c.name, { clamp }); report(i + 1, list.length); return im; });
  },
});

/** Below this many values touched (a few ms of memory-bound work) a task runs inline: the thread hop would cost more. */
export const INLINE_VALUES = 1 << 18;

/** Values a rank-k rebuild of f writes and reads (rows x cols x (k + 1) per factor). */
export function reconstructWork(f: Factorization, k: number): number {
  let n = 0;
  for (const fac of f.factors) n += fac.U.rows * fac.V.rows * (k + 1);
  return n;
}
