import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePoints, parseConf } from '../../../src/core/points/parse.js';
import { formatPly, formatCsv, formatTxt } from '../../../src/core/points/write.js';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { ROOT, hasShared, shared, sharedMissingMessage } from '../../helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const P3 = Matrix.from2D([[0.5, -1.25, 3], [1e-3, 2, -7.5], [4, 5, 6], [0.1, 0.2, 0.3]]);
const N3 = Matrix.from2D([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]]);

describe('parsePoints', () => {
  it("reads the seed's 2 x 70 file as 70 points (layout auto → columns)", () => {
    const r = parsePoints(readFileSync(join(ROOT, 'data/point_cloud.txt')), { file: 'point_cloud.txt' });
    expect(r.layout).toBe('columns');
    expect([r.points.rows, r.points.cols]).toEqual([70, 2]);
    // first x and first y values of the file
    expect(r.points.get(0, 0)).toBeCloseTo(0.066588132157, 12);
    let xmin = Infinity, ymax = -Infinity;
    for (let i = 0; i < 70; i++) { xmin = Math.min(xmin, r.points.get(i, 0)); ymax = Math.max(ymax, r.points.get(i, 1)); }
    expect(xmin).toBeCloseTo(-0.041, 3);
    expect(ymax).toBeCloseTo(0.518, 3);
  });
  it('one point per row, with layout rows or auto; columns transposes', () => {
    const t = '1 2 3\n4 5 6\n7 8 9\n10 11 12\n';
    expect(parsePoints(enc(t), { file: 'a.txt' }).points.to2D()).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    expect(parsePoints(enc('1 2 3 4\n5 6 7 8\n'), { file: 'b.txt', layout: 'rows' }).points.cols).toBe(4);
    expect(parsePoints(enc('1 2 3 4\n5 6 7 8\n'), { file: 'b.txt' }).points.to2D()).toEqual([[1, 5], [2, 6], [3, 7], [4, 8]]);
  });
  it('auto says when it cannot tell the layout', () => {
    expect(() => parsePoints(enc('1 2 3\n4 5 6\n'), { file: 'small.txt' })).toThrow(/small\.txt: cannot tell the layout of a 2 x 3 table/);
    try { parsePoints(enc('1 2\n3 4\n'), { file: 's.txt' }); } catch (e) { expect((e as { hint: string }).hint).toMatch(/layout: rows .* layout: columns/); }
    expect(parsePoints(enc('1 2 3\n4 5 6\n'), { file: 'small.txt', layout: 'rows' }).points.rows).toBe(2);
  });
  it('CSV with and without a header; header columns in any order, with normals', () => {
    const h = parsePoints(enc('z,nx,x,ny,y,nz\n3,0,1,0,2,1\n6,1,4,0,5,0\n9,0,7,1,8,0\n'), { file: 'h.csv' });
    expect(h.points.to2D()).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(h.normals!.to2D()).toEqual([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    const n = parsePoints(enc('1;2\n3;4\n5;6\n7;8\n'), { file: 'n.csv' });
    expect(n.points.to2D()).toEqual([[1, 2], [3, 4], [5, 6], [7, 8]]);
    expect(() => parsePoints(enc('a,b\n1,2\n'), { file: 'bad.csv' })).toThrow(/bad\.csv: the CSV header \(a, b\) has no x and y columns/);
  });
  it('XYZ with 6 columns gives normals', () => {
    const r = parsePoints(enc(formatTxt(P3, 'rows', N3)), { file: 'p.xyz' });
    expect(r.points.to2D()).toEqual(P3.to2D());
    expect(r.normals!.to2D()).toEqual(N3.to2D());
  });
  it('PLY ascii and binary_little_endian round-trip exactly, normals included', () => {
    for (const binary of [false, true]) {
      const r = parsePoints(formatPly(P3, N3, { binary }), { file: 'x.ply' });
      expect(r.format).toBe('ply');
      expect(r.points.to2D()).toEqual(P3.to2D());
      expect(r.normals!.to2D()).toEqual(N3.to2D());
    }
    const csv = parsePoints(enc(formatCsv(P3, N3)), { file: 'x.csv' });
    expect(csv.points.to2D()).toEqual(P3.to2D());
  });
  it('PLY binary with float/uchar properties and a face list element before the vertices', () => {
    const head = 'ply\nformat binary_little_endian 1.0\nelement face 1\nproperty list uchar int vertex_indices\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nend_header\n';
    const body = Buffer.alloc(1 + 12 + 2 * 13);
    let o = 0;
    body.writeUInt8(3, o); o += 1;
    for (const v of [0, 1, 2]) { body.writeInt32LE(v, o); o += 4; }
    for (const [x, y, z, r] of [[1.5, 2.5, -3.5, 7], [4, 5, 6, 9]]) { body.writeFloatLE(x!, o); body.writeFloatLE(y!, o + 4); body.writeFloatLE(z!, o + 8); body.writeUInt8(r!, o + 12); o += 13; }
    const r = parsePoints(Buffer.concat([Buffer.from(head), body]), { file: 'f.ply' });
    expect(r.points.to2D()).toEqual([[1.5, 2.5, -3.5], [4, 5, 6]]);
    expect(r.normals).toBeUndefined();
  });
  it('errors name the file and line: NaN, Inf, text, ragged rows, empty file, truncated PLY', () => {
    expect(() => parsePoints(enc('1 2\n3 nan\n5 6\n'), { file: 'n.txt' })).toThrow("n.txt:2: column 2 is 'nan', not a finite number");
    expect(() => parsePoints(enc('1 2\n3 4\n5 Inf\n7 8\n'), { file: 'i.txt' })).toThrow("i.txt:3: column 2 is 'Inf', not a finite number");
    expect(() => parsePoints(enc('1 2\n3 4\n5 6 7\n'), { file: 'r.txt' })).toThrow('r.txt:3: 3 values, but line 1 has 2');
    expect(() => parsePoints(enc('1 2\n3 x4\n'), { file: 'x.txt' })).toThrow("x.txt:2: column 2 is 'x4', not a number");
    expect(() => parsePoints(new Uint8Array(0), { file: 'empty.ply' })).toThrow('empty.ply is empty: no points to read');
    expect(() => parsePoints(enc('# only a comment\n\n'), { file: 'c.txt' })).toThrow('c.txt holds no points');
    const ply = 'ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n4 5 nan\n';
    expect(() => parsePoints(enc(ply), { file: 'a.ply' })).toThrow("a.ply:9: column 3 is 'nan', not a finite number");
    const short = 'ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n';
    expect(() => parsePoints(enc(short), { file: 's.ply' })).toThrow('s.ply:9: expected vertex 1 of 3, found');
    const bin = formatPly(P3, undefined, { binary: true });
    expect(() => parsePoints(bin.subarray(0, bin.length - 5), { file: 't.ply' })).toThrow(/t\.ply: the binary PLY body ends early/);
    expect(() => parsePoints(enc('ply\nformat binary_big_endian 1.0\nelement vertex 1\nproperty float x\nend_header\n'), { file: 'be.ply' })).toThrow("be.ply: PLY format 'binary_big_endian' is not supported");
  });
  describe.skipIf(!hasShared)('Stanford bunny scans (shared data)', () => {
    it('reads bun045.ply (40,097 vertices, range_grid skipped) and the bun.conf poses', () => {
      const r = parsePoints(readFileSync(shared('pointclouds/bun045.ply')), { file: 'bun045.ply' });
      expect([r.points.rows, r.points.cols]).toEqual([40097, 3]);
      expect(Array.from(r.points.row(0))).toEqual([-0.0075, 0.0342091, 0.0703997]);
      const conf = parseConf(readFileSync(shared('pointclouds/bun.conf'), 'utf8'));
      expect(conf.get('bun045.ply')!.q).toEqual([0.00548449, -0.294635, -0.0038555, 0.955586]);
    });
  });
  if (!hasShared) it.skip(sharedMissingMessage('pointclouds'), () => undefined);
});

describe('own CSVs: headers with units, layout and format hints', () => {
  it('accepts coordinate names with a unit (x_mm, x [mm], X(m), z-m) when each of x, y (z) is one column', () => {
    for (const h of ['x_mm,y_mm', 'x [mm],y [mm]', 'X(m),Y(m)', 'x mm,y mm', 'x-m,y-m']) {
      expect(parsePoints(enc(`${h}\n1,2\n3,4\n5,6\n`), { file: 'u.csv' }).points.to2D()).toEqual([[1, 2], [3, 4], [5, 6]]);
    }
    expect(parsePoints(enc('id,Z(m),X(m),Y(m)\n7,3,1,2\n8,6,4,5\n'), { file: 'u.csv' }).points.to2D()).toEqual([[1, 2, 3], [4, 5, 6]]);
    // two x columns: ambiguous, refused; a name that is not x/y/z plus a unit: refused
    expect(() => parsePoints(enc('x_mm,x_m,y_mm\n1,2,3\n'), { file: 'a.csv' })).toThrow('a.csv: the CSV header (x_mm, x_m, y_mm) has no x and y columns');
    expect(() => parsePoints(enc('xy,yz\n1,2\n'), { file: 'b.csv' })).toThrow('b.csv: the CSV header (xy, yz) has no x and y columns');
  });

  it('a square table: the question is rows or columns, and the hint names the fix in the form given (YAML, or --set)', () => {
    const ask = (fix?: (k: string, v: string) => string) => { try { parsePoints(enc('1 2\n3 4\n'), { file: 's.txt', ...(fix ? { fix } : {}) }); } catch (e) { return [(e as Error).message, (e as { hint: string }).hint]; } return []; };
    expect(ask()).toEqual(['s.txt: cannot tell the layout of a 2 x 2 table: one point per line (2 points of 2 coordinates) or one line per coordinate (2 points of 2)?', "layout: rows (one point per line) or layout: columns (one line per coordinate, like the seed's point_cloud.txt)"]);
    expect(ask((k, v) => `--set pts.${k}=${v}`)[1]).toBe("--set pts.layout=rows (one point per line) or --set pts.layout=columns (one line per coordinate, like the seed's point_cloud.txt)");
    let hint = '';
    try { parsePoints(enc('x y z\n1 2 3\n'), { file: 'h.xyz', fix: (k, v) => `--set c.${k}=${v}` }); } catch (e) { hint = (e as { hint: string }).hint; }
    expect(hint).toBe('XYZ files hold numbers only; read a header line as CSV: --set c.format=csv');
  });
});
