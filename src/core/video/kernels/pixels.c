/*
 * Per-pixel kernels of the streaming background model (src/core/video/kernels/), WebAssembly
 * SIMD. Build: scripts/build-wasm.sh (clang --target=wasm32 -msimd128 -O3, no libc); the
 * TypeScript twin is twin.ts, and test/core/video/kernels.test.ts checks that both give the
 * same bits. Every float kernel works in f32 with the operation order written here (no fused
 * multiply-add, sums in the lane order stated), so a twin that rounds each step with
 * Math.fround reproduces it exactly.
 *
 * Gray frames (one byte per pixel), model grid factor f (1, 2 or 4): the small frame is
 * sw x sh = ceil(w/f) x ceil(h/f).
 *
 * Bit-packed masks: pixel x of row y is bit (x & 63) of the 64-bit word
 *   bits[y*pitch + 2 + (x >> 6)],  pitch = 2 + stride,  stride = 2 * ceil(w / 128) words;
 * word y*pitch + 1 is the row's left guard, word (y+1)*pitch (the next row's word 0) its right
 * guard; the buffer holds h*pitch + 2 words. Guards and the bits past w are the padding value of
 * a pass: 0 for dilation (outside = background), all ones for erosion (outside = foreground).
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned long long u64;

#define INV255 ((float)(1.0 / 255.0))

/*
 * down_u8: box average of an 8-bit frame (w x h, ch interleaved channels) over f x f cells:
 *   dst[(ys*sw + xs)*ch + c] = (float)sum * (float)(scale / count)
 * sum: the integer sum of the cell's pixels (cells at the right/bottom edge may be smaller),
 * count: their number. acc: w*ch u16 scratch.
 */
__attribute__((export_name("down_u8")))
void down_u8(int w, int h, int ch, int f, const u8 *src, double scale, u16 *acc, float *dst) {
  const int n = w * ch, sw = (w + f - 1) / f, sh = (h + f - 1) / f;
  for (int ys = 0; ys < sh; ys++) {
    const int y0 = ys * f, y1 = y0 + f < h ? y0 + f : h;
    const u8 *r = src + (long)y0 * n;
    int q = 0;
    for (; q + 16 <= n; q += 16) {
      const v128_t v = wasm_v128_load(r + q);
      wasm_v128_store(acc + q, wasm_u16x8_extend_low_u8x16(v));
      wasm_v128_store(acc + q + 8, wasm_u16x8_extend_high_u8x16(v));
    }
    for (; q < n; q++) acc[q] = r[q];
    for (int y = y0 + 1; y < y1; y++) {
      r = src + (long)y * n;
      q = 0;
      for (; q + 16 <= n; q += 16) {
        const v128_t v = wasm_v128_load(r + q);
        wasm_v128_store(acc + q, wasm_i16x8_add(wasm_v128_load(acc + q), wasm_u16x8_extend_low_u8x16(v)));
        wasm_v128_store(acc + q + 8, wasm_i16x8_add(wasm_v128_load(acc + q + 8), wasm_u16x8_extend_high_u8x16(v)));
      }
      for (; q < n; q++) acc[q] = (u16)(acc[q] + r[q]);
    }
    const int cy = y1 - y0;
    float *o = dst + (long)ys * sw * ch;
    if (f == 2 && ch == 1) {
      const float inv = (float)(scale / (double)(2 * cy));
      int xs = 0;
      for (; xs < w / 2; xs++) o[xs] = (float)(acc[2 * xs] + acc[2 * xs + 1]) * inv;
      if (xs < sw) o[xs] = (float)acc[2 * xs] * (float)(scale / (double)cy);
      continue;
    }
    for (int xs = 0; xs < sw; xs++) {
      const int x0 = xs * f, x1 = x0 + f < w ? x0 + f : w;
      const float inv = (float)(scale / (double)((x1 - x0) * cy));
      for (int c = 0; c < ch; c++) {
        int s = 0;
        for (int x = x0; x < x1; x++) s += acc[x * ch + c];
        o[xs * ch + c] = (float)s * inv;
      }
    }
  }
}

