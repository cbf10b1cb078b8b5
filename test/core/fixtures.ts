/** Small stages for engine tests: a counter source, a doubler, a failing stage, a slow writer, a child spawner. */
import { z } from 'zod';
import { map, Observable, tap } from 'rxjs';
import { defineStage } from '../../src/core/stage.js';
import { fromAsync, boundedConcatMap } from '../../src/core/flow.js';
import { InputError } from '../../src/core/errors.js';
import { Registry } from '../../src/core/registry.js';
import { writeJson } from '../../src/stages/write-json.js';
import type { Metrics } from '../../src/core/ports.js';

export const counter = defineStage({
  name: 'counter',
  summary: 'emit n Metrics values {i}',
  input: null,
  output: 'Metrics',
  params: z.strictObject({ n: z.number().int().min(0).default(3), label: z.string().default('c') }),
  source: (p, ctx) =>
    fromAsync(function* () {
      for (let i = 0; i < p.n; i++) {
        flowStats.produced++;
        flowStats.maxInFlight = Math.max(flowStats.maxInFlight, flowStats.produced - Math.min(...Object.values(flowStats.consumedBy), flowStats.produced));
        yield { kind: 'Metrics', name: `${p.label}${i}`, values: { i } } satisfies Metrics;
      }
    }, ctx.flow),
});

/** counts for the backpressure test: items made by counter, items finished by slow-sink */
export const flowStats = { produced: 0, consumed: 0, maxInFlight: 0, consumedBy: {} as Record<string, number> };

/** A slow asynchronous consumer that yields to the event loop every `every` items. */
export const slowSink = defineStage({
  name: 'slow-sink',
  summary: 'consume slowly',
  input: 'Metrics',
  output: 'Metrics',
  params: z.strictObject({ every: z.number().int().min(1).default(1), highWaterMark: z.number().int().min(1).default(16) }),
  operator: (p, ctx) =>
    boundedConcatMap(
      async (m: Metrics, i: number) => {
        if (i % p.every === 0) await new Promise((r) => setImmediate(r));
        flowStats.consumed++;
        flowStats.consumedBy[ctx.stepId] = (flowStats.consumedBy[ctx.stepId] ?? 0) + 1;
        return m;
      },
      ctx.flow,
      { highWaterMark: p.highWaterMark },
    ),
});

export const scale = defineStage({
  name: 'scale',
  summary: 'multiply values.i by factor',
  input: 'Metrics',
  output: 'Metrics',
  params: z.strictObject({ factor: z.number().default(2) }),
  operator: (p) => map((m) => ({ ...m, values: { ...m.values, i: (m.values.i as number) * p.factor } })),
});

export const failAt = defineStage({
  name: 'fail-at',
  summary: 'throws an InputError at item `at`',
  input: 'Metrics',
  output: 'Metrics',
  params: z.strictObject({ at: z.number().int().min(0) }),
  operator: (p) =>
    map((m, i) => {
      if (i === p.at) throw new InputError(`item ${i} is bad`, 'fix item');
      return m;
    }),
});

/** Writes each item to a file after an async delay (a slow consumer). */
export const slowWrite = defineStage({
  name: 'slow-write',
  summary: 'write each value to a file, slowly',
  input: 'Metrics',
  output: 'File',
  params: z.strictObject({ delayMs: z.number().min(0).default(5) }),
  operator: (p, ctx) =>
    boundedConcatMap(
      async (m: Metrics) => {
        await new Promise((r) => setTimeout(r, p.delayMs));
        return ctx.writeFile(`${m.name}.json`, JSON.stringify(m.values));
      },
      ctx.flow,
      { highWaterMark: 2 },
    ),
});

/** pids of the children spawn-sleep started */
export const spawnedPids: number[] = [];

/** Spawns `sleep 60` and emits its pid, never completing until killed. */
export const spawnSleep = defineStage({
  name: 'spawn-sleep',
  summary: 'spawn a long-lived child',
  input: null,
  output: 'Metrics',
  params: z.strictObject({}),
  source: (_p, ctx) =>
    new Observable<Metrics>((sub) => {
      const child = ctx.children.spawn('sleep', ['60']);
      if (child.pid) spawnedPids.push(child.pid);
      sub.next({ kind: 'Metrics', name: 'child', values: { pid: child.pid ?? -1 } });
      child.once('exit', () => sub.complete());
      return () => child.kill('SIGKILL');
    }),
});

/** Records every value it sees into a global array (to check fan-out). */
export const seen: Record<string, number[]> = {};
export const record = defineStage({
  name: 'record',
  summary: 'record values.i under key',
  input: 'Metrics',
  output: 'Metrics',
  params: z.strictObject({ key: z.string() }),
  operator: (p) => tap((m) => (seen[p.key] ??= []).push(m.values.i as number)),
});

/** Sums a side input's values.i into each item. */
export const addSide = defineStage({
  name: 'add-side',
  summary: 'add side.values.i',
  input: 'Metrics',
  sides: { offset: 'Metrics' },
  output: 'Metrics',
  params: z.strictObject({}),
  operator: (_p, _ctx, sides) => map((m) => ({ ...m, values: { i: (m.values.i as number) + (sides.offset.values.i as number) } })),
});

/** Emits one Metrics per line of a text file (a source with an input file). */
export const readLines = defineStage({
  name: 'read-lines',
  summary: 'emit each line of a file',
  input: null,
  output: 'Metrics',
  params: z.strictObject({ path: z.string() }),
  inputFiles: (p) => [p.path],
  source: (p, ctx) =>
    fromAsync(async function* () {
      const { readFile } = await import('node:fs/promises');
      const lines = (await readFile(ctx.resolveInput(p.path), 'utf8')).split('\n');
      for (let i = 0; i < lines.length; i++) yield { kind: 'Metrics', name: `line${i}`, values: { i, text: lines[i]! } } satisfies Metrics;
    }, ctx.flow),
});

export function testRegistry(): Registry {
  return new Registry([counter, scale, failAt, slowWrite, spawnSleep, record, addSide, readLines, slowSink, writeJson] as never);
}
