/** pipelines/icp.yaml (the seed's 2-D curve) and pipelines/icp-bunny.yaml (shared data, skipped when absent). */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipelineFile } from '../../src/index.js';
import { angle2D, decompose, homogeneous, quatToMatrix, rotationAngleBetween } from '../../src/core/points/rigid.js';
import { parseConf } from '../../src/core/points/parse.js';
import type { Alignment } from '../../src/core/ports.js';
import { ROOT, hasShared, shared, sharedMissingMessage, tempDir } from '../helpers.js';

describe('pipelines/icp.yaml', () => {
  it('converges to about −89.4° (31 against 30 points) and writes points, plots and the animation', async () => {
    const t = tempDir();
    try {
      const r = await runPipelineFile(join(ROOT, 'pipelines', 'icp.yaml'), { outDir: t.dir, progress: false });
      const a = r.values.fit as Alignment;
      expect(a.converged).toBe(true);
      expect(angle2D(a.rotation)).toBeGreaterThan(-89.6);
      expect(angle2D(a.rotation)).toBeLessThan(-89.2);
      expect(a.source.points.rows).toBe(31);
      expect(a.target.points.rows).toBe(30);
      const names = r.files.map((f) => f.path.split('/').pop()).sort();
      expect(names).toEqual(['aligned.csv', 'alignment.json', 'icp-anim.svg', 'icp-correspondences.svg', 'icp-error.svg', 'icp-points.svg']);
      expect(readFileSync(join(t.dir, 'icp-anim.svg'), 'utf8')).toContain('<animate attributeName="cx"');
    } finally {
      t.cleanup();
    }
  });
  describe.skipIf(!hasShared)('pipelines/icp-bunny.yaml (shared data)', () => {
    it('bun045 → bun000 point-to-plane from the identity: rotation error < 0.1° against bun.conf', async () => {
      const t = tempDir();
      try {
        // the full-resolution run (40k points) takes about 2 s; the plots are skipped for speed
        const r = await runPipelineFile(join(ROOT, 'pipelines', 'icp-bunny.yaml'), { outDir: t.dir, progress: false, set: ['plots.animation=false'] });
        const a = r.values.fit as Alignment;
        const pose = parseConf(readFileSync(shared('pointclouds/bun.conf'), 'utf8')).get('bun045.ply')!;
        const gt = decompose(homogeneous(quatToMatrix(...pose.q).transpose(), pose.t));
        expect(rotationAngleBetween(a.rotation, gt.R)).toBeLessThan(0.1);
        expect(a.converged).toBe(true);
        expect(existsSync(join(t.dir, 'bun045-aligned.ply'))).toBe(true);
      } finally {
        t.cleanup();
      }
    }, 30000);
  });
  if (!hasShared) it.skip(sharedMissingMessage('pointclouds'), () => undefined);
});
