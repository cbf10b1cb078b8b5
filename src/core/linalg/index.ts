/**
 * svdflow linear-algebra core: dense row-major matrices on Float64Array, GEMM,
 * Householder QR, symmetric eigensolver, thin/Gram/randomized SVD, incremental SVD
 * and spectrum helpers. Pure numeric code: no I/O, no RxJS, no logging.
 *
 * Storage order everywhere: ROW-major, element (i, j) at data[offset + i*stride + j].
 */
export { Matrix, setSharedAllocation } from './matrix.js';
export { startTeam, stopTeam, teamReady, teamHelpers } from './team.js';
export { LinalgError, assertFinite } from './errors.js';
export { gemm, matmul, matTmul, matmulT, frobeniusNormSq, gramMatrix, setGemmBackend, gemmBackend, type GemmOptions } from './gemm.js';
export { qr, qrFactor, applyReflectorsLeft, type Reflectors } from './householder.js';
export { symEig } from './eig.js';
export {
  svd,
  exactSvd,
  singularValues,
  gramSvd,
  randomizedSvd,
  chooseSolver,
  bidiagonalize,
  bidiagSvd,
  type SvdSolver,
  type SvdOptions,
  type SvdResult,
} from './svd.js';
export { relativeErrors, cumulativeEnergy } from './spectrum.js';
export { seededRandom, type SeededRandom } from './random.js';
export { setBlas, blasStatus, type BlasStatus } from './native.js';
export { IncrementalSvd, type IncrementalSvdOptions, type IncrementalSvdState } from './incremental.js';
