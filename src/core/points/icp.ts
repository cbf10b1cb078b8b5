/**
 * Iterative closest point: match each (transformed) source point to its nearest
 * target point through a k-d tree, estimate an increment with a swappable
 * strategy (point-to-point Procrustes/Umeyama, or linearised point-to-plane),
 * repeat until the relative changes of inlier RMSE and fitness fall below the
 * criteria (as Open3D's ICPConvergenceCriteria) or maxIterations is reached.
 *
 *   const r = icp(source, target, { estimation: 'point-to-plane', maxCorrespondenceDistance: 0.005 });
 *
 * fitness and inlierRmse as defined in metrics.ts (correspondence = nearest target point
 * within maxCorrespondenceDistance). Trimming and robust kernels change the estimation
 * only, not these metrics.
 *
 * Stopping (`stop` in the result): 'criteria' when both relative changes fall below the
 * criteria (Open3D's rule); 'exact' when the inlier RMSE is at the rounding floor of the
 * coordinates (<= EXACT_FIT x their largest magnitude: an exact fit whose RMSE only jitters
 * in the last digits, which relative changes never settle); 'cycle' when the correspondences
 * alternate between two sets, so that RMSE and fitness repeat every second update (a 2-cycle:
 * nothing will change by iterating further); 'maxIterations' otherwise (converged false).
 */
import { PointsError } from './errors.js';
import { Matrix } from '../linalg/matrix.js';
import { KdTree } from './kdtree.js';
import { nearestAll } from './queries.js';
import { queryParts } from './query-team.js';
import { procrustes } from './procrustes.js';
import { applyTransform, compose, homogeneous } from './rigid.js';
import { scoreMatches, type ScoredTransform } from './metrics.js';
import { estimateNormalsInto, normalsWarning, NORMALS_PER_PART } from './normals.js';

export interface IcpCriteria {
  /** at most this many updates (default 30) */
  maxIterations: number;
  /** stop when |Δ inlierRmse| / previous inlierRmse < this (default 1e-6) … */
  relativeRmse: number;
  /** … and |Δ fitness| / previous fitness < this (default 1e-6) */
  relativeFitness: number;
}

export const DEFAULT_CRITERIA: Readonly<IcpCriteria> = Object.freeze({ maxIterations: 30, relativeRmse: 1e-6, relativeFitness: 1e-6 });

/** An inlier RMSE at most this times the largest coordinate magnitude is an exact fit (rounding only). */
export const EXACT_FIT = 1e-12;

/** Why an ICP run stopped (see the module comment); all but 'maxIterations' are convergence. */
export type IcpStop = 'criteria' | 'exact' | 'cycle' | 'maxIterations';

/**
 * The stopping rule, one place: given the RMSE and fitness after each update (entry 0 before
 * any), whether the last update converged and why.
 */
export function icpStop(rmse: readonly number[], fitness: readonly number[], crit: IcpCriteria, exactFloor: number): IcpStop | undefined {
  const k = rmse.length - 1;
  if (k < 1) return undefined;
  const rel = (a: number, b: number) => Math.abs(a - b) / (Math.abs(a) || 1);
  if (rmse[k]! <= exactFloor) return 'exact';
  if (rel(rmse[k - 1]!, rmse[k]!) < crit.relativeRmse && rel(fitness[k - 1]!, fitness[k]!) < crit.relativeFitness) return 'criteria';
  // a 2-cycle: the last two updates went back and forth (values equal to those two updates ago, twice over)
  if (k >= 3 && rel(rmse[k - 2]!, rmse[k]!) < crit.relativeRmse && rel(fitness[k - 2]!, fitness[k]!) < crit.relativeFitness
    && rel(rmse[k - 3]!, rmse[k - 1]!) < crit.relativeRmse && rel(fitness[k - 3]!, fitness[k - 1]!) < crit.relativeFitness) return 'cycle';
  return undefined;
}

export type RobustKernel = { type: 'none' } | { type: 'huber' | 'tukey' | 'cauchy'; scale: number };

/** Matched pairs for one iteration: rows of the current source and of the target. */
export interface Correspondences {
  src: Int32Array;
  dst: Int32Array;
  /** squared distances */
  distSq: Float64Array;
  count: number;
}

/** How one increment is estimated from correspondences (Open3D's TransformationEstimation). */
export interface EstimationStrategy {
  readonly name: string;
  readonly needsTargetNormals: boolean;
  /**
   * The (d+1)x(d+1) increment ΔT that moves `current` (source already transformed)
   * onto the target, from the pairs `corr` with per-pair `weights`.
   */
  estimate(current: Matrix, target: Matrix, targetNormals: Matrix | undefined, corr: Correspondences, weights: Float64Array | undefined, kernel: RobustKernel): Matrix;
}

