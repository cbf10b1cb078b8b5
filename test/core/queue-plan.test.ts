/**
 * Flow plans (no Redis): which variable --each sets, manifests, output folders per input,
 * paths relative to the root, the PCA chain --shards needs, and job data that workers refuse.
 */
import { describe, it, expect } from 'vitest';
import { mkdirSync, writeFileSync, copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline } from '../../src/core/pipeline.js';
import { defaultRegistry } from '../../src/stages/index.js';
import { planEach, planPca, inputVariable } from '../../src/core/queue/plan.js';
import { jobData } from '../../src/core/queue/jobs.js';
import { processJob } from '../../src/core/queue/process.js';
import { silentLogger } from '../../src/core/logging.js';
import { ROOT, tempDir } from '../helpers.js';

describe('queue flow plans', () => {
  const tmp = tempDir('svdflow-plan-');
  const root = tmp.dir;
  mkdirSync(join(root, 'pipelines'));
  mkdirSync(join(root, 'videos'));
  for (const f of ['video-background.yaml', 'stamps-pca.yaml']) copyFileSync(join(ROOT, 'pipelines', f), join(root, 'pipelines', f));
  for (const n of ['b', 'a', 'a10', 'a2']) writeFileSync(join(root, 'videos', `${n}.mp4`), '');
  const video = () => loadPipeline(join(root, 'pipelines/video-background.yaml'), defaultRegistry(), { checkFiles: false });

  it('--each sets the variable that names the source step\'s path, one output folder per input, in natural order', () => {
    const p = video();
    expect(inputVariable(p)).toBe('video');
    const plan = planEach(p, { root, file: join(root, 'pipelines/video-background.yaml'), set: ['groundTruth=../gt'], out: join(root, 'out/v'), each: [join(root, 'videos/*.mp4')] });
    expect(plan.children.map((c) => c.label)).toEqual(['videos/a.mp4', 'videos/a2.mp4', 'videos/a10.mp4', 'videos/b.mp4']);
    expect(plan.children.map((c) => (c as { out: string }).out)).toEqual(['out/v/a', 'out/v/a2', 'out/v/a10', 'out/v/b']);
    expect(plan.children[0]!.pipeline.set).toEqual(['groundTruth=../gt', 'video=../videos/a.mp4']);
    expect(plan.children[0]!.pipeline.path).toBe('pipelines/video-background.yaml');
  });

  it('a manifest: paths relative to it, or NAME=VALUE pairs; same names get -2', () => {
    writeFileSync(join(root, 'videos/list.txt'), '# inputs\na.mp4\nb.mp4   # second\n\nvideo=a.mp4 groundTruth=../gt2\n');
    const plan = planEach(video(), { root, file: join(root, 'pipelines/video-background.yaml'), set: [], out: join(root, 'out/m'), manifest: join(root, 'videos/list.txt') });
    expect(plan.children.map((c) => (c as { out: string }).out)).toEqual(['out/m/a', 'out/m/b', 'out/m/a_gt2']);
    expect(plan.children[2]!.pipeline.set).toEqual(['video=../videos/a.mp4', 'groundTruth=../gt2']);
    writeFileSync(join(root, 'videos/bad.txt'), 'vdeo=a.mp4\n');
    expect(() => planEach(video(), { root, file: join(root, 'pipelines/video-background.yaml'), set: [], out: join(root, 'out/m'), manifest: join(root, 'videos/bad.txt') })).toThrow("videos/bad.txt:1: the pipeline has no variable 'vdeo'");
  });

  it('inputs and outputs outside the root are refused before anything is queued', () => {
    const other = tempDir('svdflow-plan-out-');
    try {
      writeFileSync(join(other.dir, 'x.mp4'), '');
      expect(() => planEach(video(), { root, file: join(root, 'pipelines/video-background.yaml'), set: [], out: join(root, 'out/x'), each: [join(other.dir, 'x.mp4')] })).toThrow(`--each: input ${join(other.dir, 'x.mp4')} is outside the shared root`);
      expect(() => planEach(video(), { root, file: join(root, 'pipelines/video-background.yaml'), set: [], out: join(other.dir, 'out'), each: [join(root, 'videos/a.mp4')] })).toThrow('output folder');
    } finally {
      other.cleanup();
    }
  });

  it('--shards needs load → [normalize] → stack → center { mode: row } → svd', () => {
    mkdirSync(join(root, 'data'), { recursive: true });
    const f = join(root, 'pipelines/stamps-pca.yaml');
    const p = loadPipeline(f, defaultRegistry(), { checkFiles: false, set: ['centred.mode=global'] });
    expect(() => planPca(p, { root, file: f, set: [], out: join(root, 'out/p'), shards: 2 })).toThrow("--shards: step 'centred' centres by global, expected mode: row (the mean image)");
    expect(() => planPca(video(), { root, file: f, set: [], out: join(root, 'out/p'), shards: 2 })).toThrow('--shards needs one svd step');
  });

  it('workers refuse job data that is not a svdflow job (unknown kinds, absolute or .. paths)', () => {
    const base = { kind: 'run', pipeline: { path: 'pipelines/x.yaml', text: 'steps: []', set: [] }, out: 'out/x', label: 'x' };
    expect(jobData.safeParse(base).success).toBe(true);
    expect(jobData.safeParse({ ...base, kind: 'exec' }).success).toBe(false);
    expect(jobData.safeParse({ ...base, out: '/etc' }).success).toBe(false);
    expect(jobData.safeParse({ ...base, out: 'out/../../etc' }).success).toBe(false);
    expect(jobData.safeParse({ ...base, code: 'process.exit()' }).success).toBe(false);
  });

  it('a queued run writes report.html and its WebM previews only when submitted with --report', async () => {
    const plan = (report: boolean) => planEach(video(), { root, file: join(root, 'pipelines/video-background.yaml'), set: [], out: join(root, `out/r-${report}`), each: [join(root, 'videos/a.mp4')], report });
    expect(plan(false).children[0]).not.toHaveProperty('report');
    expect(plan(true).children[0]).toMatchObject({ report: true });
    copyFileSync(join(ROOT, 'data/video/synthetic/clip.mp4'), join(root, 'videos/clip.mp4'));
    writeFileSync(join(root, 'pipelines/masks.yaml'), 'name: masks\nsteps:\n  - { id: frames, stage: decode, params: { path: ../videos/clip.mp4, color: gray, end: 29 } }\n  - { id: batches, stage: batch-frames, params: { size: 15 } }\n  - { id: model, stage: background-model, params: { checkpointEvery: 0 } }\n  - { id: mask, stage: write-video, input: model, params: { layer: mask, path: mask.mp4, segmentFrames: 0 } }\n');
    const ctx = { root, registry: defaultRegistry(), log: silentLogger(), signal: new AbortController().signal };
    for (const report of [false, true]) {
      const data = jobData.parse({ kind: 'run', pipeline: { path: 'pipelines/masks.yaml', text: (await import('node:fs')).readFileSync(join(root, 'pipelines/masks.yaml'), 'utf8'), set: [] }, out: `out/job-${report}`, label: 'clip', ...(report ? { report } : {}) });
      await processJob({ id: `j-${report}`, data, children: async () => [], progress: async () => undefined }, ctx);
      const entries = readdirSync(join(root, `out/job-${report}`));
      expect(entries).toContain('mask.mp4');
      expect(existsSync(join(root, `out/job-${report}/report.html`)), `report ${report}`).toBe(report);
      expect(entries.includes('report-media'), `previews ${report}`).toBe(report);
    }
  });
});
