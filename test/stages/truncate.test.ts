import { describe, it, expect, beforeAll } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { svd } from '../../src/stages/svd.js';
import { center } from '../../src/stages/center.js';
import { truncate, rankForPercent } from '../../src/stages/truncate.js';
import { InputError } from '../../src/core/errors.js';
import type { Factorization } from '../../src/core/ports.js';
import { decayingGray } from './image-fixtures.js';

let full: Factorization;
beforeAll(async () => {
  full = (await lastValueFrom(of(decayingGray(60, 45)).pipe(center(), svd({ solver: 'exact' })))) as Factorization;
});
const cut = (p: Parameters<typeof truncate>[0], f: Factorization = full) => lastValueFrom(of(f).pipe(truncate(p)));

/** independent: relative error of rank k against the original, from σ */
function errAt(f: Factorization, k: number): number {
  const s = f.factors[0]!.s;
  let tail = 0;
  for (let i = s.length - 1; i >= k; i--) tail += s[i]! * s[i]!;
  return Math.sqrt(tail / f.originalNormSq[0]!);
}
function energyAt(f: Factorization, k: number): number {
  const s = f.factors[0]!.s;
  let kept = 0;
  for (let i = 0; i < k; i++) kept += s[i]! * s[i]!;
  return kept / f.factors[0]!.normSq;
}

describe('truncate', () => {
  it('percent: 5% of 700 singular values is 35 (rounded), not 36', async () => {
    expect(rankForPercent(5, 700)).toBe(35);
    expect(rankForPercent(5, 45)).toBe(2); // 2.25 → 2
    expect(rankForPercent(0.1, 45)).toBe(1); // at least 1
    // on a real 700-row factorisation (top 40 values computed)
    const f = (await lastValueFrom(of(decayingGray(700, 720, 2)).pipe(center(), svd({ rank: 40 })))) as Factorization;
    const t = await cut({ percent: 5 }, f);
    expect(t.factors[0]!.rank).toBe(35);
    expect(t.truncation).toMatchObject({ by: 'percent', target: 5, rank: 35 });
    expect(t.truncation!.reason).toMatch(/5% of 700 singular values = 35/);
  });

  it('energy and error give the smallest k that meets them', async () => {
    for (const target of [0.5, 0.9, 0.99, 0.9999]) {
      const k = (await cut({ energy: target })).factors[0]!.rank;
      expect(energyAt(full, k)).toBeGreaterThanOrEqual(target);
      expect(energyAt(full, k - 1)).toBeLessThan(target);
    }
    for (const target of [0.2, 0.05, 0.01, 0.003]) {
      const t = await cut({ error: target });
      const k = t.factors[0]!.rank;
      expect(errAt(full, k)).toBeLessThanOrEqual(target);
      expect(errAt(full, k - 1)).toBeGreaterThan(target);
      expect(t.truncation!.by).toBe('error');
    }
  });

  it('ratio: the largest k whose float32 storage is within 1/ratio of the 8-bit original', async () => {
    const m = 60, n = 45;
    const k = (await cut({ ratio: 4 })).factors[0]!.rank;
    const bytes = (j: number) => j * (m + n + 1) * 4 + 4; // + the global mean
    expect((m * n) / bytes(k)).toBeGreaterThanOrEqual(4);
    expect((m * n) / bytes(k + 1)).toBeLessThan(4);
    await expect(cut({ ratio: 1000 })).rejects.toThrow(/compression ratio 1000 cannot be reached: even k = 1 gives/);
  });

  it('keeps the factors whole unless drop: true', async () => {
    const t = await cut({ rank: 3 });
    expect([t.factors[0]!.rank, t.factors[0]!.s.length]).toEqual([3, 45]);
    const d = await cut({ rank: 3, drop: true });
    expect([d.factors[0]!.s.length, d.factors[0]!.U.cols, d.factors[0]!.V.cols]).toEqual([3, 3, 3]);
  });

  it('rank above min(m, n) states the bound; exactly one target; percent range', async () => {
    const e = await cut({ rank: 46 }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/rank 46 is larger than min\(rows, cols\) = min\(60, 45\) = 45/);
    expect(() => truncate({ rank: 3, percent: 5 })).toThrow(/invalid params for stage truncate[\s\S]*give exactly one of rank, percent, energy, error, ratio/);
    expect(() => truncate({})).toThrow(/give exactly one of/);
    expect(() => truncate({ percent: 0 })).toThrow(/percent/);
    expect(() => truncate({ percent: 150 })).toThrow(/percent/);
  });
});
