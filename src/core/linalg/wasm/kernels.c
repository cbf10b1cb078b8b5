/*
 * GEMM micro-kernel for svdflow (src/core/linalg/gemm.ts), WebAssembly SIMD (f64x2).
 * Build: scripts/build-wasm.sh (clang --target=wasm32 -msimd128 -O3, no libc).
 *
 * The layouts and the contract of each export are described below, above the code.
 */
#include <wasm_simd128.h>

/*
 * GEMM pieces for svdflow (src/core/linalg/gemm.ts). Packed layout of an operand block
 * (kc deep): strips of 4 rows (A) or 4 columns (B), dst[s*kc*4 + p*4 + t], zero-padded.
 *
 * pack_rows: src[i*ld + p] (i < rows, p < kc)  -> strip s = i/4, lane t = i%4
 * pack_cols: src[p*ld + i] (p < kc, i < cols)  -> strip s = i/4, lane t = i%4
 * kernel_block(kc, mStrips, nStrips, Ap, Bp, C, ldc, alpha, ncols, acc):
 *   C[(4si + t) * ldc + 4sj + u] += alpha * sum_p Ap(si, p, t) Bp(sj, p, u), 4sj + u < ncols
 *   (acc = 0: C taken as zeros, not read), so ldc = ncols and C blocks copy as whole rows
 *   4x4 register tile = 8 f64x2 accumulators; a tile's two strips (2 x kc x 4 doubles,
 *   16 KiB at kc = 256) stay in L1. The sum over p runs in order, then alpha * sum is added
 *   to C, exactly as the TS kernel does (same rounding).
 */
__attribute__((export_name("pack_rows")))
void pack_rows(int rows, int kc, const double *src, int ld, double *dst) {
  for (int s = 0; s * 4 < rows; s++) {
    double *d = dst + (long)s * kc * 4;
    const int h = rows - 4 * s < 4 ? rows - 4 * s : 4;
    const double *r0 = src + (long)(4 * s) * ld;
    if (h == 4) {
      const double *r1 = r0 + ld, *r2 = r1 + ld, *r3 = r2 + ld;
      for (int p = 0; p < kc; p++, d += 4) { d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; }
    } else {
      for (int p = 0; p < kc; p++, d += 4)
        for (int t = 0; t < 4; t++) d[t] = t < h ? r0[(long)t * ld + p] : 0;
    }
  }
}

__attribute__((export_name("pack_cols")))
void pack_cols(int kc, int cols, const double *src, int ld, double *dst) {
  for (int s = 0; s * 4 < cols; s++) {
    double *d = dst + (long)s * kc * 4;
    const int w = cols - 4 * s < 4 ? cols - 4 * s : 4;
    const double *c0 = src + 4 * s;
    if (w == 4) {
      for (int p = 0; p < kc; p++, d += 4) {
        const double *q = c0 + (long)p * ld;
        wasm_v128_store(d, wasm_v128_load(q));
        wasm_v128_store(d + 2, wasm_v128_load(q + 2));
      }
    } else {
      for (int p = 0; p < kc; p++, d += 4)
        for (int t = 0; t < 4; t++) d[t] = t < w ? c0[(long)p * ld + t] : 0;
    }
  }
}

