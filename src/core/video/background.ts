/**
 * Background subtraction with a low-rank model: frames are samples (rows here,
 * the columns of the textbook d x n matrix), the background is the projection of
 * a frame onto a rank-r subspace plus the mean, the foreground is the rest.
 *
 * Streaming: `StreamingBackground.process(frames, count)` with the core's incremental
 * SVD (Brand, with a running mean and a forgetting factor), frame by frame in
 * bounded memory: frames stay 8-bit, the background is Float32 (and only produced
 * when asked for), and only the model update works in Float64.
 *
 * Model scale: the low-rank part is fitted on frames box-downsampled by
 * 1/modelScale (default 0.5: a quarter of the pixels), while the mean is kept at
 * full resolution: background = mean (full resolution, carries the texture and
 * edges) + bilinear upsampling of U Uᵀ(down(x) − down(mean)) (the slow, smooth
 * variations: light, shadows). Masks are computed at full resolution.
 *
 * Robust update: the projection coefficients are fitted on the downsampled frame
 * with the pixels that look like foreground (residual above the threshold)
 * replaced by the background, and the frames that update the model have their
 * final mask's pixels replaced by the background, so moving objects do not bleed
 * into it. Warm-up: the first batch's per-pixel median stands in for the
 * background until the model exists.
 * Batch: `batchBackground(frames)` takes one exact SVD of all frames.
 */
import { IncrementalSvd, Matrix, svd } from '../linalg/index.js';
import { openClose } from './morphology.js';
import { FramePass, bilinearAxis, type FramePassOptions } from './kernels/frame-pass.js';
import { gramUpdate } from './model-update.js';
import { unfilledBytes, unfilledFloats } from './alloc.js';

/** Factors the low-rank part may be fitted at (box downsampling by 1, 2 or 4). */
export const MODEL_SCALES = [1, 0.5, 0.25] as const;
export type ModelScale = (typeof MODEL_SCALES)[number];

export interface MaskOptions {
  /** residual (0..1) above which a pixel is foreground */
  threshold: number;
  /** per-pixel threshold max(threshold, adaptive * residual std); 0 = global threshold only */
  adaptive: number;
  /** radius of the opening (speck removal) and of the closing (hole filling); 0 = none */
  open: number;
  close: number;
}

export interface StreamingOptions extends MaskOptions {
  width: number;
  height: number;
  channels: 1 | 3;
  rank: number;
  /** forgetting factor per batch in (0, 1] */
  forget: number;
  /** replace foreground pixels by the background before fitting and updating the model */
  robust: boolean;
  /** update the model with every k-th frame only (speed) */
  updateEvery: number;
  /** the low-rank part is fitted on frames downsampled by this factor */
  modelScale: ModelScale;
}

export interface Layers {
  /** count x dim, 0..1; absent unless asked for */
  background?: Float32Array;
  /** count x pixels, 0/1 */
  mask: Uint8Array;
  /** the background in compact form (asked for with 'compact', gray frames on the kernels): see CompactLayers */
  compact?: CompactLayers;
}

/**
 * A batch's background as its model gives it, in a fraction of the space: the full-resolution
 * mean of the batch's model (f32, as the kernels use it) and each frame's small deviation
 * (U coef on the model grid), from which FramePass.synth computes each frame's background
 * again with the same kernel and inputs, so the same bits (480x360: 3.3 MB a 15-frame batch
 * instead of 10.4 MB of Float32).
 */
export interface CompactLayers {
  width: number;
  height: number;
  factor: number;
  /** `width x height` values */
  mu: Float32Array;
  /** count x small values, small = ceil(width / factor) x ceil(height / factor) */
  dev: Float32Array;
}

type Pixels = Uint8Array | Float32Array | Float64Array;
const INV255 = 1 / 255;

