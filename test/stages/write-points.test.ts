import { describe, it, expect } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import { readFileSync } from 'node:fs';
import { writePoints } from '../../src/stages/write-points.js';
import { loadPoints } from '../../src/stages/load-points.js';
import { Matrix } from '../../src/core/linalg/matrix.js';
import type { PointCloud } from '../../src/core/ports.js';
import { tempDir } from '../helpers.js';

const cloud: PointCloud = { kind: 'PointCloud', name: 'c', points: Matrix.from2D([[0.1, 0.2, 0.3], [1, 2, 3], [-4.5, 5e-7, 6]]), normals: Matrix.from2D([[0, 0, 1], [0, 1, 0], [1, 0, 0]]) };

describe('write-points', () => {
  it('PLY (binary and ascii), CSV, TXT and XYZ read back to the same points', async () => {
    const t = tempDir();
    try {
      const ctx = { outDir: t.dir, baseDir: t.dir };
      const cases = [
        { path: '{name}.ply' }, { path: 'ascii.ply', binary: false }, { path: 'c.csv' }, { path: 'c.txt', read: 'rows' as const }, { path: 'c.xyz' }, { path: 'cols.txt', layout: 'columns' as const },
      ];
      for (const params of cases) {
        const { read, ...wp } = params as typeof params & { read?: 'rows' };
        const f = await lastValueFrom(of(cloud).pipe(writePoints(wp, { ctx })));
        // a 3 x 3 table is ambiguous for auto, so the reader is told the layout
        const back = await lastValueFrom(loadPoints({ path: f.path, layout: read ?? wp.layout ?? 'auto' }, { ctx }));
        expect(back.points.to2D()).toEqual(cloud.points.to2D());
        if (!params.path.endsWith('.txt')) expect(back.normals!.to2D()).toEqual(cloud.normals!.to2D());
      }
      expect(readFileSync(`${t.dir}/c.csv`, 'utf8').split('\n')[0]).toBe('x,y,z,nx,ny,nz');
      expect(readFileSync(`${t.dir}/c.ply`).subarray(0, 36).toString()).toContain('format binary_little_endian 1.0');
    } finally {
      t.cleanup();
    }
  });
  it('an unknown extension is a clear error', async () => {
    const t = tempDir();
    try {
      // a param-only check: refused when the stage is built (validate reports it), before any data
      expect(() => writePoints({ path: 'c.las' }, { ctx: { outDir: t.dir } })).toThrow("path: cannot tell the point format from the path's extension: end path with .ply, .csv, .txt or .xyz, or set format");
    } finally {
      t.cleanup();
    }
  });
});
