import { describe, it, expect } from 'vitest';
import { parsePipeline } from '../../src/core/pipeline.js';
import { ValidationError } from '../../src/core/errors.js';
import { testRegistry } from './fixtures.js';

const reg = testRegistry();
const parse = (text: string, set?: string[]) => parsePipeline(text, { file: 'p.yaml', baseDir: process.cwd(), set }, reg);
function issues(text: string, set?: string[]): string[] {
  try {
    parse(text, set);
  } catch (e) {
    if (e instanceof ValidationError) return e.issues.map((i) => `${i.loc?.line}:${i.loc?.col} ${i.path ?? ''} ${i.message}${i.hint ? ' | ' + i.hint : ''}`);
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('pipeline validation', () => {
  it('accepts a valid pipeline and orders steps topologically', () => {
    const p = parse(`
name: t
steps:
  - { id: b, stage: scale, input: a }
  - { id: a, stage: counter, params: { n: 2 } }
`);
    expect(p.steps.map((s) => s.id)).toEqual(['a', 'b']);
    expect(p.steps[0]!.params).toEqual({ n: 2, label: 'c' });
  });

  it('rejects an unknown param key at its line and column, with a suggestion', () => {
    const out = issues(`name: t
steps:
  - stage: counter
    params:
      n: 3
      lable: x
`);
    expect(out).toEqual(["6:7 steps[0].params.lable unknown key 'lable' (stage counter) | did you mean 'label'?"]);
  });

  it('suggests the closest stage name for a misspelled stage', () => {
    const out = issues(`steps:
  - stage: countr
`);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^2:12 steps\[0\]\.stage unknown stage 'countr' \| did you mean 'counter'\?/);
  });

  it('rejects a port type mismatch between connected steps, at the input line', () => {
    const out = issues(`steps:
  - { id: a, stage: counter }
  - { id: w, stage: write-json, input: a }
  - id: s
    stage: scale
    input: w
`);
    expect(out).toEqual(["6:12 steps[2].input type mismatch: input expects Metrics, got File from step 'w' (stage write-json) | connect a step that produces Metrics"]);
  });

  it('reports wrong types and ranges with what was found', () => {
    const out = issues(`steps:
  - stage: counter
    params: { n: "three" }
  - stage: scale
    params: { factor: true }
`);
    expect(out).toEqual([
      '3:18 steps[0].params.n expected an integer, got "three" (a string) (stage counter)',
      '5:23 steps[1].params.factor expected a number, got true (a boolean) (stage scale)',
    ]);
    expect(issues(`steps:\n  - stage: counter\n    params: { n: -1 }\n`)).toEqual(['3:18 steps[0].params.n expected >= 0, got -1 (an integer) (stage counter)']);
    expect(issues(`steps:\n  - stage: counter\n    params: { n: 2.5 }\n`)).toEqual(['3:18 steps[0].params.n expected an integer, got 2.5 (a number) (stage counter)']);
  });

  it('detects a cycle', () => {
    const out = issues(`steps:
  - { id: a, stage: scale, input: b }
  - { id: b, stage: scale, input: a }
`);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/the steps form a cycle: (a → b → a|b → a → b)/);
  });

  it('reports every issue at once, sorted by line', () => {
    const out = issues(`nme: t
steps:
  - stage: counter
    params: { n: 0.5 }
  - stage: scael
  - stage: scale
    input: nowhere
`);
    expect(out.map((o) => o.split(' ')[0])).toEqual(['1:1', '4:18', '5:12', '7:12']);
    expect(out[0]).toContain("did you mean 'name'?");
    expect(out[3]).toContain("no step with id 'nowhere'");
  });

  it('reports YAML syntax errors with a position', () => {
    const out = issues(`steps:\n  - stage: counter\n    params: { n: 3\n`);
    expect(out[0]).toMatch(/^\d+:\d+ +YAML syntax error/);
  });

  it('checks that input files exist before running, with a suggestion', () => {
    const out = issues(`steps:\n  - stage: read-lines\n    params: { path: test/core/fixtures.tss }\n`);
    expect(out).toEqual([
      "3:21 steps[0].params.path input file not found: test/core/fixtures.tss | did you mean 'test/core/fixtures.ts'? (paths in a pipeline file are relative to its folder (.); paths given with --set are relative to the current directory)",
    ]);
    expect(() => parse(`steps:\n  - stage: read-lines\n    params: { path: test/core/fixtures.ts }\n`)).not.toThrow();
  });

  it('substitutes variables with their types and reports unknown ones', () => {
    const p = parse(`variables: { n: 4, lbl: x }
steps:
  - stage: counter
    params: { n: "\${n}", label: "pre-\${lbl}" }
`);
    expect(p.steps[0]!.params).toEqual({ n: 4, label: 'pre-x' });
    expect(issues(`variables: { n: 4 }\nsteps:\n  - stage: counter\n    params: { n: "\${m}" }\n`)[0]).toMatch(/^4:18 .*unknown variable '\$\{m\}' \| did you mean 'n'\?/);
  });

  it('applies --set overrides with type coercion, and validates them', () => {
    const text = `variables: { n: 4 }\nsteps:\n  - { id: c, stage: counter, params: { n: "\${n}" } }\n  - { id: s, stage: scale }\n`;
    expect(parse(text, ['n=7']).steps[0]!.params.n).toBe(7);
    expect(parse(text, ['s.factor=0.5']).steps[1]!.params.factor).toBe(0.5);
    expect(issues(text, ['n=seven'])[0]).toContain('steps[0].params.n expected an integer, got "seven"');
    expect(issues(text, ['m=1'])).toEqual(["undefined:undefined --set m the pipeline has no variable 'm' | did you mean 'n'?; or set a step's param with --set STEP.PARAM=VALUE"]);
    expect(issues(text, ['x.factor=1'])[0]).toMatch(/^undefined:undefined --set x.factor=1 no step 'x'/);
  });

  it('collects --set problems with the file\'s other problems (#18 item 3)', () => {
    const text = `variables: { n: 4 }\nsteps:\n  - { id: c, stage: counter, params: { n: "\${n}", nn: 1 } }\n  - { id: s, stage: scale }\n`;
    const out = issues(text, ['m=1', 'nope', 'x.factor=1', 's.factor=zero']);
    expect(out).toHaveLength(5);
    expect(out.join('\n')).toContain("--set m the pipeline has no variable 'm'");
    expect(out.join('\n')).toContain("--set nope --set expects name=value, got 'nope'");
    expect(out.join('\n')).toContain("--set x.factor=1 no step 'x'");
    expect(out.join('\n')).toContain("unknown key 'nn'");
    expect(out.join('\n')).toContain('steps[1].params.factor');
  });

  it('requires declared side inputs and rejects unknown ports', () => {
    const out = issues(`steps:
  - { id: a, stage: counter }
  - { id: b, stage: add-side, input: a, inputs: { ofset: a } }
`);
    expect(out.join('\n')).toContain("has no input port 'ofset'");
    expect(out.join('\n')).toContain("did you mean 'offset'?");
    expect(out.join('\n')).toContain("needs input port 'offset'");
  });
});
