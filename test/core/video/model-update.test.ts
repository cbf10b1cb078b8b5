import { describe, it, expect } from 'vitest';
import { IncrementalSvd, Matrix } from '../../../src/core/linalg/index.js';
import { gramUpdate } from '../../../src/core/video/model-update.js';

let seed = 5;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

/** b rows of a scene: a fixed background, two slowly varying patterns (light, shadow) and noise */
function block(d: number, b: number, t0: number): Matrix {
  const m = new Matrix(b, d);
  for (let i = 0; i < b; i++) {
    const t = t0 + i;
    for (let q = 0; q < d; q++) m.data[i * d + q] = 0.4 + 0.2 * Math.sin(q / 37) + 0.05 * Math.sin(t / 7) * Math.cos(q / 11) + 0.03 * Math.cos(t / 5) * Math.sin(q / 23 + 1) + 0.004 * (rnd() - 0.5);
  }
  return m;
}

/** |Uaᵀ Ub|_F² = r when both span the same r-dimensional subspace */
function overlap(a: Float64Array, b: Float64Array, r: number, d: number): number {
  let fro = 0;
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    let s = 0;
    for (let q = 0; q < d; q++) s += a[i * d + q]! * b[j * d + q]!;
    fro += s * s;
  }
  return fro;
}

describe('the streaming model update in the Gram form', () => {
  it('follows IncrementalSvd.update (LQ) over 60 blocks with forgetting: same singular values, subspace, mean and counts to rounding', () => {
    const d = 3001, opts = { dim: d, rank: 2, forget: 0.9, center: true };
    let lq = new IncrementalSvd(opts);
    lq.update(block(d, 15, 0));
    let gr = IncrementalSvd.fromState(lq.toState());
    for (let k = 0; k < 60; k++) {
      const x = block(d, 5, 15 + 5 * k);
      const before = gr.toState();
      const next = gramUpdate(gr, x);
      // the model passed in is left as it was
      expect(Buffer.from(gr.toState().Ut.buffer).equals(Buffer.from(before.Ut.buffer))).toBe(true);
      gr = next;
      lq.update(x);
      const [a, b] = [gr.toState(), lq.toState()];
      expect(a.nSeen).toBeCloseTo(b.nSeen, 12);
      expect(a.updates).toBe(b.updates);
      expect(a.s.length).toBe(2);
      for (let j = 0; j < 2; j++) expect(Math.abs(a.s[j]! - b.s[j]!) / b.s[0]!, `block ${k} s${j}`).toBeLessThan(1e-9);
      let e = 0;
      for (let q = 0; q < d; q++) e = Math.max(e, Math.abs(a.mean[q]! - b.mean[q]!));
      expect(e, `block ${k} mean`).toBeLessThan(1e-12);
      expect(Math.abs(overlap(a.Ut, b.Ut, 2, d) - 2), `block ${k} subspace`).toBeLessThan(1e-9);
      // orthonormal rows
      expect(Math.abs(overlap(a.Ut, a.Ut, 2, d) - 2)).toBeLessThan(1e-12);
      // keep both on the same track (rounding differences would otherwise add up over the blocks)
      if (k % 20 === 19) lq = IncrementalSvd.fromState(a);
    }
  });

  it('identical frames keep no direction, as IncrementalSvd; a scene varying along one pattern only takes the LQ route (bit-identical)', () => {
    const d = 500, opts = { dim: d, rank: 2, forget: 0.9, center: true };
    const still = new Matrix(5, d);
    // dyadic values: the block mean is exact, so the centred rows are exactly zero
    for (let i = 0; i < 5; i++) for (let q = 0; q < d; q++) still.data[i * d + q] = Math.round(128 + 60 * Math.sin(q / 9)) / 256;
    // first block of a fresh model (rank 0 so far): the new directions are exactly zero, none kept
    const fresh = new IncrementalSvd(opts);
    const a = gramUpdate(fresh, still).toState();
    fresh.update(still);
    const b = fresh.toState();
    expect(a.s.length).toBe(0);
    expect(b.s.length).toBe(0);
    expect(Buffer.from(a.mean.buffer).equals(Buffer.from(b.mean.buffer))).toBe(true);
    // a scene that varies along one pattern only: the second direction is rounding noise, below
    // what the Gram form resolves (s_2 < 1e-4 s_1), so the LQ route answers, bit for bit
    const one = (t0: number, b: number) => {
      const x = new Matrix(b, d);
      for (let i = 0; i < b; i++) for (let q = 0; q < d; q++) x.data[i * d + q] = 0.5 + 0.1 * Math.sin(q / 9) + 0.05 * Math.sin((t0 + i) / 3) * Math.cos(q / 13);
      return x;
    };
    const m = new IncrementalSvd(opts);
    m.update(one(0, 15));
    expect(m.s[1] ?? 0).toBeLessThan(1e-4 * m.s[0]!);
    const g = gramUpdate(m, one(15, 5)).toState();
    m.update(one(15, 5));
    const l = m.toState();
    for (const key of ['mean', 'Ut', 's'] as const) expect(Buffer.from(g[key].buffer).equals(Buffer.from(l[key].buffer)), key).toBe(true);
  });
});