/** Box downsampling by an integer factor and bilinear upsampling back (interleaved channels). */
export class ScaleGrid {
  readonly sw: number;
  readonly sh: number;
  /** values of a downsampled frame (sw*sh*ch) */
  readonly size: number;
  private readonly xmap: Int32Array;
  private readonly inv: Float64Array;
  private readonly x0: Int32Array;
  private readonly x1: Int32Array;
  private readonly wx: Float64Array;
  private readonly y0: Int32Array;
  private readonly y1: Int32Array;
  private readonly wy: Float64Array;
  private readonly row: Float64Array;

  constructor(readonly w: number, readonly h: number, readonly ch: number, readonly f: number) {
    this.sw = Math.ceil(w / f);
    this.sh = Math.ceil(h / f);
    this.size = this.sw * this.sh * ch;
    this.xmap = Int32Array.from({ length: w }, (_, x) => Math.floor(x / f));
    const counts = new Float64Array(this.sw * this.sh);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) counts[Math.floor(y / f) * this.sw + this.xmap[x]!]! += 1;
    this.inv = new Float64Array(this.size);
    for (let q = 0; q < this.size; q++) this.inv[q] = 1 / counts[Math.floor(q / ch)]!;
    ({ a0: this.x0, a1: this.x1, wt: this.wx } = bilinearAxis(w, this.sw, f));
    ({ a0: this.y0, a1: this.y1, wt: this.wy } = bilinearAxis(h, this.sh, f));
    this.row = new Float64Array(this.sw * ch);
  }

  /** out = box average of src[so .. so + w*h*ch) times `scale`. */
  down(src: Pixels, so: number, scale: number, out: Float64Array): Float64Array {
    const { w, h, ch, sw, xmap, inv } = this;
    out.fill(0);
    for (let y = 0; y < h; y++) {
      const ob = Math.floor(y / this.f) * sw * ch, sb = so + y * w * ch;
      if (ch === 1) for (let x = 0; x < w; x++) out[ob + xmap[x]!]! += src[sb + x]!;
      else for (let x = 0; x < w; x++) for (let c = 0; c < ch; c++) out[ob + xmap[x]! * ch + c]! += src[sb + x * ch + c]!;
    }
    for (let q = 0; q < out.length; q++) out[q] = out[q]! * inv[q]! * scale;
    return out;
  }

  /** out[oo + p] = base[p] + bilinear upsampling of `small` at p, for every full-resolution value p. */
  upAdd(small: Float64Array, base: Float64Array, out: Float32Array | Float64Array, oo: number): void {
    const { w, h, ch, sw, x0, x1, wx, y0, y1, wy, row } = this;
    const n = sw * ch;
    for (let y = 0; y < h; y++) {
      const r0 = y0[y]! * n, r1 = y1[y]! * n, a = wy[y]!;
      for (let q = 0; q < n; q++) row[q] = small[r0 + q]! + a * (small[r1 + q]! - small[r0 + q]!);
      const ob = y * w * ch;
      if (ch === 1) {
        for (let x = 0; x < w; x++) {
          const v0 = row[x0[x]!]!;
          out[oo + ob + x] = base[ob + x]! + v0 + wx[x]! * (row[x1[x]!]! - v0);
        }
      } else {
        for (let x = 0; x < w; x++) {
          const q0 = x0[x]! * ch, q1 = x1[x]! * ch, b = wx[x]!;
          for (let c = 0; c < ch; c++) out[oo + ob + x * ch + c] = base[ob + x * ch + c]! + row[q0 + c]! + b * (row[q1 + c]! - row[q0 + c]!);
        }
      }
    }
  }
}

/**
 * Per-frame residual and mask: for pixel p, e = max over channels |x/255 − bg|;
 * mask = e > max(threshold, adaptive·σ_p). Returns the number of foreground pixels.
 */
