/**
 * background-model: low-rank background, foreground and masks for a stream of
 * frame batches, with the core's incremental SVD (streaming) or one exact SVD of
 * all frames (batch). Saves its state every `checkpointEvery` frames; `--resume`
 * continues from it (see core/video/checkpoint.ts for the rule).
 *
 * ```yaml
 * - stage: background-model
 *   params: { rank: 2, forget: 0.9, threshold: 0.12, modelScale: 0.5, updateEvery: 3 }
 * ```
 * @see batch-frames, write-video, evaluate-masks
 */
import { z } from 'zod';
import { Observable, from, toArray, mergeMap } from 'rxjs';
import { boundedConcatMap } from '../core/flow.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unlink } from 'node:fs/promises';
import { defineStage, type StageContext } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import { Matrix } from '../core/linalg/matrix.js';
import type { FrameBatch } from '../core/ports.js';
import { StreamingBackground, batchBackground, masksFor, type StreamingOptions } from '../core/video/background.js';
import { clearCheckpoints, decodeState, encodeState, listStates, peersNext, stateName } from '../core/video/checkpoint.js';

const params = z.strictObject({
  mode: z.enum(['streaming', 'batch']).default('streaming').describe('streaming: incremental SVD in bounded memory; batch: one exact SVD of all frames (short clips)'),
  rank: z.number().int().min(1).max(20).default(2).describe('rank of the background subspace'),
  forget: z.number().gt(0).max(1).default(0.9).describe('forgetting factor per batch (1 = remember everything; 0.9 with 30-frame batches ≈ 300 frames of memory)'),
  threshold: z.number().gt(0).max(1).default(0.12).describe('residual |frame − background| (0..1) above which a pixel is foreground'),
  adaptive: z.number().min(0).default(0).describe('per-pixel threshold max(threshold, adaptive·σ) with σ the running residual std; 0 = off'),
  open: z.number().int().min(0).max(5).default(1).describe('radius of the morphological opening of the mask (removes specks); 0 = none'),
  close: z.number().int().min(0).max(8).default(4).describe('radius of the closing of the mask (fills holes); 0 = none'),
  robust: z.boolean().default(true).describe('fit the background with the pixels that look like foreground replaced, and update the model with the foreground replaced by the background'),
  updateEvery: z.number().int().min(1).default(3).describe('update the model with every k-th frame only (masks are still computed for every frame; 3 keeps the CDnet F-measures and takes a third of the update time)'),
  modelScale: z.union([z.literal(1), z.literal(0.5), z.literal(0.25)]).default(0.5).describe('fit the low-rank part on frames box-downsampled by this factor (the mean and the masks stay at full resolution): 0.5 = 4x fewer values in the SVD update'),
  background: z.boolean().default(true).describe('emit the background layer (Float32, 4 bytes per pixel and frame); false when only masks are used (less memory)'),
  foreground: z.boolean().default(false).describe('also emit the foreground layer (frame − background); writers compute it when absent'),
  checkpointEvery: z.number().int().min(0).default(300).describe('save the model state every this many frames (0 = never)'),
  maxBatchValues: z.number().int().min(1).default(50_000_000).describe('batch mode: refuse more than this many values (frames x pixels)'),
});
type Params = z.output<typeof params>;

