/**
 * A helper thread of the linalg thread team (team.ts): for each fan-out it is sent, claims
 * parts from the round's shared counter and computes them in place in shared memory, counting
 * each part done and waking the caller, until no part is left.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Matrix } from './matrix.js';
import { gemmPart } from './gemm.js';
import { panelLoop, PANEL_N, type PanelEnter, type TeamOperand, type TeamRound, type TeamSleep } from './team.js';
import { sharedInstanceOn } from './wasm/kernel.js';

const { ctrl, index } = workerData as { ctrl: Int32Array; index: number };
const view = (o: TeamOperand) => new Matrix(o.rows, o.cols, o.data, o.offset, o.stride);

// the bidiagonalisation's shared WebAssembly memory, instantiated once per bidiagonalisation
let panel: { id: number; kernel: (kind: number, ...a: number[]) => void } | undefined;

parentPort!.on('message', (m: TeamRound | TeamSleep | PanelEnter) => {
  if ('sleepMs' in m) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, m.sleepMs); return; }
  if ('panel' in m) {
    const { memory, id, box, scal, epoch } = m.panel;
    if (panel?.id !== id) {
      const x = sharedInstanceOn(memory);
      if (!x) { Atomics.store(box, 12, 1); return; }
      const gn = x.gemv_n as (...a: number[]) => void, gt = x.gemv_t as (...a: number[]) => void;
      panel = { id, kernel: (kind, rows, cols, a, lda, v, vs, xo, xs, alpha, beta) => (kind === PANEL_N ? gn(rows!, cols!, a!, lda!, v!, vs!, xo!, xs!, alpha!, beta!) : gt(rows!, cols!, a!, lda!, v!, vs!, xo!, alpha!, beta!)) };
    }
    panelLoop(box, scal, epoch, panel.kernel);
    return;
  }
  const { parts, round } = m;
  for (let i = Atomics.add(round, 0, 1); i < parts.length; i = Atomics.add(round, 0, 1)) {
    const p = parts[i]!;
    try {
      gemmPart(view(p.A), view(p.B), view(p.C), p.m, p.n, p.k, p.tA, p.tB, p.alpha, p.zero);
    } catch {
      Atomics.store(round, 2, 1);
    }
    Atomics.add(ctrl, 0, 1);
    Atomics.add(round, 1, 1);
    Atomics.notify(round, 1);
  }
});
Atomics.store(ctrl, 2 + index, 1);
