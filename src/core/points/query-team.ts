/**
 * A thread team for the point-cloud loops that run one query per point (ICP's nearest
 * neighbours, PCA normals, FPFH, descriptor matching) and for k-d tree builds (by subtrees): the calling thread splits the points
 * into chunks (several per thread), posts the list to the helper threads, and every thread,
 * the caller included, claims the next unclaimed chunk from a shared counter until none is
 * left, so a helper that wakes late or a region of costly queries does not leave the others
 * waiting; the caller then blocks in Atomics.wait until the helpers still working on a chunk
 * are done. The tree, the queries and the outputs are in shared memory, so helpers read and
 * write them in place; each query is answered exactly as by the one-thread loop, so results
 * are identical (test/core/points/query-team.test.ts).
 *
 * Off by default (the synchronous points API stays single-threaded for library users); the
 * compute pool's workers start a team sized to the cores. A helper not yet online is skipped,
 * and a part whose helper failed is computed again by the caller (which then throws the
 * part's real error, if it has one).
 */
import { Worker } from 'node:worker_threads';
import { helperModuleUrl, helpersOnline, pollUntil } from '../linalg/team.js';
import { KdTree, setSharedTrees, type KdTreeState } from './kdtree.js';
import type { FpfhWork } from './fpfh.js';
import type { MatchWork } from './ransac.js';

/** One range of queries: helpers run them by `op` (query-worker.ts), the caller by the same function. */
export type QueryPart =
  | { op: 'nearest'; tree: KdTreeState; q: Float64Array; maxDistSq: number; idx: Int32Array; dist: Float64Array; from: number; to: number; warm: boolean; move?: Float64Array; cert?: Float64Array }
  | { op: 'normals'; tree: KdTreeState; P: Float64Array; k: number; N: Float64Array; stats: Int32Array; part: number; viewpoint?: Float64Array; only?: Int32Array; from: number; to: number }
  | { op: 'fpfh'; pass: 1 | 2; tree: KdTreeState; work: FpfhWork; from: number; to: number }
  | { op: 'match'; work: MatchWork; part: number; from: number; to: number }
  | { op: 'build'; tree: KdTreeState; src: Float64Array; node: number; from: number; to: number };

/**
 * ctrl[0] helpers inside a claim loop, ctrl[1 + i] chunk i failed, ctrl[1 + MAX_PARTS + i] helper i
 * online, ctrl[NEXT] the call's generation (high bits) and next unclaimed chunk (low 8 bits),
 * ctrl[HELPED] chunks run by helpers (statistics)
 */
const MAX_PARTS = 64;
/** chunks per call at most */
export const MAX_CHUNKS = 32;
const NEXT = 1 + 2 * MAX_PARTS, HELPED = NEXT + 1;
let generation = 0;
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
  ctrl = new Int32Array(new SharedArrayBuffer(4 * (HELPED + 1)));
  const url = helperUrl();
  for (let i = 0; i < n; i++) {
    // plain Node: a parent's loaders (tsx, vitest) would load the compiled modules twice
    const w = new Worker(url, { workerData: { ctrl, index: i, online: 1 + MAX_PARTS + i, next: NEXT, helped: HELPED }, execArgv: [] });
    w.unref();
    w.on('error', () => { if (ctrl) Atomics.store(ctrl, 1 + MAX_PARTS + i, 0); });
    helpers.push(w);
  }
  setSharedTrees(true, (list, tree, src) => {
    const parts: QueryPart[] = list.map((p) => ({ op: 'build', tree, src, ...p }));
    runQueryParts(parts, (p) => { if (p.op === 'build') KdTree.buildPart(p.tree, p.src, p.from, p.to, p.node); });
  });
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

/** How many chunks to split `count` queries into (1 = no team, or too little work to share); at most MAX_CHUNKS. */
export function queryParts(count: number, minPerPart = 2048): number {
  if (!ctrl || busy || queryHelpers() === 0) return 1;
  return Math.max(1, Math.min(MAX_CHUNKS, Math.floor(count / minPerPart)));
}

/** [from, to) of part p of `parts` equal ranges over 0..count-1. */
export function partRange(count: number, parts: number, p: number): [number, number] {
  return [Math.floor((count * p) / parts), Math.floor((count * (p + 1)) / parts)];
}

/**
 * Claims chunks of the call `gen` from ctrl[next] one at a time (compare-and-swap, so a thread
 * still holding an older call's list can never take a chunk of a newer call) and runs each;
 * returns how many it ran. Used by the caller and by the helpers (query-worker.ts).
 */
export function claimChunks(c: Int32Array, next: number, gen: number, count: number, run: (k: number) => void): number {
  let ran = 0;
  for (;;) {
    const v = Atomics.load(c, next);
    if (v >>> 8 !== gen || (v & 0xff) >= count) return ran;
    if (Atomics.compareExchange(c, next, v, v + 1) !== v) continue;
    run(v & 0xff);
    ran++;
  }
}

/**
 * Runs the chunks `parts`, on the helpers and here, each claimed by whichever thread is free;
 * returns when all are done. A chunk whose helper failed is run here. All operands must be in
 * shared memory.
 */
export function runQueryParts(parts: QueryPart[], own: (p: QueryPart) => void): void {
  const c = ctrl;
  const online: number[] = [];
  if (c && !busy) for (let i = 0; i < helpers.length; i++) if (Atomics.load(c, 1 + MAX_PARTS + i) === 1) online.push(i);
  if (!c || busy || !online.length || parts.length < 2 || parts.length > MAX_CHUNKS) { for (const p of parts) own(p); return; }
  busy = true;
  try {
    generation = (generation + 1) & 0x7fffff;
    const gen = generation;
    for (let j = 0; j < parts.length; j++) Atomics.store(c, 1 + j, 0);
    Atomics.store(c, HELPED, 0);
    Atomics.store(c, NEXT, gen << 8);
    for (const h of online) helpers[h]!.postMessage({ parts, gen });
    claimChunks(c, NEXT, gen, parts.length, (k) => own(parts[k]!));
    // every chunk is claimed: wait for the helpers still running one (ctrl[0] counts helpers inside a claim loop)
    for (let v = Atomics.load(c, 0); v !== 0; v = Atomics.load(c, 0)) Atomics.wait(c, 0, v, 1000);
    helperParts += Atomics.load(c, HELPED);
    for (let j = 0; j < parts.length; j++) if (Atomics.load(c, 1 + j) !== 0) own(parts[j]!);
  } finally {
    busy = false;
  }
}