/*
 * down_f32: the same box average of a float frame: acc = row y0, then acc += row y (in order);
 * s = acc[x0], s += acc[x] (in order); dst = s * (float)(1 / count). acc: w*ch floats.
 */
__attribute__((export_name("down_f32")))
void down_f32(int w, int h, int ch, int f, const float *src, float *acc, float *dst) {
  const int n = w * ch, sw = (w + f - 1) / f, sh = (h + f - 1) / f;
  for (int ys = 0; ys < sh; ys++) {
    const int y0 = ys * f, y1 = y0 + f < h ? y0 + f : h;
    const float *r = src + (long)y0 * n;
    int q = 0;
    for (; q + 4 <= n; q += 4) wasm_v128_store(acc + q, wasm_v128_load(r + q));
    for (; q < n; q++) acc[q] = r[q];
    for (int y = y0 + 1; y < y1; y++) {
      r = src + (long)y * n;
      q = 0;
      for (; q + 4 <= n; q += 4) wasm_v128_store(acc + q, wasm_f32x4_add(wasm_v128_load(acc + q), wasm_v128_load(r + q)));
      for (; q < n; q++) acc[q] = acc[q] + r[q];
    }
    const int cy = y1 - y0;
    float *o = dst + (long)ys * sw * ch;
    for (int xs = 0; xs < sw; xs++) {
      const int x0 = xs * f, x1 = x0 + f < w ? x0 + f : w;
      const float inv = (float)(1.0 / (double)((x1 - x0) * cy));
      for (int c = 0; c < ch; c++) {
        float s = acc[x0 * ch + c];
        for (int x = x0 + 1; x < x1; x++) s = s + acc[x * ch + c];
        o[xs * ch + c] = s * inv;
      }
    }
  }
}

/* sum_q U[q] (x[q] - m[q]): four lane sums (lane l takes q = 4k + l), then (l0 + l1) + (l2 + l3), then the tail in order */
static float dot_centred(int n, const float *u, const float *x, const float *m) {
  v128_t acc = wasm_f32x4_splat(0);
  int q = 0;
  for (; q + 4 <= n; q += 4)
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(u + q), wasm_f32x4_sub(wasm_v128_load(x + q), wasm_v128_load(m + q))));
  float s = (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) + (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
  for (; q < n; q++) s = s + u[q] * (x[q] - m[q]);
  return s;
}

/* dev = sum_j coef[j] U_j: dev = c0 U_0, then dev += c_j U_j in order (zero when r = 0) */
static void deviation(int n, int r, const float *U, const float *coef, float *dev) {
  int q = 0;
  if (r == 0) {
    for (; q < n; q++) dev[q] = 0;
    return;
  }
  const v128_t c0 = wasm_f32x4_splat(coef[0]);
  for (; q + 4 <= n; q += 4) wasm_v128_store(dev + q, wasm_f32x4_mul(c0, wasm_v128_load(U + q)));
  for (; q < n; q++) dev[q] = coef[0] * U[q];
  for (int j = 1; j < r; j++) {
    const float *u = U + (long)j * n;
    const v128_t c = wasm_f32x4_splat(coef[j]);
    q = 0;
    for (; q + 4 <= n; q += 4) wasm_v128_store(dev + q, wasm_f32x4_add(wasm_v128_load(dev + q), wasm_f32x4_mul(c, wasm_v128_load(u + q))));
    for (; q < n; q++) dev[q] = dev[q] + coef[j] * u[q];
  }
}

/*
 * fit: projection coefficients of a small gray frame xs (n values) on the basis U (r x n) about
 * the mean m: coef_j = U_j . (xs - m). Robust: dev = U coef; the values with
 * |(xs - m) - dev| > t are replaced by m + dev (in xs) and, if any was, the coefficients are
 * fitted again. Always ends with dev = U coef for the final coefficients. Returns how many
 * values were replaced.
 */
