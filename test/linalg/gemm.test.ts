import { describe, expect, it } from 'vitest';
import { Matrix, gemm, matmul, matTmul, matmulT, frobeniusNormSq, assertFinite, LinalgError } from '../../src/core/linalg/index.js';
import { gaussian, maxAbsDiff, naiveMul } from './helpers.js';

describe('gemm', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 5, 2], [7, 13, 11], [37, 29, 41], [130, 67, 259], [5, 300, 3], [257, 9, 130],
  ];
  for (const [m, n, k] of shapes) {
    for (const tA of [false, true]) for (const tB of [false, true]) {
      it(`${m}x${k} · ${k}x${n} transA=${tA} transB=${tB}`, () => {
        const A = tA ? gaussian(k, m, m + 1) : gaussian(m, k, m + 1);
        const B = tB ? gaussian(n, k, n + 7) : gaussian(k, n, n + 7);
        const ref = naiveMul(A, B, tA, tB);
        const C = gemm(A, B, { transA: tA, transB: tB });
        expect(maxAbsDiff(C, ref)).toBeLessThan(1e-12 * Math.max(1, k));
      });
    }
  }

  it('works on offset/stride views and honours alpha, beta and C', () => {
    const bigA = gaussian(150, 170, 1), bigB = gaussian(160, 140, 2), bigC = gaussian(140, 150, 3);
    const A = bigA.block(3, 134, 5, 110); // 131 x 105
    const B = bigB.block(7, 112, 1, 98); // 105 x 97
    const C = bigC.block(2, 133, 4, 101); // 131 x 97 view
    const C0 = C.clone();
    gemm(A, B, { alpha: -0.5, beta: 2, C });
    const ref = naiveMul(A, B, false, false);
    let e = 0;
    for (let i = 0; i < 131; i++) for (let j = 0; j < 97; j++) e = Math.max(e, Math.abs(C.get(i, j) - (2 * C0.get(i, j) - 0.5 * ref.get(i, j))));
    expect(e).toBeLessThan(1e-11);
    // entries outside the view untouched
    expect(bigC.get(0, 0)).toBe(gaussian(140, 150, 3).get(0, 0));
    expect(bigC.get(133, 101)).toBe(gaussian(140, 150, 3).get(133, 101));
    // transposed views
    const At = bigA.block(10, 115, 20, 151); // 105 x 131 -> op = 131 x 105
    expect(maxAbsDiff(matTmul(At, B), naiveMul(At, B, true, false))).toBeLessThan(1e-11);
    const Bt = bigB.block(1, 98, 30, 135); // 97 x 105
    expect(maxAbsDiff(matmulT(A, Bt), naiveMul(A, Bt, false, true))).toBeLessThan(1e-11);
  });

  it('beta = 0 overwrites NaN garbage in C; empty shapes', () => {
    const C = new Matrix(2, 2, new Float64Array([NaN, NaN, NaN, NaN]));
    gemm(Matrix.identity(2), Matrix.identity(2), { C });
    expect(C.to2D()).toEqual([[1, 0], [0, 1]]);
    expect(matmul(new Matrix(0, 3), new Matrix(3, 4)).rows).toBe(0);
    const Z = matmul(new Matrix(2, 0), new Matrix(0, 3));
    expect(Z.to2D()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });

  it('rejects mismatched shapes', () => {
    expect(() => matmul(new Matrix(2, 3), new Matrix(2, 3))).toThrow(LinalgError);
  });

  it('frobeniusNormSq on a view', () => {
    const A = Matrix.from2D([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(frobeniusNormSq(A.block(1, 3, 1, 3))).toBe(25 + 36 + 64 + 81);
  });
});

describe('assertFinite', () => {
  it('names the input, position and value', () => {
    const A = new Matrix(5, 3);
    A.set(3, 1, NaN);
    expect(() => assertFinite(A, 'points')).toThrow('points contains NaN at row 3, col 1');
    A.set(3, 1, 0);
    A.set(4, 2, -Infinity);
    expect(() => assertFinite(A, 'x')).toThrow(/x contains -Infinity at row 4, col 2/);
    expect(() => assertFinite(new Float64Array([0, Infinity]), 'v')).toThrow('v contains Infinity at index 1');
    expect(() => assertFinite(A.block(0, 4, 0, 3), 'ok')).not.toThrow();
  });
});

describe('gramMatrix', () => {
  it('AᵀA and AAᵀ on odd sizes and views match the naive product', async () => {
    const { gramMatrix } = await import('../../src/core/linalg/index.js');
    for (const [m, n] of [[3, 2], [301, 22], [70, 45], [9, 130]] as const) {
      const big = gaussian(m + 4, n + 3, m + n);
      const A = big.block(2, 2 + m, 1, 1 + n);
      expect(maxAbsDiff(gramMatrix(A), naiveMul(A, A, true, false))).toBeLessThan(1e-11);
      expect(maxAbsDiff(gramMatrix(A, true), naiveMul(A, A, false, true))).toBeLessThan(1e-11);
    }
  });
});

describe('GEMM backends (WebAssembly SIMD kernel vs pure TS)', () => {
  it('the WebAssembly kernel is in use on Node 20 (unless SVDFLOW_NO_WASM is set)', async () => {
    const { gemmBackend } = await import('../../src/core/linalg/index.js');
    expect(gemmBackend()).toBe(process.env.SVDFLOW_NO_WASM ? 'js' : 'wasm');
  });

  it('both backends give bit-identical products (several blocks, edges, transposes, views, alpha/beta)', async () => {
    const { setGemmBackend, gemmBackend, gramMatrix } = await import('../../src/core/linalg/index.js');
    const run = () => {
      const out: Matrix[] = [];
      for (const [m, n, k] of [[131, 67, 259], [37, 300, 513], [260, 9, 70]] as const) {
        for (const tA of [false, true]) for (const tB of [false, true]) {
          const A = tA ? gaussian(k, m, m + 2) : gaussian(m, k, m + 2);
          const B = tB ? gaussian(n, k, n + 9) : gaussian(k, n, n + 9);
          out.push(gemm(A, B, { transA: tA, transB: tB }));
        }
      }
      const C = gaussian(140, 150, 3).block(2, 133, 4, 101);
      gemm(gaussian(150, 170, 1).block(3, 134, 5, 110), gaussian(160, 140, 2).block(7, 112, 1, 98), { alpha: -0.5, beta: 2, C });
      out.push(C.clone(), gramMatrix(gaussian(301, 22, 5)), gramMatrix(gaussian(9, 130, 6), true));
      // thin C (n = 22, 6: the kernel's last strip is narrower than 4 and C blocks are copied
      // as whole rows), fresh (not read) or accumulated into over several KC chunks; a Gram
      // product whose A blocks are packed from the B panel; -0 where alpha * sum is -0
      const Z = gaussian(700, 22, 7);
      for (let i = 0; i < 700; i += 3) Z.data.fill(0, i * 22, i * 22 + 22);
      out.push(gemm(gaussian(5000, 22, 8), gaussian(22, 22, 9)), gemm(Z, gaussian(22, 6, 10), { alpha: -1 }), gramMatrix(gaussian(3000, 22, 11)));
      const T = gaussian(600, 22, 12);
      gemm(gaussian(600, 700, 13), gaussian(700, 22, 14), { C: T, beta: 1, alpha: 0.75 });
      out.push(T, gemm(gaussian(700, 45, 15), gaussian(700, 1028, 16), { transA: true }), gemm(gaussian(700, 1028, 16), gaussian(1028, 45, 17)));
      return out;
    };
    const viaWasm = run();
    setGemmBackend('js');
    try {
      expect(gemmBackend()).toBe('js');
      const viaJs = run();
      viaWasm.forEach((M, i) => expect(Array.from(M.clone().data)).toEqual(Array.from(viaJs[i]!.clone().data)));
      // and both are right
      const A = gaussian(131, 259, 4), B = gaussian(259, 67, 8);
      expect(maxAbsDiff(gemm(A, B), naiveMul(A, B, false, false))).toBeLessThan(1e-11);
    } finally {
      setGemmBackend('wasm');
    }
  });
});