export function maskFrame(x: Uint8Array, xo: number, bg: Float32Array | Float64Array, bo: number, pixels: number, channels: number, o: MaskOptions, sigma: Float64Array | undefined, mask: Uint8Array, mo: number): number {
  const t = o.threshold;
  const k = o.adaptive;
  let count = 0;
  if (channels === 1 && !sigma) {
    for (let p = 0; p < pixels; p++) {
      const e = Math.abs(x[xo + p]! * INV255 - bg[bo + p]!);
      const m = e > t ? 1 : 0;
      mask[mo + p] = m;
      count += m;
    }
    return count;
  }
  for (let p = 0; p < pixels; p++) {
    const q = p * channels;
    let e = 0;
    for (let c = 0; c < channels; c++) e = Math.max(e, Math.abs(x[xo + q + c]! * INV255 - bg[bo + q + c]!));
    const thr = sigma ? Math.max(t, k * sigma[p]!) : t;
    const m = e > thr ? 1 : 0;
    mask[mo + p] = m;
    count += m;
  }
  return count;
}

/** Gray, rank <= 2, global threshold: background = mu + c0 u0 + c1 u1 and mask in one pass. */
function backgroundAndMask(x: Uint8Array, xo: number, mu: Float64Array, up: Float64Array, coef: Float64Array, r: number, bg: Float32Array, bo: number, t: number, mask: Uint8Array, mo: number): void {
  const n = mu.length;
  const c0 = r > 0 ? coef[0]! : 0, c1 = r > 1 ? coef[1]! : 0;
  const o1 = r > 1 ? n : 0;
  if (r === 0) {
    for (let p = 0; p < n; p++) {
      const b = mu[p]!;
      bg[bo + p] = b;
      mask[mo + p] = Math.abs(x[xo + p]! * INV255 - b) > t ? 1 : 0;
    }
    return;
  }
  for (let p = 0; p < n; p++) {
    const b = mu[p]! + c0 * up[p]! + c1 * up[o1 + p]!;
    bg[bo + p] = b;
    mask[mo + p] = Math.abs(x[xo + p]! * INV255 - b) > t ? 1 : 0;
  }
}

/** Per-pixel median of `count` 8-bit frames of `d` values, scaled to 0..1 (warm-up background). */
export function medianFrames(frames: Uint8Array, count: number, d: number): Float32Array {
  const out = new Float32Array(d);
  const col = new Uint8Array(count);
  const hist = new Uint16Array(256);
  const lo = Math.floor((count - 1) / 2), hi = Math.floor(count / 2);
  for (let j = 0; j < d; j++) {
    if (count <= 64) {
      for (let i = 0; i < count; i++) col[i] = frames[i * d + j]!;
      col.sort();
      out[j] = ((col[lo]! + col[hi]!) / 2) * INV255;
    } else {
      hist.fill(0);
      for (let i = 0; i < count; i++) hist[frames[i * d + j]!]!++;
      let acc = 0, a = -1, b = -1;
      for (let v = 0; v < 256 && b < 0; v++) {
        acc += hist[v]!;
        if (a < 0 && acc > lo) a = v;
        if (acc > hi) b = v;
      }
      out[j] = ((a + b) / 2) * INV255;
    }
  }
  return out;
}

export class StreamingBackground {
  model?: IncrementalSvd;
  /** the running mean at full resolution (same weights as the model's own mean) */
  muFull?: Float64Array;
  /** per-pixel residual standard deviation (adaptive threshold) */
  sigma?: Float64Array;
  /** frames processed */
  frames = 0;
  readonly pixels: number;
  readonly dim: number;
  readonly grid: ScaleGrid;
  private readonly xs: Float64Array;
  private readonly dev: Float64Array;
  private readonly bgTmp: Float32Array;
  private readonly cleanTmp: Float64Array;
  private readonly morph: { a: Uint8Array; b: Uint8Array };
  private up?: Float64Array;
  private zero?: Float64Array;
  private pass?: FramePass;
  private blockData = new Float64Array(0);

  constructor(readonly o: StreamingOptions) {
    this.pixels = o.width * o.height;
    this.dim = this.pixels * o.channels;
    this.grid = new ScaleGrid(o.width, o.height, o.channels, Math.round(1 / o.modelScale));
    this.xs = new Float64Array(this.grid.size);
    this.dev = new Float64Array(this.grid.size);
    this.bgTmp = new Float32Array(this.dim);
    this.cleanTmp = new Float64Array(this.dim);
    this.morph = { a: new Uint8Array(this.pixels), b: new Uint8Array(this.pixels) };
  }