__attribute__((export_name("fit")))
int fit(int n, int r, float *xs, const float *m, const float *U, float t, int robust, float *coef, float *dev) {
  for (int j = 0; j < r; j++) coef[j] = dot_centred(n, U + (long)j * n, xs, m);
  deviation(n, r, U, coef, dev);
  if (!robust || r == 0) return 0;
  const v128_t tt = wasm_f32x4_splat(t);
  v128_t any = wasm_i32x4_splat(0);
  int q = 0, replaced = 0;
  for (; q + 4 <= n; q += 4) {
    const v128_t x = wasm_v128_load(xs + q), mm = wasm_v128_load(m + q), d = wasm_v128_load(dev + q);
    const v128_t big = wasm_f32x4_gt(wasm_f32x4_abs(wasm_f32x4_sub(wasm_f32x4_sub(x, mm), d)), tt);
    wasm_v128_store(xs + q, wasm_v128_bitselect(wasm_f32x4_add(mm, d), x, big));
    any = wasm_i32x4_sub(any, big);
  }
  replaced = wasm_i32x4_extract_lane(any, 0) + wasm_i32x4_extract_lane(any, 1) + wasm_i32x4_extract_lane(any, 2) + wasm_i32x4_extract_lane(any, 3);
  for (; q < n; q++) {
    const float e = (xs[q] - m[q]) - dev[q];
    if ((e < 0 ? -e : e) > t) {
      xs[q] = m[q] + dev[q];
      replaced++;
    }
  }
  if (replaced) {
    for (int j = 0; j < r; j++) coef[j] = dot_centred(n, U + (long)j * n, xs, m);
    deviation(n, r, U, coef, dev);
  }
  return replaced;
}

/*
 * bg_mask: background b = mu + bilinear upsampling of dev (sw x sh) and mask |x/255 - b| > t,
 * one pass per row, for a gray frame.
 *   vertical:   row[1 + q] = dev[y0 q] + wy (dev[y1 q] - dev[y0 q]), row[0] = row[1], row[sw+1] = row[sw]
 *   horizontal: up[x] = row[1 + x0] + wx (row[1 + x1] - row[1 + x0])
 * with the tables of ScaleGrid (y0, y1, wy per row; x0, x1, wx per column; weights as f32).
 * For f = 2 the horizontal step runs on four small pixels at once with the weights 3/4 and 1/4
 * of the tables (the padded row gives the clamped borders the same values).
 * mask bits (layout above) = e > t; bg (when not 0) = b.
 */
