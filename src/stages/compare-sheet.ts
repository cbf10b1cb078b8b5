/**
 * compare-sheet: originals against their reconstructions, one row each, with errors.
 *
 * ```yaml
 * - { id: compare, stage: compare-sheet, input: approx, inputs: { originals: images } }
 * ```
 */
import { z } from 'zod';
import { toArray, concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { sheetParams } from '../core/params.js';
import { InputError } from '../core/errors.js';
import { contactSheet } from '../core/image/collage.js';
import type { Image, ImageBatch } from '../core/ports.js';

/** ‖B - O‖_F / ‖O‖_F over all planes of all images. */
export function batchRelativeError(b: Image[], o: Image[]): number {
  let num = 0, den = 0;
  o.forEach((im, j) => {
    im.planes.forEach((p, c) => {
      const q = b[j]!.planes[c]!;
      for (let y = 0; y < p.rows; y++) {
        const pr = p.row(y), qr = q.row(y);
        for (let x = 0; x < p.cols; x++) {
          const d = qr[x]! - pr[x]!;
          num += d * d;
          den += pr[x]! * pr[x]!;
        }
      }
    });
  });
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

function check(b: ImageBatch, o: ImageBatch): void {
  if (b.images.length !== o.images.length || b.width !== o.width || b.height !== o.height || b.images[0]?.planes.length !== o.images[0]?.planes.length) {
    throw new InputError(
      `batch '${b.name}' (${b.images.length} images, ${b.width}x${b.height} ${b.color}) does not match the originals '${o.name}' (${o.images.length} images, ${o.width}x${o.height} ${o.color})`,
      'give originals: the step whose images were stacked (e.g. the normalize step before stack)',
    );
  }
}

export const compareSheet = defineStage({
  name: 'compare-sheet',
  summary: 'Draw originals against reconstructions (one row per incoming batch) with relative errors, as one PNG',
  description: [
    'First row: the originals (side input originals); then one row per incoming ImageBatch',
    '(e.g. X-r1, X-r3, X-r10 from reconstruct + unstack), labelled with its name and its relative',
    'error ‖B - O‖_F / ‖O‖_F against the originals over the whole batch. Images are matched by position.',
  ].join('\n'),
  example: `- { id: compare, stage: compare-sheet, input: approx, inputs: { originals: images }, params: { columns: 11, path: reconstructions.png } }`,
  input: 'ImageBatch',
  output: 'File',
  sides: { originals: 'ImageBatch' },
  params: z.strictObject(sheetParams('compare.png', 'PNG file under --out', 'title printed at the top')),
  operator: (params, ctx, sides) => (source) =>
    source.pipe(
      toArray(),
      concatMap(async (batches) => {
        const o = sides.originals;
        const rows = [{ label: 'original', images: o.images, note: undefined as string | undefined }];
        const errors: Record<string, number> = {};
        for (const b of batches) {
          check(b, o);
          const e = batchRelativeError(b.images, o.images);
          errors[b.name] = e;
          rows.push({ label: b.name, images: b.images, note: `rel. error ${e.toFixed(3)}` });
        }
        ctx.log.info({ errors }, 'relative errors against the originals');
        const { png, layout } = await contactSheet(rows, { title: params.title, columns: params.columns, scale: params.scale, names: params.names });
        const desc = `originals vs ${batches.map((b) => `${b.name} (rel. error ${errors[b.name]!.toFixed(4)})`).join(', ')}; ${layout.width}x${layout.height}`;
        return ctx.writeFile(params.path, png, { format: 'png', description: desc });
      }),
    ),
});
