/**
 * Backpressure for RxJS graphs.
 *
 * RxJS pushes; it has no demand signal. svdflow adds one shared valve per run
 * (`FlowControl`), in the spirit of Node streams' highWaterMark:
 *  - every asynchronous stage keeps a bounded queue (`boundedConcatMap`); when the
 *    queue reaches its high-water mark it closes the valve, and opens it again
 *    once the queue has drained to the low-water mark;
 *  - every source (`fromAsync`, `fromReadable`) waits while the valve is closed
 *    (a child process's stdout is paused, so the OS pipe fills and the child blocks).
 * Synchronous stages need nothing: they run inside the source's `next` call.
 * Items in flight are therefore bounded by the queues' high-water marks plus what
 * one source item expands into, whatever the speeds and the stream's length.
 */
import { Observable, type OperatorFunction, type ObservableInput, from, concat, defer } from 'rxjs';
import type { Readable } from 'node:stream';

export class FlowControl {
  private readonly holders = new Set<object>();
  private waiters: Array<() => void> = [];
  private readonly listeners = new Set<(open: boolean) => void>();

  get open(): boolean {
    return this.holders.size === 0;
  }

  /** Close the valve on behalf of `token` (idempotent). */
  hold(token: object): void {
    const was = this.open;
    this.holders.add(token);
    if (was) for (const l of this.listeners) l(false);
  }

  /** Release `token`'s hold; the valve opens when nobody holds it. */
  release(token: object): void {
    if (!this.holders.delete(token) || !this.open) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    for (const l of this.listeners) l(true);
  }

  /** Resolves when the valve is open (at once if it is). */
  whenOpen(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Calls `fn(open)` on every change; returns an unsubscribe function. */
  onChange(fn: (open: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/**
 * Emits the values of an async iterable, waiting while `flow` is closed.
 * Unsubscribing stops the iteration (calls `return()` on the iterator).
 */
export function fromAsync<T>(factory: () => AsyncIterable<T> | Iterable<T>, flow?: FlowControl): Observable<T> {
  return new Observable<T>((subscriber) => {
    let closed = false;
    let iterator: AsyncIterator<T> | Iterator<T> | undefined;
    (async () => {
      const it = factory();
      iterator = Symbol.asyncIterator in it ? (it as AsyncIterable<T>)[Symbol.asyncIterator]() : (it as Iterable<T>)[Symbol.iterator]();
      for (;;) {
        if (flow && !flow.open) await flow.whenOpen();
        if (closed) return;
        const r = await iterator.next();
        if (closed) return;
        if (r.done) break;
        subscriber.next(r.value);
      }
      subscriber.complete();
    })().catch((err) => {
      if (!closed) subscriber.error(err);
    });
    return () => {
      closed = true;
      void Promise.resolve(iterator?.return?.()).catch(() => undefined);
    };
  });
}

/**
 * Emits the chunks of a Readable, pausing it while `flow` is closed. The
 * stream is destroyed on unsubscribe.
 */
export function fromReadable(stream: Readable, flow?: FlowControl): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    const onData = (chunk: Buffer) => {
      subscriber.next(chunk);
      if (flow && !flow.open) stream.pause();
    };
    const onEnd = () => subscriber.complete();
    const onError = (e: Error) => subscriber.error(e);
    const off = flow?.onChange((open) => (open ? stream.resume() : stream.pause()));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    if (flow && !flow.open) stream.pause();
    return () => {
      off?.();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.destroy();
    };
  });
}

export interface BoundedOptions {
  /** queue length at which the valve closes (default 4) */
  highWaterMark?: number;
  /** queue length at which it opens again (default highWaterMark / 2) */
  lowWaterMark?: number;
}

/**
 * Like `concatMap`, for asynchronous per-item work (an encoder's write, a
 * file write), but with a bounded queue that closes `flow` when full.
 * Emits results in order; completes after the last item's work is done.
 */
export function boundedConcatMap<T, R>(
  fn: (value: T, index: number) => ObservableInput<R>,
  flow: FlowControl | undefined,
  opts: BoundedOptions = {},
): OperatorFunction<T, R> {
  const hwm = Math.max(1, opts.highWaterMark ?? 4);
  const lwm = Math.min(hwm - 1, Math.max(0, opts.lowWaterMark ?? Math.floor(hwm / 2)));
  return (source) =>
    new Observable<R>((subscriber) => {
      const token = {};
      const queue: T[] = [];
      let busy = false;
      let sourceDone = false;
      let index = 0;
      let inner: { unsubscribe(): void } | undefined;
      const update = () => {
        if (!flow) return;
        if (queue.length >= hwm) flow.hold(token);
        else if (queue.length <= lwm) flow.release(token);
      };
      const pump = () => {
        if (busy) return;
        if (queue.length === 0) {
          update();
          if (sourceDone) subscriber.complete();
          return;
        }
        const next = queue.shift() as T;
        update();
        busy = true;
        inner = from(fn(next, index++)).subscribe({
          next: (r) => subscriber.next(r),
          error: (e) => subscriber.error(e),
          complete: () => {
            busy = false;
            inner = undefined;
            pump();
          },
        });
      };
      const sub = source.subscribe({
        next: (v) => {
          queue.push(v);
          update();
          pump();
        },
        error: (e) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          if (!busy && queue.length === 0) subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        inner?.unsubscribe();
        queue.length = 0;
        flow?.release(token);
      };
    });
}

/**
 * Re-emits every value from a fresh call stack (a microtask), through a bounded
 * queue like `boundedConcatMap`. Synchronous stages run inside their upstream's
 * `next` call, so a chain of thousands of them would nest one set of frames per
 * step and overflow the stack; the runner puts one hop every `HOP_EVERY` steps.
 */
export function asyncHop<T>(flow?: FlowControl): OperatorFunction<T, T> {
  return boundedConcatMap((v: T) => Promise.resolve(v), flow, { highWaterMark: 16 });
}

/** Steps of a synchronous chain between two async hops (see asyncHop). */
export const HOP_EVERY = 50;

/**
 * A sink stage's stream: `write` each item of `source` in order (at most `highWaterMark` in
 * flight under the run's flow control), then, when the source completes, `finish` and emit
 * the files it returns. `teardown` runs when the subscription ends: completed, failed or cancelled.
 */
export function writeThenFinish<T, R>(
  source: Observable<T>,
  flow: FlowControl | undefined,
  write: (item: T) => Promise<void>,
  finish: () => Promise<R[]>,
  teardown: () => void,
  highWaterMark = 2,
): Observable<R> {
  return new Observable<R>((sub) => {
    const s = concat(source.pipe(boundedConcatMap((b: T) => from(write(b).then(() => [] as R[])), flow, { highWaterMark })), defer(finish)).subscribe({
      next: (refs) => refs.forEach((r) => sub.next(r)),
      error: (e) => sub.error(e),
      complete: () => sub.complete(),
    });
    return () => {
      s.unsubscribe();
      teardown();
    };
  });
}
