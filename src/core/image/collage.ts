/**
 * Contact sheets (rows of labelled thumbnails) and small image conversions for
 * plots: Image -> 8-bit RGB, PNG bytes, base64 data URIs. Labels are drawn as an
 * SVG overlay rendered by sharp (librsvg).
 */
import { sharp, type Sharp } from './sharp.js';
import { InputError } from '../errors.js';
import type { Image } from '../ports.js';

/** An Image as interleaved 8-bit RGB (gray replicated; ycbcr converted with BT.601), clamped to its range. */
export function toRgb8(im: Image): Buffer {
  const { width: w, height: h } = im;
  const [lo, hi] = im.range;
  const scale = hi > lo ? 255 / (hi - lo) : 255;
  const out = Buffer.alloc(w * h * 3);
  const to8 = (v: number) => {
    const x = Math.round((v - lo) * scale);
    return x < 0 ? 0 : x > 255 ? 255 : x;
  };
  const np = im.planes.length;
  if (np !== 1 && np !== 3) throw new InputError(`image ${im.name} has ${np} planes; only gray (1) and 3-plane images can be drawn`, 'convert it to gray or rgb first');
  const mid = (lo + hi) / 2;
  for (let y = 0; y < h; y++) {
    const rows = im.planes.map((p) => p.row(y));
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      if (np === 1) {
        out[o] = out[o + 1] = out[o + 2] = to8(rows[0]![x]!);
      } else if (im.color === 'ycbcr') {
        const Y = rows[0]![x]!, cb = rows[1]![x]! - mid, cr = rows[2]![x]! - mid;
        out[o] = to8(Y + 1.402 * cr);
        out[o + 1] = to8(Y - 0.344136 * cb - 0.714136 * cr);
        out[o + 2] = to8(Y + 1.772 * cb);
      } else {
        out[o] = to8(rows[0]![x]!);
        out[o + 1] = to8(rows[1]![x]!);
        out[o + 2] = to8(rows[2]![x]!);
      }
    }
  }
  return out;
}

/** PNG bytes of an Image, optionally resized to `width` px wide (aspect kept). */
export async function imagePng(im: Image, width?: number): Promise<Buffer> {
  let s = sharp(toRgb8(im), { raw: { width: im.width, height: im.height, channels: 3 } });
  if (width && width !== im.width) s = s.resize({ width: Math.max(1, Math.round(width)) });
  return s.png().toBuffer();
}

