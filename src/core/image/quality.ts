/**
 * Image quality against a reference, on 8-bit pixels (what a viewer sees), or 16-bit ones for a
 * 16-bit source (peak and L = 65535).
 * - PSNR = 10 log10(255² / MSE), over every channel (Infinity when identical).
 * - SSIM (Wang, Bovik, Sheikh, Simoncelli 2004): 11 x 11 Gaussian window, σ = 1.5,
 *   K1 = 0.01, K2 = 0.03, L = 255, mean over the 'valid' window positions, then
 *   over channels (as MATLAB's ssim without down-sampling; scikit-image's
 *   structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
 *   uses the same constants but pads the borders).
 */

/** PSNR of pixels of peak `peak` (255 for 8-bit, 65535 for 16-bit). */
export function psnr8(a: Uint8Array | Uint16Array, b: Uint8Array | Uint16Array, peak = 255): number {
  if (a.length !== b.length) throw new RangeError(`psnr: sizes differ (${a.length} vs ${b.length})`);
  let se = 0;
  for (let i = 0; i < a.length; i++) { const d = a[i]! - b[i]!; se += d * d; }
  return se === 0 ? Infinity : 10 * Math.log10((peak * peak * a.length) / se);
}

function gaussian(radius: number, sigma: number): Float64Array {
  const w = new Float64Array(2 * radius + 1);
  let s = 0;
  for (let i = -radius; i <= radius; i++) s += w[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < w.length; i++) w[i]! /= s;
  return w;
}

/** Separable 'valid' filtering of a w x h plane: output (w-2r) x (h-2r). */
function filterValid(x: Float64Array, w: number, h: number, g: Float64Array): Float64Array {
  const r = (g.length - 1) >> 1, ow = w - 2 * r, oh = h - 2 * r;
  const tmp = new Float64Array(ow * h);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < ow; j++) {
      let s = 0;
      for (let t = 0; t < g.length; t++) s += g[t]! * x[i * w + j + t]!;
      tmp[i * ow + j] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      let s = 0;
      for (let t = 0; t < g.length; t++) s += g[t]! * tmp[(i + t) * ow + j]!;
      out[i * ow + j] = s;
    }
  }
  return out;
}

/** Mean SSIM of one channel (values 0..L: L = 255, or 65535 for 16-bit). */
export function ssimPlane(a: Float64Array, b: Float64Array, w: number, h: number, L = 255): number {
  const g = gaussian(5, 1.5);
  if (w < g.length || h < g.length) throw new RangeError(`ssim needs at least ${g.length} x ${g.length} pixels, got ${w} x ${h}`);
  const n = w * h;
  const aa = new Float64Array(n), bb = new Float64Array(n), ab = new Float64Array(n);
  for (let i = 0; i < n; i++) { aa[i] = a[i]! * a[i]!; bb[i] = b[i]! * b[i]!; ab[i] = a[i]! * b[i]!; }
  const [ma, mb, saa, sbb, sab] = [a, b, aa, bb, ab].map((x) => filterValid(x, w, h, g)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const C1 = (0.01 * L) ** 2, C2 = (0.03 * L) ** 2;
  let sum = 0;
  for (let i = 0; i < ma.length; i++) {
    const mu1 = ma[i]!, mu2 = mb[i]!;
    const v1 = saa[i]! - mu1 * mu1, v2 = sbb[i]! - mu2 * mu2, c = sab[i]! - mu1 * mu2;
    sum += ((2 * mu1 * mu2 + C1) * (2 * c + C2)) / ((mu1 * mu1 + mu2 * mu2 + C1) * (v1 + v2 + C2));
  }
  return sum / ma.length;
}

/** Mean SSIM over channels of interleaved 8-bit images (16-bit ones with L = 65535). */
export function ssim8(a: Uint8Array | Uint16Array, b: Uint8Array | Uint16Array, w: number, h: number, channels: number, L = 255): number {
  let s = 0;
  for (let c = 0; c < channels; c++) {
    const pa = new Float64Array(w * h), pb = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) { pa[i] = a[i * channels + c]!; pb[i] = b[i * channels + c]!; }
    s += ssimPlane(pa, pb, w, h, L);
  }
  return s / channels;
}
