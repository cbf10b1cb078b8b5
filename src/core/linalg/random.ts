/**
 * Small seeded PRNG: xoshiro128** (32-bit state words, seeded through splitmix32),
 * uniform doubles with 53 random bits and Box-Muller gaussians. Deterministic
 * across platforms for a given seed.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal N(0, 1). */
  gaussian(): number;
  /**
   * Fills `out` with standard normal values by Marsaglia's polar method (no sin/cos: ~0.9 vs
   * ~1.3-1.7 ms for 31,500 values by gaussian()); a sequence of its own, not gaussian()'s.
   */
  fillGaussian(out: Float64Array): void;
}

export function seededRandom(seed: number): SeededRandom {
  let x = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix(), s1 = splitmix(), s2 = splitmix(), s3 = splitmix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const nextU32 = (): number => {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r;
  };
  let spare = NaN;
  const next = (): number => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992;
  return {
    next,
    gaussian(): number {
      if (spare === spare) { const g = spare; spare = NaN; return g; }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    fillGaussian(out: Float64Array): void {
      const n = out.length;
      for (let i = 0; i < n;) {
        let u: number, v: number, s: number;
        do {
          u = 2 * next() - 1;
          v = 2 * next() - 1;
          s = u * u + v * v;
        } while (s >= 1 || s === 0);
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        out[i++] = u * f;
        if (i < n) out[i++] = v * f;
      }
    },
  };
}

function rotl(v: number, k: number): number {
  return (v << k) | (v >>> (32 - k));
}
