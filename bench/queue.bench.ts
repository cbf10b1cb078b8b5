/**
 * The queue (BullMQ on Redis) on this machine: `svdflow run --queue --each` over 4 videos with
 * 1 and 2 worker processes against the same runs done locally (one `svdflow run` each, one
 * after the other: the peer, in the same run); `--segments 2` of one video on 1 and 2 workers
 * (outputs compared byte for byte with the local `--workers 2` run); the queue's overhead per
 * job; and the inputs of the README's capacity model (frames/s per worker, bytes per frame on
 * shared storage, Redis commands per job, from redis-server's own INFO commandstats).
 *
 * Overhead per job, defined: N jobs (the small clip, 120 frames) as one `--each` flow through
 * the queue with a warm worker (submit to the flow's end, in one process that is already
 * connected), minus the same N runs one after the other in one warm local process (both without
 * report.html), divided by N. The run times themselves vary with the load between the two
 * measurements, so the row with the goal subtracts each side's own run times (runPipeline's
 * durationMs) first: what is left is the time each side spends outside the runs, i.e. the
 * queue's own cost. Three alternating rounds; medians.
 *
 * redis-server (Debian) is started here on a free port without persistence and stopped at
 * the end, with every worker.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR, ROOT, report, sharedData, type BenchRow } from './lib.js';

const REDIS = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined;
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
const CORES = availableParallelism();
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
/**
 * n worker processes; `pin`: worker k runs on core k only (taskset -c k, which execs node: the pid is the
 * worker's) in a session of its own (setsid), as a worker on its own machine or in its own service is: Linux
 * (autogroup) shares a loaded CPU between sessions, so workers started from one session would split ONE
 * share between them, and a second worker would add nothing while other work runs; `threads`: --threads
 */
