/**
 * The linalg thread team (src/core/linalg/team.ts): GEMM-bound phases split across threads
 * give results identical to the last bit to the one-thread kernels (each element is summed in
 * the same order), for every transposition, Gram products and whole SVDs (exact with
 * back-transformation, randomized sketches), with the WebAssembly and the pure-TS kernels.
 * Control: the split really happens (the parts' counter sees work on the helper).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Matrix, gemm, gramMatrix, svd, setGemmBackend, bidiagonalize } from '../../src/core/linalg/index.js';
import { bidiagDc } from '../../src/core/linalg/bdsdc.js';
import { setSharedAllocation } from '../../src/core/linalg/matrix.js';
import { startTeam, stopTeam, teamReady, teamStats, stallHelpers, panelStats, setTeamBackoff, TEAM_BACKOFF } from '../../src/core/linalg/team.js';
import { setPanelSplitMin, PANEL_SPLIT_MIN } from '../../src/core/linalg/gebrd.js';
import { setParallelMin, setSplitCost, SPLIT_COST } from '../../src/core/linalg/gemm.js';
import { setBlas } from '../../src/core/linalg/native.js';

// these tests are about the TS/WebAssembly kernels (the thread team, bit for bit): the native backend is off
setBlas(false);
afterAll(() => { setBlas(undefined); });

function filled(m: number, n: number, seed: number): Matrix {
  const A = new Matrix(m, n);
  let x = seed;
  for (let i = 0; i < A.data.length; i++) { x = (x * 16807) % 2147483647; A.data[i] = x / 2147483647 - 0.5; }
  return A;
}

const same = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** Runs `f` without the team (plain arrays), then with it (shared arrays), returns both and the fan-outs. */
async function both<T>(f: () => T): Promise<[T, T, number]> {
  stopTeam();
  setSharedAllocation(false);
  const seq = f();
  setSharedAllocation(1024);
  startTeam(1);
  expect(await teamReady()).toBe(true);
  const before = teamStats().rounds;
  const par = f();
  const parts = teamStats().rounds - before;
  stopTeam();
  setSharedAllocation(false);
  return [seq, par, parts];
}

// small products split too: no floor, and a split that costs nothing in the cost model
// and no load back-off (a loaded test machine would otherwise turn the team off for a while)
const cost0 = { ...SPLIT_COST }, backoff0 = { ...TEAM_BACKOFF };
beforeAll(() => { setParallelMin(1 << 16); setSplitCost({ hopNs: 0, copyNs: 0 }); setTeamBackoff({ pauseMs: 0 }); });
afterAll(() => { stopTeam(); setSharedAllocation(false); setParallelMin(1 << 22); setSplitCost(cost0); setTeamBackoff(backoff0); setGemmBackend('wasm'); });

