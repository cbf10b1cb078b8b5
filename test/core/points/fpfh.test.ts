import { describe, it, expect } from 'vitest';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { KdTree } from '../../../src/core/points/kdtree.js';
import { computeFpfh, pairFeatures, radiusNormals, orientOutward, FPFH_DIM } from '../../../src/core/points/fpfh.js';
import { applyTransform, axisAngle, homogeneous, rotateVectors } from '../../../src/core/points/rigid.js';

function blob(n: number, seed: number): Matrix {
  // an asymmetric closed surface
  const rng = seededRandom(seed), P = new Matrix(n, 3);
  for (let i = 0; i < n; i++) {
    const u = rng.next() * 2 - 1, th = rng.next() * 2 * Math.PI, s = Math.sqrt(1 - u * u);
    const x = s * Math.cos(th), y = s * Math.sin(th), z = u;
    const r = 1 + 0.25 * Math.sin(3 * x + 1) * Math.cos(2 * y + 0.5) + 0.6 * Math.exp(-8 * ((x - 0.6) ** 2 + (y - 0.5) ** 2 + (z - 0.6) ** 2));
    P.data.set([2 * r * x, 1.3 * r * y, 0.8 * r * z], 3 * i);
  }
  return P;
}

describe('k-d tree radius query', () => {
  it('returns exactly the points within the radius, nearest first, capped at max', () => {
    const P = blob(800, 3), tree = new KdTree(P);
    const idx = new Int32Array(800), dist = new Float64Array(800);
    for (const i of [0, 17, 400]) {
      const c = tree.radiusInto(P.data, 3 * i, 0.5, 800, idx, dist);
      const brute: number[] = [];
      for (let j = 0; j < 800; j++) if ((P.get(j, 0) - P.get(i, 0)) ** 2 + (P.get(j, 1) - P.get(i, 1)) ** 2 + (P.get(j, 2) - P.get(i, 2)) ** 2 <= 0.25) brute.push(j);
      expect(c).toBe(brute.length);
      expect([...idx.slice(0, c)].sort((a, b) => a - b)).toEqual(brute);
      for (let k = 1; k < c; k++) expect(dist[k]!).toBeGreaterThanOrEqual(dist[k - 1]!);
      const capped = tree.radiusInto(P.data, 3 * i, 0.5, 5, idx, dist);
      expect(capped).toBe(Math.min(5, brute.length));
    }
  });
});

