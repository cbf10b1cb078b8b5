import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePipeline } from '../../src/core/pipeline.js';
import { runPipeline } from '../../src/core/runner.js';
import { CancelledError, StageError } from '../../src/core/errors.js';
import { testRegistry, seen, spawnedPids, flowStats } from './fixtures.js';
import { tempDir, until } from '../helpers.js';

const reg = testRegistry();
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
  for (const k of Object.keys(seen)) delete seen[k];
});
afterEach(() => tmp.cleanup());

const pipeline = (text: string) => parsePipeline(text, { file: 'p.yaml', baseDir: process.cwd() }, reg);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runner', () => {
  it('fan-out delivers every item to every branch', async () => {
    const p = pipeline(`name: fan
steps:
  - { id: src, stage: counter, params: { n: 1000 } }
  - { id: a, stage: record, input: src, params: { key: a } }
  - { id: b, stage: scale, input: src, params: { factor: 3 } }
  - { id: c, stage: record, input: b, params: { key: c } }
  - { id: d, stage: record, input: src, params: { key: d } }
`);
    const r = await runPipeline(p, { outDir: tmp.dir, progress: false });
    const expected = Array.from({ length: 1000 }, (_, i) => i);
    expect(seen.a).toEqual(expected);
    expect(seen.d).toEqual(expected);
    expect(seen.c).toEqual(expected.map((i) => 3 * i));
    expect(r.steps.find((s) => s.id === 'b')).toMatchObject({ itemsIn: 1000, itemsOut: 1000 });
  });

  it('backpressure through a pipeline: 10^6 items, a slow async sink, items in flight bounded', async () => {
    Object.assign(flowStats, { produced: 0, consumed: 0, maxInFlight: 0, consumedBy: { a: 0, b: 0 } });
    const p = pipeline(`steps:
  - { id: src, stage: counter, params: { n: 1000000 } }
  - { id: x2, stage: scale }
  - { id: a, stage: slow-sink, input: x2, params: { every: 16, highWaterMark: 16 } }
  - { id: b, stage: slow-sink, input: src, params: { every: 4, highWaterMark: 16 } }
`);
    const r = await runPipeline(p, { outDir: tmp.dir, progress: false, keepValues: false });
    expect(flowStats.produced).toBe(1_000_000);
    expect(flowStats.consumed).toBe(2_000_000);
    expect(r.steps.find((s) => s.id === 'a')!.itemsOut).toBe(1_000_000);
    // in flight = produced − consumed by the slowest sink: bounded by its queue (16) plus the item in work and the one being produced
    expect(flowStats.maxInFlight).toBeLessThanOrEqual(16 + 2);
    expect(flowStats.maxInFlight).toBeGreaterThan(4);
  }, 60_000);

  it('passes side inputs computed by earlier steps, and replays shared outputs', async () => {
    const p = pipeline(`steps:
  - { id: off, stage: counter, params: { n: 11 } }
  - { id: src, stage: counter, params: { n: 3 } }
  - { id: sum, stage: add-side, input: src, inputs: { offset: off } }
  - { id: rec, stage: record, input: sum, params: { key: s } }
  - { id: again, stage: record, input: off, params: { key: o } }
`);
    await runPipeline(p, { outDir: tmp.dir, progress: false });
    expect(seen.s).toEqual([10, 11, 12]);
    expect(seen.o).toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it('commits outputs and writes a run.json manifest on success', async () => {
    const p = pipeline(`name: ok
steps:
  - { id: src, stage: counter, params: { n: 3 } }
  - { id: w, stage: slow-write, params: { delayMs: 1 } }
`);
    const r = await runPipeline(p, { outDir: tmp.dir, progress: false });
    // the outputs, the manifest, and the report page built from them
    expect(readdirSync(tmp.dir).sort()).toEqual(['c0.json', 'c1.json', 'c2.json', 'report.html', 'run.json']);
    expect(r.report).toBe(join(tmp.dir, 'report.html'));
    const page = readFileSync(r.report!, 'utf8');
    for (const f of ['c0.json', 'c1.json', 'c2.json', 'run.json']) expect(page).toContain(`href="${f}"`);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from the network
    const m = JSON.parse(readFileSync(join(tmp.dir, 'run.json'), 'utf8'));
    expect(m.status).toBe('succeeded');
    expect(m.files.map((f: { path: string }) => f.path).sort()).toEqual(['c0.json', 'c1.json', 'c2.json']);
    expect(m.steps[1]).toMatchObject({ id: 'w', stage: 'slow-write', params: { delayMs: 1 }, itemsIn: 3, itemsOut: 3 });
    expect(r.peakRssMiB).toBeGreaterThan(10);
  });

  it('a run that fails midway leaves no output file behind and keeps earlier files', async () => {
    writeFileSync(join(tmp.dir, 'c0.json'), 'previous run');
    const p = pipeline(`steps:
  - { id: src, stage: counter, params: { n: 10 } }
  - { id: bad, stage: fail-at, params: { at: 5 } }
  - { id: w, stage: slow-write, params: { delayMs: 1 } }
`);
    const err = await runPipeline(p, { outDir: tmp.dir, progress: false }).catch((e) => e);
    expect(err).toBeInstanceOf(StageError);
    expect(err.message).toMatch(/^p\.yaml:3:\d+ step 'bad' \(stage fail-at\) failed: item 5 is bad$/);
    expect(err.hint).toBe('fix item');
    expect(readdirSync(tmp.dir)).toEqual(['c0.json']);
    expect(readFileSync(join(tmp.dir, 'c0.json'), 'utf8')).toBe('previous run');
  });

  it('cancellation ends a spawned child process and removes partial outputs', async () => {
    const p = pipeline(`steps:
  - { id: child, stage: spawn-sleep }
  - { id: src, stage: counter, params: { n: 2 } }
  - { id: w, stage: slow-write, input: src, params: { delayMs: 1 } }
`);
    const ac = new AbortController();
    const before = spawnedPids.length;
    const run = runPipeline(p, { outDir: tmp.dir, progress: false, signal: ac.signal });
    await until(() => spawnedPids.length > before, 'the spawn-sleep child');
    expect(spawnedPids.length).toBe(before + 1);
    const pid = spawnedPids[before]!;
    expect(alive(pid)).toBe(true);
    expect(await Promise.race([run.then(() => 'finished'), new Promise((r) => setTimeout(() => r('running'), 50))])).toBe('running');
    ac.abort('SIGINT');
    const err = await run.catch((e) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(err.exitCode).toBe(130);
    await until(() => !alive(pid), 'the child to end after the cancellation');
    // c0.json and c1.json were written to temporary files but never committed
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  it('a failing stage kills the children of other stages', async () => {
    const p = pipeline(`steps:
  - { id: child, stage: spawn-sleep }
  - { id: src, stage: counter, params: { n: 3 } }
  - { id: bad, stage: fail-at, input: src, params: { at: 2 } }
`);
    const before = spawnedPids.length;
    const err = await runPipeline(p, { outDir: tmp.dir, progress: false }).catch((e) => e);
    expect(err).toBeInstanceOf(StageError);
    expect(spawnedPids.length).toBe(before + 1);
    await until(() => !alive(spawnedPids[before]!), 'the child to end after the failure');
  });

  it('refuses an output folder that is a file', async () => {
    const f = join(tmp.dir, 'file');
    writeFileSync(f, 'x');
    const p = pipeline(`steps:\n  - { stage: counter }\n`);
    await expect(runPipeline(p, { outDir: f, progress: false })).rejects.toThrow(/output path .* is a file, not a folder/);
  });
});
