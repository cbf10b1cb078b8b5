/**
 * Dense matrix of float64 values in ROW-MAJOR order: element (i, j) is
 * `data[offset + i * stride + j]`. `stride >= cols`; a contiguous matrix has
 * `offset = 0` and `stride = cols`. Views (rows, blocks) share `data`.
 *
 * Column views are not expressible with a row stride alone; kernels that need
 * a column take the matrix and a column index instead.
 */
let sharedMin = Infinity;

/**
 * New matrices of at least `minValues` values get SharedArrayBuffer-backed storage, so that the
 * thread team (team.ts) and the compute pool share them without copies; `false` turns it off
 * (the default: plain ArrayBuffers). The compute pool's workers turn it on.
 */
export function setSharedAllocation(minValues: number | false): void {
  sharedMin = minValues === false ? Infinity : Math.max(0, minValues);
}

/** A zero-filled Float64Array of n values, shared when large and shared allocation is on. */
export function newDoubles(n: number): Float64Array {
  return n >= sharedMin ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
}

export class Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
  readonly offset: number;
  readonly stride: number;

  constructor(rows: number, cols: number, data?: Float64Array, offset = 0, stride = cols) {
    if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
      throw new RangeError(`Matrix shape must be non-negative integers, got ${rows}x${cols}`);
    }
    this.rows = rows;
    this.cols = cols;
    this.offset = offset;
    this.stride = stride;
    this.data = data ?? newDoubles(rows * cols);
    const need = rows === 0 || cols === 0 ? 0 : offset + (rows - 1) * stride + cols;
    if (this.data.length < need) {
      throw new RangeError(`Matrix ${rows}x${cols} (stride ${stride}, offset ${offset}) needs ${need} values, got ${this.data.length}`);
    }
  }

  static zeros(rows: number, cols: number): Matrix {
    return new Matrix(rows, cols);
  }

  static identity(n: number): Matrix {
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
    return m;
  }

  static from2D(a: ArrayLike<ArrayLike<number>>): Matrix {
    const rows = a.length;
    const cols = rows ? a[0]!.length : 0;
    const m = new Matrix(rows, cols);
    for (let i = 0; i < rows; i++) {
      const r = a[i]!;
      if (r.length !== cols) throw new RangeError(`row ${i} has ${r.length} values, expected ${cols}`);
      for (let j = 0; j < cols; j++) m.data[i * cols + j] = r[j]!;
    }
    return m;
  }

  get isContiguous(): boolean {
    return this.offset === 0 && (this.stride === this.cols || this.rows <= 1) && this.data.length === this.rows * this.cols;
  }

  get(i: number, j: number): number {
    return this.data[this.offset + i * this.stride + j]!;
  }

  set(i: number, j: number, v: number): void {
    this.data[this.offset + i * this.stride + j] = v;
  }

  /** View of rows [r0, r1). Shares storage. */
  rowsView(r0: number, r1: number): Matrix {
    return new Matrix(r1 - r0, this.cols, this.data, this.offset + r0 * this.stride, this.stride);
  }

  /** View of the block rows [r0, r1) x cols [c0, c1). Shares storage. */
  block(r0: number, r1: number, c0: number, c1: number): Matrix {
    return new Matrix(r1 - r0, c1 - c0, this.data, this.offset + r0 * this.stride + c0, this.stride);
  }

  /** Row i as a Float64Array view (no copy). */
  row(i: number): Float64Array {
    const s = this.offset + i * this.stride;
    return this.data.subarray(s, s + this.cols);
  }

  /** Column j copied into a new Float64Array. */
  col(j: number): Float64Array {
    const out = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) out[i] = this.data[this.offset + i * this.stride + j]!;
    return out;
  }

  /** Contiguous deep copy. */
  clone(): Matrix {
    const m = new Matrix(this.rows, this.cols);
    if (this.stride === this.cols) m.data.set(this.data.subarray(this.offset, this.offset + this.rows * this.cols));
    else for (let i = 0; i < this.rows; i++) m.data.set(this.row(i), i * this.cols);
    return m;
  }

  /** Contiguous transposed copy. */
  transpose(): Matrix {
    const t = new Matrix(this.cols, this.rows);
    for (let i = 0; i < this.rows; i++) {
      const base = this.offset + i * this.stride;
      for (let j = 0; j < this.cols; j++) t.data[j * this.rows + i] = this.data[base + j]!;
    }
    return t;
  }

  to2D(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) out.push(Array.from(this.row(i)));
    return out;
  }
}