__attribute__((export_name("kernel_block")))
void kernel_block(int kc, int mStrips, int nStrips, const double *Ap, const double *Bp, double *C, int ldc, double alpha, int ncols, int acc) {
  /* ncols: the C block's valid columns (ldc may be exactly ncols: the last strip stores only its
     valid lanes); acc = 0: C is not read (its block is taken as zeros: 0 + alpha * sum, the same
     value, -0 included, as adding to a zeroed C) */
  const v128_t al = wasm_f64x2_splat(alpha);
  const v128_t zero = wasm_f64x2_splat(0);
  for (int sj = 0; sj < nStrips; sj++) {
    const double *bs = Bp + sj * kc * 4;
    const int w = ncols - 4 * sj < 4 ? ncols - 4 * sj : 4;
    for (int si = 0; si < mStrips; si++) {
      const double *a = Ap + si * kc * 4;
      const double *b = bs;
      v128_t c00 = wasm_f64x2_splat(0), c01 = c00, c10 = c00, c11 = c00;
      v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (int p = 0; p < kc; p++, a += 4, b += 4) {
        const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 2);
        v128_t x = wasm_f64x2_splat(a[0]);
        c00 = wasm_f64x2_add(c00, wasm_f64x2_mul(x, b0)); c01 = wasm_f64x2_add(c01, wasm_f64x2_mul(x, b1));
        x = wasm_f64x2_splat(a[1]);
        c10 = wasm_f64x2_add(c10, wasm_f64x2_mul(x, b0)); c11 = wasm_f64x2_add(c11, wasm_f64x2_mul(x, b1));
        x = wasm_f64x2_splat(a[2]);
        c20 = wasm_f64x2_add(c20, wasm_f64x2_mul(x, b0)); c21 = wasm_f64x2_add(c21, wasm_f64x2_mul(x, b1));
        x = wasm_f64x2_splat(a[3]);
        c30 = wasm_f64x2_add(c30, wasm_f64x2_mul(x, b0)); c31 = wasm_f64x2_add(c31, wasm_f64x2_mul(x, b1));
      }
      double *c = C + (long)si * 4 * ldc + sj * 4;
      if (w == 4) {
#define ACC(o, v) wasm_v128_store((o), wasm_f64x2_add(acc ? wasm_v128_load(o) : zero, wasm_f64x2_mul(al, (v))))
        ACC(c, c00); ACC(c + 2, c01); c += ldc;
        ACC(c, c10); ACC(c + 2, c11); c += ldc;
        ACC(c, c20); ACC(c + 2, c21); c += ldc;
        ACC(c, c30); ACC(c + 2, c31);
#undef ACC
      } else {
        /* the last strip of a block narrower than 4 columns: only its w valid lanes */
        double t[16];
        wasm_v128_store(t, wasm_f64x2_mul(al, c00)); wasm_v128_store(t + 2, wasm_f64x2_mul(al, c01));
        wasm_v128_store(t + 4, wasm_f64x2_mul(al, c10)); wasm_v128_store(t + 6, wasm_f64x2_mul(al, c11));
        wasm_v128_store(t + 8, wasm_f64x2_mul(al, c20)); wasm_v128_store(t + 10, wasm_f64x2_mul(al, c21));
        wasm_v128_store(t + 12, wasm_f64x2_mul(al, c30)); wasm_v128_store(t + 14, wasm_f64x2_mul(al, c31));
        for (int r = 0; r < 4; r++, c += ldc)
          for (int u = 0; u < w; u++) c[u] = (acc ? c[u] : 0.0) + t[r * 4 + u];
      }
    }
  }
}

/*
 * Replay of a log of plane rotations on the columns of a matrix held as interleaved ROW PAIRS:
 * element (row 2q+t, col c) at M[(q*n + c)*2 + t], so one f64x2 holds one column of two rows.
 * Log (see bdsqr.ts): seq = nseq 5-tuples (kind, a0, f, o, len):
 *   kind 0: chain, rotations on columns (j, j+1), j = a0..a0+len-1, (cs, sn)[o + i];
 *   kind 1/2: fixed partner f, columns a0 + i*step (step +1 / -1), i = 0..len-1;
 *   kind 3: negate column a0.
 * Rotation (x, y) -> (c x + s y, c y - s x). lo[q]: first possibly-nonzero column of pair q
 * (rotations among columns that are zero in all rows of a group are skipped); updated.
 * Four pairs (8 rows) at a time: a chain's carried column is a loop-carried dependency,
 * four independent carries hide its latency.
 */