__attribute__((export_name("bg_mask")))
void bg_mask(int w, int h, int f, const float *mu, const float *dev, const u8 *x, float t, u64 *bits, float *bg, float *row, float *up,
             const int *ty0, const int *ty1, const float *twy, const int *tx0, const int *tx1, const float *twx) {
  const int sw = (w + f - 1) / f, stride = 2 * ((w + 127) / 128), pitch = stride + 2;
  const v128_t inv = wasm_f32x4_splat(INV255), tt = wasm_f32x4_splat(t);
  for (int y = 0; y < h; y++) {
    const float *s0 = dev + (long)ty0[y] * sw, *s1 = dev + (long)ty1[y] * sw;
    const float a = twy[y];
    const v128_t av = wasm_f32x4_splat(a);
    int q = 0;
    for (; q + 4 <= sw; q += 4) {
      const v128_t p = wasm_v128_load(s0 + q);
      wasm_v128_store(row + 1 + q, wasm_f32x4_add(p, wasm_f32x4_mul(av, wasm_f32x4_sub(wasm_v128_load(s1 + q), p))));
    }
    for (; q < sw; q++) row[1 + q] = s0[q] + a * (s1[q] - s0[q]);
    row[0] = row[1];
    row[sw + 1] = row[sw];
    const float *hr;
    if (f == 1) {
      hr = row + 1;
    } else {
      int x = 0;
      if (f == 2) {
        const v128_t q3 = wasm_f32x4_splat(0.75f), q1 = wasm_f32x4_splat(0.25f);
        for (int k = 0; 2 * k + 8 <= w && k + 6 <= sw + 2; k += 4, x += 8) {
          const v128_t va = wasm_v128_load(row + k), vb = wasm_v128_load(row + k + 1), vc = wasm_v128_load(row + k + 2);
          const v128_t ev = wasm_f32x4_add(va, wasm_f32x4_mul(q3, wasm_f32x4_sub(vb, va)));
          const v128_t od = wasm_f32x4_add(vb, wasm_f32x4_mul(q1, wasm_f32x4_sub(vc, vb)));
          wasm_v128_store(up + x, wasm_i32x4_shuffle(ev, od, 0, 4, 1, 5));
          wasm_v128_store(up + x + 4, wasm_i32x4_shuffle(ev, od, 2, 6, 3, 7));
        }
      }
      for (; x < w; x++) {
        const float v0 = row[1 + tx0[x]];
        up[x] = v0 + twx[x] * (row[1 + tx1[x]] - v0);
      }
      hr = up;
    }
    const float *mr = mu + (long)y * w;
    const u8 *xr = x + (long)y * w;
    float *br = bg ? bg + (long)y * w : 0;
    u8 *br8 = (u8 *)(bits + (long)y * pitch + 2);
    for (int k = 0; k < stride * 8; k++) br8[k] = 0;
    int p = 0;
    for (; p + 16 <= w; p += 16) {
      const v128_t xv = wasm_v128_load(xr + p);
      const v128_t lo = wasm_u16x8_extend_low_u8x16(xv), hi = wasm_u16x8_extend_high_u8x16(xv);
      v128_t m[4];
      for (int g = 0; g < 4; g++) {
        const v128_t xi = g == 0 ? wasm_u32x4_extend_low_u16x8(lo) : g == 1 ? wasm_u32x4_extend_high_u16x8(lo) : g == 2 ? wasm_u32x4_extend_low_u16x8(hi) : wasm_u32x4_extend_high_u16x8(hi);
        const v128_t b = wasm_f32x4_add(wasm_v128_load(mr + p + 4 * g), wasm_v128_load(hr + p + 4 * g));
        if (br) wasm_v128_store(br + p + 4 * g, b);
        m[g] = wasm_f32x4_gt(wasm_f32x4_abs(wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(xi), inv), b)), tt);
      }
      const v128_t m8 = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(m[0], m[1]), wasm_i16x8_narrow_i32x4(m[2], m[3]));
      *(u16 *)(br8 + p / 8) = (u16)wasm_i8x16_bitmask(m8);
    }
    for (; p < w; p++) {
      const float b = mr[p] + hr[p];
      if (br) br[p] = b;
      const float e = (float)xr[p] * INV255 - b;
      if ((e < 0 ? -e : e) > t) br8[p >> 3] |= (u8)(1 << (p & 7));
    }
  }
}

/* sets the guards and the bits past w of every row to `pad` (0 or all ones) */
static void set_padding(u64 *bits, int w, int h, int pitch, u64 pad) {
  const int full = w >> 6, rem = w & 63, stride = pitch - 2;
  for (int y = 0; y < h; y++) {
    u64 *r = bits + (long)y * pitch;
    r[0] = pad;
    r[1] = pad;
    u64 *d = r + 2;
    int k = full;
    if (rem) {
      const u64 keep = (1ULL << rem) - 1;
      d[k] = (d[k] & keep) | (pad & ~keep);
      k++;
    }
    for (; k < stride; k++) d[k] = pad;
  }
  bits[(long)h * pitch] = pad;
  bits[(long)h * pitch + 1] = pad;
}

/* horizontal pass: dst = OR (dilate) or AND (erode) of src shifted by -r..r bits within each row */
static void hpass(u64 *src, u64 *dst, int w, int h, int pitch, int r, int erode) {
  set_padding(src, w, h, pitch, erode ? ~0ULL : 0);
  const int stride = pitch - 2;
  for (int y = 0; y < h; y++) {
    const u64 *s = src + (long)y * pitch + 2;
    u64 *d = dst + (long)y * pitch + 2;
    for (int i = 0; i < stride; i += 2) {
      const v128_t v = wasm_v128_load(s + i), vp = wasm_v128_load(s + i - 1), vn = wasm_v128_load(s + i + 1);
      v128_t acc = v;
      for (int k = 1; k <= r; k++) {
        const v128_t left = wasm_v128_or(wasm_i64x2_shl(v, k), wasm_u64x2_shr(vp, 64 - k));
        const v128_t right = wasm_v128_or(wasm_u64x2_shr(v, k), wasm_i64x2_shl(vn, 64 - k));
        acc = erode ? wasm_v128_and(acc, wasm_v128_and(left, right)) : wasm_v128_or(acc, wasm_v128_or(left, right));
      }
      wasm_v128_store(d + i, acc);
    }
  }
}

