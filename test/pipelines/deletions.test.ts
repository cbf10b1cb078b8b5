/**
 * What a run may delete or overwrite in its output folder (reviews of the cleanup after a successful
 * run): never an input, never through a symbolic link, never another live run's state, only state
 * positively told to be this run's. Every case lists the folder (names, hashes) before and after.
 * Needs the built CLI (npm run build).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CLI, ROOT, cli, requireCli, tempDir } from '../helpers.js';

const FILE = join(ROOT, 'pipelines/video-background.yaml');
const IMAGE = join(ROOT, 'pipelines/image-compress.yaml');
const CLIP = join(ROOT, 'data/video/synthetic/clip.mp4');
const tmp = tempDir('svdflow-deletions-');
afterAll(() => tmp.cleanup());

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const listing = (d: string) => readdirSync(d).sort();
/** every file below `d` (not following links) with its sha256 */
function tree(d: string, pre = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const rel = pre + e.name;
    if (e.isSymbolicLink()) out[rel] = 'link';
    else if (e.isDirectory()) Object.assign(out, tree(join(d, e.name), rel + '/'));
    else out[rel] = sha(join(d, e.name));
  }
  return out;
}
/** a folder of the user's with files in sub-folders */
function userFolder(d: string, subs: string[]): Record<string, string> {
  for (const sub of subs) {
    mkdirSync(join(d, sub), { recursive: true });
    writeFileSync(join(d, sub, 'user.txt'), `a file of the user's in ${sub}`);
  }
  return tree(d);
}
const OUTPUTS = ['background.mp4', 'background.png', 'foreground.csv', 'foreground.mp4', 'frame-panels.png', 'mask.mp4', 'objects.jsonl', 'report-media', 'report.html', 'run.json'];


