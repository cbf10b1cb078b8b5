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
import { defineStage } from '../core/stage.js';
import type { KindPreserving } from '../core/image/typing.js';
import { poolMap } from '../core/pool/index.js';
import { INLINE_VALUES } from '../core/pool/tasks/images.js';
import { centerInPool } from '../core/pca/pooled.js';
import { valueSize } from '../core/image/center.js';
import { isHandingOver, takenVariant } from '../core/image/planes.js';
import type { Image, ImageBatch, MatrixValue } from '../core/ports.js';

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
  // the mean image removed from n images leaves n - 1 components
  collection: (p, c) => (p.mode === 'row' ? { ...c, components: Math.min(c.components, c.images - 1) } : c),
  params: z.strictObject({
    mode: z.enum(['global', 'row', 'column']).default('global').describe('which mean: global (one number), row (one per row) or column (one per column)'),
  }),
  // A matrix its producer handed over (stack's fresh matrix), reaching this step alone (the run's only
  // reader of it, or piped straight onto stack from code), is centred in place: no second 12.5 MB of
  // fresh memory for the 22 stamps. Anything else (a kept matrix, a fan-out) gets a new matrix.
  operator: (params, ctx) => (source) => {
    // straight onto stack (from code): subscribe to stack's variant that centres each row as it stacks it
    // (one pass, the same bits and centering as below); the stack itself is then never made
    // (in a run, as stack's sole reader, stack makes the same variant: its matrices come centred)
    const fused = params.mode === 'row' ? takenVariant(source, ctx, 'centredRows') : undefined;
    if (fused) return fused;
    const alone = ctx.inputExclusive === true || isHandingOver(source);
    return source.pipe(
      poolMap(async (v: Image | ImageBatch | MatrixValue, signal): Promise<Image | ImageBatch | MatrixValue> => {
        const inPlace = alone && v.kind === 'Matrix';
        // in the compute pool when large (a memory-bound loop over every value); row means of a large matrix split over its threads
        // a line on a terminal for large values (it shows the time spent until the task returns)
        const bar = valueSize(v) >= 1e7 ? ctx.progress({ label: `${ctx.stepId}: centring`, percent: true, total: 1 }) : undefined;
        const out = await centerInPool(v, params.mode, { signal, inline: valueSize(v) < INLINE_VALUES, inPlace });
        bar?.done();
        if (out.kind === 'Image') ctx.log.info({ mode: params.mode, mean: params.mode === 'global' ? out.centering!.map((c) => c.mean[0]) : undefined }, 'centred');
        return out;
      }, ctx),
    );
  },
});

/** The stage; from code it returns the kind it is given (Image → Image, …). */
export const center = centerStage as KindPreserving<typeof centerStage, Image | ImageBatch | MatrixValue>;
