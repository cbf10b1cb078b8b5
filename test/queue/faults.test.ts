/**
 * Faults on a real Redis with real worker processes (lock 4 s): a worker killed with -9
 * mid-job, a worker cut off from Redis mid-job, and SIGTERM (finish within the grace
 * period, or hand the job back). Each flow must complete with outputs byte-identical to a
 * local run, nothing half-written at a final path, and one result per input.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { readFileSync, readdirSync, mkdirSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { REDIS_SERVER, REDIS_MISSING, startRedis, startWorker, cli, makeRoot, until, killAll, CuttableProxy, type RedisHandle, type WorkerHandle } from './harness.js';

const OUTPUTS = ['background.mp4', 'background.png', 'mask.mp4', 'run.json', 'scores.json'];

describe.skipIf(!REDIS_SERVER)(`queue faults on a real Redis${REDIS_SERVER ? '' : ` (${REDIS_MISSING})`}`, () => {
  const tmp = tempDir('svdflow-faults-');
  const root = makeRoot(join(tmp.dir, 'root'));
  let redis: RedisHandle;
  const started: WorkerHandle[] = [];
  const worker = async (url: string, extra: string[] = []) => {
    const w = await startWorker(url, root, extra);
    started.push(w);
    return w;
  };

  beforeAll(async () => {
    redis = await startRedis();
    mkdirSync(join(root, 'videos'));
    copyFileSync(join(root, 'data/video/synthetic/clip.mp4'), join(root, 'videos/a.mp4'));
    const local = await cli(['run', 'pipelines/video-background.yaml', '--set', 'video=videos/a.mp4', '--out', 'local/a'], root);
    expect(local.code, local.stderr).toBe(0);
  });
  // a failed test must not leave a worker that takes the next test's job
  afterEach(async () => {
    await Promise.all(started.splice(0).map((w) => w.stop('SIGKILL')));
  });
  afterAll(async () => {
    await killAll();
    tmp.cleanup();
  });

  /** the flow's one output folder holds the local run's files, each listed in run.json byte for byte */
  const sameAsLocal = (out: string) => {
    const dir = join(root, out, 'a');
    const listing = (d: string) => readdirSync(d).filter((n) => !n.startsWith('.')).sort();
    // a queued child writes no report.html nor previews (only with --report): the local run's other entries
    expect(listing(dir)).toEqual(listing(join(root, 'local/a')).filter((n) => n !== 'report.html' && n !== 'report-media'));
    for (const f of OUTPUTS) expect(listing(dir)).toContain(f);
    const local = JSON.parse(readFileSync(join(root, 'local/a/run.json'), 'utf8'));
    const m = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    const files = (x: { files: Array<{ path: string }> }) => x.files.map((f) => f.path).sort();
    expect(files(m)).toEqual(files(local));
    for (const f of files(local)) expect(readFileSync(join(dir, f)).equals(readFileSync(join(root, 'local/a', f))), f).toBe(true);
    const flow = JSON.parse(readFileSync(join(root, out, 'flow.json'), 'utf8'));
    expect(flow.children.length).toBe(1);
  };
  const jobStarted = (w: WorkerHandle) => /"msg":"job started"[^\n]*"label":"videos\/a.mp4"|"label":"videos\/a.mp4"[^\n]*"msg":"job started"/.test(w.log());
  const submit = (out: string) => cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'videos/a.mp4', '--out', out], root);

  it('kill -9 of the worker mid-job: another worker reruns it, the flow completes, outputs equal the local run', async () => {
    const [w1, w2] = [await worker(redis.url), await worker(redis.url)];
    const run = submit('out/kill');
    await until(() => jobStarted(w1) || jobStarted(w2), 'a worker to start the job');
    const [a, b] = jobStarted(w1) ? [w1, w2] : [w2, w1];
    // at once: the job takes about a second on a quiet machine, so a fixed wait could outlast it
    a.proc.kill('SIGKILL');
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`:${b.proc.pid})`);
    expect(r.stderr).toContain('stalled');
    sameAsLocal('out/kill');
  });

  it('a worker that loses its Redis connection mid-job: the job runs again elsewhere, the flow completes, the worker reconnects', async () => {
    const proxy = new CuttableProxy(redis.port);
    const port = await proxy.start();
    try {
      const a = await worker(`redis://127.0.0.1:${port}`);
      const run = submit('out/cut');
      await until(() => jobStarted(a), 'worker A to start the job');
      await proxy.cut();
      const b = await worker(redis.url);
      await new Promise((r) => setTimeout(r, 10_000)); // > 2 lock periods without Redis
      await proxy.restore();
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      sameAsLocal('out/cut');
      expect(a.proc.exitCode).toBe(null); // still running, reconnected
      expect(a.log()).toContain('queue connection problem');
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      await proxy.close();
    }
  });

  it('SIGTERM with --grace 0 hands the running job back (exit 130); the next worker completes it', async () => {
    const a = await worker(redis.url, ['--grace', '0']);
    const run = submit('out/term');
    await until(() => jobStarted(a), 'worker A to start the job');
    a.proc.kill('SIGTERM'); // at once, while the job (about a second on a quiet machine) runs
    expect(await a.exited).toBe(130);
    expect(a.log()).toContain('1 job handed back');
    expect(existsSync(join(root, 'out/term/a/mask.mp4'))).toBe(false);
    const b = await worker(redis.url);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`:${b.proc.pid})`);
    sameAsLocal('out/term');
    await b.stop();
  });

  it('SIGTERM within the grace period lets the running job finish, then the worker exits', async () => {
    const a = await worker(redis.url, ['--grace', '120']);
    const run = submit('out/finish');
    await until(() => jobStarted(a), 'worker A to start the job');
    a.proc.kill('SIGTERM');
    expect(await a.exited).toBe(130);
    expect(a.log()).toContain('"msg":"job done"');
    expect(a.log()).not.toContain('handed back');
    // the flow's parent (collecting the results) runs on the next worker
    await worker(redis.url);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`(videos/a.mp4, worker ${a.id})`);
    sameAsLocal('out/finish');
  });
});
