/**
 * normalize: scales an Image (or every image of an ImageBatch) to floats in [0, 1]
 * and records how (`normalization`), so that encode can map back to 8 bits.
 *
 * ```yaml
 * - stage: normalize
 *   params: { by: max }
 * ```
 * @see load, encode
 */
import { z } from 'zod';
import { map } from 'rxjs';
import { defineStage } from '../core/stage.js';
import type { KindPreserving } from '../core/image/typing.js';
import { InputError } from '../core/errors.js';
import { isHandingOver, takenVariant, maxOf, scalePlanes, scalePlanesInPlace } from '../core/image/planes.js';
import type { Image, ImageBatch } from '../core/ports.js';

export type NormalizeBy = 'max' | 'dtype';

/**
 * The scale normalize divides `img` by: its maximum (`max`, or the batch's) or its range (`dtype`:
 * 255, or 65535 for a 16-bit image); an InputError when the image cannot be normalized. Writes nothing.
 */
function scaleOf(img: Image, by: NormalizeBy, batchMax?: number): number {
  if (img.normalization && img.normalization.method !== 'none') {
    throw new InputError(`image ${img.name} is already normalized (by ${img.normalization.method})`, 'remove the second normalize step');
  }
  if (img.centering?.some((c) => c.mode !== 'none')) throw new InputError(`image ${img.name} is centred; normalize before center`, 'put normalize before center');
  const scale = by === 'dtype' ? img.range[1] : (batchMax ?? maxOf(img.planes));
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new InputError(`cannot normalize ${img.name} by its maximum: the maximum is ${scale} (the image is all zero)`, `use by: dtype to divide by the ${img.bitDepth === 16 ? '16-bit range (65535)' : '8-bit range (255)'}`);
  }
  return scale;
}

/** `img` divided by `scale` (from scaleOf): new planes, or with `inPlace` its own (the same bits either way). */
function scaled(img: Image, by: NormalizeBy, scale: number, inPlace: boolean): Image {
  return { ...img, planes: inPlace ? scalePlanesInPlace(img.planes, scale) : scalePlanes(img.planes, scale), range: [0, 1], normalization: { method: by, scale } };
}

/**
 * Divides the planes by the image's maximum (`max`) or by its range (`dtype`: 255, 65535 at 16 bits): new
 * planes, or with `inPlace` the image's own (only for an image nobody else holds: see planes.ts;
 * the values are the same bits either way).
 */
export function normalizeImage(img: Image, by: NormalizeBy, batchMax?: number, inPlace = false): Image {
  return scaled(img, by, scaleOf(img, by, batchMax), inPlace);
}

const normalizeStage = defineStage({
  name: 'normalize',
  summary: 'Scale image values to floats in [0, 1] (by the maximum or by the 8/16-bit range), remembering how',
  description: [
    'by: max divides by the largest value (over all planes; over the whole batch with perBatch: true), as the seed',
    'exercise does; by: dtype divides by 255 (65535 for a 16-bit PNG or TIFF). The scale is kept in `normalization`',
    'so that encode and reports map values back to the source\'s 8 or 16 bits.',
  ].join('\n'),
  example: '- stage: normalize\n  params: { by: max }',
  input: ['Image', 'ImageBatch'] as const,
  output: ['Image', 'ImageBatch'] as const,
  outputKinds: (_params, input) => input,
  params: z.strictObject({
    by: z.enum(['max', 'dtype']).default('max').describe('max: divide by the largest value; dtype: divide by the range of the source\'s depth (255; 65535 at 16 bits)'),
    perBatch: z.boolean().default(false).describe('for an ImageBatch with by: max, one maximum for the whole batch instead of one per image'),
  }),
  // A value its producer handed over (load's fresh images), reaching this step alone (the run's only
  // reader of it, or piped straight onto load from code), is scaled in place: no second copy of
  // every plane (12.5 MB of fresh memory for the 22 stamps). Anything else is copied, as before.
  operator: (params, ctx) => (source) => {
    // from code, straight onto load: by dtype, subscribe to load's variant that divides the planes
    // by 255 as it fills them (one pass, in cache); the values are those computed below, bit for bit
    // (in a run, as load's sole reader, load makes the same variant: its values come divided)
    const divided = params.by === 'dtype' ? takenVariant(source, ctx, 'divided', 255) : undefined;
    if (divided) {
      // load divided a 16-bit image by 255 · 257 = 65535 (its own range)
      const label = (im: Image): Image => ({ ...im, range: [0, 1], normalization: { method: 'dtype', scale: im.bitDepth === 16 ? 65535 : 255 } });
      return divided.pipe(map((v): Image | ImageBatch => (v.kind === 'Image' ? label(v) : { ...v, images: v.images.map(label) })));
    }
    const alone = ctx.inputExclusive === true || isHandingOver(source);
    return source.pipe(
      map((v): Image | ImageBatch => {
        if (v.kind === 'Image') return normalizeImage(v, params.by, undefined, alone);
        const m = params.by === 'max' && params.perBatch ? Math.max(...v.images.map((im) => maxOf(im.planes))) : undefined;
        // every image's scale first: an image that cannot be normalized stops the step before any is written
        const scales = v.images.map((im) => scaleOf(im, params.by, m));
        return { ...v, images: v.images.map((im, i) => scaled(im, params.by, scales[i]!, alone)) };
      }),
    );
  },
});

/** The stage; from code it returns the kind it is given (Image → Image, …). */
export const normalize = normalizeStage as KindPreserving<typeof normalizeStage, Image | ImageBatch>;