describe('deletions and overwrites after a run', () => {
  it('--workers refuses to write an output over an input of the run, as the local run does (exit 1, same message; the input byte-identical)', () => {
    requireCli();
    expect(CLI).toContain('dist');
    const dir = join(tmp.dir, 'in');
    mkdirSync(dir);
    const input = join(dir, 'mask.mp4'); // the input video, in --out under the name of the pipeline's mask output
    copyFileSync(CLIP, input);
    const before = sha(CLIP);
    const message = `output file ${input} is an input of this run; writing it would destroy the input`;
    const local = cli(['run', FILE, '--out', dir, '--set', `video=${input}`, '--no-progress']);
    expect(local.code, local.err).toBe(1);
    expect(local.err).toContain(message);
    expect(sha(input)).toBe(before);
    const workers = cli(['run', FILE, '--workers', '2', '--out', dir, '--set', `video=${input}`, '--no-progress']);
    expect(workers.code, workers.err).toBe(1);
    expect(workers.err).toContain(message);
    expect(workers.err).toContain('→ pass another --out, or give the output another name');
    expect(sha(input)).toBe(before);
    // nothing of the refused runs in place of an output, no copy kept aside: the input, and the state their --resume would read
    expect(listing(dir)).toEqual(['.checkpoints', '.segments', 'mask.mp4']);
  }, 180_000);

  it('a symbolic link as .checkpoints or .segments is never followed: a run that would write there refuses at start, nothing outside --out written or deleted; a local run leaves a linked .segments alone', () => {
    const victim = join(tmp.dir, 'victim');
    const before = userFolder(victim, ['frames', 'model', 'panels']);
    const out = join(tmp.dir, 'linked');
    mkdirSync(out);
    symlinkSync(victim, join(out, '.checkpoints'));
    const refusal = `${join(out, '.checkpoints')} is a symbolic link (to ${victim})`;
    // a local run (it would clear its steps' checkpoint folders and write its fingerprint there)
    const local = cli(['run', FILE, '--out', out, '--no-progress']);
    expect(local.code, local.err).toBe(1);
    expect(local.err).toContain(refusal);
    expect(local.err).toContain('→ remove the link from the output folder, or pass another --out');
    // --workers (it would remove a superseded local run's checkpoints there)
    const workers = cli(['run', FILE, '--workers', '2', '--out', out, '--no-progress']);
    expect(workers.code, workers.err).toBe(1);
    expect(workers.err).toContain(refusal);
    expect(tree(victim)).toEqual(before);
    expect(listing(out)).toEqual(['.checkpoints']);
    // a linked .segments: --workers refuses; a local run succeeds and leaves the link and its target as they were
    const victim2 = join(tmp.dir, 'victim2');
    const before2 = userFolder(victim2, ['seg-0', 'seg-1']);
    writeFileSync(join(victim2, 'plan.json'), '{}');
    const out2 = join(tmp.dir, 'linked2');
    mkdirSync(out2);
    symlinkSync(victim2, join(out2, '.segments'));
    const w2 = cli(['run', FILE, '--workers', '2', '--out', out2, '--no-progress']);
    expect(w2.code, w2.err).toBe(1);
    expect(w2.err).toContain(`${join(out2, '.segments')} is a symbolic link (to ${victim2})`);
    const l2 = cli(['run', IMAGE, '--out', out2, '--no-progress']);
    expect(l2.code, l2.err).toBe(0);
    expect(tree(out2)['.segments']).toBe('link');
    expect(tree(victim2)).toEqual({ ...before2, 'plan.json': sha(join(victim2, 'plan.json')) });
  }, 180_000);

  it('--workers holds .svdflow.lock on --out: refused while a live run holds it, that run\'s checkpoints untouched', () => {
    const out = join(tmp.dir, 'locked');
    const before = userFolder(join(out, '.checkpoints'), ['model', 'panels', 'mask-video']);
    // a live run's lock: this test process's pid on this host
    writeFileSync(join(out, '.svdflow.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
    const r = cli(['run', FILE, '--workers', '2', '--out', out, '--no-progress']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`another svdflow run (pid ${process.pid}, started now) is writing to ${out}`);
    expect(tree(join(out, '.checkpoints'))).toEqual(before);
    expect(listing(out)).toEqual(['.checkpoints', '.svdflow.lock']);
  }, 120_000);

  it('cleanup only on a positive match: a user\'s .segments stays; a --workers run\'s finished segments are kept by --keep-checkpoints, and removed (names it made only) by a run of the same pipeline; other params refuse --resume', () => {
    // a user's .segments (plan.json and seg-0 without a fingerprint) is not removed by a run that succeeds
    const out0 = join(tmp.dir, 'user-segments');
    const before0 = userFolder(join(out0, '.segments'), ['seg-0']);
    writeFileSync(join(out0, '.segments', 'plan.json'), '{"version":1}');
    const before0b = tree(join(out0, '.segments'));
    expect(Object.keys(before0b)).toEqual([...Object.keys(before0), 'plan.json'].sort());
    const r0 = cli(['run', IMAGE, '--out', out0, '--no-progress']);
    expect(r0.code, r0.err).toBe(0);
    expect(tree(join(out0, '.segments'))).toEqual(before0b);

    // a --workers run whose segments finished but whose stitch could not put its files in place (a folder named mask.mp4)
    const out = join(tmp.dir, 'segments');
    mkdirSync(join(out, 'mask.mp4'), { recursive: true });
    const failed = cli(['run', FILE, '--workers', '2', '--out', out, '--no-progress']);
    expect(failed.code, failed.err).toBe(1);
    expect(failed.err).toContain('cannot write mask.mp4: the output folder has a folder of that name');
    rmdirSync(join(out, 'mask.mp4'));
    // (with the stitcher's work files: the concat lists of the videos it was joining)
    expect(listing(join(out, '.segments'))).toEqual(['background-video-concat.txt', 'fingerprint.json', 'foreground-video-concat.txt', 'mask-video-concat.txt', 'plan.json', 'seg-0', 'seg-1']);
    for (const k of [0, 1]) expect(existsSync(join(out, '.segments', `seg-${k}`, 'run.json'))).toBe(true);
    // --resume with another threshold: those finished segments are not reused (they were made with 0.12)
    const other = cli(['run', FILE, '--workers', '2', '--out', out, '--resume', '--set', 'model.threshold=0.5', '--no-progress']);
    expect(other.code, other.err).toBe(2);
    expect(other.err).toContain(`--resume: the segments in ${join(out, '.segments')} were made by a different run: params of step 'model' changed: threshold 0.12 → 0.5`);
    expect(listing(out)).toEqual(['.segments']);
    writeFileSync(join(out, '.segments', 'notes.txt'), 'a file of the user\'s');
    const segs = tree(join(out, '.segments'));
    // a local run of the same pipeline with --keep-checkpoints keeps that resume state too
    const kept = cli(['run', FILE, '--out', out, '--keep-checkpoints', '--no-progress']);
    expect(kept.code, kept.err).toBe(0);
    expect(tree(join(out, '.segments'))).toEqual(segs);
    // a segment folder whose lock names a live process (a worker still writing): all of it stays
    const lock = join(out, '.segments', 'seg-0', '.svdflow.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
    const live = cli(['run', FILE, '--out', out, '--no-progress']);
    expect(live.code, live.err).toBe(0);
    expect(tree(join(out, '.segments'))).toEqual({ ...segs, 'seg-0/.svdflow.lock': sha(lock) });
    rmSync(lock);
    // without it, the same pipeline's run removes what the --workers run made there, and only that
    const plain = cli(['run', FILE, '--out', out, '--no-progress']);
    expect(plain.code, plain.err).toBe(0);
    expect(listing(out)).toEqual(['.segments', ...OUTPUTS].sort());
    expect(listing(join(out, '.segments'))).toEqual(['notes.txt']);
  }, 300_000);

  it('--workers removes, of an interrupted local run\'s checkpoints, only the folders of the steps that checkpointed (a user\'s files in other step folders stay)', () => {
    const out = join(tmp.dir, 'steps');
    // a local run of the pipeline that failed at its end (a folder named mask.mp4): its checkpoints and fingerprint stay
    mkdirSync(join(out, 'mask.mp4'), { recursive: true });
    const failed = cli(['run', FILE, '--out', out, '--no-progress']);
    expect(failed.code, failed.err).toBe(1);
    rmdirSync(join(out, 'mask.mp4'));
    const fp = JSON.parse(readFileSync(join(out, '.checkpoints', 'fingerprint.json'), 'utf8')) as { checkpointSteps: string[] };
    const stepDirs = listing(join(out, '.checkpoints')).filter((n) => n !== 'fingerprint.json');
    for (const d of stepDirs) expect(fp.checkpointSteps).toContain(d); // (model asked for its folder but saved no state yet)
    expect(fp.checkpointSteps).not.toContain('frames');
    expect(fp.checkpointSteps).not.toContain('batches');
    // a user's files in the folders of steps that do not checkpoint
    const user = userFolder(join(out, '.checkpoints'), ['frames', 'batches']);
    const theirs = Object.fromEntries(Object.entries(user).filter(([k]) => k.startsWith('frames/') || k.startsWith('batches/')));
    const r = cli(['run', FILE, '--workers', '2', '--out', out, '--no-progress']);
    expect(r.code, r.err).toBe(0);
    expect(tree(join(out, '.checkpoints'))).toEqual(theirs);
    expect(listing(out)).toEqual(['.checkpoints', ...OUTPUTS].sort());
  }, 300_000);

  it('a crash between commit and cleanup: a later run that writes the same files removes the copies a dead process kept aside of them, and nothing else', () => {
    const out = join(tmp.dir, 'crashed');
    const first = cli(['run', IMAGE, '--out', out, '--no-progress']);
    expect(first.code, first.err).toBe(0);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has ended
    const kept = {
      gone: `.turtle-gray-k36.png.svdflow-old-${dead}-3.png`, // a dead process's copy of a file the next run writes: removed
      live: `.turtle-gray-k36.png.svdflow-old-${process.pid}-4.png`, // a live process's (its run may still roll back): stays
      other: `.photo.png.svdflow-old-${dead}-1.png`, // of a file the next run does not write (maybe the only copy): stays
      odd: `.turtle-gray-k36.png.svdflow-old-${dead}-2.jpg`, // not the name commitAll makes: stays
    };
    for (const n of Object.values(kept)) writeFileSync(join(out, n), n);
    const before = listing(out);
    const again = cli(['run', IMAGE, '--out', out, '--no-progress']);
    expect(again.code, again.err).toBe(0);
    expect(listing(out)).toEqual(before.filter((n) => n !== kept.gone));
    for (const n of [kept.live, kept.other, kept.odd]) expect(readFileSync(join(out, n), 'utf8')).toBe(n);
  }, 120_000);
});
