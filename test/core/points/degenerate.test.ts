/**
 * Issue #20 item 3: the point-cloud kernels that take an SVD or an eigen-decomposition on
 * near-degenerate geometry. Constructed cases with known answers: no NaN anywhere, the
 * answer where the geometry determines it (also at 1e-200 and 1e200 scale), and a clear
 * message where it does not.
 */
import { describe, expect, it } from 'vitest';
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';
import { procrustes } from '../../../src/core/points/procrustes.js';
import { estimateNormalsChecked, smallestEigvec3, NormalStatus } from '../../../src/core/points/normals.js';
import { applyTransform, axisAngle, determinant, homogeneous, rotation2D, rotationAngleBetween } from '../../../src/core/points/rigid.js';

function cloud(n: number, d: number, seed: number, f: (g: ReturnType<typeof seededRandom>, j: number) => number = (g) => g.gaussian()): Matrix {
  const g = seededRandom(seed);
  const P = new Matrix(n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) P.set(i, j, f(g, j));
  return P;
}

function scaled(P: Matrix, f: number): Matrix {
  return new Matrix(P.rows, P.cols, P.data.map((v) => v * f));
}

function allFinite(...xs: (Matrix | Float64Array | number)[]): boolean {
  return xs.every((x) => (typeof x === 'number' ? Number.isFinite(x) : Array.from(x instanceof Matrix ? x.data : x).every(Number.isFinite)));
}

const R0 = axisAngle([1, 2, 3], 40);
const T0 = homogeneous(R0, [0.5, -1, 2]);