/* vertical pass: row y of dst = OR / AND of the rows max(0, y-r) .. min(h-1, y+r) of src (rows outside are the identity) */
static void vpass(const u64 *src, u64 *dst, int h, int pitch, int r, int erode) {
  const int stride = pitch - 2;
  for (int y = 0; y < h; y++) {
    const int lo = y - r < 0 ? 0 : y - r, hi = y + r > h - 1 ? h - 1 : y + r;
    u64 *d = dst + (long)y * pitch + 2;
    for (int i = 0; i < stride; i += 2) {
      v128_t acc = wasm_v128_load(src + (long)lo * pitch + 2 + i);
      for (int yy = lo + 1; yy <= hi; yy++) {
        const v128_t v = wasm_v128_load(src + (long)yy * pitch + 2 + i);
        acc = erode ? wasm_v128_and(acc, v) : wasm_v128_or(acc, v);
      }
      wasm_v128_store(d + i, acc);
    }
  }
}

/* open_close: opening of radius ro then closing of radius rc (square elements), in place on bits; tmp: a second bit buffer */
__attribute__((export_name("open_close")))
void open_close(int w, int h, int ro, int rc, u64 *bits, u64 *tmp) {
  const int pitch = 2 * ((w + 127) / 128) + 2;
  if (ro > 0) {
    hpass(bits, tmp, w, h, pitch, ro, 1); vpass(tmp, bits, h, pitch, ro, 1);
    hpass(bits, tmp, w, h, pitch, ro, 0); vpass(tmp, bits, h, pitch, ro, 0);
  }
  if (rc > 0) {
    hpass(bits, tmp, w, h, pitch, rc, 0); vpass(tmp, bits, h, pitch, rc, 0);
    hpass(bits, tmp, w, h, pitch, rc, 1); vpass(tmp, bits, h, pitch, rc, 1);
  }
}

