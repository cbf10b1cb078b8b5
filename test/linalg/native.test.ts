/**
 * The optional native backend (src/core/linalg/native.ts: system OpenBLAS through koffi):
 *  - its products equal a naive triple loop (every transposition, views with offsets and row
 *    strides, alpha/beta): the row-major <-> column-major mapping is where a wrapper goes wrong;
 *  - its SVD and eigensolver give the constructed values and orthonormal factors (the full
 *    accuracy suite runs in suite.test.ts, native mode);
 *  - a library that does not load (a bad SVDFLOW_BLAS path) falls back to the WebAssembly
 *    kernels with a reason naming the path, and the SVD still gives the right values;
 *  - a process whose pool worker is inside a long native call (a 2500x2500 dgesdd) exits with
 *    its code within a second: Node's exit would otherwise wait for the call (measured 13 s).
 * Where the library is absent, the native cases are skipped with a message (failed when CI=true).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Matrix, gemm, svd, symEig, singularValues } from '../../src/core/linalg/index.js';
import { blasStatus, setBlas } from '../../src/core/linalg/native.js';
import { NATIVE_GEMM_MIN, setNativeGemmMin } from '../../src/core/linalg/gemm.js';
import { NATIVE_PHASED_MIN, setNativePhasedMin } from '../../src/core/linalg/svd.js';
import { gaussian, maxAbsDiff, naiveMul, orthError, reconError, withSpectrum } from './helpers.js';
import { readFileSync } from 'node:fs';
import { CLI, ROOT, tempDir } from '../helpers.js';

const nativeOk = setBlas(true);
setBlas(undefined);
const why = nativeOk ? '' : `native BLAS: ${blasStatus().reason}`;
if (!nativeOk) {
  // turned off on purpose (SVDFLOW_BLAS=off, or SVDFLOW_NO_WASM: the pure-TS run) is no missing component
  const chosenOff = process.env.SVDFLOW_BLAS === 'off' || (!!process.env.SVDFLOW_NO_WASM && !process.env.SVDFLOW_BLAS);
  if (process.env.CI === 'true' && !chosenOff) throw new Error(`${why}, and CI=true runs every test (.ci/run installs libopenblas0-pthread)`);
  process.stderr.write(`svdflow tests: skipped: ${why}\n`);
}
const itNative = nativeOk ? it : it.skip;
afterAll(() => { setBlas(undefined); setNativeGemmMin(NATIVE_GEMM_MIN); });

/** a view of rows r0.., cols c0.. of a bigger matrix: offset and stride != cols */
function view(M: Matrix, r0: number, c0: number, pad: number, seed: number): Matrix {
  const big = gaussian(M.rows + r0 + 1, M.cols + c0 + pad, seed);
  const v = big.block(r0, r0 + M.rows, c0, c0 + M.cols);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) v.set(i, j, M.get(i, j));
  return v;
}

