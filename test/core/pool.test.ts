/**
 * The compute pool (src/core/pool): tasks run in worker threads with shared/transferred
 * operands, errors keep their class, and an abort ends a running task within a second.
 * The pool runs the compiled code under dist/ (npm test builds it in pretest).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { Matrix, matmulT, svd, LinalgError } from '../../src/core/linalg/index.js';
import { tasks } from '../../src/core/pool/tasks/linalg.js';
import { tasks as pointTasks } from '../../src/core/pool/tasks/points.js';
import { closePool, poolBusy, pooled } from '../../src/core/pool/index.js';
import { IcpError, DEFAULT_CRITERIA } from '../../src/core/points/icp.js';
import { encodeArgs, encodeResult, decode } from '../../src/core/pool/codec.js';

afterAll(() => closePool());

function filled(m: number, n: number, seed = 1): Matrix {
  const A = new Matrix(m, n);
  let x = seed;
  for (let i = 0; i < A.data.length; i++) { x = (x * 16807) % 2147483647; A.data[i] = x / 2147483647 - 0.5; }
  return A;
}

describe('compute pool', () => {
  it('codec: a Matrix view travels as a shared contiguous copy; results move their buffers', async () => {
    const big = filled(6, 5);
    const view = big.block(1, 4, 2, 5); // 3x3, stride 5
    const enc = (await encodeArgs({ A: view, k: 2 })) as { A: { data: Float64Array; stride: number }; k: number };
    expect(enc.A.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(enc.A.stride).toBe(3);
    const back = decode(enc) as { A: Matrix; k: number };
    expect(back.A.to2D()).toEqual(view.to2D());
    // already shared: no copy, same memory
    const again = (await encodeArgs(back.A)) as { data: Float64Array };
    expect(again.data).toBe(back.A.data);
    const transfer = new Set<ArrayBuffer>();
    const s = new Float64Array([1, 2, 3]);
    const r = encodeResult({ M: filled(2, 2), s, v: view }, transfer) as { s: Float64Array; v: { data: Float64Array } };
    expect(r.s).toBe(s); // its own buffer: moved as is
    expect(transfer.has(s.buffer as ArrayBuffer)).toBe(true);
    expect(r.v.data.buffer).not.toBe(big.data.buffer); // a view: copied, never the parent's buffer
    expect(transfer.size).toBe(3);
  });

  it('svd in a worker thread: same factors as in this thread, input left intact', async () => {
    const A = filled(300, 200);
    const before = A.data.slice();
    const r = await tasks.run('svd', [A, {}]);
    const here = svd(A);
    expect(r.U).toBeInstanceOf(Matrix);
    expect([r.U.rows, r.U.cols, r.V.rows, r.V.cols, r.s.length]).toEqual([300, 200, 200, 200, 200]);
    expect(Array.from(r.s)).toEqual(Array.from(here.s)); // the same kernels in both threads
    const US = r.U.clone();
    for (let i = 0; i < 300; i++) for (let j = 0; j < 200; j++) US.data[i * 200 + j]! *= r.s[j]!;
    const back = matmulT(US, r.V);
    let err = 0;
    for (let i = 0; i < A.data.length; i++) err = Math.max(err, Math.abs(back.data[i]! - A.data[i]!));
    expect(err).toBeLessThan(1e-12);
    expect(A.data).toEqual(before);
    let ss = 0;
    for (const v of A.data) ss += v * v;
    expect(r.normSq).toBeCloseTo(ss, 8);
  });

  it('errors keep their class across the thread boundary', async () => {
    const A = filled(50, 40);
    A.data[7] = NaN;
    const e = await tasks.run('svd', [A, {}]).catch((x) => x);
    expect(e).toBeInstanceOf(LinalgError);
    expect(e.message).toMatch(/NaN/);
    const P = filled(10, 3);
    const icp = { estimation: 'point-to-point' as const, scaling: false, trim: 1, kernel: { type: 'none' as const, scale: 1 }, init: 'identity' as const, global: {}, angles: 12, minFitness: 0.3, maxRmseRatio: 0.5, criteria: { ...DEFAULT_CRITERIA }, normalNeighbours: 30 };
    const e2 = await pointTasks.run('icpRegistration', [P, filled(10, 2), icp]).catch((x) => x);
    expect(e2).toBeInstanceOf(IcpError);
    expect(e2.message).toBe('source is 3-D but target is 2-D');
    expect(e2.hint).toBe('align point sets of the same dimension');
  });

  it('abort ends a running SVD within a second, mid-computation', async () => {
    // 2000 x 2000: seconds even for OpenBLAS's dgesdd on two free cores (1200 x 1200 took 0.65 s here at load 8,
    // too close to the 0.4 s below on a quiet, faster machine)
    const A = filled(2000, 2000, 7);
    const ac = new AbortController();
    const p = tasks.run('svd', [A, {}], { signal: ac.signal });
    let finished = false;
    void p.then(() => (finished = true), () => undefined);
    await new Promise((r) => setTimeout(r, 400));
    // control: still computing when aborted (a 2000x2000 SVD takes well over 0.4 s), so the
    // rejection below is the abort's doing
    expect(finished).toBe(false);
    expect(poolBusy()).toBe(1);
    const t1 = performance.now();
    ac.abort('test');
    const e = await p.catch((x) => x);
    const took = performance.now() - t1;
    expect(e.name).toBe('AbortError');
    expect(took).toBeLessThan(1000);
    expect(poolBusy()).toBe(0);
    // the pool still works after a terminated thread
    const r = await tasks.run('svd', [filled(30, 20), {}]);
    expect(r.s.length).toBe(20);
  });

  it('pooled(): unsubscribing aborts the task', async () => {
    let seen: AbortSignal | undefined;
    const sub = pooled((signal) => { seen = signal; return new Promise<number>(() => undefined); }).subscribe();
    expect(seen!.aborted).toBe(false);
    sub.unsubscribe();
    expect(seen!.aborted).toBe(true);
  });
});