/* unpack: out[y*w + x] = bit (x, y) as 0/1 bytes; returns the number of ones */
__attribute__((export_name("unpack")))
int unpack(int w, int h, const u64 *bits, u8 *out) {
  const int pitch = 2 * ((w + 127) / 128) + 2;
  const v128_t sel = wasm_i8x16_make(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128), one = wasm_i8x16_splat(1);
  v128_t cnt = wasm_i32x4_splat(0);
  int count = 0;
  for (int y = 0; y < h; y++) {
    const u8 *b = (const u8 *)(bits + (long)y * pitch + 2);
    u8 *o = out + (long)y * w;
    int x = 0;
    v128_t rowc = wasm_i8x16_splat(0);
    for (; x + 16 <= w; x += 16) {
      const v128_t s = wasm_i8x16_shuffle(wasm_i16x8_splat(*(const u16 *)(b + x / 8)), wasm_i16x8_splat(0), 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
      const v128_t v = wasm_v128_and(wasm_i8x16_ne(wasm_v128_and(s, sel), wasm_i8x16_splat(0)), one);
      wasm_v128_store(o + x, v);
      rowc = wasm_i8x16_add(rowc, v);
      if (((x / 16) & 7) == 7) {
        cnt = wasm_i32x4_add(cnt, wasm_i32x4_extadd_pairwise_i16x8(wasm_u16x8_extadd_pairwise_u8x16(rowc)));
        rowc = wasm_i8x16_splat(0);
      }
    }
    cnt = wasm_i32x4_add(cnt, wasm_i32x4_extadd_pairwise_i16x8(wasm_u16x8_extadd_pairwise_u8x16(rowc)));
    for (; x < w; x++) {
      const u8 v = (b[x >> 3] >> (x & 7)) & 1;
      o[x] = v;
      count += v;
    }
  }
  return count + wasm_i32x4_extract_lane(cnt, 0) + wasm_i32x4_extract_lane(cnt, 1) + wasm_i32x4_extract_lane(cnt, 2) + wasm_i32x4_extract_lane(cnt, 3);
}

/*
 * clean: the frame with its foreground replaced by the background, for the model update:
 *   c = bit ? bg : x/255;  clean = c;  sum = sum + c   (gray)
 */
__attribute__((export_name("clean")))
void clean(int w, int h, const u8 *x, const float *bg, const u64 *bits, float *out, float *sum) {
  const int pitch = 2 * ((w + 127) / 128) + 2;
  const v128_t inv = wasm_f32x4_splat(INV255), sel = wasm_i32x4_make(1, 2, 4, 8), zero = wasm_i32x4_splat(0);
  for (int y = 0; y < h; y++) {
    const u8 *b = (const u8 *)(bits + (long)y * pitch + 2);
    const long o = (long)y * w;
    int p = 0;
    for (; p + 16 <= w; p += 16) {
      const int m16 = *(const u16 *)(b + p / 8);
      const v128_t xv = wasm_v128_load(x + o + p);
      const v128_t lo = wasm_u16x8_extend_low_u8x16(xv), hi = wasm_u16x8_extend_high_u8x16(xv);
      for (int g = 0; g < 4; g++) {
        const v128_t xi = g == 0 ? wasm_u32x4_extend_low_u16x8(lo) : g == 1 ? wasm_u32x4_extend_high_u16x8(lo) : g == 2 ? wasm_u32x4_extend_low_u16x8(hi) : wasm_u32x4_extend_high_u16x8(hi);
        const v128_t m = wasm_i32x4_ne(wasm_v128_and(wasm_i32x4_splat((m16 >> (4 * g)) & 15), sel), zero);
        const v128_t c = wasm_v128_bitselect(wasm_v128_load(bg + o + p + 4 * g), wasm_f32x4_mul(wasm_f32x4_convert_i32x4(xi), inv), m);
        wasm_v128_store(out + o + p + 4 * g, c);
        wasm_v128_store(sum + o + p + 4 * g, wasm_f32x4_add(wasm_v128_load(sum + o + p + 4 * g), c));
      }
    }
    for (; p < w; p++) {
      const float c = (b[p >> 3] >> (p & 7)) & 1 ? bg[o + p] : (float)x[o + p] * INV255;
      out[o + p] = c;
      sum[o + p] = sum[o + p] + c;
    }
  }
}

/*
 * median_u8: per-value median of `count` 8-bit rows of n values (row i at src + i*n), the
 * warm-up background (as medianFrames in background.ts):
 *   dst[j] = (float)(((double)(a + b) / 2) * (1.0 / 255.0)),
 * a and b the lo-th and hi-th smallest of column j (0-based, lo = (count-1)/2, hi = count/2).
 * Radix selection: the k-th smallest v is built from the top bit down; a candidate
 * c = prefix | bit is kept when at most k values are below c. 16 columns per SIMD step while
 * count <= 255 (the counts fit in u8); the rest one column at a time, the same way.
 */
static u8 select_k(const u8 *col, int n, int count, int k) {
  int prefix = 0;
  for (int bit = 128; bit; bit >>= 1) {
    const int c = prefix | bit;
    int below = 0;
    for (int i = 0; i < count; i++) below += col[(long)i * n] < c;
    if (below <= k) prefix = c;
  }
  return (u8)prefix;
}

__attribute__((export_name("median_u8")))
void median_u8(int n, int count, const u8 *src, float *dst) {
  const int lo = (count - 1) / 2, hi = count / 2;
  int j = 0;
  if (count <= 255) {
    const v128_t klo = wasm_i8x16_splat((signed char)lo), khi = wasm_i8x16_splat((signed char)hi);
    for (; j + 16 <= n; j += 16) {
      v128_t pa = wasm_i8x16_splat(0), pb = wasm_i8x16_splat(0);
      for (int bit = 128; bit; bit >>= 1) {
        const v128_t bv = wasm_i8x16_splat((signed char)bit);
        const v128_t ca = wasm_v128_or(pa, bv), cb = wasm_v128_or(pb, bv);
        v128_t na = wasm_i8x16_splat(0), nb = wasm_i8x16_splat(0);
        for (int i = 0; i < count; i++) {
          const v128_t x = wasm_v128_load(src + (long)i * n + j);
          na = wasm_i8x16_sub(na, wasm_u8x16_lt(x, ca));
          nb = wasm_i8x16_sub(nb, wasm_u8x16_lt(x, cb));
        }
        pa = wasm_v128_bitselect(ca, pa, wasm_u8x16_le(na, klo));
        pb = wasm_v128_bitselect(cb, pb, wasm_u8x16_le(nb, khi));
      }
      u8 a[16], b[16];
      wasm_v128_store(a, pa);
      wasm_v128_store(b, pb);
      for (int l = 0; l < 16; l++) dst[j + l] = (float)(((double)(a[l] + b[l]) / 2) * (1.0 / 255.0));
    }
  }
  for (; j < n; j++) {
    const int a = select_k(src + j, n, count, lo), b = select_k(src + j, n, count, hi);
    dst[j] = (float)(((double)(a + b) / 2) * (1.0 / 255.0));
  }
}

#define GRAM_CHUNK 256

/*
 * gram_chunk: one chunk of the Gram loop shared by gram_centred and gram_f64: the k rows of L
 * doubles at R, row i at R + i * stride, and for each i <= j two lane sums over the chunk's pairs
 * (lane 0: its even positions, lane 1: its odd ones, in order), s = l0 + l1, plus the chunk's
 * last value when L is odd, and G_ij += s (G: k x k, row-major, upper triangle only). The
 * columns j are taken two at a time (a tile that leaves each sum's order alone).
 */
static inline void gram_chunk(const double *R, long stride, int k, int L, double *G) {
  const int L2 = L & ~1;
  for (int i = 0; i < k; i++) {
    const double *ci = R + (long)i * stride;
    int j = i;
    for (; j + 2 <= k; j += 2) {
      const double *c0 = R + (long)j * stride, *c1 = c0 + stride;
      v128_t a0 = wasm_f64x2_splat(0), a1 = wasm_f64x2_splat(0);
      for (int q = 0; q < L2; q += 2) {
        const v128_t vi = wasm_v128_load(ci + q);
        a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(vi, wasm_v128_load(c0 + q)));
        a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(vi, wasm_v128_load(c1 + q)));
      }
      double s0 = wasm_f64x2_extract_lane(a0, 0) + wasm_f64x2_extract_lane(a0, 1);
      double s1 = wasm_f64x2_extract_lane(a1, 0) + wasm_f64x2_extract_lane(a1, 1);
      if (L & 1) { s0 = s0 + ci[L2] * c0[L2]; s1 = s1 + ci[L2] * c1[L2]; }
      G[(long)i * k + j] += s0;
      G[(long)i * k + j + 1] += s1;
    }
    for (; j < k; j++) {
      const double *c0 = R + (long)j * stride;
      v128_t a0 = wasm_f64x2_splat(0);
      for (int q = 0; q < L2; q += 2) a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(wasm_v128_load(ci + q), wasm_v128_load(c0 + q)));
      double s0 = wasm_f64x2_extract_lane(a0, 0) + wasm_f64x2_extract_lane(a0, 1);
      if (L & 1) s0 = s0 + ci[L2] * c0[L2];
      G[(long)i * k + j] += s0;
    }
  }
}