/** data:image/png;base64,… of an Image, for embedding in SVG. */
export async function pngDataUri(im: Image, width?: number): Promise<string> {
  return `data:image/png;base64,${(await imagePng(im, width)).toString('base64')}`;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface SheetRow {
  /** shown left of the row */
  label: string;
  /** second line under the label (e.g. an error) */
  note?: string;
  images: Image[];
  /** the images form a grid (row-major): label its columns and its bands instead of naming each image */
  grid?: { x: string; y: string; columns: string[]; rows: string[] };
}

export interface SheetOptions {
  title?: string;
  /** thumbnails per line; rows with more images wrap into further bands (default: all in one line) */
  columns?: number;
  /** thumbnail scale relative to the image size (default 1) */
  scale?: number;
  /** print each image's name above its column (from the first row) */
  names?: boolean;
}

/** Words of `text` in lines of at most `maxChars` characters. */
export function wrapWords(text: string, maxChars: number): string[] {
  const out: string[] = [];
  for (const w of text.split(/\s+/).filter(Boolean)) {
    const last = out.at(-1);
    if (last !== undefined && (last + ' ' + w).length <= maxChars) out[out.length - 1] = last + ' ' + w;
    else out.push(w);
  }
  return out;
}

/**
 * Image names as column labels: a prefix every name shares (up to and including its last '_' or '-')
 * is cut and returned on its own, so that 'path_im_00_im_11_t0.00' ... become 't0.00' ... under a
 * row note 'path_im_00_im_11_'.
 */
export function shortNames(names: string[]): { prefix: string; names: string[] } {
  if (names.length < 2) return { prefix: '', names };
  let p = names[0]!;
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  const cut = Math.max(p.lastIndexOf('_'), p.lastIndexOf('-')) + 1;
  return cut > 0 ? { prefix: p.slice(0, cut), names: names.map((n) => n.slice(cut)) } : { prefix: '', names };
}

/** A grid of tiles: its size in pixels and where each tile goes. */
interface TileGrid {
  width: number;
  height: number;
  /** top-left corner of row r, tile i */
  place(r: number, i: number): { left: number; top: number };
}

export interface SheetLayout extends TileGrid {
  /** the title wrapped to the sheet's width */
  titleLines: string[];
  thumbW: number;
  thumbH: number;
  columns: number;
  bands: number;
}

const PAD = 6;
const LABEL_W = 120;
const NAME_H = 16;
const TITLE_H = 30;

export function sheetLayout(rows: SheetRow[], opts: SheetOptions = {}): SheetLayout {
  if (rows.length === 0 || rows.every((r) => r.images.length === 0)) throw new InputError('contact sheet has no images to show', 'check that the step feeding it emits at least one non-empty image batch');
  const ref = rows.find((r) => r.images.length)!.images[0]!;
  const scale = opts.scale ?? 1;
  const thumbW = Math.max(1, Math.round(ref.width * scale));
  const thumbH = Math.max(1, Math.round(ref.height * scale));
  const most = Math.max(...rows.map((r) => r.images.length));
  const columns = Math.max(1, Math.min(opts.columns ?? most, most));
  const bands = Math.ceil(most / columns);
  // a grid's column labels take the names' place, even when names are off
  const nameH = opts.names === false && !(rows.length === 1 && rows[0]!.grid) ? 0 : NAME_H;
  const contentW = LABEL_W + columns * (thumbW + PAD) + PAD;
  // the title wraps to the thumbnails' width (about 9.2 px per bold 15 px character) instead of widening the sheet
  const titleLines = opts.title ? wrapWords(opts.title, Math.max(24, Math.floor((Math.max(contentW, 420) - 2 * PAD) / 9.2))) : [];
  const top0 = opts.title ? TITLE_H + 18 * (titleLines.length - 1) : PAD;
  const bandH = nameH + rows.length * (thumbH + PAD) + PAD;
  // wide enough for the title (about 9 px per bold 15 px character)
  return {
    titleLines,
    width: Math.max(contentW, opts.title ? 420 : 0),
    height: top0 + bands * bandH,
    thumbW,
    thumbH,
    columns,
    bands,
    place: (r, i) => {
      const b = Math.floor(i / columns), c = i % columns;
      return { left: LABEL_W + c * (thumbW + PAD), top: top0 + b * bandH + nameH + r * (thumbH + PAD) };
    },
  };
}

/** Renders rows of thumbnails with row labels and image names as one PNG. */
export async function contactSheet(rows: SheetRow[], opts: SheetOptions = {}): Promise<{ png: Buffer; layout: SheetLayout }> {
  const L = sheetLayout(rows, opts);
  const ref = rows.find((r) => r.images.length)!.images[0]!;
  for (const row of rows) {
    const odd = row.images.find((im) => im.width !== ref.width || im.height !== ref.height);
    if (odd) throw new InputError(`contact sheet images must share one size: ${odd.name} (row '${row.label}') is ${odd.width}x${odd.height}, ${ref.name} is ${ref.width}x${ref.height}`, 'resize the images to one size first (load has a resize option)');
  }
  const composites = await placeTiles(L, rows.map((r) => r.images), async (im) => {
    let buf = toRgb8(im);
    if (L.thumbW !== im.width || L.thumbH !== im.height) {
      buf = await sharp(buf, { raw: { width: im.width, height: im.height, channels: 3 } }).resize(L.thumbW, L.thumbH, { fit: 'fill' }).raw().toBuffer();
    }
    return { input: buf, raw: { width: L.thumbW, height: L.thumbH, channels: 3 } };
  });
  const svg: string[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const grid = rows.length === 1 && row.grid && row.grid.columns.length === L.columns && row.grid.rows.length === L.bands ? row.grid : undefined;
    const prefix = opts.names !== false && !grid ? shortNames(row.images.map((im) => im.name)).prefix : '';
    for (let b = 0; b < L.bands; b++) {
      if (b * L.columns >= row.images.length) continue;
      const { top } = L.place(r, b * L.columns);
      const cy = top + L.thumbH / 2;
      if (grid) {
        // a grid: every band is one value of the vertical axis
        svg.push(`<text x="${PAD}" y="${cy}" font-size="13" font-weight="bold">${escapeXml(`${grid.y} ${grid.rows[b]}`)}</text>`);
        continue;
      }
      if (rows.length === 1 && b > 0) break; // one batch wrapped into bands: label the first band only
      svg.push(`<text x="${PAD}" y="${cy}" font-size="13" font-weight="bold">${escapeXml(row.label)}</text>`);
      // the names' shared prefix, when it fits under the label (the column labels show the rest)
      const note = row.note ?? (prefix && prefix.length <= 18 ? `${prefix}…` : undefined);
      if (note) svg.push(`<text x="${PAD}" y="${cy + 16}" font-size="11" fill="#444">${escapeXml(note)}</text>`);
    }
    if (grid) grid.columns.forEach((c, i) => {
      const { left, top } = L.place(r, i);
      svg.push(`<text x="${left + L.thumbW / 2}" y="${top - 4}" font-size="11" font-weight="bold" text-anchor="middle" fill="#333">${escapeXml(`${grid.x} ${c}`)}</text>`);
    });
  }
  const gridded = rows.length === 1 && !!rows[0]!.grid;
  if (opts.names !== false && !gridded) {
    const first = rows.reduce((a, r) => (r.images.length > a.images.length ? r : a), rows[0]!);
    const short = shortNames(first.images.map((im) => im.name)).names;
    first.images.forEach((_im, i) => {
      const { left, top } = L.place(0, i);
      const maxChars = Math.max(4, Math.floor(L.thumbW / 6.5));
      // the shared prefix is in the row note; what is left, if still long, keeps its end (…_t0.50)
      const s = short[i]!;
      const name = s.length > maxChars ? '…' + s.slice(s.length - maxChars + 1) : s;
      svg.push(`<text x="${left + L.thumbW / 2}" y="${top - 4}" font-size="11" text-anchor="middle" fill="#333">${escapeXml(name)}</text>`);
    });
  }
  return { png: await renderGrid(L, composites, svg, L.titleLines), layout: L };
}

/** Each picture of each row turned into a tile by `tile`, at its place in the grid. */
async function placeTiles<T>(L: TileGrid, rows: T[][], tile: (t: T) => Promise<Sharp.OverlayOptions>): Promise<Sharp.OverlayOptions[]> {
  const out: Sharp.OverlayOptions[] = [];
  for (const [r, row] of rows.entries()) for (const [i, t] of row.entries()) out.push({ ...(await tile(t)), ...L.place(r, i) });
  return out;
}

/** The tiles, then the SVG texts and title lines over them, on a white canvas of the grid's size: PNG bytes. */
async function renderGrid(L: TileGrid, composites: Sharp.OverlayOptions[], svg: string[], titleLines: string[]): Promise<Buffer> {
  titleLines.forEach((l, i) => svg.push(`<text x="${PAD}" y="${20 + 18 * i}" font-size="15" font-weight="bold">${escapeXml(l)}</text>`));
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">${svg.join('')}</svg>`;
  composites.push({ input: Buffer.from(overlay), left: 0, top: 0 });
  return sharp({ create: { width: L.width, height: L.height, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite(composites).png().toBuffer();
}

export interface RawTile {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface PanelGridLayout extends TileGrid {
  tileW: number;
  tileH: number;
}

const PANEL_LABEL_W = 96;
const PANEL_HEAD_H = 22;

export function panelGridLayout(rows: number, columns: number, tileW: number, tileH: number, title?: string): PanelGridLayout {
  const top0 = (title ? TITLE_H : PAD) + PANEL_HEAD_H;
  return {
    width: PANEL_LABEL_W + columns * (tileW + PAD) + PAD,
    height: top0 + rows * (tileH + PAD) + PAD,
    tileW,
    tileH,
    place: (r, c) => ({ left: PANEL_LABEL_W + c * (tileW + PAD), top: top0 + r * (tileH + PAD) }),
  };
}

/**
 * A labelled grid of same-sized raw pictures: one row per entry of `rows` (its label at
 * the left, e.g. "frame 30"), one column per entry of `columns` (its name above, e.g.
 * frame | background | foreground | mask). Tiles are scaled by `scale`. PNG bytes.
 */
export async function panelGrid(rows: Array<{ label: string; tiles: RawTile[] }>, columns: string[], opts: { title?: string; scale?: number } = {}): Promise<{ png: Buffer; layout: PanelGridLayout }> {
  const ref = rows[0]?.tiles[0];
  if (!ref) throw new InputError('the panel grid has no pictures', 'check that the chosen frames exist in the video');
  const scale = opts.scale ?? 1;
  const tileW = Math.max(1, Math.round(ref.width * scale)), tileH = Math.max(1, Math.round(ref.height * scale));
  // the title wraps to the grid's width (bold 15 px: about 9 px a character) instead of widening it
  const L0 = panelGridLayout(rows.length, columns.length, tileW, tileH, opts.title);
  const maxChars = Math.max(20, Math.floor((L0.width - 2 * PAD) / 9));
  const titleLines: string[] = [];
  for (const w of (opts.title ?? '').split(/\s+/).filter(Boolean)) {
    const last = titleLines.at(-1);
    if (last !== undefined && (last + ' ' + w).length <= maxChars) titleLines[titleLines.length - 1] = last + ' ' + w;
    else titleLines.push(w);
  }
  const extra = Math.max(0, titleLines.length - 1) * 18;
  const L = { ...L0, height: L0.height + extra, place: (r: number, c: number) => { const p = L0.place(r, c); return { left: p.left, top: p.top + extra }; } };
  const composites = await placeTiles(L, rows.map((r) => r.tiles), async (t) => {
    if (t.width !== ref.width || t.height !== ref.height) throw new InputError(`panel pictures must share one size: ${t.width}x${t.height} against ${ref.width}x${ref.height}`, 'use frames of one video');
    return { input: await sharp(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), { raw: { width: t.width, height: t.height, channels: t.channels } }).resize(tileW, tileH, { fit: 'fill' }).toColourspace('srgb').png().toBuffer() };
  });
  const svg = rows.map((row, r) => `<text x="${PAD}" y="${L.place(r, 0).top + tileH / 2 + 5}" font-size="13" font-weight="bold">${escapeXml(row.label)}</text>`);
  columns.forEach((name, c) => {
    const { left, top } = L.place(0, c);
    svg.push(`<text x="${left + tileW / 2}" y="${top - 7}" font-size="13" text-anchor="middle" font-weight="bold">${escapeXml(name)}</text>`);
  });
  return { png: await renderGrid(L, composites, svg, titleLines), layout: L };
}