describe('FPFH', () => {
  it('pair features of a known configuration', () => {
    // p1 at the origin with normal z; p2 at (1, 0, 0) with normal (0, sin 30°, cos 30°):
    // d = x, v = d × n1 = −y, w = n1 × v = x → alpha = atan2(w·n2, n1·n2) = 0, phi = v·n2 = −0.5, theta = n1·d = 0
    const P = Float64Array.from([0, 0, 0, 1, 0, 0]);
    const N = Float64Array.from([0, 0, 1, 0, 0.5, Math.sqrt(3) / 2]);
    const f = new Float64Array(3);
    expect(pairFeatures(P, N, 0, 1, f)).toBe(true);
    expect(Array.from(f)).toEqual([expect.closeTo(0, 12), expect.closeTo(-0.5, 12), expect.closeTo(0, 12)]);
    // the normal closer to the connecting line becomes the source: theta = −n2·d when n2 leans along d
    const N2 = Float64Array.from([0, 0, 1, 0.6, 0, 0.8]);
    expect(pairFeatures(P, N2, 0, 1, f)).toBe(true);
    expect(f[2]).toBeCloseTo(-0.6, 12);
    // a normal along the connecting line has no Darboux frame
    expect(pairFeatures(P, Float64Array.from([0, 0, 1, 1, 0, 0]), 0, 1, f)).toBe(false);
    // coincident points give no feature
    expect(pairFeatures(Float64Array.from([1, 1, 1, 1, 1, 1]), N, 0, 1, f)).toBe(false);
  });
  it('the source of a pair is chosen by Open3D\'s acos(|n·d|) comparison, exactly, also for near-equal angles; alpha and phi from the Darboux frame\'s definition', () => {
    // Not a copy of the code under test: Open3D's rule (ComputePairFeatures: the source is the
    // second point when acos(|n1·d|) > acos(|n2·d|)) decides the expected source, which the
    // output's theta shows exactly (n1·d/|d| kept, or −n2·d/|d| after the swap); alpha and phi are
    // checked against the Darboux frame built from its definition with vector helpers.
    type V = [number, number, number];
    const dot = (x: V, y: V) => x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
    const cross = (x: V, y: V): V => [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]];
    const ref = (P: Float64Array, N: Float64Array, out: Float64Array): boolean => {
      const d: V = [P[3]! - P[0]!, P[4]! - P[1]!, P[5]! - P[2]!], len = Math.sqrt(dot(d, d));
      if (len === 0) return false;
      const n1: V = [N[0]!, N[1]!, N[2]!], n2: V = [N[3]!, N[4]!, N[5]!];
      const a1 = dot(n1, d) / len, a2 = dot(n2, d) / len;
      const swap = Math.acos(Math.abs(a1)) > Math.acos(Math.abs(a2));
      const [ns, nt, ds]: [V, V, V] = swap ? [n2, n1, [-d[0], -d[1], -d[2]]] : [n1, n2, d];
      const c = cross(ds, ns), cl = Math.hypot(...c);
      if (cl === 0) return false;
      const v = c.map((x) => x / cl) as V, w = cross(ns, v);
      out[0] = Math.atan2(dot(w, nt), dot(ns, nt));
      out[1] = dot(v, nt);
      out[2] = swap ? -a2 : a1;
      return true;
    };
    const rng = seededRandom(77), f = new Float64Array(3), g = new Float64Array(3);
    const unit = () => { const v = [rng.next() - 0.5, rng.next() - 0.5, rng.next() - 0.5]; const l = Math.hypot(...v); return v.map((x) => x / l); };
    let near = 0;
    for (let t = 0; t < 20000; t++) {
      const P = Float64Array.from([...unit(), ...unit()]);
      const n1 = unit();
      let n2 = unit();
      if (t % 3 === 0) {
        // n2 the mirror image of n1 across the plane normal to d (|n1·d| = |n2·d| up to rounding), sometimes nudged by ~1e-12
        const d = [P[3]! - P[0]!, P[4]! - P[1]!, P[5]! - P[2]!], l = Math.hypot(...d), u = d.map((x) => x / l);
        const k = n1[0]! * u[0]! + n1[1]! * u[1]! + n1[2]! * u[2]!;
        n2 = n1.map((x, j) => x - 2 * k * u[j]! + (t % 2 ? 1e-12 * (rng.next() - 0.5) : 0));
        near++;
      }
      if (t % 7 === 0) n2 = [P[3]! - P[0]!, P[4]! - P[1]!, P[5]! - P[2]!].map((x, _, a) => x / Math.hypot(...a)); // along d: |a2| may round above 1
      const N = Float64Array.from([...n1, ...n2]);
      const r1 = pairFeatures(P, N, 0, 1, f), r2 = ref(P, N, g);
      expect(r1).toBe(r2);
      if (!r1) continue;
      expect(f[2], `pair ${t}: the source Open3D picks`).toBe(g[2]);
      expect(Math.abs(f[0]! - g[0]!), `pair ${t}: alpha`).toBeLessThan(1e-12);
      expect(Math.abs(f[1]! - g[1]!), `pair ${t}: phi`).toBeLessThan(1e-12);
    }
    expect(near).toBeGreaterThan(6000);
  });
  it('33 bins; each 11-bin block sums to 200 (own SPFH 100 + normalised neighbours 100); invariant to rotation and translation', () => {
    const P = blob(600, 5);
    const N = orientOutward(P, radiusNormals(P, 0.4));
    const F = computeFpfh(P, N, { radius: 0.8, maxNeighbours: 100 });
    expect(F.cols).toBe(FPFH_DIM);
    for (const i of [0, 100, 599]) for (let b = 0; b < 3; b++) {
      let s = 0;
      for (let h = 0; h < 11; h++) s += F.get(i, 11 * b + h);
      expect(s).toBeCloseTo(200, 8);
    }
    const G = homogeneous(axisAngle([1, -2, 0.5], 130), [3, -1, 2]);
    const P2 = applyTransform(G, P), N2 = rotateVectors(G, N);
    const F2 = computeFpfh(P2, N2, { radius: 0.8, maxNeighbours: 100 });
    // the same up to round-off, except where an angle sits on a bin edge: one pair changes bin in an SPFH,
    // which then shifts the FPFH of every neighbour a little (a mean L1 change far below the 600 of a descriptor)
    let same = 0, l1 = 0;
    for (let i = 0; i < 600; i++) {
      let d = 0;
      for (let h = 0; h < 33; h++) d += Math.abs(F.get(i, h) - F2.get(i, h));
      l1 += d;
      if (d < 1e-6) same++;
    }
    expect(same).toBeGreaterThan(0.6 * 600); // measured: about 70% identical to 1e-13, the rest near bin edges
    expect(l1 / 600).toBeLessThan(0.5);
    // and descriptors differ between points (they carry information)
    let spread = 0;
    for (let h = 0; h < 33; h++) spread += Math.abs(F.get(0, h) - F.get(300, h));
    expect(spread).toBeGreaterThan(10);
  });
  it('normals within a radius: a plane gives its normal; outward orientation is rotation-invariant', () => {
    const rng = seededRandom(2), P = new Matrix(300, 3);
    for (let i = 0; i < 300; i++) { const a = rng.next(), b = rng.next(); P.data.set([a, b, 0.5 * a - 0.25 * b + 1], 3 * i); }
    const N = radiusNormals(P, 0.2);
    const n = [-0.5, 0.25, 1].map((v) => v / Math.hypot(0.5, 0.25, 1));
    for (let i = 0; i < 300; i++) expect(Math.abs(N.get(i, 0) * n[0]! + N.get(i, 1) * n[1]! + N.get(i, 2) * n[2]!)).toBeCloseTo(1, 8);
    const S = blob(200, 1), NS = orientOutward(S, radiusNormals(S, 0.5));
    let outward = 0;
    for (let i = 0; i < 200; i++) outward += S.get(i, 0) * NS.get(i, 0) + S.get(i, 1) * NS.get(i, 1) + S.get(i, 2) * NS.get(i, 2) > 0 ? 1 : 0;
    expect(outward).toBe(200);
  });
  it('rejects bad input with the reason', () => {
    const P = blob(10, 1);
    expect(() => computeFpfh(P, P, { radius: 0 })).toThrow('FPFH radius must be positive, got 0');
    expect(() => computeFpfh(new Matrix(5, 2), new Matrix(5, 2), { radius: 1 })).toThrow('FPFH needs 3-D points and normals, got 2-D');
  });
});
