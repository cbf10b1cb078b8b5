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
let backoffs = 0;
let backoffUntil = 0;

/**
 * Load back-off: when the caller, done with every part it could claim, waited more than `waitMs`
 * and more than its own share took for a helper's part (a helper preempted while holding it: a
 * loaded machine, where a time slice is several ms; `ownFactor` times its share, 1), the team
 * takes no work for `pauseMs`, so products run on the calling thread
 * instead of each paying a time slice. On a quiet machine these waits are microseconds.
 */
export const TEAM_BACKOFF = { waitMs: 2, pauseMs: 200, ownFactor: 1 };
/** Changes the back-off (tests); a back-off under way ends. */
export function setTeamBackoff(b: Partial<typeof TEAM_BACKOFF>): void { Object.assign(TEAM_BACKOFF, b); backoffUntil = 0; }

/**
 * Fan-outs (products split) and the parts computed by helper threads and by calling threads
 * since the team started: a test's control that the split happened, and who computed what.
 */
export function teamStats(): { rounds: number; helperParts: number; callerParts: number; backoffs: number } {
  return { rounds, helperParts: ctrl ? Atomics.load(ctrl, 0) : 0, callerParts, backoffs };
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
    const t0 = performance.now();
    for (let i = Atomics.add(round, 0, 1); i < parts.length; i = Atomics.add(round, 0, 1)) {
      own(parts[i]!);
      callerParts++;
      Atomics.add(round, 1, 1);
    }
    const w0 = performance.now();
    for (let v = Atomics.load(round, 1); v < parts.length; v = Atomics.load(round, 1)) Atomics.wait(round, 1, v, 1000);
    const waited = performance.now() - w0;
    // a wait longer than the caller's own share took: the split gained nothing (a preempted
    // helper, not the few percent by which equal parts can differ on a quiet machine)
    if (waited > TEAM_BACKOFF.waitMs && waited > TEAM_BACKOFF.ownFactor * (w0 - t0) && TEAM_BACKOFF.pauseMs > 0) { backoffUntil = performance.now() + TEAM_BACKOFF.pauseMs; backoffs++; }
    if (Atomics.load(round, 2) !== 0) throw new Error('linalg thread team: a helper failed');
  } finally {
    busy = false;
  }
}

/** True when the team can take work (a team is running and not already busy). */
export function teamAvailable(): boolean {
  return ctrl !== undefined && !busy && teamHelpers() > 0 && (backoffUntil === 0 || performance.now() >= backoffUntil);
}

// ------------------------------------------------------------------------------------------
// Matrix-vector fan-out for the bidiagonalisation's panels (gebrd.ts). Each panel column does
// two products with the whole trailing matrix (memory-bound, ~40% of an SVD), i.e. ~1400 short
// fan-outs for a 700-column matrix: too many for a postMessage each (~60 us). Instead, one
// message per panel block puts helper 0 into a loop that waits on a shared mailbox
// (Atomics.wait / notify, a few us), and each product is cut in two: the caller computes the
// first part, the helper the second, claimed by compare-and-swap so that a helper the OS has not
// scheduled yet costs nothing: the caller then claims and computes the second part too.
// The helper runs the same WebAssembly kernels on the same shared memory (the working copy), so
// each output value is computed exactly as by the one-thread call (tested bit for bit).

/**
 * mailbox (Int32): the job's sequence number, its claim (= the sequence number while the job is
 * free, its negation once taken: whoever swaps it first computes the second part), the last
 * sequence number the helper finished, the kind, then the operands. The caller writes the
 * operands, then the claim, then the sequence number (so a helper that sees a new sequence
 * number finds its claim set), then wakes the helper.
 */
const MB = { SEQ: 0, CLAIM: 1, DONE: 2, KIND: 3, ROWS: 4, COLS: 5, A: 6, LDA: 7, V: 8, VS: 9, X: 10, XS: 11, FAIL: 12, OPEN: 13, LEN: 16 };
/** job kinds: 1 gemv_n (x = alpha A v + beta x, rows split), 2 gemv_t (y = alpha Aᵀu + beta y, columns split) */
export const PANEL_N = 1, PANEL_T = 2;

/**
 * What helper 0 is sent to enter its panel loop: the shared WebAssembly memory, the mailbox and
 * the epoch: the helper stays in the loop while the mailbox's OPEN word holds that epoch (a
 * pause sets it to 0; a message that arrives after its epoch ended is ignored).
 */
export interface PanelEnter { panel: { memory: unknown; id: number; box: Int32Array; scal: Float64Array; epoch: number } }

/** A matrix-vector product in heap BYTE offsets, as the WebAssembly kernels take it. */
export type PanelKernel = (kind: number, rows: number, cols: number, a: number, lda: number, v: number, vs: number, x: number, xs: number, alpha: number, beta: number) => void;

let panelId = 0;
let panelParts = { caller: 0, helper: 0, stopped: 0 };
/** A wait for the helper's part longer than this ends the splitting for the bidiagonalisation. */
const PANEL_MAX_WAIT_MS = 2;

/**
 * Parts of split matrix-vector products computed by the caller and by the helper, and the
 * bidiagonalisations that stopped splitting after a long wait for the helper (tests, bench).
 */
export function panelStats(): { caller: number; helper: number; stopped: number } {
  return { ...panelParts };
}

export interface PanelTeam {
  /** runs the product split in two (the second part on the helper when it claims it first) */
  run(kind: number, rows: number, cols: number, a: number, lda: number, v: number, vs: number, x: number, xs: number, alpha: number, beta: number): void;
  /** lets the helper go back to its message loop (GEMM rounds); call before any GEMM and at the end */
  pause(): void;
  /** puts the helper into its panel loop again (after a pause) */
  resume(): void;
}

