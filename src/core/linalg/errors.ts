import { Matrix } from './matrix.js';

/** Error raised by the linear-algebra core (bad input, shape mismatch, no convergence). */
export class LinalgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinalgError';
  }
}

function describe(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Throws a LinalgError naming `what`, the first non-finite entry and its value,
 * e.g. "points contains NaN at row 3, col 1". Scans in storage (row-major) order.
 */
export function assertFinite(A: Matrix | Float64Array, what: string): void {
  if (A instanceof Matrix) {
    const { rows, cols, data, offset, stride } = A;
    for (let i = 0; i < rows; i++) {
      const base = offset + i * stride;
      for (let j = 0; j < cols; j++) {
        const v = data[base + j]!;
        if (v - v !== 0) throw new LinalgError(`${what} contains ${describe(v)} at row ${i}, col ${j}`);
      }
    }
  } else {
    for (let i = 0; i < A.length; i++) {
      const v = A[i]!;
      if (v - v !== 0) throw new LinalgError(`${what} contains ${describe(v)} at index ${i}`);
    }
  }
}

export function assertShape(cond: boolean, msg: string): void {
  if (!cond) throw new LinalgError(msg);
}
