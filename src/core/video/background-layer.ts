/**
 * A FrameBatch's background in compact form (Layers.compact: the batch's mean and each frame's
 * small deviation, from the model thread): encoders get each frame's bytes from it directly
 * (FramePass.synth: the model's own kernel, so the same bits as the Float32 layer), and
 * `batch.background` stays the Float32 layer of the FrameBatch contract, made on first read.
 * A default run (mask + background videos) thus never makes, moves or collects the 10.4 MB of
 * Float32 a 15-frame batch at 480x360 would take (3.3 MB instead).
 */
import type { FrameBatch } from '../ports.js';
import type { CompactLayers } from './background.js';
import { FramePass } from './kernels/frame-pass.js';

const COMPACT = Symbol('compact background');
type WithCompact = FrameBatch & { [COMPACT]?: CompactLayers };

/** this thread's pass for synth (its heap holds one frame's buffers), for the last frame size seen */
let pass: FramePass | undefined;
function passFor(c: CompactLayers): FramePass {
  const o = pass?.o;
  if (!pass || o!.width !== c.width || o!.height !== c.height || o!.factor !== c.factor) {
    pass = new FramePass({ width: c.width, height: c.height, factor: c.factor, threshold: 0.5, open: 0, close: 0, robust: false, rank: 0 });
  }
  return pass;
}

/** Frame `i`'s background: Float32 (0..1) into out[oo ..], or for a Uint8Array the bytes layerBytes gives (v x 255, rounded, clamped). */
export function backgroundFrame(c: CompactLayers, i: number, out: Float32Array | Uint8Array, oo = 0): void {
  const p = passFor(c);
  p.synth(c.mu, c.dev, i * p.small, out, oo);
}

/** The compact background of `b`, unless its Float32 layer was made or replaced since. */
export function compactBackground(b: FrameBatch): CompactLayers | undefined {
  return (b as WithCompact)[COMPACT];
}

/** Gives `b` its background from `c`: `b.background` (Float32) is made on first read and then kept. */
export function setCompactBackground(b: FrameBatch, c: CompactLayers): void {
  const w = b as WithCompact;
  const settle = (v: Float32Array | undefined) => {
    Object.defineProperty(w, 'background', { value: v, writable: true, enumerable: true, configurable: true });
    delete w[COMPACT];
  };
  Object.defineProperty(w, COMPACT, { value: c, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(w, 'background', {
    enumerable: true,
    configurable: true,
    get() {
      const d = c.width * c.height, f = new Float32Array(w.count * d);
      for (let i = 0; i < w.count; i++) backgroundFrame(c, i, f, i * d);
      settle(f);
      return f;
    },
    set: settle,
  });
}
