/**
 * Point-set edits used to build test cases declaratively (the `transform` stage):
 * rotate, translate, scale, matrix, noise, subsample, shuffle, mirror, and
 * generators (the seed's curve y = a·x·sin(b·x), a circle, uniform boxes).
 * Seeded randomness; pure functions on Matrix.
 */
import { Matrix } from '../linalg/matrix.js';
import { seededRandom } from '../linalg/random.js';
import { applyTransform, axisAngle, compose, homogeneous, quatToMatrix, rotateVectors, rotation2D } from './rigid.js';

export type Pivot = 'origin' | 'centroid' | number[];

export type PointOp =
  | { op: 'rotate'; degrees?: number; axis?: number[]; quaternion?: number[]; about?: Pivot }
  | { op: 'translate'; by: number[] }
  | { op: 'scale'; factor: number; about?: Pivot }
  | { op: 'matrix'; matrix: number[][] }
  | { op: 'noise'; sigma: number; seed?: number }
  | { op: 'subsample'; every?: number; fraction?: number; voxel?: number; seed?: number }
  | { op: 'shuffle'; seed?: number }
  | { op: 'mirror'; axis: number };

export interface Cloud {
  points: Matrix;
  normals?: Matrix;
}

/** Throws RangeError with a user-facing message; the stage turns it into an InputError. */
function fail(msg: string): never {
  throw new RangeError(msg);
}

export function centroid(P: Matrix): Float64Array {
  const c = new Float64Array(P.cols);
  for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) c[j]! += P.get(i, j);
  for (let j = 0; j < P.cols; j++) c[j]! /= P.rows || 1;
  return c;
}

function pivotOf(about: Pivot | undefined, P: Matrix, where: string): Float64Array {
  const d = P.cols;
  if (about === undefined || about === 'origin') return new Float64Array(d);
  if (about === 'centroid') return centroid(P);
  if (about.length !== d) fail(`${where}: 'about' has ${about.length} coordinates but the points are ${d}-D`);
  return Float64Array.from(about);
}

/** The homogeneous matrix of a linear op (rotate, translate, scale, matrix, mirror) for points P. */
export function opMatrix(op: PointOp, P: Matrix, where: string): Matrix | undefined {
  const d = P.cols;
  const aboutPivot = (L: Matrix, about: Pivot | undefined) => {
    const c = pivotOf(about, P, where);
    const t = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += L.get(i, j) * c[j]!;
      t[i] = c[i]! - s;
    }
    return homogeneous(L, t);
  };
  switch (op.op) {
    case 'rotate': {
      const given = [op.degrees !== undefined && !op.axis ? 'degrees' : '', op.axis ? 'axis' : '', op.quaternion ? 'quaternion' : ''].filter(Boolean);
      if (op.quaternion && (op.degrees !== undefined || op.axis)) fail(`${where}: give either quaternion or degrees (with axis in 3-D), not both`);
      let R: Matrix;
      if (d === 2) {
        if (op.quaternion || op.axis) fail(`${where}: 2-D points rotate by degrees only (got ${given.join(', ')})`);
        if (op.degrees === undefined) fail(`${where}: rotate needs degrees`);
        R = rotation2D(op.degrees);
      } else if (d === 3) {
        if (op.quaternion) {
          if (op.quaternion.length !== 4) fail(`${where}: quaternion needs 4 numbers [qx, qy, qz, qw] (scalar last), got ${op.quaternion.length}`);
          if (!(Math.hypot(...op.quaternion) > 0)) fail(`${where}: quaternion has zero length`);
          R = quatToMatrix(op.quaternion[0]!, op.quaternion[1]!, op.quaternion[2]!, op.quaternion[3]!);
        } else {
          if (op.degrees === undefined || !op.axis) fail(`${where}: 3-D rotate needs degrees and axis (e.g. axis: [0, 0, 1]) or a quaternion`);
          if (op.axis.length !== 3 || !(Math.hypot(...op.axis) > 0)) fail(`${where}: axis must be 3 numbers, not all zero`);
          R = axisAngle(op.axis, op.degrees);
        }
      } else fail(`${where}: rotate works on 2-D and 3-D points, these are ${d}-D (use op: matrix)`);
      return aboutPivot(R, op.about);
    }
    case 'translate':
      if (op.by.length !== d) fail(`${where}: translate.by has ${op.by.length} values but the points are ${d}-D`);
      return homogeneous(Matrix.identity(d), op.by);
    case 'scale': {
      const L = Matrix.identity(d);
      for (let i = 0; i < d; i++) L.data[i * d + i] = op.factor;
      return aboutPivot(L, op.about);
    }
    case 'mirror': {
      if (op.axis >= d) fail(`${where}: mirror axis ${op.axis} does not exist in ${d}-D (use 0..${d - 1})`);
      const L = Matrix.identity(d);
      L.data[op.axis * d + op.axis] = -1;
      return homogeneous(L, new Float64Array(d));
    }
    case 'matrix': {
      const m = op.matrix;
      const ok = (m.length === d + 1 && m.every((r) => r.length === d + 1)) || (m.length === d && m.every((r) => r.length === d + 1)) || (m.length === d && m.every((r) => r.length === d));
      if (!ok) fail(`${where}: matrix must be ${d + 1}x${d + 1} (homogeneous), ${d}x${d + 1} or ${d}x${d} for ${d}-D points, got ${m.length}x${m[0]?.length ?? 0}`);
      const T = Matrix.identity(d + 1);
      for (let i = 0; i < d; i++) for (let j = 0; j < m[i]!.length; j++) T.data[i * (d + 1) + j] = m[i]![j]!;
      return T;
    }
    default:
      return undefined;
  }
}

