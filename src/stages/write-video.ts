/**
 * write-video: encodes one layer of the frame batches (mask, background,
 * foreground or frames) through ffmpeg's stdin, with backpressure.
 *
 * Resume: the video is encoded in segments of `segmentFrames` frames, each kept
 * in the step's checkpoint folder once complete; the output is the segments
 * joined by stream copy (core/video/video-segments.ts). A resumed run re-encodes
 * only the missing segments, and segment boundaries are absolute frame numbers,
 * so it yields the same file.
 *
 * ```yaml
 * - stage: write-video
 *   params: { layer: mask, path: mask.mp4 }
 * ```
 */
import { z } from 'zod';
import type { Observable } from 'rxjs';
import { extname } from 'node:path';
import { defineStage } from '../core/stage.js';
import { writeThenFinish } from '../core/flow.js';
import { InputError } from '../core/errors.js';
import type { FileRef, FrameBatch } from '../core/ports.js';
import { encodedSize, resolveCodec, type Codec } from '../core/video/io/encode.js';
import { SegmentedVideoWriter, type FrameShape } from '../core/video/io/segmented-video.js';
import { LiveVideoWriter } from '../core/video/io/live-segments.js';
import { stitchVideos } from '../core/video/io/stitch.js';
import { LAYERS, checkLayer, layerBytes, layerChannels, type Layer } from '../core/video/layers.js';

const FORMATS: Record<string, string> = { '.mp4': 'mp4', '.mkv': 'matroska', '.avi': 'avi', '.mov': 'mov' };

export const writeVideo = defineStage({
  name: 'write-video',
  summary: 'Encode one layer (mask, background, foreground, frames) as a video through ffmpeg, with backpressure',
  description: 'H.264 (libx264, ultrafast with CABAC) when this ffmpeg has it, else MPEG-4 part 2 (logged). Encoded in segments for --resume.',
  example: `- stage: write-video\n  params: { layer: mask, path: mask.mp4 }`,
  input: 'FrameBatch',
  output: 'File',
  params: z.strictObject({
    layer: z.enum(LAYERS as [Layer, ...Layer[]]).default('mask').describe('which picture to encode'),
    path: z.string().min(1).default('{layer}.mp4').describe('output file under --out (.mp4, .mkv, .avi, .mov); {layer} is the layer name'),
    codec: z.enum(['h264', 'mpeg4', 'ffv1']).default('h264').describe('h264 (libx264), mpeg4, or ffv1 (lossless, .mkv)'),
    crf: z.number().int().min(0).max(51).default(20).describe('H.264 quality (0 = lossless, 18-23 = good)'),
    segmentFrames: z.number().int().min(0).default(300).describe('encode in segments of this many frames, kept for --resume (0 = one piece, no resume)'),
    liveSegments: z.number().int().min(1).nullable().default(null).describe('live inputs: commit playable segment files of this many frames (mask-00000.mp4, ...) while the run goes on, listed in mask.segments.json; kept on Ctrl-C. null: one file at the end'),
  }),
  segments: { stitch: stitchVideos },
  operator: (p, ctx) => (source: Observable<FrameBatch>) => {
    const rel = p.path.replaceAll('{layer}', p.layer);
    const format = FORMATS[extname(rel).toLowerCase()];
    let writer: SegmentedVideoWriter | LiveVideoWriter | undefined;
    let shape: FrameShape | undefined;
    let closed = false;
    let audio = false;
    const open = () => {
      if (!format) throw new InputError(`write-video cannot tell the container of '${rel}'`, `end the path with one of ${Object.keys(FORMATS).join(', ')}`);
      if (p.codec === 'ffv1' && format !== 'matroska') throw new InputError(`ffv1 needs a .mkv file, got '${rel}'`, 'use path: something.mkv, or codec: h264');
      if (resolveCodec(p.codec).fallback) ctx.log.warn('this ffmpeg has no libx264: encoding MPEG-4 part 2 instead');
      const spawn = (cmd: string, args: readonly string[]) => ctx.children.spawn(cmd, args);
      if (p.liveSegments !== null) return new LiveVideoWriter({ outputs: ctx.outputs, step: ctx.stepId, rel, format, segmentFrames: p.liveSegments, codec: p.codec, crf: p.crf, spawn, description: `${p.layer} video segment` });
      return new SegmentedVideoWriter({ dir: ctx.checkpointDir, segmentFrames: p.segmentFrames, resume: ctx.resume, codec: p.codec, crf: p.crf, spawn, writeNow: (f, d) => ctx.outputs.writeNow(f, d) });
    };
    const write = async (b: FrameBatch) => {
      writer ??= open();
      if (b.audio) audio = true;
      checkLayer(b, p.layer);
      shape ??= { width: b.width, height: b.height, channels: layerChannels(b, p.layer), fps: b.fps ?? 25 };
      for (let i = 0; i < b.count && !closed; i++) await writer.write(b.start + i, (out) => layerBytes(b, p.layer, i, out), shape, () => !closed && !ctx.signal.aborted);
    };
    const finish = async (): Promise<FileRef[]> => {
      if (!writer) throw new InputError('write-video received no frames', 'check the steps before it (decode range, background-model)');
      if (writer instanceof LiveVideoWriter) return [(await writer.complete())!];
      const r = await writer.complete();
      const f = await ctx.outputs.begin(rel, { step: ctx.stepId, format: extname(rel).slice(1), description: videoDescription(p.layer, r.end - r.start, shape!, p.codec, audio) });
      try {
        await writer.join(f.tmpPath, format);
      } catch (e) {
        await f.abort();
        throw e;
      }
      return [await f.commit()];
    };
    return writeThenFinish(source, ctx.flow, write, finish, () => {
      closed = true;
      // the runner's clean-up waits for the encoder to end and its partial file to go
      if (writer) ctx.children.track(writer.kill());
    });
  },
});

/**
 * What the summary, run.json and the report say of a written video: its layer and frame count, and
 * what differs from the input: a side padded to even (4:2:0 codecs), an audio track not carried over.
 */
export function videoDescription(layer: string, frames: number, shape: { width: number; height: number }, codec: Codec, audio: boolean): string {
  const e = encodedSize(shape.width, shape.height, resolveCodec(codec).codec);
  const notes = [
    ...(e.padded ? [`${e.width}x${e.height}: the input's ${shape.width}x${shape.height} with its last ${[shape.width % 2 ? 'column' : '', shape.height % 2 ? 'row' : ''].filter(Boolean).join(' and ')} repeated (H.264/MPEG-4 need even sizes)`] : []),
    ...(audio ? ['no audio (the input\'s is not carried over)'] : []),
  ];
  return `${layer} video, ${frames} frame${frames === 1 ? '' : 's'}${notes.length ? `; ${notes.join('; ')}` : ''}`;
}
