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
import { setCompactBackground } from './background-layer.js';

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
  /**
   * re-seed the model once, at the first batch that starts `seedWindow` frames after the first
   * frame this stream saw: from the median of up to 45 frames spread over those frames (0 = keep
   * the first batch's median; see `seedFrames`)
   */
  seedWindow?: number;
  /** one segment of a long video: batches before this frame only fit the model (warm-up) and are not emitted */
  emitFrom?: number;
};

/** Frames the seed median is taken over: up to 45 spread over the window, fewer for very large frames (at most 64 MiB). */
export function seedFrames(window: number, dim: number): number {
  return Math.max(1, Math.min(45, window, Math.floor((64 << 20) / dim)));
}

/** A seed being gathered: frames [from, end) are sampled at from + floor(i·(end − from)/m), i < m. */
interface Seed {
  from: number;
  end: number;
  m: number;
  got: number;
  frames: Uint8Array;
  /** the batches before `end` run a provisional model (their masks are emitted), or only feed the seed */
  provisional: boolean;
}

export class ModelStream {
  private model?: ModelRunner;
  private skipBefore = -Infinity;
  private ready = false;
  /** the seed being gathered (undefined: none pending) */
  private seed?: Seed;

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
    if (store && this.resume) {
      const st = resumeState(store.list(), store.consumersNext());
      if (st) {
        // states are only saved once the model is seeded (see push), so a resumed model needs no seed
        this.model = this.runner(this.opts(b), decodeState(store.read(st)));
        this.skipBefore = st.next;
        this.onResume(st.next, st.file);
        return;
      }
    } else store?.clear();
    const w = this.o.seedWindow ?? 0;
    if (w > 0) {
      const m = seedFrames(w, b.width * b.height * b.channels);
      const end = b.start + w;
      this.seed = { from: b.start, end, m, got: 0, frames: new Uint8Array(m * b.width * b.height * b.channels), provisional: this.o.emitFrom === undefined || this.o.emitFrom < end };
    }
  }

  /** Copies the batch's frames that the seed samples. */
  private sample(b: FrameBatch): void {
    const s = this.seed!, d = b.width * b.height * b.channels, n = s.end - s.from;
    for (let i = 0; i < s.m; i++) {
      const t = s.from + Math.floor((i * n) / s.m);
      if (t >= b.start && t < b.start + b.count) {
        s.frames.set(b.frames.subarray((t - b.start) * d, (t - b.start + 1) * d), i * d);
        s.got++;
      }
    }
  }

  /**
   * The model seeded from the gathered frames: a new model whose first batch is the sample (its
   * per-pixel median starts the background, and the sample fits the subspace), replacing the
   * provisional one. A segment and a one-pass run thus start the same way from any frame.
   */
  private async seedModel(b: FrameBatch): Promise<void> {
    const s = this.seed!;
    this.seed = undefined;
    if (s.got < s.m) return; // frames missing from the window (a sequence with gaps): keep the model as it is
    if (this.model) this.model.reset();
    else this.model = this.runner(this.opts(b));
    await this.model.process(s.frames, s.m, false, false);
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
    if (p.emitFrom !== undefined && b.start < p.emitFrom && end > p.emitFrom) throw new InputError(`batch ${b.start}..${end - 1} straddles the segment start ${p.emitFrom}`, 'segment boundaries lie on batch multiples: use the batch size the plan was made with');
    const seeding = this.seed && b.start < this.seed.end;
    if (seeding) {
      if (this.seed!.frames.length !== this.seed!.m * b.width * b.height * b.channels) throw new InputError(`frame size changed to ${b.width}x${b.height}x${b.channels}`, 'decode with one size');
      this.sample(b);
      // a segment's warm-up before its seed only gathers frames: the provisional model would be replaced unseen
      if (!this.seed!.provisional) return undefined;
    } else if (this.seed) await this.seedModel(b);
    const model = (this.model ??= this.runner(this.opts(b)));
    if (model.dim !== b.width * b.height * b.channels) throw new InputError(`frame size changed to ${b.width}x${b.height}x${b.channels}`, 'decode with one size');
    // no state is saved before the seed: a resumed run could not gather the frames it is taken from
    const due = !seeding && !!this.store && checkpointDue(b.start, end, p.checkpointEvery);
    const warmUp = p.emitFrom !== undefined && b.start < p.emitFrom;
    // the background layer alone comes compact (background-layer.ts); the foreground needs its Float32
    const layers = (p.background || p.foreground) && !warmUp ? (p.foreground ? true : 'compact') : false;
    const { background, mask, state, compact } = await model.process(b.frames, b.count, layers, due);
    const out: FrameBatch = { ...b, mask };
    if (this.store && due) {
      await this.store.save(end, encodeState(state!));
      for (const old of statesToPrune(this.store.list(), this.store.consumersNext())) await this.store.remove(old);
    }
    if (warmUp) return undefined;
    if (p.foreground) out.foreground = foregroundOf(b.frames, background!);
    if (p.background) {
      if (compact) setCompactBackground(out, compact);
      else out.background = background;
    }
    return out;
  }
}
