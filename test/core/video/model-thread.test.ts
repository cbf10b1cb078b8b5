import { describe, it, expect } from 'vitest';
import { lastValueFrom, from, toArray, tap } from 'rxjs';
import { modelRunner, warmModelThread } from '../../../src/core/video/io/model-thread.js';
import { synthFrame } from '../../fixtures/synth-video.js';
import { FlowControl, fromAsync } from '../../../src/core/flow.js';
import { backgroundModel } from '../../../src/stages/background-model.js';
import type { FrameBatch } from '../../../src/core/ports.js';
import type { StreamingOptions } from '../../../src/core/video/background.js';
import { inlineRunner } from '../../../src/core/video/model-runner.js';

const W = 160, H = 120, D = W * H;
const OPTS: StreamingOptions = { width: W, height: H, channels: 1, rank: 2, forget: 0.9, threshold: 0.12, adaptive: 0, open: 1, close: 4, robust: true, updateEvery: 3, modelScale: 0.5 };

/** same bytes (vitest's toEqual walks big typed arrays slowly) */
const bytes = (a?: ArrayBufferView) => (a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : Buffer.alloc(0));
const sameBytes = (a?: ArrayBufferView, b?: ArrayBufferView) => !!a === !!b && bytes(a).equals(bytes(b));

const CLIP: Uint8Array[] = [];
/** frames of the synthetic clip (60 made once, then repeated) */
function batch(start: number, count: number): FrameBatch {
  while (CLIP.length < 60) CLIP.push(synthFrame(CLIP.length, { objects: true, frames: 60 }).data);
  const frames = new Uint8Array(count * D);
  for (let i = 0; i < count; i++) frames.set(CLIP[(start + i) % 60]!, i * D);
  return { kind: 'FrameBatch', start, count, width: W, height: H, channels: 1, frames };
}

describe('background model on a worker thread', () => {
  it('gives the same masks, backgrounds and checkpoint state as the model on the calling thread', async () => {
    const inline = inlineRunner(OPTS);
    const warm = warmModelThread(true);
    const thread = warm.runner(OPTS);
    expect([inline.threaded, thread.threaded]).toEqual([false, true]);
    try {
      for (let s = 0; s < 90; s += 15) {
        const b = batch(s, 15);
        const [a, t] = await Promise.all([inline.process(b.frames, 15, true, s === 75), thread.process(b.frames, 15, true, s === 75)]);
        expect(sameBytes(t.mask, a.mask), `mask ${s}`).toBe(true);
        expect(sameBytes(t.background, a.background), `background ${s}`).toBe(true);
        expect(t.mask.reduce((n, v) => n + v, 0)).toBeGreaterThan(0);
        if (s === 75) {
          const ta = t.state!, tb = a.state!;
          expect(Object.keys(ta).sort()).toEqual(Object.keys(tb).sort());
          for (const key of ['mean', 'Ut', 's', 'muFull']) expect(sameBytes(ta[key] as Float64Array, tb[key] as Float64Array), key).toBe(true);
          expect(ta.frames).toBe(90);
        }
        expect(b.frames.byteLength).toBe(15 * D); // the batch's frames stay usable by other steps (copied, not moved)
      }
      // the frames went through one shared staging buffer, reused batch after batch (not one per batch)
      expect((thread as unknown as { stagingMade: number }).stagingMade).toBe(1);
    } finally {
      await Promise.all([inline.close(), thread.close()]);
    }
    await expect(thread.process(batch(90, 15).frames, 15, false, false)).rejects.toThrow('the background-model thread was closed');
    await warm.close(); // handed out: nothing left to end
    const unused = warmModelThread(true);
    await unused.close();
  }, 60_000);

  it('leaves the calling thread free while it works (the same work inline blocks it: the control)', async () => {
    const ticksDuring = async (threaded: boolean) => {
      const r = modelRunner({ ...OPTS, width: 480, height: 360 }, undefined, threaded);
      const frames = new Uint8Array(30 * 480 * 360);
      for (let i = 0; i < frames.length; i++) frames[i] = (i * 2654435761) >>> 27;
      await r.process(frames, 30, true, false); // warm-up batch (median, first fit)
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      await new Promise((res) => setImmediate(res));
      ticks = 0;
      const t0 = performance.now();
      for (let k = 0; k < 3; k++) await r.process(frames, 30, true, false);
      const ms = performance.now() - t0;
      clearInterval(timer);
      await r.close();
      return { ticks, ms };
    };
    const inline = await ticksDuring(false);
    const thread = await ticksDuring(true);
    // inline: the event loop runs only between batches (a handful of ticks); threaded: all along
    expect(inline.ticks).toBeLessThanOrEqual(6);
    expect(thread.ticks).toBeGreaterThan(Math.max(10, thread.ms / 20));
  }, 120_000);

  it('the stage keeps batches in flight bounded while the thread works (backpressure valve), and ends the thread', async () => {
    const flow = new FlowControl();
    let produced = 0, consumed = 0, maxInFlight = 0;
    const out = await lastValueFrom(
      fromAsync(function* () {
        for (let s = 0; s < 240; s += 15) {
          produced++;
          maxInFlight = Math.max(maxInFlight, produced - consumed);
          yield batch(s, 15);
        }
      }, flow).pipe(
        backgroundModel({ checkpointEvery: 0, background: false }, { ctx: { flow } }),
        tap(() => consumed++),
        toArray(),
      ),
    );
    expect(out.length).toBe(16);
    // highWaterMark 2 in the stage, + the batch on the thread, + the one the source had pulled
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    void from;
  }, 60_000);
});

