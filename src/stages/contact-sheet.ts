/**
 * contact-sheet: one PNG with every incoming image batch as a labelled row of thumbnails.
 *
 * ```yaml
 * - { id: grid-sheet, stage: contact-sheet, input: grid, params: { columns: 5, path: grid.png } }
 * ```
 */
import { z } from 'zod';
import { toArray, concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { sheetParams } from '../core/params.js';
import { contactSheet } from '../core/image/collage.js';

export const contactSheetStage = defineStage({
  name: 'contact-sheet',
  summary: 'Draw incoming image batches as one PNG: a labelled row of thumbnails per batch',
  description: [
    'Collects every ImageBatch from its input, then writes one sheet: one row per batch, labelled',
    'with the batch name, and the image names above the columns. Rows longer than columns wrap',
    'into bands (e.g. columns: 5 lays a 5 x 5 generate grid out as a square). To compare',
    'reconstructions with the originals, use compare-sheet.',
  ].join('\n'),
  example: `- { id: grid, stage: generate, input: svd, params: { from: grid, steps: 5 } }\n- { id: grid-sheet, stage: contact-sheet, params: { columns: 5, path: grid.png } }`,
  input: 'ImageBatch',
  output: 'File',
  params: z.strictObject(sheetParams('{name}-sheet.png', 'PNG file under --out; {name} is the first batch name', 'title printed at the top; {name} is the first batch name')),
  operator: (params, ctx) => (source) =>
    source.pipe(
      toArray(),
      concatMap(async (batches) => {
        const rows = batches.map((b) => ({ label: b.name, images: b.images, grid: b.grid }));
        const title = params.title?.replaceAll('{name}', batches[0]?.name ?? ctx.stepId);
        const { png, layout } = await contactSheet(rows, { title, columns: params.columns, scale: params.scale, names: params.names });
        const rel = params.path.replaceAll('{name}', batches[0]?.name ?? ctx.stepId);
        return ctx.writeFile(rel, png, { format: 'png', description: `contact sheet ${layout.width}x${layout.height}: ${rows.map((r) => `${r.label} (${r.images.length})`).join(', ')}` });
      }),
    ),
});
