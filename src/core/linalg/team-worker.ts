/**
 * A helper thread of the linalg thread team (team.ts): computes the GEMM parts it is sent,
 * in place in shared memory, then decrements the caller's counter and wakes it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Matrix } from './matrix.js';
import { gemmPart } from './gemm.js';
import type { TeamPart, TeamOperand } from './team.js';

const { ctrl, index } = workerData as { ctrl: Int32Array; index: number };
const view = (o: TeamOperand) => new Matrix(o.rows, o.cols, o.data, o.offset, o.stride);

parentPort!.on('message', (p: TeamPart) => {
  try {
    gemmPart(view(p.A), view(p.B), view(p.C), p.m, p.n, p.k, p.tA, p.tB, p.alpha);
  } catch {
    Atomics.store(ctrl, 1, 1);
  }
  Atomics.sub(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
});
Atomics.store(ctrl, 2 + index, 1);
