/** 8-bit pictures of a FrameBatch's layers, for encoders and image writers. */
import { InputError } from '../errors.js';
import type { FrameBatch } from '../ports.js';

export type Layer = 'frames' | 'background' | 'foreground' | 'mask';
export const LAYERS: readonly Layer[] = ['frames', 'background', 'foreground', 'mask'];

export function layerChannels(b: FrameBatch, layer: Layer): 1 | 3 {
  return layer === 'mask' ? 1 : b.channels;
}

/** Checks that the batch carries what `layer` needs. */
export function checkLayer(b: FrameBatch, layer: Layer): void {
  if (layer === 'mask' && !b.mask) throw new InputError(`these frame batches have no mask`, 'put background-model before this step');
  if ((layer === 'background' || layer === 'foreground') && !b.background) throw new InputError(`these frame batches have no ${layer}`, 'put background-model before this step');
}

/**
 * Frame `i` of the batch as bytes: frames and background scaled to 0..255,
 * foreground as |frame − background| (x255), mask as 0/255.
 */
export function layerBytes(b: FrameBatch, layer: Layer, i: number, out?: Uint8Array): Uint8Array {
  const d = b.frames.cols;
  const px = b.width * b.height;
  if (layer === 'mask') {
    const o = out ?? new Uint8Array(px);
    const m = b.mask!;
    for (let p = 0, q = i * px; p < px; p++, q++) o[p] = m[q] ? 255 : 0;
    return o;
  }
  const o = out ?? new Uint8Array(d);
  const x = b.frames.data, xo = b.frames.offset + i * b.frames.stride;
  if (layer === 'frames') {
    for (let p = 0; p < d; p++) o[p] = Math.round(Math.min(1, Math.max(0, x[xo + p]!)) * 255);
    return o;
  }
  const bg = b.background!, bgd = bg.data, bo = bg.offset + i * bg.stride;
  if (layer === 'background') {
    for (let p = 0; p < d; p++) o[p] = Math.round(Math.min(1, Math.max(0, bgd[bo + p]!)) * 255);
    return o;
  }
  if (b.foreground) {
    const f = b.foreground, fo = f.offset + i * f.stride;
    for (let p = 0; p < d; p++) o[p] = Math.round(Math.min(1, Math.abs(f.data[fo + p]!)) * 255);
    return o;
  }
  for (let p = 0; p < d; p++) o[p] = Math.round(Math.min(1, Math.abs(x[xo + p]! - bgd[bo + p]!)) * 255);
  return o;
}