describe('procrustes on near-degenerate clouds', () => {
  it('a general 3-D cloud: the rotation, no warning; the same at 1e-200 and 1e200 (scaled, not underflowed or overflowed)', () => {
    const X = cloud(20, 3, 1);
    const Y = applyTransform(T0, X);
    const r = procrustes(X, Y);
    expect(rotationAngleBetween(r.R, R0)).toBeLessThan(1e-9);
    expect(r.warnings).toEqual([]);
    for (const f of [1e-200, 1e200]) {
      const rs = procrustes(scaled(X, f), scaled(Y, f));
      expect(allFinite(rs.R, rs.t, rs.rmse)).toBe(true);
      expect(rotationAngleBetween(rs.R, R0)).toBeLessThan(1e-9);
      expect(rs.rmse).toBeLessThan(1e-12 * f);
      expect(rs.warnings).toEqual([]);
    }
  });

  it('coplanar 3-D points determine the rotation (rank 2 >= d - 1): exact, no warning', () => {
    const X = cloud(15, 3, 2, (g, j) => (j === 2 ? 0 : g.gaussian()));
    const r = procrustes(X, applyTransform(T0, X));
    expect(rotationAngleBetween(r.R, R0)).toBeLessThan(1e-9);
    expect(r.warnings).toEqual([]);
  });

  it('collinear 3-D points: a proper rotation that fits them (no NaN) and a warning that the rotation about the line is not determined', () => {
    const X = cloud(12, 3, 3, (g, j) => 0); // filled below: points t * (1, 2, -1)
    const g = seededRandom(3);
    for (let i = 0; i < X.rows; i++) { const t = g.gaussian(); X.set(i, 0, t); X.set(i, 1, 2 * t); X.set(i, 2, -t); }
    const Y = applyTransform(T0, X);
    const r = procrustes(X, Y);
    expect(allFinite(r.R, r.t, r.rmse)).toBe(true);
    expect(determinant(r.R)).toBeCloseTo(1, 12);
    expect(r.rmse).toBeLessThan(1e-12);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/collinear, so the rotation about their line is not determined/);
    // nearly collinear (perpendicular jitter 1e-15 of the length): still undetermined
    const J = cloud(12, 3, 4, (gg) => 1e-15 * gg.gaussian());
    const XJ = new Matrix(12, 3, X.data.map((v, i) => v + J.data[i]!));
    expect(procrustes(XJ, applyTransform(T0, XJ)).warnings[0]).toMatch(/not determined/);
  });

  it('collinear 2-D points do determine a proper rotation (rank 1 = d - 1): exact, no warning', () => {
    const X = Matrix.from2D([[0, 0], [1, 1], [2, 2], [-3, -3]]);
    const r = procrustes(X, applyTransform(homogeneous(rotation2D(30), [1, 2]), X));
    expect(rotationAngleBetween(r.R, rotation2D(30))).toBeLessThan(1e-9);
    expect(r.warnings).toEqual([]);
    // with reflections allowed, the mirror image fits equally well: said so
    expect(procrustes(X, applyTransform(homogeneous(rotation2D(30), [1, 2]), X), { allowReflection: true }).warnings[0]).toMatch(/span only 1 dimension/);
  });

  it('coincident points: the identity, no NaN, and a warning naming which side coincides', () => {
    const X = Matrix.from2D([[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    const Y = cloud(4, 3, 5);
    const r = procrustes(X, Y);
    expect(allFinite(r.R, r.t, r.rmse)).toBe(true);
    expect(rotationAngleBetween(r.R, Matrix.identity(3))).toBe(0);
    expect(r.warnings[0]).toMatch(/all source points coincide, so no rotation is determined/);
    expect(procrustes(Y, X).warnings[0]).toMatch(/all target points coincide/);
  });
});

describe('procrustes on unmatched points (issue #13 item 9)', () => {
  it('shuffled rows: the residuals give it away, and the warning says the correspondence is wrong', () => {
    const X = cloud(60, 3, 6);
    const Y = applyTransform(T0, X);
    // reverse the target rows: every pair is wrong
    const Ys = new Matrix(60, 3);
    for (let i = 0; i < 60; i++) Ys.row(i).set(Y.row(59 - i));
    const r = procrustes(X, Ys);
    expect(r.relativeRmse).toBeGreaterThan(0.5);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/probably not the same point as row i of the target \(shuffled or unmatched\); use method: icp/);
  });
  it('matched rows with 5% noise: no warning (control for the threshold)', () => {
    const X = cloud(60, 3, 7);
    const N = cloud(60, 3, 8);
    const Y = applyTransform(T0, X);
    for (let i = 0; i < Y.data.length; i++) Y.data[i]! += 0.05 * N.data[i]!;
    const r = procrustes(X, Y);
    expect(r.relativeRmse).toBeLessThan(0.1);
    expect(r.warnings).toEqual([]);
  });
});

describe('PCA normals on degenerate neighbourhoods', () => {
  it('a plane: its normal, all determined; the same at 1e-200 and 1e200 scale', () => {
    const P = cloud(200, 3, 9, (g, j) => (j === 2 ? 0 : g.gaussian()));
    const Pr = applyTransform(T0, P);
    const want = [R0.get(0, 2), R0.get(1, 2), R0.get(2, 2)];
    for (const f of [1, 1e-200, 1e200]) {
      const { normals, stats } = estimateNormalsChecked(scaled(Pr, f), { k: 10 });
      expect(stats).toEqual({ collinear: 0, coincident: 0, isotropic: 0 });
      for (let i = 0; i < normals.rows; i++) {
        const dot = Math.abs(normals.get(i, 0) * want[0]! + normals.get(i, 1) * want[1]! + normals.get(i, 2) * want[2]!);
        expect(dot).toBeGreaterThan(1 - 1e-9);
      }
    }
  });

  it('collinear points: counted, and each normal is a unit vector perpendicular to the line (no NaN)', () => {
    const P = new Matrix(50, 3);
    for (let i = 0; i < 50; i++) { P.set(i, 0, i); P.set(i, 1, 2 * i); P.set(i, 2, -i); }
    const { normals, stats } = estimateNormalsChecked(P, { k: 8 });
    expect(stats.collinear).toBe(50);
    for (let i = 0; i < 50; i++) {
      const [x, y, z] = [normals.get(i, 0), normals.get(i, 1), normals.get(i, 2)];
      expect(Math.hypot(x, y, z)).toBeCloseTo(1, 12);
      expect(Math.abs(x + 2 * y - z) / Math.sqrt(6)).toBeLessThan(1e-12);
    }
  });

  it('coincident points and an isotropic blob: counted as undetermined, unit vectors, no NaN', () => {
    const C = Matrix.from2D(Array.from({ length: 10 }, () => [3, 3, 3]));
    const c = estimateNormalsChecked(C, { k: 5 });
    expect(c.stats.coincident).toBe(10);
    expect(allFinite(c.normals)).toBe(true);
    // the six vertices of an octahedron: covariance 1/3 I, no flattest direction
    const out = new Float64Array(3);
    expect(smallestEigvec3(1 / 3, 0, 0, 1 / 3, 0, 1 / 3, out)).toBe(NormalStatus.Isotropic);
    expect(allFinite(out)).toBe(true);
    // nearly isotropic with a tiny off-diagonal (p ~ 1e-160 in the closed form) used to give NaN
    expect(smallestEigvec3(1, 1e-160, 0, 1, 0, 1, out)).toBe(NormalStatus.Isotropic);
    expect(allFinite(out)).toBe(true);
    expect(Math.hypot(out[0]!, out[1]!, out[2]!)).toBeCloseTo(1, 12);
  });
});
