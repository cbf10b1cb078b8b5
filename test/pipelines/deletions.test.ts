/**
 * What a run may delete or overwrite in its output folder (reviews of the cleanup after a successful
 * run): never an input, never through a symbolic link, never another live run's state, only state
 * positively told to be this run's. Every case lists the folder (names, hashes) before and after.
 * Needs the built CLI (npm run build).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CLI, ROOT, cli, requireCli, tempDir } from '../helpers.js';

const FILE = join(ROOT, 'pipelines/video-background.yaml');
const CLIP = join(ROOT, 'data/video/synthetic/clip.mp4');
const tmp = tempDir('svdflow-deletions-');
afterAll(() => tmp.cleanup());

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const listing = (d: string) => readdirSync(d).sort();

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
});
