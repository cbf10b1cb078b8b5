/**
 * Port types: the values that flow between stages. Every value carries a `kind`
 * tag, so that the runtime can check it and TypeScript can tell kinds apart
 * (a chain of stages whose ports do not fit does not compile).
 *
 * Numeric payloads use `Matrix` (row-major Float64Array, see linalg/matrix.ts).
 */
import type { Matrix } from './linalg/matrix.js';
import type { Registration } from './points/registration.js';

/** How values were scaled to [0, 1]: `original = value * scale`. */
export interface Normalization {
  method: 'none' | 'max' | 'dtype';
  scale: number;
}

/** A mean that was subtracted and must be added back. */
export interface Centering {
  /** global: one number; row: one per row (length rows); column: one per column (length cols) */
  mode: 'none' | 'global' | 'row' | 'column';
  mean: Float64Array;
}

/** One image, planar: one height x width Matrix per channel. */
export interface Image {
  kind: 'Image';
  name: string;
  width: number;
  height: number;
  /** 'gray' = 1 plane; 'rgb' = 3 planes R, G, B; 'ycbcr' = 3 planes Y, Cb, Cr (luminance-only work) */
  color: 'gray' | 'rgb' | 'ycbcr';
  planes: Matrix[];
  /** nominal value range of the planes: [0, 255] as loaded ([0, 65535] from a 16-bit file), [0, 1] after normalize */
  range: [number, number];
  /** bits per sample of the source file when it is not 8 (a 16-bit PNG or TIFF): encode writes a PNG of this depth, reports compare at it */
  bitDepth?: 16;
  normalization?: Normalization;
  /** per plane, when the planes were centred */
  centering?: Centering[];
  /** file it was read from, if any */
  source?: string;
  /** encoded size in bytes of the source file, if any (for storage comparisons) */
  sourceBytes?: number;
  /** the rank k of a low-rank reconstruction (set by reconstruct; encode's {k}) */
  rank?: number;
}

/** Several images of the same size and colour, in a stable order. */
export interface ImageBatch {
  kind: 'ImageBatch';
  name: string;
  width: number;
  height: number;
  color: Image['color'];
  images: Image[];
  /**
   * set when the images form a grid over two axes (generate from: grid): row-major images,
   * one label per column and per row (e.g. '-2 sd'), and what each axis is (e.g. 'PC1')
   */
  grid?: { x: string; y: string; columns: string[]; rows: string[] };
}

/** How a Matrix's columns map back to images (set by `stack`). */
export interface StackLayout {
  width: number;
  height: number;
  color: Image['color'];
  /** one name per column */
  names: string[];
  range: [number, number];
  normalization?: Normalization;
}

/** A plain matrix (e.g. images stacked as columns: d x n). */
export interface MatrixValue {
  kind: 'Matrix';
  name: string;
  matrix: Matrix;
  centering?: Centering;
  /** present when the columns are images */
  layout?: StackLayout;
}

/** One thin SVD: A ≈ U diag(s) Vᵀ (U m x k, V n x k), plus ‖A‖²_F for exact tail errors. */
export interface SvdFactors {
  U: Matrix;
  s: Float64Array;
  V: Matrix;
  /** ‖A‖²_F of the (centred) matrix that was factorised */
  normSq: number;
  /** rank kept (k); equals s.length unless truncated further */
  rank: number;
}

/**
 * The SVD of an Image (one per plane) or of a Matrix, with what is needed
 * to rebuild the original kind: the input value without its numeric payload.
 */
export interface Factorization {
  kind: 'Factorization';
  name: string;
  factors: SvdFactors[];
  /** solver actually used */
  solver: string;
  /** the value that was factorised, minus its payload (planes or matrix), to rebuild it */
  template: Omit<Image, 'planes'> | Omit<MatrixValue, 'matrix'>;
  /** uncentred ‖original‖²_F per factor (mean included), for errors against the original */
  originalNormSq: number[];
  /** how `truncate` chose the rank, when it did */
  truncation?: { by: string; target: number; rank: number; reason: string };
  /**
   * Image planes kept as they are, not factorised (Cb and Cr when only the
   * luminance of a ycbcr image was factorised); `factors` are the other planes, in order.
   */
  passthrough?: { plane: number; matrix: Matrix }[];
}

/** A set of points, one per row (n x d, d = 2 or 3). */
export interface PointCloud {
  kind: 'PointCloud';
  name: string;
  points: Matrix;
  normals?: Matrix;
  source?: string;
  /** what `transform` steps did to the cloud as read (in words, with the step id), so that a result can say so */
  edits?: string[];
  /** the name of the cloud before those edits */
  origin?: string;
}

