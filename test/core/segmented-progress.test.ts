/**
 * --workers progress (the new-user trial saw "0% 0/2 segments" for 28 of 37 s): each segment worker
 * reports its decoded-frame count to the parent over an IPC channel (progress.ts), and the parent's
 * bar counts frames over all segments (warm-up included) against their known total.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { segmentFrameCounts } from '../../src/core/segmented-run.js';
import { planSegments } from '../../src/core/video/segment-plan.js';
import { requireCli, ROOT } from '../helpers.js';

beforeAll(() => requireCli());

describe('--workers progress', () => {
  it('the parent bar total: every segment\'s frames, its warm-up included', () => {
    const plan = planSegments({ first: 0, frames: 100, parts: 2, warmup: 10, align: 5 });
    const [a, b] = plan.segments;
    // planSegments: seg 0 owns [0, 50), seg 1 [50, 100) after a warm-up from 40 ('end' is one past the last frame)
    expect([a!.start, a!.end, b!.warmupStart, b!.start, b!.end]).toEqual([0, 50, 40, 50, null]);
    expect(segmentFrameCounts(plan)).toEqual([50, 60]);
    expect(segmentFrameCounts(plan).reduce((x, y) => x + y, 0)).toBe(100 + (b!.start - b!.warmupStart));
  });

  it('a worker reports its frames bar over IPC (throttled, the last count always) and still exits by itself', async () => {
    const mod = pathToFileURL(join(ROOT, 'dist', 'src', 'core', 'progress.js')).href;
    // a decode-like bar of 40 frames ticked over ~0.5 s, an 'images' bar that must not be reported
    const code = `const { ProgressRenderer } = await import(${JSON.stringify(mod)});
      const r = new ProgressRenderer(false);
      const other = r.create('load', { total: 3, unit: 'images' }); other.tick(3); other.done();
      const bar = r.create('frames', { total: 40, unit: 'frames' });
      for (let i = 0; i < 40; i++) { bar.tick(); await new Promise((ok) => setTimeout(ok, 12)); }
      bar.done();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, SVDFLOW_PROGRESS_IPC: '1' } });
    const got: unknown[] = [];
    child.on('message', (m) => got.push(m));
    const exit = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
    expect(exit).toBe(0);
    const counts = got.map((m) => (m as { svdflowFrames: { count: number; total: number } }).svdflowFrames);
    expect(counts.at(-1)).toEqual({ count: 40, total: 40 });
    expect(counts.every((c) => c.total === 40)).toBe(true);
    // throttled to one message per 200 ms, plus the last: not one per frame
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(counts.length).toBeLessThan(20);
    for (let i = 1; i < counts.length; i++) expect(counts[i]!.count).toBeGreaterThanOrEqual(counts[i - 1]!.count);
  });
});
