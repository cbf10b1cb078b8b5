/**
 * background-model: low-rank background, foreground and masks for a stream of
 * frame batches, with the core's incremental SVD (streaming) or one exact SVD of
 * all frames (batch). Streaming saves its state every `checkpointEvery` frames;
 * `--resume` continues from it (rules in core/video/resume.ts).
 *
 * ```yaml
 * - stage: background-model
 *   params: { rank: 2, forget: 0.9, threshold: 0.12, modelScale: 0.5, updateEvery: 3 }
 * ```
 * @see batch-frames, write-video, evaluate-masks
 */
import { z } from 'zod';
import { Observable, defer, from, toArray, mergeMap, filter, finalize } from 'rxjs';
import { boundedConcatMap } from '../core/flow.js';
import { defineStage } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import type { FrameBatch } from '../core/ports.js';
import { MODEL_SCALES } from '../core/video/background.js';
import { batchModel } from '../core/video/batch.js';
import { ModelStream } from '../core/video/model-stream.js';
import { warmModelThread } from '../core/video/io/model-thread.js';
import { FileModelStore } from '../core/video/io/checkpoints.js';

/** params both modes use */
const shared = {
  rank: z.number().int().min(1).max(20).default(2).describe('rank of the background subspace'),
  threshold: z.number().gt(0).max(1).default(0.12).describe('residual |frame − background| (0..1) above which a pixel is foreground'),
  open: z.number().int().min(0).max(5).default(1).describe('radius of the morphological opening of the mask (removes specks); 0 = none'),
  close: z.number().int().min(0).max(8).default(4).describe('radius of the closing of the mask (fills holes); 0 = none'),
  background: z.boolean().default(true).describe('emit the background layer (Float32, 4 bytes per pixel and frame); false when only masks are used (less memory)'),
  foreground: z.boolean().default(false).describe('also emit the foreground layer (frame − background); writers compute it when absent'),
};
const streamingOnly = {
  forget: z.number().gt(0).max(1).default(0.9).describe('forgetting factor per batch (1 = remember everything; 0.9 with 30-frame batches ≈ 300 frames of memory)'),
  adaptive: z.number().min(0).default(0).describe('per-pixel threshold max(threshold, adaptive·σ) with σ the running residual std; 0 = off'),
  robust: z.boolean().default(true).describe('fit the background with the pixels that look like foreground replaced, and update the model with the foreground replaced by the background'),
  updateEvery: z.number().int().min(1).default(3).describe('update the model with every k-th frame only (masks are still computed for every frame; 3 keeps the CDnet F-measures and takes a third of the update time)'),
  modelScale: z.literal(MODEL_SCALES).default(0.5).describe('fit the low-rank part on frames box-downsampled by this factor (1, 0.5 or 0.25; the mean and the masks stay at full resolution): 0.5 = 4x fewer values in the SVD update'),
  checkpointEvery: z.number().int().min(0).default(300).describe('save the model state every this many frames (0 = never)'),
  seedWindow: z.number().int().min(0).default(150).describe('once this many frames have passed, re-seed the model from the median of up to 45 frames spread over them (0 = keep the first batch\'s median): a parked or slow object in the first batch otherwise stays as a ghost that the robust update never removes; segments (--workers) start the same way'),
  warmup: z.number().int().min(0).default(450).describe('--workers N: frames before each segment that fit the model before it emits masks (rounded up to whole batches; 450 ≈ 30 batches of 15, where forget 0.9 leaves 4% of the start)'),
};
/** a key the batch mode refuses, saying why */
const notInBatch = (key: string) => z.never({ error: `${key} applies to mode: streaming only (batch mode fits one exact SVD of all frames; it has no forgetting, robust refit, update interval, model grid, adaptive threshold, checkpoints or segment warm-up)` }).optional();

const params = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('streaming').default('streaming').describe('streaming: incremental SVD in bounded memory; batch: one exact SVD of all frames (short clips)'),
    ...shared,
    ...streamingOnly,
  }),
  z.strictObject({
    mode: z.literal('batch').describe('one exact SVD of all frames (short clips; memory grows with the clip)'),
    ...shared,
    maxBatchValues: z.number().int().min(1).default(50_000_000).describe('refuse more than this many values (frames x pixels)'),
    ...Object.fromEntries(Object.keys(streamingOnly).map((k) => [k, notInBatch(k)])),
  }),
]);

export const backgroundModel = defineStage({
  name: 'background-model',
  summary: 'Low-rank background, foreground and masks of frame batches (incremental SVD, or one exact SVD)',
  description:
    'Streaming: Brand incremental SVD with a running mean and a forgetting factor; warm-up on the first batch\'s median, then one re-seed after seedWindow frames (default 150) from the median of frames spread over them. ' +
    'The low-rank part is fitted on frames box-downsampled by modelScale (default 0.5) while the mean stays at full resolution, ' +
    'so background = full-resolution mean + bilinear upsampling of the low-rank variation; masks are computed at full resolution. ' +
    'Robust: the coefficients are fitted with foreground-looking pixels replaced, and the model is updated (every updateEvery-th frame, default 3) ' +
    'with the final mask\'s pixels replaced by the background. Masks: |frame − background| > threshold (optionally per-pixel adaptive), then opening/closing. ' +
    'Memory: frames stay 8-bit; the background travels as the batch mean + each frame\'s small deviation, made into bytes for encoders and into Float32 only when a step reads it (set background: false when only masks are used); only the small update block is Float64. ' +
    'Checkpoints every checkpointEvery frames for --resume. Batch mode (mode: batch) takes rank, threshold, open, close and maxBatchValues, and refuses the streaming-only params.',
  example: `- stage: background-model\n  params: { rank: 2, forget: 0.9, threshold: 0.1 }`,
  input: 'FrameBatch',
  output: 'FrameBatch',
  params,
  segments: 'stream',
  operator: (p, ctx) => (source: Observable<FrameBatch>) => {
    if (p.mode === 'batch') {
      if (ctx.segment) throw new InputError('background-model mode: batch cannot run in segments (--workers): it fits one SVD of all frames', 'use mode: streaming, or --workers 1');
      return source.pipe(toArray(), mergeMap((batches) => from(batchModel(batches, p))));
    }
    return defer(() => {
      const store = new FileModelStore(ctx.checkpointDir, (f, d) => ctx.outputs.writeNow(f, d), ctx.consumers);
      const thread = warmModelThread();
      const model = new ModelStream({ ...p, emitFrom: ctx.segment?.start }, store, ctx.resume, (resumeAt, file) => ctx.log.info({ resumeAt, file }, 'resumed from checkpoint'), thread.runner);
      return source.pipe(
        boundedConcatMap((b: FrameBatch) => model.push(b), ctx.flow, { highWaterMark: 2 }),
        filter((b): b is FrameBatch => b !== undefined),
        finalize(() => void Promise.all([model.close(), thread.close()])),
      );
    });
  },
});