/** Result of `align` (Procrustes or ICP), in the spirit of Open3D's RegistrationResult. */
/** A registration result (core/points/registration.ts: the one result type) with its point clouds. */
export interface Alignment extends Registration {
  kind: 'Alignment';
  name: string;
  source: PointCloud;
  target: PointCloud;
  aligned: PointCloud;
}

/** One decoded video frame (or image-sequence frame). */
export interface Frame {
  kind: 'Frame';
  index: number;
  width: number;
  height: number;
  channels: 1 | 3;
  /** interleaved 8-bit pixels, row-major, width*height*channels bytes */
  data: Uint8Array;
  /** frames per second of the source, if known */
  fps?: number;
  /** expected total frame count, if known (for progress) */
  total?: number;
  /** the source has an audio track (which the videos svdflow writes do not carry: write-video says so) */
  audio?: true;
}

/** A block of consecutive frames and, after modelling, their layers. */
export interface FrameBatch {
  kind: 'FrameBatch';
  /** index of the first frame */
  start: number;
  count: number;
  width: number;
  height: number;
  channels: 1 | 3;
  /** count x (width*height*channels) 8-bit pixels as decoded, frame after frame (value/255 is the 0..1 intensity) */
  frames: Uint8Array;
  /** count x (width*height*channels), 0..1 (absent when background-model was told not to emit it) */
  background?: Float32Array;
  /** count x (width*height*channels), frame − background (only when asked for) */
  foreground?: Float32Array;
  /** count x (width*height), 0 or 1 */
  mask?: Uint8Array;
  /** frames per second of the source, if known */
  fps?: number;
  /** expected total frame count, if known (for progress) */
  total?: number;
  /** the source has an audio track (not carried over to the videos written) */
  audio?: true;
}

/** Named numbers and tables (reports, scores, curves). */
export interface Metrics {
  kind: 'Metrics';
  name: string;
  values: Record<string, number | string | boolean | null>;
  /** column-oriented tables: name -> column -> values */
  tables?: Record<string, Record<string, number[] | string[]>>;
}

/** A file that a stage wrote (committed atomically when the run succeeds). */
export interface FileRef {
  kind: 'File';
  path: string;
  format: string;
  bytes?: number;
  description?: string;
}

export interface PortTypes {
  Image: Image;
  ImageBatch: ImageBatch;
  Matrix: MatrixValue;
  Factorization: Factorization;
  PointCloud: PointCloud;
  Alignment: Alignment;
  Frame: Frame;
  FrameBatch: FrameBatch;
  Metrics: Metrics;
  File: FileRef;
  /** anything: for generic stages (write-json, tap) */
  Any: PortValue;
}

export type PortKind = keyof PortTypes;
export type PortValue = Exclude<PortTypes[Exclude<PortKind, 'Any'>], never>;

export const PORT_KINDS: readonly PortKind[] = [
  'Image', 'ImageBatch', 'Matrix', 'Factorization', 'PointCloud', 'Alignment', 'Frame', 'FrameBatch', 'Metrics', 'File', 'Any',
];

export const PORT_DESCRIPTIONS: Record<PortKind, string> = {
  Image: 'one image, planar float planes (gray, rgb or ycbcr)',
  ImageBatch: 'same-sized images in a stable order',
  Matrix: 'a matrix (e.g. images stacked as columns)',
  Factorization: 'thin SVD factors U, s, V with the mean and shape to rebuild the input',
  PointCloud: 'points as rows (n x d), optional normals',
  Alignment: 'transform, per-iteration RMSE, fitness, inlier RMSE, convergence',
  Frame: 'one decoded video frame (8-bit interleaved)',
  FrameBatch: 'consecutive frames as rows, with background/foreground/mask after modelling',
  Metrics: 'named numbers and tables',
  File: 'a file written by a stage',
  Any: 'any value',
};

/** The kinds a port accepts: one kind or a list. */
export type PortSpec = PortKind | readonly PortKind[];
/** The TS type of the values a port spec accepts. */
export type PortOf<S extends PortSpec> = S extends readonly (infer E extends PortKind)[] ? PortTypes[E] : S extends PortKind ? PortTypes[S] : never;

export function specKinds(spec: PortSpec): PortKind[] {
  return typeof spec === 'string' ? [spec] : [...spec];
}

/**
 * Can a stage emitting `out` feed a port accepting `spec`? When `out` is a list
 * (a stage that emits one of several kinds, e.g. load: Image or ImageBatch),
 * it fits if any of its kinds does; the runner checks the actual value's kind.
 */
export function portAccepts(spec: PortSpec, out: PortSpec): boolean {
  const kinds = specKinds(spec);
  return specKinds(out).some((o) => kinds.includes('Any') || o === 'Any' || kinds.includes(o));
}
