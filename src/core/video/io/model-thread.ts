/**
 * The streaming background model on its own thread, so that its per-pixel work and SVD
 * updates overlap the main thread's decoding (slicing ffmpeg's pipe into frames and batches)
 * and encoding (turning layers into bytes for the ffmpeg encoders), instead of taking turns
 * with them. ffmpeg's decoder and encoders are child processes already.
 *
 * `modelRunner` gives the ModelRunner interface (../model-runner.ts) inline (SVDFLOW_THREADS=0,
 * or `threaded: false`) or on a worker_threads Worker that owns the StreamingBackground (model-worker.ts): one batch is in
 * flight at a time, its frames are copied into a reused shared buffer that the worker reads in
 * place (the batch may feed other steps too, so it is not moved), and the results come back
 * transferred, not copied. The caller's bounded queue
 * (boundedConcatMap) still closes the run's valve while the worker is busy, so memory stays
 * bounded. Seam: this is the one place that creates the thread; when the shared compute pool
 * (src/core/pool, piscina) can keep per-stream state in a worker, `modelRunner` switches to it.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StreamingBackground, type CompactLayers, type StreamingOptions } from '../background.js';
import { inlineRunner, type ModelRunner, type RunnerFactory } from '../model-runner.js';
import { InputError } from '../../errors.js';
import { threadCounts } from '../../threads.js';

/** Threads are used unless the thread budget is 0 (SVDFLOW_THREADS=0 or --threads 0: the compute pool's switch too). */
export function videoThreads(): boolean {
  return threadCounts().modelThread;
}

/** The compiled worker under dist/ when running from the TypeScript sources (vitest, tsx). */
function workerFile(): string | undefined {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.js')) return self.replace(/model-thread\.js$/, 'model-worker.js');
  const i = self.lastIndexOf('/src/');
  const js = i < 0 ? '' : `${self.slice(0, i)}/dist${self.slice(i, -3)}.js`.replace(/model-thread\.js$/, 'model-worker.js');
  return js && existsSync(js) ? js : undefined;
}

interface Reply {
  id: number;
  mask?: Uint8Array;
  background?: Float32Array;
  compact?: CompactLayers;
  state?: Record<string, unknown>;
  error?: { name: string; message: string; hint?: string };
}

class ThreadRunner implements ModelRunner {
  readonly threaded = true;
  readonly dim: number;
  private readonly w: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private failure?: Error;

  /** `w`: a Worker of model-worker.js that has not been told its options yet */
  constructor(w: Worker, private readonly o: StreamingOptions, state?: Record<string, unknown>) {
    this.dim = o.width * o.height * o.channels;
    this.w = w;
    w.postMessage({ init: { options: o, state } });
    this.w.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.w.on('error', fail);
    this.w.on('exit', (code) => fail(new Error(`the background-model thread exited (code ${code})`)));
  }

  /**
   * Shared staging buffers for the frames going to the thread, reused once it has answered: a
   * batch is copied once into shared memory that the thread reads in place, instead of being
   * structured-cloned (serialised here, a fresh buffer and a second copy there) batch after batch.
   */
  private readonly staging: Uint8Array[] = [];
  /** staging buffers made so far (tests: they are reused, not made per batch) */
  stagingMade = 0;

  private stage(frames: Uint8Array, n: number): Uint8Array {
    let buf = this.staging.pop();
    // too small, or much larger (a one-off such as the 45-frame seed sample): not kept around
    if (!buf || buf.length < n || buf.length > 2 * n) {
      buf = new Uint8Array(new SharedArrayBuffer(n));
      this.stagingMade++;
    }
    buf.set(frames.subarray(0, n));
    return buf;
  }

  process(frames: Uint8Array, count: number, withBackground: boolean | 'compact', wantState: boolean) {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const n = count * this.dim;
    const buf = this.stage(frames, n);
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.w.postMessage({ id, frames: buf.subarray(0, n), count, withBackground, wantState });
    }).finally(() => {
      // the thread has answered (or is gone): it no longer reads the buffer
      if (this.staging.length < 2) this.staging.push(buf);
    }).then((r) => {
      if (r.error) throw r.error.name === 'InputError' ? new InputError(r.error.message, r.error.hint ?? '') : Object.assign(new Error(r.error.message), { name: r.error.name });
      return { mask: r.mask!, ...(r.background ? { background: r.background } : {}), ...(r.compact ? { compact: r.compact } : {}), ...(r.state ? { state: r.state } : {}) };
    });
  }

  reset(): void {
    // messages are handled in order: batches sent before this one use the old model
    this.w.postMessage({ init: { options: this.o } });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the background-model thread was closed');
    await this.w.terminate();
  }
}

/**
 * The model for options `o`, from a checkpoint `state` if given (StreamingBackground.fromState
 * checks it; on a thread it is checked before the thread starts, so a bad checkpoint fails here).
 */
export function modelRunner(o: StreamingOptions, state?: Record<string, unknown>, threaded = videoThreads()): ModelRunner {
  const file = threaded ? workerFile() : undefined;
  if (!file) return inlineRunner(o, state);
  if (state) StreamingBackground.fromState(o, state);
  return new ThreadRunner(new Worker(file), o, state);
}

/**
 * A model thread started now, ahead of the first batch (its module loading and WebAssembly
 * compilation overlap ffmpeg's start-up), handed out by `runner` (once; later calls start
 * new threads). `close` ends it if it was never used.
 */
export function warmModelThread(threaded = videoThreads()): { runner: RunnerFactory; close(): Promise<void> } {
  const file = threaded ? workerFile() : undefined;
  let warm = file ? new Worker(file) : undefined;
  return {
    runner: (o, state) => {
      if (!warm) return modelRunner(o, state, threaded);
      const w = warm;
      warm = undefined;
      if (state) {
        try {
          StreamingBackground.fromState(o, state);
        } catch (e) {
          void w.terminate();
          throw e;
        }
      }
      return new ThreadRunner(w, o, state);
    },
    close: async () => {
      const w = warm;
      warm = undefined;
      if (w) await w.terminate();
    },
  };
}
