import { describe, it, expect } from 'vitest';
import { FramePass } from '../../../src/core/video/kernels/frame-pass.js';
import { pixelKernels, heapStart, heapSlot } from '../../../src/core/video/kernels/index.js';
import { ScaleGrid, maskFrame, medianFrames } from '../../../src/core/video/background.js';

/** same bytes (vitest's toEqual walks big typed arrays slowly) */
const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

let seed = 11;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

/** A frame with smooth background, noise and a few bright blocks (foreground), plus a model for it. */
function scene(w: number, h: number, f: number, r: number) {
  const d = w * h;
  const x = new Uint8Array(d);
  for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) x[y * w + i] = Math.min(255, Math.round(60 + 80 * Math.sin(i / 9) * Math.cos(y / 7) + 60 + 8 * rnd()));
  for (let b = 0; b < 4; b++) {
    const x0 = Math.floor(rnd() * (w - 6)), y0 = Math.floor(rnd() * (h - 6)), bw = 2 + Math.floor(rnd() * 8), bh = 2 + Math.floor(rnd() * 8);
    for (let y = y0; y < Math.min(h, y0 + bh); y++) for (let i = x0; i < Math.min(w, x0 + bw); i++) x[y * w + i] = 250;
  }
  const g = new ScaleGrid(w, h, 1, f);
  const mus = g.down(x, 0, 1 / 255, new Float64Array(g.size));
  for (let q = 0; q < mus.length; q++) mus[q] = mus[q]! + 0.05 * (rnd() - 0.5);
  const muFull = Float64Array.from(x, (v) => v / 255 + 0.04 * (rnd() - 0.5));
  const Ut = new Float64Array(r * g.size);
  for (let j = 0; j < r; j++) {
    let n = 0;
    for (let q = 0; q < g.size; q++) n += (Ut[j * g.size + q] = Math.sin((q + 1) * (j + 1) * 0.37) + 0.3 * rnd()) ** 2;
    for (let q = 0; q < g.size; q++) Ut[j * g.size + q]! /= Math.sqrt(n);
  }
  return { x, mus, muFull, Ut, g };
}

const SIZES: Array<[number, number]> = [[64, 40], [63, 41], [37, 23], [130, 17], [16, 3], [480, 36]];

