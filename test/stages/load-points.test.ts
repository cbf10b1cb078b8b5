import { describe, it, expect } from 'vitest';
import { lastValueFrom } from 'rxjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPoints } from '../../src/stages/load-points.js';
import { ROOT, tempDir } from '../helpers.js';

describe('load-points', () => {
  it("loads the seed's point_cloud.txt as 70 2-D points named after the file", async () => {
    const c = await lastValueFrom(loadPoints({ path: 'data/point_cloud.txt' }, { ctx: { baseDir: ROOT } }));
    expect(c.kind).toBe('PointCloud');
    expect(c.name).toBe('point_cloud');
    expect([c.points.rows, c.points.cols]).toEqual([70, 2]);
    const rows = await lastValueFrom(loadPoints({ path: 'data/point_cloud.txt', layout: 'rows' }, { ctx: { baseDir: ROOT } }));
    expect([rows.points.rows, rows.points.cols]).toEqual([2, 70]);
  });
  it('CSV with a header and normals; format forced', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'p.dat'), 'x,y,z,nx,ny,nz\n0,0,0,0,0,1\n1,0,0,0,0,1\n0,1,0,0,0,1\n');
      const c = await lastValueFrom(loadPoints({ path: 'p.dat', format: 'csv', name: 'plane' }, { ctx: { baseDir: t.dir } }));
      expect(c.name).toBe('plane');
      expect(c.points.to2D()).toEqual([[0, 0, 0], [1, 0, 0], [0, 1, 0]]);
      expect(c.normals!.row(2)).toEqual(Float64Array.from([0, 0, 1]));
    } finally {
      t.cleanup();
    }
  });
  it('errors name the file and line; empty files and missing files are clear', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'bad.txt'), '1 2\n3 4\n5 NaN\n');
      writeFileSync(join(t.dir, 'empty.xyz'), '');
      await expect(lastValueFrom(loadPoints({ path: 'bad.txt' }, { ctx: { baseDir: t.dir } }))).rejects.toThrow("bad.txt:3: column 2 is 'NaN', not a finite number");
      await expect(lastValueFrom(loadPoints({ path: 'empty.xyz' }, { ctx: { baseDir: t.dir } }))).rejects.toThrow('empty.xyz is empty: no points to read');
      await expect(lastValueFrom(loadPoints({ path: 'nope.ply' }, { ctx: { baseDir: t.dir } }))).rejects.toThrow('cannot read nope.ply (ENOENT)');
    } finally {
      t.cleanup();
    }
  });
  it('rejects unknown params with a suggestion', () => {
    expect(() => loadPoints({ path: 'a.txt', layot: 'rows' } as never)).toThrow(/layot/);
    expect(() => loadPoints({ path: 'a.txt', format: 'las' } as never)).toThrow(/format/);
  });
});
