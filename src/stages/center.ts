/**
 * center: subtracts a mean (global, per row or per column) from each plane of an
 * Image, each image of an ImageBatch, or a Matrix. The mean travels with the
 * value (`centering`) so that reconstruct and encode add it back.
 *
 * ```yaml
 * - stage: center
 *   params: { mode: global }
 * ```
 * On a d x n Matrix of images stacked as columns, `mode: row` subtracts the mean image.
 * @see reconstruct
 */
import { z } from 'zod';
import { map } from 'rxjs';
import { defineStage } from '../core/stage.js';
import type { KindPreserving } from '../core/image/typing.js';
import { InputError } from '../core/errors.js';
import { applyMean, meanOf } from '../core/image/planes.js';
import type { Centering, Image, ImageBatch, MatrixValue } from '../core/ports.js';

type Mode = Exclude<Centering['mode'], 'none'>;

function centerImage(img: Image, mode: Mode): Image {
  if (img.centering?.some((c) => c.mode !== 'none')) throw new InputError(`image ${img.name} is already centred (${img.centering[0]!.mode})`, 'remove the second center step');
  const centering: Centering[] = img.planes.map((P) => ({ mode, mean: meanOf(P, mode) }));
  return { ...img, planes: img.planes.map((P, i) => applyMean(P, centering[i]!, -1)), centering };
}

const centerStage = defineStage({
  name: 'center',
  summary: 'Subtract the mean (global, per row or per column); the mean travels with the data',
  description: [
    "global: one mean per plane (the seed exercise's default); row: one per row; column: one per column.",
    'Image: each plane separately; ImageBatch: each image; Matrix: the matrix (mode: row on a d x n stack of',
    'images as columns subtracts the mean image). reconstruct and encode add the mean back.',
  ].join('\n'),
  example: '- stage: center\n  params: { mode: global }',
  input: ['Image', 'ImageBatch', 'Matrix'] as const,
  output: ['Image', 'ImageBatch', 'Matrix'] as const,
  outputKinds: (_params, input) => input,
  params: z.strictObject({
    mode: z.enum(['global', 'row', 'column']).default('global').describe('which mean: global (one number), row (one per row) or column (one per column)'),
  }),
  operator: (params, ctx) =>
    map((v): Image | ImageBatch | MatrixValue => {
      if (v.kind === 'Image') {
        const out = centerImage(v, params.mode);
        ctx.log.info({ mode: params.mode, mean: params.mode === 'global' ? out.centering!.map((c) => c.mean[0]) : undefined }, 'centred');
        return out;
      }
      if (v.kind === 'ImageBatch') return { ...v, images: v.images.map((im) => centerImage(im, params.mode)) };
      if (v.centering && v.centering.mode !== 'none') throw new InputError(`matrix ${v.name} is already centred (${v.centering.mode})`, 'remove the second center step');
      const centering: Centering = { mode: params.mode, mean: meanOf(v.matrix, params.mode) };
      return { ...v, matrix: applyMean(v.matrix, centering, -1), centering };
    }),
});

/** The stage; from code it returns the kind it is given (Image → Image, …). */
export const center = centerStage as KindPreserving<typeof centerStage, Image | ImageBatch | MatrixValue>;