function pick(c: Cloud, keep: Int32Array | number[]): Cloud {
  const d = c.points.cols, n = keep.length;
  const P = new Matrix(n, d);
  const N = c.normals ? new Matrix(n, d) : undefined;
  for (let i = 0; i < n; i++) {
    P.data.set(c.points.row(keep[i]!), i * d);
    if (N) N.data.set(c.normals!.row(keep[i]!), i * d);
  }
  return { points: P, normals: N };
}

/** Applies one op; `where` names it in messages (e.g. "ops[2] (rotate)"). */
export function applyOp(c: Cloud, op: PointOp, where: string): Cloud {
  const T = opMatrix(op, c.points, where);
  if (T) return { points: applyTransform(T, c.points), normals: c.normals ? rotateVectors(T, c.normals) : undefined };
  const n = c.points.rows, d = c.points.cols;
  switch (op.op) {
    case 'noise': {
      const rng = seededRandom(op.seed ?? 0);
      const P = c.points.clone();
      for (let i = 0; i < n * d; i++) P.data[i]! += op.sigma * rng.gaussian();
      return { points: P, normals: c.normals };
    }
    case 'shuffle': {
      const rng = seededRandom(op.seed ?? 0);
      const perm = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); [perm[i], perm[j]] = [perm[j]!, perm[i]!]; }
      return pick(c, perm);
    }
    case 'subsample': {
      const set = [op.every !== undefined, op.fraction !== undefined, op.voxel !== undefined].filter(Boolean).length;
      if (set !== 1) fail(`${where}: subsample needs exactly one of every, fraction, voxel (got ${set})`);
      if (op.every !== undefined) {
        const keep: number[] = [];
        for (let i = 0; i < n; i += op.every) keep.push(i);
        return pick(c, keep);
      }
      if (op.fraction !== undefined) {
        const rng = seededRandom(op.seed ?? 0);
        const k = Math.max(1, Math.round(op.fraction * n));
        const perm = Array.from({ length: n }, (_, i) => i);
        for (let i = 0; i < k; i++) { const j = i + Math.floor(rng.next() * (n - i)); [perm[i], perm[j]] = [perm[j]!, perm[i]!]; }
        return pick(c, perm.slice(0, k).sort((a, b) => a - b));
      }
      return voxelDown(c, op.voxel!);
    }
    default:
      fail(`${where}: unknown op`);
  }
}

