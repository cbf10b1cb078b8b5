/**
 * Distributed runs on a real Redis (redis-server started here, no persistence) with two
 * `svdflow worker` processes: each flow's outputs against the local run of the same work.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, existsSync, readdirSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { tempDir } from '../helpers.js';
import { REDIS_SERVER, REDIS_MISSING, startRedis, startWorker, cli, makeRoot, killAll, type RedisHandle, type WorkerHandle } from './harness.js';

function csvRows(file: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const keys = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i]!, v])));
}

function tempFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.includes('svdflow-tmp')) out.push(join(d, e.name));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

describe.skipIf(!REDIS_SERVER)(`queue flows on a real Redis${REDIS_SERVER ? '' : ` (${REDIS_MISSING})`}`, () => {
  const tmp = tempDir('svdflow-queue-');
  const root = makeRoot(join(tmp.dir, 'root'));
  let redis: RedisHandle;
  const workers: WorkerHandle[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    workers.push(await startWorker(redis.url, root), await startWorker(redis.url, root));
    mkdirSync(join(root, 'videos'));
    for (const n of ['a', 'b']) copyFileSync(join(root, 'data/video/synthetic/clip.mp4'), join(root, 'videos', `${n}.mp4`));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await killAll();
    tmp.cleanup();
  });

  it('--each over two videos on two workers: every output byte-identical to the local runs, flow.json lists both', async () => {
    const r = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'videos/*.mp4', '--out', 'out/each'], root);
    expect(r.stderr).toMatch(/flow each-[0-9a-f]{16}: 2 inputs, queued/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote \d+ files to out\/each\/a\/, plus run.json \(the manifest\)/);
    expect(r.stdout).toContain('✔ 2 runs (0 already done)');
    for (const n of ['a', 'b']) {
      const local = await cli(['run', 'pipelines/video-background.yaml', '--set', `video=videos/${n}.mp4`, '--out', `local/${n}`], root);
      expect(local.code, local.stderr).toBe(0);
      const listed = JSON.parse(readFileSync(join(root, 'local', n, 'run.json'), 'utf8')).files.map((f: { path: string }) => f.path) as string[];
      expect(listed).toEqual(expect.arrayContaining(['mask.mp4', 'background.mp4', 'background.png', 'scores.json']));
      for (const f of listed) expect(readFileSync(join(root, 'out/each', n, f)).equals(readFileSync(join(root, 'local', n, f))), `${n}/${f}`).toBe(true);
      const manifest = JSON.parse(readFileSync(join(root, 'out/each', n, 'run.json'), 'utf8'));
      expect(manifest.status).toBe('succeeded');
      const localManifest = JSON.parse(readFileSync(join(root, 'local', n, 'run.json'), 'utf8'));
      expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(localManifest.files.map((f: { path: string }) => f.path).sort());
      // a queued child writes no report.html nor WebM previews unless submitted with --report: the local run's other entries, exactly
      const views = ['report.html', 'report-media'];
      expect(readdirSync(join(root, 'local', n))).toEqual(expect.arrayContaining(views));
      expect(readdirSync(join(root, 'out/each', n)).filter((x) => !x.startsWith('.')).sort()).toEqual(readdirSync(join(root, 'local', n)).filter((x) => !x.startsWith('.') && !views.includes(x)).sort());
    }
    // on request, later: svdflow report DIR writes the page from the child's folder
    const rep = await cli(['report', 'out/each/a'], root);
    expect(rep.code, rep.stderr).toBe(0);
    expect(readFileSync(join(root, 'out/each/a/report.html'), 'utf8')).toContain('mask.mp4');
    const flow = JSON.parse(readFileSync(join(root, 'out/each/flow.json'), 'utf8'));
    expect(flow.children.map((c: { label: string }) => c.label)).toEqual(['videos/a.mp4', 'videos/b.mp4']);
    expect(tempFiles(join(root, 'out'))).toEqual([]);

    // the same command again: the flow is finished, nothing is redone
    const again = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'videos/*.mp4', '--out', 'out/each'], root);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already finished; nothing to redo');
    // with Redis emptied, the children answer from their output folders
    const c = new Redis(redis.url);
    await c.flushall();
    c.disconnect();
    const third = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'videos/*.mp4', '--out', 'out/each'], root);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('✔ 2 runs (2 already done)');
    // the finished children kept no checkpoints; with --keep-checkpoints (refused with --queue before) each keeps its own, as a local run
    expect(existsSync(join(root, 'out/each/a/.checkpoints'))).toBe(false);
    const kept = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'videos/a.mp4', '--out', 'out/each-kept', '--keep-checkpoints'], root);
    expect(kept.code, kept.stderr).toBe(0);
    const local = await cli(['run', 'pipelines/video-background.yaml', '--set', 'video=videos/a.mp4', '--out', 'local/a-kept', '--keep-checkpoints'], root);
    expect(local.code, local.stderr).toBe(0);
    const cps = (d: string) => readdirSync(join(root, d, '.checkpoints')).sort();
    expect(cps('out/each-kept/a')).toEqual(cps('local/a-kept'));
    expect(cps('out/each-kept/a')).toContain('mask-video');
  });

  it('--shards 3: collection PCA of the stamps equals the local run (singular values 1e-8, coordinates up to sign); shard files removed', async () => {
    const r = await cli(['run', 'pipelines/stamps-pca.yaml', '--queue', redis.url, '--shards', '3', '--out', 'out/pca'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✔ stamps-pca: finished/);
    const local = await cli(['run', 'pipelines/stamps-pca.yaml', '--out', 'local/pca'], root);
    expect(local.code, local.stderr).toBe(0);
    const a = csvRows(join(root, 'out/pca/pca-variance.csv'));
    const b = csvRows(join(root, 'local/pca/pca-variance.csv'));
    expect(a.length).toBe(21);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) {
      for (const k of ['singularValue', 'variance', 'ratio', 'cumulative']) expect(Math.abs(+a[i]![k]! - +b[i]![k]!) / Math.abs(+b[i]![k]!), `${k}[${i}]`).toBeLessThan(1e-8);
    }
    const ca = csvRows(join(root, 'out/pca/pca-coordinates.csv'));
    const cb = csvRows(join(root, 'local/pca/pca-coordinates.csv'));
    expect(ca.map((x) => x.image)).toEqual(cb.map((x) => x.image));
    for (const k of ['pc1', 'pc2', 'pc3', 'pc4', 'pc5']) {
      const sign = Math.sign(+ca[0]![k]!) * Math.sign(+cb[0]![k]!);
      for (let j = 0; j < ca.length; j++) expect(Math.abs(sign * +ca[j]![k]! - +cb[j]![k]!), `${k}[${j}]`).toBeLessThan(1e-8 * Math.max(1, Math.abs(+cb[j]![k]!)));
    }
    const manifest = JSON.parse(readFileSync(join(root, 'out/pca/run.json'), 'utf8'));
    const localManifest = JSON.parse(readFileSync(join(root, 'local/pca/run.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(localManifest.files.map((f: { path: string }) => f.path).sort());
    expect(existsSync(join(root, 'out/pca/.shards'))).toBe(false);
  });

  it('--segments 2: one video as two segment jobs (the plan of --workers), stitched by the parent; every file equals the local --workers 2 run', async () => {
    writeFileSync(
      join(root, 'pipelines/video-seg.yaml'),
      readFileSync(join(root, 'pipelines/video-background.yaml'), 'utf8').replace(/\nsteps:[\s\S]*$/, `
steps:
  - { id: frames, stage: decode, params: { path: "\${video}", color: gray } }
  - { id: batches, stage: batch-frames, params: { size: 30 } }
  - { id: model, stage: background-model, params: { rank: 2, checkpointEvery: 0 } }
  - { id: mask-video, stage: write-video, input: model, params: { layer: mask, path: mask.mp4 } }
  - { id: background-video, stage: write-video, input: model, params: { layer: background, path: background.mp4 } }
  - { id: scores, stage: evaluate-masks, input: model, params: { groundTruth: "\${groundTruth}" } }
`),
    );
    const r = await cli(['run', 'pipelines/video-seg.yaml', '--queue', redis.url, '--segments', '2', '--out', 'out/seg'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/flow segments-[0-9a-f]{16}: 2 segments, queued/);
    const local = await cli(['run', 'pipelines/video-seg.yaml', '--workers', '2', '--out', 'local/seg'], root);
    expect(local.code, local.stderr).toBe(0);
    const files = (d: string) => (JSON.parse(readFileSync(join(root, d, 'run.json'), 'utf8')).files as Array<{ path: string }>).map((f) => f.path).sort();
    expect(files('out/seg')).toEqual(files('local/seg'));
    expect(files('out/seg')).toEqual(['background.mp4', 'mask.mp4', 'scores.json']);
    for (const f of files('local/seg')) expect(readFileSync(join(root, 'out/seg', f)).equals(readFileSync(join(root, 'local/seg', f))), f).toBe(true);
    const scores = JSON.parse(readFileSync(join(root, 'out/seg/scores.json'), 'utf8'));
    expect(scores.frames).toBe(120);
    expect(existsSync(join(root, 'out/seg/.segments'))).toBe(false);
    // run again (another threshold: another job, not 'already done') over those files: the ones it replaced are not
    // kept aside (.NAME.svdflow-old-*); the folder holds the outputs, run.json, the report and the queue's job marker
    const again = await cli(['run', 'pipelines/video-seg.yaml', '--queue', redis.url, '--segments', '2', '--out', 'out/seg', '--set', 'model.threshold=0.2'], root);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'out/seg/run.json'), 'utf8')).steps.find((s: { id: string }) => s.id === 'model').params.threshold).toBe(0.2);
    expect(readdirSync(join(root, 'out/seg')).sort()).toEqual(['.svdflow-job.json', 'background.mp4', 'mask.mp4', 'report-media', 'report.html', 'run.json', 'scores.json']);
  });

  it('--segments refuses to write an output over an input of the run, as the local run does (the input byte-identical, no copy kept aside)', async () => {
    mkdirSync(join(root, 'qin'));
    const input = join(root, 'qin', 'background.mp4'); // the input video, in --out under the name of an output
    copyFileSync(join(root, 'data/video/synthetic/clip.mp4'), input);
    const before = readFileSync(input);
    const r = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--segments', '2', '--out', 'qin', '--set', 'video=qin/background.mp4'], root);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`output file ${input} is an input of this run; writing it would destroy the input`);
    expect(readFileSync(input).equals(before)).toBe(true);
    expect(readdirSync(join(root, 'qin')).filter((n) => !n.startsWith('.segments')).sort()).toEqual(['background.mp4']);
  });

  it('--segments: the stitch removes only the segment folders it made (a user\'s file in .segments/ stays)', async () => {
    mkdirSync(join(root, 'qseg', '.segments'), { recursive: true });
    writeFileSync(join(root, 'qseg', '.segments', 'notes.txt'), 'a file of the user\'s');
    const r = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--segments', '2', '--out', 'qseg'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(root, 'qseg', '.segments'))).toEqual(['notes.txt']);
    expect(readFileSync(join(root, 'qseg', '.segments', 'notes.txt'), 'utf8')).toBe('a file of the user\'s');
  });

  it('--detach prints the flow id; svdflow status reports it', async () => {
    const r = await cli(['run', 'pipelines/stamps-pca.yaml', '--queue', redis.url, '--shards', '2', '--out', 'out/pca2', '--detach'], root);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^pca-[0-9a-f]{16}$/);
    let s = await cli(['status', id, '--redis', redis.url], root);
    for (let i = 0; i < 600 && !/: completed;/.test(s.stdout); i++) {
      await new Promise((res) => setTimeout(res, 250));
      s = await cli(['status', id, '--redis', redis.url], root);
    }
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(`flow ${id}: completed; 2/2 jobs completed`);
    expect(s.stdout).toContain('shard 1 (images 1-11)');
    expect(s.stdout).toMatch(/✔ stamps-pca: finished/);
    const unknown = await cli(['status', 'pca-0000000000000000', '--redis', redis.url], root);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no flow pca-0000000000000000 in this queue');
  });

  it('a bad input fails the flow naming the job and the file, at once (no retries), and writes nothing there', async () => {
    mkdirSync(join(root, 'bad'));
    copyFileSync(join(root, 'videos/a.mp4'), join(root, 'bad/good.mp4'));
    writeFileSync(join(root, 'bad/broken.mp4'), 'this is not a video\n');
    const r = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'bad/*.mp4', '--out', 'out/bad'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/flow each-[0-9a-f]+ failed: job each-[0-9a-f]+-c0000 \(bad\/broken\.mp4\) failed: bad\/broken\.mp4: /);
    expect(readdirSync(join(root, 'out/bad')).filter((n) => n !== 'good')).toEqual(readdirSync(join(root, 'out/bad')).includes('broken') ? ['broken'] : []);
    if (existsSync(join(root, 'out/bad/broken'))) expect(readdirSync(join(root, 'out/bad/broken')).filter((n) => !n.startsWith('.'))).toEqual([]);
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const q = new Queue('svdflow', { connection: conn });
    const job = (await q.getJobs(['failed'])).find((j) => j.data.label === 'bad/broken.mp4');
    expect(job?.attemptsMade).toBe(1);
    await q.close();
    conn.disconnect();
  });

  it('workers confine every read and write to --root: a job naming a path outside fails, naming it', async () => {
    const outside = tempDir('svdflow-outside-');
    try {
      copyFileSync(join(root, 'videos/a.mp4'), join(outside.dir, 'x.mp4'));
      // the submitter refuses at once (exit 2)
      const r = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', join(outside.dir, 'x.mp4'), '--out', 'out/x'], root);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--each: input ${join(outside.dir, 'x.mp4')} is outside the shared root`);
      // a job crafted by hand (a job is data) is refused by the worker, for reads and for writes
      const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
      const q = new Queue('svdflow', { connection: conn });
      const text = readFileSync(join(root, 'pipelines/video-background.yaml'), 'utf8');
      const read = await q.add('run', { kind: 'run', pipeline: { path: 'pipelines/video-background.yaml', text, set: [`video=${join(outside.dir, 'x.mp4')}`] }, out: 'out/read', label: 'read-outside' }, { attempts: 1 });
      const write = await q.add('run', { kind: 'run', pipeline: { path: 'pipelines/video-background.yaml', text, set: [`final-background.path=${join(outside.dir, 'bg.png')}`] }, out: 'out/write', label: 'write-outside' }, { attempts: 1 });
      const code = await q.add('run', { kind: 'run', pipeline: { path: 'pipelines/video-background.yaml', text, set: [] }, out: '../escape', label: 'x' }, { attempts: 1 });
      const settle = async (id: string) => {
        for (let i = 0; i < 600; i++) {
          const j = await q.getJob(id);
          const st = await j!.getState();
          // read the job again: the object fetched before the state changed has no failedReason yet
          if (st === 'failed' || st === 'completed') return (await q.getJob(id))!;
          await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error('job did not settle');
      };
      expect((await settle(read.id!)).failedReason).toContain(`step frames: input ${join(outside.dir, 'x.mp4')} is outside the shared root`);
      // an absolute output path is refused when the worker validates the pipeline (before any run-time confinement)
      expect((await settle(write.id!)).failedReason).toMatch(/is an absolute path: outputs go under the output folder|is outside the shared root/);
      expect((await settle(code.id!)).failedReason).toContain('is not a svdflow job: out: must be a path relative to the root');
      expect(existsSync(join(outside.dir, 'bg.png'))).toBe(false);
      await q.close();
      conn.disconnect();
    } finally {
      outside.cleanup();
    }
  });

  it('passwords (redis://:pw@) and TLS (rediss://) work; a wrong password fails at once', async () => {
    const pw = await startRedis(['--requirepass', 's3cret'], 'redis', ':s3cret@');
    const certs = join(tmp.dir, 'tls');
    mkdirSync(certs);
    const { spawnSync } = await import('node:child_process');
    const o = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(o.status, o.stderr).toBe(0);
    const tls = await startRedis(['--tls-cert-file', join(certs, 'cert.pem'), '--tls-key-file', join(certs, 'key.pem'), '--tls-ca-cert-file', join(certs, 'cert.pem'), '--tls-auth-clients', 'no', '--requirepass', 'tls-pw'], 'rediss', ':tls-pw@');
    const env = { NODE_EXTRA_CA_CERTS: join(certs, 'cert.pem') };
    const extra: WorkerHandle[] = [];
    try {
      extra.push(await startWorker(pw.url, root), await startWorker(tls.url, root, [], env));
      for (const [url, e, out] of [[pw.url, {}, 'out/pw'], [tls.url, env, 'out/tls']] as const) {
        const r = await cli(['run', 'pipelines/stamps-pca.yaml', '--queue', url, '--shards', '2', '--out', out], root, e);
        expect(r.code, r.stderr).toBe(0);
        expect(existsSync(join(root, out, 'pca-variance.csv'))).toBe(true);
      }
      expect(extra[1]!.log()).not.toContain('tls-pw');
      expect(extra[1]!.log()).toContain('rediss://:***@127.0.0.1');
      const wrong = await cli(['run', 'pipelines/stamps-pca.yaml', '--queue', pw.url.replace('s3cret', 'wrong'), '--shards', '2', '--out', 'out/pw2'], root);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('cannot reach Redis at redis://:***@127.0.0.1');
      expect(wrong.stderr).toContain('WRONGPASS');
    } finally {
      await Promise.all(extra.map((w) => w.stop()));
      await pw.stop();
      await tls.stop();
    }
  });

  it('usage errors: --each without --queue, and --queue without a mode, exit 2', async () => {
    const a = await cli(['run', 'pipelines/video-background.yaml', '--each', 'videos/*.mp4'], root);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--each runs on queue workers and needs --queue URL');
    const b = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url], root);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--queue needs --each GLOB, --manifest FILE, --shards N or --segments N');
    const c = await cli(['run', 'pipelines/video-background.yaml', '--queue', 'http://x'], root);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('the scheme must be redis:// or rediss://');
  });
});