describe('warm-up of the streaming model', () => {
  it('keeps one cleaned frame unless the adaptive threshold needs them all: the fitted model is the same bits either way (color: both on the TypeScript warm-up)', async () => {
    const { StreamingBackground } = await import('../../../src/core/video/background.js');
    const g = batch(0, 45);
    const frames = new Uint8Array(3 * g.frames.length);
    for (let q = 0; q < g.frames.length; q++) frames[3 * q] = frames[3 * q + 1] = frames[3 * q + 2] = g.frames[q]!;
    // adaptive > 0 keeps every cleaned frame (its σ is computed from them); its warm-up model must not differ
    const [one, all] = [0, 0.5].map((adaptive) => {
      const m = new StreamingBackground({ ...OPTS, channels: 3, adaptive });
      // the warm-up alone (process() goes on with the batch, where the adaptive threshold then differs)
      (m as unknown as { warmUp(f: Uint8Array, n: number): void }).warmUp(frames, 45);
      return m.toState();
    });
    for (const key of ['mean', 'Ut', 's', 'muFull']) expect(sameBytes(one![key] as Float64Array, all![key] as Float64Array), key).toBe(true);
    expect(all!.sigma).toBeDefined();
    expect((one!.Ut as Float64Array).some((v) => v !== 0)).toBe(true);
  });

  it('gray warm-up on the pixel kernels (global threshold) fits the model of the f64 TypeScript warm-up (adaptive threshold) to rounding', async () => {
    const { StreamingBackground } = await import('../../../src/core/video/background.js');
    const b = batch(0, 45);
    const [k, t] = [0, 0.5].map((adaptive) => {
      const m = new StreamingBackground({ ...OPTS, adaptive });
      (m as unknown as { warmUp(f: Uint8Array, n: number): void }).warmUp(b.frames, 45);
      return m.toState() as Record<string, Float64Array>;
    });
    const near = (key: string, tol: number) => {
      const [a, c] = [k![key]!, t![key]!];
      expect(a.length, key).toBe(c.length);
      let e = 0;
      for (let q = 0; q < a.length; q++) e = Math.max(e, Math.abs(a[q]! - c[q]!));
      expect(e, key).toBeLessThan(tol);
    };
    near('muFull', 1e-6);
    near('mean', 1e-6);
    const [sk, st] = [k!.s!, t!.s!];
    for (let j = 0; j < 2; j++) expect(Math.abs(sk[j]! - st[j]!) / st[0]!, `s${j}`).toBeLessThan(1e-5);
    // the same subspace (signs may differ): the projectors agree
    const n = k!.mean!.length, [uk, ut] = [k!.Ut!, t!.Ut!];
    let fro = 0;
    for (let a = 0; a < 2; a++) for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let q = 0; q < n; q++) s += uk[a * n + q]! * ut[c * n + q]!;
      fro += s * s;
    }
    expect(Math.abs(fro - 2)).toBeLessThan(1e-6);
  });
});