/** Voxel-grid downsampling: one point per occupied voxel, the mean of its points (normals averaged), in order of first occurrence. */
export function voxelDown(c: Cloud, size: number): Cloud {
  const Pm = c.points, n = Pm.rows, d = Pm.cols, X = Pm.data, off = Pm.offset, st = Pm.stride;
  const lo = new Float64Array(d).fill(Infinity), hi = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) { const v = X[off + i * st + j]!; if (v < lo[j]!) lo[j] = v; if (v > hi[j]!) hi[j] = v; }
  // cell index as one number (exact below 2^53); fall back to string keys for huge grids
  const dims = Array.from(lo, (l, j) => Math.floor((hi[j]! - l) / size) + 1);
  const numeric = dims.reduce((a, b) => a * b, 1) < 2 ** 52;
  const cellOf = new Int32Array(n);
  let m = 0;
  if (numeric) {
    // open addressing on typed arrays (a Map of keys beyond 2^31 costs a heap number per point)
    let cap = 16;
    while (cap < 2 * n) cap *= 2;
    const mask = cap - 1, keys = new Float64Array(cap), slot = new Int32Array(cap).fill(-1);
    for (let i = 0; i < n; i++) {
      let key = 0;
      const base = off + i * st;
      for (let j = d - 1; j >= 0; j--) key = key * dims[j]! + Math.floor((X[base + j]! - lo[j]!) / size);
      // the key is an integer below 2^52: mix its low and high 32 bits
      let h = (Math.imul(key >>> 0, 0x9e3779b1) ^ Math.imul((key / 4294967296) >>> 0, 0x85ebca6b)) & mask;
      for (;;) {
        const k = slot[h]!;
        if (k < 0) { slot[h] = m; keys[h] = key; cellOf[i] = m++; break; }
        if (keys[h] === key) { cellOf[i] = k; break; }
        h = (h + 1) & mask;
      }
    }
  } else {
    const cells = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const key = Array.from({ length: d }, (_, j) => Math.floor((Pm.get(i, j) - lo[j]!) / size)).join(',');
      let k = cells.get(key);
      if (k === undefined) { k = m++; cells.set(key, k); }
      cellOf[i] = k;
    }
  }
  const sums = new Float64Array(m * 2 * d), counts = new Float64Array(m);
  const Nm = c.normals;
  for (let i = 0; i < n; i++) {
    const o = cellOf[i]! * 2 * d, base = off + i * st;
    for (let j = 0; j < d; j++) sums[o + j]! += X[base + j]!;
    if (Nm) for (let j = 0; j < d; j++) sums[o + d + j]! += Nm.get(i, j);
    counts[cellOf[i]!]!++;
  }
  const P = new Matrix(m, d), N = Nm ? new Matrix(m, d) : undefined;
  for (let k = 0; k < m; k++) {
    let len = 0;
    const o = k * 2 * d;
    for (let j = 0; j < d; j++) { P.data[k * d + j] = sums[o + j]! / counts[k]!; len += sums[o + d + j]! ** 2; }
    if (N) for (let j = 0; j < d; j++) N.data[k * d + j] = sums[o + d + j]! / (Math.sqrt(len) || 1);
  }
  return { points: P, normals: N };
}

/** The product of the linear ops in a list (undefined when the list has a non-linear op). */
export function opsMatrix(ops: PointOp[], P: Matrix): Matrix | undefined {
  let T = Matrix.identity(P.cols + 1);
  let cur = P;
  for (const [i, op] of ops.entries()) {
    const M = opMatrix(op, cur, `ops[${i}] (${op.op})`);
    if (!M) return undefined;
    T = compose(M, T);
    cur = applyTransform(M, cur);
  }
  return T;
}

/** The seed's curve: n points x = from … to (evenly spaced), y = a·x·sin(b·x). */
export function xSinCurve(n: number, from: number, to: number, a: number, b: number): Matrix {
  const m = new Matrix(n, 2);
  for (let i = 0; i < n; i++) {
    const x = n === 1 ? from : from + ((to - from) * i) / (n - 1);
    m.data[2 * i] = x;
    m.data[2 * i + 1] = a * x * Math.sin(b * x);
  }
  return m;
}

/** An op in words, for summaries: "rotate 180° about (1, 0, 0) through the centroid", "translate by (-2, 5)". */
export function describeOp(o: PointOp): string {
  const v = (a: readonly number[]) => `(${a.map((x) => String(Number(x.toPrecision(6)))).join(', ')})`;
  const about = (p: Pivot | undefined) => (p === undefined || p === 'origin' ? '' : p === 'centroid' ? ' through the centroid' : ` about the point ${v(p)}`);
  switch (o.op) {
    case 'rotate':
      if (o.quaternion) return `rotate by the quaternion ${v(o.quaternion)}${about(o.about)}`;
      return `rotate ${o.degrees ?? 0}°${o.axis ? ` about ${v(o.axis)}` : ''}${about(o.about)}`;
    case 'translate': return `translate by ${v(o.by)}`;
    case 'scale': return `scale by ${o.factor}${about(o.about)}`;
    case 'matrix': return `apply a ${o.matrix.length}x${o.matrix[0]?.length ?? 0} matrix`;
    case 'noise': return `add noise (sigma ${o.sigma})`;
    case 'subsample': return `subsample (${o.every ? `every ${o.every}` : o.fraction ? `fraction ${o.fraction}` : `voxel ${o.voxel}`})`;
    case 'shuffle': return 'shuffle';
    case 'mirror': return `mirror coordinate ${'xyz'[o.axis] ?? o.axis}`;
  }
}
