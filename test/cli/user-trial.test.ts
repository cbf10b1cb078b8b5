/**
 * What a new user meets on their own files (the new-user trial's flaws): paths outside the project
 * shown as given, --set values named in errors with a fix, honest summary lines, report pages that
 * describe the run that was made.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, writeFileSync, copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli, requireCli, ROOT, tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  requireCli();
  tmp = tempDir('svdflow user trial-');
});
afterAll(() => tmp.cleanup());


const STAMP = join(ROOT, 'data', 'stamps', 'im_00.jpg');
/** load a photo (variable input), rank-`rank` rebuild, one PNG */
const PIPE = `name: tiny
variables:
  input: ${STAMP}
  rank: 5
steps:
  - id: img
    stage: load
    params: { path: "\${input}", mode: gray }
  - { id: norm, stage: normalize }
  - { id: f, stage: svd }
  - id: cut
    stage: truncate
    params: { rank: "\${rank}" }
  - { id: back, stage: reconstruct }
  - id: png
    stage: encode
    params: { path: stamp-k.png }
`;

function pipeline(): string {
  const f = join(tmp.dir, 'tiny.yaml');
  writeFileSync(f, PIPE);
  return f;
}

describe('paths outside the current directory', () => {
  it('a missing input given with --set as an absolute path is shown as given, and the error names the --set', () => {
    const missing = join(tmp.dir, 'my photos', 'nope.jpg');
    const r = cli(['run', pipeline(), '--set', `input=${missing}`, '--out', join(tmp.dir, 'o-missing')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`steps[0].params.path: input file not found: ${missing} (set by --set input=${missing})\n`);
    expect(r.err).not.toContain('../');
  });

  it('a missing input inside the current directory stays relative to it', () => {
    mkdirSync(join(tmp.dir, 'cwd', 'my photos'), { recursive: true });
    const r = cli(['run', pipeline(), '--set', 'input=my photos/nope.jpg', '--out', join(tmp.dir, 'o-rel')], { cwd: join(tmp.dir, 'cwd') });
    expect(r.code).toBe(2);
    expect(r.err).toContain('input file not found: my photos/nope.jpg (set by --set input=my photos/nope.jpg)\n');
  });

  it('a path written in the YAML is not said to come from --set', () => {
    const f = join(tmp.dir, 'yaml-path.yaml');
    writeFileSync(f, PIPE.replace(STAMP, join(tmp.dir, 'absent.jpg')));
    const r = cli(['run', f, '--out', join(tmp.dir, 'o-yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`input file not found: ${join(tmp.dir, 'absent.jpg')}\n`);
    expect(r.err).not.toContain('set by --set');
  });

  it('the summary names an output folder outside the current directory by its absolute path', () => {
    const photos = join(tmp.dir, 'my photos');
    mkdirSync(photos, { recursive: true });
    copyFileSync(STAMP, join(photos, 'mine.jpg'));
    const out = join(tmp.dir, 'out folder');
    const r = cli(['run', pipeline(), '--set', `input=${join(photos, 'mine.jpg')}`, '--out', out, '--no-progress']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`  wrote 1 file to ${out}/, plus run.json (the manifest) and report.html\n`);
    expect(r.out).not.toContain('../');
  });

  it('a glob that matches nothing names its folder as given (absolute), with a file that is there', () => {
    const dir = join(tmp.dir, 'glob photos');
    mkdirSync(dir, { recursive: true });
    copyFileSync(STAMP, join(dir, 'a.JPG'));
    const r = cli(['validate', join(ROOT, 'pipelines', 'stamps-pca.yaml'), '--set', `images=${dir}/*.png`]);
    expect(r.code).toBe(1); // the folder is there, without the data asked for
    expect(r.err).toContain(`glob ${dir}/*.png matches no files\n    → ${dir} has e.g. a.JPG\n`);
  });
});

describe('bad --set values', () => {
  it('a --set value of the wrong type names the flag and gives a fix with the same flag', () => {
    const r = cli(['run', pipeline(), '--set', 'rank=abc', '--out', join(tmp.dir, 'o-abc')]);
    expect(r.code).toBe(2);
    const lines = r.err.split('\n');
    const i = lines.findIndex((l) => l.includes('steps[3].params.rank'));
    expect(lines[i]).toMatch(/steps\[3\]\.params\.rank: expected an integer, got "abc" \(a string\) \(stage truncate\) \(set by --set rank=abc\)$/);
    expect(lines[i + 1]).toBe('    → give an integer: --set rank=5');
  });

  it('a step param set directly (--set cut.rank=…) is named that way', () => {
    const r = cli(['run', pipeline(), '--set', 'cut.rank=-3', '--out', join(tmp.dir, 'o-neg')]);
    expect(r.code).toBe(2);
    const lines = r.err.split('\n');
    const i = lines.findIndex((l) => l.includes('steps[3].params.rank'));
    expect(lines[i]).toContain('(set by --set cut.rank=-3)');
    expect(lines[i + 1]).toMatch(/^ {4}→ give a value >= 1: --set cut\.rank=1$/);
  });

  it('an exclusive bound is not offered as the value (it is the value refused)', () => {
    const r = cli(['validate', join(ROOT, 'pipelines', 'image-compress.yaml'), '--set', 'truncate.percent=0']);
    expect(r.code).toBe(2);
    const lines = r.err.split('\n');
    const i = lines.findIndex((l) => l.includes('params.percent: expected > 0, got 0'));
    expect(lines[i]).toContain('(set by --set truncate.percent=0)');
    expect(lines[i + 1]).toBe('    → give a value > 0 to --set truncate.percent');
  });
});

describe('report.html describes the run that was made', () => {
  const described = PIPE.replace('name: tiny\n', 'name: tiny\ndescription: "Default: the bundled stamp at rank 5."\n');
  it('with --set: run.json lists the overrides; the page says what this run used and labels the description as the pipeline\'s', () => {
    const f = join(tmp.dir, 'described.yaml');
    writeFileSync(f, described);
    const photos = join(tmp.dir, 'my photos');
    mkdirSync(photos, { recursive: true });
    copyFileSync(STAMP, join(photos, 'mine.jpg'));
    const out = join(tmp.dir, 'o-report');
    // rank and png.path given twice: the last counts, and each is listed once
    const r = cli(['run', f, '--set', `input=${join(photos, 'mine.jpg')}`, '--set', 'rank=3', '--set', 'png.path=y.png', '--set', 'rank=7', '--set', 'png.path=x.png', '--out', out, '--no-progress']);
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(m.overrides).toEqual([
      { key: 'input', value: join(photos, 'mine.jpg'), default: STAMP },
      { key: 'rank', value: 7, default: 5 },
      { key: 'png.path', value: 'x.png' },
    ]);
    expect(m.steps.find((s: { id: string }) => s.id === 'cut').params.rank).toBe(7);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(`<li><code>input</code> = <code>${join(photos, 'mine.jpg')}</code> <span class="meta">(the pipeline's: <code>${STAMP}</code>)</span></li>`);
    expect(html).toContain(`<li><code>rank</code> = <code>7</code> <span class="meta">(the pipeline's: <code>5</code>)</span></li>`);
    expect(html).toContain(`<li><code>png.path</code> = <code>x.png</code></li>`);
    expect(html).toContain(`<b>The pipeline's description</b> (written for its own values, not the ones above):<br>Default: the bundled stamp at rank 5.</p>`);
  });

  it('without --set the description is the run\'s and stands alone', () => {
    const f = join(tmp.dir, 'described.yaml');
    writeFileSync(f, described);
    const out = join(tmp.dir, 'o-report-plain');
    const r = cli(['run', f, '--out', out, '--no-progress']);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).overrides).toEqual([]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<p class="desc">Default: the bundled stamp at rank 5.</p>');
    expect(html).not.toContain('<b>This run</b>');
  });
});

describe('the summary: one duration, what the peak RSS is, files by path', () => {
  it('svdflow run prints one duration with its unit and lists the files sorted by path', () => {
    const photos = join(tmp.dir, 'my photos');
    mkdirSync(photos, { recursive: true });
    copyFileSync(STAMP, join(photos, 'mine.jpg'));
    const out = join(tmp.dir, 'o-summary');
    const r = cli(['run', join(ROOT, 'pipelines', 'image-compress.yaml'), '--set', `input=${join(photos, 'mine.jpg')}`, '--out', out, '--no-progress']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const wall = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).durationMs / 1000;
    const m = /^✔ image-compress: finished in (\d+\.\d\d) s, peak RSS \d+ MiB$/.exec(lines[0]!);
    expect(m, lines[0]).not.toBeNull();
    expect(Math.abs(Number(m![1]) - wall)).toBeLessThanOrEqual(0.006); // the run's own duration, the one run.json records
    const i = lines.findIndex((l) => l.startsWith('  wrote 5 files to'));
    const listed = lines.slice(i + 1, i + 6).map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(['mine-gray-k7.png', 'mine-gray-report-error-storage.svg', 'mine-gray-report-spectrum.svg', 'mine-gray-report.csv', 'mine-gray-report.json']);
  });

  it('numbered names ({index}) are listed by number: img-2 before img-10 (a real run writing 22 of them)', () => {
    // the 22 stamps, each written as img-{index}.png: code-point order would list img-0, img-1, img-10, ..., img-19, img-2
    const pipe = join(tmp.dir, 'numbered.yaml');
    writeFileSync(pipe, `name: numbered\nsteps:\n  - { id: load, stage: load, params: { path: ${JSON.stringify(join(ROOT, 'data', 'stamps'))}, mode: gray } }\n  - { id: save, stage: encode, params: { path: "img-{index}.png" } }\n`);
    const out = join(tmp.dir, 'o-numbered');
    const r = cli(['run', pipe, '--out', out, '--no-progress']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    const i = lines.findIndex((l) => l.startsWith('  wrote 22 files to'));
    expect(i, r.out).toBeGreaterThan(0);
    const listed = lines.slice(i + 1, i + 23).map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(Array.from({ length: 22 }, (_, k) => `img-${k}.png`));
    // and those are the files the run wrote
    expect(readdirSync(out).filter((f) => f.startsWith('img-')).length).toBe(22);
  });

  it('in the demo (several runs in one process) the RSS is named as the process peak so far', async () => {
    const { summaryText } = (await import(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) as typeof import('../../src/cli/main.js');
    const r = { pipeline: 'p', status: 'succeeded' as const, outDir: join(tmp.dir, 'x'), files: [join(tmp.dir, 'x', 'b.png'), join(tmp.dir, 'x', 'a', 'z.svg'), join(tmp.dir, 'x', 'a.json')].map((path) => ({ path, bytes: 1024 })), steps: [], durationMs: 75_300, peakRssMiB: 123.4, manifest: '', values: {} };
    const text = summaryText(r as never, { rssSoFar: true }).split('\n');
    expect(text[0]).toBe('✔ p: finished in 1m15s, process peak RSS so far 123 MiB');
    expect(text.slice(-3).map((l) => l.trim().split(/\s+/)[0])).toEqual(['a.json', 'a/z.svg', 'b.png']);
    // numbers by value, in any part of the path; names the collation finds equal (f-01, f-1) in code-point order
    const names = ['f-10/x.png', 'f-2/x.png', 'f-1.png', 'f-01.png', 'f-2.png', 'F-3.png', 'f-10.png', 'f-100.png'];
    const rn = { ...r, files: names.map((n) => ({ path: join(tmp.dir, 'x', n), bytes: 1 })) };
    expect(summaryText(rn as never).split('\n').slice(-names.length).map((l) => l.trim().split(/\s+/)[0])).toEqual(['f-01.png', 'f-1.png', 'f-2.png', 'f-2/x.png', 'F-3.png', 'f-10.png', 'f-10/x.png', 'f-100.png']);
    expect(summaryText(r as never).split('\n')[0]).toBe('✔ p: finished in 1m15s, peak RSS 123 MiB');
  });
});

describe('sizes are written one way: width x height in pixels', () => {
  it("the compression figures' titles give the image's size as the summary does (139x170 px, 3 planes)", () => {
    const photos = join(tmp.dir, 'my photos');
    mkdirSync(photos, { recursive: true });
    copyFileSync(STAMP, join(photos, 'mine.jpg'));
    const out = join(tmp.dir, 'o-wxh');
    const r = cli(['run', join(ROOT, 'pipelines', 'image-compress.yaml'), '--set', `input=${join(photos, 'mine.jpg')}`, '--set', 'mode=rgb', '--out', out, '--no-progress']);
    expect(r.code).toBe(0);
    // the stamp is 139 pixels wide and 170 high: the encoded image's line in the summary says so
    expect(r.out).toMatch(/mine-rgb-k\d+\.png +[\d.]+ KiB {2}rgb image mine 139x170, 8-bit\n/);
    const spectrum = readFileSync(join(out, 'mine-rgb-report-spectrum.svg'), 'utf8');
    const errorStorage = readFileSync(join(out, 'mine-rgb-report-error-storage.svg'), 'utf8');
    expect(spectrum).toContain('Singular values of mine: 139x170 px, 3 planes');
    expect(errorStorage).toContain('Error and storage vs k, mine: 139x170 px, 3 planes');
    expect(spectrum + errorStorage).not.toContain('170 x 139');
  });

  it('a matrix (no image) is titled by rows and columns', async () => {
    const { reportTitle } = (await import(join(ROOT, 'dist', 'src', 'stages', 'compression-report.js'))) as typeof import('../../src/stages/compression-report.js');
    expect(reportTitle('m', { kind: 'Matrix' }, 30, 4, ['value'])).toBe('m: 30 rows x 4 columns');
    expect(reportTitle('p', { kind: 'Image', width: 640, height: 480 }, 480, 640, ['Y'])).toBe('p: 640x480 px');
  });
});

describe('labels', () => {
  it("a PCA of one's own folder: the JSON file is described as 'PCA metrics: my pca' (it said 'Metrics my pca-pca')", () => {
    const folder = join(tmp.dir, 'my pca');
    mkdirSync(folder, { recursive: true });
    for (const i of ['00', '01', '02', '03', '04', '05']) copyFileSync(join(ROOT, 'data', 'stamps', `im_${i}.jpg`), join(folder, `im_${i}.jpg`));
    const out = join(tmp.dir, 'o-pca');
    const r = cli(['run', join(ROOT, 'pipelines', 'stamps-pca.yaml'), '--set', `images=${folder}`, '--set', 'ranks=[1, 3]', '--out', out, '--no-progress']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\n {4}pca-report\.json +[\d.]+ KiB {2}PCA metrics: my pca\n/);
    const m = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(m.files.find((f: { path: string }) => f.path === 'pca-report.json').description).toBe('PCA metrics: my pca');
  });

  it('jsonLabel words the kinds of values', async () => {
    const { jsonLabel } = (await import(join(ROOT, 'dist', 'src', 'stages', 'write-json.js'))) as typeof import('../../src/stages/write-json.js');
    expect(jsonLabel('Metrics', 'tort-compression')).toBe('compression metrics: tort');
    expect(jsonLabel('Metrics', 'scores')).toBe('metrics: scores');
    expect(jsonLabel('Metrics', 'a-b-other')).toBe('metrics: a-b-other');
    expect(jsonLabel('Alignment', 'bunny')).toBe('Alignment: bunny');
  });

  it("the error/storage plot draws the source file's size distinguishably from the PNG's, even at the same size", async () => {
    const { errorStorageSvg } = (await import(join(ROOT, 'dist', 'src', 'core', 'image', 'report.js'))) as typeof import('../../src/core/image/report.js');
    const k = Array.from({ length: 20 }, (_, i) => i + 1);
    const c = { k, error: k.map((i) => 1 / (i + 1)), errorAtZero: 1, bytesFloat32: k.map((i) => i * 4000), bytesFloat64: k.map((i) => i * 8000), ratioFloat32: k.map((i) => 100 / i) };
    const svg = await errorStorageSvg(c as never, 5, [{ name: 'raw 8-bit', bytes: 400_000 }, { name: 'PNG', bytes: 200_000 }, { name: 'JPEG q90', bytes: 50_000 }, { name: 'source file', bytes: 200_000 }], 'same size');
    const lines = [...svg.matchAll(/<path[^>]*aria-roledescription="line mark"[^>]*>|<path(?=[^>]*stroke-dasharray)[^>]*>/g)].map((x) => x[0]).filter((p) => !p.includes('transform='));
    const style = (p: string) => [/stroke="([^"]+)"/.exec(p)?.[1], /stroke-width="([^"]+)"/.exec(p)?.[1], /stroke-dasharray="([^"]+)"/.exec(p)?.[1]];
    const png = lines.map(style).find((s) => s[0] === '#2ca02c');
    const source = lines.map(style).find((s) => s[0] === '#8c564b');
    expect(png).toEqual(['#2ca02c', '2', '2,3']);
    expect(source).toEqual(['#8c564b', '4', '12,4']); // wider and long-dashed, drawn beneath: the dotted PNG line cannot cover it
    expect(svg).toContain('source file (195 KiB)');
  });
});

describe('checkpoints after a run that succeeded', () => {
  it('are removed (they only serve --resume of an unfinished run), unless --keep-checkpoints', () => {
    const out = join(tmp.dir, 'o-video');
    const r = cli(['run', join(ROOT, 'pipelines', 'video-background.yaml'), '--out', out, '--no-progress']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(out, 'run.json'))).toBe(true);
    expect(existsSync(join(out, '.checkpoints'))).toBe(false);
    // nothing to resume: --resume of the completed run says so
    const again = cli(['run', join(ROOT, 'pipelines', 'video-background.yaml'), '--out', out, '--no-progress', '--resume']);
    expect(again.code).toBe(2);
    expect(again.err).toContain('--resume: nothing to resume');
    const kept = join(tmp.dir, 'o-video-kept');
    const k = cli(['run', join(ROOT, 'pipelines', 'video-background.yaml'), '--out', kept, '--no-progress', '--keep-checkpoints']);
    expect(k.code, k.err).toBe(0);
    expect(readdirSync(join(kept, '.checkpoints')).length).toBeGreaterThan(0);
    expect(existsSync(join(kept, '.checkpoints', 'fingerprint.json'))).toBe(false); // a completed run: not resumable
  });

  it('--keep-checkpoints with a segmented run (--workers 2, --queue --segments 2) is refused, saying why; with --queue --each it is not', () => {
    const pipe = join(ROOT, 'pipelines', 'video-background.yaml');
    const w = cli(['run', pipe, '--out', join(tmp.dir, 'o-kw'), '--no-progress', '--workers', '2', '--keep-checkpoints']);
    expect(w.code).toBe(2);
    expect(w.err).toContain("--keep-checkpoints is not supported with --workers 2: a segmented run keeps each segment's checkpoints in .segments/ while it is unfinished (for --resume) and removes them when it succeeds");
    expect(w.err).toContain('run without --workers to keep the checkpoints of one run');
    expect(existsSync(join(tmp.dir, 'o-kw'))).toBe(false);
    // refused before any connection (port 9: nothing listens)
    const q = cli(['run', pipe, '--out', join(tmp.dir, 'o-kq'), '--queue', 'redis://127.0.0.1:9', '--segments', '2', '--keep-checkpoints']);
    expect(q.code).toBe(2);
    expect(q.err).toContain('--keep-checkpoints is not supported with --segments 2');
    const e = cli(['run', pipe, '--out', join(tmp.dir, 'o-ke'), '--queue', 'redis://127.0.0.1:9', '--each', join(ROOT, 'data', 'video', 'synthetic', 'clip.mp4'), '--keep-checkpoints']);
    expect(e.err).not.toContain('--keep-checkpoints');
    // one worker is a local run: accepted
    const one = cli(['run', pipe, '--out', join(tmp.dir, 'o-k1'), '--no-progress', '--workers', '1', '--keep-checkpoints']);
    expect(one.code, one.err).toBe(0);
    expect(readdirSync(join(tmp.dir, 'o-k1', '.checkpoints'))).toContain('mask-video');
  }, 60_000);

  it("remove only the finished run's own: another run's unfinished checkpoints and the user's files in .checkpoints/ stay", () => {
    const out = join(tmp.dir, 'o-shared');
    const other = join(out, '.checkpoints', 'other-step');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'progress.json'), '{"frames": 100}');
    writeFileSync(join(out, '.checkpoints', 'notes.txt'), 'mine');
    const r = cli(['run', join(ROOT, 'pipelines', 'video-background.yaml'), '--out', out, '--no-progress']);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(join(out, '.checkpoints')).sort()).toEqual(['notes.txt', 'other-step']);
    expect(readFileSync(join(other, 'progress.json'), 'utf8')).toBe('{"frames": 100}');
    // a run that keeps no checkpoints (an image job) leaves the folder alone
    const img = cli(['run', join(ROOT, 'pipelines', 'image-compress.yaml'), '--out', out, '--no-progress']);
    expect(img.code, img.err).toBe(0);
    expect(readdirSync(join(out, '.checkpoints')).sort()).toEqual(['notes.txt', 'other-step']);
  });
});
