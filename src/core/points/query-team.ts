/**
 * A thread team for the point-cloud loops that run one query per point (ICP's nearest
 * neighbours, PCA normals): the calling thread splits the points into ranges, posts all but
 * its own to helper threads, computes its own, then blocks in Atomics.wait until the helpers'
 * counter reaches zero (as the linalg team, linalg/team.ts, does for GEMM). The tree, the
 * queries and the outputs are in shared memory, so helpers read and write them in place; each
 * query is answered exactly as by the one-thread loop, so results are identical
 * (test/core/points/query-team.test.ts).
 *
 * Off by default (the synchronous points API stays single-threaded for library users); the
 * compute pool's workers start a team sized to the cores. A helper not yet online is skipped,
 * and a part whose helper failed is computed again by the caller (which then throws the
 * part's real error, if it has one).
 */
import { Worker } from 'node:worker_threads';
import { helperModuleUrl, helpersOnline, pollUntil } from '../linalg/team.js';
import { setSharedTrees, type KdTreeState } from './kdtree.js';
import type { FpfhWork } from './fpfh.js';
import type { MatchWork } from './ransac.js';

/** One range of queries: helpers run them by `op` (query-worker.ts), the caller by the same function. */
export type QueryPart =
  | { op: 'nearest'; tree: KdTreeState; q: Float64Array; maxDistSq: number; idx: Int32Array; dist: Float64Array; from: number; to: number; warm: boolean }
  | { op: 'normals'; tree: KdTreeState; P: Float64Array; k: number; N: Float64Array; stats: Int32Array; part: number; viewpoint?: Float64Array; only?: Int32Array; from: number; to: number }
  | { op: 'fpfh'; pass: 1 | 2; tree: KdTreeState; work: FpfhWork; from: number; to: number }
  | { op: 'match'; work: MatchWork; part: number; from: number; to: number };

/** ctrl[0] pending parts, ctrl[1 + i] part i failed, ctrl[1 + MAX_PARTS + i] helper i online */
const MAX_PARTS = 64;
let ctrl: Int32Array | undefined;
let helpers: Worker[] = [];
let busy = false;
let helperParts = 0;

const helperUrl = (): URL => helperModuleUrl(import.meta.url, 'query-worker', 'points query team');

/** Starts `n` helper threads (replacing a running team); n = 0 stops it. Trees are then built in shared memory. */
export function startQueryTeam(n: number): void {
  stopQueryTeam();
  if (!(n > 0)) return;
  n = Math.min(n, MAX_PARTS - 1);
  ctrl = new Int32Array(new SharedArrayBuffer(4 * (1 + 2 * MAX_PARTS)));
  const url = helperUrl();
  for (let i = 0; i < n; i++) {
    // plain Node: a parent's loaders (tsx, vitest) would load the compiled modules twice
    const w = new Worker(url, { workerData: { ctrl, index: i, online: 1 + MAX_PARTS + i }, execArgv: [] });
    w.unref();
    w.on('error', () => { if (ctrl) Atomics.store(ctrl, 1 + MAX_PARTS + i, 0); });
    helpers.push(w);
  }
  setSharedTrees(true);
}

/** Ends the helper threads. */
export function stopQueryTeam(): void {
  for (const w of helpers) void w.terminate();
  helpers = [];
  ctrl = undefined;
  setSharedTrees(false);
}

/** Helpers online now (0 without a team). */
export function queryHelpers(): number {
  return helpersOnline(ctrl, helpers.length, 1 + MAX_PARTS);
}

/** Waits (asynchronously) until every helper is online; for tests and benchmarks. */
export function queryTeamReady(timeoutMs = 10_000): Promise<boolean> {
  return pollUntil(() => queryHelpers() >= helpers.length, timeoutMs);
}

/** Parts computed by helper threads since start (a test's control that the split happened). */
export function queryTeamStats(): { helperParts: number } {
  return { helperParts };
}

/** How many ranges to split `count` queries into (1 = no team, or too little work to share). */
export function queryParts(count: number, minPerPart = 2048): number {
  if (!ctrl || busy) return 1;
  return Math.max(1, Math.min(queryHelpers() + 1, Math.floor(count / minPerPart)));
}

/** [from, to) of part p of `parts` equal ranges over 0..count-1. */
export function partRange(count: number, parts: number, p: number): [number, number] {
  return [Math.floor((count * p) / parts), Math.floor((count * (p + 1)) / parts)];
}

/**
 * Runs parts[1..] on helpers and own(parts[0]) here; returns when all are done. A part whose
 * helper failed is run here. All operands must be in shared memory.
 */
export function runQueryParts(parts: QueryPart[], own: (p: QueryPart) => void): void {
  const c = ctrl;
  const online: number[] = [];
  if (c && !busy) for (let i = 0; i < helpers.length && online.length < parts.length - 1; i++) if (Atomics.load(c, 1 + MAX_PARTS + i) === 1) online.push(i);
  if (!c || busy || online.length < parts.length - 1) { for (const p of parts) own(p); return; }
  busy = true;
  try {
    Atomics.store(c, 0, online.length);
    for (let j = 0; j < parts.length; j++) Atomics.store(c, 1 + j, 0);
    online.forEach((h, j) => helpers[h]!.postMessage({ part: parts[j + 1], slot: j + 1 }));
    helperParts += online.length;
    own(parts[0]!);
    for (let v = Atomics.load(c, 0); v !== 0; v = Atomics.load(c, 0)) Atomics.wait(c, 0, v, 1000);
    for (let j = 1; j < parts.length; j++) if (Atomics.load(c, 1 + j) !== 0) own(parts[j]!);
  } finally {
    busy = false;
  }
}
