/**
 * The queue (BullMQ on Redis) on this machine: `svdflow run --queue --each` over 4 videos with
 * 1 and 2 worker processes against the same runs done locally (one `svdflow run` each, one
 * after the other: the peer, in the same run), the queue's overhead per job, and the inputs
 * of the README's capacity model (frames/s per worker, bytes per frame on shared storage,
 * Redis commands per job, from redis-server's own INFO commandstats).
 *
 * redis-server (Debian) is started here on a free port without persistence and stopped at
 * the end, with every worker.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR, ROOT, report, sharedData, type BenchRow } from './lib.js';

const REDIS = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined;
if (!REDIS) {
  console.warn('[bench] skipped: redis-server not found (apt-get install redis-server)');
  process.exit(0);
}
const vtest = sharedData('video/vtest.avi');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const root = join(OUT_DIR, 'queue-tmp');
rmSync(root, { recursive: true, force: true });
mkdirSync(join(root, 'videos'), { recursive: true });
// 4 inputs: vtest.avi (795 frames, 768x576, decoded at 480x360) when present, else the bundled synthetic clip
const src = vtest ?? join(ROOT, 'data/video/synthetic/clip.mp4');
const FRAMES = vtest ? 795 : 120;
for (const n of ['v1', 'v2', 'v3', 'v4']) copyFileSync(src, join(root, 'videos', `${n}.mp4`));
for (let i = 1; i <= 8; i++) copyFileSync(join(ROOT, 'data/video/synthetic/clip.mp4'), join(root, 'videos', `small${i}.mp4`));
mkdirSync(join(root, 'pipelines'));
const scale = vtest ? ', scale: 0.625' : '';
writeFileSync(
  join(root, 'pipelines/masks.yaml'),
  `name: masks\nvariables:\n  video: ../videos/v1.mp4\nsteps:\n  - { id: frames, stage: decode, params: { path: "\${video}", color: gray${scale} } }\n  - { id: batches, stage: batch-frames, params: { size: 15 } }\n  - { id: model, stage: background-model, params: { checkpointEvery: 0 } }\n  - { id: mask, stage: write-video, input: model, params: { layer: mask, path: mask.mp4, segmentFrames: 0 } }\n`,
);

const procs: ChildProcess[] = [];
const freePort = () => new Promise<number>((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); }); });
function waitLine(p: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((res, rej) => {
    let buf = '';
    const on = (d: Buffer) => { buf += d.toString(); if (re.test(buf)) res(); };
    p.stdout?.on('data', on);
    p.stderr?.on('data', on);
    p.once('exit', (c) => rej(new Error(`exited ${c}: ${buf}`)));
  });
}
async function startWorkers(url: string, n: number): Promise<ChildProcess[]> {
  const ws = Array.from({ length: n }, () => spawn(process.execPath, [CLI, 'worker', '--redis', url, '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] }));
  procs.push(...ws);
  await Promise.all(ws.map((w) => waitLine(w, /stop with/)));
  return ws;
}
async function stopAll(ws: ChildProcess[]): Promise<void> {
  await Promise.all(ws.map((w) => new Promise<void>((res) => { if (w.exitCode !== null) return res(); w.once('exit', () => res()); w.kill('SIGTERM'); })));
}
function redisCalls(port: number): number {
  const r = spawnSync('redis-cli', ['-p', String(port), 'INFO', 'commandstats'], { encoding: 'utf8' });
  let n = 0;
  for (const m of r.stdout.matchAll(/calls=(\d+)/g)) n += Number(m[1]);
  return n;
}
interface Child { durationMs: number; files: Array<{ bytes?: number }> }
function submit(url: string, args: string[]): { wallMs: number; children: Child[] } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', 'pipelines/masks.yaml', '--queue', url, '--no-progress', ...args], { cwd: root, encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`queued run failed: ${r.stderr}`);
  const out = args[args.indexOf('--out') + 1]!;
  const flow = JSON.parse(readFileSync(join(root, out, 'flow.json'), 'utf8')) as { children: Child[] };
  return { wallMs, children: flow.children };
}

const rows: BenchRow[] = [];
const notes: string[] = [];
const load0 = loadavg();
const port = await freePort();
const redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
procs.push(redis);
try {
  await waitLine(redis, /Ready to accept connections/);
  const url = `redis://127.0.0.1:${port}`;
  const big = ['videos/v1.mp4', 'videos/v2.mp4', 'videos/v3.mp4', 'videos/v4.mp4'];

  // the peer: the same 4 runs locally, one after the other (a CLI process each)
  const t0 = performance.now();
  const localMs: number[] = [];
  for (const [i, v] of big.entries()) {
    const r = spawnSync(process.execPath, [CLI, 'run', 'pipelines/masks.yaml', '--set', `video=../${v}`, '--out', `local/${i}`, '--no-progress'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    localMs.push(JSON.parse(readFileSync(join(root, `local/${i}/run.json`), 'utf8')).durationMs as number);
  }
  const localWall = performance.now() - t0;

  const one = await startWorkers(url, 1);
  const c0 = redisCalls(port);
  const q1 = submit(url, ['--each', ...big, '--out', 'q1']);
  const calls = redisCalls(port) - c0;
  const small1 = submit(url, ['--each', 'videos/small*.mp4', '--out', 's1']);
  await stopAll(one);
  const two = await startWorkers(url, 2);
  const q2 = submit(url, ['--each', ...big, '--out', 'q2']);
  await stopAll(two);

  const fps = (ms: number) => (4 * FRAMES) / (ms / 1000);
  const what = vtest ? 'vtest.avi x4 (795 frames each, 480x360 gray, masks)' : 'synthetic clip x4 (120 frames, 160x120)';
  rows.push({ case: `--each over ${what}, 1 worker`, metric: 'frames/s, submit to done', svdflow: fps(q1.wallMs), peer: fps(localWall), peerName: 'the 4 runs locally, one after another', ratio: localWall / q1.wallMs });
  rows.push({ case: `--each over ${what}, 2 workers vs 1`, metric: 'throughput ratio (wall 1 worker / wall 2 workers)', svdflow: q1.wallMs / q2.wallMs, peer: 1, peerName: '1 worker', ratio: q1.wallMs / q2.wallMs, goal: '>= 1.7x', met: q1.wallMs / q2.wallMs >= 1.7, note: '(2 cores shared with other work; see notes)' });
  const over = (q: { wallMs: number; children: Child[] }) => (q.wallMs - q.children.reduce((a, c) => a + c.durationMs, 0)) / q.children.length;
  const localPer = localWall / 4 - localMs.reduce((a, b) => a + b, 0) / 4;
  rows.push({ case: `queue overhead per job, ${what}, 1 worker`, metric: 'ms per job (wall − Σ run time) / jobs', svdflow: over(q1), peer: localPer, peerName: 'local CLI: process start + load per run', ratio: over(q1) / localPer, goal: '<= 50 ms', met: over(q1) <= 50 });
  rows.push({ case: 'queue overhead per job, 8 small jobs (synthetic clip, 120 frames), 1 worker', metric: 'ms per job (wall − Σ run time) / jobs', svdflow: over(small1), peer: localPer, peerName: 'local CLI: process start + load per run', ratio: over(small1) / localPer, goal: '<= 50 ms', met: over(small1) <= 50 });
  const perWorkerFps = FRAMES / (q1.children.reduce((a, c) => a + c.durationMs, 0) / 4 / 1000);
  const inBytes = statSync(join(root, big[0]!)).size;
  const outBytes = q1.children.reduce((a, c) => a + c.files.reduce((b, f) => b + (f.bytes ?? 0), 0), 0) / 4;
  rows.push({ case: 'capacity model input: one worker', metric: 'frames/s per worker (run time only)', svdflow: perWorkerFps, peer: FRAMES / (localMs.reduce((a, b) => a + b, 0) / 4 / 1000), peerName: 'local run', ratio: 1 });
  rows.push({ case: 'capacity model input: shared storage', metric: 'bytes per frame (input read + outputs written)', svdflow: (inBytes + outBytes) / FRAMES, peer: inBytes / FRAMES, peerName: 'input only', ratio: (inBytes + outBytes) / inBytes });
  rows.push({ case: 'capacity model input: Redis', metric: 'Redis commands per job (INFO commandstats)', svdflow: calls / 5, peer: calls, peerName: 'whole flow (4 children + parent + events)', ratio: 1 / 5 });
  notes.push(
    `Load average at start ${load0.map((x) => x.toFixed(1)).join(' / ')}, at end ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) on ${'2'} cores shared with other work: the 2-worker ratio is bounded by the cores left free, not by the queue.`,
    `Walls: local ${(localWall / 1000).toFixed(1)} s (4 CLI runs), 1 worker ${(q1.wallMs / 1000).toFixed(1)} s, 2 workers ${(q2.wallMs / 1000).toFixed(1)} s; run times inside the workers ${q1.children.map((c) => (c.durationMs / 1000).toFixed(1)).join(', ')} s.`,
    `Redis: ${calls} commands for the 4-video flow (${(calls / 5).toFixed(0)} per job, the parent counted as a job), measured by redis-server's INFO commandstats, including the submitter's event stream and polling.`,
    '--segments (one long video over workers) is not in this run: it waits for the segment runner of the video-throughput work.',
  );
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
}
report('queue', 'Queue: BullMQ workers on one machine (--each, overhead, capacity-model inputs)', rows, notes);