  /**
   * Forgets the model (the next batch warms a new one up, as the first batch of a stream does),
   * keeping the buffers: the kernels' heap and the update block, which a new instance would make
   * again while the old ones wait for the thread's next full GC.
   */
  reset(): void {
    this.model = undefined;
    this.muFull = undefined;
    this.sigma = undefined;
    this.frames = 0;
  }

  private morphology(mask: Uint8Array, mo: number): void {
    const o = this.o;
    if (o.open > 0 || o.close > 0) openClose(mask.subarray(mo, mo + this.pixels), o.width, o.height, o.open, o.close, this.morph);
  }

  /**
   * Background (when `withBackground`) and mask of `count` 8-bit frames of `dim`
   * values each (frame after frame); then updates the model with every
   * updateEvery-th frame (by absolute number), foreground replaced by background.
   */
  process(frames: Uint8Array, count: number, withBackground: boolean | 'compact' = true): Layers {
    const o = this.o, d = this.dim, px = this.pixels, g = this.grid, ds = g.size;
    // the first batch of a model (a stream's first, or the seed sample) is no steady batch: its update works in heap space of its own
    const first = !this.model;
    if (first) this.warmUp(frames, count);
    const model = this.model!, muFull = this.muFull!;
    if (o.channels === 1 && !(o.adaptive > 0)) return this.processGray(frames, count, withBackground, first);
    const mask = new Uint8Array(count * px);
    // (no compact form off the kernels: 'compact' gives the Float32 background)
    const background = withBackground ? new Float32Array(count * d) : undefined;
    const Ut = model.Ut_, r = Ut.rows, u = Ut.data, mus = model.mean;
    const coef = new Float64Array(r);
    // the basis upsampled once per batch: background = muFull + Σ_j coef_j up(u_j), one pass per frame
    const up = this.upBasis(u, r);
    const keep: number[] = [];
    for (let i = 0; i < count; i++) if ((this.frames + i) % o.updateEvery === 0) keep.push(i);
    const block = keep.length ? new Matrix(keep.length, ds) : undefined;
    const sum = keep.length ? new Float64Array(d) : undefined;
    const sigma = o.adaptive > 0 ? this.sigma : undefined;
    let k = 0;
    for (let i = 0; i < count; i++) {
      const xs = g.down(frames, i * d, INV255, this.xs);
      this.fit(xs, mus, u, r, coef, o.robust);
      const bg = background ?? this.bgTmp, bo = background ? i * d : 0;
      if (r <= 2 && o.channels === 1 && !sigma) {
        backgroundAndMask(frames, i * d, muFull, up, coef, r, bg, bo, o.threshold, mask, i * px);
      } else {
        for (let q = 0; q < d; q++) {
          let v = muFull[q]!;
          for (let j = 0; j < r; j++) v += coef[j]! * up[j * d + q]!;
          bg[bo + q] = v;
        }
        maskFrame(frames, i * d, bg, bo, px, o.channels, o, sigma, mask, i * px);
      }
      this.morphology(mask, i * px);
      if (sigma) this.updateSigma(frames, i * d, bg, bo, mask, i * px, count);
      if (keep[k] === i) {
        const c = this.cleanTmp, s = sum!, ch = o.channels;
        for (let p = 0; p < px; p++) {
          const m = mask[i * px + p];
          for (let q = p * ch; q < p * ch + ch; q++) {
            const v = m ? bg[bo + q]! : frames[i * d + q]! * INV255;
            c[q] = v;
            s[q]! += v;
          }
        }
        g.down(c, 0, 1, block!.data.subarray(k * ds, (k + 1) * ds));
        k++;
      }
    }
    if (block) this.update(block, sum!);
    this.frames += count;
    return { background, mask };
  }