describe('native backend (OpenBLAS)', () => {
  itNative('dgemm: every transposition, views with offset and stride, alpha and beta, equal a triple loop', () => {
    setBlas(true);
    setNativeGemmMin(1);
    const m = 37, n = 29, k = 45;
    for (const tA of [false, true]) for (const tB of [false, true]) {
      const A0 = gaussian(tA ? k : m, tA ? m : k, 1), B0 = gaussian(tB ? n : k, tB ? k : n, 2);
      const A = view(A0, 3, 2, 5, 3), B = view(B0, 1, 4, 3, 4);
      const C0 = gaussian(m, n, 5), C = view(C0, 2, 1, 7, 6);
      const want = naiveMul(A0, B0, tA, tB);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) want.set(i, j, -0.5 * want.get(i, j) + 2 * C0.get(i, j));
      gemm(A, B, { transA: tA, transB: tB, alpha: -0.5, beta: 2, C });
      const got = C.clone();
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-12);
      // the view's padding is untouched
      const fresh = gemm(A, B, { transA: tA, transB: tB });
      expect(maxAbsDiff(fresh, naiveMul(A0, B0, tA, tB))).toBeLessThan(1e-12);
    }
  });

  itNative('dgesdd (one call, or its LAPACK steps): the constructed values of a wide and a tall matrix, orthonormal U and V, A = U S Vᵀ (same as the WebAssembly path)', () => {
    const s = Array.from({ length: 60 }, (_, i) => 10 * 0.8 ** i);
    for (const [m, n, phased] of [[60, 140, false], [140, 60, false], [60, 140, true], [140, 60, true]] as const) {
      const A = withSpectrum(m, n, s, 7);
      setBlas(true);
      // phased: dgebrd, dbdsdc and dormbr called one by one (large matrices, for progress), with progress between
      setNativePhasedMin(phased ? 1 : Infinity);
      const seen: number[] = [];
      const r = svd(A, { solver: 'exact', onProgress: (d, t) => seen.push(d / t) });
      setNativePhasedMin(NATIVE_PHASED_MIN);
      expect(seen.filter((x) => x > 0 && x < 1).length).toBe(phased ? 3 : 0);
      const sv = singularValues(A);
      setBlas(false);
      const w = svd(A, { solver: 'exact' });
      setBlas(undefined);
      expect(r.U.rows).toBe(m); expect(r.U.cols).toBe(60); expect(r.V.rows).toBe(n); expect(r.V.cols).toBe(60);
      for (let i = 0; i < 60; i++) {
        expect(Math.abs(r.s[i]! - s[i]!)).toBeLessThan(1e-13 * s[0]!);
        expect(Math.abs(sv[i]! - s[i]!)).toBeLessThan(1e-13 * s[0]!);
        expect(Math.abs(r.s[i]! - w.s[i]!)).toBeLessThan(1e-13 * s[0]!);
      }
      expect(orthError(r.U)).toBeLessThan(1e-13);
      expect(orthError(r.V)).toBeLessThan(1e-13);
      expect(reconError(A, r.U, r.s, r.V)).toBeLessThan(1e-14);
    }
  });

  itNative('dsyevd: eigenvalues of a constructed symmetric matrix, descending, vectors as columns', () => {
    const n = 80;
    const lam = Array.from({ length: n }, (_, i) => n - i - 20.5); // both signs
    const Q = withSpectrum(n, n, Array.from({ length: n }, () => 1), 9); // orthogonal
    const S = new Matrix(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let t = 0;
      for (let p = 0; p < n; p++) t += Q.get(i, p) * lam[p]! * Q.get(j, p);
      S.set(i, j, t);
    }
    setBlas(true);
    const r = symEig(S);
    setBlas(undefined);
    for (let i = 0; i < n; i++) expect(Math.abs(r.values[i]! - lam[i]!)).toBeLessThan(1e-12);
    expect(orthError(r.vectors)).toBeLessThan(1e-13);
    // S v = lambda v for the first column
    let e = 0;
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let p = 0; p < n; p++) t += S.get(i, p) * r.vectors.get(p, 0);
      e = Math.max(e, Math.abs(t - lam[0]! * r.vectors.get(i, 0)));
    }
    expect(e).toBeLessThan(1e-12);
  });
});

