/**
 * Images <-> columns of a d x n matrix (a collection as one matrix).
 *
 * Vectorisation is PLANAR per image: column j holds image j's first plane
 * (R, or gray) row by row, then its second plane, then its third, so
 * d = planes * height * width and entry (c * h * w + y * w + x, j) is
 * pixel (x, y) of plane c of image j. `StackLayout` records the shape, the
 * colour, the value range and one name per column, so that any column (or
 * any d-vector: a mean, an eigen-image, a generated image) maps back to an Image.
 */
import { Matrix } from '../linalg/matrix.js';
import { InputError } from '../errors.js';
import type { Image, StackLayout } from '../ports.js';

export function planeCount(color: Image['color']): number {
  return color === 'gray' ? 1 : 3;
}

/** d = planes * height * width. */
export function layoutDim(layout: Pick<StackLayout, 'width' | 'height' | 'color'>): number {
  return planeCount(layout.color) * layout.width * layout.height;
}

/** The layout of the d x n stack of `images` (same shapes required: else an InputError naming the odd ones). */
export function stackLayout(images: readonly Image[]): StackLayout {
  if (images.length === 0) throw new InputError('cannot stack an empty image batch', 'check that the folder or glob given to load matches some images');
  const first = images[0]!;
  const odd = images.filter((im) => im.width !== first.width || im.height !== first.height || im.color !== first.color || im.planes.length !== first.planes.length);
  if (odd.length) {
    throw new InputError(
      `cannot stack images of different shapes: ${first.name} is ${first.width}x${first.height} ${first.color}, but ${odd
        .slice(0, 5)
        .map((im) => `${im.name} is ${im.width}x${im.height} ${im.color}`)
        .join(', ')}${odd.length > 5 ? ` and ${odd.length - 5} more` : ''}`,
      'give load a resize option, or remove the odd images',
    );
  }
  const layout: StackLayout = { width: first.width, height: first.height, color: first.color, names: images.map((im) => im.name), range: [first.range[0], first.range[1]] };
  if (first.normalization) layout.normalization = { ...first.normalization };
  return layout;
}

/** Rows of the stack of `images`: layoutDim of the first (their shapes checked by stackLayout). */
export function stackRows(images: readonly Image[]): number {
  return images.length ? layoutDim(images[0]!) : 0;
}

/**
 * Rows [r0, r1) of the stack of `images` (checked by stackLayout) into `out`, a contiguous
 * d x n matrix: row c * h * w + q takes pixel q of plane c of each image. Rows are independent,
 * so parts of the stack can be written by different threads into one shared matrix.
 */
export function stackInto(images: readonly Image[], out: Matrix, r0 = 0, r1 = stackRows(images), onProgress?: (done: number, total: number) => void): void {
  const { width: w, height: h } = images[0]!;
  const hw = w * h, np = images[0]!.planes.length, n = images.length;
  if (out.rows !== np * hw || out.cols !== n || !out.isContiguous) throw new RangeError(`stackInto needs a contiguous ${np * hw}x${n} matrix, got ${out.rows}x${out.cols}`);
  const o = out.data;
  // A transpose (pixel-major planes into image columns) in blocks of COPY_BLOCK pixels, four images at
  // a time: the four values of one output row are written together (one cache line, not four)
  // while the block's output rows (BLOCK x n values) stay in cache for the next four images, and
  // each image's plane is read sequentially. One image per pass (stride-n writes of single values)
  // took 1.4x as long, a row at a time with the n images in the inner loop 1.3x (bench/pca.bench.ts).
  // The loops over pixels are the small functions copyFour and copyOne, called once per block and
  // group of images: each is compiled (by V8's optimizing tier) with the type feedback of whole
  // runs of itself. With the loops inline here, the compiler entered the first group's loop before
  // the remainder and progress paths had run, and those paths undid the compiled code when first
  // reached (12 deoptimizations in the first 25 stacks of a process, --trace-deopt; 1 then). The
  // block loop is copyPlaneRows, which sees no caller's object (images, matrices, callbacks): a pool
  // task's are rebuilt on every call, and their maps undid the compiled code of the function that read them.
  for (let c = Math.floor(r0 / hw); c < np && c * hw < r1; c++) {
    const src = planeArrays(images, c, w, h);
    const qa = Math.max(0, r0 - c * hw), qb = Math.min(hw, r1 - c * hw);
    for (let q = qa; q < qb; q += COPY_CHUNK) {
      copyPlaneRows(o, src, c * hw, n, q, Math.min(qb, q + COPY_CHUNK));
      if (onProgress && q + COPY_CHUNK < qb) onProgress(c * hw + q + COPY_CHUNK - r0, r1 - r0); // rows of this part stacked
    }
  }
  onProgress?.(r1 - r0, r1 - r0);
}

