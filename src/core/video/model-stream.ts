/**
 * The streaming background model as a step: batches in, batches with masks out,
 * with checkpoints and resume. Storage is behind `ModelStore` (io/checkpoints.ts
 * keeps it in files; tests keep it in memory), so this runs and is tested without
 * RxJS or a file system.
 */
import { InputError } from '../errors.js';
import type { FrameBatch } from '../ports.js';
import type { StreamingOptions } from './background.js';
import { inlineRunner, type ModelRunner, type RunnerFactory } from './model-runner.js';
import { foregroundOf } from './batch.js';
import { checkpointDue, resumeState, statesToPrune, type StateRef } from './resume.js';
import { decodeState, encodeState } from './state.js';

/** Where model states live. */
export interface ModelStore {
  /** saved states, newest first */
  list(): StateRef[];
  /** the smallest `next` among the consumers' progress records (undefined: none yet) */
  consumersNext(): number | undefined;
  read(s: StateRef): Uint8Array;
  save(next: number, bytes: Uint8Array): Promise<void>;
  remove(s: StateRef): Promise<void>;
  /** drops every state (a fresh, non-resumed run) */
  clear(): void;
}

export type ModelStreamOptions = Omit<StreamingOptions, 'width' | 'height' | 'channels'> & {
  /** emit the background layer (Float32) */
  background: boolean;
  /** emit the foreground layer */
  foreground: boolean;
  /** save the state every this many frames (0 = never) */
  checkpointEvery: number;
  /** one segment of a long video: batches before this frame only fit the model (warm-up) and are not emitted */
  emitFrom?: number;
};

export class ModelStream {
  private model?: ModelRunner;
  private skipBefore = -Infinity;
  private ready = false;
  /** a segment's warm-up batches, held until its first own frame (at most `warmup` frames) */
  private warm: FrameBatch[] = [];

  constructor(
    private readonly o: ModelStreamOptions,
    private readonly store: ModelStore | undefined,
    private readonly resume: boolean,
    private readonly onResume: (at: number, file: string) => void = () => undefined,
    /** where the model runs: here (default) or on a worker thread (io/model-thread.ts; call close() when done) */
    private readonly runner: RunnerFactory = inlineRunner,
  ) {}

  /** Ends the model's thread, if any. */
  close(): Promise<void> {
    return this.model?.close() ?? Promise.resolve();
  }

  private opts(b: FrameBatch): StreamingOptions {
    return { ...this.o, width: b.width, height: b.height, channels: b.channels };
  }

  private setup(b: FrameBatch): void {
    const store = this.store;
    if (!store) return;
    if (!this.resume) return store.clear();
    const st = resumeState(store.list(), store.consumersNext());
    if (!st) return;
    this.model = this.runner(this.opts(b), decodeState(store.read(st)));
    this.skipBefore = st.next;
    this.onResume(st.next, st.file);
  }

  /** The batch with its mask (and layers), or undefined for a batch a resumed run already had or a warm-up batch. */
  async push(b: FrameBatch): Promise<FrameBatch | undefined> {
    if (!this.ready) {
      this.setup(b);
      this.ready = true;
    }
    const p = this.o;
    const end = b.start + b.count;
    if (end <= this.skipBefore) return undefined;
    if (b.start < this.skipBefore) throw new InputError(`cannot resume at frame ${this.skipBefore}: batch ${b.start}..${end - 1} straddles it`, 'use the same batch size as the interrupted run, or run without --resume');
    if (p.emitFrom !== undefined && !this.model && b.start < p.emitFrom) {
      if (end > p.emitFrom) throw new InputError(`batch ${b.start}..${end - 1} straddles the segment start ${p.emitFrom}`, 'segment boundaries lie on batch multiples: use the batch size the plan was made with');
      this.warm.push(b);
      return undefined;
    }
    if (this.warm.length) await this.warmUp(b);
    const model = (this.model ??= this.runner(this.opts(b)));
    if (model.dim !== b.width * b.height * b.channels) throw new InputError(`frame size changed to ${b.width}x${b.height}x${b.channels}`, 'decode with one size');
    const due = !!this.store && checkpointDue(b.start, end, p.checkpointEvery);
    const { background, mask, state } = await model.process(b.frames, b.count, p.background || p.foreground, due);
    const out: FrameBatch = { ...b, mask };
    if (this.store && due) {
      await this.store.save(end, encodeState(state!));
      for (const old of statesToPrune(this.store.list(), this.store.consumersNext())) await this.store.remove(old);
    }
    if (p.emitFrom !== undefined && b.start < p.emitFrom) {
      if (end > p.emitFrom) throw new InputError(`batch ${b.start}..${end - 1} straddles the segment start ${p.emitFrom}`, 'segment boundaries lie on batch multiples: use the batch size the plan was made with');
      return undefined;
    }
    if (p.foreground) out.foreground = foregroundOf(b.frames, background!);
    if (p.background) out.background = background;
    return out;
  }

  /**
   * A segment's model, fitted on its warm-up frames before its first own frame: the
   * initial background is the median of up to 45 frames spread over the whole
   * warm-up window (the first batch alone may hold a stopped object that the robust
   * update would then keep as a ghost), then every warm-up batch updates the model in order.
   */
  private async warmUp(b: FrameBatch): Promise<void> {
    const batches = this.warm;
    this.warm = [];
    const d = b.width * b.height * b.channels;
    const n = batches.reduce((s, w) => s + w.count, 0);
    const m = Math.min(45, n);
    const sample = new Uint8Array(m * d);
    for (let i = 0; i < m; i++) {
      let t = Math.floor((i * n) / m);
      const w = batches.find((x) => (t < x.count ? true : ((t -= x.count), false)))!;
      sample.set(w.frames.subarray(t * d, (t + 1) * d), i * d);
    }
    const model = (this.model = this.runner(this.opts(b)));
    await model.process(sample, m, false, false);
    for (const w of batches) await model.process(w.frames, w.count, false, false);
  }
}
