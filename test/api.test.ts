/**
 * The package API as a user imports it: every registered stage is a function of the `stages`
 * namespace under its camelCase name, and `linalg` is exported (through the package's exports
 * map, as `import { linalg } from 'svdflow'`, not only from the source).
 */
import { describe, it, expect, expectTypeOf } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { OperatorFunction } from 'rxjs';
import { stages, allStages, defaultRegistry, linalg, type ImageBatch, type MatrixValue, type Factorization, type Metrics, type FileRef } from '../src/index.js';
import { ROOT, CLI } from './helpers.js';

const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

describe('public API', () => {
  it('every registered stage is exported from stages under its camelCase name', () => {
    const names = defaultRegistry().names();
    expect(names.length).toBe(allStages.length);
    const missing = names.filter((n) => (stages as Record<string, unknown>)[camel(n)] === undefined);
    expect(missing).toEqual([]);
    for (const n of names) expect(((stages as Record<string, { def?: { name: string } }>)[camel(n)]!).def?.name).toBe(n);
  });

  it('the PCA stages are typed functions', () => {
    expectTypeOf(stages.stack()).toEqualTypeOf<OperatorFunction<ImageBatch, MatrixValue>>();
    expectTypeOf(stages.unstack()).toEqualTypeOf<OperatorFunction<MatrixValue, ImageBatch>>();
    expectTypeOf(stages.generate({ from: 'grid' })).toEqualTypeOf<OperatorFunction<Factorization, ImageBatch>>();
    expectTypeOf(stages.pcaReport()).toEqualTypeOf<OperatorFunction<Factorization, Metrics>>();
    expectTypeOf(stages.pcaScatter()).toEqualTypeOf<OperatorFunction<Factorization, FileRef>>();
    expectTypeOf(stages.contactSheet()).toEqualTypeOf<OperatorFunction<ImageBatch, FileRef>>();
  });

  it('linalg computes a known SVD: [[3, 0], [4, 5]] has singular values sqrt(45) and sqrt(5)', () => {
    const A = new linalg.Matrix(2, 2, Float64Array.of(3, 0, 4, 5));
    const r = linalg.svd(A);
    expect(r.s[0]).toBeCloseTo(Math.sqrt(45), 12);
    expect(r.s[1]).toBeCloseTo(Math.sqrt(5), 12);
  });

  it.skipIf(!existsSync(CLI))("import { linalg, stages } from 'svdflow' works through the package's exports map", () => {
    const code = [
      "import { linalg, stages } from 'svdflow';",
      'const r = linalg.svd(new linalg.Matrix(2, 2, Float64Array.of(3, 0, 4, 5)));',
      'console.log(JSON.stringify({ s: Array.from(r.s), stack: typeof stages.stack, pcaScatter: typeof stages.pcaScatter, IncrementalSvd: typeof linalg.IncrementalSvd }));',
    ].join('\n');
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(p.stderr).toBe('');
    const out = JSON.parse(p.stdout);
    expect(out.s[0]).toBeCloseTo(Math.sqrt(45), 12);
    expect(out.s[1]).toBeCloseTo(Math.sqrt(5), 12);
    expect([out.stack, out.pcaScatter, out.IncrementalSvd]).toEqual(['function', 'function', 'function']);
  });
});