/** Pixels per block of stackInto's transpose and per progress report. */
const COPY_BLOCK = 512, COPY_CHUNK = 64 * COPY_BLOCK;

/** stackInto's block loop over pixels [qa, qb) of one plane (stack rows at + qa .. at + qb): typed arrays and planeArrays' array only (see centredPlaneRows). */
function copyPlaneRows(o: Float64Array, src: Float64Array[], at: number, n: number, qa: number, qb: number): void {
  const base = at * n;
  for (let q0 = qa; q0 < qb; q0 += COPY_BLOCK) {
    const q1 = Math.min(qb, q0 + COPY_BLOCK);
    let j = 0;
    for (; j + 4 <= n; j += 4) copyFour(o, base + q0 * n + j, n, src[j]!, src[j + 1]!, src[j + 2]!, src[j + 3]!, q0, q1);
    for (; j < n; j++) copyOne(o, base + q0 * n + j, n, src[j]!, q0, q1);
  }
}

/** s0..s3[q] for q in [q0, q1) into o[r], o[r + 1], o[r + 2], o[r + 3], r stepping by n from `at`. */
function copyFour(o: Float64Array, at: number, n: number, s0: Float64Array, s1: Float64Array, s2: Float64Array, s3: Float64Array, q0: number, q1: number): void {
  for (let q = q0, r = at; q < q1; q++, r += n) {
    o[r] = s0[q]!;
    o[r + 1] = s1[q]!;
    o[r + 2] = s2[q]!;
    o[r + 3] = s3[q]!;
  }
}

/** s[q] for q in [q0, q1) into o[r], r stepping by n from `at`. */
function copyOne(o: Float64Array, at: number, n: number, s: Float64Array, q0: number, q1: number): void {
  for (let q = q0, r = at; q < q1; q++, r += n) o[r] = s[q]!;
}

/**
 * Rows [r0, r1) of the stack of `images` MINUS THEIR MEANS into `out` (contiguous d x n), the
 * means into mean[r]: stackInto then subtractRowMeans (core/image/planes.ts) in one pass over the
 * matrix, bit for bit. Each output row holds pixel q of one plane of every image; per block of
 * BLOCK pixels, the rows' sums are added up from the planes in image order starting from 0, four
 * images per step: acc + a + b + c + d, left to right, which is the chain subtractRowMeans adds
 * along a row; the mean is sum / n; then each value is written as value + (-mean), as it writes
 * them, four images' values of one row together (as stackInto), the planes' block read again from
 * cache. Stacking then centring wrote the matrix, read it back from memory (12 MB for 22 stamps)
 * and wrote it again: three passes of per-value work, now two, and the matrix is written once.
 * (Measured alternatives, one thread, 22 stamps: copying while summing and then shifting the
 * block's rows in place, 1.2 to 1.4x as long; groups of eight images, 1.05x.)
 */
export function stackCentredInto(images: readonly Image[], out: Matrix, mean: Float64Array, r0 = 0, r1 = stackRows(images), onProgress?: (done: number, total: number) => void): void {
  const { width: w, height: h } = images[0]!;
  const hw = w * h, np = images[0]!.planes.length, n = images.length;
  if (out.rows !== np * hw || out.cols !== n || !out.isContiguous) throw new RangeError(`stackCentredInto needs a contiguous ${np * hw}x${n} matrix, got ${out.rows}x${out.cols}`);
  if (mean.length < np * hw) throw new RangeError(`stackCentredInto needs ${np * hw} means, got room for ${mean.length}`);
  const o = out.data;
  const acc = new Float64Array(CENTRED_BLOCK);
  for (let c = Math.floor(r0 / hw); c < np && c * hw < r1; c++) {
    const src = planeArrays(images, c, w, h);
    const qa = Math.max(0, r0 - c * hw), qb = Math.min(hw, r1 - c * hw);
    for (let q = qa; q < qb; q += CENTRED_CHUNK) {
      centredPlaneRows(o, mean, src, acc, c * hw, n, q, Math.min(qb, q + CENTRED_CHUNK));
      if (onProgress && q + CENTRED_CHUNK < qb) onProgress(c * hw + q + CENTRED_CHUNK - r0, r1 - r0); // rows of this part done
    }
  }
  onProgress?.(r1 - r0, r1 - r0);
}

