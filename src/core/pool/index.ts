/**
 * The compute pool: ONE shared mechanism that runs svdflow's heavy work (SVDs, ICP and
 * registration, PCA reconstructions, per-frame video kernels) in worker threads, so the main
 * thread stays free for signals, progress and I/O, a run can be stopped at any moment
 * (aborting a task terminates the thread running it), and the cores are used.
 *
 * Built on piscina (see the README's dependency table). Work is grouped in task modules:
 *
 * ```ts
 * // src/core/pool/tasks/linalg.ts
 * export const tasks = defineTasks(import.meta.url, { svd: (A: Matrix, o: SvdOptions) => svd(A, o) });
 * // caller
 * const r = await tasks.run('svd', [A, { rank: 10 }], { signal });
 * ```
 *
 * A task may report progress: `const report = taskProgress()` at its start, then
 * `report(done, total)`; the caller passes `onProgress` to `run` (see progress.ts).
 *
 * A task module must export its set as `tasks`. Operands travel as SharedArrayBuffer-backed
 * typed arrays (Matrix data is shared, or copied once into shared memory in slices) and
 * results come back transferred (codec.ts). Thrown errors keep their class (errors.ts).
 *
 * `inline: true` (or SVDFLOW_THREADS=0, or threads 0) runs the function in the calling thread:
 * for small work, where a thread hop costs more than it saves, and for library users who
 * want no threads. The synchronous `linalg` API never uses the pool.
 *
 * Modules run from the TypeScript sources (vitest, tsx benchmarks) hand the workers their
 * compiled twins under dist/ (`npm run build` first; a missing build is a clear error).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Observable, type OperatorFunction } from 'rxjs';
import { boundedConcatMap, type FlowControl } from '../flow.js';
import { threadCounts } from '../threads.js';
import type { Piscina } from 'piscina';
import { encodeArgs, decode } from './codec.js';
import { decodeError, type EncodedError } from './errors.js';
import { monotone, progressBuffer, readProgress, withTaskProgress } from './progress.js';
import type { TaskMessage } from './worker.js';
import { installNativeExitHook, nativeInFlightBuffer } from '../linalg/native.js';

export { taskProgress, type TaskProgress } from './progress.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => unknown;

export interface RunOptions {
  /** aborting it ends the task at once (its worker thread is terminated) */
  signal?: AbortSignal;
  /** run in the calling thread (small work); default false */
  inline?: boolean;
  /**
   * progress the task reports with `taskProgress()` (progress.ts), on the calling thread:
   * done never decreases, and a task that ends well ends at done = total
   */
  onProgress?: (done: number, total: number) => void;
}

export interface TaskSet<T extends Record<string, Fn>> {
  /** the module's URL (as given to defineTasks) */
  readonly url: string;
  readonly fns: T;
  run<K extends keyof T & string>(name: K, args: Parameters<T[K]>, opts?: RunOptions): Promise<Awaited<ReturnType<T[K]>>>;
}

/** Declares a module's pool tasks; the module must export the result as `tasks`. */
export function defineTasks<T extends Record<string, Fn>>(moduleUrl: string, fns: T): TaskSet<T> {
  return {
    url: moduleUrl,
    fns,
    run(name, args, opts = {}) {
      if (opts.inline || poolThreads() === 0) {
        if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
        const report = opts.onProgress ? monotone(opts.onProgress) : undefined;
        try {
          const out = Promise.resolve(withTaskProgress(report, () => fns[name]!(...args))) as Promise<Awaited<ReturnType<T[typeof name]>>>;
          return report ? out.then((v) => { report.finish(); return v; }) : out;
        } catch (e) {
          return Promise.reject(e);
        }
      }
      return runInPool(moduleUrl, name, args, opts.signal, opts.onProgress) as Promise<Awaited<ReturnType<T[typeof name]>>>;
    },
  };
}

let threads: number | undefined;
let pool: Piscina | undefined;
let running = 0;

/** Worker threads of the pool: the process's thread budget (src/core/threads.ts: the cores, SVDFLOW_THREADS, --threads; 0 = no pool). */
export function poolThreads(): number {
  threads ??= threadCounts().pool;
  return threads;
}

/** Sets the number of pool threads (0 = run every task inline). Closes the current pool. */
export async function setPoolThreads(n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`pool threads must be an integer >= 0, got ${n}`);
  await closePool();
  threads = n;
}

/** Tasks running now (for tests and progress). */
export function poolBusy(): number {
  return running;
}

/** Ends every worker thread (running tasks are aborted). The pool restarts on next use. */
export async function closePool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await p.destroy();
}

/** The compiled twin of a module under dist/ when running from the TypeScript sources. */
export function runnableUrl(url: string): string {
  if (!url.endsWith('.ts')) return url;
  const path = fileURLToPath(url);
  const i = path.lastIndexOf('/src/');
  const js = i < 0 ? path : `${path.slice(0, i)}/dist${path.slice(i, -3)}.js`;
  if (i < 0 || !existsSync(js)) throw new Error(`the compute pool runs compiled code, but ${js} is missing: run npm run build (or set SVDFLOW_THREADS=0 to run without worker threads)`);
  return pathToFileURL(js).href;
}

