/**
 * Batch mode of the background model, and batch assembly: all frame batches of a
 * short clip stacked into one matrix, one exact SVD, and the result cut back into
 * the original batches. Pure (no I/O, no RxJS).
 */
import { InputError } from '../errors.js';
import { Matrix } from '../linalg/matrix.js';
import type { FrameBatch } from '../ports.js';
import { batchBackground, masksFor, type MaskOptions } from './background.js';

/** batch mode has no adaptive threshold (no running residual statistics): a global threshold */
export interface BatchModelOptions extends Omit<MaskOptions, 'adaptive'> {
  rank: number;
  /** refuse more than this many values (frames x pixels) */
  maxBatchValues: number;
  /** emit the background layer */
  background: boolean;
  /** emit the foreground layer */
  foreground: boolean;
}

/** The 8-bit frames of all batches, one after the other (n frames of d values). */
export function stackBatches(batches: readonly FrameBatch[], maxValues = Infinity): { frames: Uint8Array; n: number; d: number } {
  const b0 = batches[0];
  if (!b0) return { frames: new Uint8Array(0), n: 0, d: 0 };
  const n = batches.reduce((s, b) => s + b.count, 0);
  const d = b0.width * b0.height * b0.channels;
  if (n * d > maxValues) throw new InputError(`batch mode needs all ${n} frames of ${d} values in memory (${n * d} values > maxBatchValues ${maxValues})`, 'use mode: streaming, decode with a smaller scale, or a shorter range (start/end)');
  const frames = new Uint8Array(n * d);
  let r = 0;
  for (const b of batches) {
    if (b.width * b.height * b.channels !== d) throw new InputError(`batch at frame ${b.start} is ${b.width}x${b.height}x${b.channels}, the first is ${b0.width}x${b0.height}x${b0.channels}`, 'decode with one size');
    frames.set(b.frames.subarray(0, b.count * d), r * d);
    r += b.count;
  }
  return { frames, n, d };
}

/** foreground = frame / 255 − background, value by value. */
export function foregroundOf(frames: Uint8Array, background: Float32Array): Float32Array {
  const fg = new Float32Array(background.length);
  for (let i = 0; i < fg.length; i++) fg[i] = frames[i]! / 255 - background[i]!;
  return fg;
}

/** Batch mode: one exact rank-r SVD of all frames; the batches come back with mask (and background/foreground when asked). */
export function batchModel(batches: readonly FrameBatch[], o: BatchModelOptions): FrameBatch[] {
  const { frames, n, d } = stackBatches(batches, o.maxBatchValues);
  const b0 = batches[0];
  if (!b0) return [];
  const X = new Matrix(n, d);
  for (let i = 0; i < X.data.length; i++) X.data[i] = frames[i]! / 255;
  const B = batchBackground(X, o.rank);
  const mask = masksFor(frames, B, n, b0.width, b0.height, b0.channels, { ...o, adaptive: 0 });
  const px = b0.width * b0.height;
  let r = 0;
  return batches.map((b) => {
    const background = B.slice(r * d, (r + b.count) * d);
    const out: FrameBatch = { ...b, mask: mask.slice(r * px, (r + b.count) * px) };
    if (o.background) out.background = background;
    if (o.foreground) out.foreground = foregroundOf(b.frames, background);
    r += b.count;
    return out;
  });
}
