/**
 * Segment parallelism (--workers N): the same pipeline split into time segments run
 * by worker processes, outputs stitched in frame order. Needs the built CLI (npm run build).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { CLI, ROOT, hasShared, shared, sharedMissingMessage, tempDir } from '../helpers.js';
import { runPipelineFile } from '../../src/index.js';
import { planDecode, decodeFrames } from '../../src/core/video/io/decode.js';
import { listStates, consumersNext } from '../../src/core/video/io/checkpoints.js';
import { consumers, loadPipeline } from '../../src/core/pipeline.js';
import { defaultRegistry } from '../../src/stages/index.js';
import { resumeState } from '../../src/core/video/resume.js';

const FILE = join(ROOT, 'pipelines/video-background.yaml');
/** video-background scores only when given ground truth (its groundTruth variable is null by default) */
const GT = `groundTruth=${join(ROOT, 'data', 'video', 'synthetic')}`;
const tmp = tempDir('svdflow-vseg-');
afterAll(() => tmp.cleanup());

const OUTPUTS = ['mask.mp4', 'background.mp4', 'foreground.mp4', 'frame-panels.png', 'background.png', 'scores.json', 'objects.jsonl', 'foreground.csv'];
const scoresOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as { fMeasure: number; frames: number; tp: number; fp: number; fn: number; tn: number; segments?: number };
async function frames(video: string) {
  const plan = await planDecode({ path: video, color: 'gray' });
  return lastValueFrom(decodeFrames(plan, video).pipe(toArray()));
}

