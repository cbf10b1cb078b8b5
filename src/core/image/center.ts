/**
 * Mean removal of an Image (each plane), an ImageBatch (each image) or a Matrix, with the mean
 * kept in `centering` so that reconstruct and encode add it back. The center stage's numeric
 * core (run in the compute pool for large values).
 */
import { InputError } from '../errors.js';
import { subtractMean } from './planes.js';
import type { Centering, Image, ImageBatch, MatrixValue } from '../ports.js';

export type CenterMode = Exclude<Centering['mode'], 'none'>;

function centerImage(img: Image, mode: CenterMode): Image {
  if (img.centering?.some((c) => c.mode !== 'none')) throw new InputError(`image ${img.name} is already centred (${img.centering[0]!.mode})`, 'remove the second center step');
  const done = img.planes.map((P) => subtractMean(P, mode));
  return { ...img, planes: done.map((d) => d.out), centering: done.map((d): Centering => ({ mode, mean: d.mean })) };
}

/** A matrix already centred cannot be centred again (its mean would be lost). */
export function assertNotCentred(v: MatrixValue): void {
  if (v.centering && v.centering.mode !== 'none') throw new InputError(`matrix ${v.name} is already centred (${v.centering.mode})`, 'remove the second center step');
}

/**
 * v minus its mean (global, per row or per column), the mean recorded in `centering`. With
 * `inPlace` a matrix is centred in its own storage (only for a matrix nobody else holds: see
 * core/image/planes.ts; the values are the same bits either way).
 */
export function centerValue<V extends Image | ImageBatch | MatrixValue>(v: V, mode: CenterMode, inPlace = false): V {
  if (v.kind === 'Image') return centerImage(v, mode) as V;
  if (v.kind === 'ImageBatch') return { ...v, images: v.images.map((im) => centerImage(im, mode)) };
  assertNotCentred(v);
  const { mean, out } = inPlace ? subtractMean(v.matrix, mode, v.matrix) : subtractMean(v.matrix, mode);
  return { ...v, matrix: out, centering: { mode, mean } };
}

/** Values (doubles) a value holds: the work measure that decides inline vs pooled. */
export function valueSize(v: Image | ImageBatch | MatrixValue): number {
  if (v.kind === 'Matrix') return v.matrix.rows * v.matrix.cols;
  const images = v.kind === 'Image' ? [v] : v.images;
  let n = 0;
  for (const im of images) for (const P of im.planes) n += P.rows * P.cols;
  return n;
}
