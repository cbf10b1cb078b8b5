/*
 * GEMM micro-kernel for svdflow (src/core/linalg/gemm.ts), WebAssembly SIMD (f64x2).
 * Build: scripts/build-wasm.sh (clang --target=wasm32 -msimd128 -O3, no libc).
 *
 * kernel_block(kc, mStrips, nStrips, Ap, Bp, C):
 *   Ap: mStrips strips of 4 rows, each kc x 4 interleaved (Ap[s*kc*4 + p*4 + t] = A[4s+t, p])
 *   Bp: nStrips strips of 4 cols, each kc x 4 interleaved (Bp[s*kc*4 + p*4 + t] = B[p, 4s+t])
 *   C : (4*mStrips) x (4*nStrips) row-major, OVERWRITTEN with Ap * Bp.
 * 4x4 register tile = 8 f64x2 accumulators; the packed strips of one tile (2 x kc x 4
 * doubles, 16 KiB at kc = 256) stay in L1.
 */
#include <wasm_simd128.h>

__attribute__((export_name("kernel_block")))
void kernel_block(int kc, int mStrips, int nStrips, const double *Ap, const double *Bp, double *C) {
  const int ldc = nStrips * 4;
  for (int sj = 0; sj < nStrips; sj++) {
    const double *bs = Bp + sj * kc * 4;
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
      double *c = C + si * 4 * ldc + sj * 4;
      wasm_v128_store(c, c00); wasm_v128_store(c + 2, c01); c += ldc;
      wasm_v128_store(c, c10); wasm_v128_store(c + 2, c11); c += ldc;
      wasm_v128_store(c, c20); wasm_v128_store(c + 2, c21); c += ldc;
      wasm_v128_store(c, c30); wasm_v128_store(c + 2, c31);
    }
  }
}
