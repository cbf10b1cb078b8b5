/**
 * Point-cloud file parsers: whitespace text (TXT), XYZ, CSV (with or without a
 * header) and PLY (ascii and binary_little_endian). Pure: bytes in, points out.
 * Every error names the file and, for text, the line (1-based) and column.
 */
import { Matrix } from '../linalg/matrix.js';
import { InputError, yamlFix, type ParamFix } from '../errors.js';

export type PointFormat = 'txt' | 'xyz' | 'csv' | 'ply';
export type PointLayout = 'auto' | 'rows' | 'columns';

export interface ParsedPoints {
  points: Matrix;
  normals?: Matrix;
  format: PointFormat;
  /** how a text table was read: one point per row, or one coordinate per row */
  layout?: 'rows' | 'columns';
}

export interface ParseOptions {
  /** file name shown in messages */
  file: string;
  format?: PointFormat | 'auto';
  layout?: PointLayout;
  /** how hints name a param's fix (default YAML, `layout: rows`; the stage gives the --set form) */
  fix?: ParamFix;
}

export const POINT_FORMATS: readonly PointFormat[] = ['txt', 'xyz', 'csv', 'ply'];

/** Format from a file name's extension (.txt .xyz .csv .ply; .asc/.pts read as txt). */
export function formatFromPath(path: string): PointFormat | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  if (ext === 'ply' || ext === 'csv' || ext === 'xyz' || ext === 'txt') return ext;
  if (ext === 'asc' || ext === 'pts' || ext === 'dat') return 'txt';
  return undefined;
}

export function parsePoints(bytes: Uint8Array, opts: ParseOptions): ParsedPoints {
  const file = opts.file;
  if (bytes.length === 0) throw new InputError(`${file} is empty: no points to read`, 'check the path, or write the points first');
  let format = opts.format && opts.format !== 'auto' ? opts.format : undefined;
  const head = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  if (!format) format = head.startsWith('ply') ? 'ply' : formatFromPath(file) ?? 'txt';
  if (format === 'ply') return parsePly(bytes, file);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return parseTable(text, format, opts.layout ?? 'auto', file, opts.fix ?? yamlFix);
}

function parseNumber(tok: string, file: string, line: number, col: number): number {
  const special = /^[+-]?(nan|inf(inity)?)$/i.test(tok);
  const v = special ? NaN : Number(tok);
  if (tok === '' || (Number.isNaN(v) && !special)) {
    throw new InputError(`${file}:${line}: column ${col} is '${tok}', not a number`, 'remove the text, or use a CSV header line (x,y,z) for column names');
  }
  if (!Number.isFinite(v)) throw new InputError(`${file}:${line}: column ${col} is '${tok}', not a finite number (NaN and Inf coordinates are not points)`, 'remove or fix that point');
  return v;
}

