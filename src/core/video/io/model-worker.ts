/**
 * Worker-thread side of model-thread.ts: gets its options (and checkpoint state) in a first
 * `{ init }` message, then owns one StreamingBackground and answers
 * `{ id, frames, count, withBackground, wantState }` with the batch's mask (and background,
 * and the model state when asked for a checkpoint); the result buffers are transferred.
 */
import { parentPort } from 'node:worker_threads';
import { StreamingBackground, type StreamingOptions } from '../background.js';
import { pixelKernels } from '../kernels/index.js';

// compile the WebAssembly module now, while the main thread waits for its first frames
pixelKernels();
let model: StreamingBackground | undefined;

type Init = { init: { options: StreamingOptions; state?: Record<string, unknown> } };
type Batch = { id: number; frames: Uint8Array; count: number; withBackground: boolean | 'compact'; wantState: boolean };

parentPort!.on('message', (m: Init | Batch) => {
  if ('init' in m) {
    const { options, state } = m.init;
    // a reset (the seed) keeps the model's buffers when the options are the same
    if (!state && model && JSON.stringify(model.o) === JSON.stringify(options)) model.reset();
    else model = state ? StreamingBackground.fromState(options, state) : new StreamingBackground(options);
    return;
  }
  try {
    if (!model) throw new Error('the background-model thread got a batch before its options');
    const { mask, background, compact } = model.process(m.frames, m.count, m.withBackground);
    const st = m.wantState ? model.toState() : undefined;
    const transfer: ArrayBuffer[] = [mask.buffer as ArrayBuffer];
    if (background) transfer.push(background.buffer as ArrayBuffer);
    if (compact) transfer.push(compact.mu.buffer as ArrayBuffer, compact.dev.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: m.id, mask, background, compact, state: st }, transfer);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const hint = (err as { hint?: unknown }).hint;
    parentPort!.postMessage({ id: m.id, error: { name: err.name, message: err.message, ...(typeof hint === 'string' ? { hint } : {}) } });
  }
});