describe('--workers N on the bundled clip', () => {
  it('2 and 3 workers: F no lower than one pass (within 0.005), every frame once in order, the first segment identical to one pass', async () => {
    const one = join(tmp.dir, 'one');
    await runPipelineFile(FILE, { outDir: one, progress: false, set: [GT] });
    const ref = scoresOf(one);
    const refMask = await frames(join(one, 'mask.mp4'));
    expect(refMask.length).toBe(120);
    for (const workers of [2, 3]) {
      const out = join(tmp.dir, `w${workers}`);
      const r = await runPipelineFile(FILE, { outDir: out, progress: false, workers, set: [GT] });
      expect(r.status).toBe('succeeded');
      for (const f of OUTPUTS) expect(existsSync(join(out, f)), f).toBe(true);
      const s = scoresOf(out);
      expect(s.segments).toBe(workers);
      expect(s.frames).toBe(120); // confusion counts of every segment summed, every ground-truth frame once
      expect(s.tp + s.fp + s.fn + s.tn).toBe(ref.tp + ref.fp + ref.fn + ref.tn);
      // every segment starts as a one-pass run from its warm-up frame would (first batch, then the seed): within 0.005
      expect(Math.abs(s.fMeasure - ref.fMeasure), `F ${s.fMeasure} vs one pass ${ref.fMeasure}`).toBeLessThanOrEqual(0.005);
      const mask = await frames(join(out, 'mask.mp4'));
      const bg = await frames(join(out, 'background.mp4'));
      expect([mask.length, bg.length]).toEqual([120, 120]);
      // the manifest's description counts the joined video's frames, not its first segment's
      const described = JSON.parse(readFileSync(r.manifest, 'utf8')).files.find((f: { path: string }) => f.path === 'mask.mp4').description as string;
      expect(described).toBe(`mask video, 120 frames (${workers} segments joined)`);
      // segment 0 has no warm-up: its frames are the one-pass frames (the stitching keeps frame order)
      const first = JSON.parse(readFileSync(r.manifest, 'utf8')).segments[1].start as number;
      for (let i = 0; i < first; i++) expect(Buffer.from(mask[i]!.data).equals(Buffer.from(refMask[i]!.data)), `frame ${i}`).toBe(true);
      // and later frames are masks of the same objects (mean absolute difference of 0/255 masks small)
      let diff = 0;
      for (let i = first; i < 120; i++) for (let p = 0; p < mask[i]!.data.length; p++) diff += Math.abs(mask[i]!.data[p]! - refMask[i]!.data[p]!) > 127 ? 1 : 0;
      expect(diff / ((120 - first) * 160 * 120)).toBeLessThan(0.01);
      // object lines of every segment, in frame order, and one CSV header
      const lines = readFileSync(join(out, 'objects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { frame: number });
      expect(lines.map((l) => l.frame)).toEqual(Array.from({ length: 120 }, (_, i) => i));
      const csv = readFileSync(join(out, 'foreground.csv'), 'utf8').trim().split('\n');
      expect([csv.length, csv.filter((l) => l.startsWith('frame')).length]).toEqual([121, 1]);
      expect(existsSync(join(out, '.segments'))).toBe(false);
    }
  }, 120_000);

  it('resume per segment: an interrupted segmented run continues and gives the same files as an uninterrupted one', async () => {
    // a short seed window: no state is saved before the seed, and this test needs early resume points in both segments
    const set = ['frames.loop=2', 'model.seedWindow=30', GT];
    const full = join(tmp.dir, 'seg-full');
    await runPipelineFile(FILE, { outDir: full, set, progress: false, workers: 2 });
    const cut = join(tmp.dir, 'seg-cut');
    const ac = new AbortController();
    // interrupt once each segment has a model state that every consumer of it has passed (a resume point)
    const model = (k: number) => join(cut, '.segments', `seg-${k}`, '.checkpoints', 'model');
    const users = [...new Set(consumers(loadPipeline(FILE, defaultRegistry(), { set })).get('model')!.map((u) => u.step))];
    const watch = setInterval(() => {
      const ready = [0, 1].map((k) => {
        const limit = consumersNext(model(k), users);
        return limit !== undefined && resumeState(listStates(model(k)), limit) !== undefined;
      });
      if (ready.every(Boolean)) ac.abort('test interruption');
    }, 5);
    await expect(runPipelineFile(FILE, { outDir: cut, set, progress: false, workers: 2, signal: ac.signal })).rejects.toThrow(/cancel|interrupt/i);
    clearInterval(watch);
    for (const f of OUTPUTS) expect(existsSync(join(cut, f))).toBe(false);
    expect(existsSync(join(cut, '.segments', 'plan.json'))).toBe(true);
    const r = await runPipelineFile(FILE, { outDir: cut, set, progress: false, workers: 2, resume: true });
    expect(r.status).toBe('succeeded');
    const m = r.steps.find((s) => s.id === 'model')!;
    expect(m.itemsOut).toBeLessThan(12); // 360 frames = 12 batches: the resumed workers did not redo them all
    for (const f of OUTPUTS) expect(readFileSync(join(cut, f)).equals(readFileSync(join(full, f))), f).toBe(true);
    // --resume with another worker count is refused (its plan differs)
    const again = join(tmp.dir, 'seg-again');
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort('stop'), 1500);
    await runPipelineFile(FILE, { outDir: again, set, progress: false, workers: 2, signal: ac2.signal }).catch(() => undefined);
    if (existsSync(join(again, '.segments', 'plan.json'))) await expect(runPipelineFile(FILE, { outDir: again, set, progress: false, workers: 3, resume: true })).rejects.toThrow(/the segment plan in .* differs from this run's/);
  }, 180_000);

  it('a successful run leaves only its outputs: no .segments/ of the interrupted --workers run it supersedes, no files it replaced kept aside; other state stays', async () => {
    const set = ['frames.loop=2', 'model.seedWindow=30', GT];
    const out = join(tmp.dir, 'tidy');
    const listing = () => readdirSync(out).sort();
    const expected = [...OUTPUTS, 'report-media', 'report.html', 'run.json'].sort();
    // 1. a --workers 2 run interrupted once both segments have saved state (their checkpoints' fingerprint.json)
    const ac = new AbortController();
    const fp = (k: number) => join(out, '.segments', `seg-${k}`, '.checkpoints', 'fingerprint.json');
    const watch = setInterval(() => { if (existsSync(fp(0)) && existsSync(fp(1))) ac.abort('test interruption'); }, 5);
    await expect(runPipelineFile(FILE, { outDir: out, set, progress: false, workers: 2, signal: ac.signal })).rejects.toThrow(/cancel|interrupt/i);
    clearInterval(watch);
    expect(existsSync(join(out, '.segments', 'plan.json'))).toBe(true); // what --resume needs stays
    // 2. the same pipeline run without --workers: it supersedes that run, whose .segments/ goes
    await runPipelineFile(FILE, { outDir: out, set, progress: false });
    expect(listing()).toEqual(expected);
    // 3. --workers 2 over those outputs: every file replaced, none kept aside (.NAME.svdflow-old-*), no .segments/
    const r = await runPipelineFile(FILE, { outDir: out, set, progress: false, workers: 2 });
    expect(r.files.map((f) => f.path).sort()).toEqual(OUTPUTS.map((f) => join(out, f)).sort());
    expect(listing()).toEqual(expected);
    // 4. a --workers 2 run over the checkpoints of an interrupted local run of this pipeline removes them too
    const ac2 = new AbortController();
    const localFp = join(out, '.checkpoints', 'fingerprint.json');
    const watch2 = setInterval(() => { if (existsSync(localFp)) ac2.abort('test interruption'); }, 5);
    await expect(runPipelineFile(FILE, { outDir: out, set, progress: false, signal: ac2.signal })).rejects.toThrow(/cancel|interrupt/i);
    clearInterval(watch2);
    expect(existsSync(localFp)).toBe(true);
    writeFileSync(join(out, '.checkpoints', 'mine.txt'), 'a file of the user\'s');
    await runPipelineFile(FILE, { outDir: out, set, progress: false, workers: 2 });
    expect(listing()).toEqual(['.checkpoints', ...expected]);
    expect(readdirSync(join(out, '.checkpoints'))).toEqual(['mine.txt']);
    // 5. a .segments/ that another pipeline's (other params') interrupted run left is not this run's to remove
    rmSync(join(out, '.checkpoints'), { recursive: true });
    const other = join(tmp.dir, 'tidy-other');
    const ac3 = new AbortController();
    const ofp = (k: number) => join(other, '.segments', `seg-${k}`, '.checkpoints', 'fingerprint.json');
    const watch3 = setInterval(() => { if (existsSync(ofp(0)) && existsSync(ofp(1))) ac3.abort('test interruption'); }, 5);
    await expect(runPipelineFile(FILE, { outDir: other, set: [...set, 'model.threshold=0.2'], progress: false, workers: 2, signal: ac3.signal })).rejects.toThrow(/cancel|interrupt/i);
    clearInterval(watch3);
    await runPipelineFile(FILE, { outDir: other, set, progress: false });
    expect(existsSync(join(other, '.segments', 'plan.json'))).toBe(true);
  }, 240_000);

  it('the CLI refuses a bad worker count and pipelines that cannot be split, saying why (exit 2)', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const a = run(['run', FILE, '--workers', '0', '--out', join(tmp.dir, 'x')]);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--workers 0 is not a worker count');
    const b = run(['run', join(ROOT, 'pipelines/image-compress.yaml'), '--workers', '2', '--out', join(tmp.dir, 'y')]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--workers splits a video: the pipeline needs exactly one source step, a decode/);
  });
});

describe.skipIf(!hasShared)('--workers 2 on CDnet (shared data)', () => {
  it.each(['highway', 'CAVIAR2'])('%s: F with 2 segments is within 0.005 of one pass', async (seq) => {
    if (!existsSync(shared(`cdnet/${seq}`))) return console.warn(sharedMissingMessage(`cdnet/${seq}`));
    const set = [`sequence=${shared(`cdnet/${seq}/input/in%06d.jpg`)}`, `groundTruth=${shared(`cdnet/${seq}`)}`, 'final-background.last=true'];
    const file = join(ROOT, 'pipelines/video-cdnet-highway.yaml');
    const one = join(tmp.dir, `${seq}-1`), two = join(tmp.dir, `${seq}-2`);
    await runPipelineFile(file, { outDir: one, set, progress: false });
    await runPipelineFile(file, { outDir: two, set, progress: false, workers: 2 });
    const [f1, f2] = [scoresOf(one), scoresOf(two)];
    console.log(`${seq}: F one pass ${f1.fMeasure.toFixed(4)}, 2 segments ${f2.fMeasure.toFixed(4)} (${f2.frames} scored frames)`);
    expect(f2.frames).toBe(f1.frames);
    // #16's goal: segments (each seeded from the median of frames spread over its first seedWindow frames, then
    // updated over the rest of its warm-up) score as one pass does; before the seed, highway's one pass kept a
    // ghost of its first batch for all 1700 frames and the segments scored 0.016 higher
    expect(Math.abs(f2.fMeasure - f1.fMeasure)).toBeLessThanOrEqual(0.005);
    expect((await frames(join(two, 'mask.mp4'))).length).toBe((await frames(join(one, 'mask.mp4'))).length);
  }, 300_000);
});