static void replay_pairs(int q0, int np, int n, double *M, const int *seq, int nseq, const double *cs, const double *sn, int *lo) {
  int lg = lo[q0];
  for (int t = 1; t < np; t++) if (lo[q0 + t] < lg) lg = lo[q0 + t];
  double *R0 = M + (long)q0 * n * 2;
  const long ps = (long)n * 2; /* pair stride */
  for (int q = 0; q < nseq; q++) {
    const int *sq = seq + q * 5;
    int kind = sq[0], a0 = sq[1], f = sq[2], o = sq[3], len = sq[4];
    if (kind == 0) {
      if (lg > a0 + len) continue;
      if (lg - 1 > a0) { int sk = lg - 1 - a0; a0 += sk; o += sk; len -= sk; }
      if (a0 < lg) lg = a0;
      if (np == 4) {
        double *p0 = R0 + a0 * 2, *p1 = p0 + ps, *p2 = p1 + ps, *p3 = p2 + ps;
        v128_t x0 = wasm_v128_load(p0), x1 = wasm_v128_load(p1), x2 = wasm_v128_load(p2), x3 = wasm_v128_load(p3);
        for (int i = 0; i < len; i++) {
          const v128_t c = wasm_f64x2_splat(cs[o + i]), s = wasm_f64x2_splat(sn[o + i]);
          const int j = 2 * i;
          const v128_t y0 = wasm_v128_load(p0 + j + 2), y1 = wasm_v128_load(p1 + j + 2), y2 = wasm_v128_load(p2 + j + 2), y3 = wasm_v128_load(p3 + j + 2);
          wasm_v128_store(p0 + j, wasm_f64x2_add(wasm_f64x2_mul(c, x0), wasm_f64x2_mul(s, y0)));
          wasm_v128_store(p1 + j, wasm_f64x2_add(wasm_f64x2_mul(c, x1), wasm_f64x2_mul(s, y1)));
          wasm_v128_store(p2 + j, wasm_f64x2_add(wasm_f64x2_mul(c, x2), wasm_f64x2_mul(s, y2)));
          wasm_v128_store(p3 + j, wasm_f64x2_add(wasm_f64x2_mul(c, x3), wasm_f64x2_mul(s, y3)));
          x0 = wasm_f64x2_sub(wasm_f64x2_mul(c, y0), wasm_f64x2_mul(s, x0));
          x1 = wasm_f64x2_sub(wasm_f64x2_mul(c, y1), wasm_f64x2_mul(s, x1));
          x2 = wasm_f64x2_sub(wasm_f64x2_mul(c, y2), wasm_f64x2_mul(s, x2));
          x3 = wasm_f64x2_sub(wasm_f64x2_mul(c, y3), wasm_f64x2_mul(s, x3));
        }
        const int j = 2 * len;
        wasm_v128_store(p0 + j, x0); wasm_v128_store(p1 + j, x1); wasm_v128_store(p2 + j, x2); wasm_v128_store(p3 + j, x3);
      } else {
        for (int t = 0; t < np; t++) {
          double *p0 = R0 + t * ps + a0 * 2;
          v128_t x0 = wasm_v128_load(p0);
          for (int i = 0; i < len; i++) {
            const v128_t c = wasm_f64x2_splat(cs[o + i]), s = wasm_f64x2_splat(sn[o + i]);
            const v128_t y0 = wasm_v128_load(p0 + 2 * i + 2);
            wasm_v128_store(p0 + 2 * i, wasm_f64x2_add(wasm_f64x2_mul(c, x0), wasm_f64x2_mul(s, y0)));
            x0 = wasm_f64x2_sub(wasm_f64x2_mul(c, y0), wasm_f64x2_mul(s, x0));
          }
          wasm_v128_store(p0 + 2 * len, x0);
        }
      }
    } else if (kind == 3) {
      for (int t = 0; t < np; t++) {
        double *p = R0 + t * ps + a0 * 2;
        wasm_v128_store(p, wasm_f64x2_neg(wasm_v128_load(p)));
      }
    } else {
      const int step = kind == 1 ? 1 : -1;
      for (int t = 0; t < np; t++) {
        double *R = R0 + t * ps;
        v128_t y = wasm_v128_load(R + f * 2);
        for (int i = 0, a = a0; i < len; i++, a += step) {
          const v128_t c = wasm_f64x2_splat(cs[o + i]), s = wasm_f64x2_splat(sn[o + i]);
          const v128_t x = wasm_v128_load(R + a * 2);
          wasm_v128_store(R + a * 2, wasm_f64x2_add(wasm_f64x2_mul(c, x), wasm_f64x2_mul(s, y)));
          y = wasm_f64x2_sub(wasm_f64x2_mul(c, y), wasm_f64x2_mul(s, x));
        }
        wasm_v128_store(R + f * 2, y);
      }
      int amin = kind == 1 ? a0 : a0 - len + 1;
      if (f < amin) amin = f;
      if (amin < lg) lg = amin;
    }
  }
  for (int t = 0; t < np; t++) lo[q0 + t] = lg;
}

__attribute__((export_name("rot_replay")))
void rot_replay(int pairs, int n, double *M, const int *seq, int nseq, const double *cs, const double *sn, int *lo) {
  int q = 0;
  for (; q + 3 < pairs; q += 4) replay_pairs(q, 4, n, M, seq, nseq, cs, sn, lo);
  if (q < pairs) replay_pairs(q, pairs - q, n, M, seq, nseq, cs, sn, lo);
}

/*
 * Matrix-vector products of the panel bidiagonalisation (gebrd.ts), on row-major A (lda):
 *   gemv_t: y[c] = beta y[c] + alpha sum_r u[r*us] A[r, c], c < cols   (y contiguous)
 *   gemv_n: x[r*xs] = beta x[r*xs] + alpha A[r, 0:cols] . v[0:cols*vs:vs]
 * beta = 0 never reads the output.
 */