describe('pixel kernels: WebAssembly SIMD and the TypeScript twin', () => {
  it('the WebAssembly module loads (unless SVDFLOW_NO_WASM is set)', () => {
    expect(pixelKernels().wasm).toBe(!process.env.SVDFLOW_NO_WASM);
    expect(pixelKernels({ ts: true }).wasm).toBe(false);
  });

  it('give the same bits: masks, backgrounds, clean downsampled frames and sums (factors 1, 2, 4; odd sizes; ranks 0-3; open/close)', () => {
    for (const [w, h] of SIZES) {
      for (const f of [1, 2, 4]) {
        for (const [r, ro, rc, robust] of [[2, 1, 4, true], [0, 0, 2, true], [3, 2, 0, false], [1, 0, 0, true]] as const) {
          const { x, mus, muFull, Ut } = scene(w, h, f, r);
          const out = [true, false].map((ts) => {
            const p = new FramePass({ width: w, height: h, factor: f, threshold: 0.12, open: ro, close: rc, robust, rank: Math.max(1, r), ts });
            p.setModel(muFull, mus, Ut, r);
            p.resetSum();
            const mask = new Uint8Array(2 * w * h), bg = new Float32Array(2 * w * h), block = new Float64Array(p.small);
            const n = p.frame(x, 0, mask, w * h, bg, w * h, block);
            return { mask, bg, block, n, sum: p.sum().slice(), coef: p.coefficients(), wasm: p.k.wasm };
          });
          const [t, wa] = out as [typeof out[0], typeof out[0]];
          const what = `${w}x${h} f${f} r${r} open ${ro} close ${rc}${robust ? ' robust' : ''}`;
          expect(t.wasm, what).toBe(false);
          expect([...wa.coef], what).toEqual([...t.coef]);
          expect(same(wa.mask, t.mask), what).toBe(true);
          expect(wa.n, what).toBe(t.n);
          expect(t.n, what).toBe(t.mask.reduce((s, v) => s + v, 0));
          expect(same(wa.bg, t.bg), what).toBe(true);
          expect(same(wa.block, t.block), what).toBe(true);
          expect(same(wa.sum, t.sum), what).toBe(true);
        }
      }
    }
  });

  for (const ts of [false, true]) {
    const label = ts ? 'TypeScript twin' : 'default kernels';
    it(`${label}: box downsampling equals ScaleGrid.down (f64) to f32 rounding`, () => {
      for (const [w, h] of SIZES) for (const f of [1, 2, 4]) {
        const { x, g } = scene(w, h, f, 1);
        const k = pixelKernels({ ts });
        const at = heapStart(k);
        k.reserve(at + 16 * w * h + 4096);
        new Uint8Array(k.buffer).set(x, at);
        const acc = at + w * h + 16 - ((w * h) % 16), dst = acc + 2 * w + 16 - ((2 * w) % 16);
        k.downU8(w, h, 1, f, at, 1 / 255, acc, dst);
        const got = new Float32Array(k.buffer, dst, g.size);
        const ref = g.down(x, 0, 1 / 255, new Float64Array(g.size));
        for (let q = 0; q < g.size; q++) expect(Math.abs(got[q]! - ref[q]!), `${w}x${h} f${f} q${q}`).toBeLessThan(1e-6);
      }
    });

    it(`${label}: background and mask equal the f64 reference (ScaleGrid.upAdd + maskFrame + byte morphology) away from the threshold`, async () => {
      const { openClose } = await import('../../../src/core/video/morphology.js');
      for (const [w, h] of SIZES) for (const f of [1, 2, 4]) {
        const r = 2;
        const { x, mus, muFull, Ut, g } = scene(w, h, f, r);
        const p = new FramePass({ width: w, height: h, factor: f, threshold: 0.12, open: 0, close: 0, robust: false, rank: r, ts });
        p.setModel(muFull, mus, Ut, r);
        const mask = new Uint8Array(w * h), bg = new Float32Array(w * h);
        p.frame(x, 0, mask, 0, bg, 0);
        // reference in f64: coefficients, deviation, upsampled, thresholded
        const xs = g.down(x, 0, 1 / 255, new Float64Array(g.size));
        const dev = new Float64Array(g.size);
        for (let j = 0; j < r; j++) {
          let c = 0;
          for (let q = 0; q < g.size; q++) c += Ut[j * g.size + q]! * (xs[q]! - mus[q]!);
          for (let q = 0; q < g.size; q++) dev[q]! += c * Ut[j * g.size + q]!;
        }
        const ref = new Float64Array(w * h);
        g.upAdd(dev, muFull, ref, 0);
        const refMask = new Uint8Array(w * h);
        maskFrame(x, 0, ref, 0, w * h, 1, { threshold: 0.12, adaptive: 0, open: 0, close: 0 }, undefined, refMask, 0);
        let differ = 0;
        for (let q = 0; q < w * h; q++) {
          expect(Math.abs(bg[q]! - ref[q]!), `${w}x${h} f${f} bg ${q}`).toBeLessThan(2e-6);
          if (mask[q] !== refMask[q]) {
            differ++;
            expect(Math.abs(Math.abs(x[q]! / 255 - ref[q]!) - 0.12), `${w}x${h} f${f} mask ${q} differs only at the threshold`).toBeLessThan(1e-5);
          }
        }
        expect(differ).toBeLessThanOrEqual(2);
        // morphology on the bits equals the byte implementation (itself tested against a brute-force window)
        for (const [ro, rc] of [[1, 4], [2, 0], [0, 3], [5, 8]] as const) {
          const q = new FramePass({ width: w, height: h, factor: f, threshold: 0.12, open: ro, close: rc, robust: false, rank: r, ts });
          q.setModel(muFull, mus, Ut, r);
          const m2 = new Uint8Array(w * h);
          q.frame(x, 0, m2, 0);
          const m1 = openClose(mask.slice(), w, h, ro, rc);
          expect(same(m2, m1), `${w}x${h} f${f} open ${ro} close ${rc}`).toBe(true);
        }
      }
    });
  }

  it('median of 8-bit rows: WebAssembly and the twin give the same bits, equal to medianFrames (a sort per column), for odd, even, 1 and > 255 rows', () => {
    for (const [n, count] of [[37, 45], [64, 15], [1000, 2], [33, 1], [20, 300], [17, 256]] as const) {
      const src = Uint8Array.from({ length: n * count }, (_, i) => (i % 11 === 0 ? 255 : i % 13 === 0 ? 0 : Math.floor(rnd() * 256)));
      const out = [false, true].map((ts) => {
        const k = pixelKernels({ ts });
        const at = heapStart(k), dst = at + heapSlot(n * count);
        k.reserve(dst + 4 * n + 64);
        new Uint8Array(k.buffer).set(src, at);
        k.medianU8(n, count, at, dst);
        return new Float32Array(k.buffer, dst, n).slice();
      });
      expect(same(out[0]!, out[1]!), `${n} x ${count}`).toBe(true);
      // medianFrames: rows are frames of n values; sorted columns below 65 rows, a histogram above
      expect(same(out[1]!, medianFrames(src, count, n)), `${n} x ${count} vs medianFrames`).toBe(true);
      const col = Array.from({ length: count }, (_, i) => src[i * n + 3]!).sort((a, b) => a - b);
      expect(out[1]![3]).toBe(Math.fround(((col[(count - 1) >> 1]! + col[count >> 1]!) / 2) / 255));
    }
  });

  it('unit floats to bytes: WebAssembly and the twin give the same bytes as a Uint8ClampedArray store of v x 255 (ties, out of range, NaN, odd tails)', () => {
    const vals = [0, 1, 0.5, 127.5 / 255, 0.5 / 255, 1.5 / 255, 2.5 / 255, -0.1, 2, NaN, Infinity, -Infinity, -0];
    for (let i = 0; i < 3000; i++) vals.push(rnd() * 1.4 - 0.2, Math.round(rnd() * 510) / 510);
    for (const n of [vals.length, 13, 8, 7]) {
      const v = Float32Array.from(vals.slice(0, n));
      const ref = new Uint8ClampedArray(n);
      for (let i = 0; i < n; i++) ref[i] = v[i]! * 255;
      for (const ts of [false, true]) {
        const k = pixelKernels({ ts });
        const src = heapStart(k), dst = src + 4 * n + 16;
        k.reserve(dst + n + 64);
        new Float32Array(k.buffer, src, n).set(v);
        k.unitToBytes(n, src, dst);
        expect(same(new Uint8Array(k.buffer, dst, n), ref), `n ${n} ts=${ts}`).toBe(true);
      }
    }
  });

  it('f64 Gram matrix and row combination: WebAssembly and the twin give the same bits, equal to plain f64 sums to rounding (chunk tails, odd lengths)', () => {
    for (const [n, k, m] of [[1000, 8, 2], [257, 3, 3], [3, 5, 1], [512, 1, 1]] as const) {
      const X = Float64Array.from({ length: n * k }, () => rnd() - 0.5);
      const A = Float64Array.from({ length: m * k }, () => 2 * rnd() - 1);
      const out = [false, true].map((ts) => {
        const kern = pixelKernels({ ts });
        const x = heapStart(kern), g = x + 8 * n * k + 16, a = g + 8 * k * k + 16, o = a + 8 * m * k + 16;
        kern.reserve(o + 8 * m * n + 64);
        new Float64Array(kern.buffer, x, n * k).set(X);
        new Float64Array(kern.buffer, a, m * k).set(A);
        kern.gramF64(n, k, x, g);
        kern.combineF64(n, k, x, m, a, o);
        return { G: new Float64Array(kern.buffer, g, k * k).slice(), C: new Float64Array(kern.buffer, o, m * n).slice() };
      });
      expect(same(out[0]!.G, out[1]!.G), `${n} x ${k} G`).toBe(true);
      expect(same(out[0]!.C, out[1]!.C), `${n} x ${k} combine`).toBe(true);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        let s = 0;
        for (let q = 0; q < n; q++) s += X[i * n + q]! * X[j * n + q]!;
        expect(Math.abs(out[0]!.G[i * k + j]! - s), `G ${i},${j}`).toBeLessThan(1e-12 * n);
      }
      for (let j = 0; j < m; j++) for (let q = 0; q < n; q++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += A[j * k + i]! * X[i * n + q]!;
        expect(Math.abs(out[0]!.C[j * n + q]! - s)).toBeLessThan(1e-14 * k);
      }
    }
  });

  it('centred Gram matrix: WebAssembly and the twin give the same bits, within 1e-12 of the f64 sum, symmetric (chunk tails, odd lengths)', () => {
    for (const [n, count] of [[1000, 45], [257, 7], [3, 3], [512, 1], [999, 2]] as const) {
      const X = Float32Array.from({ length: n * count }, () => 0.3 + 0.5 * rnd());
      const m = new Float64Array(n);
      for (let i = 0; i < count; i++) for (let q = 0; q < n; q++) m[q]! += X[i * n + q]! / count;
      const out = [false, true].map((ts) => {
        const k = pixelKernels({ ts });
        const at = heapStart(k), mo = at + 4 * n * count + 16 - ((4 * n * count) % 16), co = mo + 8 * n + 16, go = co + 8 * 256 * count + 16;
        k.reserve(go + 8 * count * count + 64);
        new Float32Array(k.buffer, at, n * count).set(X);
        new Float64Array(k.buffer, mo, n).set(m);
        k.gramCentred(n, count, at, mo, co, go);
        return new Float64Array(k.buffer, go, count * count).slice();
      });
      expect(same(out[0]!, out[1]!), `${n} x ${count}`).toBe(true);
      for (let i = 0; i < count; i++) for (let j = 0; j < count; j++) {
        let s = 0;
        for (let q = 0; q < n; q++) s += (X[i * n + q]! - m[q]!) * (X[j * n + q]! - m[q]!);
        expect(Math.abs(out[0]![i * count + j]! - s), `${n} x ${count} G ${i},${j}`).toBeLessThan(1e-12 * n);
        expect(out[0]![i * count + j]).toBe(out[0]![j * count + i]);
      }
    }
  });

  it('both Gram kernels (one gram_chunk in pixels.c and twin.ts) on 120 random shapes: WebAssembly and the twin give the same bits', () => {
    const kw = pixelKernels(), kt = pixelKernels({ ts: true });
    let cases = 0;
    for (let t = 0; t < 120; t++) {
      // n across 1-8 chunks (odd and even tails), k 1-47 (odd k: the paired columns' single tail), values at 3 scales
      const n = 1 + Math.floor(rnd() * (t % 3 === 0 ? 2000 : 600)), k = 1 + Math.floor(rnd() * 47), scale = [1, 1e-3, 1e6][t % 3]!;
      const X64 = Float64Array.from({ length: n * k }, () => scale * (rnd() - 0.5));
      const X32 = Float32Array.from({ length: n * k }, () => scale * rnd());
      const m = Float64Array.from({ length: n }, () => scale * (0.5 + 0.01 * (rnd() - 0.5)));
      const out = [kw, kt].map((kern) => {
        const x = heapStart(kern), g = x + 8 * n * k + 16, mo = g + 8 * k * k + 16, co = mo + 8 * n + 16, go = co + 8 * 256 * k + 16;
        kern.reserve(go + 8 * k * k + 64);
        new Float64Array(kern.buffer, x, n * k).set(X64);
        kern.gramF64(n, k, x, g);
        const G = new Float64Array(kern.buffer, g, k * k).slice();
        new Float32Array(kern.buffer, x, n * k).set(X32);
        new Float64Array(kern.buffer, mo, n).set(m);
        kern.gramCentred(n, k, x, mo, co, go);
        return { G, C: new Float64Array(kern.buffer, go, k * k).slice() };
      });
      expect(same(out[0]!.G, out[1]!.G), `gramF64 ${n} x ${k}`).toBe(true);
      expect(same(out[0]!.C, out[1]!.C), `gramCentred ${n} x ${k}`).toBe(true);
      // and a known answer: the f64 dot product of rows 0 and k-1, to rounding
      let s = 0;
      for (let q = 0; q < n; q++) s += X64[q]! * X64[(k - 1) * n + q]!;
      expect(Math.abs(out[0]!.G[k - 1]! - s), `gramF64 ${n} x ${k} G 0,${k - 1}`).toBeLessThanOrEqual(1e-13 * n * scale * scale);
      // gramCentred's: rows 0 and k-1 of the Float32 frames less the f64 mean, summed in f64
      let c = 0;
      for (let q = 0; q < n; q++) c += (X32[q]! - m[q]!) * (X32[(k - 1) * n + q]! - m[q]!);
      expect(Math.abs(out[0]!.C[k - 1]! - c), `gramCentred ${n} x ${k} G 0,${k - 1}`).toBeLessThanOrEqual(1e-13 * n * scale * scale);
      cases++;
    }
    expect(cases).toBe(120);
  });

  it('warm-up on the kernels equals its f64 reference (median, byte masks and morphology, clean mean, IncrementalSvd update of the small frames) to rounding', async () => {
    const { openClose } = await import('../../../src/core/video/morphology.js');
    const { IncrementalSvd, Matrix } = await import('../../../src/core/linalg/index.js');
    for (const ts of [false, true]) {
      for (const [w, h, f, count] of [[64, 40, 2, 15], [63, 41, 2, 45], [37, 23, 1, 9], [130, 17, 4, 20]] as const) {
        const d = w * h;
        // a lit scene drifting in brightness (the subspace), noise, and a block moving through it (foreground)
        const frames = new Uint8Array(count * d);
        for (let i = 0; i < count; i++) {
          const gain = 0.8 + 0.4 * Math.sin(i / 3), bx = (3 * i) % (w - 8);
          for (let y = 0; y < h; y++) for (let c = 0; c < w; c++) {
            const v = c >= bx && c < bx + 8 && y >= 4 && y < 12 ? 250 : Math.min(255, Math.round((60 + 40 * Math.sin((c + y) / 11)) * gain + 4 * rnd()));
            frames[i * d + y * w + c] = v;
          }
        }
        const o = { width: w, height: h, factor: f, threshold: 0.12, open: 1, close: 2, robust: true, rank: 2, ts };
        const warm = new FramePass(o).warmUp(frames, count, 2);
        // reference: the TypeScript f64 steps
        const med = medianFrames(frames, count, d);
        const g = new ScaleGrid(w, h, 1, f);
        const block = new Matrix(count, g.size), mu = new Float64Array(d), clean = new Float64Array(d), mask = new Uint8Array(d);
        let nearThreshold = 0;
        for (let i = 0; i < count; i++) {
          maskFrame(frames, i * d, med, 0, d, 1, { threshold: 0.12, adaptive: 0, open: 0, close: 0 }, undefined, mask, 0);
          for (let q = 0; q < d; q++) if (Math.abs(Math.abs(frames[i * d + q]! / 255 - med[q]!) - 0.12) < 1e-6) nearThreshold++;
          openClose(mask, w, h, 1, 2);
          for (let q = 0; q < d; q++) mu[q]! += (clean[q] = mask[q] ? med[q]! : frames[i * d + q]! / 255) / count;
          g.down(clean, 0, 1, block.data.subarray(i * g.size, (i + 1) * g.size));
        }
        expect(nearThreshold, 'the scene keeps pixels off the threshold').toBe(0);
        const ref = new IncrementalSvd({ dim: g.size, rank: 2, forget: 0.9, center: true });
        ref.update(block);
        const what = `${w}x${h} f${f} ${count} frames ts=${ts}`;
        for (let q = 0; q < d; q++) expect(Math.abs(warm.muFull[q]! - mu[q]!), `${what} muFull ${q}`).toBeLessThan(1e-6);
        const rm = ref.mean;
        for (let q = 0; q < g.size; q++) expect(Math.abs(warm.mean[q]! - rm[q]!), `${what} mean ${q}`).toBeLessThan(1e-6);
        expect(warm.s.length).toBe(2);
        for (let j = 0; j < 2; j++) expect(Math.abs(warm.s[j]! - ref.s[j]!) / ref.s[0]!, `${what} s${j}`).toBeLessThan(1e-5);
        // the same subspace: |U_ref^T U_warm| has singular values 1, i.e. its Frobenius norm² is 2
        const R = ref.Ut_.data;
        let fro = 0;
        for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
          let s = 0;
          for (let q = 0; q < g.size; q++) s += R[a * g.size + q]! * warm.Ut[b * g.size + q]!;
          fro += s * s;
        }
        expect(Math.abs(fro - 2), `${what} subspace`).toBeLessThan(1e-5);
      }
    }
  });

  it('robust fit: values far from the model are replaced by it and the fit is repeated', () => {
    // a small frame equal to mean + 0.3 u0 except an outlier block: the robust fit lands much nearer 0.3
    for (const ts of [false, true]) {
      const w = 32, h = 16, f = 1, n = w * h;
      const u = new Float64Array(n).map((_, q) => Math.cos(q / 5));
      const nn = Math.sqrt(u.reduce((s, v) => s + v * v, 0));
      for (let q = 0; q < n; q++) u[q]! /= nn;
      const mean = new Float64Array(n).fill(0.5);
      const x = Uint8Array.from({ length: n }, (_, q) => Math.round((0.5 + 0.3 * u[q]!) * 255));
      for (let q = 40; q < 80; q++) x[q] = 255;
      const run = (robust: boolean) => {
        const p = new FramePass({ width: w, height: h, factor: f, threshold: 0.12, open: 0, close: 0, robust, rank: 1, ts });
        p.setModel(mean, mean, u, 1);
        p.frame(x, 0, new Uint8Array(n), 0);
        return p.coefficients()[0]!;
      };
      const [er, ep] = [Math.abs(run(true) - 0.3), Math.abs(run(false) - 0.3)];
      expect(ep, `plain ts=${ts}`).toBeGreaterThan(0.05);
      expect(er, `robust ts=${ts}`).toBeLessThan(ep / 3);
    }
  });
});

