/**
 * TypeScript twin of pixels.c: the same kernels, step for step, on a plain ArrayBuffer laid
 * out like the WebAssembly memory (every pointer is a byte offset). Each f32 operation of the C
 * code is one `fround` here, and sums run in the same lane order, so both give the same bits
 * (test/core/video/kernels.test.ts). Used when WebAssembly SIMD is unavailable or
 * SVDFLOW_NO_WASM is set. The bit-packed masks use 32-bit words here and 64-bit words in C:
 * the bytes are the same (little-endian), see pixels.c for the layout.
 */
import type { PixelKernels } from './index.js';

const fr = Math.fround;
const INV255 = fr(1 / 255);
/** values per chunk of the Gram loops (GRAM_CHUNK in pixels.c; gramCentred's scratch is count x GRAM_CHUNK doubles) */
const GRAM_CHUNK = 256;

export class TsPixels implements PixelKernels {
  readonly wasm = false;
  buffer: ArrayBuffer = new ArrayBuffer(0);
  private u8 = new Uint8Array(0);
  private u16 = new Uint16Array(0);
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);
  private u32 = new Uint32Array(0);
  private f64 = new Float64Array(0);

  reserve(bytes: number): boolean {
    if (this.buffer.byteLength >= bytes) return true;
    const next = new ArrayBuffer(Math.ceil(bytes / 65536) * 65536);
    new Uint8Array(next).set(this.u8);
    this.buffer = next;
    this.u8 = new Uint8Array(next);
    this.u16 = new Uint16Array(next);
    this.f32 = new Float32Array(next);
    this.i32 = new Int32Array(next);
    this.u32 = new Uint32Array(next);
    this.f64 = new Float64Array(next);
    return true;
  }

  downU8(w: number, h: number, ch: number, f: number, src: number, scale: number, acc: number, dst: number): void {
    this.down(this.u8, src, this.u16, acc >> 1, w, h, ch, f, scale, dst);
  }

  downF32(w: number, h: number, ch: number, f: number, src: number, acc: number, dst: number): void {
    this.down(this.f32, src >> 2, this.f32, acc >> 2, w, h, ch, f, 1, dst);
  }

  /**
   * Box means of f x f blocks, times `scale`: column sums of a band of rows into `sum` (from
   * index `a`; u16 for bytes, f32 for floats, as pixels.c), then each box's sum in x order.
   * Byte sums are whole numbers far below 2^24, so the f32 rounding of each add leaves them exact.
   */
  private down(from: Uint8Array | Float32Array, s0: number, sum: Uint16Array | Float32Array, a: number, w: number, h: number, ch: number, f: number, scale: number, dst: number): void {
    const f32 = this.f32;
    const n = w * ch, sw = Math.ceil(w / f), sh = Math.ceil(h / f);
    for (let ys = 0; ys < sh; ys++) {
      const y0 = ys * f, y1 = Math.min(y0 + f, h);
      let r = s0 + y0 * n;
      for (let q = 0; q < n; q++) sum[a + q] = from[r + q]!;
      for (let y = y0 + 1; y < y1; y++) {
        r = s0 + y * n;
        for (let q = 0; q < n; q++) sum[a + q] = sum[a + q]! + from[r + q]!;
      }
      const cy = y1 - y0;
      const o = (dst >> 2) + ys * sw * ch;
      for (let xs = 0; xs < sw; xs++) {
        const x0 = xs * f, x1 = Math.min(x0 + f, w);
        const inv = fr(scale / ((x1 - x0) * cy));
        for (let c = 0; c < ch; c++) {
          let s = sum[a + x0 * ch + c]!;
          for (let x = x0 + 1; x < x1; x++) s = fr(s + sum[a + x * ch + c]!);
          f32[o + xs * ch + c] = fr(s * inv);
        }
      }
    }
  }

  /** four lane sums, (l0 + l1) + (l2 + l3), then the tail: as dot_centred in pixels.c */
  private dotCentred(n: number, u: number, x: number, m: number): number {
    const f32 = this.f32;
    let l0 = 0, l1 = 0, l2 = 0, l3 = 0, q = 0;
    for (; q + 4 <= n; q += 4) {
      l0 = fr(l0 + fr(f32[u + q]! * fr(f32[x + q]! - f32[m + q]!)));
      l1 = fr(l1 + fr(f32[u + q + 1]! * fr(f32[x + q + 1]! - f32[m + q + 1]!)));
      l2 = fr(l2 + fr(f32[u + q + 2]! * fr(f32[x + q + 2]! - f32[m + q + 2]!)));
      l3 = fr(l3 + fr(f32[u + q + 3]! * fr(f32[x + q + 3]! - f32[m + q + 3]!)));
    }
    let s = fr(fr(l0 + l1) + fr(l2 + l3));
    for (; q < n; q++) s = fr(s + fr(f32[u + q]! * fr(f32[x + q]! - f32[m + q]!)));
    return s;
  }

  private deviation(n: number, r: number, U: number, coef: number, dev: number): void {
    const f32 = this.f32;
    if (r === 0) {
      f32.fill(0, dev, dev + n);
      return;
    }
    const c0 = f32[coef]!;
    for (let q = 0; q < n; q++) f32[dev + q] = fr(c0 * f32[U + q]!);
    for (let j = 1; j < r; j++) {
      const u = U + j * n, c = f32[coef + j]!;
      for (let q = 0; q < n; q++) f32[dev + q] = fr(f32[dev + q]! + fr(c * f32[u + q]!));
    }
  }

  fit(n: number, r: number, xsB: number, mB: number, UB: number, t: number, robust: number, coefB: number, devB: number): number {
    const f32 = this.f32;
    const xs = xsB >> 2, m = mB >> 2, U = UB >> 2, coef = coefB >> 2, dev = devB >> 2;
    const tt = fr(t);
    for (let j = 0; j < r; j++) f32[coef + j] = this.dotCentred(n, U + j * n, xs, m);
    this.deviation(n, r, U, coef, dev);
    if (!robust || r === 0) return 0;
    let replaced = 0;
    for (let q = 0; q < n; q++) {
      const x = f32[xs + q]!, mm = f32[m + q]!, d = f32[dev + q]!;
      if (Math.abs(fr(fr(x - mm) - d)) > tt) {
        f32[xs + q] = fr(mm + d);
        replaced++;
      }
    }
    if (replaced) {
      for (let j = 0; j < r; j++) f32[coef + j] = this.dotCentred(n, U + j * n, xs, m);
      this.deviation(n, r, U, coef, dev);
    }
    return replaced;
  }

  bgMask(w: number, h: number, f: number, muB: number, devB: number, x: number, t: number, bitsB: number, bgB: number, rowB: number, upB: number,
    ty0B: number, ty1B: number, twyB: number, tx0B: number, tx1B: number, twxB: number): void {
    const { u8, f32, i32, u32 } = this;
    const sw = Math.ceil(w / f), stride = 2 * Math.ceil(w / 128), pitch = stride + 2;
    const mu = muB >> 2, dev = devB >> 2, row = rowB >> 2, up = upB >> 2, bg = bgB >> 2;
    const ty0 = ty0B >> 2, ty1 = ty1B >> 2, twy = twyB >> 2, tx0 = tx0B >> 2, tx1 = tx1B >> 2, twx = twxB >> 2;
    const tt = fr(t);
    for (let y = 0; y < h; y++) {
      const s0 = dev + i32[ty0 + y]! * sw, s1 = dev + i32[ty1 + y]! * sw;
      const a = f32[twy + y]!;
      for (let q = 0; q < sw; q++) {
        const p = f32[s0 + q]!;
        f32[row + 1 + q] = fr(p + fr(a * fr(f32[s1 + q]! - p)));
      }
      f32[row] = f32[row + 1]!;
      f32[row + sw + 1] = f32[row + sw]!;
      let hr = up;
      if (f === 1) hr = row + 1;
      else {
        for (let xx = 0; xx < w; xx++) {
          const v0 = f32[row + 1 + i32[tx0 + xx]!]!;
          f32[up + xx] = fr(v0 + fr(f32[twx + xx]! * fr(f32[row + 1 + i32[tx1 + xx]!]! - v0)));
        }
      }
      const mr = mu + y * w, xr = x + y * w, br = bgB ? bg + y * w : -1;
      const wb = (bitsB >> 2) + (y * pitch + 2) * 2;
      u32.fill(0, wb, wb + stride * 2);
      for (let p = 0; p < w; p++) {
        const b = fr(f32[mr + p]! + f32[hr + p]!);
        if (br >= 0) f32[br + p] = b;
        if (Math.abs(fr(fr(u8[xr + p]! * INV255) - b)) > tt) u32[wb + (p >> 5)] = u32[wb + (p >> 5)]! | (1 << (p & 31));
      }
    }
  }

  private setPadding(bits: number, w: number, h: number, pitch: number, pad: number): void {
    const u32 = this.u32;
    const stride = pitch - 2, full = w >> 5, rem = w & 31;
    for (let y = 0; y < h; y++) {
      const r = bits + y * pitch * 2;
      u32[r] = pad; u32[r + 1] = pad; u32[r + 2] = pad; u32[r + 3] = pad;
      const d = r + 4;
      let k = full;
      if (rem) {
        const keep = (1 << rem) - 1;
        u32[d + k] = ((u32[d + k]! & keep) | (pad & ~keep)) >>> 0;
        k++;
      }
      for (; k < stride * 2; k++) u32[d + k] = pad;
    }
    const e = bits + h * pitch * 2;
    u32[e] = pad; u32[e + 1] = pad; u32[e + 2] = pad; u32[e + 3] = pad;
  }

  private hpass(src: number, dst: number, w: number, h: number, pitch: number, r: number, erode: boolean): void {
    const u32 = this.u32;
    this.setPadding(src, w, h, pitch, erode ? 0xffffffff : 0);
    const n = (pitch - 2) * 2;
    for (let y = 0; y < h; y++) {
      const s = src + (y * pitch + 2) * 2, d = dst + (y * pitch + 2) * 2;
      for (let i = 0; i < n; i++) {
        const v = u32[s + i]!, vp = u32[s + i - 1]!, vn = u32[s + i + 1]!;
        let acc = v;
        for (let k = 1; k <= r; k++) {
          const left = (v << k) | (vp >>> (32 - k));
          const right = (v >>> k) | (vn << (32 - k));
          acc = erode ? acc & left & right : acc | left | right;
        }
        u32[d + i] = acc >>> 0;
      }
    }
  }

  private vpass(src: number, dst: number, h: number, pitch: number, r: number, erode: boolean): void {
    const u32 = this.u32;
    const n = (pitch - 2) * 2;
    for (let y = 0; y < h; y++) {
      const lo = Math.max(0, y - r), hi = Math.min(h - 1, y + r);
      const d = dst + (y * pitch + 2) * 2;
      for (let i = 0; i < n; i++) {
        let acc = u32[src + (lo * pitch + 2) * 2 + i]!;
        for (let yy = lo + 1; yy <= hi; yy++) {
          const v = u32[src + (yy * pitch + 2) * 2 + i]!;
          acc = erode ? acc & v : acc | v;
        }
        u32[d + i] = acc >>> 0;
      }
    }
  }

  openClose(w: number, h: number, ro: number, rc: number, bitsB: number, tmpB: number): void {
    const pitch = 2 * Math.ceil(w / 128) + 2, bits = bitsB >> 2, tmp = tmpB >> 2;
    if (ro > 0) {
      this.hpass(bits, tmp, w, h, pitch, ro, true); this.vpass(tmp, bits, h, pitch, ro, true);
      this.hpass(bits, tmp, w, h, pitch, ro, false); this.vpass(tmp, bits, h, pitch, ro, false);
    }
    if (rc > 0) {
      this.hpass(bits, tmp, w, h, pitch, rc, false); this.vpass(tmp, bits, h, pitch, rc, false);
      this.hpass(bits, tmp, w, h, pitch, rc, true); this.vpass(tmp, bits, h, pitch, rc, true);
    }
  }

  unpack(w: number, h: number, bitsB: number, out: number): number {
    const { u8, u32 } = this;
    const pitch = 2 * Math.ceil(w / 128) + 2;
    let count = 0;
    for (let y = 0; y < h; y++) {
      const b = (bitsB >> 2) + (y * pitch + 2) * 2, o = out + y * w;
      for (let x = 0; x < w; x++) {
        const v = (u32[b + (x >> 5)]! >>> (x & 31)) & 1;
        u8[o + x] = v;
        count += v;
      }
    }
    return count;
  }

  clean(w: number, h: number, x: number, bgB: number, bitsB: number, outB: number, sumB: number): void {
    const { u8, f32, u32 } = this;
    const pitch = 2 * Math.ceil(w / 128) + 2, bg = bgB >> 2, out = outB >> 2, sum = sumB >> 2;
    for (let y = 0; y < h; y++) {
      const b = (bitsB >> 2) + (y * pitch + 2) * 2, o = y * w;
      for (let p = 0; p < w; p++) {
        const c = (u32[b + (p >> 5)]! >>> (p & 31)) & 1 ? f32[bg + o + p]! : fr(u8[x + o + p]! * INV255);
        f32[out + o + p] = c;
        f32[sum + o + p] = fr(f32[sum + o + p]! + c);
      }
    }
  }

  /** the k-th smallest value of column `col` (radix selection from the top bit, as select_k in pixels.c) */
  private selectK(col: number, n: number, count: number, k: number): number {
    const u8 = this.u8;
    let prefix = 0;
    for (let bit = 128; bit; bit >>= 1) {
      const c = prefix | bit;
      let below = 0;
      for (let i = 0; i < count; i++) if (u8[col + i * n]! < c) below++;
      if (below <= k) prefix = c;
    }
    return prefix;
  }

  medianU8(n: number, count: number, src: number, dstB: number): void {
    const lo = Math.floor((count - 1) / 2), hi = Math.floor(count / 2), dst = dstB >> 2;
    for (let j = 0; j < n; j++) {
      const a = this.selectK(src + j, n, count, lo), b = lo === hi ? a : this.selectK(src + j, n, count, hi);
      this.f32[dst + j] = ((a + b) / 2) * (1 / 255);
    }
  }

  /**
   * one chunk of the Gram loop (gram_chunk in pixels.c): the k rows of L doubles at f64 index R,
   * row i at R + i * stride; for each i <= j two lane sums over the chunk's pairs (even and odd
   * positions), s = l0 + l1, plus the last value when L is odd, and G_ij += s (upper triangle)
   */
  private gramChunk(R: number, stride: number, k: number, L: number, G: number): void {
    const f64 = this.f64, L2 = L & ~1;
    for (let i = 0; i < k; i++) {
      const ci = R + i * stride;
      for (let j = i; j < k; j++) {
        const cj = R + j * stride;
        let l0 = 0, l1 = 0;
        for (let q = 0; q < L2; q += 2) {
          l0 += f64[ci + q]! * f64[cj + q]!;
          l1 += f64[ci + q + 1]! * f64[cj + q + 1]!;
        }
        let s = l0 + l1;
        if (L & 1) s += f64[ci + L2]! * f64[cj + L2]!;
        f64[G + i * k + j]! += s;
      }
    }
  }

  /** G_ji = G_ij for j < i (gram_mirror in pixels.c) */
  private gramMirror(k: number, G: number): void {
    const f64 = this.f64;
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) f64[G + i * k + j] = f64[G + j * k + i]!;
  }

  gramCentred(n: number, count: number, XB: number, mB: number, centB: number, GB: number): void {
    const { f32, f64 } = this;
    const X = XB >> 2, m = mB >> 3, cent = centB >> 3, G = GB >> 3;
    f64.fill(0, G, G + count * count);
    for (let q0 = 0; q0 < n; q0 += GRAM_CHUNK) {
      const L = Math.min(GRAM_CHUNK, n - q0);
      for (let i = 0; i < count; i++) for (let q = 0; q < L; q++) f64[cent + i * GRAM_CHUNK + q] = f32[X + i * n + q0 + q]! - f64[m + q0 + q]!;
      this.gramChunk(cent, GRAM_CHUNK, count, L, G);
    }
    this.gramMirror(count, G);
  }

  unitToBytes(n: number, srcB: number, dst: number): void {
    const f32 = this.f32, c = new Uint8ClampedArray(this.buffer, dst, n), src = srcB >> 2;
    for (let i = 0; i < n; i++) c[i] = f32[src + i]! * 255;
  }

  gramF64(n: number, k: number, XB: number, GB: number): void {
    const X = XB >> 3, G = GB >> 3;
    this.f64.fill(0, G, G + k * k);
    for (let q0 = 0; q0 < n; q0 += GRAM_CHUNK) this.gramChunk(X + q0, n, k, Math.min(GRAM_CHUNK, n - q0), G);
    this.gramMirror(k, G);
  }

  combineF64(n: number, k: number, XB: number, m: number, AB: number, outB: number): void {
    const f64 = this.f64, X = XB >> 3, A = AB >> 3, out = outB >> 3;
    for (let j = 0; j < m; j++) {
      const o = out + j * n, a = A + j * k, a0 = f64[a]!;
      for (let q = 0; q < n; q++) f64[o + q] = a0 * f64[X + q]!;
      for (let i = 1; i < k; i++) {
        const ai = f64[a + i]!, xi = X + i * n;
        for (let q = 0; q < n; q++) f64[o + q] = f64[o + q]! + ai * f64[xi + q]!;
      }
    }
  }
}
