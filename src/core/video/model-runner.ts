/**
 * Where the streaming model runs, behind one interface: `inlineRunner` on the calling thread
 * (here), or on a worker thread (io/model-thread.ts), so the model step (model-stream.ts)
 * does not care which.
 */
import { StreamingBackground, type Layers, type StreamingOptions } from './background.js';

export interface ModelRunner {
  /** values per frame (width x height x channels) */
  readonly dim: number;
  readonly threaded: boolean;
  /** masks (and background: Float32, or 'compact' where the model can: Layers.compact) of `count` frames; `wantState`: also the model state after them (a checkpoint) */
  process(frames: Uint8Array, count: number, withBackground: boolean | 'compact', wantState: boolean): Promise<Layers & { state?: Record<string, unknown> }>;
  /** drops the model: the next batch starts a new one (as the first batch of a stream does) */
  reset(): void;
  /** ends the worker thread, if any, at once */
  close(): Promise<void>;
}

/** Makes the model for options `o`, from a checkpoint `state` if given. */
export type RunnerFactory = (o: StreamingOptions, state?: Record<string, unknown>) => ModelRunner;

class InlineRunner implements ModelRunner {
  readonly threaded = false;
  readonly dim: number;
  constructor(private readonly m: StreamingBackground) {
    this.dim = m.dim;
  }
  reset(): void {
    this.m.reset();
  }
  async process(frames: Uint8Array, count: number, withBackground: boolean | 'compact', wantState: boolean) {
    const r = this.m.process(frames, count, withBackground);
    return wantState ? { ...r, state: this.m.toState() } : r;
  }
  async close(): Promise<void> {}
}

/** The model on the calling thread. */
export const inlineRunner: RunnerFactory = (o, state) => new InlineRunner(state ? StreamingBackground.fromState(o, state) : new StreamingBackground(o));