describe('layers as bytes for the encoders', () => {
  it("background and foreground bytes equal clamp(round(v x 255)) for every Float32 value kind (ties, out of range, NaN)", async () => {
    const { layerBytes } = await import('../../../src/core/video/layers.js');
    const vals = [0, 0.5, 1, -0.2, 1.7, NaN, 0.25, 127.5 / 255, 0.001, 0.999];
    for (let i = 0; i < 5000; i++) vals.push(rnd() * 1.2 - 0.1);
    const bg = Float32Array.from(vals);
    const n = bg.length;
    const frames = Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256);
    const b = { kind: 'FrameBatch' as const, start: 0, count: 1, width: n, height: 1, channels: 1 as const, frames, background: bg, mask: new Uint8Array(n) };
    const ref = (v: number) => (v <= 0 ? 0 : v >= 1 ? 255 : Number.isNaN(v) ? 0 : Math.round(v * 255));
    const got = layerBytes(b, 'background', 0);
    for (let i = 0; i < n; i++) expect(got[i], `background ${bg[i]}`).toBe(ref(bg[i]!));
    const fg = layerBytes(b, 'foreground', 0);
    for (let i = 0; i < n; i++) expect(fg[i], `foreground at ${i}`).toBe(ref(Math.abs(frames[i]! / 255 - bg[i]!)));
    expect([...layerBytes({ ...b, mask: Uint8Array.from([1, 0, 1]), width: 3, frames: frames.subarray(0, 3), background: bg.subarray(0, 3) }, 'mask', 0)]).toEqual([255, 0, 255]);
  });

  it('mask bytes: 255 wherever the mask is not 0 (0/1 masks and any other byte), at any offset and alignment', async () => {
    const { maskBytes, layerBytes } = await import('../../../src/core/video/layers.js');
    const m = Uint8Array.from({ length: 4099 }, (_, i) => (i % 7 === 0 ? [2, 128, 255, 16][i % 4]! : rnd() < 0.3 ? 1 : 0));
    for (const mo of [0, 1, 4, 5, 6, 7, 8]) {
      for (const n of [0, 1, 3, 4, 5, 63, 64, 4000]) {
        for (const oo of [0, 1, 2, 4]) {
          const o = new Uint8Array(n + 8).subarray(oo, oo + n);
          maskBytes(m, mo, n, o);
          const ref = Uint8Array.from({ length: n }, (_, p) => (m[mo + p] ? 255 : 0));
          expect(same(o, ref), `mo ${mo} n ${n} oo ${oo}`).toBe(true);
        }
      }
    }
    // through layerBytes, frame 1 of a two-frame batch whose mask is an unaligned view
    const w = 37, h = 5, px = w * h;
    const mask = new Uint8Array(2 * px + 1).subarray(1);
    mask.set(m.subarray(0, 2 * px));
    const b = { kind: 'FrameBatch' as const, start: 0, count: 2, width: w, height: h, channels: 1 as const, frames: new Uint8Array(2 * px), mask };
    expect(same(layerBytes(b, 'mask', 1), Uint8Array.from({ length: px }, (_, p) => (mask[px + p] ? 255 : 0)))).toBe(true);
  });
});