/** Pixels per block (rows summed, then written, while the planes' block is in cache) and per progress report. */
const CENTRED_BLOCK = 256, CENTRED_CHUNK = 128 * CENTRED_BLOCK;

/**
 * Plane c of every image as its contiguous values, in a new packed array made here. The objects a
 * caller passes (images, their planes: a pool task's are rebuilt from its message on every call)
 * need not have the hidden classes of the previous call's; read in the function that holds the hot
 * loop, they undid its compiled code ("wrong map", --trace-deopt) on a pool thread's second call.
 */
function planeArrays(images: readonly Image[], c: number, w: number, h: number): Float64Array[] {
  const src: Float64Array[] = [];
  for (let j = 0; j < images.length; j++) {
    const im = images[j]!, p = im.planes[c]!;
    if (p.rows !== h || p.cols !== w) throw new InputError(`image ${im.name} plane ${c} is ${p.cols}x${p.rows}, but the image says ${w}x${h}`, 'this is a bug in the stage that made the image; please report it');
    src.push(p.isContiguous ? p.data : p.clone().data);
  }
  return src;
}

/**
 * stackCentredInto's block loop over pixels [qa, qb) of one plane (stack rows at + qa .. at + qb):
 * each block's sums, its means into mean[at + q], its values minus their means into o. Its arguments
 * are typed arrays, numbers and planeArrays' array, never a caller's objects or callbacks, so its
 * compiled code holds from one call (and one pool task) to the next.
 */
function centredPlaneRows(o: Float64Array, mean: Float64Array, src: Float64Array[], acc: Float64Array, at: number, n: number, qa: number, qb: number): void {
  const base = at * n;
  for (let q0 = qa; q0 < qb; q0 += CENTRED_BLOCK) {
    const q1 = Math.min(qb, q0 + CENTRED_BLOCK);
    acc.fill(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) sumFour(acc, src[j]!, src[j + 1]!, src[j + 2]!, src[j + 3]!, q0, q1);
    for (; j < n; j++) sumOne(acc, src[j]!, q0, q1);
    shiftsOf(acc, mean, at + q0, q1 - q0, n);
    j = 0;
    for (; j + 4 <= n; j += 4) shiftedFour(o, base + q0 * n + j, n, src[j]!, src[j + 1]!, src[j + 2]!, src[j + 3]!, acc, q0, q1);
    for (; j < n; j++) shiftedOne(o, base + q0 * n + j, n, src[j]!, acc, q0, q1);
  }
}

/** acc[q - q0] + s0[q] + s1[q] + s2[q] + s3[q] (left to right) into acc[q - q0], q in [q0, q1). */
function sumFour(acc: Float64Array, s0: Float64Array, s1: Float64Array, s2: Float64Array, s3: Float64Array, q0: number, q1: number): void {
  for (let q = q0, i = 0; q < q1; q++, i++) acc[i] = acc[i]! + s0[q]! + s1[q]! + s2[q]! + s3[q]!;
}

/** acc[q - q0] + s[q] into acc[q - q0], q in [q0, q1). */
function sumOne(acc: Float64Array, s: Float64Array, q0: number, q1: number): void {
  for (let q = q0, i = 0; q < q1; q++, i++) acc[i] = acc[i]! + s[q]!;
}

/** The sums acc[0..len) become -(sum / n): the means go to mean[at + i], their negations stay in acc. */
function shiftsOf(acc: Float64Array, mean: Float64Array, at: number, len: number, n: number): void {
  for (let i = 0; i < len; i++) {
    const m = acc[i]! / n;
    mean[at + i] = m;
    acc[i] = -m;
  }
}

