import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, tempDir, until } from '../helpers.js';
import { runPipelineFile } from '../../src/index.js';
import { listStates, consumersNext } from '../../src/core/video/io/checkpoints.js';
import { resumeState } from '../../src/core/video/resume.js';
import { consumers, loadPipeline } from '../../src/core/pipeline.js';
import { defaultRegistry } from '../../src/stages/index.js';
import { ffmpegPath } from '../../src/core/video/io/ffmpeg.js';

const FILE = join(ROOT, 'pipelines/video-background.yaml');
const tmp = tempDir('svdflow-vbg-');
afterAll(() => tmp.cleanup());

/** ffmpeg processes started from this test process */
/**
 * ffmpeg processes whose parent is this test process, read from /proc (Linux) so that the
 * count never depends on pgrep being installed (a missing pgrep used to count as 0 and pass).
 */
function ffmpegChildren(): number {
  const ff = ffmpegPath();
  if (!existsSync('/proc/self/stat')) throw new Error('ffmpegChildren: /proc is missing, so the ffmpeg children of the test cannot be counted on this system');
  let n = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === ff) n++;
    } catch {
      // the process ended between the listing and the read: not a child any more
    }
  }
  return n;
}

const OUTPUTS = ['mask.mp4', 'background.mp4', 'foreground.mp4', 'frame-panels.png', 'background.png', 'scores.json', 'objects.jsonl', 'foreground.csv'];
/** the bundled clip's exact masks: scoring is on only when ground truth is given */
const SCORED = [`groundTruth=${join(ROOT, 'data', 'video', 'synthetic')}`];
/** 3 passes of the clip (360 frames) so that a run can be stopped half-way */
const LONG = ['frames.loop=2', ...SCORED];

describe('pipelines/video-background.yaml', () => {
  it('ffmpegChildren counts a running ffmpeg child (the control that lets the checks below fail)', async () => {
    // reads raw frames from stdin: stays alive until killed
    const child = spawn(ffmpegPath(), ['-hide_banner', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', '2x2', '-i', '-', '-f', 'null', '-']);
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await until(() => ffmpegChildren() === 1, 'the ffmpeg child to be counted');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(ffmpegChildren()).toBe(0);
  });
  it('runs on the bundled clip: F above 0.9, videos and the final background written', async () => {
    const out = join(tmp.dir, 'plain');
    const r = await runPipelineFile(FILE, { outDir: out, progress: false, set: SCORED });
    expect(r.status).toBe('succeeded');
    expect(r.skipped).toEqual([]);
    for (const f of OUTPUTS) expect(existsSync(join(out, f))).toBe(true);
    const s = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8'));
    expect(s.fMeasure).toBeGreaterThan(0.9);
    expect(s.frames).toBe(120);
  });

  it('resume after an interruption yields the same outputs as an uninterrupted run', async () => {
    const full = join(tmp.dir, 'full');
    await runPipelineFile(FILE, { outDir: full, set: LONG, progress: false });
    const cut = join(tmp.dir, 'cut');
    const ac = new AbortController();
    // interrupt once the model has a saved state after frame 0 that every step reading it has passed (a resume point)
    const model = join(cut, '.checkpoints', 'model');
    const users = [...new Set(consumers(loadPipeline(FILE, defaultRegistry(), { set: LONG })).get('model')!.map((u) => u.step))];
    const watch = setInterval(() => {
      const at = resumeState(listStates(model), consumersNext(model, users));
      if (at && at.next > 0) ac.abort('test interruption');
    }, 5);
    await expect(runPipelineFile(FILE, { outDir: cut, set: LONG, progress: false, signal: ac.signal })).rejects.toThrow(/run cancelled/);
    clearInterval(watch);
    for (const f of OUTPUTS) expect(existsSync(join(cut, f))).toBe(false);
    expect(readdirSync(cut).filter((f) => f.includes('svdflow-tmp'))).toEqual([]);
    expect(ffmpegChildren()).toBe(0);
    const r = await runPipelineFile(FILE, { outDir: cut, set: LONG, progress: false, resume: true });
    expect(r.status).toBe('succeeded');
    const decoded = r.steps.find((s) => s.id === 'model')!;
    expect(decoded.itemsOut).toBeLessThan(12); // it did not redo every batch
    for (const f of OUTPUTS) expect(readFileSync(join(cut, f)).equals(readFileSync(join(full, f))), f).toBe(true);
  }, 60_000);

  it('a failing stage leaves no ffmpeg process and no half-written output', async () => {
    const out = join(tmp.dir, 'fail');
    await expect(runPipelineFile(FILE, { outDir: out, set: [...LONG, `groundTruth=${join(ROOT, 'test', 'does-not-exist')}`], progress: false })).rejects.toThrow(/input file not found|ground-truth folder not found/);
    const bad = join(tmp.dir, 'fail2');
    // the mask writer fails at its first frame (no container for .xyz) while ffmpeg decodes
    await expect(runPipelineFile(FILE, { outDir: bad, set: [...LONG, 'mask-video.path=mask.xyz'], progress: false })).rejects.toThrow("write-video cannot tell the container of 'mask.xyz'");
    await until(() => ffmpegChildren() === 0, 'no ffmpeg child left');
    expect(existsSync(bad) ? readdirSync(bad).filter((f) => !f.startsWith('.')) : []).toEqual([]);
  });

  it("a user's own video (odd size, AVI) with no ground truth: videos written, scoring skipped and listed as skipped", async () => {
    const clip = join(tmp.dir, 'my clip.avi');
    execFileSync(ffmpegPath(), ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=97x61:rate=10', '-t', '11', '-c:v', 'mpeg4', clip]);
    const out = join(tmp.dir, 'own');
    const r = await runPipelineFile(FILE, { outDir: out, progress: false, set: [`video=${clip}`] });
    for (const f of ['mask.mp4', 'background.mp4', 'background.png']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'scores.json'))).toBe(false);
    expect(r.steps.find((s) => s.id === 'frames')!.itemsOut).toBe(110); // frame-panels shows frames 20, 60, 100 (a shorter clip: those past its end left out, its last frame if none came)
    expect(r.skipped).toEqual([{ id: 'scores', stage: 'evaluate-masks', reason: 'when: ${groundTruth} is null' }]);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).skipped).toEqual(r.skipped);
  });
});