export function pointToPoint(opts: { scaling?: boolean } = {}): EstimationStrategy {
  return {
    name: 'point-to-point',
    needsTargetNormals: false,
    estimate(current, target, _n, corr, weights, kernel) {
      let w = weights;
      if (kernel.type !== 'none') {
        w = new Float64Array(corr.count);
        for (let i = 0; i < corr.count; i++) w[i] = (weights ? weights[i]! : 1) * kernelWeight(kernel, Math.sqrt(corr.distSq[i]!));
      }
      const r = procrustes(current, target, { scaling: opts.scaling, weights: w }, corr);
      return homogeneous(r.R, r.t, r.scale);
    },
  };
}

/** Linearised point-to-plane (3-D) / point-to-line (2-D) least squares, as Open3D's TransformationEstimationPointToPlane. */
export function pointToPlane(): EstimationStrategy {
  return {
    name: 'point-to-plane',
    needsTargetNormals: true,
    estimate(current, target, normals, corr, weights, kernel) {
      const d = current.cols;
      const m = d === 3 ? 6 : 3;
      const AtA = new Float64Array(m * m), Atb = new Float64Array(m);
      const J = new Float64Array(m);
      const P = current.data, Q = target.data, N = normals!.data;
      // 3-D: its own loop; 2-D (point-to-line) here
      if (d === 3) accumulatePlane3(P, Q, N, corr, weights, kernel, AtA, Atb);
      else for (let i = 0; i < corr.count; i++) {
        const a = corr.src[i]! * d, b = corr.dst[i]! * d;
        let r = 0;
        for (let j = 0; j < d; j++) r += (P[a + j]! - Q[b + j]!) * N[b + j]!;
        J[0] = P[a]! * N[b + 1]! - P[a + 1]! * N[b]!; J[1] = N[b]!; J[2] = N[b + 1]!;
        let w = weights ? weights[i]! : 1;
        if (kernel.type !== 'none') w *= kernelWeight(kernel, r);
        if (w === 0) continue;
        for (let p = 0; p < m; p++) {
          const wj = w * J[p]!;
          Atb[p]! -= wj * r;
          for (let q = p; q < m; q++) AtA[p * m + q]! += wj * J[q]!;
        }
      }
      for (let p = 0; p < m; p++) for (let q = 0; q < p; q++) AtA[p * m + q] = AtA[q * m + p]!;
      const x = choleskySolve(AtA, Atb, m);
      if (!x) throw new PointsError('point-to-plane: the normal equations are singular (the matched target is flat or a line along some direction)', 'use estimation: point-to-point');
      if (d === 2) {
        const c = Math.cos(x[0]!), s = Math.sin(x[0]!);
        return Matrix.from2D([[c, -s, x[1]!], [s, c, x[2]!], [0, 0, 1]]);
      }
      // R = Rz(γ) Ry(β) Rx(α), as Open3D's TransformVector6dToMatrix4d
      const [al, be, ga] = [x[0]!, x[1]!, x[2]!];
      const ca = Math.cos(al), sa = Math.sin(al), cb = Math.cos(be), sb = Math.sin(be), cg = Math.cos(ga), sg = Math.sin(ga);
      return Matrix.from2D([
        [cg * cb, -sg * ca + cg * sb * sa, sg * sa + cg * sb * ca, x[3]!],
        [sg * cb, cg * ca + sg * sb * sa, -cg * sa + sg * sb * ca, x[4]!],
        [-sb, cb * sa, cb * ca, x[5]!],
        [0, 0, 0, 1],
      ]);
    },
  };
}

/**
 * The 3-D point-to-plane normal equations (upper triangle of AtA, and Atb), each entry summed
 * over the pairs in order as the general loop sums it, with the Jacobian row in locals.
 */
