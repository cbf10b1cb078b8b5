/**
 * The thread budget (src/core/threads.ts): one number that sizes the compute pool, each pool
 * worker's team, the video model thread and the ffmpeg decoder, set by --threads (run, worker) and
 * shared by the segment processes of --workers N. Checked where it is honoured: the pool's threads
 * and the team helpers a pool worker really starts (in a child process), the decoder's arguments,
 * and each process's run.json.
 */
import { describe, it, expect, afterAll, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, tempDir } from '../helpers.js';
import { budgetEnv, shareBudget, threadBudget, threadCounts } from '../../src/core/threads.js';
import { planDecode } from '../../src/core/video/io/decode.js';

const tmp = tempDir('svdflow-threads-');
afterAll(() => tmp.cleanup());
const saved = { threads: process.env.SVDFLOW_THREADS, team: process.env.SVDFLOW_TEAM };
afterEach(() => {
  for (const [k, v] of [['SVDFLOW_THREADS', saved.threads], ['SVDFLOW_TEAM', saved.team]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
const FILE = join(ROOT, 'pipelines/video-background.yaml');
const env = (extra: Record<string, string> = {}) => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('SVDFLOW_THREADS' in extra)) delete e.SVDFLOW_THREADS;
  delete e.SVDFLOW_TEAM;
  return e;
};
function run(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: env(extra) });
  return r;
}

describe('thread budget', () => {
  it('the budget: the cores by default, SVDFLOW_THREADS over it; what it gives each mechanism; shares of N processes', () => {
    delete process.env.SVDFLOW_THREADS;
    delete process.env.SVDFLOW_TEAM;
    expect(threadBudget()).toBe(availableParallelism());
    process.env.SVDFLOW_THREADS = '3';
    expect(threadCounts()).toEqual({ budget: 3, pool: 3, team: 2, modelThread: true, decoder: 3 });
    process.env.SVDFLOW_THREADS = '0';
    expect(threadCounts()).toEqual({ budget: 0, pool: 0, team: 0, modelThread: false, decoder: 1 });
    process.env.SVDFLOW_THREADS = 'x';
    expect(threadBudget()).toBe(availableParallelism());
    process.env.SVDFLOW_TEAM = '5';
    expect(threadCounts(2).team).toBe(5);
    expect([shareBudget(2, 2), shareBudget(2, 3), shareBudget(8, 3), shareBudget(0, 2), shareBudget(5, 1)]).toEqual([1, 1, 2, 0, 5]);
    expect(budgetEnv(1, { A: 'b' })).toEqual({ A: 'b', SVDFLOW_THREADS: '1' });
  });

  it('the compute pool runs on budget threads and each pool worker starts budget - 1 team helpers (observed in the pool)', () => {
    for (const n of [1, 2, 3]) {
      const r = spawnSync(process.execPath, [join(ROOT, 'test/fixtures/pool-threads.mjs')], { encoding: 'utf8', env: env({ SVDFLOW_THREADS: String(n) }) });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!), `budget ${n}`).toEqual({ poolThreads: n, threads: n, team: n - 1 });
    }
  }, 60_000);

  it('the ffmpeg decoder and its filters get the budget as -threads', async () => {
    const video = join(ROOT, 'data/video/synthetic/clip.mp4');
    for (const n of ['1', '4']) {
      process.env.SVDFLOW_THREADS = n;
      const a = (await planDecode({ path: video, color: 'gray', scale: 0.5 })).args;
      expect(a.slice(a.indexOf('-threads'), a.indexOf('-threads') + 2)).toEqual(['-threads', n]);
      expect(a.indexOf('-threads')).toBeLessThan(a.indexOf('-i')); // an input (decoder) option
      expect(a.slice(a.indexOf('-filter_threads'), a.indexOf('-filter_threads') + 2)).toEqual(['-filter_threads', n]);
    }
  });

  it('svdflow run --threads N: run.json says what the run used; --threads 0 runs without threads', () => {
    for (const [n, want] of [
      ['1', { budget: 1, pool: 1, team: 0, modelThread: true, decoder: 1 }],
      ['0', { budget: 0, pool: 0, team: 0, modelThread: false, decoder: 1 }],
    ] as const) {
      const out = join(tmp.dir, `t${n}`);
      const r = run(['run', FILE, '--threads', n, '--out', out, '--no-progress']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).threads).toEqual(want);
    }
    const bad = run(['run', FILE, '--threads', 'two', '--out', join(tmp.dir, 'bad')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--threads two is not a thread count');
    const queued = run(['run', FILE, '--threads', '1', '--queue', 'redis://127.0.0.1:1', '--each', 'x.mp4']);
    expect(queued.status).toBe(2);
    expect(queued.stderr).toContain('with --queue that is each worker');
  }, 120_000);

  it('--workers N: each segment process gets the budget / N (at least 1), from --threads or the process budget', () => {
    for (const [args, extra, each] of [
      [['--threads', '4'], {}, 2],
      [['--threads', '3'], {}, 1],
      [['--threads', '1'], {}, 1],
      [[], { SVDFLOW_THREADS: '6' }, 3],
      [[], {}, Math.max(1, Math.floor(availableParallelism() / 2))],
    ] as const) {
      const out = join(tmp.dir, `w-${args.join('')}-${Object.values(extra).join('')}`);
      const r = run(['run', FILE, '--workers', '2', ...args, '--out', out, '--no-progress'], extra);
      expect(r.status, r.stderr).toBe(0);
      const m = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { segments: Array<{ threads: { budget: number; pool: number; team: number; decoder: number } }> };
      expect(m.segments.map((s) => s.threads), `${args.join(' ')} ${JSON.stringify(extra)}`).toEqual([0, 1].map(() => ({ budget: each, pool: each, team: each - 1, modelThread: true, decoder: each })));
    }
  }, 300_000);
});
