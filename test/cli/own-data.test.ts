/**
 * A user's own data and paths (the new-user trial's flaws with own point clouds, curves and globs):
 * --set globs relative to the current folder, ICP/registration results a user can read, hints in
 * --set form. Each case checks exact lines or written values against a known answer.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, requireCli, ROOT, tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  requireCli();
  tmp = tempDir('svdflow own data-');
});
afterAll(() => tmp.cleanup());

const PCA = join(ROOT, 'pipelines', 'stamps-pca.yaml');

describe('--set globs are relative to the current folder, as every --set path', () => {
  it("a quoted relative glob (images='faces/*.jpg') reads the current folder's faces/, not the pipeline's", () => {
    const faces = join(tmp.dir, 'cwd', 'faces');
    mkdirSync(faces, { recursive: true });
    for (const n of ['im_00', 'im_01', 'im_02', 'im_03']) copyFileSync(join(ROOT, 'data', 'stamps', `${n}.jpg`), join(faces, `${n}.jpg`));
    const out = join(tmp.dir, 'o-glob');
    const r = cli(['run', PCA, '--set', 'images=faces/*.jpg', '--set', 'ranks=[1]', '--out', out, '--no-progress'], { cwd: join(tmp.dir, 'cwd') });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'pca-report.json'), 'utf8'));
    expect(rep.values.images).toBe(4);
    expect(rep.name).toBe('faces-pca');
    expect(r.out).toContain('PCA metrics: faces\n');
  });

  it('a relative glob whose folder is missing names the folder under the current one, and the hint says where --set paths point', () => {
    const r = cli(['run', PCA, '--set', 'images=nope/*.jpg', '--out', join(tmp.dir, 'o-nope')], { cwd: join(tmp.dir, 'cwd') });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`folder not found for glob ${join(tmp.dir, 'cwd', 'nope')}/*.jpg: ${join(tmp.dir, 'cwd', 'nope')}\n`);
    expect(r.err).toContain('→ check the path (paths in a pipeline file are relative to its folder; paths given with --set are relative to the current directory)\n');
    expect(r.err).not.toContain(join(ROOT, 'pipelines', 'nope'));
  });
});
