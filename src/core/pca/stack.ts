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

/** Stacks same-sized images as the columns of a d x n matrix (planar vectorisation). */
export function stackImages(images: readonly Image[], onProgress?: (done: number, total: number) => void): { matrix: Matrix; layout: StackLayout } {
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
  const { width: w, height: h } = first;
  const hw = w * h;
  const np = first.planes.length;
  const n = images.length;
  const m = new Matrix(np * hw, n);
  const out = m.data;
  // A transpose (pixel-major planes into image columns) in blocks of BLOCK pixels: the writes of
  // one block (BLOCK x n values) stay in L1 while each image's plane is read sequentially, instead
  // of n passes over the whole output that each touch one value per cache line.
  const BLOCK = 256;
  for (let c = 0; c < np; c++) {
    const src = images.map((im) => {
      const p = im.planes[c]!;
      if (p.rows !== h || p.cols !== w) throw new InputError(`image ${im.name} plane ${c} is ${p.cols}x${p.rows}, but the image says ${w}x${h}`, 'this is a bug in the stage that made the image; please report it');
      return p.isContiguous ? p.data : p.clone().data;
    });
    const base = c * hw * n;
    for (let q0 = 0; q0 < hw; q0 += BLOCK) {
      const q1 = Math.min(hw, q0 + BLOCK);
      for (let j = 0; j < n; j++) {
        const s = src[j]!;
        for (let q = q0, r = base + q0 * n + j; q < q1; q++, r += n) out[r] = s[q]!;
      }
      if (onProgress && q0 % (BLOCK * 256) === 0) onProgress(c * hw + q0, np * hw); // pixels of every image stacked
    }
  }
  onProgress?.(np * hw, np * hw);
  const layout: StackLayout = { width: w, height: h, color: first.color, names: images.map((im) => im.name), range: [first.range[0], first.range[1]] };
  if (first.normalization) layout.normalization = { ...first.normalization };
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
