/**
 * Paths given with `set` (#13 item 4) resolve against the current directory everywhere a user
 * gives them: the CLI (test/pipelines/image-compress.test.ts), the TypeScript API
 * (`runPipelineFile(file, { set, cwd })`, cwd defaulting to process.cwd()), and `svdflow run
 * --queue`, which sends them to the workers relative to the pipeline file under --root and
 * refuses a path outside --root before anything is queued.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { runPipelineFile, loadPipeline, rebaseSetPaths, defaultRegistry } from '../../src/index.js';
import { ROOT, tempDir } from '../helpers.js';
import { REDIS_SERVER, REDIS_MISSING, startRedis, startWorker, cli, makeRoot, killAll, type RedisHandle, type WorkerHandle } from './harness.js';

const PIPE = join(ROOT, 'pipelines', 'image-compress.yaml');
const tmp = tempDir('svdflow-setpaths-');
afterAll(() => tmp.cleanup());

describe('--set paths from the TypeScript API', () => {
  const photos = join(tmp.dir, 'my photos');
  beforeAll(async () => {
    mkdirSync(photos, { recursive: true });
    const W = 61, H = 47, px = Buffer.alloc(W * H * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7) % 251;
    await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(photos, 'odd photo.png'));
  });

  it('resolve against the cwd option; without it against process.cwd(); never against the pipeline folder', async () => {
    const a = join(tmp.dir, 'a');
    const r = await runPipelineFile(PIPE, { outDir: a, progress: false, set: ['input=odd photo.png'], cwd: photos });
    const png = r.files.map((f) => f.path).find((f) => f.endsWith('.png'))!;
    expect(relative(a, png)).toMatch(/^odd photo-gray-k\d+\.png$/);
    expect((await sharp(png).metadata()).width).toBe(61); // the user's photo, not the bundled turtle
    // default: the process's current directory, as from a shell
    const fromHere = relative(process.cwd(), join(photos, 'odd photo.png'));
    expect(fromHere.startsWith('/')).toBe(false);
    const b = join(tmp.dir, 'b');
    await runPipelineFile(PIPE, { outDir: b, progress: false, set: [`input=${fromHere}`] });
    expect(existsSync(join(b, relative(a, png)))).toBe(true);
    // control: the same relative name from another folder is not found, and the message says where it looked
    const e = await runPipelineFile(PIPE, { outDir: join(tmp.dir, 'c'), progress: false, set: ['input=odd photo.png'], cwd: tmp.dir }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    // shown from the cwd option, as the caller gave it (not from this process's folder), and the hint names that folder
    expect((e as Error).message).toContain('input file not found: odd photo.png (set by --set input=odd photo.png)');
    expect((e as { issues?: Array<{ hint?: string }> }).issues?.[0]?.hint).toContain(`relative to ${tmp.dir} (the cwd option)`);
    expect(existsSync(join(tmp.dir, 'c'))).toBe(false);
  }, 120_000);

  it('rebaseSetPaths rewrites only the entries that name input paths (variables and step.param)', () => {
    const p = loadPipeline(PIPE, defaultRegistry(), { set: ['input=odd photo.png', 'percent=10', 'image.mode=rgb'], cwd: photos });
    expect(p.setPaths).toEqual({ input: join(photos, 'odd photo.png') });
    expect(rebaseSetPaths(p, ['input=odd photo.png', 'percent=10'], (abs) => `<${abs}>`)).toEqual([`input=<${join(photos, 'odd photo.png')}>`, 'percent=10']);
    const q = loadPipeline(PIPE, defaultRegistry(), { set: ['image.path=odd photo.png'], cwd: photos });
    expect(q.setPaths).toEqual({ 'image.path': join(photos, 'odd photo.png') });
  });
});

describe('svdflow run --queue: --set paths as the shell gives them', () => {
  const root = join(tmp.dir, 'root');
  beforeAll(() => {
    makeRoot(root);
    // the repo's own video-background.yaml: no ground truth unless --set gives it
    copyFileSync(join(ROOT, 'pipelines', 'video-background.yaml'), join(root, 'pipelines', 'video-background.yaml'));
  });

  it('a --set path outside --root is refused before anything is queued (exit 2, naming it)', async () => {
    // no Redis at this port: the refusal comes first
    const r = await cli(['run', 'pipelines/video-background.yaml', '--queue', 'redis://127.0.0.1:9', '--each', 'data/video/synthetic/clip.mp4', '--set', `groundTruth=${join(ROOT, 'data', 'video', 'synthetic')}`, '--root', root], root);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--set groundTruth: ${join(ROOT, 'data', 'video', 'synthetic')} is outside the shared root ${root}`);
    expect(r.stderr).not.toMatch(/ECONNREFUSED|connect/);
  });

  describe.skipIf(!REDIS_SERVER)(`on a real Redis${REDIS_SERVER ? '' : ` (${REDIS_MISSING})`}`, () => {
    let redis: RedisHandle;
    let worker: WorkerHandle;
    beforeAll(async () => {
      redis = await startRedis();
      worker = await startWorker(redis.url, root);
    });
    afterAll(async () => {
      await worker?.stop();
      await killAll();
    });

    it('a relative --set path reaches the worker as the same folder (here: scores against the masks)', async () => {
      // from the root, data/video/synthetic; relative to the pipeline file it would be pipelines/data/…
      const r = await cli(['run', 'pipelines/video-background.yaml', '--queue', redis.url, '--each', 'data/video/synthetic/clip.mp4', '--set', 'groundTruth=data/video/synthetic', '--out', 'out/q'], root);
      expect(r.code, r.stderr).toBe(0);
      const flow = JSON.parse(readFileSync(join(root, 'out/q/flow.json'), 'utf8'));
      expect(JSON.stringify(flow)).not.toContain('pipelines/data');
      const run = JSON.parse(readFileSync(join(root, 'out/q/clip/run.json'), 'utf8'));
      expect(run.files.map((f: { path: string }) => f.path)).toContain('scores.json');
      const scores = JSON.parse(readFileSync(join(root, 'out/q/clip/scores.json'), 'utf8'));
      expect(scores.fMeasure ?? scores.f ?? scores.F).toBeGreaterThan(0.5);
    }, 180_000);
  });
});
