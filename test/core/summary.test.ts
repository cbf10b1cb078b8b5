/** The end summary states each job's headline result, and a terminal run names the pipeline first. */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { headlineResults } from '../../src/core/headline.js';
import { ROOT, CLI, tempDir } from '../helpers.js';

const tmp = tempDir('svdflow-summary-');
afterAll(() => tmp.cleanup());

describe('end summary', () => {
  it('image-compress prints k, the relative error and the ratio', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', join(ROOT, 'pipelines', 'image-compress.yaml'), '--set', 'width=140', '--set', 'height=206', '--out', join(tmp.dir, 'ic'), '--no-progress'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/results:\n\s+compression turtle: rank k 7, relative error [\d.]+%.*compression \(float32 factors\) [\d.]+x/);
  }, 60_000);

  it('icp prints the rotation, translation, inlier RMSE, fitness and confidence', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', join(ROOT, 'pipelines', 'icp.yaml'), '--out', join(tmp.dir, 'icp'), '--no-progress'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/alignment .*rotation -?[\d.]+°, translation \(.*\), fitness [\d.]+, inlier RMSE [\d.e-]+.*confident (yes|NO)/);
  }, 60_000);

  it('a 3-D rotation is stated as its angle about its unit axis: 30° about z', () => {
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
    const [g] = headlineResults([{ kind: 'Alignment', name: 'a', method: 'procrustes', dim: 3, rotation: [[c, -s, 0], [s, c, 0], [0, 0, 1]], translation: [1, 2, 3], fitness: 1, inlierRmse: 0 }]);
    expect(g!.items.find((i) => i.label === 'rotation')!.value).toBe('30.000° about (0.000, 0.000, 1.000)');
  });

  it('the axis of a half turn (no skew part) and of no rotation', () => {
    const rot = (R: number[][]) => headlineResults([{ kind: 'Alignment', name: 'a', method: 'procrustes', dim: 3, rotation: R, translation: [0, 0, 0] }])[0]!.items.find((i) => i.label === 'rotation')!.value;
    expect(rot([[1, 0, 0], [0, -1, 0], [0, 0, -1]])).toBe('180.000° about (1.000, 0.000, 0.000)'); // 180° about x
    expect(rot([[-1 / 3, 2 / 3, 2 / 3], [2 / 3, -1 / 3, 2 / 3], [2 / 3, 2 / 3, -1 / 3]])).toBe('180.000° about (0.577, 0.577, 0.577)'); // 180° about (1,1,1)/√3: 2kkᵀ - I
    expect(rot([[1, 0, 0], [0, 1, 0], [0, 0, 1]])).toBe('0.000°');
  });

  it.skipIf(!existsSync('/usr/bin/script'))('on a terminal the run names the pipeline before its first step', () => {
    const cmd = `${process.execPath} ${CLI} run ${join(ROOT, 'pipelines', 'procrustes.yaml')} --out ${join(tmp.dir, 'tty')}`;
    const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/▶ procrustes \(\d+ steps\) → /);
    expect(r.stdout.indexOf('▶ procrustes')).toBeLessThan(r.stdout.indexOf('✔ procrustes'));
  }, 60_000);
});
