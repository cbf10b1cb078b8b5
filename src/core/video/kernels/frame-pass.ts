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
import { pixelKernels, heapStart, heapSlot, type PixelKernels } from './index.js';
import { Matrix, symEig } from '../../linalg/index.js';

/** A model fitted on a warm-up's frames (see FramePass.warmUp). */
export interface WarmModel {
  /** full-resolution mean of the clean frames */
  muFull: Float64Array;
  /** mean of the small clean frames (the subspace's centre) */
  mean: Float64Array;
  /** r' x small, rows = the leading left singular vectors of the centred small frames (r' <= rank) */
  Ut: Float64Array;
  /** their singular values, descending */
  s: Float64Array;
}

/** columns of the median taken per call (count x STRIP bytes staged in the heap) */
const STRIP = 8192;

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
      at += heapSlot(bytes);
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
   * (and added to the sum). `dev`: the frame's small deviation (U coef, `small` values) into
   * dev[devo ..], from which `synth` gives its background again. Returns the number of
   * foreground pixels.
   */
  frame(frames: Uint8Array, xo: number, mask: Uint8Array, mo: number, bg?: Float32Array, bo = 0, block?: Float64Array, dev?: Float32Array, devo = 0): number {
    const { k, p, o } = this;
    const { width: w, height: h, factor: f } = o;
    const d = this.pixels;
    this.u8.set(frames.subarray(xo, xo + d), p.X!);
    k.downU8(w, h, 1, f, p.X!, 1 / 255, p.ACC16!, p.XS!);
    k.fit(this.small, this.r, p.XS!, p.MUS!, p.U!, o.threshold, o.robust ? 1 : 0, p.COEF!, p.DEV!);
    if (dev) dev.set(this.f32.subarray(p.DEV! >> 2, (p.DEV! >> 2) + this.small), devo);
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

  /** The full-resolution mean of this batch's model as the kernels use it (f32, `pixels` values) into `out`. */
  meanF32(out: Float32Array): Float32Array {
    const m = this.p.MU! >> 2;
    out.set(this.f32.subarray(m, m + this.pixels));
    return out;
  }

  /** the mean array synth() last put into the heap */
  private synthMu?: Float32Array;

  /**
   * The background of a frame from its batch's mean (meanF32) and its small deviation (frame's
   * `dev`): the same kernel and inputs as frame(), so the same bits; as Float32 (0..1) into
   * `out` or, for a Uint8Array, as the bytes of a Uint8ClampedArray store of v x 255 (unitToBytes).
   * For a pass of its own (it overwrites the model's mean): layers.ts's background bytes.
   */
  synth(mu: Float32Array, dev: Float32Array, devo: number, out: Float32Array | Uint8Array, oo = 0): void {
    const { k, p, o } = this;
    const { width: w, height: h, factor: f } = o;
    const d = this.pixels;
    if (mu !== this.synthMu) {
      this.f32.set(mu.subarray(0, d), p.MU! >> 2);
      this.synthMu = mu;
    }
    this.f32.set(dev.subarray(devo, devo + this.small), p.DEV! >> 2);
    k.bgMask(w, h, f, p.MU!, p.DEV!, p.X!, o.threshold, p.BITS!, p.BG!, p.ROW!, p.UP!, p.TY0!, p.TY1!, p.TWY!, p.TX0!, p.TX1!, p.TWX!);
    if (out instanceof Float32Array) {
      out.set(this.f32.subarray(p.BG! >> 2, (p.BG! >> 2) + d), oo);
      return;
    }
    k.unitToBytes(d, p.BG!, p.OUT!);
    out.set(this.u8.subarray(p.OUT!, p.OUT! + d), oo);
  }

  /** The coefficients of the last frame's fit (r values). */
  coefficients(): Float32Array {
    const c = this.p.COEF! >> 2;
    return this.f32.slice(c, c + this.r);
  }

  /**
   * The first model of a stream from `count` frames (its first batch, or the seed sample), on the
   * kernels: the per-pixel median stands in for the background (medianU8); each frame's mask
   * against it (bgMask with a zero deviation: background = median) with its opening and closing;
   * the frames with that foreground replaced by the median (clean), summed at full resolution
   * (muFull = sum / count) and downsampled; then the leading `rank` singular triplets of the
   * small clean frames about their mean, from their Gram matrix (gramCentred, f64, then symEig):
   * what IncrementalSvd's first update computes by LQ of the same rows, the same numbers up to
   * rounding. The per-frame buffers it uses are set again by setModel and frame(); its own
   * buffers (count small frames: 7.8 MB for the 45-frame seed at 480x360, the median's strips,
   * the Gram matrix) live in a kernel heap of their own, dropped when it returns, so this pass's
   * heap (WebAssembly memory never shrinks) keeps only the per-frame buffers for the rest of
   * the stream.
   */
  warmUp(frames: Uint8Array, count: number, rank: number): WarmModel {
    const { k, o } = this;
    const { width: w, height: h, factor: f } = o;
    const d = this.pixels, ds = this.small;
    const strip = Math.min(STRIP, d);
    const al = heapSlot;
    // the scratch heap (the same kind of kernels: the twin's bits equal the module's)
    const sk = pixelKernels({ ts: !k.wasm });
    const MED = heapStart(sk), MEDOUT = MED + al(count * strip), SMALLS = MEDOUT + al(4 * strip), CENT = SMALLS + al(4 * count * ds), MEAN = CENT + al(8 * count * 256), G = MEAN + al(8 * ds);
    if (!sk.reserve(G + al(8 * count * count))) throw new Error(`cannot reserve the warm-up's ${G + 8 * count * count} bytes for the pixel kernels`);
    const su8 = new Uint8Array(sk.buffer), sf32 = new Float32Array(sk.buffer);
    const u8 = this.u8, f32 = this.f32, p = this.p;
    // the median, a strip of columns at a time
    for (let j0 = 0; j0 < d; j0 += strip) {
      const n = Math.min(strip, d - j0);
      for (let i = 0; i < count; i++) su8.set(frames.subarray(i * d + j0, i * d + j0 + n), MED + i * n);
      sk.medianU8(n, count, MED, MEDOUT);
      f32.set(sf32.subarray(MEDOUT >> 2, (MEDOUT >> 2) + n), (p.MU! >> 2) + j0);
    }
    f32.fill(0, p.DEV! >> 2, (p.DEV! >> 2) + ds);
    this.resetSum();
    for (let i = 0; i < count; i++) {
      u8.set(frames.subarray(i * d, (i + 1) * d), p.X!);
      k.bgMask(w, h, f, p.MU!, p.DEV!, p.X!, o.threshold, p.BITS!, p.BG!, p.ROW!, p.UP!, p.TY0!, p.TY1!, p.TWY!, p.TX0!, p.TX1!, p.TWX!);
      if (o.open > 0 || o.close > 0) k.openClose(w, h, o.open, o.close, p.BITS!, p.TMP!);
      k.clean(w, h, p.X!, p.BG!, p.BITS!, p.CLEAN!, p.SUM!);
      k.downF32(w, h, 1, f, p.CLEAN!, p.ACCF!, p.SMALL!);
      sf32.set(f32.subarray(p.SMALL! >> 2, (p.SMALL! >> 2) + ds), (SMALLS >> 2) + i * ds);
    }
    const sum = this.sum(), muFull = new Float64Array(d);
    for (let q = 0; q < d; q++) muFull[q] = sum[q]! / count;
    // the small frames' mean: sums in row order, then / count (as IncrementalSvd.update's block mean)
    const X = sf32.subarray(SMALLS >> 2, (SMALLS >> 2) + count * ds);
    const mean = new Float64Array(sk.buffer, MEAN, ds);
    mean.fill(0);
    for (let i = 0; i < count; i++) for (let q = 0; q < ds; q++) mean[q]! += X[i * ds + q]!;
    for (let q = 0; q < ds; q++) mean[q] = mean[q]! / count;
    sk.gramCentred(ds, count, SMALLS, MEAN, CENT, G);
    const { values, vectors } = symEig(new Matrix(count, count, new Float64Array(sk.buffer, G, count * count).slice()));
    // singular values of the centred rows; the directions IncrementalSvd keeps: at most `rank`, above 4 c eps s_max
    const sv = Float64Array.from(values, (v) => Math.sqrt(Math.max(0, v)));
    const tol = 4 * count * 2.220446049250313e-16 * (sv[0] ?? 0);
    let r = Math.min(rank, count, ds);
    while (r > 0 && !(sv[r - 1]! > tol)) r--;
    // u_j = Cᵀ v_j / s_j, then Gram-Schmidt twice (the LQ route's vectors are orthonormal to rounding)
    const Ut = new Float64Array(r * ds);
    for (let j = 0; j < r; j++) {
      const u = Ut.subarray(j * ds, (j + 1) * ds), inv = 1 / sv[j]!;
      for (let i = 0; i < count; i++) {
        const v = vectors.get(i, j) * inv, xo = i * ds;
        for (let q = 0; q < ds; q++) u[q]! += v * (X[xo + q]! - mean[q]!);
      }
    }
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < r; i++) {
        const ui = Ut.subarray(i * ds, (i + 1) * ds);
        for (let j = 0; j < i; j++) {
          const uj = Ut.subarray(j * ds, (j + 1) * ds);
          let s = 0;
          for (let q = 0; q < ds; q++) s += ui[q]! * uj[q]!;
          for (let q = 0; q < ds; q++) ui[q]! -= s * uj[q]!;
        }
        let nn = 0;
        for (let q = 0; q < ds; q++) nn += ui[q]! * ui[q]!;
        const inv = nn > 0 ? 1 / Math.sqrt(nn) : 0;
        for (let q = 0; q < ds; q++) ui[q] = ui[q]! * inv;
      }
    }
    return { muFull, mean: mean.slice(), Ut, s: sv.slice(0, r) };
  }
}
