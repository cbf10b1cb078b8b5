/**
 * The per-frame hot path of the streaming background model on gray frames, on the pixel
 * kernels (WebAssembly SIMD or the TypeScript twin): every buffer lives in the kernels' heap,
 * laid out once for a frame size and reused for every frame (no allocation per frame).
 *
 * Per frame: box-downsample (1/f) → robust fit of the coefficients on the small frame →
 * background = full-resolution mean + bilinear upsampling of the small deviation, fused with the
 * residual |x/255 − background| > threshold into a bit-packed mask → opening and closing on the
 * bits → the mask as 0/1 bytes. Frames that update the model also get their foreground replaced
 * by the background, summed at full resolution (for the mean) and downsampled (for the SVD).
 */
import { pixelKernels, heapStart, type PixelKernels } from './index.js';

export interface FramePassOptions {
  width: number;
  height: number;
  /** model grid factor: 1, 2 or 4 (1/modelScale) */
  factor: number;
  threshold: number;
  open: number;
  close: number;
  robust: boolean;
  /** highest rank the basis may have */
  rank: number;
  /** use the TypeScript twin even where WebAssembly SIMD works */
  ts?: boolean;
}

/**
 * Bilinear up-sampling table of one axis (n pixels from sn model pixels, factor f): the two
 * source indices of each pixel and the weight of the second. ScaleGrid (background.ts) uses it
 * in f64; FramePass stores it in the f32 tables of the kernels.
 */
export function bilinearAxis(n: number, sn: number, f: number): { a0: Int32Array; a1: Int32Array; wt: Float64Array } {
  const a0 = new Int32Array(n), a1 = new Int32Array(n), wt = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.min(sn - 1, Math.max(0, (i + 0.5) / f - 0.5));
    a0[i] = Math.floor(s);
    a1[i] = Math.min(sn - 1, a0[i]! + 1);
    wt[i] = s - a0[i]!;
  }
  return { a0, a1, wt };
}

export class FramePass {
  readonly k: PixelKernels;
  readonly pixels: number;
  /** values of the small (model) frame */
  readonly small: number;
  /** byte offsets of the buffers in the heap (X frame, XS small frame, BITS mask, ...): benchmarks time the kernels one by one with them */
  readonly p: Record<string, number> = {};
  private u8!: Uint8Array;
  private f32!: Float32Array;
  private r = 0;

  constructor(readonly o: FramePassOptions) {
    const { width: w, height: h, factor: f } = o;
    const sw = Math.ceil(w / f), sh = Math.ceil(h / f);
    this.pixels = w * h;
    this.small = sw * sh;
    const pitch = 2 * Math.ceil(w / 128) + 2, bitWords = h * pitch + 2;
    const d = this.pixels, ds = this.small;
    const sizes: Array<[string, number]> = [
      ['X', d], ['ACC16', 2 * w], ['ACCF', 4 * w], ['XS', 4 * ds], ['MUS', 4 * ds], ['U', 4 * ds * Math.max(1, o.rank)], ['COEF', 4 * Math.max(4, o.rank)],
      ['DEV', 4 * ds], ['MU', 4 * d], ['ROW', 4 * (sw + 8)], ['UP', 4 * (w + 8)], ['BITS', 8 * bitWords], ['TMP', 8 * bitWords], ['BG', 4 * d],
      ['CLEAN', 4 * d], ['SUM', 4 * d], ['SMALL', 4 * ds], ['OUT', d], ['TY0', 4 * h], ['TY1', 4 * h], ['TWY', 4 * h], ['TX0', 4 * w], ['TX1', 4 * w], ['TWX', 4 * w],
    ];
    this.k = pixelKernels({ ts: o.ts });
    let at = heapStart(this.k);
    for (const [name, bytes] of sizes) {
      this.p[name] = at;
      at += Math.ceil(bytes / 16) * 16 + 16;
    }
    if (!this.k.reserve(at)) throw new Error(`cannot reserve ${at} bytes for the pixel kernels`);
    this.views();
    const i32 = new Int32Array(this.k.buffer);
    const ty = bilinearAxis(h, sh, f), tx = bilinearAxis(w, sw, f);
    i32.set(ty.a0, this.p.TY0! >> 2); i32.set(ty.a1, this.p.TY1! >> 2); this.f32.set(ty.wt, this.p.TWY! >> 2);
    i32.set(tx.a0, this.p.TX0! >> 2); i32.set(tx.a1, this.p.TX1! >> 2); this.f32.set(tx.wt, this.p.TWX! >> 2);
  }

