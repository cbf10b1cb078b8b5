/**
 * Coarse-to-fine ICP schedules (as Open3D's multi-scale ICP): a list of levels, each
 * with a voxel size (voxel-grid downsampling of both clouds; none = full resolution),
 * a max correspondence distance and an iteration limit; each level starts from the
 * previous level's transform. `defaultSchedule` derives levels from the clouds' extent
 * and point spacing when the user gives none.
 */
import { Matrix } from '../linalg/matrix.js';
import { KdTree } from './kdtree.js';
import { voxelDown } from './ops.js';
import { icp, DEFAULT_CRITERIA, type IcpOptions, type IcpResult, type IcpStop } from './icp.js';
import type { ScoredTransform } from './metrics.js';
import type { GlobalFeatures } from './global.js';

export interface IcpLevel {
  /** voxel size for downsampling both clouds; undefined/null/0 = full resolution */
  voxel?: number | null;
  maxCorrespondenceDistance: number;
  maxIterations: number;
}

export interface CloudScale {
  /** diagonal of the bounding box */
  extent: number;
  /** median nearest-neighbour distance (on a sample of up to 2000 points) */
  spacing: number;
}

/** Extent (bounding-box diagonal) and typical point spacing of a cloud. */
export function cloudScale(P: Matrix, tree?: KdTree): CloudScale {
  const n = P.rows, d = P.cols;
  const lo = new Float64Array(d).fill(Infinity), hi = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) { const v = P.get(i, j); if (v < lo[j]!) lo[j] = v; if (v > hi[j]!) hi[j] = v; }
  let e2 = 0;
  for (let j = 0; j < d; j++) e2 += (hi[j]! - lo[j]!) ** 2;
  if (n < 2) return { extent: Math.sqrt(e2), spacing: 0 };
  const t = tree ?? new KdTree(P);
  const step = Math.max(1, Math.floor(n / 2000));
  const q = new Float64Array(d), idx = new Int32Array(2), dist = new Float64Array(2);
  const ds: number[] = [];
  for (let i = 0; i < n; i += step) {
    for (let j = 0; j < d; j++) q[j] = P.get(i, j);
    const c = t.knnInto(q, 0, 2, idx, dist);
    if (c === 2) ds.push(Math.sqrt(dist[1]!));
  }
  ds.sort((a, b) => a - b);
  return { extent: Math.sqrt(e2), spacing: ds[ds.length >> 1] ?? 0 };
}

/**
 * Default levels. From a rough start (identity, centroid, pca): three levels with voxels
 * extent/40 and extent/80, then full resolution, distances 2 x voxel but at least the last
 * level's (3 x spacing or extent/100, whichever is larger), 30 iterations each (Open3D's default). After a global
 * alignment of voxel v: v with distance 1.5 v, v/2 with 1.5 x that, then full resolution at
 * 0.5 v (within [3 x spacing, 0.75 v]).
 * Levels whose voxel is not above 1.5 x the spacing run at full resolution.
 */
export function defaultSchedule(scale: CloudScale, opts: { globalVoxel?: number; maxIterations?: number } = {}): IcpLevel[] {
  const { extent, spacing } = scale;
  const it = opts.maxIterations ?? DEFAULT_CRITERIA.maxIterations;
  const fine = Math.max(3 * spacing, extent / 100);
  const vox = (v: number) => (v > 1.5 * spacing ? v : null);
  if (opts.globalVoxel) {
    const v = opts.globalVoxel;
    return [
      { voxel: vox(v), maxCorrespondenceDistance: 1.5 * v, maxIterations: it },
      { voxel: vox(v / 2), maxCorrespondenceDistance: 0.75 * v, maxIterations: it },
      // the refinement at half the global voxel, as Open3D's registration recipe, but at least
      // 3 x the spacing (sparse clouds) and at most the level before
      { voxel: null, maxCorrespondenceDistance: Math.min(Math.max(0.5 * v, 3 * spacing), 0.75 * v), maxIterations: it },
    ];
  }
  const v0 = extent / 40;
  return [
    { voxel: vox(v0), maxCorrespondenceDistance: Math.max(2 * v0, fine), maxIterations: it },
    { voxel: vox(v0 / 2), maxCorrespondenceDistance: Math.max(v0, fine), maxIterations: it },
    { voxel: null, maxCorrespondenceDistance: fine, maxIterations: it },
  ];
}

export interface LevelResult {
  level: number;
  voxel: number | null;
  maxCorrespondenceDistance: number;
  sourcePoints: number;
  targetPoints: number;
  iterations: number;
  converged: boolean;
  /** why the level stopped (criteria, exact, cycle, maxIterations) */
  stop: IcpStop;
  fitness: number;
  inlierRmse: number;
  rmseHistory: number[];
  fitnessHistory: number[];
  ms: number;
}

