/** 2-D views of point sets for plots: the x/y columns of 2-D points, or a projection of 3-D points. */
import { Matrix } from '../linalg/matrix.js';
import { symEig } from '../linalg/eig.js';
import { centroid } from './ops.js';

export type Projection = 'xy' | 'xz' | 'yz' | 'pca';

/** Two orthonormal row vectors (2 x d) spanning the view plane, and axis labels. */
export function viewBasis(P: Matrix, mode: Projection): { B: Matrix; labels: [string, string] } {
  const d = P.cols;
  const axis = (j: number) => { const v = new Float64Array(d); v[j] = 1; return v; };
  if (d === 2) return { B: Matrix.from2D([axis(0), axis(1)]), labels: ['x', 'y'] };
  if (mode === 'xy') return { B: Matrix.from2D([axis(0), axis(1)]), labels: ['x', 'y'] };
  if (mode === 'xz') return { B: Matrix.from2D([axis(0), axis(2)]), labels: ['x', 'z'] };
  if (mode === 'yz') return { B: Matrix.from2D([axis(1), axis(2)]), labels: ['y', 'z'] };
  const c = centroid(P);
  const C = new Matrix(d, d);
  for (let i = 0; i < P.rows; i++) for (let r = 0; r < d; r++) for (let s = 0; s < d; s++) C.data[r * d + s]! += (P.get(i, r) - c[r]!) * (P.get(i, s) - c[s]!);
  const { vectors } = symEig(C);
  return { B: Matrix.from2D([vectors.col(0), vectors.col(1)]), labels: ['principal axis 1', 'principal axis 2'] };
}

/** About `max` indices of 0..n-1 spread evenly without following the file order (golden-ratio hashing). */
export function sampleIndices(n: number, max: number): Int32Array {
  if (n <= max) return Int32Array.from({ length: n }, (_, i) => i);
  const f = max / n, out: number[] = [];
  for (let i = 0; i < n; i++) if ((i * 0.6180339887498949) % 1 < f) out.push(i);
  return Int32Array.from(out);
}

/** Coordinates of the rows `idx` of P (all rows when omitted) in the view B. */
export function project(P: Matrix, B: Matrix, idx?: Int32Array): { x: Float64Array; y: Float64Array } {
  const n = idx ? idx.length : P.rows, d = P.cols;
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = idx ? idx[k]! : k;
    let a = 0, b = 0;
    for (let j = 0; j < d; j++) { a += B.get(0, j) * P.get(i, j); b += B.get(1, j) * P.get(i, j); }
    x[k] = a; y[k] = b;
  }
  return { x, y };
}
