/**
 * Optional steps (`when:`), null variables, paths from the command line against the current
 * directory, and the kinds a step will emit (an ImageBatch meeting svd is caught before the run).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parsePipeline, loadPipeline, runPipeline, runPipelineFile, defaultRegistry, ValidationError } from '../../src/index.js';
import { ROOT, CLI, tempDir } from '../helpers.js';

const tmp = tempDir('svdflow-when-');
afterAll(() => tmp.cleanup());
const TURTLE = join(ROOT, 'data', 'turtle.JPG');
const reg = defaultRegistry();
const parse = (text: string, set: string[] = [], cwd?: string) => parsePipeline(text, { file: 'p.yaml', baseDir: tmp.dir, set, cwd }, reg);
const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e.issues.map((i) => `${i.path}: ${i.message} | ${i.hint ?? ''}`);
    throw e;
  }
  return [];
};

const OPTIONAL = `
variables: { input: ${TURTLE}, report: null }
steps:
  - { id: image, stage: load, params: { path: "\${input}", mode: gray, resize: { width: 40 } } }
  - { id: svd, stage: svd }
  - { id: truncate, stage: truncate, params: { rank: 3 } }
  - { id: rep, stage: compression-report, input: truncate, when: "\${report}", params: { prefix: "{name}-\${report}" } }
`;

describe('when: (optional steps)', () => {
  it('a null variable leaves the step out (its params are not validated); set, the step runs', () => {
    const off = parse(OPTIONAL);
    expect(off.steps.map((s) => s.id)).toEqual(['image', 'svd', 'truncate']);
    expect(off.skipped).toMatchObject([{ id: 'rep', stage: 'compression-report', when: '${report}', value: null, reason: 'when: ${report} is null' }]);
    const on = parse(OPTIONAL, ['report=r']);
    expect(on.steps.map((s) => s.id)).toEqual(['image', 'svd', 'truncate', 'rep']);
    expect(on.skipped).toEqual([]);
    for (const v of ['false', '""', '0', '[]']) expect(parse(OPTIONAL, [`report=${v}`]).skipped.map((s) => s.id), v).toEqual(['rep']);
  });

  it('a kept step that reads from a skipped one is a validation problem naming both and the fix', () => {
    const text = OPTIONAL.replace('when: "${report}", ', '') + '  - { id: late, stage: truncate, input: maybe, params: { rank: 2 } }\n';
    const withMaybe = text.replace('  - { id: truncate,', '  - { id: maybe, stage: truncate, input: svd, when: "${report}", params: { rank: 2 } }\n  - { id: truncate, input: svd,');
    expect(problems(() => parse(withMaybe))).toEqual([
      "steps[5].input: input comes from step 'maybe' (stage truncate), which is skipped: when: ${report} is null | give step 'late' the same when: ${report}, or set --set report=…",
    ]);
    expect(problems(() => parse(withMaybe, ['report=yes']))).toEqual([]);
    expect(problems(() => parse(OPTIONAL.replace('when: "${report}"', 'when: "${reprot}"')))).toEqual([
      "steps[3].when: unknown variable '${reprot}' | did you mean 'report'?",
    ]);
  });

  it('skipped steps are listed in the run result, run.json and the CLI summary', async () => {
    const file = join(tmp.dir, 'opt.yaml');
    writeFileSync(file, OPTIONAL);
    const out = join(tmp.dir, 'opt-out');
    const r = await runPipeline(loadPipeline(file, reg), { outDir: out, progress: false });
    expect(r.skipped).toEqual([{ id: 'rep', stage: 'compression-report', reason: 'when: ${report} is null' }]);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).skipped).toEqual(r.skipped);
    const cli = spawnSync(process.execPath, [CLI, 'run', file, '--out', join(tmp.dir, 'opt-cli'), '--no-progress'], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('skipped: rep (compression-report): when: ${report} is null');
  });
});

describe('demo: values', () => {
  it('svdflow demo scores the bundled clip (demo: groundTruth); a plain run of the same file skips the scoring', () => {
    const file = join(ROOT, 'pipelines', 'video-background.yaml');
    expect(loadPipeline(file, reg).skipped.map((s) => s.id)).toEqual(['scores']);
    const demo = loadPipeline(file, reg, { demo: true });
    expect(demo.skipped).toEqual([]);
    expect(demo.steps.find((s) => s.id === 'scores')!.params.groundTruth).toBe('../data/video/synthetic');
    expect(problems(() => parse('variables: { a: 1 }\ndemo: { b: 2 }\nsteps:\n  - { stage: generate-points, params: { shape: circle, n: 3 } }\n', [], undefined))).toEqual([]);
    expect(problems(() => parsePipeline('variables: { a: 1 }\ndemo: { b: 2 }\nsteps:\n  - { stage: generate-points, params: { shape: circle, n: 3 } }\n', { file: 'd.yaml', baseDir: tmp.dir, demo: true }, reg))).toEqual(["demo.b: demo sets 'b', which is not a variable | did you mean 'a'?"]);
  });
});

describe('paths from the command line', () => {
  it('--set paths and --out resolve against the current directory; paths in the YAML against its folder', async () => {
    const cwd = join(tmp.dir, 'elsewhere');
    mkdirSync(join(cwd, 'photos'), { recursive: true });
    await sharp({ create: { width: 81, height: 53, channels: 3, background: { r: 200, g: 90, b: 20 } } }).png().toFile(join(cwd, 'photos', 'board.png'));
    const pipe = join(ROOT, 'pipelines', 'image-compress.yaml');
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'run', pipe, '--no-progress', ...args], { encoding: 'utf8', cwd });
    const a = run(['--set', 'input=photos/board.png', '--out', 'out']);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(existsSync(join(cwd, 'out', 'board-gray-k3.png'))).toBe(true); // 5% of 53 = 2.65 → 3
    const b = run(['--set', 'image.path=photos/board.png', '--out', 'out-step']);
    expect(b.status).toBe(0);
    expect(existsSync(join(cwd, 'out-step', 'board-gray-k3.png'))).toBe(true);
    const c = run(['--set', 'input=photos/bord.png', '--out', 'out-missing']);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('input file not found: photos/bord.png');
    expect(c.stderr).toContain(`paths given with --set are relative to the current directory, ${cwd}`);
    expect(c.stderr).toContain("did you mean 'photos/board.png'?"); // as the user would type it from there, not from the pipeline's folder
    // from code: runPipelineFile's cwd option is that folder (this process's is the repo root): the message shows
    // the path from it, the hint names it and suggests the near name from it
    expect(process.cwd()).not.toBe(cwd);
    const api = await runPipelineFile(pipe, { cwd, set: ['input=photos/bord.png'], outDir: join(cwd, 'out-api'), progress: false }).then(() => undefined, (e: unknown) => e as ValidationError);
    expect(api).toBeInstanceOf(ValidationError);
    const issue = api!.issues.find((i) => i.message.startsWith('input file not found'))!;
    expect(issue.message).toBe('input file not found: photos/bord.png (set by --set input=photos/bord.png)');
    expect(issue.hint).toBe(`did you mean 'photos/board.png'? (check the path (paths given with --set are relative to ${cwd} (the cwd option)))`);
    expect(existsSync(join(cwd, 'out-api'))).toBe(false);
    // the YAML's own default (../data/turtle.JPG) is relative to the pipeline file, from any cwd
    const d = spawnSync(process.execPath, [CLI, 'validate', pipe], { encoding: 'utf8', cwd });
    expect(d.status).toBe(0);
  }, 60_000);
});

describe('port kinds known before the run', () => {
  it('an ImageBatch meeting svd is caught at validation, and the hint puts stack before center', () => {
    const folder = join(tmp.dir, 'shots');
    mkdirSync(folder, { recursive: true });
    for (const n of ['a', 'b', 'c']) copyFileSync(join(ROOT, 'data', 'stamps', `im_0${'abc'.indexOf(n)}.jpg`), join(folder, `${n}.jpg`));
    const text = `steps:
  - { id: load, stage: load, params: { path: ${folder} } }
  - { id: images, stage: normalize }
  - { id: centred, stage: center, params: { mode: row } }
  - { id: svd, stage: svd }
`;
    expect(problems(() => parse(text))).toEqual([
      "steps[3].input: type mismatch: input expects Image or Matrix, got ImageBatch from step 'centred' (stage center) | insert 'stack' (ImageBatch → Matrix) before step 'centred' (stage center passes on the kind it gets, so it then works on the Matrix)",
    ]);
    const fixed = text.replace('  - { id: centred', '  - { id: X, stage: stack }\n  - { id: centred');
    expect(problems(() => parse(fixed))).toEqual([]);
    // a single file gives an Image, which svd takes
    expect(problems(() => parse(text.replace(folder, TURTLE)))).toEqual([]);
  });

  it('when the kind shows only at run time, the stage gets a clear error instead of a TypeError', async () => {
    const folder = join(tmp.dir, 'later');
    const text = `steps:\n  - { id: load, stage: load, params: { path: ${folder} } }\n  - { id: svd, stage: svd }\n`;
    const p = parsePipeline(text, { file: 'late.yaml', baseDir: tmp.dir, checkFiles: false }, reg); // the folder does not exist yet
    mkdirSync(folder, { recursive: true });
    for (const n of ['00', '01']) copyFileSync(join(ROOT, 'data', 'stamps', `im_${n}.jpg`), join(folder, `im_${n}.jpg`));
    const err = await runPipeline(p, { outDir: join(tmp.dir, 'late-out'), progress: false }).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain("step 'svd' (stage svd) failed: stage svd takes Image or Matrix, but step 'load' gave it ImageBatch");
    expect((err as { hint?: string }).hint ?? err?.message).toContain('stack turns an ImageBatch into a Matrix');
    expect(err?.message).not.toMatch(/Cannot read properties/);
  });
});
