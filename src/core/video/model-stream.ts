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
};

export class ModelStream {
  private model?: ModelRunner;
  private skipBefore = -Infinity;
  private ready = false;

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

  /** The batch with its mask (and layers), or undefined for a batch a resumed run already had. */
  async push(b: FrameBatch): Promise<FrameBatch | undefined> {
    if (!this.ready) {
      this.setup(b);
      this.ready = true;
    }
    const p = this.o;
    const end = b.start + b.count;
    if (end <= this.skipBefore) return undefined;
    if (b.start < this.skipBefore) throw new InputError(`cannot resume at frame ${this.skipBefore}: batch ${b.start}..${end - 1} straddles it`, 'use the same batch size as the interrupted run, or run without --resume');
    const model = (this.model ??= this.runner(this.opts(b)));
    if (model.dim !== b.width * b.height * b.channels) throw new InputError(`frame size changed to ${b.width}x${b.height}x${b.channels}`, 'decode with one size');
    const due = !!this.store && checkpointDue(b.start, end, p.checkpointEvery);
    const { background, mask, state } = await model.process(b.frames, b.count, p.background || p.foreground, due);
    const out: FrameBatch = { ...b, mask };
    if (p.foreground) out.foreground = foregroundOf(b.frames, background!);
    if (p.background) out.background = background;
    if (this.store && due) {
      await this.store.save(end, encodeState(state!));
      for (const old of statesToPrune(this.store.list(), this.store.consumersNext())) await this.store.remove(old);
    }
    return out;
  }
}