async function startWorkers(url: string, n: number, o: { pin?: boolean; threads?: number } = {}): Promise<ChildProcess[]> {
  const args = (k: number) => [...(o.pin ? ['-c', String(k), process.execPath] : []), CLI, 'worker', '--redis', url, '--root', root, ...(o.threads !== undefined ? ['--threads', String(o.threads)] : [])];
  const ws = Array.from({ length: n }, (_, k) => spawn(o.pin ? TASKSET! : process.execPath, args(k), { stdio: ['ignore', 'pipe', 'pipe'], detached: o.pin === true }));
  procs.push(...ws);
  await Promise.all(ws.map((w) => waitLine(w, /stop with/)));
  return ws;
}
async function stopAll(ws: ChildProcess[]): Promise<void> {
  await Promise.all(ws.map((w) => new Promise<void>((res) => { if (w.exitCode !== null) return res(); w.once('exit', () => res()); w.kill('SIGTERM'); })));
}
/** CPU seconds of a process and of its children it has waited for (ffmpeg), from /proc/PID/stat (utime + stime + cutime + cstime). */
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuSeconds(ps: ChildProcess[]): number {
  let t = 0;
  for (const p of ps) {
    const st = existsSync(`/proc/${p.pid}/stat`) ? readFileSync(`/proc/${p.pid}/stat`, 'utf8') : '';
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    t += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / HZ;
  }
  return t;
}
function redisCalls(port: number): number {
  const r = spawnSync('redis-cli', ['-p', String(port), 'INFO', 'commandstats'], { encoding: 'utf8' });
  let n = 0;
  for (const m of r.stdout.matchAll(/calls=(\d+)/g)) n += Number(m[1]);
  return n;
}
interface Child { durationMs: number; worker?: string; files: Array<{ bytes?: number }> }
function submit(url: string, args: string[], file = 'pipelines/masks.yaml'): { wallMs: number; children: Child[] } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--queue', url, '--no-progress', ...args], { cwd: root, encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`queued run failed: ${r.stderr}`);
  const out = args[args.indexOf('--out') + 1]!;
  if (!existsSync(join(root, out, 'flow.json'))) return { wallMs, children: [] };
  const flow = JSON.parse(readFileSync(join(root, out, 'flow.json'), 'utf8')) as { children: Child[] };
  return { wallMs, children: flow.children };
}
/** bench/queue-jobs.mjs: N runs in one warm local process, or N jobs as one flow from a connected submitter. */
function jobs(args: string[]): { wallMs: number; runMs: number[] } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bench/queue-jobs.mjs'), ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`queue-jobs ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { wallMs: number; runMs: number[] };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Files a run lists in its run.json that differ (bytes) between two output folders. */
function differing(a: string, b: string): string[] {
  const files = (JSON.parse(readFileSync(join(root, b, 'run.json'), 'utf8')) as { files: Array<{ path: string }> }).files.map((f) => f.path);
  return files.filter((f) => !existsSync(join(root, a, f)) || !readFileSync(join(root, a, f)).equals(readFileSync(join(root, b, f))));
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
    const r = spawnSync(process.execPath, [CLI, 'run', 'pipelines/masks.yaml', '--set', `video=${v}`, '--out', `local/${i}`, '--no-progress'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    localMs.push(JSON.parse(readFileSync(join(root, `local/${i}/run.json`), 'utf8')).durationMs as number);
  }
  const localWall = performance.now() - t0;

  const one = await startWorkers(url, 1);
  const c0 = redisCalls(port);
  const cpu0 = cpuSeconds(one);
  const q1 = submit(url, ['--each', ...big, '--out', 'q1']);
  const cpu1 = cpuSeconds(one) - cpu0;
  const calls = redisCalls(port) - c0;
  // overhead per job: N small jobs through the warm worker vs the same runs in one warm local process
  const N = 8;
  const smalls = Array.from({ length: N }, (_, i) => `videos/small${i + 1}.mp4`);
  const overA: number[] = [], overB: number[] = [], qOut: number[] = [], lOut: number[] = [];
  for (let round = 0; round < 3; round++) {
    const l = jobs(['local', 'pipelines/masks.yaml', `ol${round}`, ...smalls]);
    const q = jobs(['queue', url, 'pipelines/masks.yaml', `oq${round}`, ...smalls]);
    const sum = (x: number[]) => x.reduce((a, b) => a + b, 0);
    overA.push((q.wallMs - l.wallMs) / N);
    qOut.push((q.wallMs - sum(q.runMs)) / N);
    lOut.push((l.wallMs - sum(l.runMs)) / N);
    overB.push(qOut.at(-1)! - lOut.at(-1)!);
  }
  const seg1 = vtest ? submit(url, ['--segments', '2', '--out', 'seg1']) : undefined;
  await stopAll(one);
  const two = await startWorkers(url, 2);
  const cpu20 = cpuSeconds(two);
  const q2 = submit(url, ['--each', ...big, '--out', 'q2']);
  const cpu2 = cpuSeconds(two) - cpu20;
  const seg2 = vtest ? submit(url, ['--segments', '2', '--out', 'seg2']) : undefined;
  await stopAll(two);
  // the documented way to run c workers on one machine: --threads cores/c each (the 1-worker baseline stays the default)
  const twoT = await startWorkers(url, 2, { threads: Math.max(1, Math.floor(CORES / 2)) });
  const q2t = submit(url, ['--each', ...big, '--out', 'q2t']);
  await stopAll(twoT);
  // N workers = N machines: every worker gets the same resources, one core (taskset -c k, --threads 1), in both runs
  let pinned: { one: number; two: number; cpu1: number; cpu2: number[]; jobs: string } | undefined;
  if (TASKSET && CORES >= 2) {
    const p1 = await startWorkers(url, 1, { pin: true, threads: 1 });
    const pc0 = cpuSeconds(p1);
    const a = submit(url, ['--each', ...big, '--out', 'p1']);
    const pcpu = cpuSeconds(p1) - pc0;
    await stopAll(p1);
    const p2 = await startWorkers(url, 2, { pin: true, threads: 1 });
    const pc2 = p2.map((w) => cpuSeconds([w]));
    const b = submit(url, ['--each', ...big, '--out', 'p2']);
    const cpu2 = p2.map((w, k) => cpuSeconds([w]) - pc2[k]!);
    await stopAll(p2);
    const per = new Map<string, number[]>();
    for (const c of b.children) per.set(c.worker ?? '?', [...(per.get(c.worker ?? '?') ?? []), c.durationMs]);
    const jobs = [...per.values()].map((ms, k) => `worker ${k} (core ${k}): ${ms.length} jobs of ${ms.map((x) => (x / 1000).toFixed(1)).join(', ')} s`).join('; ');
    pinned = { one: a.wallMs, two: b.wallMs, cpu1: pcpu, cpu2, jobs };
  }

  const fps = (ms: number) => (4 * FRAMES) / (ms / 1000);
  const what = vtest ? 'vtest.avi x4 (795 frames each, 480x360 gray, masks)' : 'synthetic clip x4 (120 frames, 160x120)';
  rows.push({ case: `--each over ${what}, 1 worker`, metric: 'frames/s, submit to done', svdflow: fps(q1.wallMs), peer: fps(localWall), peerName: 'the 4 runs locally, one after another', ratio: localWall / q1.wallMs });
  const coresUsed = cpu1 / (q1.wallMs / 1000);
  rows.push({ case: `--each over ${what}, 2 workers vs 1, same machine, default threads`, metric: 'throughput ratio (wall 1 worker / wall 2 workers)', svdflow: q1.wallMs / q2.wallMs, peer: 1, peerName: '1 worker', ratio: q1.wallMs / q2.wallMs, goal: '>= 1.7x', met: q1.wallMs / q2.wallMs >= 1.7, note: '(bounded by the cores one worker already uses: next rows)' });
  rows.push({ case: `--each over ${what}, 2 workers (--threads ${Math.max(1, Math.floor(CORES / 2))} each) vs 1 worker (default), same machine`, metric: 'throughput ratio (wall 1 worker / wall 2 workers)', svdflow: q1.wallMs / q2t.wallMs, peer: 1, peerName: '1 worker', ratio: q1.wallMs / q2t.wallMs, goal: '>= 1.7x', met: q1.wallMs / q2t.wallMs >= 1.7 });
  rows.push({ case: `--each over ${what}, 1 worker: cores it keeps busy`, metric: 'CPU s of the worker and its ffmpeg children / wall s of the flow', svdflow: coresUsed, peer: CORES, peerName: 'cores of this machine', ratio: coresUsed / CORES });
  rows.push({ case: `--each over ${what}: bound on 2 workers vs 1 on this ${CORES}-core machine`, metric: `${CORES} / cores one worker uses (same CPU per job)`, svdflow: CORES / coresUsed, peer: 1.7, peerName: 'goal', ratio: CORES / coresUsed / 1.7, note: `2 workers used ${(cpu2 / 4).toFixed(2)} CPU s per video vs ${(cpu1 / 4).toFixed(2)} for 1` });
  if (pinned) rows.push({ case: `--each over ${what}, N workers = N machines: 2 workers on cores 0 and 1 vs 1 worker on core 0 (taskset, --threads 1 each)`, metric: 'throughput ratio (wall 1 worker / wall 2 workers)', svdflow: pinned.one / pinned.two, peer: 1, peerName: '1 worker on 1 core', ratio: pinned.one / pinned.two, goal: '>= 1.7x (per worker, equal resources)', met: pinned.one / pinned.two >= 1.7 });
  if (seg1 && seg2) {
    const t0l = performance.now();
    const lr = spawnSync(process.execPath, [CLI, 'run', 'pipelines/masks.yaml', '--workers', '2', '--out', 'segl', '--no-progress'], { cwd: root, encoding: 'utf8' });
    const segLocalMs = performance.now() - t0l;
    if (lr.status !== 0) throw new Error(lr.stderr);
    const diff = differing('seg2', 'segl');
    rows.push({ case: '--segments 2, vtest.avi (795 frames, 480x360 gray, masks), 2 workers vs 1', metric: 'throughput ratio (wall 1 worker / wall 2 workers)', svdflow: seg1.wallMs / seg2.wallMs, peer: 1, peerName: '1 worker', ratio: seg1.wallMs / seg2.wallMs });
    rows.push({ case: '--segments 2 on 2 workers vs local --workers 2, vtest.avi', metric: 'wall (s), submit to done', svdflow: seg2.wallMs / 1000, peer: segLocalMs / 1000, peerName: 'local svdflow run --workers 2', ratio: seg2.wallMs / segLocalMs, note: diff.length ? `DIFFERENT files: ${diff.join(', ')}` : 'every file in run.json byte-identical to the local --workers 2 run' });
  }
  rows.push({ case: `queue overhead per job, ${N} small jobs (synthetic clip, 120 frames), 1 warm worker`, metric: 'ms per job: (queue wall − its run times) − (local wall − its run times), / N', svdflow: median(overB), peer: median(lOut), peerName: 'local warm process: time outside the runs per run', ratio: median(qOut) / Math.max(1e-9, median(lOut)), goal: '<= 50 ms', met: median(overB) <= 50 });
  rows.push({ case: `queue wall vs local wall, ${N} small jobs, 1 warm worker`, metric: 'ms per job: (queue wall − local wall) / N', svdflow: median(overA), peer: 0, peerName: 'the same N runs in one warm local process', ratio: 1 });
  const perWorkerFps = FRAMES / (q1.children.reduce((a, c) => a + c.durationMs, 0) / 4 / 1000);
  const inBytes = statSync(join(root, big[0]!)).size;
  const outBytes = q1.children.reduce((a, c) => a + c.files.reduce((b, f) => b + (f.bytes ?? 0), 0), 0) / 4;
  rows.push({ case: 'capacity model input: one worker', metric: 'frames/s per worker (run time only)', svdflow: perWorkerFps, peer: FRAMES / (localMs.reduce((a, b) => a + b, 0) / 4 / 1000), peerName: 'local run', ratio: 1 });
  rows.push({ case: 'capacity model input: shared storage', metric: 'bytes per frame (input read + outputs written)', svdflow: (inBytes + outBytes) / FRAMES, peer: inBytes / FRAMES, peerName: 'input only', ratio: (inBytes + outBytes) / inBytes });
  rows.push({ case: 'capacity model input: Redis', metric: 'Redis commands per job (INFO commandstats)', svdflow: calls / 5, peer: calls, peerName: 'whole flow (4 children + parent + events)', ratio: 1 / 5 });
  notes.push(
    `Load average at start ${load0.map((x) => x.toFixed(1)).join(' / ')}, at end ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) on ${'2'} cores shared with other work: the 2-worker ratios are bounded by the cores left free, not by the queue.`,
    `Walls: local ${(localWall / 1000).toFixed(1)} s (4 CLI runs), 1 worker ${(q1.wallMs / 1000).toFixed(1)} s, 2 workers ${(q2.wallMs / 1000).toFixed(1)} s (default threads each), ${(q2t.wallMs / 1000).toFixed(1)} s (--threads ${Math.max(1, Math.floor(CORES / 2))} each); run times inside the workers ${q1.children.map((c) => (c.durationMs / 1000).toFixed(1)).join(', ')} s.` +
      (pinned ? ` Pinned (taskset, --threads 1): 1 worker on core 0 ${(pinned.one / 1000).toFixed(1)} s (${(pinned.cpu1 / 4).toFixed(2)} CPU s per video), 2 workers on cores 0 and 1 ${(pinned.two / 1000).toFixed(1)} s (CPU ${pinned.cpu2.map((x) => x.toFixed(1)).join(' and ')} s; ${pinned.jobs}).` : '') +
      (seg1 && seg2 ? ` --segments 2: 1 worker ${(seg1.wallMs / 1000).toFixed(1)} s, 2 workers ${(seg2.wallMs / 1000).toFixed(1)} s.` : ''),
    `Overhead per job (3 alternating rounds of ${N} jobs; medians): queue time outside the runs ${qOut.map((x) => x.toFixed(0)).join(', ')} ms per job, local ${lOut.map((x) => x.toFixed(0)).join(', ')} ms per run; (queue wall − local wall) / N ${overA.map((x) => x.toFixed(0)).join(', ')} ms. Queued children write no report.html or WebM previews unless submitted with --report (svdflow report DIR writes one later); the local side runs without report.html too. Submitting and following are timed from an already-connected process (bench/queue-jobs.mjs), so process start-up is not in either side.`,
    (coresUsed > CORES / 1.7
      ? `Same machine, why 1.7x cannot be reached here: one worker's job already keeps ${coresUsed.toFixed(2)} of the ${CORES} cores busy on average (ffmpeg decoder and encoder children, the model thread, the main thread, V8's GC helpers overlap; CPU seconds of the worker process and its waited-for ffmpeg children, from /proc/PID/stat, over the flow's wall time). With the same CPU per job, 2 workers on ${CORES} cores finish 4 jobs no sooner than 4 x CPU per job / ${CORES}, so the ratio is at most ${CORES} / ${coresUsed.toFixed(2)} = ${(CORES / coresUsed).toFixed(2)}x; above ${(CORES / 1.7).toFixed(2)} cores per worker 1.7x is impossible on this machine.`
      : `One worker kept only ${coresUsed.toFixed(2)} of the ${CORES} cores busy in this run (CPU seconds of the worker process and its waited-for ffmpeg children, from /proc/PID/stat, over the flow's wall time): other work had the rest (load average above), so the same-machine ratios here measure that load, not the queue (run it on a quiet machine for the bound).`) +
      ' The pinned row measures what the queue gives per worker when each worker has the same resources, one core each in both runs (taskset; the 1-core baseline is what the default budget gives a process pinned to one core, since availableParallelism() follows the affinity), each worker in a session of its own as on its own machine (Linux autogroup shares a loaded CPU between sessions: two workers started from one session would split one share): N workers on N machines. Redis and the submitter are not pinned (a few ms of CPU per job). The same-machine rows start every worker from the bench\'s session (as one user starting them from one shell would), so under load they get one share between them.',
    `Redis: ${calls} commands for the 4-video flow (${(calls / 5).toFixed(0)} per job, the parent counted as a job), measured by redis-server's INFO commandstats, including the submitter's event stream and polling.`,
  );
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
}
report('queue', 'Queue: BullMQ workers on one machine (--each, overhead, capacity-model inputs)', rows, notes);
