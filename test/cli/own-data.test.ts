/**
 * A user's own data and paths (the new-user trial's flaws with own point clouds, curves and globs):
 * --set globs relative to the current folder, ICP/registration results a user can read, hints in
 * --set form. Each case checks exact lines or written values against a known answer.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, requireCli, ROOT, tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  requireCli();
  tmp = tempDir('svdflow own data-');
});
afterAll(() => tmp.cleanup());

const PCA = join(ROOT, 'pipelines', 'stamps-pca.yaml');

describe('--set globs are relative to the current folder, as every --set path', () => {
  it("a quoted relative glob (images='faces/*.jpg') reads the current folder's faces/, not the pipeline's", () => {
    const faces = join(tmp.dir, 'cwd', 'faces');
    mkdirSync(faces, { recursive: true });
    for (const n of ['im_00', 'im_01', 'im_02', 'im_03']) copyFileSync(join(ROOT, 'data', 'stamps', `${n}.jpg`), join(faces, `${n}.jpg`));
    const out = join(tmp.dir, 'o-glob');
    const r = cli(['run', PCA, '--set', 'images=faces/*.jpg', '--set', 'ranks=[1]', '--out', out, '--no-progress'], { cwd: join(tmp.dir, 'cwd') });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'pca-report.json'), 'utf8'));
    expect(rep.values.images).toBe(4);
    expect(rep.name).toBe('faces-pca');
    expect(r.out).toContain('PCA metrics: faces\n');
  });

  it("one image file where the pipeline needs a collection gets the one-image glob's data error (exit 1, the file named, a folder or glob of at least 3 images), not a type mismatch", () => {
    const faces = join(tmp.dir, 'one', 'faces');
    mkdirSync(faces, { recursive: true });
    copyFileSync(join(ROOT, 'data', 'stamps', 'im_00.jpg'), join(faces, 'img 00.jpg'));
    const r = cli(['run', PCA, '--set', 'images=faces/img 00.jpg', '--out', join(tmp.dir, 'o-one'), '--no-progress'], { cwd: join(tmp.dir, 'one') });
    expect(r.code).toBe(1);
    expect(r.err).not.toContain('type mismatch');
    expect(r.err).toContain("file faces/img 00.jpg has 1 image (0 components once the mean image is removed), but step 'map' (pca-scatter) needs 2 components for components [1, 2]\n    → give a folder or a glob of at least 3 images, or --set map.components=[1,1]\n");
    const g = cli(['run', PCA, '--set', 'images=faces/*.jpg', '--out', join(tmp.dir, 'o-one-g'), '--no-progress'], { cwd: join(tmp.dir, 'one') });
    expect(g.code).toBe(1);
    expect(g.err).toContain("has 1 image (0 components once the mean image is removed), but step 'map' (pca-scatter) needs 2 components for components [1, 2]\n    → give at least 3 images, or --set map.components=[1,1]\n");
  });

  it('a relative glob whose folder is missing names the folder under the current one, and the hint says where --set paths point', () => {
    const r = cli(['run', PCA, '--set', 'images=nope/*.jpg', '--out', join(tmp.dir, 'o-nope')], { cwd: join(tmp.dir, 'cwd') });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`folder not found for glob ${join(tmp.dir, 'cwd', 'nope')}/*.jpg: ${join(tmp.dir, 'cwd', 'nope')}\n`);
    expect(r.err).toContain('→ check the path (paths in a pipeline file are relative to its folder; paths given with --set are relative to the current directory)\n');
    expect(r.err).not.toContain(join(ROOT, 'pipelines', 'nope'));
  });
});

/** points on a bumpy closed surface (an ellipsoid with ripples): normals everywhere, no symmetry */
function surfaceCloud(n = 400): number[][] {
  const pts: number[][] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.acos(1 - (2 * (i + 0.5)) / n);
    const v = Math.PI * (1 + Math.sqrt(5)) * i;
    const r = 1 + 0.15 * Math.sin(3 * u) * Math.cos(2 * v);
    pts.push([30 * r * Math.sin(u) * Math.cos(v), 20 * r * Math.sin(u) * Math.sin(v), 12 * r * Math.cos(u)]);
  }
  return pts;
}

