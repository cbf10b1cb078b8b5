import { describe, it, expect } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { transform } from '../../src/stages/transform.js';
import { generatePoints } from '../../src/stages/generate-points.js';
import { Matrix } from '../../src/core/linalg/matrix.js';
import type { PointCloud } from '../../src/core/ports.js';

const pc = (rows: number[][], normals?: number[][]): PointCloud => ({ kind: 'PointCloud', name: 'p', points: Matrix.from2D(rows), ...(normals ? { normals: Matrix.from2D(normals) } : {}) });
const run = (c: PointCloud, ops: unknown[]) => lastValueFrom(of(c).pipe(transform({ ops } as never)));
const close = (a: Matrix, b: number[][]) => b.forEach((r, i) => r.forEach((v, j) => expect(a.get(i, j)).toBeCloseTo(v, 12)));

describe('transform', () => {
  it('rotate (counter-clockwise), translate, scale and mirror in the order given', async () => {
    close((await run(pc([[1, 0], [0, 2]]), [{ op: 'rotate', degrees: 90 }])).points, [[0, 1], [-2, 0]]);
    close((await run(pc([[1, 0]]), [{ op: 'translate', by: [0, -1] }, { op: 'rotate', degrees: 90 }])).points, [[1, 1]]);
    close((await run(pc([[1, 0]]), [{ op: 'rotate', degrees: 90 }, { op: 'translate', by: [0, -1] }])).points, [[0, 0]]);
    close((await run(pc([[1, 1], [3, 3]]), [{ op: 'scale', factor: 2, about: 'centroid' }])).points, [[0, 0], [4, 4]]);
    close((await run(pc([[1, 2, 3]]), [{ op: 'mirror', axis: 1 }])).points, [[1, -2, 3]]);
  });
  it('3-D rotation by axis + degrees equals the quaternion (scalar last); normals turn too', async () => {
    const c = pc([[1, 0, 0], [0, 1, 0]], [[1, 0, 0], [0, 0, 1]]);
    const a = await run(c, [{ op: 'rotate', degrees: 90, axis: [0, 0, 1] }]);
    const q = await run(c, [{ op: 'rotate', quaternion: [0, 0, Math.SQRT1_2, Math.SQRT1_2] }]);
    close(a.points, [[0, 1, 0], [-1, 0, 0]]);
    close(q.points, [[0, 1, 0], [-1, 0, 0]]);
    close(a.normals!, [[0, 1, 0], [0, 0, 1]]);
  });
  it('noise, shuffle and subsample are seeded and repeatable', async () => {
    const c = await lastValueFrom(generatePoints({ shape: 'uniform', n: 200, dim: 3, seed: 5 }));
    const n1 = await run(c, [{ op: 'noise', sigma: 0.01, seed: 3 }]);
    const n2 = await run(c, [{ op: 'noise', sigma: 0.01, seed: 3 }]);
    expect(n1.points.data).toEqual(n2.points.data);
    let sd = 0;
    for (let i = 0; i < 600; i++) sd += (n1.points.data[i]! - c.points.data[i]!) ** 2;
    expect(Math.sqrt(sd / 600)).toBeGreaterThan(0.008);
    expect(Math.sqrt(sd / 600)).toBeLessThan(0.012);
    const s = await run(c, [{ op: 'shuffle', seed: 1 }]);
    expect(Array.from(s.points.data).sort()).toEqual(Array.from(c.points.data).sort());
    expect(s.points.data).not.toEqual(c.points.data);
    expect((await run(c, [{ op: 'subsample', every: 10 }])).points.rows).toBe(20);
    expect((await run(c, [{ op: 'subsample', fraction: 0.25 }])).points.rows).toBe(50);
    const v = await run(c, [{ op: 'subsample', voxel: 0.5 }]);
    expect(v.points.rows).toBe(8); // uniform points in the unit cube: 2 x 2 x 2 voxels
  });
  it("the seed's curve generator: y = 0.2·x·sin(0.5·x)", async () => {
    const c = await lastValueFrom(generatePoints({ shape: 'curve', n: 31, from: 0, to: 30 }));
    expect(c.points.rows).toBe(31);
    expect(c.points.get(7, 0)).toBe(7);
    expect(c.points.get(7, 1)).toBeCloseTo(0.2 * 7 * Math.sin(3.5), 14);
  });
  it('clear errors: wrong dimension, missing rotation parameters, exactly one subsample mode', async () => {
    await expect(run(pc([[1, 0], [0, 1]]), [{ op: 'translate', by: [1, 2, 3] }])).rejects.toThrow('p: ops[0] (translate): translate.by has 3 values but the points are 2-D');
    await expect(run(pc([[1, 0, 0]]), [{ op: 'rotate', degrees: 10 }])).rejects.toThrow('ops[0] (rotate): 3-D rotate needs degrees and axis');
    await expect(run(pc([[1, 0]]), [{ op: 'rotate', quaternion: [0, 0, 0, 1] }])).rejects.toThrow('2-D points rotate by degrees only');
    await expect(run(pc([[1, 0], [0, 1]]), [{ op: 'subsample', every: 2, voxel: 1 }])).rejects.toThrow('subsample needs exactly one of every, fraction, voxel (got 2)');
    expect(() => transform({ ops: [{ op: 'spin', degrees: 3 }] } as never)).toThrow(/ops/);
  });
});
