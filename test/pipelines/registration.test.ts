/** pipelines/icp-any-angle.yaml (bundled, 2-D rotation search) and pipelines/register-bunny.yaml (shared data, FPFH + RANSAC). */
import { describe, it, expect } from 'vitest';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipelineFile } from '../../src/index.js';
import { angle2D, axisAngle, compose, decompose, homogeneous, invertTransform, quatToMatrix, rotationAngleBetween } from '../../src/core/points/rigid.js';
import { parseConf } from '../../src/core/points/parse.js';
import type { Alignment } from '../../src/core/ports.js';
import { ROOT, hasShared, shared, sharedMissingMessage, tempDir } from '../helpers.js';
import { axes, axisTitled, markItems, pathYs } from '../core/plot/svg-parse.js';

describe('pipelines/icp-any-angle.yaml', () => {
  for (const angle of [180, 150]) {
    it(`the seed curve turned by ${angle}° aligns (about −${angle - 0.565}°), confident, with the files`, async () => {
      const t = tempDir();
      try {
        const r = await runPipelineFile(join(ROOT, 'pipelines', 'icp-any-angle.yaml'), { outDir: t.dir, progress: false, set: [`angle=${angle}`] });
        const a = r.values.fit as Alignment;
        expect(angle2D(a.rotation)).toBeCloseTo(-(angle - 0.565), 2);
        expect(a.fitness).toBe(1);
        expect(a.confident).toBe(true);
        expect(a.finalStage).toBe('icp level 3');
        const names = r.files.map((f) => f.path.split('/').pop()).sort();
        expect(names).toEqual(['aligned.csv', 'alignment.json', 'any-angle-anim.svg', 'any-angle-correspondences.svg', 'any-angle-error.svg', 'any-angle-points.svg']);
        const svg = readFileSync(join(t.dir, 'any-angle-error.svg'), 'utf8');
        expect(svg).toContain('level 3');
        expect(svg).toContain('Final: icp level 3');
        // the RMSE changes only in the 15th digit: the axis must not blow that up into a curve.
        // Distinct tick labels, the axis starts at 0, and the line stays within 1 px of flat
        const y = axisTitled(svg, /inlier RMSE/);
        expect(new Set(y.labels).size).toBe(y.labels.length);
        expect(Number(y.labels[0])).toBe(0);
        const ys = pathYs(/d="([^"]+)"/.exec(markItems(svg, 'line')[0]!)![1]!);
        expect(Math.max(...ys) - Math.min(...ys)).toBeLessThan(1);
        // the x axis counts steps in integers: no two labels alike, none fractional
        const x = axes(svg).find((a) => a.title.startsWith('step'))!;
        expect(x.labels.every((l) => /^\d+$/.test(l))).toBe(true);
        // the animation starts from the turned pose as given, then shows the global step
        const anim = readFileSync(join(t.dir, 'any-angle-anim.svg'), 'utf8');
        const captions = [...anim.matchAll(/font-weight="bold" opacity="[01]">([^<]+)</g)].map((m) => m[1]);
        expect(captions[0]).toBe('start: the source as given (no guess)');
        expect(captions[1]).toMatch(/^after global \(rotation search, 12 starts\): inlier RMSE 0\.308/);
        expect(captions.length).toBe(a.history!.length + 1);
        // its first frame is the source as given: the first circle starts at the source's first point
        const c0 = /<circle cx="([-\d.]+)" cy="([-\d.]+)" r="3"><animate attributeName="cx" values="([^"]+)"/.exec(anim)!;
        const firstX = c0[3]!.split(';').map(Number);
        expect(firstX[0]).not.toBeCloseTo(firstX.at(-1)!, 0); // it moves: starts elsewhere than it ends
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
      // outputs are named after the input files (bun045 turned, onto bun000)
      const rep = JSON.parse(readFileSync(join(t.dir, 'bun045-turned-to-bun000-report.json'), 'utf8'));
      expect(rep.finalStage).toBe('icp level 3');
      expect(rep.confident).toBe(true);
      expect(rep.stages.map((s: { stage: string }) => s.stage)).toEqual(['global (fpfh + ransac)', 'icp level 1', 'icp level 2', 'icp level 3']);
      for (const s of rep.stages) { expect(s.fitness).toBeGreaterThan(0.85); expect(s.inlierRmse).toBeGreaterThan(0); }
      expect(rep.source).toBe('bun045-turned');
      expect(existsSync(join(t.dir, 'bun045-turned-aligned.ply'))).toBe(true);
    } finally {
      t.cleanup();
    }
  }, 30000);
  it('on the user\'s own scans (--set source/target, angle 0): < 0.2° against bun.conf, outputs and labels named after their files, never "bun"/"bunny"', async () => {
    const t = tempDir(), own = tempDir();
    try {
      // the same scans under the user's names, in a folder of their own (a space in the name)
      const a0 = join(own.dir, 'scan A.ply'), b0 = join(own.dir, 'reference.ply');
      copyFileSync(shared('pointclouds/bun045.ply'), a0);
      copyFileSync(shared('pointclouds/bun000.ply'), b0);
      const r = await runPipelineFile(join(ROOT, 'pipelines', 'register-bunny.yaml'), { outDir: t.dir, progress: false, set: ['angle=0', `source=${a0}`, `target=${b0}`, 'plots.animation=false'] });
      const a = r.values.fit as Alignment;
      expect(rotationAngleBetween(a.rotation, decompose(gt()).R)).toBeLessThan(0.2);
      const names = r.files.map((f) => f.path.split('/').pop()!).sort();
      expect(names).toContain('scan A-turned-aligned.ply');
      expect(names).toContain('scan A-turned-to-reference-report.json');
      expect(names.filter((n) => n.endsWith('.svg')).length).toBeGreaterThan(1);
      for (const n of names) expect(n).not.toMatch(/bun/i);
      const rep = JSON.parse(readFileSync(join(t.dir, 'scan A-turned-to-reference-report.json'), 'utf8'));
      expect([rep.source, rep.target]).toEqual(['scan A-turned', 'reference']);
      for (const n of names.filter((x) => x.endsWith('.svg') || x.endsWith('.json'))) {
        const text = readFileSync(join(t.dir, n), 'utf8');
        expect(text, n).not.toMatch(/bun0|bunny/i);
      }
      expect(readFileSync(join(t.dir, names.find((n) => n.endsWith('-points.svg'))!), 'utf8')).toContain('scan A-turned');
    } finally {
      t.cleanup();
      own.cleanup();
    }
  }, 30000);
});
if (!hasShared) it.skip(sharedMissingMessage('pointclouds'), () => undefined);
