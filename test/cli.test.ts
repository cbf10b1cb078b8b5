/** The command line as a user meets it: exit codes, messages, --set, summaries, logs, schema. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, symlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, CLI, requireCli, ROOT, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  requireCli();
  tmp = tempDir('svdflow-cli-');
});
afterAll(() => tmp.cleanup());


/** A small pipeline on the bundled stamps: load one stamp, factorise, rebuild at rank 5, write a PNG. */
function writePipeline(name: string, body: string): string {
  const f = join(tmp.dir, name);
  writeFileSync(f, body);
  return f;
}
const STAMP = join(ROOT, 'data', 'stamps', 'im_00.jpg');
const GOOD = `name: tiny
variables:
  rank: 5
steps:
  - id: img
    stage: load
    params: { path: ${STAMP}, mode: gray }
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

describe('svdflow CLI', () => {
  it('run: exit 0, a summary naming the files, run.json with the resolved params', () => {
    const file = writePipeline('good.yaml', GOOD);
    const out = join(tmp.dir, 'out-good');
    const r = cli(['run', file, '--out', out, '--set', 'rank=7']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✔ tiny: finished in/);
    expect(r.out).toMatch(/stamp-k\.png/);
    expect(r.out).toMatch(/peak RSS \d+ MiB/);
    expect(readdirSync(out).sort()).toEqual(['report.html', 'run.json', 'stamp-k.png']);
    const m = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(m.steps.find((s: { id: string }) => s.id === 'cut').params.rank).toBe(7); // "7" from --set, coerced to a number
    expect(m.variables.rank).toBe(7);
  });

  it('runs through a symlink, as npm links the svdflow bin', () => {
    const link = join(tmp.dir, 'svdflow-link.js');
    symlinkSync(CLI, link);
    expect(statSync(CLI).mode & 0o111, 'the bin must be executable (npx runs it directly)').not.toBe(0);
    const r = spawnSync(process.execPath, [link, 'stages'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/stages \(svdflow stages NAME/);
  });

  it('validate: exit 0 and the step order', () => {
    const r = cli(['validate', writePipeline('v.yaml', GOOD)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('is valid: 6 steps (img → norm → f → cut → back → png)');
  });

  it('invalid pipeline: exit 2, every problem with file:line:col and a suggestion, nothing written', () => {
    const bad = GOOD.replace('stage: truncate', 'stage: truncat').replace('{ id: back, stage: reconstruct }', '{ id: back, stage: reconstruct, params: { clmap: true } }');
    const file = writePipeline('bad.yaml', bad);
    const out = join(tmp.dir, 'out-bad');
    const r = cli(['run', file, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('2 problems found; nothing was run.');
    expect(r.err).toMatch(/bad\.yaml:11:12 steps\[3\]\.stage: unknown stage 'truncat'\n\s+→ did you mean 'truncate'\?/);
    expect(r.err).toMatch(/bad\.yaml:13:47 steps\[4\]\.params\.clmap: unknown key 'clmap' \(stage reconstruct\)\n\s+→ did you mean 'clamp'\?/);
    expect(existsSync(out)).toBe(false);
  });

  it('port type mismatch names both stages and the stage to insert', () => {
    const file = writePipeline('mismatch.yaml', GOOD.replace('{ id: back, stage: reconstruct }', '{ id: back, stage: reconstruct, input: norm }'));
    const r = cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("type mismatch: input expects Factorization, got Image from step 'norm' (stage normalize)");
    expect(r.err).toMatch(/insert a step between them: 'svd'/);
  });

  it('runtime failure: exit 1, names the step, its stage and line, and leaves no output', () => {
    const file = writePipeline('rank.yaml', GOOD);
    const out = join(tmp.dir, 'out-rank');
    const r = cli(['run', file, '--out', out, '--set', 'rank=500']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/rank\.yaml:10:5 step 'cut' \(stage truncate\) failed: .*rank 500/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace by default
    expect(existsSync(out), 'the output folder it made is removed again').toBe(false);
  });

  it("the README's sample error output is what the CLI prints", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Errors and exit codes'));
    const block = /```\n\$ npx svdflow (.*)\n([\s\S]*?)```/.exec(section);
    expect(block, 'a sample command and its output in "Errors and exit codes"').not.toBeNull();
    const r = cli(block![1]!.split(' '));
    expect(r.code).toBe(2);
    expect(r.err).toBe(block![2]);
  });

  it('--set of an unknown name: exit 2 with a suggestion', () => {
    const r = cli(['run', writePipeline('s.yaml', GOOD), '--set', 'rnak=3']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--set rnak: the pipeline has no variable 'rnak'");
    expect(r.err).toContain("did you mean 'rank'?");
    const r2 = cli(['run', writePipeline('s2.yaml', GOOD), '--set', 'cut.rank=zero']);
    expect(r2.code).toBe(2);
    expect(r2.err).toContain('steps[3].params.rank: expected an integer, got "zero" (a string) (stage truncate)');
  });

  it('usage errors: unknown command, option, missing file', () => {
    expect(cli(['rnu']).err).toContain("unknown command 'rnu'\n  → did you mean 'run'?");
    const o = cli(['run', 'x.yaml', '--outt', 'd']);
    expect(o.code).toBe(2);
    expect(o.err).toContain("did you mean '--out'?");
    const m = cli(['run', 'pipelines/image-compres.yaml']);
    expect(m.code).toBe(2);
    expect(m.err).toContain('pipeline file not found: pipelines/image-compres.yaml');
    expect(m.err).toContain('did you mean pipelines/image-compress.yaml?');
  });

  it('stages lists every stage with ports; stages NAME shows params with defaults', () => {
    const all = cli(['stages']);
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/truncate\s+Factorization → Factorization/);
    const one = cli(['stages', 'truncate']);
    expect(one.out).toContain('truncate: Keep the top k singular values');
    expect(one.out).toMatch(/percent: number/);
    expect(cli(['stages', 'trunc']).err).toContain("did you mean 'truncate'?");
  });

  it('stages NAME lists the params of a union schema per variant (align by method, generate-points by shape)', () => {
    const align = cli(['stages', 'align']).out;
    expect(align).not.toContain('(none)');
    expect(align).toContain('one of 2 forms, chosen by method:');
    const proc = align.slice(align.indexOf('method: "procrustes"'), align.indexOf('method: "icp"'));
    const icp = align.slice(align.indexOf('method: "icp"'));
    expect(proc).toMatch(/allowReflection: boolean = false/);
    expect(proc).not.toContain('maxCorrespondenceDistance');
    expect(icp).toMatch(/maxCorrespondenceDistance: number in \(0, inf\]/);
    expect(icp).toMatch(/criteria: \{ maxIterations, relativeRmse, relativeFitness \}/);
    const gp = cli(['stages', 'generate-points']).out;
    expect(gp).toMatch(/chosen by shape:/);
    expect(gp).toMatch(/shape: "circle"\n\s+n: integer in \[1, inf\] \(required\)\n[^\n]*\n\s+radius: number in \(0, inf\] = 1/);
  });

  it('schema: JSON Schema with one step variant per stage', () => {
    const r = cli(['schema']);
    const schema = JSON.parse(r.out);
    const variants = schema.properties.steps.items.oneOf as Array<{ properties: { stage: { const: string } } }>;
    const names = cli(['stages', '--json']);
    expect(variants.map((v) => v.properties.stage.const).sort()).toEqual(JSON.parse(names.out).map((s: { name: string }) => s.name).sort());
    expect(existsSync(join(ROOT, 'dist', 'pipeline.schema.json'))).toBe(true);
  });

  it('--log-json writes structured log lines on stderr; the default is quiet', () => {
    const file = writePipeline('log.yaml', GOOD);
    const r = cli(['run', file, '--out', join(tmp.dir, 'out-log'), '--log-json', '--log-level', 'info']);
    expect(r.code).toBe(0);
    const lines = r.err.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'run started' && l.pipeline === 'tiny' && l.level === 30)).toBe(true);
    expect(lines.some((l) => l.msg === 'run succeeded')).toBe(true);
    expect(cli(['run', file, '--out', join(tmp.dir, 'out-quiet')]).err).toBe('');
  });

  it('an output path that is a file: exit 2, no stack', () => {
    const f = join(tmp.dir, 'iamafile');
    writeFileSync(f, 'x');
    const r = cli(['run', writePipeline('o.yaml', GOOD), '--out', f]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is a file, not a folder');
  });
});