/** TXT/XYZ (whitespace) and CSV (comma, semicolon or tab, optional header). */
function parseTable(text: string, format: Exclude<PointFormat, 'ply'>, layout: PointLayout, file: string, fix: ParamFix): ParsedPoints {
  const lines = text.split(/\r?\n/);
  const rows: number[][] = [];
  const lineNo: number[] = [];
  let header: string[] | undefined;
  let delim: RegExp = /\s+/;
  if (format === 'csv') {
    const first = lines.find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
    delim = first.includes(',') ? /\s*,\s*/ : first.includes(';') ? /\s*;\s*/ : first.includes('\t') ? /\t/ : /\s+/;
  }
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#') || raw.startsWith('//')) continue;
    const toks = raw.split(delim);
    if (!rows.length && !header && toks.some((t) => /^[A-Za-z_"']/.test(t) && !/^[+-]?(nan|inf(inity)?)$/i.test(t))) {
      if (format !== 'csv') throw new InputError(`${file}:${i + 1}: '${raw.slice(0, 40)}' is not a row of numbers`, `${format.toUpperCase()} files hold numbers only; read a header line as CSV: ${fix('format', 'csv')}`);
      header = toks.map((t) => t.replace(/^["']|["']$/g, '').trim().toLowerCase());
      continue;
    }
    const row = toks.map((t, j) => parseNumber(t, file, i + 1, j + 1));
    if (rows.length && row.length !== rows[0]!.length) {
      throw new InputError(`${file}:${i + 1}: ${row.length} values, but line ${lineNo[0]} has ${rows[0]!.length}`, 'every row must have the same number of values');
    }
    rows.push(row);
    lineNo.push(i + 1);
  }
  if (!rows.length) throw new InputError(`${file} holds no points (${header ? 'a header only' : 'no rows of numbers'})`, 'check the file');
  const nr = rows.length, nc = rows[0]!.length;

  if (header) return fromHeader(header, rows, file);

  let lay: 'rows' | 'columns';
  if (layout !== 'auto') lay = layout;
  else {
    const fitsRows = (nc >= 2 && nc <= 3) || (nc === 6 && format === 'xyz');
    const fitsCols = nr >= 2 && nr <= 3;
    if (fitsRows && (!fitsCols || nc > 3)) lay = 'rows';
    else if (fitsCols && nc > 3) lay = 'columns';
    else if (fitsRows && fitsCols) {
      throw new InputError(
        `${file}: cannot tell the layout of a ${nr} x ${nc} table: one point per line (${nr} points of ${nc} coordinates) or one line per coordinate (${nc} points of ${nr})?`,
        `${fix('layout', 'rows')} (one point per line) or ${fix('layout', 'columns')} (one line per coordinate, like the seed's point_cloud.txt)`,
      );
    } else {
      throw new InputError(
        `${file}: a ${nr} x ${nc} table is not a 2-D or 3-D point set (expected 2 or 3 values per line, or 2 or 3 lines)`,
        `${fix('layout', 'rows')} or ${fix('layout', 'columns')} to read other dimensions`,
      );
    }
  }
  if (lay === 'columns') {
    const m = new Matrix(nc, nr);
    for (let j = 0; j < nr; j++) for (let i = 0; i < nc; i++) m.data[i * nr + j] = rows[j]![i]!;
    return { points: m, format, layout: 'columns' };
  }
  if (nc === 6 && format === 'xyz') {
    const p = new Matrix(nr, 3), n = new Matrix(nr, 3);
    for (let i = 0; i < nr; i++) for (let j = 0; j < 3; j++) {
      p.data[i * 3 + j] = rows[i]![j]!;
      n.data[i * 3 + j] = rows[i]![j + 3]!;
    }
    return { points: p, normals: n, format, layout: 'rows' };
  }
  const m = new Matrix(nr, nc);
  for (let i = 0; i < nr; i++) m.data.set(rows[i]!, i * nc);
  return { points: m, format, layout: 'rows' };
}

/** a coordinate name with a unit: x_mm, x mm, x-m, x [mm], x(m), x [°] (the header is lowercased) */
const UNIT_NAME = /^([xyz])(?:[\s_-]+[a-zµ°%]+|[\s_-]*[[(][^\])]*[\])])$/;

function fromHeader(header: string[], rows: number[][], file: string): ParsedPoints {
  if (header.length !== rows[0]!.length) throw new InputError(`${file}: the header has ${header.length} names but the rows have ${rows[0]!.length} values`, 'make the header match the data');
  const pick = (names: string[]) => names.map((n) => header.indexOf(n));
  let pc = pick(['x', 'y', 'z']);
  if (pc[0]! < 0 || pc[1]! < 0) {
    // names with a unit (x_mm, x [mm], X(m), y-m): used when exactly one column has each of x, y (z)
    const withUnit = (a: string) => header.flatMap((h, i) => (UNIT_NAME.exec(h)?.[1] === a ? [i] : []));
    const found = ['x', 'y', 'z'].map(withUnit);
    if (found[0]!.length === 1 && found[1]!.length === 1 && found[2]!.length <= 1) pc = found.map((f) => f[0] ?? -1);
  }
  if (pc[0]! < 0 || pc[1]! < 0) {
    throw new InputError(`${file}: the CSV header (${header.join(', ')}) has no x and y columns`, 'name the coordinate columns x, y (and z), with a unit if you like (x_mm, x [mm]), or remove the header');
  }
  if (pc[2]! < 0) pc = pc.slice(0, 2);
  const d = pc.length;
  const nc = pick(['nx', 'ny', 'nz']).slice(0, d);
  const n = rows.length;
  const p = new Matrix(n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) p.data[i * d + j] = rows[i]![pc[j]!]!;
  let normals: Matrix | undefined;
  if (nc.every((c) => c >= 0)) {
    normals = new Matrix(n, d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) normals.data[i * d + j] = rows[i]![nc[j]!]!;
  }
  return { points: p, normals, format: 'csv', layout: 'rows' };
}

type PlyType = { size: number; read: (v: DataView, o: number) => number };
const PLY_BASE = {
  int8: { size: 1, read: (v, o) => v.getInt8(o) },
  uint8: { size: 1, read: (v, o) => v.getUint8(o) },
  int16: { size: 2, read: (v, o) => v.getInt16(o, true) },
  uint16: { size: 2, read: (v, o) => v.getUint16(o, true) },
  int32: { size: 4, read: (v, o) => v.getInt32(o, true) },
  uint32: { size: 4, read: (v, o) => v.getUint32(o, true) },
  float32: { size: 4, read: (v, o) => v.getFloat32(o, true) },
  float64: { size: 8, read: (v, o) => v.getFloat64(o, true) },
} satisfies Record<string, PlyType>;
/** PLY property types: the sized names and the classic aliases (char = int8, …). */
const PLY_TYPES: Record<string, PlyType> = {
  ...PLY_BASE,
  char: PLY_BASE.int8, uchar: PLY_BASE.uint8, short: PLY_BASE.int16, ushort: PLY_BASE.uint16,
  int: PLY_BASE.int32, uint: PLY_BASE.uint32, float: PLY_BASE.float32, double: PLY_BASE.float64,
};

interface PlyProp { name: string; type: string; countType?: string }
interface PlyElement { name: string; count: number; props: PlyProp[] }

/** PLY: reads the vertex element's x, y, z (and nx, ny, nz when present). */
export function parsePly(bytes: Uint8Array, file: string): ParsedPoints {
  const probe = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 65536))).toString('latin1');
  const endIdx = probe.search(/end_header\r?\n/);
  if (!probe.startsWith('ply') || endIdx < 0) throw new InputError(`${file}: not a PLY file (no 'ply' magic line or no end_header)`, 'check the file, or set format: txt/csv/xyz');
  const headerText = probe.slice(0, endIdx);
  const bodyStart = endIdx + /end_header\r?\n/.exec(probe.slice(endIdx))![0].length;
  const hl = headerText.split(/\r?\n/);
  let fmt = '';
  const elements: PlyElement[] = [];
  hl.forEach((l, i) => {
    const t = l.trim().split(/\s+/);
    if (t[0] === 'format') fmt = t[1] ?? '';
    else if (t[0] === 'element') {
      const count = Number(t[2]);
      if (!t[1] || !Number.isInteger(count) || count < 0) throw new InputError(`${file}:${i + 1}: '${l.trim()}' needs a name and a whole count, e.g. 'element vertex 1200'`, 'fix the PLY header');
      elements.push({ name: t[1], count, props: [] });
    }
    else if (t[0] === 'property') {
      const el = elements[elements.length - 1];
      if (!el) throw new InputError(`${file}:${i + 1}: property before any element`, 'fix the PLY header');
      const type = t[1] === 'list' ? t[3]! : t[1]!;
      if (!PLY_TYPES[type] || (t[1] === 'list' && !PLY_TYPES[t[2]!])) throw new InputError(`${file}:${i + 1}: unknown PLY property type in '${l.trim()}'`, `use one of ${Object.keys(PLY_TYPES).join(', ')}`);
      el.props.push({ name: t[t.length - 1]!, type, countType: t[1] === 'list' ? t[2] : undefined });
    }
  });
  if (fmt !== 'ascii' && fmt !== 'binary_little_endian') {
    throw new InputError(`${file}: PLY format '${fmt}' is not supported`, 'use ascii or binary_little_endian (convert big-endian files with e.g. Open3D or meshlab)');
  }
  const vi = elements.findIndex((e) => e.name === 'vertex');
  if (vi < 0) throw new InputError(`${file}: the PLY header has no 'element vertex'`, 'the file holds no points');
  const vertex = elements[vi]!;
  const col = (n: string) => vertex.props.findIndex((p) => p.name === n && !p.countType);
  const xyz = ['x', 'y', 'z'].map(col);
  if (xyz[0]! < 0 || xyz[1]! < 0) throw new InputError(`${file}: the PLY vertex element has no x and y properties`, 'the file holds no coordinates');
  const d = xyz[2]! >= 0 ? 3 : 2;
  const nIdx = ['nx', 'ny', 'nz'].slice(0, d).map(col);
  const hasN = nIdx.every((c) => c >= 0);
  const n = vertex.count;
  if (!(n > 0)) throw new InputError(`${file}: the PLY file has ${vertex.count} vertices`, 'the file holds no points');
  const pts = new Matrix(n, d);
  const nrm = hasN ? new Matrix(n, d) : undefined;
  const vals = new Float64Array(vertex.props.length);
  const store = (i: number, where: () => string) => {
    for (let j = 0; j < d; j++) {
      const v = vals[xyz[j]!]!;
      if (!Number.isFinite(v)) throw new InputError(`${where()}: vertex ${i} has a non-finite ${'xyz'[j]} (${v})`, 'remove or fix that point');
      pts.data[i * d + j] = v;
      if (nrm) nrm.data[i * d + j] = vals[nIdx[j]!]!;
    }
  };
  if (fmt === 'ascii') {
    const text = Buffer.from(bytes.subarray(bodyStart)).toString('latin1');
    const lines = text.split('\n');
    let li = 0;
    const firstLine = hl.length + 1;
    for (let e = 0; e < vi; e++) li += elements[e]!.count; // elements before the vertex: one per line
    for (let i = 0; i < n; i++, li++) {
      const line = lines[li];
      if (line === undefined || !line.trim()) throw new InputError(`${file}:${firstLine + li}: expected vertex ${i} of ${n}, found ${line === undefined ? 'the end of the file' : 'an empty line'}`, 'the header announces more vertices than the file has');
      const t = line.trim().split(/\s+/);
      let k = 0;
      for (let p = 0; p < vertex.props.length; p++) {
        const pr = vertex.props[p]!;
        if (pr.countType) {
          k += 1 + Number(t[k]);
          continue;
        }
        const tok = t[k++];
        if (tok === undefined) throw new InputError(`${file}:${firstLine + li}: vertex ${i} has too few values (${t.length}) for ${vertex.props.length} properties`, 'the line is truncated');
        vals[p] = parseNumber(tok, file, firstLine + li, k);
      }
      store(i, () => `${file}:${firstLine + li}`);
    }
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = bodyStart;
    const need = (k: number) => {
      if (off + k > bytes.length) throw new InputError(`${file}: the binary PLY body ends early (byte ${bytes.length}); the header announces ${n} vertices`, 'the file is truncated');
    };
    const skipElement = (el: PlyElement) => {
      const fixed = el.props.every((p) => !p.countType);
      if (fixed) {
        off += el.count * el.props.reduce((s, p) => s + PLY_TYPES[p.type]!.size, 0);
        return;
      }
      for (let i = 0; i < el.count; i++) for (const p of el.props) {
        if (p.countType) {
          const ct = PLY_TYPES[p.countType]!;
          need(ct.size);
          const c = ct.read(view, off);
          off += ct.size + c * PLY_TYPES[p.type]!.size;
        } else off += PLY_TYPES[p.type]!.size;
      }
    };
    for (let e = 0; e < vi; e++) skipElement(elements[e]!);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < vertex.props.length; p++) {
        const pr = vertex.props[p]!;
        if (pr.countType) {
          const ct = PLY_TYPES[pr.countType]!;
          need(ct.size);
          const c = ct.read(view, off);
          off += ct.size + c * PLY_TYPES[pr.type]!.size;
          continue;
        }
        const ty = PLY_TYPES[pr.type]!;
        need(ty.size);
        vals[p] = ty.read(view, off);
        off += ty.size;
      }
      store(i, () => `${file} (binary)`);
    }
  }
  return { points: pts, normals: nrm, format: 'ply' };
}

/** Poses from a Stanford `.conf` file: `bmesh <file> tx ty tz qx qy qz qw` lines. */
export function parseConf(text: string, file = 'conf'): Map<string, { t: [number, number, number]; q: [number, number, number, number] }> {
  const out = new Map<string, { t: [number, number, number]; q: [number, number, number, number] }>();
  text.split(/\r?\n/).forEach((l, i) => {
    const t = l.trim().split(/\s+/);
    if (t[0] !== 'bmesh') return;
    if (t.length < 9) throw new InputError(`${file}:${i + 1}: expected 'bmesh <file> tx ty tz qx qy qz qw'`, 'fix the line');
    const v = t.slice(2, 9).map((s, j) => parseNumber(s, file, i + 1, j + 3));
    out.set(t[1]!, { t: [v[0]!, v[1]!, v[2]!], q: [v[3]!, v[4]!, v[5]!, v[6]!] });
  });
  return out;
}
