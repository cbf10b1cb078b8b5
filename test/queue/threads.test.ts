/**
 * svdflow worker --threads N: the worker's thread budget (src/core/threads.ts) is what its jobs
 * run with: a queued run's run.json and a segment job's say so (a real Redis, a real worker).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { REDIS_SERVER, REDIS_MISSING, startRedis, startWorker, cli, makeRoot, killAll, type RedisHandle, type WorkerHandle } from './harness.js';

describe.skipIf(!REDIS_SERVER)(`svdflow worker --threads${REDIS_SERVER ? '' : ` (${REDIS_MISSING})`}`, () => {
  const tmp = tempDir('svdflow-qthreads-');
  const root = makeRoot(join(tmp.dir, 'root'));
  let redis: RedisHandle;
  let worker: WorkerHandle;
  beforeAll(async () => {
    redis = await startRedis();
    worker = await startWorker(redis.url, root, ['--threads', '1']);
    mkdirSync(join(root, 'videos'));
    copyFileSync(join(root, 'data/video/synthetic/clip.mp4'), join(root, 'videos', 'a.mp4'));
  });
  afterAll(async () => {
    await worker?.stop();
    await killAll();
    tmp.cleanup();
  });

  it('jobs run with the worker\'s budget: pool 1, no team helpers, one decoder thread', async () => {
    expect(worker.log()).toMatch(/concurrency 1, threads 1; stop with/);
    const want = { budget: 1, pool: 1, team: 0, modelThread: true, decoder: 1 };
    const each = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'videos/a.mp4', '--out', 'out/each'], root);
    expect(each.code, each.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'out/each/a/run.json'), 'utf8')).threads).toEqual(want);
    const seg = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--segments', '2', '--out', 'out/seg'], root);
    expect(seg.code, seg.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(root, 'out/seg/run.json'), 'utf8')) as { queue: { segments: Array<{ threads?: unknown }> } };
    expect(m.queue.segments.map((s) => s.threads)).toEqual([want, want]);
  }, 120_000);
});
