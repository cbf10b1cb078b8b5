/**
 * normalize scales in place only an image nobody else holds (planes.ts, stage.ts handsOver): load's
 * fresh values reaching normalize alone, from code (piped straight onto load) or in a run (the
 * only reader, nothing kept). Every other case copies, and nobody can see a difference but the
 * memory: the values are the same bits, and a value someone else holds is never changed.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { lastValueFrom, map, of, tap } from 'rxjs';
import { join } from 'node:path';
import { mkdirSync, copyFileSync } from 'node:fs';
import { load, loadImage, loadImages } from '../../src/stages/load.js';
import { normalize, normalizeImage } from '../../src/stages/normalize.js';
import { handsOver, isHandingOver } from '../../src/core/image/planes.js';
import { Matrix } from '../../src/core/linalg/matrix.js';
import { parsePipeline } from '../../src/core/pipeline.js';
import { runPipeline } from '../../src/core/runner.js';
import { defineStage } from '../../src/core/stage.js';
import { Registry } from '../../src/core/registry.js';
import { allStages } from '../../src/stages/index.js';
import { z } from 'zod';
import type { Image, ImageBatch } from '../../src/core/ports.js';
import { ROOT, tempDir } from '../helpers.js';

const STAMPS = join(ROOT, 'data', 'stamps');
const tmp = tempDir('svdflow-norm-inplace-');
afterAll(() => tmp.cleanup());

const img = (vals: number[]): Image => ({ kind: 'Image', name: 'x', width: vals.length, height: 1, color: 'gray', planes: [new Matrix(1, vals.length, Float64Array.from(vals))], range: [0, 255] });
const sameBits = (a: Image[], b: Image[]) => a.every((im, j) => im.planes.every((P, k) => P.data.every((v, i) => Object.is(v, b[j]!.planes[k]!.data[i]))));

describe('normalize in place (hand-over)', () => {
  it('the protocol: only a value straight from a handing-over source is scaled in place; a caller cannot ask for it', async () => {
    const a = img([0, 51, 255]);
    const out = (await lastValueFrom(handsOver(of(a)).pipe(normalize({ by: 'dtype' })))) as Image;
    expect(Array.from(out.planes[0]!.data)).toEqual([0, 51 * (1 / 255), 1]);
    expect(out.planes[0]!.data).toBe(a.planes[0]!.data); // its memory reused
    // a plain source, a handing-over source seen through a tap, or a caller's ctx claiming exclusivity
    // (a composite stage forwarding its own): copied, the input untouched
    const claimed = normalize({ by: 'dtype' }, { ctx: { inputExclusive: true } });
    for (const [src, op] of [[of(img([0, 51, 255])), normalize({ by: 'dtype' })], [handsOver(of(img([0, 51, 255]))), normalize({ by: 'dtype' })], [of(img([0, 51, 255])), claimed]] as const) {
      let seen: Image | undefined;
      const o = (await lastValueFrom(src.pipe(tap((v) => (seen = v)), op))) as Image;
      expect(Array.from(seen!.planes[0]!.data)).toEqual([0, 51, 255]);
      expect(Array.from(o.planes[0]!.data)).toEqual([0, 51 * (1 / 255), 1]);
    }
    // a batch whose third image cannot be normalized (all zero, by max): the step fails before writing any image
    const batch: ImageBatch = { kind: 'ImageBatch', name: 'b', mode: 'gray', images: [img([0, 10, 20]), img([5, 50]), img([0, 0])] } as unknown as ImageBatch;
    await expect(lastValueFrom(handsOver(of(batch)).pipe(normalize({ by: 'max' })))).rejects.toThrow(/all zero/);
    expect(batch.images.map((im) => Array.from(im.planes[0]!.data))).toEqual([[0, 10, 20], [5, 50], [0, 0]]);
    // in place and copied give the same bits (by max too)
    const c = img([3, 7, 200]), d = img([3, 7, 200]);
    expect(sameBits([normalizeImage(c, 'max', undefined, true)], [normalizeImage(d, 'max')])).toBe(true);
  });

  it('from code: load(...).pipe(normalize()) reuses the decoded planes; with anything in between it copies; same bits', async () => {
    expect(isHandingOver(load({ path: STAMPS }))).toBe(true);
    const direct = await lastValueFrom(loadImages({ path: STAMPS }).pipe(normalize({ by: 'dtype' })));
    const untyped = (await lastValueFrom(load({ path: STAMPS }).pipe(normalize<ImageBatch | Image>({ by: 'dtype' })))) as ImageBatch;
    expect(sameBits(untyped.images, direct.images)).toBe(true);
    let raw: ImageBatch | undefined;
    const copied = await lastValueFrom(loadImages({ path: STAMPS }).pipe(tap((v) => (raw = v)), normalize({ by: 'dtype' })));
    expect(direct.images).toHaveLength(22);
    expect(sameBits(direct.images, copied.images)).toBe(true);
    // the value someone else held (the tap) still has its 0..255 values and its own memory
    expect(raw!.images[0]!.range).toEqual([0, 255]);
    expect(Math.max(...raw!.images[0]!.planes[0]!.data)).toBeGreaterThan(1);
    expect(copied.images[0]!.planes[0]!.data.buffer).not.toBe(raw!.images[0]!.planes[0]!.data.buffer);
    // the known answer: a stamp's first value is its decoded byte times 1/255
    expect(copied.images[0]!.planes[0]!.data[0]).toBe(raw!.images[0]!.planes[0]!.data[0]! * (1 / 255));
    // values still in shared memory after the in-place scale (the pool's stack reads them without a copy)
    expect(direct.images[0]!.planes[0]!.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    // the divided variant is this chain's own: another subscriber of the same load observable gets 0..255
    const L = loadImages({ path: STAMPS });
    const [viaNorm, plain] = await Promise.all([lastValueFrom(L.pipe(normalize({ by: 'dtype' }))), lastValueFrom(L)]);
    expect(sameBits(viaNorm.images, copied.images)).toBe(true);
    expect(plain.images[0]!.range).toEqual([0, 255]);
    expect(sameBits(plain.images, raw!.images)).toBe(true);
    // one image, every mode (ycbcr's values are fractions: divided while filling = divided after, bit for bit)
    for (const mode of ['gray', 'rgb', 'ycbcr'] as const) {
      const p = { path: join(STAMPS, 'im_07.jpg'), mode };
      const a = await lastValueFrom(loadImage(p).pipe(normalize({ by: 'dtype' })));
      const b = await lastValueFrom(loadImage(p).pipe(map((x) => x), normalize({ by: 'dtype' })));
      expect(sameBits([a], [b]), mode).toBe(true);
      expect([a.range, a.normalization]).toEqual([[0, 1], { method: 'dtype', scale: 255 }]);
      expect(Object.keys(a)).toEqual(Object.keys(b));
    }
    // loadImages keeps handing over; a map in between does not
    expect(isHandingOver(loadImages({ path: STAMPS }))).toBe(true);
    expect(isHandingOver(load({ path: STAMPS }).pipe(map((x) => x)))).toBe(false);
  });
});

describe('normalize in place in a run: only as the sole reader of load, nothing kept', () => {
  const exclusive: Record<string, boolean | undefined> = {};
  const probe = defineStage({
    name: 'probe-exclusive',
    summary: 'test: records ctx.inputExclusive',
    input: ['Any'] as const,
    output: ['Any'] as const,
    params: z.strictObject({}),
    operator: (_p, ctx) => tap(() => void (exclusive[ctx.stepId] = ctx.inputExclusive)),
  });
  const reg = new Registry([...allStages, probe] as never);
  const dir = join(tmp.dir, 'imgs');
  mkdirSync(dir, { recursive: true });
  for (const n of ['im_00.jpg', 'im_01.jpg', 'im_02.jpg']) copyFileSync(join(STAMPS, n), join(dir, n));
  const run = (steps: string, keepValues: 'sinks' | 'all') =>
    runPipeline(parsePipeline(`name: t\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(dir)} } }\n${steps}`, { file: join(tmp.dir, 'p.yaml'), baseDir: tmp.dir }, reg), { outDir: join(tmp.dir, 'out'), progress: false, keepValues });

  it('the runner says exclusive only for the one reader of a value it does not keep, from a stage that hands its values over', async () => {
    await run('  - { id: a, stage: probe-exclusive, input: imgs }\n', 'sinks');
    expect(exclusive.a).toBe(true);
    // the reader of a pass-through step (it declares nothing) is not exclusive, though load's values reach it
    await run('  - { id: p, stage: probe-exclusive, input: imgs }\n  - { id: q, stage: probe-exclusive, input: p }\n', 'sinks');
    expect([exclusive.p, exclusive.q]).toEqual([true, false]);
    await run('  - { id: b, stage: probe-exclusive, input: imgs }\n', 'all'); // the run returns every step's value
    expect(exclusive.b).toBe(false);
    await run('  - { id: c, stage: probe-exclusive, input: imgs }\n  - { id: d, stage: probe-exclusive, input: imgs }\n', 'sinks');
    expect([exclusive.c, exclusive.d]).toEqual([false, false]);
  });

  it('fan-out to two normalize steps, or a kept load value: every reader gets the right values, load keeps 0..255', async () => {
    const ref = await lastValueFrom(loadImages({ path: dir }).pipe(map((x) => x), normalize({ by: 'dtype' })));
    const two = await run('  - { id: n1, stage: normalize, input: imgs, params: { by: dtype } }\n  - { id: n2, stage: normalize, input: imgs, params: { by: dtype } }\n', 'sinks');
    for (const k of ['n1', 'n2']) expect(sameBits((two.values[k] as ImageBatch).images, ref.images), k).toBe(true);
    const kept = await run('  - { id: n, stage: normalize, input: imgs, params: { by: dtype } }\n', 'all');
    expect(sameBits((kept.values.n as ImageBatch).images, ref.images)).toBe(true);
    expect((kept.values.imgs as ImageBatch).images[0]!.range).toEqual([0, 255]);
    expect(Math.max(...(kept.values.imgs as ImageBatch).images[0]!.planes[0]!.data)).toBeGreaterThan(1);
    const alone = await run('  - { id: n, stage: normalize, input: imgs, params: { by: dtype } }\n', 'sinks');
    expect(sameBits((alone.values.n as ImageBatch).images, ref.images)).toBe(true);
    // a fan-out to a kept sink (w) and a pass-through (p) that normalize reads: w keeps 0..255
    const fan = await run('  - { id: w, stage: probe-exclusive, input: imgs }\n  - { id: p, stage: probe-exclusive, input: imgs }\n  - { id: n, stage: normalize, input: p, params: { by: dtype } }\n', 'sinks');
    expect(sameBits((fan.values.n as ImageBatch).images, ref.images)).toBe(true);
    expect((fan.values.w as ImageBatch).images[0]!.range).toEqual([0, 255]);
    expect(Math.max(...(fan.values.w as ImageBatch).images[0]!.planes[0]!.data)).toBeGreaterThan(1);
  });
});
