import { describe, it, expect } from 'vitest';
import { checkPlan, planSegments, segmentOf } from '../../../src/core/video/segment-plan.js';

describe('segment plan (plain data)', () => {
  it('splits 1700 frames from 1 into 2 aligned halves with a warm-up window', () => {
    const p = planSegments({ first: 1, frames: 1700, parts: 2, warmup: 80, align: 15 });
    // 114 blocks of 15: 57 + 57; warm-up rounded up to 90
    expect(p).toEqual({
      version: 1, first: 1, frames: 1700, warmup: 90, align: 15,
      segments: [
        { index: 0, start: 1, end: 856, warmupStart: 1 },
        { index: 1, start: 856, end: null, warmupStart: 766 },
      ],
    });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    expect(checkPlan(JSON.parse(JSON.stringify(p)))).toEqual(p);
  });
  it('covers every frame exactly once, boundaries on the alignment, near-equal lengths', () => {
    for (const [frames, parts, align] of [[120, 3, 30], [121, 4, 15], [1000, 7, 1], [10, 4, 15], [5, 1, 3]] as const) {
      const p = planSegments({ first: 0, frames, parts, warmup: 30, align });
      const owner = Array.from({ length: frames }, (_, n) => segmentOf(p, n)!.index);
      expect(owner.every((o, n) => n === 0 || o === owner[n - 1] || o === owner[n - 1]! + 1)).toBe(true);
      expect(owner[0]).toBe(0);
      expect(new Set(owner).size).toBe(p.segments.length);
      expect(p.segments.length).toBe(Math.min(parts, Math.ceil(frames / align)));
      for (const s of p.segments) {
        expect(s.start % align).toBe(0);
        expect(s.warmupStart).toBe(Math.max(0, s.start - Math.ceil(30 / align) * align));
      }
      const lens = p.segments.slice(0, -1).map((s) => s.end! - s.start);
      if (lens.length > 1) expect(Math.max(...lens) - Math.min(...lens)).toBeLessThanOrEqual(align);
      expect(segmentOf(p, frames + 500)!.index).toBe(p.segments.length - 1); // the last reads to the end
    }
    expect(segmentOf(planSegments({ first: 5, frames: 10, parts: 2, warmup: 0 }), 4)).toBeUndefined();
  });
  it('refuses impossible plans and invalid JSON plans with the reason', () => {
    expect(() => planSegments({ first: 0, frames: 0, parts: 2, warmup: 0 })).toThrow('a segment plan needs a known frame count >= 1, got 0');
    const p = planSegments({ first: 0, frames: 100, parts: 2, warmup: 10, align: 10 });
    expect(() => checkPlan({ ...p, segments: [p.segments[0], { ...p.segments[1]!, start: 60 }] })).toThrow('invalid segment plan: segment 1 starts at 60, expected 50');
    expect(() => checkPlan({ ...p, segments: [{ ...p.segments[0]!, end: null }, p.segments[1]] })).toThrow('segment 0 end null');
    expect(() => checkPlan({ ...p, segments: [p.segments[0], { ...p.segments[1]!, warmupStart: 45 }] })).toThrow('segment 1 is not aligned to 10 frames');
    expect(() => checkPlan({ version: 2 })).toThrow('expected { version: 1');
  });
});