  /** `process` for gray frames with a global threshold: the per-pixel work on the pixel kernels (kernels/frame-pass.ts). */
  private processGray(frames: Uint8Array, count: number, withBackground: boolean | 'compact', first: boolean): Layers {
    const o = this.o, d = this.dim, model = this.model!;
    this.pass ??= new FramePass(this.passOptions());
    const pass = this.pass, ds = this.grid.size;
    const Ut = model.Ut_;
    pass.setModel(this.muFull!, model.mean, Ut.data, Ut.rows);
    // every value of the mask and background is written below (one frame after the other)
    const mask = unfilledBytes(count * d);
    const background = withBackground === true ? unfilledFloats(count * d) : undefined;
    const compact: CompactLayers | undefined = withBackground === 'compact' ? { width: o.width, height: o.height, factor: this.grid.f, mu: pass.meanF32(unfilledFloats(d)), dev: unfilledFloats(count * ds) } : undefined;
    let keep = 0;
    for (let i = 0; i < count; i++) if ((this.frames + i) % o.updateEvery === 0) keep++;
    // the update block is used up by update() before the next batch: one buffer for the stream
    // (a first batch's block, such as the seed's 15 rows, is its own: the stream's stays the steady size)
    if (keep && !first && this.blockData.length !== keep * ds) this.blockData = new Float64Array(keep * ds);
    const block = keep ? new Matrix(keep, ds, first ? new Float64Array(keep * ds) : this.blockData) : undefined;
    if (keep) pass.resetSum();
    let k = 0;
    for (let i = 0; i < count; i++) {
      const upd = (this.frames + i) % o.updateEvery === 0;
      pass.frame(frames, i * d, mask, i * d, background, i * d, upd ? block!.data.subarray(k * ds, (k + 1) * ds) : undefined, compact?.dev, i * ds);
      if (upd) k++;
    }
    if (block) this.update(block, pass.sum(), first);
    this.frames += count;
    return compact ? { mask, compact } : { background, mask };
  }

  private passOptions(): FramePassOptions {
    const o = this.o;
    return { width: o.width, height: o.height, factor: this.grid.f, threshold: o.threshold, open: o.open, close: o.close, robust: o.robust, rank: o.rank };
  }

  /** The r basis vectors upsampled to full resolution (r x dim). */
  private upBasis(u: Float64Array, r: number): Float64Array {
    const d = this.dim, ds = this.grid.size;
    if (!this.up || this.up.length !== r * d) this.up = new Float64Array(r * d);
    if (!this.zero || this.zero.length !== d) this.zero = new Float64Array(d);
    for (let j = 0; j < r; j++) this.grid.upAdd(u.subarray(j * ds, (j + 1) * ds), this.zero, this.up, j * d);
    return this.up;
  }

  /**
   * coef = Uᵀ(xs − mus); robust: again after replacing the values whose residual
   * exceeds the threshold by the background. `wantDev`: leave U coef in this.dev.
   */
  private fit(xs: Float64Array, mus: Float64Array, u: Float64Array, r: number, coef: Float64Array, robust: boolean, wantDev = false): void {
    const ds = xs.length, dev = this.dev, ch = this.o.channels, t = this.o.threshold;
    const coefficients = () => {
      if (r === 2) {
        let s0 = 0, s1 = 0;
        for (let q = 0; q < ds; q++) {
          const v = xs[q]! - mus[q]!;
          s0 += u[q]! * v;
          s1 += u[ds + q]! * v;
        }
        coef[0] = s0;
        coef[1] = s1;
        return;
      }
      for (let j = 0; j < r; j++) {
        let s = 0;
        const b = j * ds;
        for (let q = 0; q < ds; q++) s += u[b + q]! * (xs[q]! - mus[q]!);
        coef[j] = s;
      }
    };
    const deviation = () => {
      dev.fill(0);
      for (let j = 0; j < r; j++) {
        const cj = coef[j]!, b = j * ds;
        for (let q = 0; q < ds; q++) dev[q]! += cj * u[b + q]!;
      }
    };
    coefficients();
    if (robust && r > 0) {
      deviation();
      let replaced = 0;
      for (let p = 0; p < ds; p += ch) {
        let e = 0;
        for (let c = p; c < p + ch; c++) e = Math.max(e, Math.abs(xs[c]! - mus[c]! - dev[c]!));
        if (e > t) {
          for (let c = p; c < p + ch; c++) xs[c] = mus[c]! + dev[c]!;
          replaced++;
        }
      }
      if (replaced) coefficients();
      else if (wantDev) return;
    }
    if (wantDev) deviation();
  }