__attribute__((export_name("gemv_t")))
void gemv_t(int rows, int cols, const double *A, int lda, const double *u, int us, double *y, double alpha, double beta) {
  int c2 = cols & ~1;
  if (beta == 0) { for (int c = 0; c < cols; c++) y[c] = 0; }
  else if (beta != 1) { for (int c = 0; c < cols; c++) y[c] *= beta; }
  int r = 0;
  for (; r + 3 < rows; r += 4) {
    const double *a0 = A + (long)r * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    const double s0 = alpha * u[(long)r * us], s1 = alpha * u[(long)(r + 1) * us], s2 = alpha * u[(long)(r + 2) * us], s3 = alpha * u[(long)(r + 3) * us];
    const v128_t u0 = wasm_f64x2_splat(s0), u1 = wasm_f64x2_splat(s1), u2 = wasm_f64x2_splat(s2), u3 = wasm_f64x2_splat(s3);
    for (int c = 0; c < c2; c += 2) {
      v128_t acc = wasm_v128_load(y + c);
      acc = wasm_f64x2_add(acc, wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(u0, wasm_v128_load(a0 + c)), wasm_f64x2_mul(u1, wasm_v128_load(a1 + c))),
                                               wasm_f64x2_add(wasm_f64x2_mul(u2, wasm_v128_load(a2 + c)), wasm_f64x2_mul(u3, wasm_v128_load(a3 + c)))));
      wasm_v128_store(y + c, acc);
    }
    if (c2 < cols) y[c2] += s0 * a0[c2] + s1 * a1[c2] + s2 * a2[c2] + s3 * a3[c2];
  }
  for (; r < rows; r++) {
    const double *a0 = A + (long)r * lda;
    const double s0 = alpha * u[(long)r * us];
    for (int c = 0; c < cols; c++) y[c] += s0 * a0[c];
  }
}

static double dot_row(const double *a0, const double *v, int vs, int cols) {
  if (vs != 1) {
    double s = 0;
    for (int c = 0; c < cols; c++) s += a0[c] * v[(long)c * vs];
    return s;
  }
  v128_t s0 = wasm_f64x2_splat(0), t0 = s0;
  int c = 0;
  for (; c + 3 < cols; c += 4) {
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(wasm_v128_load(a0 + c), wasm_v128_load(v + c)));
    t0 = wasm_f64x2_add(t0, wasm_f64x2_mul(wasm_v128_load(a0 + c + 2), wasm_v128_load(v + c + 2)));
  }
  s0 = wasm_f64x2_add(s0, t0);
  double x0 = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
  for (; c < cols; c++) x0 += a0[c] * v[c];
  return x0;
}

__attribute__((export_name("gemv_n")))
void gemv_n(int rows, int cols, const double *A, int lda, const double *v, int vs, double *x, int xs, double alpha, double beta) {
  int r = 0;
  if (vs == 1) {
    /* two rows at a time share the loads of v */
    for (; r + 1 < rows; r += 2) {
      const double *a0 = A + (long)r * lda, *a1 = a0 + lda;
      v128_t s0 = wasm_f64x2_splat(0), s1 = s0, t0 = s0, t1 = s0;
      int c = 0;
      for (; c + 3 < cols; c += 4) {
        const v128_t va = wasm_v128_load(v + c), vb = wasm_v128_load(v + c + 2);
        s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(wasm_v128_load(a0 + c), va));
        t0 = wasm_f64x2_add(t0, wasm_f64x2_mul(wasm_v128_load(a0 + c + 2), vb));
        s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(wasm_v128_load(a1 + c), va));
        t1 = wasm_f64x2_add(t1, wasm_f64x2_mul(wasm_v128_load(a1 + c + 2), vb));
      }
      s0 = wasm_f64x2_add(s0, t0); s1 = wasm_f64x2_add(s1, t1);
      double x0 = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
      double x1 = wasm_f64x2_extract_lane(s1, 0) + wasm_f64x2_extract_lane(s1, 1);
      for (; c < cols; c++) { x0 += a0[c] * v[c]; x1 += a1[c] * v[c]; }
      double *o0 = x + (long)r * xs, *o1 = o0 + xs;
      *o0 = beta == 0 ? alpha * x0 : beta * *o0 + alpha * x0;
      *o1 = beta == 0 ? alpha * x1 : beta * *o1 + alpha * x1;
    }
  }
  for (; r < rows; r++) {
    const double d = dot_row(A + (long)r * lda, v, vs, cols);
    double *o = x + (long)r * xs;
    *o = beta == 0 ? alpha * d : beta * *o + alpha * d;
  }
}