describe('OpenBLAS thread count across threads', () => {
  // openblas_set_num_threads is process-wide: worker B, whose last call was small (1 thread), must
  // not run its next small call on the 2 threads worker A set for a large one (speed, and the bits
  // of dgemm differ between 1 and 2 threads)
  itNative('a small call in one worker after a large call in another runs on one thread', () => {
    const script = `
      import { Worker } from 'node:worker_threads';
      import { nativeInFlightBuffer } from './dist/src/core/linalg/native.js';
      import { pathToFileURL } from 'node:url';
      const at = (f) => pathToFileURL(process.cwd() + '/dist/src/core/linalg/' + f).href;
      const body = () => \`
        import { parentPort, workerData } from 'node:worker_threads';
        import { useNativeInFlightBuffer, nativeThreads } from '\${at('native.js')}';
        import { Matrix, gemm } from '\${at('index.js')}';
        useNativeInFlightBuffer(workerData.buf);
        parentPort.on('message', (n) => {
          const A = new Matrix(n, n); A.data.fill(1);
          gemm(A, A);
          parentPort.postMessage(nativeThreads());
        });\`;
      const mk = () => new Worker(new URL('data:text/javascript,' + encodeURIComponent(body())), { workerData: { buf: nativeInFlightBuffer() } });
      const ask = (w, n) => new Promise((r) => { w.once('message', r); w.postMessage(n); });
      const a = mk(), b = mk();
      const out = [await ask(b, 40), await ask(a, 520), await ask(b, 40)];
      console.log(JSON.stringify(out));
      await a.terminate(); await b.terminate();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SVDFLOW_THREADS: '2' } });
    expect(r.status, r.stderr).toBe(0);
    // 40^3 = 6.4e4 multiply-adds (native from 32k, one thread below 1e8); 520^3 = 1.4e8: the budget, 2
    expect(JSON.parse(r.stdout.trim())).toEqual([1, 2, 1]);
  }, 60_000);
});

describe('native backend from concurrent pool workers', () => {
  itNative('four SVDs at once in the pool (OpenBLAS threads switched per call by size): each gives its constructed values', async () => {
    const { tasks } = await import('../../src/core/pool/tasks/linalg.js');
    const { closePool } = await import('../../src/core/pool/index.js');
    try {
      // 600x500 (~1.8e8 multiply-adds: both threads) and 200x150 (one thread), interleaved
      const shapes = [[600, 500], [200, 150], [500, 600], [150, 200]] as const;
      const cases = shapes.map(([m, n], i) => {
        const k = Math.min(m, n), s = Array.from({ length: k }, (_, j) => (i + 1) * 0.99 ** j);
        return { s, A: withSpectrum(m, n, s, 20 + i) };
      });
      const out = await Promise.all(cases.map((c) => tasks.run('svd', [c.A, { solver: 'exact' }])));
      out.forEach((r, i) => {
        const want = cases[i]!.s;
        let e = 0;
        for (let j = 0; j < want.length; j++) e = Math.max(e, Math.abs(r.s[j]! - want[j]!));
        expect(e).toBeLessThan(1e-12 * want[0]!);
        expect(reconError(cases[i]!.A, r.U, r.s, r.V)).toBeLessThan(1e-13);
      });
    } finally {
      await closePool();
    }
  }, 60_000);
});

// the fallback cases name the WebAssembly kernels: their children run without SVDFLOW_NO_WASM (under which the
// TypeScript kernels run and run.json rightly says 'ts': the case below)
const { SVDFLOW_NO_WASM: _inheritedNoWasm, ...ENV_WASM } = process.env;

describe('native backend fallback', () => {
  it('a library that does not load (bad SVDFLOW_BLAS path): the WebAssembly kernels, a reason naming the path, the right values', () => {
    const bad = '/nonexistent/libopenblas-missing.so';
    const script = `
      import { blasStatus } from './dist/src/core/linalg/native.js';
      import { svd, Matrix } from './dist/src/core/linalg/index.js';
      const A = new Matrix(90, 70);
      for (let i = 0; i < 70; i++) A.set(i, i, 70 - i); // diagonal: values 70 .. 1
      const r = svd(A, { solver: 'exact' });
      console.log(JSON.stringify({ status: blasStatus(), s: [r.s[0], r.s[69]] }));`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...ENV_WASM, SVDFLOW_BLAS: bad } });
    expect(out.status, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout.trim()) as { status: { backend: string; reason: string }; s: number[] };
    expect(r.status.backend).toBe('wasm');
    expect(r.status.reason).toContain(bad);
    expect(r.s[0]).toBeCloseTo(70, 12);
    expect(r.s[1]).toBeCloseTo(1, 12);
  });

  it('a run with a bad SVDFLOW_BLAS path: succeeds, one warning line naming the path, run.json says which backend ran and why', () => {
    const t = tempDir('svdflow-blas-');
    try {
      const bad = join(t.dir, 'no-such-libopenblas.so');
      const out = spawnSync(process.execPath, [CLI, 'run', join(ROOT, 'pipelines', 'procrustes.yaml'), '--out', join(t.dir, 'out'), '--no-progress'], { cwd: ROOT, encoding: 'utf8', env: { ...ENV_WASM, SVDFLOW_BLAS: bad } });
      expect(out.status, out.stderr).toBe(0);
      const lines = out.stderr.split('\n').filter((l) => l.includes('native BLAS not used'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(bad);
      expect(lines[0]).toContain('the WebAssembly kernels run instead');
      const run = JSON.parse(readFileSync(join(t.dir, 'out', 'run.json'), 'utf8')) as { linalg: { backend: string; reason: string } };
      expect(run.linalg.backend).toBe('wasm');
      expect(run.linalg.reason).toContain(bad);
    } finally {
      t.cleanup();
    }
  }, 60_000);

  it('SVDFLOW_BLAS=off: the WebAssembly kernels, said so', () => {
    const script = `import { blasStatus } from './dist/src/core/linalg/native.js'; console.log(JSON.stringify(blasStatus()));`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...ENV_WASM, SVDFLOW_BLAS: 'off' } });
    expect(JSON.parse(out.stdout.trim())).toEqual({ backend: 'wasm', reason: 'SVDFLOW_BLAS=off' });
  });

  it('SVDFLOW_NO_WASM=1: the TypeScript kernels, named \'ts\' (not \'wasm\'), with or without SVDFLOW_BLAS=off', () => {
    const script = `import { blasStatus } from './dist/src/core/linalg/native.js'; console.log(JSON.stringify(blasStatus()));`;
    const status = (extra: Record<string, string>) => {
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...ENV_WASM, SVDFLOW_BLAS: '', SVDFLOW_NO_WASM: '1', ...extra } });
      expect(out.status, out.stderr).toBe(0);
      return JSON.parse(out.stdout.trim()) as unknown;
    };
    expect(status({})).toEqual({ backend: 'ts', reason: 'SVDFLOW_NO_WASM is set (pure TypeScript kernels)' });
    expect(status({ SVDFLOW_BLAS: 'off' })).toEqual({ backend: 'ts', reason: 'SVDFLOW_BLAS=off' });
  });

  it('a run with SVDFLOW_NO_WASM=1 and a bad SVDFLOW_BLAS path: the warning names the TypeScript kernels, run.json says \'ts\'', () => {
    const t = tempDir('svdflow-blas-ts-');
    try {
      const bad = join(t.dir, 'no-such-libopenblas.so');
      const out = spawnSync(process.execPath, [CLI, 'run', join(ROOT, 'pipelines', 'procrustes.yaml'), '--out', join(t.dir, 'out'), '--no-progress'], { cwd: ROOT, encoding: 'utf8', env: { ...ENV_WASM, SVDFLOW_BLAS: bad, SVDFLOW_NO_WASM: '1' } });
      expect(out.status, out.stderr).toBe(0);
      const lines = out.stderr.split('\n').filter((l) => l.includes('native BLAS not used'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('the TypeScript kernels run instead');
      const run = JSON.parse(readFileSync(join(t.dir, 'out', 'run.json'), 'utf8')) as { linalg: { backend: string; reason: string } };
      expect(run.linalg.backend).toBe('ts');
      expect(run.linalg.reason).toContain(bad);
    } finally {
      t.cleanup();
    }
  }, 60_000);
});

describe('run.json names what ran', () => {
  // a run whose steps make no native call must not load OpenBLAS only to name it (RSS), and must not
  // claim it ran; a run whose exact SVD went to dgesdd in a pool worker counts that call
  const runOf = (pipeline: string, blas = '', extra: Record<string, string> = {}) => {
    const t = tempDir('svdflow-blas-use-');
    try {
      // the child chooses its backend from SVDFLOW_BLAS alone (a suite run under SVDFLOW_NO_WASM=1 would rule OpenBLAS out, and run.json would rightly say so)
      const { SVDFLOW_NO_WASM: _noWasm, ...env } = process.env;
      const out = spawnSync(process.execPath, [CLI, 'run', join(ROOT, 'pipelines', pipeline), '--out', join(t.dir, 'out'), '--no-progress'], { cwd: ROOT, encoding: 'utf8', env: { ...env, SVDFLOW_BLAS: blas, ...extra } });
      expect(out.status, out.stderr).toBe(0);
      return JSON.parse(readFileSync(join(t.dir, 'out', 'run.json'), 'utf8')) as { linalg: { backend: string; calls: number; reason?: string; library?: string } };
    } finally {
      t.cleanup();
    }
  };
  it('procrustes (3x3 SVDs only): unused, 0 calls, the library not loaded', () => {
    const run = runOf('procrustes.yaml');
    expect(run.linalg).toMatchObject({ backend: 'unused', calls: 0 });
    expect(run.linalg.reason).toContain('not loaded');
  }, 60_000);
  it('image compression with SVDFLOW_BLAS=off: the WebAssembly kernels and why, not unused (the SVD ran in a pool worker)', () => {
    const run = runOf('image-compress.yaml', 'off');
    expect(run.linalg).toMatchObject({ backend: 'wasm', reason: 'SVDFLOW_BLAS=off', calls: 0 });
  }, 120_000);
  it('image compression with SVDFLOW_NO_WASM=1: the TypeScript kernels ran the SVD, run.json says \'ts\' and why', () => {
    const run = runOf('image-compress.yaml', '', { SVDFLOW_NO_WASM: '1' });
    expect(run.linalg).toMatchObject({ backend: 'ts', reason: 'SVDFLOW_NO_WASM is set (pure TypeScript kernels)', calls: 0 });
  }, 120_000);
  itNative('image compression (700x1028 exact SVD in a pool worker): openblas, its calls counted', () => {
    const run = runOf('image-compress.yaml');
    expect(run.linalg.backend).toBe('openblas');
    expect(run.linalg.calls).toBeGreaterThan(0);
    expect(run.linalg.library).toContain('OpenBLAS');
  }, 120_000);
});

describe('exit during a native call', () => {
  itNative('a pool worker inside a 2500x2500 dgesdd: the task is aborted and process.exit(130) returns within 1 s', async () => {
    const script = `
      import { Matrix } from './dist/src/core/linalg/index.js';
      import { nativeInFlight } from './dist/src/core/linalg/native.js';
      import { tasks } from './dist/src/core/pool/tasks/linalg.js';
      const n = 2500, A = new Matrix(n, n);
      for (let i = 0; i < A.data.length; i++) A.data[i] = Math.sin(i * 0.618);
      const ac = new AbortController();
      tasks.run('svd', [A, { solver: 'exact' }], { signal: ac.signal }).then(() => console.log('finished'), () => {});
      const t = setInterval(() => {
        if (nativeInFlight() > 0) {
          clearInterval(t);
          console.log('in native call');
          setTimeout(() => { ac.abort(); process.exit(130); }, 300);
        }
      }, 5);`;
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    let outText = '', inNativeAt = 0;
    c.stdout.on('data', (d: Buffer) => { outText += d; if (!inNativeAt && outText.includes('in native call')) inNativeAt = performance.now(); });
    const code = await new Promise<number | null>((res) => c.on('exit', (x) => res(x)));
    const ms = performance.now() - inNativeAt;
    expect(outText).toContain('in native call');
    expect(outText).not.toContain('finished');
    expect(code).toBe(130);
    // 300 ms of the call before the exit, then the exit itself (a 2500x2500 dgesdd takes seconds)
    expect(ms).toBeLessThan(1300);
  }, 60_000);
});