function accumulatePlane3(P: Float64Array, Q: Float64Array, N: Float64Array, corr: Correspondences, weights: Float64Array | undefined, kernel: RobustKernel, AtA: Float64Array, Atb: Float64Array): void {
  let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a04 = 0, a05 = 0, a11 = 0, a12 = 0, a13 = 0, a14 = 0, a15 = 0;
  let a22 = 0, a23 = 0, a24 = 0, a25 = 0, a33 = 0, a34 = 0, a35 = 0, a44 = 0, a45 = 0, a55 = 0;
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0;
  const plain = kernel.type === 'none';
  for (let i = 0; i < corr.count; i++) {
    const a = corr.src[i]! * 3, b = corr.dst[i]! * 3;
    const px = P[a]!, py = P[a + 1]!, pz = P[a + 2]!, nx = N[b]!, ny = N[b + 1]!, nz = N[b + 2]!;
    let r = 0;
    r += (px - Q[b]!) * nx;
    r += (py - Q[b + 1]!) * ny;
    r += (pz - Q[b + 2]!) * nz;
    const j0 = py * nz - pz * ny, j1 = pz * nx - px * nz, j2 = px * ny - py * nx;
    let w = weights ? weights[i]! : 1;
    if (!plain) w *= kernelWeight(kernel, r);
    if (w === 0) continue;
    let wj = w * j0;
    b0 -= wj * r; a00 += wj * j0; a01 += wj * j1; a02 += wj * j2; a03 += wj * nx; a04 += wj * ny; a05 += wj * nz;
    wj = w * j1;
    b1 -= wj * r; a11 += wj * j1; a12 += wj * j2; a13 += wj * nx; a14 += wj * ny; a15 += wj * nz;
    wj = w * j2;
    b2 -= wj * r; a22 += wj * j2; a23 += wj * nx; a24 += wj * ny; a25 += wj * nz;
    wj = w * nx;
    b3 -= wj * r; a33 += wj * nx; a34 += wj * ny; a35 += wj * nz;
    wj = w * ny;
    b4 -= wj * r; a44 += wj * ny; a45 += wj * nz;
    wj = w * nz;
    b5 -= wj * r; a55 += wj * nz;
  }
  AtA.set([a00, a01, a02, a03, a04, a05, 0, a11, a12, a13, a14, a15, 0, 0, a22, a23, a24, a25, 0, 0, 0, a33, a34, a35, 0, 0, 0, 0, a44, a45, 0, 0, 0, 0, 0, a55]);
  Atb.set([b0, b1, b2, b3, b4, b5]);
}

export function kernelWeight(k: RobustKernel, r: number): number {
  if (k.type === 'none') return 1;
  const a = Math.abs(r) / k.scale;
  if (k.type === 'huber') return a <= 1 ? 1 : 1 / a;
  if (k.type === 'tukey') return a <= 1 ? (1 - a * a) ** 2 : 0;
  return 1 / (1 + a * a);
}

/** Solves the SPD system A x = b (m x m, row-major) by Cholesky; undefined when not positive definite. */
export function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array | undefined {
  const L = new Float64Array(m * m);
  let maxDiag = 0;
  for (let i = 0; i < m; i++) maxDiag = Math.max(maxDiag, A[i * m + i]!);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j]!;
      for (let k = 0; k < j; k++) s -= L[i * m + k]! * L[j * m + k]!;
      if (i === j) {
        if (!(s > maxDiag * 1e-14)) return undefined;
        L[i * m + i] = Math.sqrt(s);
      } else L[i * m + j] = s / L[j * m + j]!;
    }
  }
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * m + k]! * y[k]!;
    y[i] = s / L[i * m + i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < m; k++) s -= L[k * m + i]! * x[k]!;
    x[i] = s / L[i * m + i]!;
  }
  return x;
}

export interface IcpOptions {
  /** 'point-to-point' (default), 'point-to-plane', or a strategy object */
  estimation?: 'point-to-point' | 'point-to-plane' | EstimationStrategy;
  /** point-to-point only: estimate a uniform scale too */
  scaling?: boolean;
  /** pairs farther apart are not correspondences (default Infinity: every source point matches) */
  maxCorrespondenceDistance?: number;
  /** keep the closest fraction of correspondences for the estimation (trimmed ICP; default 1) */
  trim?: number;
  kernel?: RobustKernel;
  /** initial transform (d+1)x(d+1) applied to the source (default identity) */
  init?: Matrix;
  criteria?: Partial<IcpCriteria>;
  /** target normals (point-to-plane); when absent, estimated by PCA of `normalNeighbours` neighbours for the target points that get matched */
  targetNormals?: Matrix;
  normalNeighbours?: number;
  /** a k-d tree already built on the target */
  targetTree?: KdTree;
  /** keep the transform after every iteration (default true) */
  keepHistory?: boolean;
  /** called after each update with the number of updates so far (progress) */
  onIteration?: (iteration: number) => void;
}

