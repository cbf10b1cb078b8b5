import { describe, it, expect } from 'vitest';
import { lastValueFrom, map, tap, count } from 'rxjs';
import { Readable } from 'node:stream';
import { FlowControl, fromAsync, fromReadable, boundedConcatMap } from '../../src/core/flow.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('backpressure', () => {
  it('keeps items in flight under a fixed bound: 10^6 items, fast producer, slow consumer', async () => {
    const flow = new FlowControl();
    const N = 1_000_000;
    let produced = 0;
    let consumed = 0;
    let maxInFlight = 0;
    const total = await lastValueFrom(
      fromAsync(function* () {
        for (let i = 0; i < N; i++) {
          produced++;
          maxInFlight = Math.max(maxInFlight, produced - consumed);
          yield i;
        }
      }, flow).pipe(
        map((i) => i * 2),
        boundedConcatMap(
          async (v: number) => {
            if (v % 64 === 0) await tick(); // slow: yields to the event loop
            consumed++;
            return v;
          },
          flow,
          { highWaterMark: 8 },
        ),
        count(),
      ),
    );
    expect(total).toBe(N);
    expect(consumed).toBe(N);
    // high-water mark 8, plus the item being processed, plus the one the source had already pulled
    expect(maxInFlight).toBeLessThanOrEqual(10);
    expect(maxInFlight).toBeGreaterThan(1);
  }, 60_000);

  it('without the valve the same producer floods the queue (the bound above is real)', async () => {
    let produced = 0;
    let consumed = 0;
    let maxInFlight = 0;
    await lastValueFrom(
      fromAsync(function* () {
        for (let i = 0; i < 20_000; i++) {
          produced++;
          maxInFlight = Math.max(maxInFlight, produced - consumed);
          yield i;
        }
      }).pipe(
        boundedConcatMap(async (v: number) => {
          await tick();
          consumed++;
          return v;
        }, undefined),
        count(),
      ),
    );
    expect(maxInFlight).toBeGreaterThan(1000);
  });

  it('pauses a Readable (a child process stdout) while downstream is busy', async () => {
    const flow = new FlowControl();
    let pushed = 0;
    const chunk = Buffer.alloc(64 * 1024);
    const source = new Readable({
      highWaterMark: 256 * 1024,
      read() {
        pushed++;
        this.push(pushed > 2000 ? null : chunk);
      },
    });
    let consumed = 0;
    let maxAhead = 0;
    const n = await lastValueFrom(
      fromReadable(source, flow).pipe(
        tap(() => (maxAhead = Math.max(maxAhead, pushed - consumed))),
        boundedConcatMap(
          async (b: Buffer) => {
            await new Promise((r) => setTimeout(r, 0));
            consumed++;
            return b.length;
          },
          flow,
          { highWaterMark: 4 },
        ),
        count(),
      ),
    );
    expect(n).toBe(2000);
    // the stream's own buffer (256 KiB = 4 chunks) plus the queue (4) plus one in work
    expect(maxAhead).toBeLessThanOrEqual(12);
  }, 60_000);

  it('boundedConcatMap keeps order and propagates errors', async () => {
    const out: number[] = [];
    await lastValueFrom(
      fromAsync(() => [3, 1, 2]).pipe(
        boundedConcatMap(async (v: number) => {
          await new Promise((r) => setTimeout(r, v));
          return v;
        }, new FlowControl()),
        tap((v) => out.push(v)),
      ),
    );
    expect(out).toEqual([3, 1, 2]);
    await expect(
      lastValueFrom(
        fromAsync(() => [1, 2]).pipe(
          boundedConcatMap(async (v: number) => {
            if (v === 2) throw new Error('boom');
            return v;
          }, new FlowControl()),
        ),
      ),
    ).rejects.toThrow('boom');
  });
});
