/**
 * A thread team for synchronous fan-out INSIDE one computation (GEMM and the GEMM-bound
 * phases of an SVD: Householder back-transformation, QR trailing updates, randomized
 * sketches, Gram products). The calling thread splits C into parts and posts the list to the
 * helper threads; every thread, the caller included, then CLAIMS parts from a shared counter
 * (an atomic add) until none is left, and the caller blocks in Atomics.wait until every part
 * is done. Claiming, rather than one fixed part per thread, matters on a shared machine: a
 * helper that the OS has not scheduled yet (a loaded machine, or a wake-up that takes longer
 * than the part) claims nothing, and the caller computes that part itself instead of waiting
 * for it. Operands are SharedArrayBuffer-backed (see matrix.ts, shared allocation), so helpers
 * read A and B and write their block of C in place: no copies, and each element of C is summed
 * in the same order as by the one-thread kernel whoever computes its part, so results are
 * identical to the last bit (test/linalg/team.test.ts).
 *
 * Off by default: the synchronous linalg API stays single-threaded for library users. The
 * compute pool's workers start a team (startTeam) sized to the cores. Helpers that are not
 * yet online are skipped (never waited for), and a helper that fails sets a flag the caller
 * turns into an error.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** ctrl[0] parts computed by helpers (a statistic), ctrl[1] unused, ctrl[2 + i] helper i online */
let ctrl: Int32Array | undefined;
let helpers: Worker[] = [];

export interface TeamOperand { data: Float64Array; rows: number; cols: number; offset: number; stride: number }
export interface TeamPart { A: TeamOperand; B: TeamOperand; C: TeamOperand; m: number; n: number; k: number; tA: boolean; tB: boolean; alpha: number; zero?: boolean }
/**
 * One fan-out as the helpers receive it: the parts, and `round` in shared memory: [0] the next
 * part to claim, [1] parts done, [2] error flag. A helper whose message arrives after the round
 * ended finds [0] beyond the parts and does nothing.
 */
export interface TeamRound { parts: TeamPart[]; round: Int32Array }
/** A test's hook: the helper blocks for `sleepMs` (a helper the OS has not scheduled). */
export interface TeamSleep { sleepMs: number }

/**
 * The URL of a helper thread's module `worker` (a file name without extension) beside the module
 * `self` (its import.meta.url). Helpers run compiled code: from the TypeScript sources (tests,
 * benchmarks) that is the twin under dist/, and a missing one is an error saying to build.
 */
export function helperModuleUrl(self: string, worker: string, what: string): URL {
  const url = self.replace(/[^/]+\.(ts|js)$/, `${worker}.$1`);
  if (!url.endsWith('.ts')) return new URL(url);
  const path = fileURLToPath(url);
  const i = path.lastIndexOf('/src/');
  const js = `${path.slice(0, i)}/dist${path.slice(i, -3)}.js`;
  if (i < 0 || !existsSync(js)) throw new Error(`the ${what} runs compiled code, but ${js} is missing: run npm run build`);
  return pathToFileURL(js);
}

const helperUrl = (): URL => helperModuleUrl(import.meta.url, 'team-worker', 'linalg thread team');

/** Starts `n` helper threads (replacing a running team). n = 0 stops the team. */
export function startTeam(n: number): void {
  stopTeam();
  if (!(n > 0)) return;
  ctrl = new Int32Array(new SharedArrayBuffer(4 * (2 + n)));
  const url = helperUrl();
  for (let i = 0; i < n; i++) {
    const w = new Worker(url, { workerData: { ctrl, index: i } });
    w.unref();
    w.on('error', () => { if (ctrl) Atomics.store(ctrl, 2 + i, 0); });
    helpers.push(w);
  }
}

/** Ends the helper threads. */
export function stopTeam(): void {
  for (const w of helpers) void w.terminate();
  helpers = [];
  ctrl = undefined;
}

/** How many of `n` helpers have set their online flag (ctrl[at + i] = 1); 0 without a control block. */
export function helpersOnline(ctrl: Int32Array | undefined, n: number, at: number): number {
  if (!ctrl) return 0;
  let k = 0;
  for (let i = 0; i < n; i++) if (Atomics.load(ctrl, at + i) === 1) k++;
  return k;
}

/** Polls `ready` every 5 ms until it holds (true) or `timeoutMs` passes (false); for tests and benchmarks. */
export async function pollUntil(ready: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (!ready()) {
    if (Date.now() - t0 > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Helpers online now (0 without a team). */
export function teamHelpers(): number {
  return helpersOnline(ctrl, helpers.length, 2);
}

/** Waits (asynchronously) until every helper is online; for tests and benchmarks. */
export function teamReady(timeoutMs = 10_000): Promise<boolean> {
  return pollUntil(() => teamHelpers() >= helpers.length, timeoutMs);
}

let busy = false;
let callerParts = 0;
let rounds = 0;

/**
 * Fan-outs (products split) and the parts computed by helper threads and by calling threads
 * since the team started: a test's control that the split happened, and who computed what.
 */
export function teamStats(): { rounds: number; helperParts: number; callerParts: number } {
  return { rounds, helperParts: ctrl ? Atomics.load(ctrl, 0) : 0, callerParts };
}

/** For tests: blocks every helper for `ms` (as if the OS had not scheduled it). */
export function stallHelpers(ms: number): void {
  for (const w of helpers) w.postMessage({ sleepMs: ms } satisfies TeamSleep);
}

/**
 * Runs every part, on the helpers and here, and returns when all are done: the helpers online
 * are sent the list, then each thread claims parts until none is left (see the top of this
 * file). The caller chose at most teamHelpers() + 1 parts. Re-entrant calls (a part that itself
 * calls GEMM) run sequentially.
 */
export function runParts(parts: TeamPart[], own: (p: TeamPart) => void): void {
  const c = ctrl;
  const online: number[] = [];
  if (c) for (let i = 0; i < helpers.length && online.length < parts.length - 1; i++) if (Atomics.load(c, 2 + i) === 1) online.push(i);
  if (busy || online.length === 0) { for (const p of parts) own(p); return; }
  busy = true;
  try {
    const round = new Int32Array(new SharedArrayBuffer(12));
    const msg: TeamRound = { parts, round };
    for (const h of online) helpers[h]!.postMessage(msg);
    rounds++;
    for (let i = Atomics.add(round, 0, 1); i < parts.length; i = Atomics.add(round, 0, 1)) {
      own(parts[i]!);
      callerParts++;
      Atomics.add(round, 1, 1);
    }
    for (let v = Atomics.load(round, 1); v < parts.length; v = Atomics.load(round, 1)) Atomics.wait(round, 1, v, 1000);
    if (Atomics.load(round, 2) !== 0) throw new Error('linalg thread team: a helper failed');
  } finally {
    busy = false;
  }
}

/** True when the team can take work (a team is running and not already busy). */
export function teamAvailable(): boolean {
  return ctrl !== undefined && !busy && teamHelpers() > 0;
}