  /** Model update with the downsampled clean frames; the full-resolution mean follows with the same weights. */
  private update(block: Matrix, sum: Float64Array | Float32Array, oneOff = false): void {
    const mu = this.muFull!;
    const nOld = this.model!.nSeen;
    const model = (this.model = gramUpdate(this.model!, block, oneOff));
    const a = (this.o.forget * nOld) / model.nSeen, b = (1 - a) / block.rows;
    for (let q = 0; q < mu.length; q++) mu[q] = a * mu[q]! + b * sum[q]!;
  }

  /**
   * First batch: median background, masks against it, and the model fitted on the cleaned frames.
   * Gray frames with a global threshold: on the pixel kernels, as the per-frame path
   * (FramePass.warmUp: the per-frame buffers in the stream's pass, its scratch in a heap dropped
   * on return); otherwise here.
   */
  private warmUp(frames: Uint8Array, count: number): void {
    const o = this.o, d = this.dim, px = this.pixels, ch = o.channels, g = this.grid;
    if (ch === 1 && !(o.adaptive > 0)) {
      const warm = (this.pass ??= new FramePass(this.passOptions())).warmUp(frames, count, o.rank);
      const blank = new IncrementalSvd({ dim: g.size, rank: o.rank, forget: o.forget, center: true });
      this.model = IncrementalSvd.fromState({ ...blank.toState(), nSeen: count, updates: 1, mean: warm.mean, Ut: warm.Ut, s: warm.s });
      this.muFull = warm.muFull;
      return;
    }
    const med = medianFrames(frames, count, d);
    // the cleaned frames are kept only for the adaptive threshold's σ below; otherwise one frame's
    // worth is reused (a 45-frame seed at 480x360 would hold 31 MB of Float32 for nothing)
    const keepAll = o.adaptive > 0;
    const clean = new Float32Array(keepAll ? count * d : d);
    const mask = new Uint8Array(px);
    const block = new Matrix(count, g.size);
    const mu = new Float64Array(d);
    for (let i = 0; i < count; i++) {
      maskFrame(frames, i * d, med, 0, px, ch, o, undefined, mask, 0);
      this.morphology(mask, 0);
      const co = keepAll ? i * d : 0;
      for (let p = 0; p < px; p++) {
        for (let q = p * ch; q < p * ch + ch; q++) {
          const v = mask[p] ? med[q]! : frames[i * d + q]! * INV255;
          clean[co + q] = v;
          mu[q]! += v / count;
        }
      }
      g.down(clean, co, 1, block.data.subarray(i * g.size, (i + 1) * g.size));
    }
    this.model = new IncrementalSvd({ dim: g.size, rank: o.rank, forget: o.forget, center: true });
    this.model.update(block);
    this.muFull = mu;
    if (o.adaptive > 0) {
      // σ² = mean squared residual of the cleaned frames against their own model background
      const s = new Float64Array(px), mus = this.model.mean, Ut = this.model.Ut_;
      const coef = new Float64Array(Ut.rows);
      for (let i = 0; i < count; i++) {
        this.fit(block.data.slice(i * g.size, (i + 1) * g.size), mus, Ut.data, Ut.rows, coef, false, true);
        g.upAdd(this.dev, mu, this.bgTmp, 0);
        for (let p = 0; p < px; p++) {
          let e = 0;
          for (let q = p * ch; q < p * ch + ch; q++) e = Math.max(e, Math.abs(clean[i * d + q]! - this.bgTmp[q]!));
          s[p]! += (e * e) / count;
        }
      }
      for (let p = 0; p < px; p++) s[p] = Math.sqrt(s[p]!);
      this.sigma = s;
    }
  }

