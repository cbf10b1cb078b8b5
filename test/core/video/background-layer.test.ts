/**
 * The background layer in compact form (background-layer.ts): the model thread sends a batch's
 * mean and each frame's small deviation instead of 10.4 MB of Float32 per 15-frame batch at
 * 480x360; the encoders' bytes and, on first read, batch.background are made from it with the
 * model's own kernel. Known answer: the Float32 background the model gives when asked for it
 * (same model, same frames), bit for bit, on the calling thread and on the worker thread, with
 * the WebAssembly kernels or the TypeScript twin (SVDFLOW_NO_WASM=1).
 */
import { describe, it, expect } from 'vitest';
import { StreamingBackground, type StreamingOptions } from '../../../src/core/video/background.js';
import { backgroundFrame, compactBackground, setCompactBackground } from '../../../src/core/video/background-layer.js';
import { layerBytes } from '../../../src/core/video/layers.js';
import { warmModelThread } from '../../../src/core/video/io/model-thread.js';
import { ModelStream } from '../../../src/core/video/model-stream.js';
import type { FrameBatch } from '../../../src/core/ports.js';
import { synthFrame } from '../../fixtures/synth-video.js';

const W = 160, H = 120, D = W * H;
const OPTS: StreamingOptions = { width: W, height: H, channels: 1, rank: 2, forget: 0.9, threshold: 0.12, adaptive: 0, open: 1, close: 4, robust: true, updateEvery: 3, modelScale: 0.5 };
const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function frames(start: number, count: number): Uint8Array {
  const f = new Uint8Array(count * D);
  for (let i = 0; i < count; i++) f.set(synthFrame(start + i, { objects: true, frames: 90 }).data, i * D);
  return f;
}
const batchOf = (start: number, count: number, data: Uint8Array): FrameBatch => ({ kind: 'FrameBatch', start, count, width: W, height: H, channels: 1, frames: data });

describe('compact background layer', () => {
  it('gives the Float32 background bit for bit, and the bytes layerBytes makes of it (factors 1, 2, 4)', () => {
    for (const modelScale of [1, 0.5, 0.25] as const) {
      const o = { ...OPTS, modelScale };
      const full = new StreamingBackground(o), compact = new StreamingBackground(o);
      for (let s = 0; s < 60; s += 15) {
        const x = frames(s, 15);
        const a = full.process(x, 15, true), c = compact.process(x, 15, 'compact');
        expect(c.background).toBeUndefined();
        expect(bytes(c.mask).equals(bytes(a.mask)), `mask ${s}`).toBe(true);
        const cl = c.compact!;
        expect(cl.factor).toBe(1 / modelScale);
        // 3.3 MB instead of 10.4 MB per 15 frames at 480x360: mean + small deviations
        expect(cl.mu.length + cl.dev.length).toBe(D + 15 * Math.ceil(W * modelScale) * Math.ceil(H * modelScale));
        const withF32 = batchOf(s, 15, x);
        withF32.background = a.background;
        const f = new Float32Array(D), u = new Uint8Array(D), ref = new Uint8Array(D);
        for (let i = 0; i < 15; i++) {
          backgroundFrame(cl, i, f);
          expect(bytes(f).equals(bytes(a.background!.subarray(i * D, (i + 1) * D))), `f32 ${modelScale} ${s + i}`).toBe(true);
          backgroundFrame(cl, i, u);
          layerBytes(withF32, 'background', i, ref);
          expect(bytes(u).equals(bytes(ref)), `bytes ${modelScale} ${s + i}`).toBe(true);
        }
      }
    }
  });

  it('a batch with it: encoders read bytes without making the Float32 layer; batch.background makes it once, and a spread copy carries it', () => {
    const full = new StreamingBackground(OPTS), compact = new StreamingBackground(OPTS);
    const x = frames(0, 15);
    const a = full.process(x, 15, true), c = compact.process(x, 15, 'compact');
    const b = batchOf(0, 15, x);
    b.mask = c.mask;
    setCompactBackground(b, c.compact!);
    const out = new Uint8Array(D);
    layerBytes(b, 'background', 7, out);
    // still the lazy property: layerBytes did not read batch.background
    expect(typeof Object.getOwnPropertyDescriptor(b, 'background')!.get).toBe('function');
    expect(compactBackground(b)).toBe(c.compact);
    const f = b.background!;
    expect(bytes(f).equals(bytes(a.background!))).toBe(true);
    expect(b.background).toBe(f); // made once, then kept
    expect(compactBackground(b)).toBeUndefined();
    const copy = { ...b };
    expect(copy.background).toBe(f);
    // replacing the layer replaces what encoders read
    const b2 = batchOf(0, 15, x);
    setCompactBackground(b2, c.compact!);
    b2.background = new Float32Array(15 * D).fill(1);
    expect(compactBackground(b2)).toBeUndefined();
    expect(layerBytes(b2, 'background', 3, out).every((v) => v === 255)).toBe(true);
  });

  it('from the model thread (ModelStream, background only): the same bytes and Float32 layer as the inline model asked for Float32', async () => {
    const o = { rank: 2, forget: 0.9, threshold: 0.12, adaptive: 0, open: 1, close: 4, robust: true, updateEvery: 3, modelScale: 0.5 as const, checkpointEvery: 0, seedWindow: 30 };
    const warm = warmModelThread(true);
    const threaded = new ModelStream({ ...o, background: true, foreground: false }, undefined, false, undefined, warm.runner);
    const ref = new StreamingBackground(OPTS);
    const got = new Uint8Array(D), want = new Uint8Array(D);
    try {
      let seen = 0;
      for (let s = 0; s < 60; s += 15) {
        const x = frames(s, 15);
        const t = (await threaded.push(batchOf(s, 15, x)))!;
        // the reference: the same stream's model by hand (seed at frame 30: re-fit on 30 frames spread over [0, 30))
        if (s === 30) {
          ref.reset();
          const seed = new Uint8Array(30 * D);
          for (let i = 0; i < 30; i++) seed.set(frames(i, 1), i * D);
          ref.process(seed, 30, false);
        }
        const a = ref.process(x, 15, true);
        expect(compactBackground(t), `compact ${s}`).toBeDefined();
        for (let i = 0; i < 15; i++) {
          const withF32 = batchOf(s, 15, x);
          withF32.background = a.background;
          layerBytes(t, 'background', i, got);
          layerBytes(withF32, 'background', i, want);
          expect(bytes(got).equals(bytes(want)), `frame ${s + i}`).toBe(true);
          seen++;
        }
        expect(bytes(t.background!).equals(bytes(a.background!)), `f32 ${s}`).toBe(true);
      }
      expect(seen).toBe(60);
    } finally {
      await threaded.close();
      await warm.close();
    }
  }, 60_000);
});