describe.each(['wasm', 'js'] as const)('thread team, %s kernels', (backend) => {
  beforeAll(() => setGemmBackend(backend));

  it('GEMM in all four transpositions, alpha and beta, equals the one-thread result bit for bit', async () => {
    const A = filled(150, 90, 1), B = filled(90, 130, 2), At = A.transpose(), Bt = B.transpose();
    const C0 = filled(150, 130, 3);
    const run = () => {
      const shareA = new Matrix(A.rows, A.cols); shareA.data.set(A.data);
      const C = new Matrix(150, 130); C.data.set(C0.data);
      return [gemm(A, B), gemm(At, B, { transA: true }), gemm(A, Bt, { transB: true }), gemm(At, Bt, { transA: true, transB: true, alpha: -0.5 }), gemm(shareA, B, { C, beta: 0.25, alpha: 2 })].map((M) => M.data);
    };
    const [seq, par, parts] = await both(run);
    expect(parts).toBeGreaterThanOrEqual(5); // control: each product was split
    seq.forEach((s, i) => expect(same(s, par[i]!), `product ${i}`).toBe(true));
  });

  it('tall products split by rows; a Gram product by balanced column blocks', async () => {
    const T = filled(900, 40, 4), W = filled(40, 60, 5), G = filled(3000, 70, 6);
    const [seq, par, parts] = await both(() => [gemm(T, W).data, gramMatrix(G).data, gramMatrix(G.transpose(), true).data]);
    expect(parts).toBeGreaterThanOrEqual(3);
    seq.forEach((s, i) => expect(same(s, par[i]!), `product ${i}`).toBe(true));
  });

  it('the bidiagonalisation splits its trailing updates (working copy in shared memory), bit for bit', async () => {
    const A = filled(300, 220, 8);
    const [seq, par, parts] = await both(() => bidiagonalize(A));
    expect(parts).toBeGreaterThan(0); // control: the updates were split
    expect(same(seq.d, par.d) && same(seq.e, par.e)).toBe(true);
    expect(same(seq.left.V.data, par.left.V.data) && same(seq.right.V.data, par.right.V.data)).toBe(true);
    expect(same(seq.left.tau, par.left.tau) && same(seq.right.tau, par.right.tau)).toBe(true);
  });

  it('divide and conquer splits its merge products, bit for bit', async () => {
    const n = 400;
    const d = Float64Array.from({ length: n }, (_, i) => 1 + Math.sin(i)), e = Float64Array.from({ length: n }, (_, i) => 0.5 + Math.cos(i * 0.7) / 3);
    const [seq, par, parts] = await both(() => bidiagDc(d, e));
    expect(parts).toBeGreaterThan(0);
    expect(same(seq.s, par.s) && same(seq.U, par.U) && same(seq.V, par.V)).toBe(true);
  });

  it('exact and randomized SVDs are identical with and without the team', async () => {
    const A = filled(260, 200, 7);
    const [seq, par, parts] = await both(() => [svd(A), svd(A, { solver: 'randomized', rank: 12 })]);
    expect(parts).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) {
      expect(same(seq[i]!.s, par[i]!.s)).toBe(true);
      expect(same(seq[i]!.U.data, par[i]!.U.data)).toBe(true);
      expect(same(seq[i]!.V.data, par[i]!.V.data)).toBe(true);
    }
  });
});

describe('thread team scheduling and cost model', () => {
  afterAll(() => { stopTeam(); setSharedAllocation(false); setSplitCost({ hopNs: 0, copyNs: 0 }); });

  it('helpers compute parts: a large product is shared (the helper claims a part in one of a few tries)', async () => {
    setSharedAllocation(1024);
    startTeam(1);
    expect(await teamReady()).toBe(true);
    const A = filled(400, 300, 11), B = filled(300, 400, 12);
    const before = teamStats().helperParts;
    for (let i = 0; i < 20 && teamStats().helperParts === before; i++) gemm(A, B);
    expect(teamStats().helperParts).toBeGreaterThan(before);
  });

  it('a helper that is not scheduled does not hold the caller: it claims the parts left, same bits', async () => {
    setSharedAllocation(false);
    stopTeam();
    const A = filled(200, 150, 13), B = filled(150, 180, 14);
    const seq = gemm(A, B).data;
    setSharedAllocation(1024);
    startTeam(1);
    expect(await teamReady()).toBe(true);
    const s0 = teamStats();
    stallHelpers(3000); // the helper is blocked for 3 s: it can claim nothing before the product ends
    const par = gemm(A, B).data;
    const s1 = teamStats();
    expect(s1.rounds - s0.rounds).toBe(1); // the product was split...
    expect(s1.callerParts - s0.callerParts).toBe(2); // ...and the caller computed both parts
    expect(s1.helperParts).toBe(s0.helperParts);
    expect(same(seq, par)).toBe(true);
    stopTeam(); // ends the stalled helper
  });

  it('the cost model keeps small products, and large ones whose operands would be copied, on one thread', async () => {
    // the shipped constants, with the WebAssembly kernel's multiply-add cost for both backends
    // (SVDFLOW_NO_WASM=1 runs the TS kernel, whose dearer multiply-adds make more splits pay)
    setSplitCost({ ...cost0, macNsJs: cost0.macNsWasm });
    setParallelMin(1 << 22);
    setSharedAllocation(false);
    const plain = filled(70890, 22, 15); // not in shared memory: a split would copy it
    const V = filled(22, 22, 16);
    setSharedAllocation(1024);
    startTeam(1);
    expect(await teamReady()).toBe(true);
    const small = filled(64, 64, 17), big = filled(500, 500, 18), bigB = filled(500, 500, 19);
    const r0 = teamStats().rounds;
    gemm(small, small); // 262k multiply-adds: below the floor
    gemm(plain, V); // 34M multiply-adds, 1.56M values to copy first: not worth it
    expect(teamStats().rounds).toBe(r0);
    gemm(big, bigB); // 125M multiply-adds on shared operands: split (control of the model)
    expect(teamStats().rounds).toBe(r0 + 1);
    setParallelMin(1 << 16);
    setSplitCost({ hopNs: 0, copyNs: 0 });
  });
});

