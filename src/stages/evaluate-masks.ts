/**
 * evaluate-masks: scores foreground masks against CDnet ground truth by CDnet's
 * rules (frames in temporalROI.txt, pixels in ROI.bmp, 255 foreground, 0 and 50
 * background, 85 and 170 not scored): precision, recall, F-measure, PWC.
 * Emits Metrics, writes them as JSON and logs a table.
 *
 * ```yaml
 * - stage: evaluate-masks
 *   params: { groundTruth: ../shared/data/cdnet/highway }
 * ```
 */
import { z } from 'zod';
import { Observable, concat, defer, from } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { boundedConcatMap } from '../core/flow.js';
import { InputError } from '../core/errors.js';
import type { FrameBatch, Metrics } from '../core/ports.js';
import { openGroundTruth, readGroundTruthFrame, checkRoi, type GroundTruth } from '../core/video/io/cdnet.js';
import { accumulate, emptyConfusion, scores, scoreTable, type Confusion } from '../core/video/score.js';
import { stitchScores } from '../core/video/io/stitch.js';

export { scoreTable };
import { clearCheckpoints, readProgress, PROGRESS_FILE } from '../core/video/io/checkpoints.js';
import { join } from 'node:path';

export const evaluateMasks = defineStage({
  name: 'evaluate-masks',
  summary: 'Score masks against CDnet ground truth: precision, recall, F-measure, PWC',
  example: `- stage: evaluate-masks\n  params: { groundTruth: ../shared/data/cdnet/highway }`,
  input: 'FrameBatch',
  output: 'Metrics',
  params: z.strictObject({
    groundTruth: z.string().min(1).describe('CDnet video folder (holds groundtruth/, ROI.bmp, temporalROI.txt)'),
    pattern: z.string().min(1).default('groundtruth/gt%06d.png').describe('ground-truth file pattern inside that folder; %06d is the frame number'),
    path: z.string().min(1).default('scores.json').describe('JSON file under --out'),
    print: z.boolean().default(true).describe('print the score table on stderr'),
  }),
  inputFiles: (p) => [p.groundTruth],
  segments: { stitch: stitchScores },
  operator: (p, ctx) => (source: Observable<FrameBatch>) => {
    let gt: GroundTruth | undefined;
    let roi: Uint8Array | undefined;
    let c = emptyConfusion();
    let frames = 0;
    let resumeNext = -Infinity;
    let seen: [number, number] | undefined;
    const step = async (b: FrameBatch) => {
      if (!gt) {
        gt = openGroundTruth(ctx.resolveInput(p.groundTruth), p.pattern);
        roi = checkRoi(gt, b.width, b.height);
        if (!ctx.resume) clearCheckpoints(ctx.checkpointDir);
        else {
          const prog = readProgress(ctx.checkpointDir) as { next: number; counts: Confusion; frames: number } | undefined;
          if (prog) ({ next: resumeNext, counts: c, frames } = prog);
        }
      }
      if (!b.mask) throw new InputError('these frame batches have no mask', 'put background-model before evaluate-masks');
      const px = b.width * b.height;
      seen = [Math.min(seen?.[0] ?? Infinity, b.start), b.start + b.count - 1];
      for (let i = 0; i < b.count; i++) {
        const n = b.start + i;
        if (n < resumeNext) continue;
        const g = await readGroundTruthFrame(gt, n, b.width, b.height);
        if (!g) continue;
        accumulate(c, b.mask.subarray(i * px, (i + 1) * px), g, roi);
        frames++;
      }
      if (b.start + b.count > resumeNext) await ctx.outputs.writeNow(join(ctx.checkpointDir, PROGRESS_FILE), JSON.stringify({ next: b.start + b.count, counts: c, frames }));
    };
    const finish = () =>
      defer(async (): Promise<Metrics[]> => {
        if (!gt) throw new InputError('evaluate-masks received no frames', 'check the steps before it');
        if (!frames && !ctx.segment) {
          throw new InputError(`no ground-truth frame matched frames ${seen?.[0]}..${seen?.[1]} in ${gt.dir} (evaluation window ${gt.first}..${gt.last}, pattern ${p.pattern})`, 'decode the frames the ground truth covers (start/end), or fix pattern');
        }
        const s = scores(c);
        const m: Metrics = { kind: 'Metrics', name: 'mask-scores', values: { ...s, frames, tp: c.tp, fp: c.fp, tn: c.tn, fn: c.fn, groundTruth: p.groundTruth } };
        const table = scoreTable(p.groundTruth, c, frames);
        ctx.log.info({ ...s, frames }, table);
        if (p.print) process.stderr.write(table + '\n');
        await ctx.writeFile(p.path, JSON.stringify(m.values, null, 2) + '\n', { format: 'json', description: 'mask scores (CDnet rules)' });
        return [m];
      });
    return new Observable<Metrics>((sub) =>
      concat(source.pipe(boundedConcatMap((b: FrameBatch) => from(step(b).then(() => [] as Metrics[])), ctx.flow, { highWaterMark: 2 })), finish()).subscribe({
        next: (r) => r.forEach((x) => sub.next(x)),
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      }),
    );
  },
});
