/**
 * Background subtraction with a low-rank model: frames are samples (rows here,
 * the columns of the textbook d x n matrix), the background is the projection of
 * a frame onto a rank-r subspace plus the mean, the foreground is the rest.
 *
 * Streaming: `StreamingBackground.process(batch)` with the core's incremental SVD
 * (Brand, with a running mean and a forgetting factor). Robust update: pixels
 * judged foreground are replaced by the background estimate before the model
 * sees them, so moving objects do not bleed into the background. Warm-up: the
 * first batch's per-pixel median stands in for the background until the model exists.
 * Batch: `batchBackground(frames)` takes one exact SVD of all frames.
 */
import { IncrementalSvd, Matrix, svd } from '../linalg/index.js';
import { openClose } from './morphology.js';

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
  /** replace foreground pixels by the background before updating the model */
  robust: boolean;
  /** update the model with every k-th frame only (speed) */
  updateEvery: number;
}

export interface Layers {
  background: Matrix;
  mask: Uint8Array;
}

/**
 * Per-frame residual and mask: for pixel p, e = max over channels |x − bg|;
 * mask = e > max(threshold, adaptive·σ_p). Returns the number of foreground pixels.
 */
export function maskFrame(x: Float64Array, xo: number, bg: Float64Array, bo: number, pixels: number, channels: number, o: MaskOptions, sigma: Float64Array | undefined, mask: Uint8Array, mo: number): number {
  const t = o.threshold;
  const k = o.adaptive;
  let count = 0;
  if (channels === 1) {
    for (let p = 0; p < pixels; p++) {
      const e = Math.abs(x[xo + p]! - bg[bo + p]!);
      const thr = sigma ? Math.max(t, k * sigma[p]!) : t;
      const m = e > thr ? 1 : 0;
      mask[mo + p] = m;
      count += m;
    }
  } else {
    for (let p = 0; p < pixels; p++) {
      const q = p * channels;
      let e = 0;
      for (let c = 0; c < channels; c++) e = Math.max(e, Math.abs(x[xo + q + c]! - bg[bo + q + c]!));
      const thr = sigma ? Math.max(t, k * sigma[p]!) : t;
      const m = e > thr ? 1 : 0;
      mask[mo + p] = m;
      count += m;
    }
  }
  return count;
}

function maskBlock(X: Matrix, B: Matrix, w: number, h: number, channels: number, o: MaskOptions, sigma: Float64Array | undefined, mask: Uint8Array, morphology = true): void {
  const pixels = w * h;
  for (let i = 0; i < X.rows; i++) {
    maskFrame(X.data, X.offset + i * X.stride, B.data, B.offset + i * B.stride, pixels, channels, o, sigma, mask, i * pixels);
    if (morphology && (o.open > 0 || o.close > 0)) openClose(mask.subarray(i * pixels, (i + 1) * pixels), w, h, o.open, o.close);
  }
}

/** Copy of X with masked pixels replaced by B (all channels). */
function replaceForeground(X: Matrix, B: Matrix, mask: Uint8Array, channels: number, out: Matrix): Matrix {
  const pixels = X.cols / channels;
  for (let i = 0; i < X.rows; i++) {
    const xo = X.offset + i * X.stride, bo = B.offset + i * B.stride, oo = out.offset + i * out.stride, mo = i * pixels;
    const x = X.data, b = B.data, o = out.data;
    if (channels === 1) for (let p = 0; p < pixels; p++) o[oo + p] = mask[mo + p] ? b[bo + p]! : x[xo + p]!;
    else {
      for (let p = 0; p < pixels; p++) {
        const m = mask[mo + p];
        for (let c = 0; c < channels; c++) {
          const q = p * channels + c;
          o[oo + q] = m ? b[bo + q]! : x[xo + q]!;
        }
      }
    }
  }
  return out;
}

/** Per-pixel median over the rows of X (warm-up background). */
export function medianRows(X: Matrix): Float64Array {
  const n = X.rows, d = X.cols;
  const out = new Float64Array(d);
  const col = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) col[i] = X.data[X.offset + i * X.stride + j]!;
    col.sort();
    out[j] = n % 2 ? col[(n - 1) / 2]! : 0.5 * (col[n / 2 - 1]! + col[n / 2]!);
  }
  return out;
}

export class StreamingBackground {
  model?: IncrementalSvd;
  /** per-pixel residual standard deviation (adaptive threshold) */
  sigma?: Float64Array;
  /** frames processed */
  frames = 0;
  readonly pixels: number;
  readonly dim: number;

  constructor(readonly o: StreamingOptions) {
    this.pixels = o.width * o.height;
    this.dim = this.pixels * o.channels;
  }