/** piscina is loaded on first use: the CLI's start-up (and a Ctrl-C right after it) does not wait for it */
async function getPool(): Promise<Piscina> {
  if (!pool) {
    const { Piscina } = await import('piscina');
    if (pool) return pool;
    const n = Math.max(1, poolThreads());
    pool = new Piscina({
      filename: runnableUrl(import.meta.url.replace(/index\.(ts|js)$/, 'worker.$1')),
      minThreads: 0,
      maxThreads: n,
      idleTimeout: 10_000,
      // plain Node in the workers: they run compiled code; a parent's loaders (tsx, vitest) would
      // load the task modules a second time, with a second Matrix class
      execArgv: [],
      // a worker blocked in Atomics.wait between tasks could not run async task code (video)
      atomics: 'disabled',
      // the workers count their native (OpenBLAS) calls here: an exit while one is inside such
      // a call ends the process at once instead of waiting for the call (linalg/native.ts)
      workerData: { nativeInFlight: nativeInFlightBuffer() },
    });
    installNativeExitHook();
  }
  return pool;
}

function abortError(signal: AbortSignal): Error {
  const e = new Error(`pool task aborted${typeof signal.reason === 'string' ? ` (${signal.reason})` : ''}`);
  e.name = 'AbortError';
  return e;
}

async function runInPool(module: string, fn: string, args: unknown[], signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<unknown> {
  if (signal?.aborted) throw abortError(signal);
  const msg: TaskMessage = { module: runnableUrl(module), fn, args: (await encodeArgs(args)) as unknown[] };
  if (signal?.aborted) throw abortError(signal);
  // progress: the task writes a shared buffer, this thread polls it (the task may block its thread)
  const report = onProgress ? monotone(onProgress) : undefined;
  const buf = report ? progressBuffer() : undefined;
  const poll = () => { const v = buf && readProgress(buf); if (v) report!(v[0], v[1]); };
  const timer = buf ? setInterval(poll, 100) : undefined;
  timer?.unref();
  if (buf) msg.progress = buf;
  running++;
  let onSettled: (() => void) | undefined;
  try {
    const p = await getPool();
    onSettled = signal ? releaseOnAbort(p, signal) : undefined;
    const reply = (await p.run(msg, signal ? { signal } : {})) as { ok: unknown } | { error: EncodedError };
    if ('error' in reply) throw decodeError(reply.error);
    const out = decode(reply.ok);
    poll();
    report?.finish();
    return out;
  } finally {
    running--;
    clearInterval(timer);
    onSettled?.();
  }
}

/**
 * An aborted task's worker thread is terminated (piscina), but a thread inside a native call
 * (OpenBLAS, linalg/native.ts) stops only when the call returns, and piscina keeps the process
 * alive until it has (it re-refs a terminated worker): a run interrupted during a 4000x4000
 * dgesdd then exited only after the 3 s grace of the CLI. So the workers that the abort ends
 * are unref'd: the process may exit while they finish, and its exit hook (installNativeExitHook)
 * does not wait for a thread still inside a native call. Registered before piscina's own abort
 * listener, it sees the pool's threads as they were; it looks again after piscina's listener.
 */
function releaseOnAbort(p: Piscina, signal: AbortSignal): () => void {
  const onAbort = () => {
    const before = p.threads;
    queueMicrotask(() => {
      const now = new Set(p.threads);
      for (const w of before) {
        if (now.has(w)) continue;
        w.ref = () => w; // piscina re-refs a terminated worker when its port closes
        w.unref();
      }
    });
  };
  signal.addEventListener('abort', onAbort, { once: true });
  // removed when the task settles: a signal shared by many tasks does not collect listeners
  return () => signal.removeEventListener('abort', onAbort);
}

/**
 * An Observable of one pooled computation: `work(signal)` starts on subscribe and is aborted
 * (its worker thread terminated) on unsubscribe, which is what a run's cancellation does.
 */
export function pooled<T>(work: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Observable<T> {
  return new Observable<T>((subscriber) => {
    const ac = new AbortController();
    const onOuter = () => ac.abort(outer?.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    if (outer?.aborted) ac.abort(outer.reason);
    work(ac.signal).then(
      (v) => { subscriber.next(v); subscriber.complete(); },
      (e) => subscriber.error(e),
    );
    return () => {
      outer?.removeEventListener('abort', onOuter);
      ac.abort('unsubscribed');
    };
  });
}

/**
 * A stage operator running `work(value, signal)` for each value as one pooled computation
 * (see {@link pooled}), one value at a time, in order, with the run's backpressure: what the
 * heavy stages use instead of `map`.
 */
export function poolMap<T, R>(work: (value: T, signal: AbortSignal) => Promise<R>, ctx: { signal?: AbortSignal; flow?: FlowControl }): OperatorFunction<T, R> {
  return boundedConcatMap((v: T) => pooled((signal) => work(v, signal), ctx.signal), ctx.flow, { highWaterMark: 2 });
}
