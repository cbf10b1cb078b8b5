import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, toArray, from } from 'rxjs';
import { join } from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import sharp from 'sharp';
import { ROOT, tempDir } from '../helpers.js';
import { decode } from '../../src/stages/decode.js';
import { batchFrames } from '../../src/stages/batch-frames.js';
import { backgroundModel } from '../../src/stages/background-model.js';
import { evaluateMasks } from '../../src/stages/evaluate-masks.js';
import { synthFrame } from '../fixtures/synth-video.js';
import type { Frame } from '../../src/core/ports.js';

const CLIP = join(ROOT, 'data/video/synthetic/clip.mp4');
const GT = join(ROOT, 'data/video/synthetic');
const tmp = tempDir('svdflow-bgm-');
afterAll(() => tmp.cleanup());

function frames(n: number, objects: boolean): Frame[] {
  return Array.from({ length: n }, (_, t) => ({ kind: 'Frame' as const, index: t, width: 160, height: 120, channels: 1 as const, data: synthFrame(t, { objects, frames: n }).data }));
}

describe('background-model', () => {
  it('finds the moving objects of the bundled clip: F above 0.9 against the exact masks', async () => {
    const m = await lastValueFrom(decode({ path: CLIP }).pipe(batchFrames({ size: 30 }), backgroundModel({ checkpointEvery: 0 }), evaluateMasks({ groundTruth: GT, print: false }, { ctx: { outDir: tmp.dir } })));
    expect(m.values.fMeasure).toBeGreaterThan(0.9);
    expect(m.values.frames).toBe(120);
  });
  it('streaming and batch backgrounds agree on a static scene (and equal the frames)', async () => {
    const run = (mode: 'streaming' | 'batch') => lastValueFrom(from(frames(60, false)).pipe(batchFrames({ size: 20 }), backgroundModel(mode === 'batch' ? { mode } : { mode, checkpointEvery: 0 }), toArray()));
    const [s, b] = await Promise.all([run('streaming'), run('batch')]);
    let maxDiff = 0, maxErr = 0, fg = 0;
    s.forEach((sb, k) => {
      const bb = b[k]!;
      for (let i = 0; i < sb.background!.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(sb.background![i]! - bb.background![i]!));
        maxErr = Math.max(maxErr, Math.abs(sb.background![i]! - sb.frames[i]! / 255));
      }
      fg += sb.mask!.reduce((a, v) => a + v, 0) + bb.mask!.reduce((a, v) => a + v, 0);
    });
    expect(maxDiff).toBeLessThan(2 / 255);
    expect(maxErr).toBeLessThan(2 / 255);
    expect(fg).toBe(0);
  });
  it('robust update keeps objects out of the background (better than without)', async () => {
    const f = frames(90, true);
    const run = (robust: boolean) => lastValueFrom(from(f).pipe(batchFrames({ size: 30 }), backgroundModel({ robust, checkpointEvery: 0 }), toArray()));
    const truth = synthFrame(89, { objects: false, frames: 90 }).data;
    const err = (bs: Awaited<ReturnType<typeof run>>) => {
      const bg = bs[2]!.background!;
      let e = 0;
      for (let i = 0; i < truth.length; i++) e += Math.abs(bg[29 * truth.length + i]! * 255 - truth[i]!);
      return e / truth.length;
    };
    const [r, n] = [err(await run(true)), err(await run(false))];
    expect(r).toBeLessThan(1.5);
    expect(r).toBeLessThan(n);
  });
  it('modelScale 1 and 0.25 work too; background: false emits masks only and a background writer says how to get it', async () => {
    for (const modelScale of [1, 0.25] as const) {
      const m = await lastValueFrom(decode({ path: CLIP }).pipe(batchFrames({ size: 30 }), backgroundModel({ checkpointEvery: 0, modelScale }), evaluateMasks({ groundTruth: GT, print: false }, { ctx: { outDir: tmp.dir } })));
      expect(m.values.fMeasure, `modelScale ${modelScale}`).toBeGreaterThan(0.85);
    }
    const bs = await lastValueFrom(from(frames(30, true)).pipe(batchFrames({ size: 30 }), backgroundModel({ checkpointEvery: 0, background: false }), toArray()));
    expect(bs[0]!.background).toBeUndefined();
    expect(bs[0]!.mask!.length).toBe(30 * 160 * 120);
    const { checkLayer } = await import('../../src/core/video/layers.js');
    expect(() => checkLayer(bs[0]!, 'background')).toThrow('these frame batches have no background: the background-model step was told not to emit it');
  });
  it('rejects ground truth of another size with both sizes in the message', async () => {
    const dir = join(tmp.dir, 'gt-small');
    mkdirSync(join(dir, 'groundtruth'), { recursive: true });
    await sharp(new Uint8Array(80 * 60), { raw: { width: 80, height: 60, channels: 1 } }).png().toFile(join(dir, 'groundtruth/gt000000.png'));
    writeFileSync(join(dir, 'temporalROI.txt'), '0 0');
    await expect(lastValueFrom(from(frames(30, true)).pipe(batchFrames({ size: 30 }), backgroundModel({ checkpointEvery: 0 }), evaluateMasks({ groundTruth: dir, print: false })))).rejects.toThrow(
      `ground truth ${join(dir, 'groundtruth/gt000000.png')} is 80x60, the masks are 160x120`,
    );
  });
  it('refuses batch mode beyond maxBatchValues, naming the way out', async () => {
    await expect(lastValueFrom(from(frames(30, true)).pipe(batchFrames({ size: 30 }), backgroundModel({ mode: 'batch', maxBatchValues: 1000 })))).rejects.toThrow(/batch mode needs all 30 frames of 19200 values in memory/);
  });
  it('batch mode refuses each streaming-only param, saying why (they were silently ignored)', () => {
    for (const key of ['forget', 'adaptive', 'robust', 'updateEvery', 'modelScale', 'checkpointEvery']) {
      const value = key === 'robust' ? false : key === 'modelScale' ? 1 : 1;
      expect(() => backgroundModel({ mode: 'batch', [key]: value } as never), key).toThrow(`${key}: ${key} applies to mode: streaming only (batch mode fits one exact SVD of all frames`);
    }
    expect(() => backgroundModel({ mode: 'streaming', maxBatchValues: 10 } as never)).toThrow("maxBatchValues: unknown key 'maxBatchValues'");
    expect(() => backgroundModel({ modelScale: 0.3 } as never)).toThrow(/modelScale: expected one of: 1, 0.5, 0.25/);
  });
});