  /** Exponential running variance of the residual on background pixels (rate 1 − forget^(1/b) per frame). */
  private updateSigma(x: Uint8Array, xo: number, bg: Float32Array, bo: number, mask: Uint8Array, mo: number, b: number): void {
    const s = this.sigma!, ch = this.o.channels;
    const a = Math.min(0.5, 1 - Math.pow(this.o.forget, 1 / Math.max(1, b)));
    const alpha = a > 0 ? a : 0.02;
    for (let p = 0; p < this.pixels; p++) {
      if (mask[mo + p]) continue;
      let e = 0;
      for (let q = p * ch; q < p * ch + ch; q++) e = Math.max(e, Math.abs(x[xo + q]! * INV255 - bg[bo + q]!));
      const v = s[p]! * s[p]!;
      s[p] = Math.sqrt(v + alpha * (e * e - v));
    }
  }

  toState(): Record<string, unknown> {
    const st = this.model?.toState();
    return {
      frames: this.frames,
      hasModel: !!st,
      modelScale: this.o.modelScale,
      ...(st ? { isvd: { ...st, mean: undefined, Ut: undefined, s: undefined }, mean: st.mean, Ut: st.Ut, s: st.s, muFull: this.muFull } : {}),
      ...(this.sigma ? { sigma: this.sigma } : {}),
    };
  }

  static fromState(o: StreamingOptions, st: Record<string, unknown>): StreamingBackground {
    const m = new StreamingBackground(o);
    m.frames = st.frames as number;
    if (st.hasModel) {
      if (st.modelScale !== o.modelScale) throw new Error(`checkpoint was made with modelScale ${String(st.modelScale)}, this run has ${o.modelScale}`);
      const meta = st.isvd as Record<string, unknown>;
      m.model = IncrementalSvd.fromState({ ...(meta as object), mean: st.mean, Ut: st.Ut, s: st.s } as never);
      const mu = st.muFull as Float64Array | undefined;
      if (m.model.dim !== m.grid.size || mu?.length !== m.dim) throw new Error(`checkpoint is for frames of ${mu?.length ?? '?'} values, these have ${m.dim}`);
      m.muFull = mu;
    }
    if (st.sigma) m.sigma = st.sigma as Float64Array;
    return m;
  }
}

/** Batch mode: one exact SVD of all frames (n x d, 0..1), rank-r projection plus the mean, as Float32. */
export function batchBackground(X: Matrix, rank: number): Float32Array {
  const n = X.rows, d = X.cols;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = X.row(i);
    for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  }
  for (let i = 0; i < n; i++) {
    const r = X.row(i);
    for (let j = 0; j < d; j++) r[j] = r[j]! - mean[j]!;
  }
  const k = Math.min(rank, n, d);
  const f = svd(X, { solver: 'exact', rank: k });
  // background_i = mean + Σ_j U_ij s_j V_jᵀ  (rows are frames: C = U S Vᵀ with U n x k, V d x k)
  const B = new Float32Array(n * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    row.set(mean);
    for (let j = 0; j < k; j++) {
      const w = f.U.get(i, j) * f.s[j]!;
      for (let t = 0; t < d; t++) row[t]! += w * f.V.get(t, j);
    }
    B.set(row, i * d);
  }
  return B;
}

/** Masks of 8-bit frames against given backgrounds (batch mode): global threshold, then opening/closing. */
export function masksFor(frames: Uint8Array, B: Float32Array, count: number, width: number, height: number, channels: number, o: MaskOptions): Uint8Array {
  const px = width * height, d = px * channels;
  const mask = new Uint8Array(count * px);
  const tmp = { a: new Uint8Array(px), b: new Uint8Array(px) };
  for (let i = 0; i < count; i++) {
    maskFrame(frames, i * d, B, i * d, px, channels, o, undefined, mask, i * px);
    if (o.open > 0 || o.close > 0) openClose(mask.subarray(i * px, (i + 1) * px), width, height, o.open, o.close, tmp);
  }
  return mask;
}