  /** Background and mask of a b x dim batch of frames (values 0..1); updates the model. */
  process(X: Matrix): Layers {
    const o = this.o;
    const b = X.rows;
    const mask = new Uint8Array(b * this.pixels);
    let B: Matrix;
    if (!this.model) {
      // warm-up: the batch median is the provisional background
      const med = medianRows(X);
      B = new Matrix(b, this.dim);
      for (let i = 0; i < b; i++) B.row(i).set(med);
      maskBlock(X, B, o.width, o.height, o.channels, o, undefined, mask);
      const clean = replaceForeground(X, B, mask, o.channels, new Matrix(b, this.dim));
      this.model = new IncrementalSvd({ dim: this.dim, rank: o.rank, forget: o.forget, center: true });
      this.model.update(clean);
      this.initSigma(clean);
    }
    const model = this.model;
    B = model.projectBlock(X);
    maskBlock(X, B, o.width, o.height, o.channels, o, this.sigmaOrUndefined(), mask, !o.robust);
    let clean = X;
    if (o.robust) {
      // robust projection: fit the coefficients on the frame with its foreground replaced
      clean = replaceForeground(X, B, mask, o.channels, new Matrix(b, this.dim));
      B = model.projectBlock(clean, B);
      maskBlock(X, B, o.width, o.height, o.channels, o, this.sigmaOrUndefined(), mask);
      replaceForeground(X, B, mask, o.channels, clean);
    }
    this.updateSigma(X, B, mask);
    // model update with every k-th frame (absolute numbering, so resumed runs pick the same frames)
    const keep: number[] = [];
    for (let i = 0; i < b; i++) if ((this.frames + i) % o.updateEvery === 0) keep.push(i);
    if (keep.length) {
      const U = keep.length === b ? clean : new Matrix(keep.length, this.dim);
      if (U !== clean) keep.forEach((r, i) => U.row(i).set(clean.row(r)));
      model.update(U);
    }
    this.frames += b;
    return { background: B, mask };
  }

  private sigmaOrUndefined(): Float64Array | undefined {
    return this.o.adaptive > 0 ? this.sigma : undefined;
  }

  private initSigma(clean: Matrix): void {
    if (this.o.adaptive <= 0) return;
    const B = this.model!.projectBlock(clean);
    this.sigma = new Float64Array(this.pixels);
    const ch = this.o.channels;
    for (let i = 0; i < clean.rows; i++) {
      const x = clean.row(i), bg = B.row(i);
      for (let p = 0; p < this.pixels; p++) {
        let e = 0;
        for (let c = 0; c < ch; c++) e = Math.max(e, Math.abs(x[p * ch + c]! - bg[p * ch + c]!));
        this.sigma[p]! += (e * e) / clean.rows;
      }
    }
    for (let p = 0; p < this.pixels; p++) this.sigma[p] = Math.sqrt(this.sigma[p]!);
  }

  /** Exponential running variance of the residual on background pixels (rate 1 − forget^(1/b) per frame). */
  private updateSigma(X: Matrix, B: Matrix, mask: Uint8Array): void {
    const s = this.sigma;
    if (!s) return;
    const ch = this.o.channels;
    const a = Math.min(0.5, 1 - Math.pow(this.o.forget, 1 / Math.max(1, X.rows)));
    const alpha = a > 0 ? a : 0.02;
    for (let i = 0; i < X.rows; i++) {
      const x = X.row(i), bg = B.row(i), mo = i * this.pixels;
      for (let p = 0; p < this.pixels; p++) {
        if (mask[mo + p]) continue;
        let e = 0;
        for (let c = 0; c < ch; c++) e = Math.max(e, Math.abs(x[p * ch + c]! - bg[p * ch + c]!));
        const v = s[p]! * s[p]!;
        s[p] = Math.sqrt(v + alpha * (e * e - v));
      }
    }
  }

  toState(): Record<string, unknown> {
    const st = this.model?.toState();
    return {
      frames: this.frames,
      hasModel: !!st,
      ...(st ? { isvd: { ...st, mean: undefined, Ut: undefined, s: undefined }, mean: st.mean, Ut: st.Ut, s: st.s } : {}),
      ...(this.sigma ? { sigma: this.sigma } : {}),
    };
  }

  static fromState(o: StreamingOptions, st: Record<string, unknown>): StreamingBackground {
    const m = new StreamingBackground(o);
    m.frames = st.frames as number;
    if (st.hasModel) {
      const meta = st.isvd as Record<string, unknown>;
      m.model = IncrementalSvd.fromState({ ...(meta as object), mean: st.mean, Ut: st.Ut, s: st.s } as never);
      if (m.model.dim !== m.dim) throw new Error(`checkpoint is for frames of ${m.model.dim} values, these have ${m.dim}`);
    }
    if (st.sigma) m.sigma = st.sigma as Float64Array;
    return m;
  }
}

/** Batch mode: one exact SVD of all frames (n x d), rank-r projection plus the mean. */
export function batchBackground(X: Matrix, rank: number): Matrix {
  const n = X.rows, d = X.cols;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = X.row(i);
    for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  }
  const C = new Matrix(n, d);
  for (let i = 0; i < n; i++) {
    const r = X.row(i), c = C.row(i);
    for (let j = 0; j < d; j++) c[j] = r[j]! - mean[j]!;
  }
  const k = Math.min(rank, n, d);
  const f = svd(C, { solver: 'exact', rank: k });
  // background_i = mean + Σ_j U_ij s_j V_jᵀ  (rows are frames: C = U S Vᵀ with U n x k, V d x k)
  const B = new Matrix(n, d);
  for (let i = 0; i < n; i++) {
    const b = B.row(i);
    b.set(mean);
    for (let j = 0; j < k; j++) {
      const w = f.U.get(i, j) * f.s[j]!;
      for (let t = 0; t < d; t++) b[t]! += w * f.V.get(t, j);
    }
  }
  return B;
}

/** Masks for given backgrounds (batch mode). */
export function masksFor(X: Matrix, B: Matrix, width: number, height: number, channels: number, o: MaskOptions): Uint8Array {
  const mask = new Uint8Array(X.rows * width * height);
  maskBlock(X, B, width, height, channels, { ...o, adaptive: 0 }, undefined, mask);
  return mask;
}

