/**
 * The one registration result (Open3D's RegistrationResult, plus what svdflow reports about
 * trust and history), and the one definition of its two metrics. Procrustes (matched pairs)
 * and ICP from any pose (register.ts) both end here, so the `align` stage, the plots and the
 * summaries read the same typed fields. fitness and inlierRmse are defined in metrics.ts.
 */
import { Matrix } from '../linalg/matrix.js';
import { procrustes } from './procrustes.js';
import type { IcpCriteria, IcpStop, RobustKernel } from './icp.js';
import { register, type InitMode, type StageRecord, type VoxelAdvice } from './register.js';
import type { GlobalOptions } from './global.js';
import type { IcpLevel } from './schedule.js';
import { decompose, determinant, homogeneous } from './rigid.js';

export interface Registration {
  /** 'procrustes' or 'icp (<estimation>)' */
  method: string;
  dim: number;
  /** (d+1) x (d+1) homogeneous transform mapping source onto target: x' = s R x + t */
  transform: Matrix;
  rotation: Matrix;
  translation: Float64Array;
  scale: number;
  reflection: boolean;
  /** see metrics.ts; null for Procrustes, whose pairs are given (no distance decides them) */
  fitness: number | null;
  inlierRmse: number;
  /** ICP updates (all levels); 0 for Procrustes (closed form) */
  iterations: number;
  /** whether ICP stopped by its criteria, an exact fit or a 2-cycle; null for Procrustes (not iterative) */
  converged: boolean | null;
  /** why ICP stopped; null for Procrustes */
  stop: IcpStop | null;
  /** inlier RMSE per measurement (ICP: entry 0 before any update, each level's start included; Procrustes: the fit's residual) */
  rmseHistory: number[];
  /** fitness per measurement (ICP; empty for Procrustes) */
  fitnessHistory: number[];
  /** the update count of each rmseHistory entry (0 .. iterations): the x axis of a convergence plot */
  iterationOf: number[];
  /** where each ICP level starts in rmseHistory ([0] for one level) */
  levelStarts: number[];
  /** transforms per update, for animations (ICP) */
  history?: Matrix[];
  /** false when a warning says the result should not be trusted */
  confident: boolean;
  /** why the result may be wrong or not unique; empty when none */
  warnings: string[];
  /** one record per stage (init or global step, each ICP level) with its fitness and inlier RMSE */
  stages: StageRecord[];
  /** the stage whose transform is the result */
  finalStage: string;
  /** Procrustes diagnostics: cross-covariance singular values, RMSE / target spread */
  procrustes?: { singularValues: number[]; relativeRmse: number };
  /** 3-D init global that failed with a voxel far from the clouds' scale: their extent and a voxel to try */
  voxelAdvice?: VoxelAdvice;
  /** ICP settings as run */
  icp?: { estimation: string; schedule: IcpLevel[]; criteria: IcpCriteria; targetNormals: 'from input' | string };
}

export interface ProcrustesParams {
  translation: boolean;
  scaling: boolean;
  allowReflection: boolean;
  weights?: number[];
}

/** Procrustes / Umeyama on matched rows as a Registration (no invented fitness, iterations or convergence). */
export function procrustesRegistration(source: Matrix, target: Matrix, p: ProcrustesParams): Registration {
  const d = source.cols;
  const r = procrustes(source, target, { translation: p.translation, scaling: p.scaling, allowReflection: p.allowReflection, weights: p.weights });
  const transform = homogeneous(r.R, r.t, r.scale);
  return {
    method: 'procrustes', dim: d, transform, rotation: r.R, translation: r.t, scale: r.scale, reflection: determinant(r.R) < 0,
    fitness: null, inlierRmse: r.rmse, iterations: 0, converged: null, stop: null,
    rmseHistory: [r.rmse], fitnessHistory: [], iterationOf: [0], levelStarts: [0],
    confident: r.warnings.length === 0, warnings: r.warnings,
    stages: [{ stage: 'procrustes', fitness: null, inlierRmse: r.rmse, ms: 0 }], finalStage: 'procrustes',
    procrustes: { singularValues: Array.from(r.singularValues), relativeRmse: r.relativeRmse },
  };
}

