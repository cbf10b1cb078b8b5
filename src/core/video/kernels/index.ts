/**
 * Per-pixel kernels of the streaming background model: WebAssembly SIMD (pixels.c, embedded
 * base64 by scripts/build-wasm.sh) with a TypeScript twin (twin.ts) that gives the same bits.
 * Both work on one heap (an ArrayBuffer; pointers are byte offsets), so the caller lays its
 * buffers out once and reuses them for every frame (see frame-pass.ts).
 */
import { PIXELS_WASM } from './pixels.wasm.js';
import { TsPixels } from './twin.js';
import { compileWasm } from '../../linalg/wasm/kernel.js';

export interface PixelKernels {
  /** true for the WebAssembly module, false for the TypeScript twin */
  readonly wasm: boolean;
  /** the heap; replaced by `reserve` when it grows (take views after reserving) */
  readonly buffer: ArrayBuffer;
  /** grows the heap to at least `bytes`; false if it cannot */
  reserve(bytes: number): boolean;
  downU8(w: number, h: number, ch: number, f: number, src: number, scale: number, acc: number, dst: number): void;
  downF32(w: number, h: number, ch: number, f: number, src: number, acc: number, dst: number): void;
  fit(n: number, r: number, xs: number, m: number, U: number, t: number, robust: number, coef: number, dev: number): number;
  bgMask(w: number, h: number, f: number, mu: number, dev: number, x: number, t: number, bits: number, bg: number, row: number, up: number,
    ty0: number, ty1: number, twy: number, tx0: number, tx1: number, twx: number): void;
  openClose(w: number, h: number, ro: number, rc: number, bits: number, tmp: number): void;
  unpack(w: number, h: number, bits: number, out: number): number;
  clean(w: number, h: number, x: number, bg: number, bits: number, out: number, sum: number): void;
  /** per-value median of `count` 8-bit rows of n values, scaled to 0..1 (the warm-up background) */
  medianU8(n: number, count: number, src: number, dst: number): void;
  /** G = C Cᵀ (f64) of the f32 rows X (count x n) about the f64 mean m; cent: count x 256 doubles of scratch */
  gramCentred(n: number, count: number, X: number, m: number, cent: number, G: number): void;
  /** dst[i] = src[i] x 255 stored as into a Uint8ClampedArray (half to even, clamped, NaN -> 0) */
  unitToBytes(n: number, src: number, dst: number): void;
  /** G (k x k, f64) = X Xᵀ of k rows of n doubles (chunked lane sums, see pixels.c) */
  gramF64(n: number, k: number, X: number, G: number): void;
  /** out_j = Σ_i A[j k + i] X_i for j < m (k rows of n doubles) */
  combineF64(n: number, k: number, X: number, m: number, A: number, out: number): void;
}

// the project's lib (ES2023, node types) has no WebAssembly declarations: the few used here
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};
interface WasmMemory { buffer: ArrayBuffer; grow(pages: number): number }

/** First free byte of the module's memory (the first MiB holds its stack). */
export const PIXELS_HEAP = 1 << 20;

let compiled: object | null | undefined;
function pixelsModule(): object | null {
  if (compiled === undefined) compiled = compileWasm(PIXELS_WASM);
  return compiled;
}

type Fn = (...a: number[]) => number;

class WasmPixels implements PixelKernels {
  readonly wasm = true;
  private readonly mem: WasmMemory;
  private readonly x: Record<string, Fn>;
  constructor(exports: Record<string, unknown>) {
    this.mem = exports.memory as WasmMemory;
    this.x = exports as Record<string, Fn>;
  }
  get buffer(): ArrayBuffer { return this.mem.buffer; }
  reserve(bytes: number): boolean {
    try {
      if (bytes > 2 ** 32) return false;
      if (this.mem.buffer.byteLength < bytes) this.mem.grow(Math.ceil((bytes - this.mem.buffer.byteLength) / 65536));
      return true;
    } catch {
      return false;
    }
  }
  downU8(...a: Parameters<PixelKernels['downU8']>): void { this.x.down_u8!(...a); }
  downF32(...a: Parameters<PixelKernels['downF32']>): void { this.x.down_f32!(...a); }
  fit(...a: Parameters<PixelKernels['fit']>): number { return this.x.fit!(...a); }
  bgMask(...a: Parameters<PixelKernels['bgMask']>): void { this.x.bg_mask!(...a); }
  openClose(...a: Parameters<PixelKernels['openClose']>): void { this.x.open_close!(...a); }
  unpack(...a: Parameters<PixelKernels['unpack']>): number { return this.x.unpack!(...a); }
  clean(...a: Parameters<PixelKernels['clean']>): void { this.x.clean!(...a); }
  medianU8(...a: Parameters<PixelKernels['medianU8']>): void { this.x.median_u8!(...a); }
  gramCentred(...a: Parameters<PixelKernels['gramCentred']>): void { this.x.gram_centred!(...a); }
  unitToBytes(...a: Parameters<PixelKernels['unitToBytes']>): void { this.x.unit_to_bytes!(...a); }
  gramF64(...a: Parameters<PixelKernels['gramF64']>): void { this.x.gram_f64!(...a); }
  combineF64(...a: Parameters<PixelKernels['combineF64']>): void { this.x.combine_f64!(...a); }
}

/**
 * A fresh kernel set with its own heap: the WebAssembly module unless `ts` is true, SIMD is
 * unavailable or SVDFLOW_NO_WASM is set; then the TypeScript twin.
 */
export function pixelKernels(opts: { ts?: boolean } = {}): PixelKernels {
  const mod = opts.ts ? null : pixelsModule();
  if (mod) {
    try {
      return new WasmPixels(new WebAssembly.Instance(mod, {}).exports);
    } catch {
      // fall through to the twin
    }
  }
  return new TsPixels();
}

/** Pointers start here in both implementations, so a test can lay out the same data in both. */
export function heapStart(k: PixelKernels): number {
  return k.wasm ? PIXELS_HEAP : 0;
}

/**
 * The heap bytes one buffer of `bytes` takes when the kernels' buffers are laid out one after
 * another: rounded up to 16 (the SIMD loads' alignment), plus 16 bytes between buffers.
 */
export function heapSlot(bytes: number): number {
  return Math.ceil(bytes / 16) * 16 + 16;
}