/* G_ji = G_ij for j < i: the lower triangle from the upper one */
static void gram_mirror(int k, double *G) {
  for (int i = 0; i < k; i++) for (int j = 0; j < i; j++) G[(long)i * k + j] = G[(long)j * k + i];
}

/*
 * gram_centred: G = C Cᵀ (count x count, f64, row-major, both triangles) of the rows of
 * C_iq = (double)X_iq - m_q, with X count rows of n f32 values and m n f64 values (the warm-up's
 * downsampled clean frames about their mean). Order: G = 0; for each chunk of GRAM_CHUNK values
 * (q0 = 0, GRAM_CHUNK, ...): the chunk's centred rows into `cent` (count x GRAM_CHUNK doubles),
 * then gram_chunk over them (G_ij += the chunk's sum for i <= j); G_ji = G_ij at the end.
 */
__attribute__((export_name("gram_centred")))
void gram_centred(int n, int count, const float *X, const double *m, double *cent, double *G) {
  for (int i = 0; i < count * count; i++) G[i] = 0;
  for (int q0 = 0; q0 < n; q0 += GRAM_CHUNK) {
    const int L = n - q0 < GRAM_CHUNK ? n - q0 : GRAM_CHUNK;
    for (int i = 0; i < count; i++) {
      const float *x = X + (long)i * n + q0;
      double *c = cent + (long)i * GRAM_CHUNK;
      for (int q = 0; q < L; q++) c[q] = (double)x[q] - m[q0 + q];
    }
    gram_chunk(cent, GRAM_CHUNK, count, L, G);
  }
  gram_mirror(count, G);
}