/** s0..s3[q] + shift[q - q0] for q in [q0, q1) into o[r], o[r + 1], o[r + 2], o[r + 3], r stepping by n from `at`. */
function shiftedFour(o: Float64Array, at: number, n: number, s0: Float64Array, s1: Float64Array, s2: Float64Array, s3: Float64Array, shift: Float64Array, q0: number, q1: number): void {
  for (let q = q0, i = 0, r = at; q < q1; q++, i++, r += n) {
    const h = shift[i]!;
    o[r] = s0[q]! + h;
    o[r + 1] = s1[q]! + h;
    o[r + 2] = s2[q]! + h;
    o[r + 3] = s3[q]! + h;
  }
}

/** s[q] + shift[q - q0] for q in [q0, q1) into o[r], r stepping by n from `at`. */
function shiftedOne(o: Float64Array, at: number, n: number, s: Float64Array, shift: Float64Array, q0: number, q1: number): void {
  for (let q = q0, i = 0, r = at; q < q1; q++, i++, r += n) o[r] = s[q]! + shift[i]!;
}

/** The stack of `images` minus its mean image (stackCentredInto): the matrix, the row means, the layout. */
export function stackCentredImages(images: readonly Image[], onProgress?: (done: number, total: number) => void): { matrix: Matrix; mean: Float64Array; layout: StackLayout } {
  const layout = stackLayout(images);
  const m = new Matrix(stackRows(images), images.length), mean = new Float64Array(m.rows);
  stackCentredInto(images, m, mean, 0, m.rows, onProgress);
  return { matrix: m, mean, layout };
}

/** Stacks same-sized images as the columns of a d x n matrix (planar vectorisation). */
export function stackImages(images: readonly Image[], onProgress?: (done: number, total: number) => void): { matrix: Matrix; layout: StackLayout } {
  const layout = stackLayout(images);
  const m = new Matrix(stackRows(images), images.length);
  stackInto(images, m, 0, m.rows, onProgress);
  return { matrix: m, layout };
}

export interface VectorToImageOptions {
  /** added to the vector first (e.g. the mean image), length d */
  add?: ArrayLike<number>;
  /** clamp to the layout's value range */
  clamp?: boolean;
}

/** One d-vector (strided: v[offset + i * stride]) as an Image with the layout's shape. */
export function vectorToImage(v: ArrayLike<number>, layout: StackLayout, name: string, opts: VectorToImageOptions = {}, offset = 0, stride = 1): Image {
  const { width: w, height: h } = layout;
  const hw = w * h;
  const np = planeCount(layout.color);
  const [lo, hi] = layout.range;
  const planes: Matrix[] = [];
  for (let c = 0; c < np; c++) {
    const p = new Matrix(h, w);
    const d = p.data;
    for (let q = 0; q < hw; q++) {
      const i = c * hw + q;
      let x = v[offset + i * stride]! + (opts.add ? opts.add[i]! : 0);
      if (opts.clamp) x = x < lo ? lo : x > hi ? hi : x;
      d[q] = x;
    }
    planes.push(p);
  }
  const im: Image = { kind: 'Image', name, width: w, height: h, color: layout.color, planes, range: [lo, hi] };
  if (layout.normalization) im.normalization = { ...layout.normalization };
  return im;
}

/** The columns of a d x n matrix as images (inverse of stackImages). */
export function unstackColumns(m: Matrix, layout: StackLayout, opts: VectorToImageOptions = {}): Image[] {
  const d = layoutDim(layout);
  if (m.rows !== d) {
    throw new InputError(
      `matrix has ${m.rows} rows, but its layout (${layout.width}x${layout.height} ${layout.color}) needs ${d}`,
      'unstack a matrix made by stack (or by reconstruct from one), not its transpose',
    );
  }
  if (layout.names.length !== m.cols) throw new InputError(`matrix has ${m.cols} columns, but its layout names ${layout.names.length} images`, 'unstack a matrix made by stack, with one column per image');
  const out: Image[] = [];
  for (let j = 0; j < m.cols; j++) out.push(vectorToImage(m.data, layout, layout.names[j]!, opts, m.offset + j, m.stride));
  return out;
}
