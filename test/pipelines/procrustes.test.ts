/** pipelines/procrustes.yaml on the bundled seed cloud: the recovered transform, the files, and --set variants. */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipelineFile } from '../../src/index.js';
import { loadPipeline } from '../../src/core/pipeline.js';
import { defaultRegistry } from '../../src/stages/index.js';
import { angle2D } from '../../src/core/points/rigid.js';
import { parsePoints } from '../../src/core/points/parse.js';
import type { Alignment } from '../../src/core/ports.js';
import { ROOT, tempDir } from '../helpers.js';
import { axisTitled, legendLabels, markItems } from '../core/plot/svg-parse.js';

const PIPE = join(ROOT, 'pipelines', 'procrustes.yaml');

describe('pipelines/procrustes.yaml', () => {
  it('aligns the moved seed cloud back: −34°, t = (−sin 34°, 1 − cos 34°), and writes its files', async () => {
    const t = tempDir();
    try {
      const r = await runPipelineFile(PIPE, { outDir: t.dir, progress: false });
      const a = r.values.fit as Alignment;
      expect(angle2D(a.rotation)).toBeCloseTo(-34, 10);
      expect(a.translation[0]).toBeCloseTo(-Math.sin((34 * Math.PI) / 180), 10);
      expect(a.translation[1]).toBeCloseTo(1 - Math.cos((34 * Math.PI) / 180), 10);
      const names = r.files.map((f) => f.path.split('/').pop()).sort();
      expect(names).toEqual(['aligned.csv', 'alignment.json', 'procrustes-correspondences.svg', 'procrustes-error.svg', 'procrustes-points.svg']);
      // one-step method: residuals per pair before and after (log axis), not a one-point curve on negative axes
      const err = readFileSync(join(t.dir, 'procrustes-error.svg'), 'utf8');
      const x = axisTitled(err, /^pair/);
      expect(x.labels.map(Number).every((v) => v >= 0 && Number.isInteger(v))).toBe(true);
      expect(Number(x.labels.at(-1))).toBeGreaterThanOrEqual(65);
      expect(axisTitled(err, /log scale/).labels.every((l) => /^1e[-+]\d+$/.test(l))).toBe(true);
      expect(markItems(err, 'symbol')).toHaveLength(140); // 70 pairs before, 70 after
      expect(legendLabels(err)).toEqual(['before the fit', 'after the fit']);
      // correspondences: the 70 given pairs drawn as lines
      expect(markItems(readFileSync(join(t.dir, 'procrustes-correspondences.svg'), 'utf8'), 'rule')).toHaveLength(70);
      const aligned = parsePoints(readFileSync(join(t.dir, 'aligned.csv')), { file: 'aligned.csv' }).points;
      const original = parsePoints(readFileSync(join(ROOT, 'data', 'point_cloud.txt')), { file: 'point_cloud.txt' }).points;
      for (let i = 0; i < 140; i++) expect(aligned.data[i]).toBeCloseTo(original.data[i]!, 10);
      const json = JSON.parse(readFileSync(join(t.dir, 'alignment.json'), 'utf8'));
      // a closed-form fit of given pairs: no convergence, iterations or fitness to report (#18 item 1)
      expect(json.converged).toBeNull();
      expect(json.iterations).toBe(0);
      expect(json.fitness).toBeNull();
      expect(json.confident).toBe(true);
      expect(json.warnings).toEqual([]);
      expect(json.rmseHistory[0]).toBeLessThan(1e-10);
    } finally {
      t.cleanup();
    }
  });
  it('--set angle=-120 is recovered too', async () => {
    const t = tempDir();
    try {
      const r = await runPipelineFile(PIPE, { outDir: t.dir, progress: false, set: ['angle=-120'] });
      expect(angle2D((r.values.fit as Alignment).rotation)).toBeCloseTo(120, 10);
    } finally {
      t.cleanup();
    }
  });
  it("a user's own 2-D points, one per line (--set input=FILE), are read as points, not as 2 points of N-D", async () => {
    // the seed file stores 2 lines of 70 values; a user's file usually one "x y" per line: layout auto reads both
    const t = tempDir();
    try {
      const pts = Array.from({ length: 40 }, (_, i) => [Math.cos(i / 3) * (1 + i / 40), Math.sin(i / 2) + i / 20]);
      const file = join(t.dir, 'my points.txt');
      writeFileSync(file, pts.map((p) => p.join(' ')).join('\n') + '\n');
      const r = await runPipelineFile(PIPE, { outDir: join(t.dir, 'out'), progress: false, set: [`input=${file}`, 'angle=50'] });
      const fit = r.values.fit as Alignment;
      expect(angle2D(fit.rotation)).toBeCloseTo(-50, 10);
      expect(fit.translation[0]).toBeCloseTo(-Math.sin((50 * Math.PI) / 180), 10);
      expect(fit.translation[1]).toBeCloseTo(1 - Math.cos((50 * Math.PI) / 180), 10);
      expect((r.values.original as { points: { rows: number; cols: number } }).points.rows).toBe(40);
    } finally {
      t.cleanup();
    }
  });
  it('validation names the step and suggests the key', () => {
    expect(() => loadPipeline(PIPE, defaultRegistry(), { set: ['fit.alowReflection=true'] })).toThrow(/alowReflection/);
  });
});
