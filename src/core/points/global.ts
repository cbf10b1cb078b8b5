/**
 * Global (start-independent) initial alignment.
 *
 * 3-D: keypoints by voxel downsampling, normals by PCA within 2 x voxel (at most 30
 * neighbours) turned away from the centroid, FPFH descriptors within 5 x voxel (at most
 * 100 neighbours), mutual nearest-neighbour descriptor matches and RANSAC with the
 * edge-length (0.9) and distance (1.5 x voxel) checks: Open3D's tutorial recipe.
 *
 * 2-D: a rotation search: the source is turned about its centroid to each of a grid of
 * start angles, its centroid put on the target's, ICP run from there, and the start
 * with the best fitness (then the lowest inlier RMSE) kept.
 */
import { PointsError } from './errors.js';
import { Matrix } from '../linalg/matrix.js';
import { KdTree } from './kdtree.js';
import { voxelDown } from './ops.js';
import { computeFpfh, orientOutward, radiusNormals } from './fpfh.js';
import { evaluateTransform, matchFeatures, ransacRigid, type RansacResult } from './ransac.js';
import { icp, type IcpOptions } from './icp.js';
import { compose, homogeneous, rotation2D } from './rigid.js';

export interface GlobalOptions {
  /** keypoint voxel size */
  voxel: number;
  /** normal radius (default 2 x voxel) */
  normalRadius?: number;
  /** FPFH radius (default 5 x voxel) */
  featureRadius?: number;
  /** FPFH neighbours at most (default 100) */
  maxNeighbours?: number;
  /** RANSAC inlier distance (default 1.5 x voxel) */
  maxCorrespondenceDistance?: number;
  mutual?: boolean;
  edgeLength?: number;
  maxIterations?: number;
  confidence?: number;
  seed?: number;
}

/** Keypoints with their normals, descriptors and k-d tree (computed once per cloud; reusable). */
export interface GlobalFeatures {
  voxel: number;
  points: Matrix;
  normals: Matrix;
  features: Matrix;
  tree: KdTree;
  ms: number;
}

export function computeGlobalFeatures(points: Matrix, opts: Pick<GlobalOptions, 'voxel' | 'normalRadius' | 'featureRadius' | 'maxNeighbours'>): GlobalFeatures {
  if (points.cols !== 3) throw new RangeError(`FPFH global registration is 3-D; got ${points.cols}-D points (2-D uses a rotation search)`);
  const t0 = performance.now();
  const v = opts.voxel;
  const kp = voxelDown({ points }, v).points;
  const tree = new KdTree(kp);
  const normals = orientOutward(kp, radiusNormals(kp, opts.normalRadius ?? 2 * v, 30, tree));
  const features = computeFpfh(kp, normals, { radius: opts.featureRadius ?? 5 * v, maxNeighbours: opts.maxNeighbours ?? 100, tree });
  return { voxel: v, points: kp, normals, features, tree, ms: performance.now() - t0 };
}

export interface GlobalResult extends RansacResult {
  method: 'fpfh-ransac';
  sourceKeypoints: number;
  targetKeypoints: number;
  mutual: boolean;
  maxCorrespondenceDistance: number;
  ms: { features: number; matching: number; ransac: number };
  /** both clouds' keypoints (voxel-downsampled at `voxel`) with their descriptors and trees */
  features: { source: GlobalFeatures; target: GlobalFeatures };
}

/** FPFH + RANSAC (3-D). Pass precomputed `GlobalFeatures` to reuse a target's. */
export function globalRegistration(source: Matrix | GlobalFeatures, target: Matrix | GlobalFeatures, opts: GlobalOptions): GlobalResult {
  const t0 = performance.now();
  const fs = source instanceof Matrix ? computeGlobalFeatures(source, opts) : source;
  const ft = target instanceof Matrix ? computeGlobalFeatures(target, opts) : target;
  const t1 = performance.now();
  const matches = matchFeatures(fs.features, ft.features, { mutual: opts.mutual ?? true });
  const t2 = performance.now();
  const dist = opts.maxCorrespondenceDistance ?? 1.5 * opts.voxel;
  const r = ransacRigid(fs.points, ft.points, matches, {
    maxCorrespondenceDistance: dist, edgeLength: opts.edgeLength, maxIterations: opts.maxIterations,
    confidence: opts.confidence, seed: opts.seed, targetTree: ft.tree,
  });
  const t3 = performance.now();
  return {
    ...r, method: 'fpfh-ransac', sourceKeypoints: fs.points.rows, targetKeypoints: ft.points.rows, mutual: matches.mutual,
    maxCorrespondenceDistance: dist, ms: { features: t1 - t0, matching: t2 - t1, ransac: t3 - t2 }, features: { source: fs, target: ft },
  };
}

export interface RotationSearchResult {
  transform: Matrix;
  fitness: number;
  inlierRmse: number;
  bestAngle: number;
  /** one row per start angle */
  starts: { angle: number; fitness: number; inlierRmse: number; iterations: number }[];
}

/** Centroid of the rows of P. */
function mean(P: Matrix): Float64Array {
  const c = new Float64Array(P.cols);
  for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) c[j]! += P.get(i, j) / P.rows;
  return c;
}

/**
 * 2-D rotation search over `angles` evenly spaced start angles. Each start runs ICP
 * (`icpOptions`) from the source rotated about its centroid and moved onto the target's
 * centroid; the result is scored by fitness and inlier RMSE within `scoreDistance`.
 */
export function rotationSearch2D(source: Matrix, target: Matrix, angles: number, scoreDistance: number, icpOptions: IcpOptions = {}): RotationSearchResult {
  if (source.cols !== 2) throw new RangeError(`the rotation search is 2-D; got ${source.cols}-D points`);
  const cs = mean(source), ct = mean(target);
  const tree = icpOptions.targetTree ?? new KdTree(target);
  const starts: RotationSearchResult['starts'] = [];
  let best: { T: Matrix; fitness: number; rmse: number; angle: number } | undefined;
  for (let k = 0; k < angles; k++) {
    const deg = (360 * k) / angles;
    // x → R (x − cs) + ct
    const R = rotation2D(deg);
    const init = compose(homogeneous(Matrix.identity(2), ct), compose(homogeneous(R, [0, 0]), homogeneous(Matrix.identity(2), [-cs[0]!, -cs[1]!])));
    let r;
    try {
      r = icp(source, target, { ...icpOptions, init, targetTree: tree, keepHistory: false });
    } catch (e) {
      if (!(e instanceof PointsError)) throw e; // a bug is not a failed start
      starts.push({ angle: deg, fitness: 0, inlierRmse: NaN, iterations: 0 });
      continue;
    }
    const ev = evaluateTransform(source, tree, r.transform, scoreDistance);
    starts.push({ angle: deg, fitness: ev.fitness, inlierRmse: ev.inlierRmse, iterations: r.iterations });
    if (!best || ev.fitness > best.fitness + 1e-12 || (Math.abs(ev.fitness - best.fitness) <= 1e-12 && ev.inlierRmse < best.rmse)) {
      best = { T: r.transform, fitness: ev.fitness, rmse: ev.inlierRmse, angle: deg };
    }
  }
  if (!best) throw new PointsError(`ICP failed from every one of the ${angles} start angles (no source point within maxCorrespondenceDistance ${icpOptions.maxCorrespondenceDistance ?? Infinity} of the target)`);
  return { transform: best.T, fitness: best.fitness, inlierRmse: best.rmse, bestAngle: best.angle, starts };
}
