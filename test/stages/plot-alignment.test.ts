import { describe, it, expect } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import { readFileSync } from 'node:fs';
import { plotAlignment } from '../../src/stages/plot-alignment.js';
import { align } from '../../src/stages/align.js';
import { generatePoints } from '../../src/stages/generate-points.js';
import { transform } from '../../src/stages/transform.js';
import { tempDir } from '../helpers.js';

describe('plot-alignment', () => {
  it('writes the points plot, the error plot and an SMIL animation with one frame per iteration', async () => {
    const t = tempDir();
    try {
      const target = await lastValueFrom(generatePoints({ shape: 'curve', n: 30, from: 0, to: 29 }));
      const source = await lastValueFrom(of(target).pipe(transform({ ops: [{ op: 'rotate', degrees: 20 }, { op: 'translate', by: [1, 2] }] })));
      const a = await lastValueFrom(of(source).pipe(align({ method: 'icp' }, { sides: { target } })));
      const files = await lastValueFrom(of(a).pipe(plotAlignment({ prefix: 'demo' }, { ctx: { outDir: t.dir } }), toArray()));
      expect(files.map((f) => f.path.split('/').pop())).toEqual(['demo-points.svg', 'demo-error.svg', 'demo-anim.svg']);
      const pts = readFileSync(files[0]!.path, 'utf8');
      expect(pts).toContain('aligned source');
      expect(pts.match(/<circle /g)!.length).toBe(90);
      const err = readFileSync(files[1]!.path, 'utf8');
      expect(err).toContain('inlier RMSE');
      expect(err).toContain('fitness (fraction matched)');
      const anim = readFileSync(files[2]!.path, 'utf8');
      const frames = a.history!.length;
      const values = /<animate attributeName="cx" values="([^"]+)"/.exec(anim)![1]!.split(';');
      expect(values.length).toBe(frames + 3); // every frame, then the last held 3 times
      expect(anim.match(/iteration \d+: inlier RMSE/g)!.length).toBe(frames);
    } finally {
      t.cleanup();
    }
  });
  it('Procrustes results get no animation; 3-D points are projected', async () => {
    const t = tempDir();
    try {
      const target = await lastValueFrom(generatePoints({ shape: 'uniform', n: 50, dim: 3 }));
      const source = await lastValueFrom(of(target).pipe(transform({ ops: [{ op: 'rotate', degrees: 30, axis: [1, 1, 0] }] })));
      const a = await lastValueFrom(of(source).pipe(align({ method: 'procrustes' }, { sides: { target } })));
      const files = await lastValueFrom(of(a).pipe(plotAlignment({ projection: 'pca' }, { ctx: { outDir: t.dir } }), toArray()));
      expect(files.length).toBe(2);
      expect(readFileSync(files[0]!.path, 'utf8')).toContain('(pca view)');
    } finally {
      t.cleanup();
    }
  });
});
