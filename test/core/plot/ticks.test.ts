import { describe, it, expect } from 'vitest';
import { tickLabels, niceTicks } from '../../../src/core/plot/svg.js';
import { decadeTicks, guardedDomain, wrapText } from '../../../src/core/plot/vl.js';

describe('tick labels and axis helpers', () => {
  it('one format per axis: the decimals the step needs, or exponents for tiny steps and big values', () => {
    expect(tickLabels(niceTicks(0, 0.0012))).toEqual(['0', '0.0002', '0.0004', '0.0006', '0.0008', '0.0010', '0.0012']);
    expect(tickLabels([0.0005, 0.001, 0.0015])).toEqual(['0.0005', '0.0010', '0.0015']);
    expect(tickLabels([-20, -10, 0, 10])).toEqual(['-20', '-10', '0', '10']);
    expect(tickLabels([1e-5, 2e-5, 3e-5])).toEqual(['1e-5', '2e-5', '3e-5']);
    expect(tickLabels([0, 2e5, 4e5])).toEqual(['0', '2e5', '4e5']);
    // distinct ticks stay distinct as labels
    const t = niceTicks(0.30825444, 0.30825446);
    expect(new Set(tickLabels(t)).size).toBe(t.length);
  });
  it('log axes get one tick per decade; flat data gets a domain of ±5% (no magnified noise); text wraps', () => {
    expect(decadeTicks(3e-3, 250)).toEqual([1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]);
    expect(decadeTicks(1e-17, 1, 6).length).toBeLessThanOrEqual(6);
    expect(guardedDomain([0.308, 0.308 + 1e-15])).toEqual([0.308 * 0.95 + 0.5e-15, 0.308 * 1.05 + 0.5e-15].map((v, i) => (i === 0 ? expect.closeTo(v, 12) : expect.closeTo(v, 12))));
    expect(guardedDomain([0.308, 0.308 + 1e-15], { zero: true })![0]).toBe(0);
    expect(guardedDomain([1, 2])).toBeUndefined();
    expect(wrapText('one, two; three four', 9)).toEqual(['one, two;', 'three', 'four']);
  });
});