  private views(): void {
    this.u8 = new Uint8Array(this.k.buffer);
    this.f32 = new Float32Array(this.k.buffer);
  }

  /** The model of this batch: full-resolution mean, the small model's mean and basis (r x small, rows), as f32 in the heap. */
  setModel(muFull: Float64Array, mus: Float64Array, Ut: Float64Array, r: number): void {
    if (r > this.o.rank) throw new Error(`basis of rank ${r} > ${this.o.rank}`);
    this.r = r;
    this.f32.set(muFull, this.p.MU! >> 2);
    this.f32.set(mus, this.p.MUS! >> 2);
    this.f32.set(Ut.subarray(0, r * this.small), this.p.U! >> 2);
  }

  /** Zeroes the full-resolution sum of the clean frames. */
  resetSum(): void {
    const s = this.p.SUM! >> 2;
    this.f32.fill(0, s, s + this.pixels);
  }

  /** The full-resolution sum of the clean frames since resetSum (a view into the heap). */
  sum(): Float32Array {
    const s = this.p.SUM! >> 2;
    return this.f32.subarray(s, s + this.pixels);
  }

  /**
   * One frame `frames[xo .. xo + pixels)`: mask into mask[mo ..] (0/1), background into
   * bg[bo ..] when given, and when `block` is given the clean frame downsampled into it
   * (and added to the sum). Returns the number of foreground pixels.
   */
  frame(frames: Uint8Array, xo: number, mask: Uint8Array, mo: number, bg?: Float32Array, bo = 0, block?: Float64Array): number {
    const { k, p, o } = this;
    const { width: w, height: h, factor: f } = o;
    const d = this.pixels;
    this.u8.set(frames.subarray(xo, xo + d), p.X!);
    k.downU8(w, h, 1, f, p.X!, 1 / 255, p.ACC16!, p.XS!);
    k.fit(this.small, this.r, p.XS!, p.MUS!, p.U!, o.threshold, o.robust ? 1 : 0, p.COEF!, p.DEV!);
    const needBg = !!bg || !!block;
    k.bgMask(w, h, f, p.MU!, p.DEV!, p.X!, o.threshold, p.BITS!, needBg ? p.BG! : 0, p.ROW!, p.UP!, p.TY0!, p.TY1!, p.TWY!, p.TX0!, p.TX1!, p.TWX!);
    if (o.open > 0 || o.close > 0) k.openClose(w, h, o.open, o.close, p.BITS!, p.TMP!);
    const count = k.unpack(w, h, p.BITS!, p.OUT!);
    mask.set(this.u8.subarray(p.OUT!, p.OUT! + d), mo);
    if (bg) bg.set(this.f32.subarray(p.BG! >> 2, (p.BG! >> 2) + d), bo);
    if (block) {
      k.clean(w, h, p.X!, p.BG!, p.BITS!, p.CLEAN!, p.SUM!);
      k.downF32(w, h, 1, f, p.CLEAN!, p.ACCF!, p.SMALL!);
      block.set(this.f32.subarray(p.SMALL! >> 2, (p.SMALL! >> 2) + this.small));
    }
    return count;
  }

  /** The coefficients of the last frame's fit (r values). */
  coefficients(): Float32Array {
    const c = this.p.COEF! >> 2;
    return this.f32.slice(c, c + this.r);
  }
}
