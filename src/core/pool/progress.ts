/**
 * Progress of a pool task: reported from inside the task (in a worker thread, or inline) and
 * read on the calling thread, where a progress bar shows it.
 *
 * ```ts
 * // in a task module: take the reporter synchronously at the start of the task
 * export const tasks = defineTasks(import.meta.url, {
 *   work(A: Matrix) { const report = taskProgress(); for (...) { ...; report(i + 1, n); } },
 * });
 * // caller: values arrive monotone (done never decreases) and end at the total
 * await tasks.run('work', [A], { signal, onProgress: (done, total) => bar.set(done, total) });
 * ```
 *
 * Between threads the values travel through a small SharedArrayBuffer (a seqlock around
 * [done, total] as float64): the task writes it (no message, no wait), the calling thread
 * polls it every 100 ms while the task runs and once when it ends. A task that blocks its
 * thread (a whole SVD) can therefore report without yielding.
 */

/** Reports `done` units of work out of `total` (any unit, need not be integers). */
export type TaskProgress = (done: number, total: number) => void;

const none: TaskProgress = () => {};
let current: TaskProgress = none;

/**
 * The reporter of the task running now in this thread (a no-op when nobody listens). Call it
 * synchronously at the start of the task function and keep the result: an async task's later
 * turns may belong to another task.
 */
export function taskProgress(): TaskProgress {
  return current;
}

/** Runs `f` with `p` as the current task's reporter (used by the worker and the inline runner). */
export function withTaskProgress<T>(p: TaskProgress | undefined, f: () => T): T {
  const prev = current;
  current = p ?? none;
  try {
    return f();
  } finally {
    current = prev;
  }
}

/** Float64 [done, total] after an Int32 sequence number (odd while a write is under way). */
const BYTES = 24;

export function progressBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(BYTES);
}

/** The task side: a reporter that writes into `buf`. */
export function sharedReporter(buf: SharedArrayBuffer): TaskProgress {
  const seq = new Int32Array(buf, 0, 1);
  const val = new Float64Array(buf, 8, 2);
  return (done, total) => {
    Atomics.add(seq, 0, 1);
    val[0] = done;
    val[1] = total;
    Atomics.add(seq, 0, 1);
  };
}

/** The calling side: the last consistent [done, total] in `buf`, or undefined during a write. */
export function readProgress(buf: SharedArrayBuffer): [number, number] | undefined {
  const seq = new Int32Array(buf, 0, 1);
  const val = new Float64Array(buf, 8, 2);
  const s1 = Atomics.load(seq, 0);
  if (s1 & 1) return undefined;
  const done = val[0]!, total = val[1]!;
  return Atomics.load(seq, 0) === s1 ? [done, total] : undefined;
}

/**
 * Wraps a listener so that it sees done monotone (never below an earlier value, never above
 * the total) and only changes; `finish()` reports done = total (the task ended well).
 */
export function monotone(listener: TaskProgress): TaskProgress & { finish(): void } {
  let lastDone = 0, lastTotal = 0;
  const f = ((done: number, total: number) => {
    if (!(total > 0) || !Number.isFinite(total)) return;
    const d = Math.min(total, Math.max(lastDone, Number.isFinite(done) ? done : 0));
    if (d === lastDone && total === lastTotal) return;
    lastDone = d;
    lastTotal = total;
    listener(d, total);
  }) as TaskProgress & { finish(): void };
  f.finish = () => {
    if (lastTotal > 0 && lastDone < lastTotal) f(lastTotal, lastTotal);
  };
  return f;
}