function streaming(p: Params, ctx: StageContext) {
  return (source: Observable<FrameBatch>) =>
    new Observable<FrameBatch>((sub) => {
      let model: StreamingBackground | undefined;
      let skipBefore = -Infinity;
      let ready = false;
      const opts = (b: FrameBatch): StreamingOptions => ({ ...p, width: b.width, height: b.height, channels: b.channels });
      const setup = (b: FrameBatch) => {
        if (!ctx.resume) {
          clearCheckpoints(ctx.checkpointDir);
          return;
        }
        const limit = peersNext(ctx.checkpointDir) ?? Infinity;
        const st = listStates(ctx.checkpointDir).find((s) => s.next <= limit);
        if (!st) return;
        model = StreamingBackground.fromState(opts(b), decodeState(readFileSync(st.file)));
        skipBefore = st.next;
        ctx.log.info({ resumeAt: st.next, file: st.file }, 'resumed from checkpoint');
      };
      return source
        .pipe(
          boundedConcatMap(async (b: FrameBatch) => {
            if (!ready) {
              setup(b);
              ready = true;
            }
            const end = b.start + b.count;
            if (end <= skipBefore) return undefined;
            if (b.start < skipBefore) throw new InputError(`cannot resume at frame ${skipBefore}: batch ${b.start}..${end - 1} straddles it`, 'use the same batch size as the interrupted run, or run without --resume');
            model ??= new StreamingBackground(opts(b));
            if (model.dim !== b.width * b.height * b.channels) throw new InputError(`frame size changed to ${b.width}x${b.height}x${b.channels}`, 'decode with one size');
            const { background, mask } = model.process(b.frames, b.count, p.background || p.foreground);
            const out: FrameBatch = { ...b, mask };
            if (p.foreground) out.foreground = foregroundOf(b.frames, background!);
            if (p.background) out.background = background;
            if (p.checkpointEvery > 0 && Math.floor(end / p.checkpointEvery) > Math.floor(b.start / p.checkpointEvery)) {
              await ctx.outputs.writeNow(join(ctx.checkpointDir, stateName(end)), encodeState(model.toState()));
              // keep every state a resume could need: the newest one at or before the slowest
              // consumer's progress, and all newer ones (the model may run several batches ahead)
              const states = listStates(ctx.checkpointDir);
              const limit = peersNext(ctx.checkpointDir);
              const keep = limit === undefined ? 4 : Math.max(1, states.findIndex((s) => s.next <= limit) + 1 || states.length);
              for (const old of states.slice(keep)) await unlink(old.file).catch(() => undefined);
            }
            return out;
          }, ctx.flow, { highWaterMark: 2 }),
        )
        .subscribe({
          next: (v) => v && sub.next(v),
          error: (e) => sub.error(e),
          complete: () => sub.complete(),
        });
    });
}

function batch(p: Params) {
  return (source: Observable<FrameBatch>) =>
    source.pipe(
      toArray(),
      mergeMap((batches) => {
        if (!batches.length) return from([]);
        const b0 = batches[0]!;
        const n = batches.reduce((s, b) => s + b.count, 0);
        const d = b0.width * b0.height * b0.channels;
        if (n * d > p.maxBatchValues) throw new InputError(`batch mode needs all ${n} frames of ${d} values in memory (${n * d} values > maxBatchValues ${p.maxBatchValues})`, "use mode: streaming, decode with a smaller scale, or a shorter range (start/end)");
        const frames = new Uint8Array(n * d);
        let r = 0;
        for (const b of batches) {
          frames.set(b.frames.subarray(0, b.count * d), r * d);
          r += b.count;
        }
        const X = new Matrix(n, d);
        for (let i = 0; i < X.data.length; i++) X.data[i] = frames[i]! / 255;
        const B = batchBackground(X, p.rank);
        const mask = masksFor(frames, B, n, b0.width, b0.height, b0.channels, p);
        const px = b0.width * b0.height;
        r = 0;
        return from(
          batches.map((b) => {
            const background = B.slice(r * d, (r + b.count) * d);
            const out: FrameBatch = { ...b, mask: mask.slice(r * px, (r + b.count) * px) };
            if (p.background) out.background = background;
            if (p.foreground) out.foreground = foregroundOf(b.frames, background);
            r += b.count;
            return out;
          }),
        );
      }),
    );
}

function foregroundOf(frames: Uint8Array, background: Float32Array): Float32Array {
  const fg = new Float32Array(background.length);
  for (let i = 0; i < fg.length; i++) fg[i] = frames[i]! / 255 - background[i]!;
  return fg;
}

export const backgroundModel = defineStage({
  name: 'background-model',
  summary: 'Low-rank background, foreground and masks of frame batches (incremental SVD, or one exact SVD)',
  description:
    'Streaming: Brand incremental SVD with a running mean and a forgetting factor; warm-up on the first batch\'s median. ' +
    'The low-rank part is fitted on frames box-downsampled by modelScale (default 0.5) while the mean stays at full resolution, ' +
    'so background = full-resolution mean + bilinear upsampling of the low-rank variation; masks are computed at full resolution. ' +
    'Robust: the coefficients are fitted with foreground-looking pixels replaced, and the model is updated (every updateEvery-th frame, default 3) ' +
    'with the final mask\'s pixels replaced by the background. Masks: |frame − background| > threshold (optionally per-pixel adaptive), then opening/closing. ' +
    'Memory: frames stay 8-bit, the background is Float32 (set background: false when only masks are used), only the small update block is Float64; ' +
    '480x360 gray at the defaults: ~140 frames/s end to end with an H.264 mask video, peak RSS ~265 MiB. Checkpoints every checkpointEvery frames for --resume.',
  example: `- stage: background-model\n  params: { rank: 2, forget: 0.9, threshold: 0.1 }`,
  input: 'FrameBatch',
  output: 'FrameBatch',
  params,
  operator: (p, ctx) => (p.mode === 'batch' ? batch(p) : streaming(p, ctx)),
});