/** R of `deg` degrees about the unit axis `k` (Rodrigues) */
function rot(deg: number, k: number[]): number[][] {
  const t = (deg * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t), C = 1 - c;
  const [x, y, z] = k as [number, number, number];
  return [[c + x * x * C, x * y * C - z * s, x * z * C + y * s], [y * x * C + z * s, c + y * y * C, y * z * C - x * s], [z * x * C - y * s, z * y * C + x * s, c + z * z * C]];
}

const apply = (R: number[][], t: number[], p: number[]) => R.map((row, i) => row[0]! * p[0]! + row[1]! * p[1]! + row[2]! * p[2]! + t[i]!);
const xyz = (pts: number[][]) => pts.map((p) => p.map((v) => v.toFixed(9)).join(' ')).join('\n') + '\n';

describe('icp-bunny on your own clouds gives the transform', () => {
  it('the summary and alignment.json state R (angle about an axis), t, fitness and RMSE: the inverse of the known move', () => {
    const dir = join(tmp.dir, 'clouds');
    mkdirSync(dir, { recursive: true });
    const target = surfaceCloud();
    const axis = [1 / 3, 2 / 3, 2 / 3];
    const R = rot(12, axis), t = [2, -1, 1.5];
    writeFileSync(join(dir, 'scan.xyz'), xyz(target));
    writeFileSync(join(dir, 'scan-moved.xyz'), xyz(target.map((p) => apply(R, t, p))));
    const out = join(tmp.dir, 'o-icp');
    const r = cli(['run', join(ROOT, 'pipelines', 'icp-bunny.yaml'), '--set', 'source=scan-moved.xyz', '--set', 'target=scan.xyz', '--set', 'distance=5', '--out', out, '--no-progress'], { cwd: dir });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // source onto target undoes the move: Rᵀ (12° about -axis), t' = -Rᵀ t
    const tBack = [0, 1, 2].map((j) => -(R[0]![j]! * t[0]! + R[1]![j]! * t[1]! + R[2]![j]! * t[2]!));
    expect(r.out).toContain(`    alignment scan-moved-to-scan: method icp (point-to-plane), rotation 12.000° about (-0.333, -0.667, -0.667), translation (${tBack.map((v) => String(Number(v.toPrecision(4)))).join(', ')}), fitness 1.000, inlier RMSE `);
    expect(r.out).toMatch(/^    alignment\.json +\d+\.\d KiB  Alignment: scan-moved-to-scan$/m);
    const a = JSON.parse(readFileSync(join(out, 'alignment.json'), 'utf8'));
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(a.rotation[i][j]).toBeCloseTo(R[j]![i]!, 6);
    a.translation.forEach((v: number, i: number) => expect(v).toBeCloseTo(tBack[i]!, 5));
    expect(a.fitness).toBe(1);
    expect(a.inlierRmse).toBeLessThan(1e-5);
    expect(a.converged).toBe(true);
    expect([a.source, a.target, a.sourcePoints, a.targetPoints]).toEqual(['scan-moved', 'scan', 400, 400]);
    expect(a.aligned).toBeUndefined();
    expect(a.rmseHistory.length).toBe(a.iterations + 1);
  });
});

