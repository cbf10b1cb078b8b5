/**
 * decode: frames of a video file (through ffmpeg, raw pipe with backpressure) or
 * of an image sequence such as CDnet's `input/in%06d.jpg`.
 *
 * ```yaml
 * - stage: decode
 *   params: { path: clip.mp4, color: gray, scale: 0.5 }
 * ```
 * @see batch-frames, background-model
 */
import { z } from 'zod';
import { defer, switchMap, tap, finalize } from 'rxjs';
import { dirname } from 'node:path';
import { defineStage } from '../core/stage.js';
import { planDecode, decodeFrames, isLiveInput } from '../core/video/io/decode.js';
import { isSequencePattern } from '../core/video/sequence.js';

export const decode = defineStage({
  name: 'decode',
  summary: 'Decode a video (ffmpeg) or an image sequence (in%06d.jpg) into frames, with backpressure',
  description:
    'Spawns ffmpeg with raw output (-f rawvideo, -vsync passthrough) and slices its stdout into frames; ' +
    'path - reads stdin and a URL is read by ffmpeg (live inputs: no frame count, no --resume or --workers). ' +
    'ffmpeg is paused while downstream stages are busy, so memory does not depend on the video length. ' +
    'Frame numbers (Frame.index) are 0-based for videos and the file numbers for image sequences.',
  example: `- stage: decode\n  params: { path: ../data/video/synthetic/clip.mp4, color: gray }`,
  input: null,
  output: 'Frame',
  params: z.strictObject({
    path: z.string().min(1).describe('video file, image-sequence pattern such as input/in%06d.jpg, - for stdin, or a stream URL ffmpeg reads (http://, rtsp://, udp://, tcp://...)'),
    color: z.enum(['gray', 'rgb']).default('gray').describe('decode to 8-bit gray or RGB'),
    scale: z.number().positive().max(8).optional().describe('resize factor applied after crop (e.g. 0.5)'),
    crop: z.strictObject({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().min(1), height: z.number().int().min(1) }).optional().describe('crop rectangle in source pixels'),
    fps: z.number().positive().optional().describe('resample to this frame rate'),
    start: z.number().int().min(0).optional().describe('first frame number (inclusive)'),
    end: z.number().int().min(0).optional().describe('last frame number (inclusive)'),
    loop: z.number().int().min(0).default(0).describe('play the input this many extra times (benchmarks)'),
  }),
  inputFiles: (p) => (isLiveInput(p.path) ? [] : [isSequencePattern(p.path) ? dirname(p.path) : p.path]),
  liveInput: (p) => (isLiveInput(p.path) ? p.path : undefined),
  segments: 'stream',
  source: (params, ctx) =>
    defer(() => planDecode({ ...params, path: isLiveInput(params.path) ? params.path : ctx.resolveInput(params.path), window: ctx.segment && { start: ctx.segment.warmupStart, end: ctx.segment.end } })).pipe(
      switchMap((plan) => {
        ctx.log.info({ width: plan.width, height: plan.height, fps: plan.fps, frames: plan.expected, codec: plan.info.codec }, 'decoding');
        const audio = plan.info.audio === true;
        if (audio) ctx.log.warn(`${params.path} has an audio track: the videos svdflow writes have none (the audio is not carried over)`);
        // a live input (stdin, a URL) has no frame count: the bar shows frames and frames/s
        const bar = ctx.progress({ total: plan.expected || undefined, unit: 'frames', label: ctx.stepId });
        const total = plan.expected || undefined;
        return decodeFrames(plan, params.path, { flow: ctx.flow, spawn: (c, a) => ctx.children.spawn(c, a) }).pipe(
          tap((f) => {
            f.fps = plan.fps || f.fps;
            f.total = total;
            if (audio) f.audio = true;
            bar.tick();
          }),
          finalize(() => bar.done()),
        );
      }),
    ),
});
