/**
 * The image-collection PCA job on the 22 bundled stamps (data/stamps, 139 x 170 RGB):
 * reconstruction at r = n, errors implied by the singular values, generation at an image's
 * coordinates, and the pipeline's outputs and error messages.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { lastValueFrom, of, toArray, map } from 'rxjs';
import { ROOT, CLI, tempDir } from '../helpers.js';
import { runPipelineFile } from '../../src/index.js';
import { load } from '../../src/stages/load.js';
import { normalize } from '../../src/stages/normalize.js';
import { center } from '../../src/stages/center.js';
import { svd } from '../../src/stages/svd.js';
import { reconstruct } from '../../src/stages/reconstruct.js';
import { stack } from '../../src/stages/stack.js';
import { unstack } from '../../src/stages/unstack.js';
import { generate } from '../../src/stages/generate.js';
import { batchRelativeError } from '../../src/stages/compare-sheet.js';
import { pcaModel, explainedVariance, principalCoordinates } from '../../src/core/pca/model.js';
import type { Factorization, ImageBatch, Image, MatrixValue } from '../../src/core/ports.js';

const STAMPS = join(ROOT, 'data', 'stamps');
const PIPE = join(ROOT, 'pipelines', 'stamps-pca.yaml');

function maxAbsDiff(a: Image[], b: Image[]): number {
  let m = 0;
  a.forEach((im, j) => im.planes.forEach((p, c) => p.data.forEach((v, i) => (m = Math.max(m, Math.abs(v - b[j]!.planes[c]!.data[i]!))))));
  return m;
}

async function recon(f: Factorization, rank: number | number[], clamp: boolean): Promise<ImageBatch[]> {
  return lastValueFrom(of(f).pipe(reconstruct({ rank, clamp }), map((v) => v as MatrixValue), unstack(), toArray()));
}

let images: ImageBatch;
let exact: Factorization;
let gram: Factorization;

beforeAll(async () => {
  images = (await lastValueFrom(load({ path: STAMPS }).pipe(map((v) => v as ImageBatch), normalize({ by: 'dtype' })))) as ImageBatch;
  const X = await lastValueFrom(of(images).pipe(stack(), center({ mode: 'row' })));
  exact = await lastValueFrom(of(X as MatrixValue).pipe(svd({ solver: 'exact' })));
  gram = await lastValueFrom(of(X as MatrixValue).pipe(svd({ solver: 'gram', rank: 21 })));
});

describe('stamps PCA (22 x 70,890)', () => {
  it('stacks 22 images of 139 x 170 x 3 into a 70,890 x 22 matrix and factorises it by both routes', () => {
    expect(images.images).toHaveLength(22);
    expect(exact.factors[0]!.U.rows).toBe(70890);
    expect(exact.factors[0]!.s.length).toBe(22);
    expect(exact.solver).toBe('exact');
    expect(gram.solver).toBe('gram');
    const se = exact.factors[0]!.s, sg = gram.factors[0]!.s;
    for (let i = 0; i < 21; i++) expect(Math.abs(sg[i]! - se[i]!)).toBeLessThan(1e-9 * se[0]!);
    // centring leaves rank n - 1: the last exact singular value is zero to rounding
    expect(se[21]! / se[0]!).toBeLessThan(1e-12);
  });

  it('reconstructs the input at r = n (exact) and r = n - 1 (gram) to 1e-9', async () => {
    const [full] = await recon(exact, 22, false);
    expect(maxAbsDiff(full!.images, images.images)).toBeLessThan(1e-9);
    const [g] = await recon(gram, 21, false);
    expect(maxAbsDiff(g!.images, images.images)).toBeLessThan(1e-9);
  });

  it('has the relative errors at r = 1 and 3 implied by the singular values (clamped: about 0.257 and 0.177, as NumPy)', async () => {
    const ev = explainedVariance(pcaModel(gram));
    const raw = await recon(gram, [1, 3], false);
    const clamped = await recon(gram, [1, 3], true);
    expect(raw.map((b) => b.name)).toEqual(['stamps-r1', 'stamps-r3']);
    const implied = [ev.relErrorOriginal[0]!, ev.relErrorOriginal[2]!];
    raw.forEach((b, i) => expect(Math.abs(batchRelativeError(b.images, images.images) - implied[i]!)).toBeLessThan(1e-9));
    // NumPy on the same JPEGs (PIL decoder): 0.257387 and 0.176834 clamped, 0.257407 and 0.176933 unclamped
    const e = clamped.map((b) => batchRelativeError(b.images, images.images));
    expect(e[0]).toBeCloseTo(0.2574, 3);
    expect(e[1]).toBeCloseTo(0.1768, 3);
    expect(implied[0]).toBeCloseTo(0.2574, 3);
    expect(implied[1]).toBeCloseTo(0.1769, 3);
    // clamping to [0, 1] can only move values towards the originals
    e.forEach((x, i) => expect(x).toBeLessThanOrEqual(implied[i]! + 1e-12));
  });

  it("generates, at stamp i's first r coordinates, stamp i's rank-r reconstruction", async () => {
    const m = pcaModel(gram);
    const C = principalCoordinates(m, 3);
    const picks = [0, 7, 21];
    const gen = await lastValueFrom(of(gram).pipe(generate({ from: 'coordinates', coordinates: picks.map((j) => Array.from(C.row(j))) })));
    const [r3] = await recon(gram, [3], true);
    picks.forEach((j, q) => expect(maxAbsDiff([gen.images[q]!], [r3!.images[j]!])).toBeLessThan(1e-12));
    // and the ends of a path are the two images' reconstructions from every kept component
    const path = await lastValueFrom(of(gram).pipe(generate({ from: 'path', between: ['im_00', 'im_11'], steps: 3 })));
    expect(maxAbsDiff([path.images[0]!, path.images[2]!], [images.images[0]!, images.images[11]!])).toBeLessThan(1e-9);
  });
});

describe('pipelines/stamps-pca.yaml', () => {
  const tmp = tempDir('svdflow-stamps-');
  afterAll(() => tmp.cleanup());

  it('writes the sheets, report, scatter and generated images', async () => {
    const out = join(tmp.dir, 'out');
    const r = await runPipelineFile(PIPE, { outDir: out, progress: false });
    for (const f of ['reconstructions.png', 'pca-variance.csv', 'pca-variance.svg', 'pca-coordinates.csv', 'pca-mean.png', 'pca-eigenimages.png', 'pca-scatter.svg', 'pca-report.json', 'generated-grid.png', 'generated-path.png', 'generated/path_im_00_im_21_t0.00.png']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const cmp = r.files.find((f) => f.path.endsWith('reconstructions.png'))!;
    const errs = [...cmp.description!.matchAll(/rel\. error ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(errs).toHaveLength(3);
    expect(errs[0]).toBeCloseTo(0.2574, 3);
    expect(errs[1]).toBeCloseTo(0.1768, 3);
    expect(errs[2]).toBeLessThan(errs[1]!);
    const report = JSON.parse(readFileSync(join(out, 'pca-report.json'), 'utf8'));
    expect(report.values).toMatchObject({ images: 22, dim: 70890, rank: 21, solver: 'gram' });
    const svg = readFileSync(join(out, 'pca-scatter.svg'), 'utf8');
    expect(svg.match(/<image /g)).toHaveLength(23); // 22 stamps and the mean image
    expect(svg).toContain('>mean</text>');
  });

  it('gives clear errors for an empty folder, mixed sizes and a non-image file', async () => {
    const dir = (name: string) => { const d = join(tmp.dir, name); mkdirSync(d, { recursive: true }); return d; };
    const empty = dir('empty');
    const mixed = dir('mixed');
    copyFileSync(join(STAMPS, 'im_00.jpg'), join(mixed, 'a.jpg'));
    copyFileSync(join(ROOT, 'data', 'stamps', 'im_01.jpg'), join(mixed, 'b.jpg'));
    const sharp = (await import('sharp')).default;
    await sharp(join(STAMPS, 'im_02.jpg')).resize(100, 120).toFile(join(mixed, 'c.jpg'));
    const bad = dir('bad');
    copyFileSync(join(STAMPS, 'im_00.jpg'), join(bad, 'a.jpg'));
    copyFileSync(join(STAMPS, 'im_01.jpg'), join(bad, 'b.jpg')); // 3 files: enough for the pipeline, so decoding finds the bad one
    writeFileSync(join(bad, 'notes.jpg'), 'not an image');
    const run = (folder: string) => runPipelineFile(PIPE, { outDir: join(tmp.dir, 'o'), progress: false, set: [`images=${folder}`] });
    // refused before the run (validation), naming the folder
    await expect(run(empty)).rejects.toThrow(/stamps-pca\.yaml:\d+:\d+ steps\[0\] \(load\): folder .*empty has no image files \(it is empty\)/);
    await expect(run(mixed)).rejects.toThrow(/differ in size: most are 139x170 \(width x height\), but .*c\.jpg \(100x120\)/);
    await expect(run(mixed)).rejects.toMatchObject({ hint: 'remove the odd ones, or make them all the same size: --set "load.resize={width: 139, height: 170}"' });
    await expect(run(bad)).rejects.toThrow(/cannot read .*notes\.jpg: it is not an image/);
    // any number of images: svd computes the n - 1 components that centring leaves, and a
    // reconstruction rank above that says so
    const few = dir('few');
    for (const n of ['00', '01', '02']) copyFileSync(join(STAMPS, `im_${n}.jpg`), join(few, `im_${n}.jpg`));
    const small = (...set: string[]) => runPipelineFile(PIPE, { outDir: join(tmp.dir, 'o3'), progress: false, set: [`images=${few}`, ...set] });
    const ok = await small('ranks=[1,2]');
    expect((ok.values.svd as { factors: Array<{ s: Float64Array }>; solver: string }).factors[0]!.s.length).toBe(2);
    // the pipeline lowers ranks above n - 1 (recon.tooLarge: clamp); asked to refuse them, it says why
    // (before the run: the folder is counted at validation)
    await expect(small('ranks=[1,3]', 'recon.tooLarge=error')).rejects.toThrow(/few has 3 images \(2 components once the mean image is removed\), but step 'recon' \(reconstruct\) needs 3 components for rank 1, 3 with tooLarge: error\n\s+→ give at least 4 images, or --set recon.tooLarge=clamp .*or svd solver: exact/);
    // solver exact computes all 3 values (the last one 0), so rank 3 is there
    await expect(small('ranks=[1,3]', 'recon.tooLarge=error', 'solver=exact')).resolves.toBeDefined();
    await expect(small('path.between=[0,3]')).rejects.toThrow(/few has 3 images \(2 components once the mean image is removed\), but step 'path' \(generate\) needs 4 images for a path between images \[0, 3\]/);
    await expect(small('path.between=[0,-4]')).rejects.toThrow(/needs 4 images/);
    await expect(small('path.between=[0,-3]', 'ranks=[1,2]')).resolves.toBeDefined();
  });

  it('a folder of fewer than 3 images is refused at validation (svdflow validate and before a run), with the count and the folder: exit 1', async () => {
    const two = join(tmp.dir, 'two stamps');
    mkdirSync(two, { recursive: true });
    for (const n of ['00', '01']) copyFileSync(join(STAMPS, `im_${n}.jpg`), join(two, `im_${n}.jpg`));
    const v = spawnSync(process.execPath, [CLI, 'validate', 'pipelines/stamps-pca.yaml', '--set', `images=${relative(ROOT, two)}`], { encoding: 'utf8', cwd: ROOT });
    expect(v.status, v.stderr).toBe(1);
    // every step that cannot use 2 images, at once, each with its line and a fix
    expect(v.stderr).toContain(`folder ${two} has 2 images (1 component once the mean image is removed), but step 'map' (pca-scatter) needs 2 components for components [1, 2]`);
    expect(v.stderr).toMatch(/stamps-pca\.yaml:\d+:\d+ steps\[\d+\] \(grid\): .* needs 2 components for a grid over components \[1, 2\]\n\s+→ give at least 3 images, or --set grid\.components=\[1,1\]/);
    const out = join(tmp.dir, 'two-out');
    const r = spawnSync(process.execPath, [CLI, 'run', 'pipelines/stamps-pca.yaml', '--set', `images=${two}`, '--out', out, '--no-progress'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('nothing was run');
    expect(existsSync(out)).toBe(false);
    // control: with the fixes it names, the same 2 images validate and run
    const ok = spawnSync(process.execPath, [CLI, 'validate', 'pipelines/stamps-pca.yaml', '--set', `images=${two}`, '--set', 'map.components=[1,1]', '--set', 'grid.components=[1,1]'], { encoding: 'utf8', cwd: ROOT });
    expect(ok.status, ok.stderr).toBe(0);
    // one image leaves nothing to factorise once the mean is removed
    const one = join(tmp.dir, 'one');
    mkdirSync(one, { recursive: true });
    copyFileSync(join(STAMPS, 'im_00.jpg'), join(one, 'im_00.jpg'));
    await expect(runPipelineFile(PIPE, { outDir: join(tmp.dir, 'one-out'), progress: false, set: [`images=${one}`] })).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining("has 1 image (0 components once the mean image is removed), but step 'svd' (svd) needs 1 component") });
  }, 60_000);

  it("any folder of same-sized images (10 of 96 x 64, named by the user): ranks clamped to n - 1, path first to last, names and titles from the data", async () => {
    const folder = join(tmp.dir, 'holiday photos');
    mkdirSync(folder, { recursive: true });
    const sharp = (await import('sharp')).default;
    const names = ['beach', 'boat', 'cliff', 'dunes', 'harbour', 'lighthouse', 'pier', 'rocks', 'sunset', 'village'];
    // crops of the bundled photo at different places: same size, different content
    for (let i = 0; i < names.length; i++) {
      await sharp(join(ROOT, 'data', 'turtle.JPG')).extract({ left: 40 * i, top: 50 * i, width: 192, height: 128 }).resize(96, 64).png().toFile(join(folder, `${names[i]}.png`));
    }
    const out = join(tmp.dir, 'holiday-out');
    const r = await runPipelineFile(PIPE, { outDir: out, progress: false, set: [`images=${folder}`] });
    const report = JSON.parse(readFileSync(join(out, 'pca-report.json'), 'utf8'));
    expect(report.values).toMatchObject({ images: 10, dim: 96 * 64 * 3, rank: 9 });
    const cmp = r.files.find((f) => f.path.endsWith('reconstructions.png'))!;
    expect(cmp.description).toMatch(/holiday photos-r1 .*holiday photos-r3 .*holiday photos-r9 /); // 10 > 9 components: clamped to 9
    expect(existsSync(join(out, 'generated', 'path_beach_village_t0.00.png'))).toBe(true);
    expect(r.files.find((f) => f.path.endsWith('generated-path.png'))!.description).toContain('beach to village (8)');
    const coords = readFileSync(join(out, 'pca-coordinates.csv'), 'utf8');
    expect(coords.split('\n').slice(1, 11).map((l) => l.split(',')[0]!.replace(/^"|"$/g, ''))).toEqual(names);
    expect(readFileSync(join(out, 'pca-scatter.svg'), 'utf8')).toContain('holiday photos: 10 images in principal coordinates');
    // nothing says "stamps" or names the bundled images
    const text = r.files.filter((f) => /\.(svg|csv|json)$/.test(f.path)).map((f) => readFileSync(f.path, 'utf8')).join('\n') + r.files.map((f) => `${f.path.slice(out.length)} ${f.description}`).join('\n');
    expect(text).not.toMatch(/stamp|im_\d\d/i);
  }, 60_000);
});
