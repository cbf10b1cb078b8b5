/**
 * write-video: encodes one layer of the frame batches (mask, background,
 * foreground or frames) through ffmpeg's stdin, with backpressure.
 *
 * Resume: the video is encoded in segments of `segmentFrames` frames, each kept
 * in the step's checkpoint folder once complete; the output is the segments
 * joined by stream copy. A resumed run re-encodes only the missing segments, and
 * segment boundaries are absolute frame numbers, so it yields the same file.
 *
 * ```yaml
 * - stage: write-video
 *   params: { layer: mask, path: mask.mp4 }
 * ```
 */
import { z } from 'zod';
import { Observable, defer, concat, from } from 'rxjs';
import { existsSync, readdirSync } from 'node:fs';
import { rename, unlink, mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { defineStage } from '../core/stage.js';
import { boundedConcatMap } from '../core/flow.js';
import { InputError } from '../core/errors.js';
import type { FileRef, FrameBatch } from '../core/ports.js';
import { VideoEncoder, concatSegments, resolveCodec } from '../core/video/encode.js';
import { LAYERS, checkLayer, layerBytes, layerChannels, type Layer } from '../core/video/layers.js';
import { clearCheckpoints, PROGRESS_FILE } from '../core/video/checkpoint.js';

const FORMATS: Record<string, string> = { '.mp4': 'mp4', '.mkv': 'matroska', '.avi': 'avi', '.mov': 'mov' };

function segments(dir: string): Array<{ start: number; end: number; file: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^seg-(\d+)-(\d+)\.mkv$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: Number(m[1]), end: Number(m[2]), file: join(dir, m[0]) }))
    .sort((a, b) => a.start - b.start);
}

export const writeVideo = defineStage({
  name: 'write-video',
  summary: 'Encode one layer (mask, background, foreground, frames) as a video through ffmpeg, with backpressure',
  description: 'H.264 (libx264, ultrafast) when this ffmpeg has it, else MPEG-4 part 2 (logged). Encoded in segments for --resume.',
  example: `- stage: write-video\n  params: { layer: mask, path: mask.mp4 }`,
  input: 'FrameBatch',
  output: 'File',
  params: z.strictObject({
    layer: z.enum(LAYERS as [Layer, ...Layer[]]).default('mask').describe('which picture to encode'),
    path: z.string().min(1).default('{layer}.mp4').describe('output file under --out (.mp4, .mkv, .avi, .mov); {layer} is the layer name'),
    codec: z.enum(['h264', 'mpeg4', 'ffv1']).default('h264').describe('h264 (libx264), mpeg4, or ffv1 (lossless, .mkv)'),
    crf: z.number().int().min(0).max(51).default(20).describe('H.264 quality (0 = lossless, 18-23 = good)'),
    segmentFrames: z.number().int().min(0).default(300).describe('encode in segments of this many frames, kept for --resume (0 = one piece, no resume)'),
  }),
  operator: (p, ctx) => (source: Observable<FrameBatch>) => {
    const rel = p.path.replaceAll('{layer}', p.layer);
    const format = FORMATS[extname(rel).toLowerCase()];
    const dir = ctx.checkpointDir;
    let enc: VideoEncoder | undefined;
    let seg: { start: number; next: number; part: string; id: number } | undefined;
    let resumeNext = -Infinity;
    let started = false;
    let closed = false;
    let shape: { w: number; h: number; c: 1 | 3; fps: number } | undefined;
    const start = async () => {
      started = true;
      if (!format) throw new InputError(`write-video cannot tell the container of '${rel}'`, `end the path with one of ${Object.keys(FORMATS).join(', ')}`);
      if (p.codec === 'ffv1' && format !== 'matroska') throw new InputError(`ffv1 needs a .mkv file, got '${rel}'`, 'use path: something.mkv, or codec: h264');
      const c = resolveCodec(p.codec);
      if (c.fallback) ctx.log.warn('this ffmpeg has no libx264: encoding MPEG-4 part 2 instead');
      if (!ctx.resume) clearCheckpoints(dir);
      await mkdir(dir, { recursive: true });
      const segs = segments(dir);
      if (ctx.resume && segs.length) {
        let next = segs[0]!.end;
        for (const s of segs.slice(1)) if (s.start === next) next = s.end;
        resumeNext = next;
      }
    };
    const closeSegment = async () => {
      if (!enc || !seg) return;
      await enc.finish();
      const file = join(dir, `seg-${String(seg.start).padStart(9, '0')}-${String(seg.next).padStart(9, '0')}.mkv`);
      await rename(seg.part, file);
      if (p.segmentFrames > 0) await ctx.outputs.writeNow(join(dir, PROGRESS_FILE), JSON.stringify({ next: seg.next }));
      enc = undefined;
      seg = undefined;
    };
    const write = async (b: FrameBatch) => {
      if (!started) await start();
      checkLayer(b, p.layer);
      const c = layerChannels(b, p.layer);
      shape ??= { w: b.width, h: b.height, c, fps: b.fps ?? 25 };
      for (let i = 0; i < b.count; i++) {
        const idx = b.start + i;
        if (idx < resumeNext) continue;
        const id = p.segmentFrames > 0 ? Math.floor(idx / p.segmentFrames) : 0;
        if (seg && (id !== seg.id || idx !== seg.next)) await closeSegment();
        if (closed || ctx.signal.aborted) return;
        if (!enc) {
          const part = join(dir, `part-${idx}.mkv`);
          seg = { start: idx, next: idx, part, id };
          enc = new VideoEncoder({ width: b.width, height: b.height, channels: c, fps: shape.fps, path: part, codec: p.codec, crf: p.crf, format: 'matroska' }, (cmd, args) => ctx.children.spawn(cmd, args));
        }
        await enc.write(layerBytes(b, p.layer, i));
        seg!.next = idx + 1;
      }
    };
    const finish = () =>
      defer(async (): Promise<FileRef[]> => {
        await closeSegment();
        const segs = segments(dir);
        if (!segs.length) throw new InputError('write-video received no frames', 'check the steps before it (decode range, background-model)');
        for (let i = 1; i < segs.length; i++) {
          if (segs[i]!.start !== segs[i - 1]!.end) throw new InputError(`video segments do not join: ${segs[i - 1]!.end} then ${segs[i]!.start}`, 'run again without --resume');
        }
        const f = await ctx.outputs.begin(rel, { step: ctx.stepId, format: extname(rel).slice(1), description: `${p.layer} video, ${segs[segs.length - 1]!.end - segs[0]!.start} frames` });
        try {
          await concatSegments(segs.map((s) => s.file), join(dir, 'segments.txt'), f.tmpPath, format, (cmd, args) => ctx.children.spawn(cmd, args));
        } catch (e) {
          await f.abort();
          throw e;
        }
        return [await f.commit()];
      });
    return new Observable<FileRef>((sub) => {
      const s = concat(source.pipe(boundedConcatMap((b: FrameBatch) => from(write(b).then(() => [] as FileRef[])), ctx.flow, { highWaterMark: 2 })), finish()).subscribe({
        next: (refs) => refs.forEach((r) => sub.next(r)),
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
      return () => {
        closed = true;
        s.unsubscribe();
        if (enc) {
          const part = seg?.part;
          void enc.kill().then(() => (part ? unlink(part).catch(() => undefined) : undefined));
        }
      };
    });
  },
});
