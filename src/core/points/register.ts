/**
 * Registration from any starting pose: an initial transform (identity, centroid, pca,
 * global or a given matrix), then an ICP schedule (one level or coarse-to-fine), with
 * one record per stage (fitness, inlier RMSE, time) and a verdict on whether the
 * result can be trusted. Used by the `align` stage; pure (no I/O).
 */
import { PointsError } from './errors.js';
import { Matrix } from '../linalg/matrix.js';
import { symEig } from '../linalg/index.js';
import { KdTree } from './kdtree.js';
import { IcpError, type IcpOptions } from './icp.js';
import { cloudScale, defaultSchedule, runSchedule, type IcpLevel, type LevelResult, type ScheduleResult } from './schedule.js';
import { globalRegistration, rotationSearch2D, type GlobalFeatures, type GlobalOptions, type GlobalResult } from './global.js';
import { evaluateTransform } from './ransac.js';
import { compose, determinant, homogeneous } from './rigid.js';

export type InitMode = 'identity' | 'centroid' | 'pca' | 'global';

export interface RegisterOptions {
  init?: InitMode | Matrix;
  /** ICP levels; 'auto' derives them; undefined = one level from `single` (or auto after a global init) */
  levels?: IcpLevel[] | 'auto';
  /** the one level used when `levels` is undefined and init is not global */
  single?: IcpLevel;
  icp?: Omit<IcpOptions, 'init' | 'maxCorrespondenceDistance'>;
  /** 3-D global: keypoint voxel (default extent / 40) and RANSAC settings */
  global?: Partial<GlobalOptions>;
  /** 3-D global: the target's keypoints and descriptors, computed once and reused across sources */
  targetFeatures?: GlobalFeatures;
  /** 2-D global: number of start angles (default 12, every 30°) */
  angles?: number;
  /** the result is trusted when final fitness >= this … (default 0.3) */
  minFitness?: number;
  /** … and inlier RMSE <= this fraction of the final correspondence distance (default 0.5) */
  maxRmseRatio?: number;
  /** progress (done, total): a global init counts as much as the ICP levels' maxIterations together */
  onProgress?: (done: number, total: number) => void;
}

export interface StageRecord {
  stage: string;
  fitness: number | null;
  inlierRmse: number | null;
  ms: number;
  [k: string]: unknown;
}

export interface RegisterResult extends ScheduleResult {
  stages: StageRecord[];
  /** the stage whose transform is the result */
  finalStage: string;
  confident: boolean;
  warnings: string[];
  schedule: IcpLevel[];
  /** a global voxel far from the clouds' scale when the result failed: their extent and a voxel to try (extent / 40) */
  voxelAdvice?: VoxelAdvice;
}

export interface VoxelAdvice {
  /** the target's bounding-box diagonal */
  extent: number;
  voxel: number;
  suggested: number;
}

function centroid(P: Matrix): Float64Array {
  const c = new Float64Array(P.cols);
  for (let i = 0; i < P.rows; i++) for (let j = 0; j < P.cols; j++) c[j]! += P.get(i, j) / P.rows;
  return c;
}

const shift = (t: ArrayLike<number>, sign = 1) => homogeneous(Matrix.identity(t.length), Array.from(t, (v) => sign * v));

/** Principal axes (columns, by decreasing variance) of the centred cloud. */
function axes(P: Matrix, c: Float64Array): Matrix {
  const d = P.cols, C = new Matrix(d, d);
  for (let i = 0; i < P.rows; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) C.data[a * d + b]! += (P.get(i, a) - c[a]!) * (P.get(i, b) - c[b]!);
  return symEig(C).vectors;
}

/**
 * PCA init: maps the source's principal axes onto the target's. The axes' signs are
 * ambiguous, so every proper (det +1) sign choice is tried and the one with the lowest
 * RMS nearest-neighbour distance is kept.
 */
export function pcaInit(source: Matrix, target: Matrix, tree: KdTree): Matrix {
  const d = source.cols, cs = centroid(source), ct = centroid(target);
  const As = axes(source, cs), At = axes(target, ct);
  let best: Matrix | undefined, bestE = Infinity;
  for (let mask = 0; mask < 1 << d; mask++) {
    const R = new Matrix(d, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += At.get(i, k) * (mask & (1 << k) ? -1 : 1) * As.get(j, k);
      R.data[i * d + j] = v;
    }
    if (determinant(R) < 0) continue;
    const T = compose(shift(ct), compose(homogeneous(R, new Float64Array(d)), shift(cs, -1)));
    const e = evaluateTransform(source, tree, T, Infinity).inlierRmse;
    if (e < bestE) { bestE = e; best = T; }
  }
  return best!;
}

