/**
 * write-frames: one layer of the frame batches as PNG images (every k-th frame,
 * or only the last one, e.g. the final background).
 *
 * Resume: images are first written into the step's checkpoint folder (atomically)
 * and linked into the output at the end, so a resumed run rewrites only the missing ones.
 *
 * ```yaml
 * - stage: write-frames
 *   params: { layer: background, last: true, path: background.png }
 * ```
 */
import { z } from 'zod';
import { Observable, concat, defer, from } from 'rxjs';
import { existsSync, readdirSync } from 'node:fs';
import { link, copyFile, mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { sharp } from '../core/image/sharp.js';
import { defineStage } from '../core/stage.js';
import { boundedConcatMap } from '../core/flow.js';
import { InputError } from '../core/errors.js';
import type { FileRef, FrameBatch } from '../core/ports.js';
import { stitchFrames } from '../core/video/io/stitch.js';
import { LAYERS, checkLayer, layerBytes, layerChannels, type Layer } from '../core/video/layers.js';
import { clearCheckpoints, readProgress, PROGRESS_FILE } from '../core/video/io/checkpoints.js';
import { formatSequence } from '../core/video/sequence.js';

export const writeFrames = defineStage({
  name: 'write-frames',
  summary: 'Write one layer of frame batches as PNG images (every k-th frame, or the last one)',
  example: `- stage: write-frames\n  params: { layer: mask, every: 10, path: "masks/mask%06d.png" }`,
  input: 'FrameBatch',
  output: 'File',
  params: z.strictObject({
    layer: z.enum(LAYERS as [Layer, ...Layer[]]).default('mask').describe('which picture to write'),
    path: z.string().min(1).default('{layer}/{layer}%06d.png').describe('file name under --out; %06d is the frame number, {layer} the layer'),
    every: z.number().int().min(1).default(1).describe('write every k-th frame (by frame number)'),
    last: z.boolean().default(false).describe('write only the last frame (e.g. the final background image)'),
  }),
  segments: { stitch: stitchFrames },
  operator: (p, ctx) => (source: Observable<FrameBatch>) => {
    const pattern = p.path.replaceAll('{layer}', p.layer);
    const dir = join(ctx.checkpointDir, 'files');
    let resumeNext = -Infinity;
    let started = false;
    let lastPng: { rel: string; data: Buffer } | undefined;
    const png = (b: FrameBatch, i: number) =>
      sharp(layerBytes(b, p.layer, i), { raw: { width: b.width, height: b.height, channels: layerChannels(b, p.layer) } }).png().toBuffer();
    const write = async (b: FrameBatch) => {
      if (!started) {
        started = true;
        if (!ctx.resume) clearCheckpoints(ctx.checkpointDir);
        else resumeNext = readProgress(ctx.checkpointDir)?.next ?? -Infinity;
        await mkdir(dir, { recursive: true });
      }
      checkLayer(b, p.layer);
      const end = b.start + b.count;
      if (p.last) {
        lastPng = { rel: /%0?\d*d/.test(pattern) ? formatSequence(pattern, end - 1) : pattern, data: await png(b, b.count - 1) };
      } else {
        for (let i = 0; i < b.count; i++) {
          const idx = b.start + i;
          if (idx % p.every !== 0) continue;
          const rel = formatSequence(pattern, idx);
          if (rel === pattern) throw new InputError(`write-frames path '${p.path}' has no frame number`, 'add %06d to the path (e.g. masks/mask%06d.png), or set last: true');
          const file = ctx.outputs.inside(dir, rel);
          if (idx < resumeNext && existsSync(file)) continue;
          await ctx.outputs.writeNow(file, await png(b, i));
        }
      }
      // a resumed model starts no later than this (a step with no progress file makes it start at frame 0)
      await ctx.outputs.writeNow(join(ctx.checkpointDir, PROGRESS_FILE), JSON.stringify({ next: end }));
    };
    const finish = () =>
      defer(async (): Promise<FileRef[]> => {
        if (p.last) {
          if (!lastPng) throw new InputError('write-frames received no frames', 'check the steps before it');
          return [await ctx.writeFile(lastPng.rel, lastPng.data, { format: 'png', description: `${p.layer}, last frame` })];
        }
        const refs: FileRef[] = [];
        // every image of this run, and of the interrupted run before it when resuming
        const all = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
        for (const rel of all) {
          const f = await ctx.outputs.begin(rel, { step: ctx.stepId, format: 'png', description: `${p.layer} frame` });
          await link(join(dir, rel), f.tmpPath).catch(() => copyFile(join(dir, rel), f.tmpPath));
          refs.push(await f.commit());
        }
        return refs;
      });
    return concat(source.pipe(boundedConcatMap((b: FrameBatch) => from(write(b).then(() => [] as FileRef[])), ctx.flow, { highWaterMark: 2 })), finish()).pipe(
      (o) => new Observable<FileRef>((sub) => o.subscribe({ next: (r) => r.forEach((x) => sub.next(x)), error: (e) => sub.error(e), complete: () => sub.complete() })),
    );
  },
});