/**
 * A panel team on `memory` (a shared WebAssembly.Memory), computing with `kernel` here; null
 * without a team, when busy, or with no helper online.
 */
export function panelTeam(memory: unknown, kernel: PanelKernel): PanelTeam | null {
  if (!ctrl || busy || helpers.length === 0 || Atomics.load(ctrl, 2) !== 1) return null;
  const box = new Int32Array(new SharedArrayBuffer(4 * MB.LEN));
  const scal = new Float64Array(new SharedArrayBuffer(16));
  const id = ++panelId;
  const helper = helpers[0]!;
  let inLoop = false, epoch = 0, off = false;
  const enter = () => {
    if (inLoop) return;
    epoch++;
    Atomics.store(box, MB.OPEN, epoch);
    helper.postMessage({ panel: { memory, id, box, scal, epoch } } satisfies PanelEnter);
    inLoop = true;
  };
  enter();
  let seq = 0;
  return {
    run(kind, rows, cols, a, lda, v, vs, x, xs, alpha, beta) {
      // cut on an even boundary: the kernels take rows (gemv_n) or columns (gemv_t) in pairs,
      // and an odd count would make a middle column a scalar tail, rounded differently
      const len = kind === PANEL_N ? rows : cols;
      const cut = (len >> 2) << 1;
      if (cut === 0 || !inLoop || off) { kernel(kind, rows, cols, a, lda, v, vs, x, xs, alpha, beta); return; }
      const partOff = kind === PANEL_N ? cut * lda * 8 : cut * 8; // the second part's A, in bytes
      const outOff = kind === PANEL_N ? cut * xs * 8 : cut * 8;
      box[MB.KIND] = kind; box[MB.ROWS] = kind === PANEL_N ? rows - cut : rows; box[MB.COLS] = kind === PANEL_N ? cols : cols - cut;
      box[MB.A] = a + partOff; box[MB.LDA] = lda; box[MB.V] = v; box[MB.VS] = vs; box[MB.X] = x + outOff; box[MB.XS] = xs;
      scal[0] = alpha; scal[1] = beta;
      seq++;
      Atomics.store(box, MB.CLAIM, seq);
      Atomics.store(box, MB.SEQ, seq);
      Atomics.notify(box, MB.SEQ);
      if (kind === PANEL_N) kernel(kind, cut, cols, a, lda, v, vs, x, xs, alpha, beta);
      else kernel(kind, rows, cut, a, lda, v, vs, x, xs, alpha, beta);
      panelParts.caller++;
      if (Atomics.compareExchange(box, MB.CLAIM, seq, -seq) === seq) {
        kernel(kind, box[MB.ROWS]!, box[MB.COLS]!, box[MB.A]!, lda, v, vs, box[MB.X]!, xs, alpha, beta);
        panelParts.caller++;
        return;
      }
      const w0 = performance.now();
      for (let d = Atomics.load(box, MB.DONE); d !== seq; d = Atomics.load(box, MB.DONE)) {
        if (Atomics.wait(box, MB.DONE, d, 1000) === 'timed-out' && !(ctrl && Atomics.load(ctrl, 2) === 1)) {
          // the helper died with the part: with beta = 0 (the panels' products) the output is
          // overwritten, so computing the part again here is safe
          if (beta !== 0) throw new Error('linalg thread team: a helper stopped during a panel product');
          kernel(kind, box[MB.ROWS]!, box[MB.COLS]!, box[MB.A]!, lda, v, vs, box[MB.X]!, xs, alpha, beta);
          inLoop = false;
          return;
        }
      }
      panelParts.helper++;
      // a helper preempted while holding its part (a loaded machine) made the caller wait longer
      // than whole products take: stop splitting for the rest of this bidiagonalisation
      if (performance.now() - w0 > PANEL_MAX_WAIT_MS) { off = true; panelParts.stopped++; }
      if (Atomics.load(box, MB.FAIL) !== 0) throw new Error('linalg thread team: a helper failed in a panel product');
    },
    pause() {
      if (!inLoop) return;
      Atomics.store(box, MB.OPEN, 0);
      Atomics.notify(box, MB.SEQ); // a waiting helper wakes, sees its epoch ended, leaves
      inLoop = false;
    },
    resume: enter,
  };
}

/**
 * The helper's side (team-worker.ts): claims and runs jobs from the mailbox while its epoch
 * lasts (or until 10 s pass without any: the caller is gone). `kernel` runs a product on the
 * shared memory.
 */
export function panelLoop(box: Int32Array, scal: Float64Array, epoch: number, kernel: PanelKernel): void {
  let last = -1;
  for (;;) {
    if (Atomics.load(box, MB.OPEN) !== epoch) return;
    const seq = Atomics.load(box, MB.SEQ);
    if (seq === last) {
      // (a brief spin before sleeping was tried: on the shared 2-core machine at load ~10 the
      // helper then claimed fewer parts, not more)
      if (Atomics.wait(box, MB.SEQ, seq, 10_000) === 'timed-out') return;
      continue;
    }
    last = seq;
    if (seq === 0 || Atomics.compareExchange(box, MB.CLAIM, seq, -seq) !== seq) continue; // none yet, or the caller took it
    const kind = box[MB.KIND]!;
    try {
      kernel(kind, box[MB.ROWS]!, box[MB.COLS]!, box[MB.A]!, box[MB.LDA]!, box[MB.V]!, box[MB.VS]!, box[MB.X]!, box[MB.XS]!, scal[0]!, scal[1]!);
    } catch {
      Atomics.store(box, MB.FAIL, 1);
    }
    Atomics.store(box, MB.DONE, seq);
    Atomics.notify(box, MB.DONE);
  }
}
