/**
 * Worker-thread side of model-thread.ts: owns one StreamingBackground and answers
 * `{ id, frames, count, withBackground, wantState }` with the batch's mask (and background,
 * and the model state when asked for a checkpoint); the result buffers are transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StreamingBackground, type StreamingOptions } from '../background.js';

const { options, state } = workerData as { options: StreamingOptions; state?: Record<string, unknown> };
const model = state ? StreamingBackground.fromState(options, state) : new StreamingBackground(options);

parentPort!.on('message', (m: { id: number; frames: Uint8Array; count: number; withBackground: boolean; wantState: boolean }) => {
  try {
    const { mask, background } = model.process(m.frames, m.count, m.withBackground);
    const st = m.wantState ? model.toState() : undefined;
    const transfer: ArrayBuffer[] = [mask.buffer as ArrayBuffer];
    if (background) transfer.push(background.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: m.id, mask, background, state: st }, transfer);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const hint = (err as { hint?: unknown }).hint;
    parentPort!.postMessage({ id: m.id, error: { name: err.name, message: err.message, ...(typeof hint === 'string' ? { hint } : {}) } });
  }
});