export interface IcpResult extends ScoredTransform {
  /** inlier RMSE before the first update (entry 0) and after each update */
  rmseHistory: number[];
  fitnessHistory: number[];
  /** correspondences after the last update */
  correspondences: number;
  /** why the run stopped: criteria, exact (rounding-level RMSE), cycle (a 2-cycle) or maxIterations */
  stop: IcpStop;
  /** transform after each update (entry 0 = init) */
  history?: Matrix[];
  /** target normals used (point-to-plane); when estimated here, rows of target points never matched are zero */
  targetNormals?: Matrix;
  estimation: string;
  /** what the data left undetermined (e.g. normals of collinear neighbourhoods); empty when nothing */
  warnings: string[];
}

/** Thrown when no source point has a target neighbour within the distance: never an empty result. */
export class IcpError extends PointsError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'IcpError';
  }
}

export function icp(source: Matrix, target: Matrix, options: IcpOptions = {}): IcpResult {
  const d = source.cols, n = source.rows;
  if (target.cols !== d) throw new IcpError(`source is ${d}-D but target is ${target.cols}-D`, 'align point sets of the same dimension');
  const crit = { ...DEFAULT_CRITERIA, ...options.criteria };
  const strategy = typeof options.estimation === 'object' ? options.estimation
    : options.estimation === 'point-to-plane' ? pointToPlane() : pointToPoint({ scaling: options.scaling });
  const maxD = options.maxCorrespondenceDistance ?? Infinity;
  const maxDSq = maxD * maxD;
  const trim = options.trim ?? 1;
  const kernel = options.kernel ?? { type: 'none' };
  const tgt0 = target.isContiguous ? target : target.clone();
  const tree = options.targetTree ?? new KdTree(tgt0);
  // a running query team splits the searches and the normals, whose operands must be in shared
  // memory: below ~16k values a pool worker allocates plain memory, so the small clouds of a
  // schedule's coarse levels are copied here (else their levels run on one thread)
  const team = tree.shared && queryParts(Math.max(n, tgt0.rows), NORMALS_PER_PART) > 1;
  const shared = (M: Matrix): Matrix => {
    if (!team || M.data.buffer instanceof SharedArrayBuffer) return M;
    const S = new Matrix(M.rows, M.cols, new Float64Array(new SharedArrayBuffer(8 * M.rows * M.cols)));
    S.data.set(M.data.subarray(0, M.rows * M.cols));
    return S;
  };
  const tgt = shared(tgt0);
  let normals = options.targetNormals;
  const warnings: string[] = [];
  // normals not given: estimated only for the target points that get matched, as they first are
  // (each as estimateNormals computes it, so the result is that of ICP with every normal given)
  const lazy = strategy.needsTargetNormals && !normals ? { have: new Uint8Array(tgt.rows), count: 0, stats: { collinear: 0, coincident: 0, isotropic: 0 } } : undefined;
  if (lazy) normals = team ? new Matrix(tgt.rows, d, new Float64Array(new SharedArrayBuffer(8 * tgt.rows * d))) : new Matrix(tgt.rows, d);
  if (normals && !normals.isContiguous) normals = normals.clone();
  let T = options.init ? options.init.clone() : Matrix.identity(d + 1);
  const cur = shared(applyTransform(T, source));
  const corr: Correspondences = { src: new Int32Array(n), dst: new Int32Array(n), distSq: new Float64Array(n), count: 0 };
  // every source point's nearest target point, split across the query team when one runs
  // (shared memory; the same answers in any split), then the pairs kept in source order
  const split = queryParts(n) > 1 && tree.shared && cur.data.buffer instanceof SharedArrayBuffer;
  const nnIdx = split ? new Int32Array(new SharedArrayBuffer(4 * n)) : new Int32Array(n);
  const nnDist = split ? new Float64Array(new SharedArrayBuffer(8 * n)) : new Float64Array(n);
  // per source point, how far it may move before its nearest target point can change (none yet):
  // the later iterations move most points by far less, which then keep their match unsearched
  const cert = (split ? new Float64Array(new SharedArrayBuffer(8 * n)) : new Float64Array(n)).fill(-1);
  let warm = false;
  /** moves cur by `move` (when given; each range by the thread that then queries it), then matches */
  const match = (move?: Matrix) => {
    let c = 0, sse = 0;
    // from the second search on, each search starts from the point matched last time (same answers, fewer cells)
    nearestAll(tree, cur.data, n, maxDSq === Infinity ? Infinity : maxDSq * (1 + 1e-12), nnIdx, nnDist, warm, move && (move.isContiguous && move.offset === 0 ? move.data : move.clone().data), cert);
    warm = true;
    for (let i = 0; i < n; i++) {
      const j = nnIdx[i]!, dd = nnDist[i]!;
      if (j < 0 || dd > maxDSq) continue;
      corr.src[c] = i; corr.dst[c] = j; corr.distSq[c] = dd; c++;
      sse += dd;
    }
    corr.count = c;
    const sc = scoreMatches(c, n, sse);
    return { fitness: sc.fitness, rmse: sc.inlierRmse };
  };
  const history: Matrix[] | undefined = options.keepHistory === false ? undefined : [T.clone()];
  let ev = match();
  if (ev.fitness === 0 || corr.count < d + 1) {
    throw new IcpError(
      `${corr.count === 0 ? 'no' : `only ${corr.count}`} source point${corr.count === 1 ? ' has' : 's have'} a target point within maxCorrespondenceDistance ${maxD} (need at least ${d + 1})`,
      'raise maxCorrespondenceDistance, or give an init transform that brings the clouds closer',
    );
  }
  const rmseHistory = [ev.rmse], fitnessHistory = [ev.fitness];
  let tmax = 0;
  for (let i = 0; i < tgt.data.length; i++) tmax = Math.max(tmax, Math.abs(tgt.data[i]!));
  const exactFloor = EXACT_FIT * tmax;
  let converged = false, it = 0, stop: IcpStop = 'maxIterations';
  const normalsFor = (c: Correspondences) => {
    if (!lazy) return;
    let m = 0;
    for (let i = 0; i < c.count; i++) { const j = c.dst[i]!; if (!lazy.have[j]) { lazy.have[j] = 1; m++; } }
    if (!m) return;
    const only = normals!.data.buffer instanceof SharedArrayBuffer ? new Int32Array(new SharedArrayBuffer(4 * m)) : new Int32Array(m);
    // in target order (the have flags), so that the helpers' ranges are compact regions of the cloud
    for (let j = 0, w = 0; w < m; j++) if (lazy.have[j] === 1) { only[w++] = j; lazy.have[j] = 2; }
    const st = estimateNormalsInto(tgt, normals!, { k: options.normalNeighbours ?? 30, tree, only });
    lazy.count += m; lazy.stats.collinear += st.collinear; lazy.stats.coincident += st.coincident; lazy.stats.isotropic += st.isotropic;
  };
  for (; it < crit.maxIterations; ) {
    const pairs = trimmed(corr, trim, d);
    normalsFor(pairs);
    const dT = strategy.estimate(cur, tgt, normals, pairs, undefined, kernel);
    T = compose(dT, T);
    it++;
    history?.push(T.clone());
    ev = match(dT); // cur moved by dT as applyTransform(dT, cur, cur) would, then matched
    if (corr.count < d + 1) {
      throw new IcpError(`after iteration ${it}, only ${corr.count} source points have a target point within maxCorrespondenceDistance ${maxD}`, 'the estimate diverged: raise maxCorrespondenceDistance, use trim or a robust kernel, or give a better init');
    }
    rmseHistory.push(ev.rmse);
    fitnessHistory.push(ev.fitness);
    options.onIteration?.(it);
    const why = icpStop(rmseHistory, fitnessHistory, crit, exactFloor);
    if (why) {
      converged = true;
      stop = why;
      break;
    }
  }
  if (lazy) { const w = normalsWarning(lazy.stats, lazy.count); if (w) warnings.push(w); }
  return {
    transform: T,
    rmseHistory,
    fitnessHistory,
    fitness: ev.fitness,
    inlierRmse: ev.rmse,
    correspondences: corr.count,
    iterations: it,
    converged,
    stop,
    history,
    targetNormals: normals,
    estimation: strategy.name,
    warnings,
  };
}

/** The closest `trim` fraction of the pairs (all when trim >= 1), at least d + 1. */
function trimmed(c: Correspondences, trim: number, d: number): Correspondences {
  if (trim >= 1) return c;
  const keep = Math.max(d + 1, Math.ceil(trim * c.count));
  if (keep >= c.count) return c;
  const sorted = c.distSq.slice(0, c.count).sort();
  const thr = sorted[keep - 1]!;
  const out: Correspondences = { src: new Int32Array(keep), dst: new Int32Array(keep), distSq: new Float64Array(keep), count: 0 };
  for (let i = 0; i < c.count && out.count < keep; i++) {
    if (c.distSq[i]! <= thr) { out.src[out.count] = c.src[i]!; out.dst[out.count] = c.dst[i]!; out.distSq[out.count] = c.distSq[i]!; out.count++; }
  }
  return out;
}