describe('register-bunny on clouds in other units', () => {
  const REG = join(ROOT, 'pipelines', 'register-bunny.yaml');
  const dir = () => join(tmp.dir, 'units');
  let suggested = '', extent = '';
  beforeAll(() => {
    mkdirSync(dir(), { recursive: true });
    const target = surfaceCloud();
    writeFileSync(join(dir(), 'part.xyz'), xyz(target));
    writeFileSync(join(dir(), 'part-moved.xyz'), xyz(target.map((p) => apply(rot(25, [0, 0.6, 0.8]), [4, -3, 2], p))));
    const lo = [0, 1, 2].map((j) => Math.min(...target.map((p) => p[j]!))), hi = [0, 1, 2].map((j) => Math.max(...target.map((p) => p[j]!)));
    const diag = Math.hypot(...hi.map((h, j) => h - lo[j]!));
    suggested = String(Number((diag / 40).toPrecision(2)));
    extent = String(Number(diag.toPrecision(2)));
  });

  it("the default voxel fails: no inliers is not shown as RMSE 0, the warnings name the extent and a voxel in --set form, the summary says the source was turned first", () => {
    const out = join(tmp.dir, 'o-units');
    const r = cli(['run', REG, '--set', 'source=part-moved.xyz', '--set', 'target=part.xyz', '--out', out, '--no-progress'], { cwd: dir() });
    expect(r.code).toBe(0);
    expect(r.err).toContain(`WARN: the target spans ~${extent} units (bounding-box diagonal), but the global voxel 0.005 suits clouds about 0.2 across (about 40 voxels): try --set fit.global.voxel=${suggested} `);
    expect(r.out).toContain('    alignment part-moved-turned-to-part: method icp (point-to-plane), source part-moved, then rotate 180° about (1, 0, 0) through the centroid (step turned), rotation ');
    expect(r.out).toContain(', fitness 0.000, inlier RMSE none (no inliers), iterations 0, converged NO, confident NO\n');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<tr><th>inlier RMSE</th><td class="num">none (no inliers)</td>');
    expect(html).toContain(`<li>the target spans ~${extent} units (bounding-box diagonal), but the global voxel 0.005 suits clouds about 0.2 across (about 40 voxels): try --set fit.global.voxel=${suggested}</li>`);
    expect(html).toMatch(/<li>global alignment failed \(RANSAC found no sample/);
  });

  it('the voxel the hint names registers them: the known rotation back (source as given: angle=0)', () => {
    const out = join(tmp.dir, 'o-units-ok');
    const r = cli(['run', REG, '--set', 'source=part-moved.xyz', '--set', 'target=part.xyz', '--set', 'angle=0', '--set', `fit.global.voxel=${suggested}`, '--out', out, '--no-progress'], { cwd: dir() });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('rotation 25.000° about (0.000, -0.600, -0.800)');
    expect(r.out).toMatch(/fitness 1\.000, inlier RMSE \d[.\de-]*, iterations \d+, converged yes, confident yes\n/);
    expect(r.out).not.toContain('none (no inliers)');
  });
});

describe('procrustes on your own points', () => {
  it('names the result after the input file, and the points plot draws the target as rings over the aligned points (both visible)', () => {
    const dir = join(tmp.dir, 'pro');
    mkdirSync(dir, { recursive: true });
    const pts = Array.from({ length: 12 }, (_, i) => [Math.cos(i) * (3 + i), Math.sin(2 * i) * 2 + i / 3]);
    writeFileSync(join(dir, 'my points.csv'), 'x,y\n' + pts.map((p) => p.join(',')).join('\n') + '\n');
    const out = join(tmp.dir, 'o-pro');
    const r = cli(['run', join(ROOT, 'pipelines', 'procrustes.yaml'), '--set', 'input=my points.csv', '--out', out, '--no-progress'], { cwd: dir });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('    alignment my points-moved-to-my points: method procrustes, source my points, then translate by (0, -1), rotate 34°, translate by (0, 1) (step moved), rotation -34.000°, translation (-0.5592, 0.171), inlier RMSE ');
    expect(r.out).toMatch(/^ {4}aligned\.csv +[\d.]+ (B|KiB) {2}12 2-D points \(my points-moved-aligned\)$/m);
    expect(r.out).not.toContain('seed-cloud');
    expect(JSON.parse(readFileSync(join(out, 'alignment.json'), 'utf8')).name).toBe('my points-moved-to-my points');
    const svg = readFileSync(join(out, 'procrustes-points.svg'), 'utf8');
    const plot = svg.slice(0, svg.indexOf('role-legend'));
    const marks = [...plot.matchAll(/<path transform="translate\([^)]*\)" d="M([\d.]+),0A[^"]*"([^>]*)>/g)].map((m) => ({ r: Number(m[1]), attrs: m[2]! }));
    const rings = marks.map((m, i) => ({ ...m, i })).filter((m) => m.attrs.includes('stroke="#d62728"') && !m.attrs.includes('fill=')); // hollow
    const aligned = marks.map((m, i) => ({ ...m, i })).filter((m) => m.attrs.includes('fill="#1f77b4"'));
    expect(rings.length).toBe(12);
    expect(aligned.length).toBe(12);
    expect(Math.min(...rings.map((m) => m.i))).toBeGreaterThan(Math.max(...aligned.map((m) => m.i))); // drawn last, on top
    expect(rings[0]!.r).toBeGreaterThan(aligned[0]!.r); // around the aligned points, not under them
  });
});

describe('2-D pipelines take your own points; 3-D ones say to use them', () => {
  it("the bundled curves are generate-points' curves bit for bit (icp.yaml's defaults did not change)", async () => {
    const { xSinCurve } = await import('../../src/core/points/ops.js');
    for (const [file, n, to] of [['curve-30.csv', 30, 29], ['curve-31.csv', 31, 30]] as const) {
      const rows = readFileSync(join(ROOT, 'data', 'curves', file), 'utf8').trim().split('\n');
      expect(rows[0]).toBe('x,y');
      const want = xSinCurve(n, 0, to, 0.2, 0.5);
      expect(rows.slice(1).map((l) => l.split(',').map(Number))).toEqual(Array.from({ length: n }, (_, i) => [want.get(i, 0), want.get(i, 1)]));
    }
  });

  it('icp.yaml --set source/target aligns your CSVs (as given: angle=0, shift=[0, 0]) to the known move back', () => {
    const dir = join(tmp.dir, 'flat');
    mkdirSync(dir, { recursive: true });
    const pts = Array.from({ length: 40 }, (_, i) => [i / 2, 0.2 * (i / 2) * Math.sin(0.5 * (i / 2))]);
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
    writeFileSync(join(dir, 'line.csv'), 'x,y\n' + pts.map((p) => p.join(',')).join('\n') + '\n');
    writeFileSync(join(dir, 'line-moved.csv'), pts.map(([x, y]) => [c * x! - s * y! + 1, s * x! + c * y! - 2].join(',')).join('\n') + '\n');
    for (const pipe of ['icp.yaml', 'icp-any-angle.yaml']) {
      const r = cli(['run', join(ROOT, 'pipelines', pipe), '--set', 'source=line-moved.csv', '--set', 'target=line.csv', '--set', 'angle=0', '--set', 'shift=[0, 0]', '--out', join(tmp.dir, `o-${pipe}`), '--no-progress'], { cwd: dir });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      // back: R(-30°), t = -R(-30°)·(1, -2)
      const tb = [-(c * 1 + s * -2), -(-s * 1 + c * -2)].map((v) => String(Number(v.toPrecision(4))));
      expect(r.out).toContain(`source line-moved, then rotate 0°, translate by (0, 0) (step source), rotation -30.000°, translation (${tb.join(', ')}), fitness 1.000, inlier RMSE `);
      expect(r.out).toContain('converged yes, confident yes\n');
    }
  });

  it("icp.yaml on a trial's curve turned by -30 degrees (default angle 90: ICP sticks in a wrong pose) is not confident and says what to try; the seed's default run stays confident", () => {
    const dir = join(tmp.dir, 'wave');
    mkdirSync(dir, { recursive: true });
    // the trial's files: y = 50 sin(x / 10) at 40 x in 0..60 (spans ~117 units), and it turned by 30 degrees, moved by (7, -3): the answer is -30 degrees
    const pts = Array.from({ length: 40 }, (_, i) => { const x = (i * 60) / 39; return [x, 50 * Math.sin(x / 10)]; });
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
    writeFileSync(join(dir, 'curve.csv'), pts.map((p) => p.join(',')).join('\n') + '\n');
    writeFileSync(join(dir, 'moved.csv'), 'x,y\n' + pts.map(([x, y]) => [c * x! - s * y! + 7, s * x! + c * y! - 3].join(',')).join('\n') + '\n');
    const out = join(tmp.dir, 'o-wave');
    const r = cli(['run', join(ROOT, 'pipelines', 'icp.yaml'), '--set', 'source=moved.csv', '--set', 'target=curve.csv', '--out', out, '--no-progress'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.out).toContain('rotation 19.417°');
    expect(r.out).toContain('converged yes, confident NO\n');
    expect(r.err).toMatch(/WARN: inlier RMSE 17\.6 is 15% of the target's extent 117 \(bounding-box diagonal; above 5% is not a fit\) with no correspondence distance limit: ICP likely stopped in a wrong pose near its start/);
    expect(r.err).toContain("WARN: the alignment is not confident: try --set fit.init=global (searches start angles in 2-D, features in 3-D); or to align your files as given (not turned and moved first): --set angle=0 --set 'shift=[0, 0]'; from any start angle: icp-any-angle.yaml");
    const rep = JSON.parse(readFileSync(join(out, 'alignment.json'), 'utf8'));
    expect(rep.confident).toBe(false);
    expect(rep.warnings.length).toBe(2);
    // both suggested fixes find the true move: as given -30 degrees, with init global -30 - 90 (the source was turned 90 first)
    const given = cli(['run', join(ROOT, 'pipelines', 'icp.yaml'), '--set', 'source=moved.csv', '--set', 'target=curve.csv', '--set', 'angle=0', '--set', 'shift=[0, 0]', '--out', out + '-given', '--no-progress'], { cwd: dir });
    expect(given.err).toBe('');
    expect(given.out).toContain('rotation -30.000°');
    expect(given.out).toContain('confident yes\n');
    const glob = cli(['run', join(ROOT, 'pipelines', 'icp.yaml'), '--set', 'source=moved.csv', '--set', 'target=curve.csv', '--set', 'fit.init=global', '--out', out + '-global', '--no-progress'], { cwd: dir });
    expect(glob.err).toBe('');
    expect(glob.out).toContain('rotation -120.000°');
    expect(glob.out).toContain('confident yes\n');
    // the seed's curves (31 points against 30: RMSE 0.308, 1.0% of the extent 30.7) stay confident, with no warning
    const seed = cli(['run', join(ROOT, 'pipelines', 'icp.yaml'), '--out', join(tmp.dir, 'o-seed'), '--no-progress']);
    expect(seed.err).toBe('');
    expect(seed.out).toContain('rotation -89.435°');
    expect(seed.out).toContain('inlier RMSE 0.308, iterations 17, converged yes, confident yes\n');
  });

  it('icp-bunny and register-bunny on a 2-column file say the pipeline is 3-D and which to use', () => {
    const dir = join(tmp.dir, 'flat');
    for (const [pipe, use] of [['icp-bunny.yaml', 'icp.yaml (or icp-any-angle.yaml)'], ['register-bunny.yaml', 'icp-any-angle.yaml (or icp.yaml)']]) {
      const r = cli(['run', join(ROOT, 'pipelines', pipe!), '--set', 'source=line-moved.csv', '--set', 'target=line.csv', '--out', join(tmp.dir, 'o-flat3'), '--no-progress'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`step '(source|target)-cloud' \\(stage load-points\\) failed: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/line(-moved)?\\.csv has 2-D points \\(2 coordinates a point\\), but this pipeline is 3-D\\n  → for 2-D points use ${use!.replace(/[().]/g, '\\$&')} --set source=FILE --set target=FILE\\n`));
    }
  });
});

describe('procrustes.yaml refuses a 3-D file at load', () => {
  it('x,y,z points: the load step says the pipeline is 2-D and what aligns 3-D files (not a translate op deep in transform)', () => {
    const dir = join(tmp.dir, 'h3');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'h3.csv'), 'x,y,z\n1,2,3\n4,5,6\n7,8,10\n2,2,2\n');
    const r = cli(['run', join(ROOT, 'pipelines', 'procrustes.yaml'), '--set', 'input=h3.csv', '--out', join(tmp.dir, 'o-h3'), '--no-progress'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`step 'original' (stage load-points) failed: ${join(dir, 'h3.csv')} has 3-D points (3 coordinates a point), but this pipeline is 2-D\n  → this pipeline turns 2-D points in the plane; to align two 3-D files use register-bunny.yaml (or icp-bunny.yaml) --set source=FILE --set target=FILE\n`);
    expect(r.err).not.toContain('translate');
  });
});

describe('hints name the --set that fixes the problem, with the real step id', () => {
  it("images of mixed sizes: the resize hint is a --set for step 'load', and that --set runs", () => {
    const dir = join(tmp.dir, 'mixed');
    mkdirSync(join(dir, 'imgs'), { recursive: true });
    for (const n of ['im_00', 'im_01', 'im_02']) copyFileSync(join(ROOT, 'data', 'stamps', `${n}.jpg`), join(dir, 'imgs', `${n}.jpg`));
    copyFileSync(join(ROOT, 'data', 'turtle.JPG'), join(dir, 'imgs', 'turtle.jpg'));
    const args = ['run', PCA, '--set', 'images=imgs', '--set', 'ranks=[1]', '--no-progress'];
    const r = cli([...args, '--out', join(tmp.dir, 'o-mixed')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toContain('\n  → remove the odd ones, or make them all the same size: --set "load.resize={width: 139, height: 170}"\n');
    const ok = cli([...args, '--set', 'load.resize={width: 139, height: 170}', '--out', join(tmp.dir, 'o-mixed-ok')], { cwd: dir });
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
  });

  it("a 2 x 2 table in procrustes: rows or columns, as --set original.layout=…; a header in an .xyz: --set …format=csv; x_mm,y_mm is read", () => {
    const dir = join(tmp.dir, 'tables');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'two.csv'), '0,0\n1.5,7.6\n');
    const r = cli(['run', join(ROOT, 'pipelines', 'procrustes.yaml'), '--set', 'input=two.csv', '--out', join(tmp.dir, 'o-two')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`two.csv: cannot tell the layout of a 2 x 2 table: one point per line (2 points of 2 coordinates) or one line per coordinate (2 points of 2)?\n  → --set original.layout=rows (one point per line) or --set original.layout=columns (one line per coordinate, like the seed's point_cloud.txt)\n`);
    writeFileSync(join(dir, 'cloud.xyz'), 'x y z\n' + xyz(surfaceCloud(50)));
    writeFileSync(join(dir, 'plain.xyz'), xyz(surfaceCloud(50)));
    const h = cli(['run', join(ROOT, 'pipelines', 'icp-bunny.yaml'), '--set', 'source=cloud.xyz', '--set', 'target=plain.xyz', '--out', join(tmp.dir, 'o-hdr')], { cwd: dir });
    expect(h.code).toBe(1);
    expect(h.err).toContain("cloud.xyz:1: 'x y z' is not a row of numbers\n  → XYZ files hold numbers only; read a header line as CSV: --set source-cloud.format=csv\n");
    writeFileSync(join(dir, 'mm.csv'), 'x_mm,y_mm\n' + surfaceCloud(30).map((p) => `${p[0]},${p[1]}`).join('\n') + '\n');
    const mm = cli(['run', join(ROOT, 'pipelines', 'procrustes.yaml'), '--set', 'input=mm.csv', '--out', join(tmp.dir, 'o-mm'), '--no-progress'], { cwd: dir });
    expect(mm.err).toBe('');
    expect(mm.out).toContain('    alignment mm-moved-to-mm: method procrustes, source mm, then translate by (0, -1), rotate 34°, translate by (0, 1) (step moved), rotation -34.000°');
  });
});
