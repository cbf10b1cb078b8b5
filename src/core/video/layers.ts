/** 8-bit pictures of a FrameBatch's layers, for encoders and image writers. */
import { InputError } from '../errors.js';
import type { FrameBatch } from '../ports.js';
import { heapStart, pixelKernels, type PixelKernels } from './kernels/index.js';
import { backgroundFrame, compactBackground } from './background-layer.js';

export type Layer = 'frames' | 'background' | 'foreground' | 'mask';
export const LAYERS: readonly Layer[] = ['frames', 'background', 'foreground', 'mask'];

export function layerChannels(b: FrameBatch, layer: Layer): 1 | 3 {
  return layer === 'mask' ? 1 : b.channels;
}

/** Checks that the batch carries what `layer` needs. */
export function checkLayer(b: FrameBatch, layer: Layer): void {
  if (layer === 'mask' && !b.mask) throw new InputError(`these frame batches have no mask`, 'put background-model before this step');
  // (a compact background first: reading b.background would make its Float32 layer)
  if ((layer === 'background' || layer === 'foreground') && !compactBackground(b) && !b.background && !(layer === 'foreground' && b.foreground)) {
    if (b.mask) throw new InputError(`these frame batches have no ${layer}: the background-model step was told not to emit it`, 'set background: true on the background-model step');
    throw new InputError(`these frame batches have no ${layer}`, 'put background-model before this step');
  }
}

/**
 * 0..1 floats to bytes through a Uint8ClampedArray view: the store clamps to 0..255 and rounds
 * (half to even; for Float32 inputs in 0..1 the only tie is 0.5 → 127.5 → 128, as Math.round),
 * NaN → 0; ~4x faster than clamp255 per value. Used for the background (Float32 in the batch).
 */
const clamped = (o: Uint8Array) => new Uint8ClampedArray(o.buffer, o.byteOffset, o.length);
/** the general rule (differences of floats can land on other ties: Math.round rounds them up) */
const clamp255 = (v: number) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));

/** the kernels for unitBytes (this thread's own; none: SVDFLOW_NO_WASM or no SIMD, the loop above is as fast as the twin) */
let unitKernels: PixelKernels | null | undefined;

/**
 * o = the Uint8ClampedArray rule above for the values of `v`, on the WebAssembly kernel
 * (unit_to_bytes, f64 products as here, ~5x faster than the store loop at 480x360); false where
 * no WebAssembly SIMD is available (the caller runs the loop).
 */
function unitBytes(v: Float32Array, o: Uint8Array): boolean {
  if (unitKernels === undefined) {
    const k = pixelKernels();
    unitKernels = k.wasm ? k : null;
  }
  const k = unitKernels;
  if (!k) return false;
  const n = v.length, src = heapStart(k), dst = src + 4 * n + 16;
  if (!k.reserve(dst + n + 16)) return false;
  new Float32Array(k.buffer, src, n).set(v);
  k.unitToBytes(n, src, dst);
  o.set(new Uint8Array(k.buffer, dst, n));
  return true;
}

/**
 * Frame `i` of the batch as bytes: frames as decoded, background scaled to 0..255,
 * foreground as |frame − background| (x255), mask as 0/255.
 */
export function layerBytes(b: FrameBatch, layer: Layer, i: number, out?: Uint8Array): Uint8Array {
  const d = b.width * b.height * b.channels;
  const px = b.width * b.height;
  if (layer === 'mask') return maskBytes(b.mask!, i * px, px, out ?? new Uint8Array(px));
  const o = out ?? new Uint8Array(d);
  const x = b.frames, xo = i * d;
  if (layer === 'frames') {
    o.set(x.subarray(xo, xo + d));
    return o;
  }
  if (layer === 'foreground' && b.foreground) {
    const f = b.foreground;
    for (let p = 0; p < d; p++) o[p] = clamp255(Math.abs(f[xo + p]!));
    return o;
  }
  const compact = layer === 'background' ? compactBackground(b) : undefined;
  if (compact) {
    backgroundFrame(compact, i, o);
    return o;
  }
  const bg = b.background!;
  if (layer === 'background') {
    if (d >= 4096 && unitBytes(bg.subarray(xo, xo + d), o)) return o;
    const c = clamped(o);
    for (let p = 0; p < d; p++) c[p] = bg[xo + p]! * 255;
    return o;
  }
  for (let p = 0; p < d; p++) o[p] = clamp255(Math.abs(x[xo + p]! / 255 - bg[xo + p]!));
  return o;
}

/**
 * o[p] = 255 where m[mo + p] is not 0, else 0, for p < n: four bytes at a time when both
 * arrays are 4-byte aligned there (the OR of a byte's bits lands in its lowest bit, which no
 * neighbouring byte reaches; times 255 cannot carry), else byte by byte. On 480x360 masks
 * (480x360) ~7x faster than the byte loop it replaces (0.44-0.73 -> 0.05-0.10 ms per frame at
 * load ~10; bench/video-cost.ts times it as "mask as 0/255 bytes").
 */
export function maskBytes(m: Uint8Array, mo: number, n: number, o: Uint8Array): Uint8Array {
  let p = 0;
  const ma = m.byteOffset + mo;
  if ((ma & 3) === 0 && (o.byteOffset & 3) === 0 && n >= 4) {
    const n4 = n >> 2;
    const m32 = new Uint32Array(m.buffer, ma, n4), o32 = new Uint32Array(o.buffer, o.byteOffset, n4);
    for (let k = 0; k < n4; k++) {
      let t = m32[k]!;
      t |= t >>> 4;
      t |= t >>> 2;
      t |= t >>> 1;
      o32[k] = (t & 0x01010101) * 255;
    }
    p = n4 << 2;
  }
  for (; p < n; p++) o[p] = m[mo + p] ? 255 : 0;
  return o;
}
