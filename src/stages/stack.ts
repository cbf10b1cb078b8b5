/**
 * stack: an ImageBatch as one d x n Matrix, each image a column.
 *
 * ```yaml
 * - { id: X, stage: stack, input: images }
 * ```
 */
import { z } from 'zod';
import { defineStage } from '../core/stage.js';
import { poolMap } from '../core/pool/index.js';
import { INLINE_VALUES } from '../core/pool/tasks/images.js';
import { stackCentredInPool, stackInPool } from '../core/pca/pooled.js';
import { valueSize } from '../core/image/center.js';
import { handsOver } from '../core/image/planes.js';
import type { StageContext } from '../core/stage.js';
import type { MatrixValue } from '../core/ports.js';

/** In the context of the variant center { mode: row } subscribes to (see `stack` below): each batch stacked minus its mean image. */
const CENTRED = Symbol('svdflow.stack.centred');

const stackStage = defineStage({
  name: 'stack',
  // every matrix is new and the stage keeps no reference to it: its one reader may centre it in place
  handsOver: true,
  // center { mode: row } as its sole reader: each matrix stacked minus its mean image in one pass
  variants: { centredRows: () => ({ [CENTRED]: true }) },
  summary: 'Stack same-sized images as the columns of a d x n matrix (d = planes*height*width)',
  description: [
    'Each image becomes one column, vectorised plane by plane (planar): first the R (or gray)',
    'plane row by row, then G, then B. The matrix carries a layout (size, colour, range, one',
    'name per column), so unstack, reconstruct and the PCA stages map columns back to images.',
    'For 22 RGB stamps of 139 x 170 px, d = 139*170*3 = 70,890 and n = 22.',
  ].join('\n'),
  example: `- { id: X, stage: stack, input: images }\n- { id: centred, stage: center, params: { mode: row } }`,
  input: 'ImageBatch',
  output: 'Matrix',
  params: z.strictObject({
    name: z.string().min(1).optional().describe('name of the matrix (default: the batch name)'),
  }),
  operator: (params, ctx) =>
    poolMap(async (batch, signal) => {
      // in the compute pool when large (a memory-bound loop over every pixel of the batch), split over its threads when larger
      const big = valueSize(batch) >= 1e7, bar = big ? ctx.progress({ label: `${ctx.stepId}: stacking`, percent: true }) : undefined;
      const run = { signal, inline: valueSize(batch) < INLINE_VALUES, onProgress: bar?.set };
      const name = params.name ?? batch.name;
      // the centred variant: each row summed and written minus its mean in the same pass (the bits center gives)
      if ((ctx as { [CENTRED]?: boolean })[CENTRED]) {
        const { matrix, mean, layout } = await stackCentredInPool(batch.images, run);
        bar?.done();
        ctx.log.debug({ d: matrix.rows, n: matrix.cols }, 'stacked and centred (mean image)');
        return { kind: 'Matrix' as const, name, matrix, layout, centering: { mode: 'row' as const, mean } } satisfies MatrixValue;
      }
      const { matrix, layout } = await stackInPool(batch.images, run);
      bar?.done();
      ctx.log.debug({ d: matrix.rows, n: matrix.cols }, 'stacked');
      // a fresh matrix nobody else holds (handsOver below): its one reader may centre it in place
      return { kind: 'Matrix' as const, name, matrix, layout };
    }, ctx),
});

/**
 * The stage. From code, the observable its operator returns hands every value over (planes.ts
 * handsOver): an operator piped straight onto it, such as center, is the matrix's only holder and
 * may reuse its memory (each subscription stacks anew, so no two subscribers share a matrix). It
 * offers the variant `centredRows`, which center { mode: row } piped straight on subscribes to
 * instead: each matrix stacked minus its mean image in one pass, with the centering center attaches.
 */
export const stack = Object.assign(function stack(...[params, opts]: Parameters<typeof stackStage>) {
  const op = stackStage(params, opts);
  const centred = stackStage(params, { ...opts, ctx: { ...opts?.ctx, ...stackStage.def.variants!.centredRows!() } as Partial<StageContext> });
  return (source: Parameters<typeof op>[0]) => handsOver(op(source), { centredRows: () => centred(source) });
}, stackStage) as typeof stackStage;