describe('thread team: the bidiagonalisation panels (matrix-vector products split in two)', () => {
  const min0 = PANEL_SPLIT_MIN;
  beforeAll(() => { setParallelMin(1 << 16); setSplitCost({ hopNs: 0, copyNs: 0 }); setPanelSplitMin(1024); });
  afterAll(() => { stopTeam(); setSharedAllocation(false); setPanelSplitMin(min0); });

  it('bit for bit equal to one thread, with the helper computing parts (shared WebAssembly memory)', async () => {
    const A = filled(420, 301, 21); // odd column count: the split must keep the kernels' pairs
    setSharedAllocation(false);
    stopTeam();
    const seq = bidiagonalize(A);
    setSharedAllocation(1024);
    startTeam(1);
    expect(await teamReady()).toBe(true);
    const p0 = panelStats();
    let par = bidiagonalize(A);
    for (let i = 0; i < 10 && panelStats().helper === p0.helper; i++) par = bidiagonalize(A);
    const p1 = panelStats();
    if (!process.env.SVDFLOW_NO_WASM) expect(p1.helper).toBeGreaterThan(p0.helper); // control: the helper computed panel parts
    expect(same(seq.d, par.d) && same(seq.e, par.e)).toBe(true);
    expect(same(seq.left.V.data, par.left.V.data) && same(seq.right.V.data, par.right.V.data)).toBe(true);
    expect(same(seq.left.tau, par.left.tau) && same(seq.right.tau, par.right.tau)).toBe(true);
    // a stalled helper: the caller claims every second part itself, same bits
    stallHelpers(2000);
    const p2 = panelStats();
    const st = bidiagonalize(A);
    if (!process.env.SVDFLOW_NO_WASM) expect(panelStats().caller - p2.caller).toBeGreaterThan(0);
    expect(panelStats().helper).toBe(p2.helper);
    expect(same(seq.d, st.d) && same(seq.e, st.e) && same(seq.left.V.data, st.left.V.data) && same(seq.right.V.data, st.right.V.data)).toBe(true);
    stopTeam();
  });

  it('a whole SVD through the split panels equals the one-thread SVD', async () => {
    const A = filled(350, 260, 22);
    setSharedAllocation(false);
    stopTeam();
    const seq = svd(A);
    setSharedAllocation(1024);
    startTeam(1);
    expect(await teamReady()).toBe(true);
    const par = svd(A);
    expect(same(seq.s, par.s) && same(seq.U.data, par.U.data) && same(seq.V.data, par.V.data)).toBe(true);
    stopTeam();
  });
});

describe('thread team: load back-off', () => {
  afterAll(() => { stopTeam(); setSharedAllocation(false); setTeamBackoff({ pauseMs: 0 }); });

  it('after a long wait for a helper part, products run on the calling thread for a while, same bits', async () => {
    setSharedAllocation(false);
    stopTeam();
    const A = filled(300, 200, 31), B = filled(200, 260, 32);
    const seq = gemm(A, B).data;
    setSharedAllocation(1024);
    startTeam(1);
    expect(await teamReady()).toBe(true);
    // thresholds below zero: every fan-out counts as a long wait (a preempted helper)
    setTeamBackoff({ waitMs: -1, ownFactor: -1, pauseMs: 60_000 });
    const s0 = teamStats();
    const first = gemm(A, B).data; // split, then the back-off starts
    const s1 = teamStats();
    expect(s1.rounds - s0.rounds).toBe(1);
    expect(s1.backoffs - s0.backoffs).toBe(1);
    const second = gemm(A, B).data; // during the back-off: not split
    expect(teamStats().rounds).toBe(s1.rounds);
    expect(same(seq, first) && same(seq, second)).toBe(true);
    setTeamBackoff({ waitMs: 2, ownFactor: 1, pauseMs: 0 }); // no back-off: split again
    gemm(A, B);
    expect(teamStats().rounds).toBe(s1.rounds + 1);
  });
});