export function register(source: Matrix, target: Matrix, opts: RegisterOptions = {}): RegisterResult {
  const d = source.cols;
  const init = opts.init ?? 'identity';
  const tree = opts.icp?.targetTree ?? new KdTree(target);
  const scale = cloudScale(target, tree);
  const stages: StageRecord[] = [];
  const warnings: string[] = [];
  const isGlobal = init === 'global';
  const globalVoxel = opts.global?.voxel ?? opts.targetFeatures?.voxel ?? Math.max(scale.extent / 40, scale.spacing);
  let levels: IcpLevel[];
  if (Array.isArray(opts.levels)) levels = opts.levels;
  else if (opts.levels === 'auto' || isGlobal || !opts.single) levels = defaultSchedule(scale, { globalVoxel: isGlobal && d === 3 ? globalVoxel : undefined });
  else levels = [opts.single];
  const firstDist = levels[0]!.maxCorrespondenceDistance;
  const scoreDist = Number.isFinite(firstDist) ? firstDist : Math.max(3 * scale.spacing, scale.extent / 100);
  const t0 = performance.now();
  let T: Matrix;
  let initName: string;
  let globalFailed = false;
  // a global alignment's keypoints: the same voxelDown of both clouds as an ICP level at its voxel
  let downsampled: GlobalResult['features'] | undefined;
  if (init instanceof Matrix) { T = init.clone(); initName = 'init (given matrix)'; }
  else if (init === 'identity') { T = Matrix.identity(d + 1); initName = 'init (identity)'; }
  else if (init === 'centroid') { const cs = centroid(source); T = shift(Array.from(centroid(target), (v, j) => v - cs[j]!)); initName = 'init (centroid)'; }
  else if (init === 'pca') { T = pcaInit(source, target, tree); initName = 'init (pca)'; }
  else if (d === 3) {
    const tf = opts.targetFeatures;
    if (tf && tf.voxel !== globalVoxel) throw new RangeError(`targetFeatures were computed with voxel ${tf.voxel}, but the global voxel is ${globalVoxel}`);
    initName = 'global (fpfh + ransac)';
    try {
      const g = globalRegistration(source, tf ?? target, { ...opts.global, voxel: globalVoxel });
      T = g.transform;
      // only the target's keypoints computed here from `target` (given targetFeatures may come from another copy)
      if (!tf) downsampled = g.features;
      stages.push({
        stage: initName, fitness: g.fitness, inlierRmse: g.inlierRmse, ms: performance.now() - t0, voxel: globalVoxel,
        maxCorrespondenceDistance: g.maxCorrespondenceDistance, sourceKeypoints: g.sourceKeypoints, targetKeypoints: g.targetKeypoints,
        correspondences: g.correspondences, mutual: g.mutual, inlierCorrespondences: g.inlierCorrespondences, ransacIterations: g.iterations,
        validHypotheses: g.validHypotheses, ransacConverged: g.converged, seed: opts.global?.seed ?? 0, phaseMs: g.ms,
      });
    } catch (e) {
      if (!(e instanceof PointsError)) throw e;
      // no consistent correspondences: say so, and refine from the centroids so that the result still has metrics
      const cs = centroid(source);
      T = shift(Array.from(centroid(target), (v, j) => v - cs[j]!));
      globalFailed = true;
      warnings.push(`global alignment failed (${e.message}); refined from the centroids instead, so the result is not trustworthy`);
      stages.push({ stage: initName, fitness: null, inlierRmse: null, ms: performance.now() - t0, voxel: globalVoxel, failed: e.message });
      initName = 'init (centroid, after the global alignment failed)';
    }
  } else {
    const angles = opts.angles ?? 12;
    const r = rotationSearch2D(source, target, angles, scoreDist, { ...opts.icp, targetTree: tree });
    T = r.transform;
    initName = `global (rotation search, ${angles} starts)`;
    stages.push({ stage: initName, fitness: r.fitness, inlierRmse: r.inlierRmse, ms: performance.now() - t0, bestStartAngle: r.bestAngle, scoreDistance: scoreDist, starts: r.starts });
  }
  if (!isGlobal || globalFailed) {
    const ev = evaluateTransform(source, tree, T, scoreDist);
    stages.push({ stage: initName, fitness: ev.fitness, inlierRmse: ev.inlierRmse, ms: performance.now() - t0, scoreDistance: scoreDist });
  }
  let finalStage = initName;
  let sched: ReturnType<typeof runSchedule> | undefined;
  const iters = levels.reduce((a, l) => a + l.maxIterations, 0), initWork = isGlobal ? iters : 0;
  opts.onProgress?.(initWork, initWork + iters);
  try {
    sched = runSchedule(source, target, levels, { ...opts.icp, init: T, targetTree: tree, downsampled, onProgress: opts.onProgress && ((done) => opts.onProgress!(initWork + done, initWork + iters)) });
  } catch (e) {
    // after a global init a failed refinement keeps the global result, flagged; otherwise it is the user's error
    if (!(e instanceof IcpError) || !isGlobal) throw e;
    warnings.push(`ICP refinement failed (${e.message}); the transform is the global alignment's`);
  }
  if (sched) {
    warnings.push(...sched.warnings);
    // iteration 0 has one value: the stage record just before ICP reports what ICP level 1 measured
    // before its first update (same clouds, same distance) as the plotted series' entry 0 does; a
    // global step keeps its own RANSAC scores under other names
    const before = stages[stages.length - 1]!;
    const l1 = sched.levels[0]!;
    if (before.fitness !== null) { before.ownFitness = before.fitness; before.ownInlierRmse = before.inlierRmse; }
    before.fitness = l1.fitnessHistory[0]!;
    before.inlierRmse = l1.rmseHistory[0]!;
    before.scoreDistance = l1.maxCorrespondenceDistance;
    before.scoreVoxel = l1.voxel;
    sched.levels.forEach((l) => stages.push({ stage: `icp level ${l.level}`, fitness: l.fitness, inlierRmse: l.inlierRmse, ms: l.ms, voxel: l.voxel, maxCorrespondenceDistance: l.maxCorrespondenceDistance, iterations: l.iterations, converged: l.converged, stop: l.stop, sourcePoints: l.sourcePoints, targetPoints: l.targetPoints }));
    T = sched.transform;
    finalStage = `icp level ${sched.levels.length}`;
  }
  const last = stages[stages.length - 1]!;
  const fitness = last.fitness ?? 0, inlierRmse = last.inlierRmse ?? 0;
  const finalDist = sched ? levels[levels.length - 1]!.maxCorrespondenceDistance : scoreDist;
  const minFitness = opts.minFitness ?? 0.3, maxRatio = opts.maxRmseRatio ?? 0.5;
  let confident = !globalFailed;
  if (fitness < minFitness) { confident = false; warnings.push(`low fitness ${fitness.toFixed(3)} < ${minFitness}: few source points lie near the target; the clouds may not overlap, or the alignment is wrong`); }
  if (Number.isFinite(finalDist) && inlierRmse > maxRatio * finalDist) { confident = false; warnings.push(`inlier RMSE ${inlierRmse.toPrecision(3)} is more than ${maxRatio} x the correspondence distance ${finalDist.toPrecision(3)}: the matches look random, not a fit`); }
  // with no distance limit every point has a match, so fitness is always 1 and the check above cannot
  // fire: judge the inlier RMSE against the target's extent (bounding-box diagonal) instead. The seed's
  // curves (31 points against 30, a real fit) end at 0.010 x the extent and the bunnies far lower (a
  // finite distance there); a 2-D trial's curve turned by -30 degrees, started 90 degrees off, stuck at
  // 0.151 x (rotation 19.4 instead of -30). 0.05 keeps 5x margin above the seed and 3x below that failure.
  const maxExtentRatio = 0.05;
  if (!Number.isFinite(finalDist) && inlierRmse > maxExtentRatio * scale.extent) {
    confident = false;
    warnings.push(`inlier RMSE ${inlierRmse.toPrecision(3)} is ${(inlierRmse / scale.extent * 100).toPrecision(2)}% of the target's extent ${scale.extent.toPrecision(3)} (bounding-box diagonal; above ${maxExtentRatio * 100}% is not a fit) with no correspondence distance limit: ICP likely stopped in a wrong pose near its start`);
  }
  // a voxel given for another scale (0.005 m suits the bunny; a cloud in mm spans thousands): say what to try
  let voxelAdvice: VoxelAdvice | undefined;
  const ratio = scale.extent / globalVoxel;
  if (isGlobal && d === 3 && opts.global?.voxel !== undefined && (globalFailed || fitness < minFitness) && (ratio > 400 || ratio < 8)) {
    voxelAdvice = { extent: scale.extent, voxel: globalVoxel, suggested: Number((scale.extent / 40).toPrecision(2)) };
  }
  if (sched && !sched.converged) warnings.push(`ICP did not converge in the last level (${sched.levels[sched.levels.length - 1]!.iterations} iterations); raise its maxIterations`);
  return {
    transform: T, stages, finalStage, levels: sched?.levels ?? [], rmseHistory: sched?.rmseHistory ?? [inlierRmse], fitnessHistory: sched?.fitnessHistory ?? [fitness],
    levelStarts: sched?.levelStarts ?? [0], iterationOf: sched?.iterationOf ?? [0], history: sched?.history ?? [T], iterations: sched?.iterations ?? 0, converged: sched?.converged ?? false,
    fitness, inlierRmse, confident, warnings, schedule: levels, ...(voxelAdvice ? { voxelAdvice } : {}), estimation: sched?.estimation ?? String(opts.icp?.estimation ?? 'point-to-point'),
  };
}