export interface ScheduleResult extends ScoredTransform {
  levels: LevelResult[];
  /** per-iteration RMSE across all levels (each level's entry 0 included) */
  rmseHistory: number[];
  fitnessHistory: number[];
  /** index into rmseHistory where each level starts */
  levelStarts: number[];
  /**
   * for each rmseHistory/fitnessHistory entry, the number of ICP updates made before it was
   * measured: 0 .. iterations, a level's entry 0 repeating the previous level's count (the
   * same state measured on that level's clouds and distance). Plot against this, and the last
   * x is `iterations`, as reported.
   */
  iterationOf: number[];
  history: Matrix[];
  /** (iterations: all levels; converged: the last level's) */
  estimation: string;
  /** what the data left undetermined, per level (e.g. normals of collinear neighbourhoods) */
  warnings: string[];
}

/**
 * Runs ICP level by level. `options` are passed to every level (estimation, kernel,
 * trim, criteria tolerances); each level sets its own distance and iteration limit.
 * Target normals (point-to-plane): averaged from `targetNormals` when given, else PCA on each
 * level's target (for the points ICP matches). `downsampled`: a global alignment's features of
 * both clouds (their keypoints, voxelDown at the features' voxel, and the target keypoints' tree):
 * a level of that voxel uses them instead of downsampling again.
 */
export function runSchedule(source: Matrix, target: Matrix, levels: IcpLevel[], options: IcpOptions & { init?: Matrix; onProgress?: (done: number, total: number) => void; downsampled?: { source: GlobalFeatures; target: GlobalFeatures } } = {}): ScheduleResult {
  if (!levels.length) throw new RangeError('the ICP schedule has no levels');
  const d = source.cols;
  let T = options.init ? options.init.clone() : Matrix.identity(d + 1);
  const out: LevelResult[] = [];
  const rmseHistory: number[] = [], fitnessHistory: number[] = [], levelStarts: number[] = [], iterationOf: number[] = [];
  let done = 0;
  const history: Matrix[] = [];
  const warnings: string[] = [];
  let last: IcpResult | undefined;
  for (const [i, lv] of levels.entries()) {
    const t0 = performance.now();
    const v = lv.voxel && lv.voxel > 0 ? lv.voxel : null;
    // the clouds of this voxel as given (target normals are averaged per voxel: only without them)
    const ds = v && options.downsampled?.source.voxel === v && options.downsampled.target.voxel === v && !options.targetNormals ? options.downsampled : undefined;
    const src = ds ? ds.source.points : v ? voxelDown({ points: source }, v).points : source;
    const tg = ds ? { points: ds.target.points, normals: undefined } : v ? voxelDown({ points: target, normals: options.targetNormals }, v) : { points: target, normals: options.targetNormals };
    const tree = ds ? ds.target.tree : v ? new KdTree(tg.points) : options.targetTree ?? new KdTree(target);
    // normals not given: ICP estimates them for the target points it matches (PCA of normalNeighbours)
    const normals = tg.normals;
    // progress in iterations: each level counts its maxIterations (one that converges early jumps to its end)
    const before = levels.slice(0, i).reduce((a, l) => a + l.maxIterations, 0), all = levels.reduce((a, l) => a + l.maxIterations, 0);
    const { onProgress, downsampled: _ds, ...icpOptions } = options;
    const r = icp(src, tg.points, {
      ...icpOptions,
      onIteration: onProgress && ((it) => onProgress(before + it, all)),
      init: T,
      maxCorrespondenceDistance: lv.maxCorrespondenceDistance,
      criteria: { ...options.criteria, maxIterations: lv.maxIterations },
      targetTree: tree,
      targetNormals: normals,
      keepHistory: true,
    });
    onProgress?.(before + lv.maxIterations, all);
    T = r.transform;
    levelStarts.push(rmseHistory.length);
    r.rmseHistory.forEach((_, j) => iterationOf.push(done + j));
    done += r.iterations;
    rmseHistory.push(...r.rmseHistory);
    fitnessHistory.push(...r.fitnessHistory);
    history.push(...(r.history ?? []));
    out.push({
      level: i + 1, voxel: v, maxCorrespondenceDistance: lv.maxCorrespondenceDistance, sourcePoints: src.rows, targetPoints: tg.points.rows,
      iterations: r.iterations, converged: r.converged, stop: r.stop, fitness: r.fitness, inlierRmse: r.inlierRmse,
      rmseHistory: r.rmseHistory, fitnessHistory: r.fitnessHistory, ms: performance.now() - t0,
    });
    warnings.push(...r.warnings.map((w) => `level ${i + 1}: ${w}`));
    last = r;
  }
  return {
    transform: T, levels: out, rmseHistory, fitnessHistory, levelStarts, iterationOf, history,
    iterations: out.reduce((s, l) => s + l.iterations, 0), converged: last!.converged,
    fitness: last!.fitness, inlierRmse: last!.inlierRmse, estimation: last!.estimation, warnings,
  };
}