export interface IcpParams {
  estimation: 'point-to-point' | 'point-to-plane';
  scaling: boolean;
  maxCorrespondenceDistance?: number;
  trim: number;
  kernel: { type: 'none' | 'huber' | 'tukey' | 'cauchy'; scale: number };
  init: InitMode | Matrix;
  levels?: IcpLevel[] | 'auto';
  global: Partial<GlobalOptions>;
  angles: number;
  minFitness: number;
  maxRmseRatio: number;
  criteria: IcpCriteria;
  normalNeighbours: number;
}

/** ICP from any pose (init, global step, coarse-to-fine levels) as a Registration. IcpError for data ICP cannot use. */
export function icpRegistration(source: Matrix, target: Matrix, p: IcpParams, targetNormals?: Matrix, onProgress?: (done: number, total: number) => void): Registration {
  const d = source.cols;
  const kernel: RobustKernel = p.kernel.type === 'none' ? { type: 'none' } : { type: p.kernel.type, scale: p.kernel.scale };
  const r = register(source, target, {
    init: p.init, levels: p.levels, single: { maxCorrespondenceDistance: p.maxCorrespondenceDistance ?? Infinity, maxIterations: p.criteria.maxIterations },
    icp: { estimation: p.estimation, scaling: p.scaling, trim: p.trim, kernel, criteria: p.criteria, normalNeighbours: p.normalNeighbours, targetNormals },
    global: p.global, angles: p.angles, minFitness: p.minFitness, maxRmseRatio: p.maxRmseRatio, onProgress,
  });
  const T = r.transform;
  const dec = decompose(T);
  // without scaling the linear part is the rotation itself (no det-based rescaling round-off)
  const scaled = p.estimation === 'point-to-point' && p.scaling;
  const { R, t, scale } = scaled ? dec : { R: T.block(0, d, 0, d).clone(), t: dec.t, scale: 1 };
  const last = r.levels[r.levels.length - 1];
  return {
    method: `icp (${p.estimation})`, dim: d, transform: T, rotation: R, translation: t, scale, reflection: determinant(R) < 0,
    fitness: r.fitness, inlierRmse: r.inlierRmse, iterations: r.iterations, converged: r.converged, stop: last?.stop ?? null,
    rmseHistory: r.rmseHistory, fitnessHistory: r.fitnessHistory, iterationOf: r.iterationOf, levelStarts: r.levelStarts, history: r.history,
    confident: r.confident, warnings: r.warnings, stages: r.stages, finalStage: r.finalStage, ...(r.voxelAdvice ? { voxelAdvice: r.voxelAdvice } : {}),
    icp: { estimation: r.estimation, schedule: r.schedule, criteria: p.criteria, targetNormals: targetNormals ? 'from input' : p.estimation === 'point-to-plane' ? `PCA of ${p.normalNeighbours} neighbours` : 'not used' },
  };
}


/**
 * An alignment as written to JSON without its point lists (a 40,000-point scan would make
 * megabytes of them): every field of the result, matrices as nested lists, the clouds named and
 * counted; the per-iteration transforms left out (RMSE and fitness per iteration kept). plot-alignment's report and write-json with points: false write this.
 */
export function alignmentSummary(a: Registration & { kind: 'Alignment'; name: string; source: { name: string; points: Matrix; edits?: string[]; origin?: string }; target: { name: string; points: Matrix }; aligned: unknown }): Record<string, unknown> {
  const { source: _s, target: _t, aligned: _a, history: _h, ...rest } = a;
  return { ...rest, transform: a.transform.to2D(), rotation: a.rotation.to2D(), translation: Array.from(a.translation), source: a.source.name, ...(a.source.edits ? { sourceOrigin: a.source.origin, sourceEdits: a.source.edits } : {}), target: a.target.name, sourcePoints: a.source.points.rows, targetPoints: a.target.points.rows };
}
