/**
 * unstack: a Matrix made by `stack` (or rebuilt from its factorization) back into images.
 *
 * ```yaml
 * - { id: approx, stage: unstack, input: recon }
 * ```
 */
import { z } from 'zod';
import { map } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import { unstackColumns } from '../core/pca/stack.js';

export const unstack = defineStage({
  name: 'unstack',
  summary: 'Split a stacked d x n Matrix back into an ImageBatch (one image per column)',
  description: [
    'Inverse of stack: uses the layout the matrix carries (size, colour, range, names).',
    'A matrix that is still centred (center mode row) gets its mean image added back unless',
    'mean: keep. One ImageBatch per incoming matrix, named like it (e.g. X-r3 from reconstruct).',
  ].join('\n'),
  example: `- { id: recon, stage: reconstruct, input: svd, params: { rank: [1, 3, 10], clamp: true } }\n- { id: approx, stage: unstack, input: recon }`,
  input: 'Matrix',
  output: 'ImageBatch',
  params: z.strictObject({
    mean: z.enum(['add', 'keep']).default('add').describe('add: add back a row mean the matrix still carries; keep: leave the values centred'),
    clamp: z.boolean().default(false).describe("clamp values to the images' range (e.g. [0, 1])"),
  }),
  operator: (params) =>
    map((mv) => {
      if (!mv.layout) {
        throw new InputError(
          `matrix '${mv.name}' (${mv.matrix.rows} x ${mv.matrix.cols}) has no image layout, so its columns cannot be turned back into images`,
          'unstack a matrix made by stack, or by reconstruct from the svd of one',
        );
      }
      const c = mv.centering;
      let add: Float64Array | undefined;
      if (params.mean === 'add' && c && c.mode !== 'none') {
        if (c.mode === 'column') throw new InputError(`matrix '${mv.name}' is centred by column (one mean per image); unstack can only add back a row mean (the mean image)`, 'use center { mode: row } on the stacked matrix, or unstack with mean: keep');
        add = c.mode === 'row' ? c.mean : new Float64Array(mv.matrix.rows).fill(c.mean[0]!);
      }
      const images = unstackColumns(mv.matrix, mv.layout, { add, clamp: params.clamp });
      return { kind: 'ImageBatch' as const, name: mv.name, width: mv.layout.width, height: mv.layout.height, color: mv.layout.color, images };
    }),
});