/*
 * unit_to_bytes: 0..1 floats as bytes, dst[i] = ToUint8Clamp((double)src[i] * 255) (as a store
 * into a JavaScript Uint8ClampedArray: rounded half to even, clamped to 0..255, NaN -> 0); the
 * background layer for the encoder (layers.ts).
 */
__attribute__((export_name("unit_to_bytes")))
void unit_to_bytes(int n, const float *src, u8 *dst) {
  const v128_t k = wasm_f64x2_splat(255.0);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t q[4];
    for (int g = 0; g < 2; g++) {
      const v128_t v = wasm_v128_load(src + i + 4 * g);
      const v128_t lo = wasm_f64x2_nearest(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(v), k));
      const v128_t hi = wasm_f64x2_nearest(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)), k));
      /* NaN -> 0, out of range saturates; then two i32 lanes each */
      q[2 * g] = wasm_i32x4_trunc_sat_f64x2_zero(lo);
      q[2 * g + 1] = wasm_i32x4_trunc_sat_f64x2_zero(hi);
    }
    const v128_t a = wasm_i32x4_shuffle(q[0], q[1], 0, 1, 4, 5), b = wasm_i32x4_shuffle(q[2], q[3], 0, 1, 4, 5);
    const v128_t s16 = wasm_i16x8_narrow_i32x4(a, b);
    const v128_t s8 = wasm_u8x16_narrow_i16x8(s16, s16);
    *(u64 *)(dst + i) = (u64)wasm_i64x2_extract_lane(s8, 0);
  }
  for (; i < n; i++) {
    const double v = (double)src[i] * 255.0;
    dst[i] = v > 0 ? (v < 255 ? (u8)__builtin_nearbyint(v) : 255) : 0;
  }
}

/*
 * gram_f64: G (k x k, f64, row-major, both triangles) = X Xᵀ of the k rows of n doubles at X (the
 * video model's update in the Gram form, model-update.ts). Order: G = 0; gram_chunk over each
 * chunk of GRAM_CHUNK values of the rows in place (stride n); then G_ji = G_ij.
 */
__attribute__((export_name("gram_f64")))
void gram_f64(int n, int k, const double *X, double *G) {
  for (int i = 0; i < k * k; i++) G[i] = 0;
  for (int q0 = 0; q0 < n; q0 += GRAM_CHUNK) gram_chunk(X + q0, n, k, n - q0 < GRAM_CHUNK ? n - q0 : GRAM_CHUNK, G);
  gram_mirror(k, G);
}

/*
 * combine_f64: out_j = sum_i A[j*k + i] X_i (j < m; k rows of n doubles at X, out m rows of n),
 * per value in the order out = A_j0 x_0, then out = out + A_ji x_i for i = 1 .. k-1.
 */
__attribute__((export_name("combine_f64")))
void combine_f64(int n, int k, const double *X, int m, const double *A, double *out) {
  for (int j = 0; j < m; j++) {
    double *o = out + (long)j * n;
    const double *a = A + (long)j * k;
    int q = 0;
    for (; q + 2 <= n; q += 2) {
      v128_t acc = wasm_f64x2_mul(wasm_f64x2_splat(a[0]), wasm_v128_load(X + q));
      for (int i = 1; i < k; i++) acc = wasm_f64x2_add(acc, wasm_f64x2_mul(wasm_f64x2_splat(a[i]), wasm_v128_load(X + (long)i * n + q)));
      wasm_v128_store(o + q, acc);
    }
    for (; q < n; q++) {
      double v = a[0] * X[q];
      for (int i = 1; i < k; i++) v = v + a[i] * X[(long)i * n + q];
      o[q] = v;
    }
  }
}
