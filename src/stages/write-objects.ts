/**
 * write-objects: the moving objects of each frame, from the masks: connected
 * components (8-connected; bounding box, area, centroid; at least minArea pixels)
 * as JSON Lines, one line per frame, plus a per-frame foreground-fraction CSV.
 * Streams: each batch's lines are appended as it arrives (bounded memory).
 *
 * ```yaml
 * - stage: write-objects
 *   params: { minArea: 50, path: objects.jsonl, csv: foreground.csv }
 * ```
 * @see background-model
 */
import { z } from 'zod';
import { defer, type Observable } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { writeThenFinish } from '../core/flow.js';
import { InputError } from '../core/errors.js';
import type { FileRef, FrameBatch } from '../core/ports.js';
import { ComponentLabeler, foregroundFraction, frameLine } from '../core/video/components.js';
import { LineFiles } from '../core/video/io/line-files.js';
import { LiveLineWriter } from '../core/video/io/live-segments.js';
import { stitchLines } from '../core/video/io/stitch.js';

const CSV_HEADER = 'frame,foreground,objects\n';

export const writeObjects = defineStage({
  name: 'write-objects',
  summary: 'Connected components of the masks per frame (box, area, centroid) as JSON Lines, and a foreground-fraction CSV',
  description:
    'One JSON line per frame: {"frame":n,"foreground":fraction,"objects":[{"x","y","width","height","area","cx","cy"}]} ' +
    '(8-connected components of the mask with at least minArea pixels; box in pixels from the top left, centroid the mean pixel position). ' +
    'The CSV has frame,foreground,objects per frame. Lines are appended batch by batch (bounded memory); --resume continues the files.',
  example: `- stage: write-objects\n  input: model\n  params: { minArea: 50 }`,
  input: 'FrameBatch',
  output: 'File',
  params: z.strictObject({
    minArea: z.number().int().min(1).default(20).describe('smallest object kept, in pixels'),
    path: z.string().min(1).default('objects.jsonl').describe('JSON Lines file under --out'),
    csv: z.string().min(1).nullable().default('foreground.csv').describe('per-frame foreground fraction CSV under --out (null: none)'),
    liveSegments: z.number().int().min(1).nullable().default(null).describe('live inputs: commit the files in segments of this many frames (objects-00000.jsonl, foreground-00000.csv, ...) while the run goes on, listed in objects.segments.json; kept on Ctrl-C. null: whole files at the end'),
  }),
  segments: { stitch: stitchLines },
  operator: (p, ctx) => (source: Observable<FrameBatch>) =>
    defer(() => {
      let files: LineFiles | undefined;
      let labeler: ComponentLabeler | undefined;
      const names = { jsonl: p.path, ...(p.csv ? { csv: p.csv } : {}) };
      const live = p.liveSegments === null ? undefined : new LiveLineWriter(ctx.outputs, ctx.stepId, names, { csv: CSV_HEADER }, p.liveSegments);
      const step = async (b: FrameBatch) => {
        if (!b.mask) throw new InputError('these frame batches have no mask', 'put background-model before write-objects');
        if (!labeler || labeler.width !== b.width || labeler.height !== b.height) labeler = new ComponentLabeler(b.width, b.height);
        if (live) {
          for (let i = 0; i < b.count; i++) {
            const { jsonl, csv } = lines(labeler, b, i);
            await live.add(b.start + i, { jsonl, csv });
          }
          return;
        }
        files ??= await LineFiles.open(ctx.checkpointDir, { jsonl: p.path, csv: p.csv ?? undefined }, CSV_HEADER, b.start, ctx.resume, (f, d) => ctx.outputs.writeNow(f, d));
        const jsonl: string[] = [], csv: string[] = [];
        for (let i = 0; i < b.count; i++) {
          if (b.start + i < files.next) continue;
          const l = lines(labeler, b, i);
          jsonl.push(l.jsonl);
          csv.push(l.csv);
        }
        await files.append(b.start + b.count, { jsonl: jsonl.join(''), csv: csv.join('') });
      };
      const lines = (labeler: ComponentLabeler, b: FrameBatch, i: number) => {
        const px = b.width * b.height, n = b.start + i;
        const objects = labeler.label(b.mask!, i * px, p.minArea);
        const f = foregroundFraction(b.mask!, i * px, px);
        return { jsonl: frameLine(n, f, objects), csv: `${n},${f.toFixed(6)},${objects.length}\n` };
      };
      const finish = async (): Promise<FileRef[]> => {
        if (live) return [await live.complete()];
        if (!files) throw new InputError('write-objects received no frames', 'check the steps before it');
        return files.commit(ctx.outputs, ctx.stepId, { jsonl: 'objects per frame (JSON Lines)', csv: 'foreground fraction per frame' });
      };
      return writeThenFinish(source, ctx.flow, step, finish, () => void files?.close());
    }),
});
