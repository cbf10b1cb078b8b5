/** Point-cloud writers: PLY (ascii or binary_little_endian), CSV with a header, whitespace TXT/XYZ. */
import type { Matrix } from '../linalg/matrix.js';

const AXES = ['x', 'y', 'z', 'w'];

function names(d: number, prefix = ''): string[] {
  return Array.from({ length: d }, (_, j) => prefix + (AXES[j] ?? `c${j}`));
}

/** PLY with x, y[, z] (and nx, ny[, nz]) as doubles. */
export function formatPly(points: Matrix, normals?: Matrix, opts: { binary?: boolean; comment?: string } = {}): Uint8Array {
  const n = points.rows, d = points.cols;
  const props = [...names(d), ...(normals ? names(d, 'n') : [])];
  const header = [
    'ply',
    `format ${opts.binary ? 'binary_little_endian' : 'ascii'} 1.0`,
    ...(opts.comment ? [`comment ${opts.comment.replace(/\s*\n\s*/g, ' ')}`] : []),
    `element vertex ${n}`,
    ...props.map((p) => `property double ${p}`),
    'end_header',
    '',
  ].join('\n');
  const head = Buffer.from(header, 'latin1');
  const k = props.length;
  if (opts.binary) {
    const body = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) body[i * k + j] = points.get(i, j);
      if (normals) for (let j = 0; j < d; j++) body[i * k + d + j] = normals.get(i, j);
    }
    const le = new Uint8Array(body.buffer); // little-endian on every platform Node supports
    const out = new Uint8Array(head.length + le.length);
    out.set(head, 0);
    out.set(le, head.length);
    return out;
  }
  return Buffer.from(header + rowsText(points, normals, ' '), 'latin1');
}

function rowsText(points: Matrix, normals: Matrix | undefined, sep: string): string {
  const lines: string[] = [];
  for (let i = 0; i < points.rows; i++) {
    const v = Array.from(points.row(i), String);
    if (normals) v.push(...Array.from(normals.row(i), String));
    lines.push(v.join(sep));
  }
  return lines.join('\n') + '\n';
}

export function formatCsv(points: Matrix, normals?: Matrix): string {
  const d = points.cols;
  return [...names(d), ...(normals ? names(d, 'n') : [])].join(',') + '\n' + rowsText(points, normals, ',');
}

/** One point per line ('rows'), or one line per coordinate ('columns', like the seed's point_cloud.txt). */
export function formatTxt(points: Matrix, layout: 'rows' | 'columns' = 'rows', normals?: Matrix): string {
  if (layout === 'rows') return rowsText(points, normals, ' ');
  const lines: string[] = [];
  for (let j = 0; j < points.cols; j++) lines.push(Array.from(points.col(j), String).join(' '));
  return lines.join('\n') + '\n';
}
