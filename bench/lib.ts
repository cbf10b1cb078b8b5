/**
 * Shared helpers for benchmarks. Each benchmark is `bench/<topic>.bench.ts`,
 * run by `bench/run.mjs` (through tsx) after `npm run build`. A benchmark:
 *   1. measures svdflow on some data,
 *   2. runs the peer (Debian's python3 with NumPy/SciPy/scikit-learn/OpenCV/Open3D)
 *      on the same data in the same run via `runPeer`,
 *   3. calls `report(topic, rows, notes)`, which writes bench/out/<topic>.json
 *      and prints a Markdown table. run.mjs assembles bench/RESULTS.md from them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateData } from '../src/core/data/locate.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, '..');
export const SHARED_DATA = resolve(ROOT, '..', 'shared', 'data');
export const OUT_DIR = join(BENCH_DIR, 'out');

/** Debian's python3 (has python3-numpy etc.), not a pyenv shim. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** A third-party file, found as pipelines find `data:` paths ($SVDFLOW_DATA, ../shared/data, the cache). */
export function sharedData(rel: string): string | undefined {
  const p = locateData(rel);
  if (!existsSync(p)) {
    console.warn(`[bench] skipped: ${p} is absent (../shared/data beside the repo, or \`npx svdflow data fetch all\`)`);
    return undefined;
  }
  return p;
}

/**
 * Runs `bench/peers/<script>` with Debian's python3 and returns its stdout parsed as JSON.
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for the peer only (they slow
 * current OpenBLAS); they stay set for everything else. `extraEnv` (e.g. OMP_NUM_THREADS=1) is added.
 */
export function runPeer<T = Record<string, unknown>>(script: string, args: string[] = [], extraEnv: Record<string, string> = {}): T {
  const env = { ...process.env, ...extraEnv };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(PYTHON, [join(BENCH_DIR, 'peers', script), ...args], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) {
    throw new Error(`peer ${script} failed (exit ${r.status}). Install the peers with: apt-get install python3-numpy python3-scipy python3-sklearn python3-opencv python3-open3d\n${r.stderr}`);
  }
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/**
 * Median wall time and median CPU time (this process, all its threads: process.cpuUsage) in
 * milliseconds of `fn` over `reps` runs after `warmup` runs.
 */
export async function timeCpuMs(fn: () => unknown | Promise<unknown>, reps = 5, warmup = 1): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const w: number[] = [], c: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await fn();
    w.push(performance.now() - t0);
    const d = process.cpuUsage(c0);
    c.push((d.user + d.system) / 1000);
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  return { wall: med(w), cpu: med(c) };
}

/** Median wall time in milliseconds of `fn` over `reps` runs after `warmup` runs. */
export async function timeMs(fn: () => unknown | Promise<unknown>, reps = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

export interface BenchRow {
  case: string;
  /** what was measured and its unit, e.g. "time (ms)", "frames/s", "F-measure" */
  metric: string;
  svdflow: number;
  peer: number;
  peerName: string;
  /** svdflow/peer for times (lower is better), peer/svdflow for rates; stated in `ratioMeaning` */
  ratio: number;
  goal?: string;
  met?: boolean;
  note?: string;
}

export function report(topic: string, title: string, rows: BenchRow[], notes: string[] = []): void {
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, `${topic}.json`), JSON.stringify({ topic, title, rows, notes, date: new Date().toISOString() }, null, 2));
  console.log(`\n## ${title}\n`);
  console.log(markdownTable(rows));
  for (const n of notes) console.log(`- ${n}`);
}

export function markdownTable(rows: BenchRow[]): string {
  const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3)) : String(x));
  const head = '| case | metric | svdflow | peer | peer value | ratio | goal | met |\n|---|---|---|---|---|---|---|---|';
  const body = rows.map((r) => `| ${r.case} | ${r.metric} | ${fmt(r.svdflow)} | ${r.peerName} | ${fmt(r.peer)} | ${fmt(r.ratio)}x | ${r.goal ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |${r.note ? ' ' + r.note : ''}`);
  return [head, ...body].join('\n');
}
