/** pipelines/icp-any-angle.yaml (bundled, 2-D rotation search) and pipelines/register-bunny.yaml (shared data, FPFH + RANSAC). */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipelineFile } from '../../src/index.js';
import { angle2D, axisAngle, compose, decompose, homogeneous, invertTransform, quatToMatrix, rotationAngleBetween } from '../../src/core/points/rigid.js';
import { parseConf } from '../../src/core/points/parse.js';
import type { Alignment } from '../../src/core/ports.js';
import { ROOT, hasShared, shared, sharedMissingMessage, tempDir } from '../helpers.js';

describe('pipelines/icp-any-angle.yaml', () => {
  for (const angle of [180, 150]) {
    it(`the seed curve turned by ${angle}° aligns (about −${angle - 0.565}°), confident, with the files`, async () => {
      const t = tempDir();
      try {
        const r = await runPipelineFile(join(ROOT, 'pipelines', 'icp-any-angle.yaml'), { outDir: t.dir, progress: false, set: [`angle=${angle}`] });
        const a = r.values.fit as Alignment;
        expect(angle2D(a.rotation)).toBeCloseTo(-(angle - 0.565), 2);
        expect(a.fitness).toBe(1);
        expect(a.details!.confident).toBe(true);
        expect(a.details!.finalStage).toBe('icp level 3');
        const names = r.files.map((f) => f.path.split('/').pop()).sort();
        expect(names).toEqual(['aligned.csv', 'alignment.json', 'any-angle-anim.svg', 'any-angle-error.svg', 'any-angle-points.svg']);
        const svg = readFileSync(join(t.dir, 'any-angle-error.svg'), 'utf8');
        expect(svg).toContain('L3');
        expect(svg).toContain('final: icp level 3');
      } finally {
        t.cleanup();
      }
    });
  }
  it('with --set fit.init=identity the same levels fail from this start, with an error that says what to do', async () => {
    const t = tempDir();
    try {
      const run = runPipelineFile(join(ROOT, 'pipelines', 'icp-any-angle.yaml'), { outDir: t.dir, progress: false, set: ['fit.init=identity'] });
      await expect(run).rejects.toThrow(/step 'fit' \(stage align\) failed: no source points have a target point within maxCorrespondenceDistance 3\.26/);
      await expect(run).rejects.toMatchObject({ hint: 'raise maxCorrespondenceDistance, or give an init transform that brings the clouds closer' });
    } finally {
      t.cleanup();
    }
  });
});

describe.skipIf(!hasShared)('pipelines/register-bunny.yaml (shared data)', () => {
  const gt = () => {
    const pose = parseConf(readFileSync(shared('pointclouds/bun.conf'), 'utf8')).get('bun045.ply')!;
    return homogeneous(quatToMatrix(...pose.q).transpose(), pose.t);
  };
  it('bun045 turned 180° about x through its centroid → bun000: rotation error < 0.2°; the report names the stages', async () => {
    const t = tempDir();
    try {
      const r = await runPipelineFile(join(ROOT, 'pipelines', 'register-bunny.yaml'), { outDir: t.dir, progress: false, set: ['plots.animation=false'] });
      const a = r.values.fit as Alignment;
      // the turned source is M·p with M a 180° turn about x through bun045's centroid, so the answer is gt·M⁻¹
      const turn = decompose(homogeneous(axisAngle([1, 0, 0], 180), [0, 0, 0])).R;
      const want = decompose(compose(gt(), invertTransform(homogeneous(turn, [0, 0, 0])))).R;
      expect(rotationAngleBetween(a.rotation, want)).toBeLessThan(0.2);
      const rep = JSON.parse(readFileSync(join(t.dir, 'bunny-report.json'), 'utf8'));
      expect(rep.finalStage).toBe('icp level 3');
      expect(rep.confident).toBe(true);
      expect(rep.stages.map((s: { stage: string }) => s.stage)).toEqual(['global (fpfh + ransac)', 'icp level 1', 'icp level 2', 'icp level 3']);
      for (const s of rep.stages) { expect(s.fitness).toBeGreaterThan(0.85); expect(s.inlierRmse).toBeGreaterThan(0); }
      expect(rep.source).toBe('bun045-turned');
      expect(existsSync(join(t.dir, 'bun045-aligned.ply'))).toBe(true);
    } finally {
      t.cleanup();
    }
  }, 30000);
  it('from the identity (angle 0) with init: global: < 0.2° against bun.conf', async () => {
    const t = tempDir();
    try {
      const r = await runPipelineFile(join(ROOT, 'pipelines', 'register-bunny.yaml'), { outDir: t.dir, progress: false, set: ['angle=0', 'plots.animation=false'] });
      const a = r.values.fit as Alignment;
      expect(rotationAngleBetween(a.rotation, decompose(gt()).R)).toBeLessThan(0.2);
    } finally {
      t.cleanup();
    }
  }, 30000);
});
if (!hasShared) it.skip(sharedMissingMessage('pointclouds'), () => undefined);
