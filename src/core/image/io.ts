/**
 * Image files ↔ planar float images, through sharp (libvips).
 *
 * Decoding applies the EXIF orientation, drops alpha, converts to sRGB, resizes
 * if asked, then splits into planes (gray / rgb / ycbcr, values 0..255).
 * sharp's errors are reworded into one InputError naming the file.
 * Encoding maps planes back to 8 bits (adding a mean still attached, undoing the
 * normalization, converting YCbCr to RGB), rounds and clamps, and compresses.
 */
import { sharp, type Sharp } from './sharp.js';
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Matrix } from '../linalg/matrix.js';
import { InputError } from '../errors.js';
import type { Image } from '../ports.js';
import { rgbToGray, rgbToYcbcr, ycbcrToRgbPixel } from './color.js';

export type ColorMode = Image['color'];

export interface ResizeSpec {
  width?: number;
  height?: number;
  /** sharp's fit: fill stretches to exactly width x height (default), cover crops, contain pads, inside keeps aspect */
  fit?: 'fill' | 'cover' | 'contain' | 'inside' | 'outside';
}

/** Rewords a sharp/libvips error about `shown` into what is wrong and what to do. */
export function decodeError(e: unknown, shown: string): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/unsupported image format/i.test(msg)) {
    return new InputError(`cannot read ${shown}: it is not an image sharp can decode (JPEG, PNG, WebP, TIFF, GIF, AVIF)`, `check that the file really is an image (its extension says ${extname(shown) || 'nothing'}); remove it or give a path that excludes it`, e);
  }
  if (/premature end|truncated|unexpected end|corrupt|bad huffman|invalid|read error|out of order|not a (jpeg|png)/i.test(msg)) {
    return new InputError(`cannot read ${shown}: the image file is truncated or corrupt (decoder said: ${msg.trim()})`, 're-export or re-download the file; remove it or give a path that excludes it', e);
  }
  if (/missing|ENOENT|no such file/i.test(msg)) return new InputError(`image not found: ${shown}`, 'check the path (relative paths are relative to the pipeline file)', e);
  return new InputError(`cannot read ${shown}: ${msg.trim()}`, 'check that the file is a readable image', e);
}

export interface DecodeOptions {
  mode: ColorMode;
  resize?: ResizeSpec;
  /** name for the Image (default: the file name without extension) */
  name?: string;
  /** how to name the file in messages (default: the path) */
  shown?: string;
  /** refuse images (as stored, and after resize) of more pixels than this, before decoding them */
  maxPixels?: number;
}

const mp = (px: number) => `${(px / 1e6).toFixed(px < 1e7 ? 1 : 0)} megapixels`;

/** Width x height after `resize` of a w x h image (sharp's fit rules), for the pixel limit. */
export function resizedSize(w: number, h: number, r: ResizeSpec | undefined): [number, number] {
  if (!r || (!r.width && !r.height)) return [w, h];
  if (r.width && !r.height) return [r.width, Math.max(1, Math.round((h * r.width) / w))];
  if (r.height && !r.width) return [Math.max(1, Math.round((w * r.height) / h)), r.height];
  const W = r.width!, H = r.height!;
  if (r.fit === 'inside') { const s = Math.min(W / w, H / h); return [Math.round(w * s), Math.round(h * s)]; }
  if (r.fit === 'outside') { const s = Math.max(W / w, H / h); return [Math.round(w * s), Math.round(h * s)]; }
  return [W, H];
}

/**
 * A decompression bomb (a small file of huge dimensions) must not reach the
 * decoder: the header's size, and the size after resize, are checked first.
 */
async function checkPixels(file: string, shown: string, opts: DecodeOptions): Promise<void> {
  const max = opts.maxPixels;
  if (max === undefined) return;
  let meta: Sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw decodeError(e, shown);
  }
  const w = meta.width ?? 0, h = meta.height ?? 0;
  const [ow, oh] = resizedSize(w, h, opts.resize);
  const planes = opts.mode === 'gray' ? 1 : 3;
  const gib = (px: number) => ((px * (3 + 8 * planes)) / 2 ** 30).toFixed(1);
  if (w * h > max) {
    throw new InputError(
      `image ${shown} is ${w}x${h} = ${mp(w * h)}, above the limit of ${mp(max)} (load's maxPixels); decoding it would take about ${gib(w * h)} GiB of memory`,
      `if it really is that large, raise the limit with maxPixels: ${w * h} in the load step's params; or make a smaller copy of the file first`,
    );
  }
  if (ow * oh > max) {
    throw new InputError(`resize of ${shown} to ${ow}x${oh} = ${mp(ow * oh)} is above the limit of ${mp(max)} (load's maxPixels)`, `resize to fewer pixels, or raise the limit with maxPixels: ${ow * oh}`);
  }
}

/** Reads one image file into planes of 0..255 values. */
export async function decodeImage(file: string, opts: DecodeOptions): Promise<Image> {
  const shown = opts.shown ?? file;
  await checkPixels(file, shown, opts);
  let raw: { data: Buffer; info: Sharp.OutputInfo };
  try {
    let s = sharp(file, { failOn: 'truncated' }).rotate().removeAlpha().toColourspace('srgb');
    if (opts.resize && (opts.resize.width || opts.resize.height)) {
      s = s.resize({ width: opts.resize.width, height: opts.resize.height, fit: opts.resize.fit ?? 'fill' });
    }
    raw = await s.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeError(e, shown);
  }
  const { width, height, channels } = raw.info;
  const n = width * height;
  let rgb: Uint8Array = raw.data;
  let ch: number = channels;
  if (ch < 3) {
    // gray (+alpha) sources: repeat the gray value
    const x = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) x[3 * i] = x[3 * i + 1] = x[3 * i + 2] = raw.data[i * ch]!;
    rgb = x;
    ch = 3;
  }
  let planes: Float64Array[];
  if (opts.mode === 'gray') planes = [rgbToGray(rgb, n, ch)];
  else if (opts.mode === 'ycbcr') planes = rgbToYcbcr(rgb, n, ch);
  else {
    planes = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    for (let i = 0, p = 0; i < n; i++, p += ch) {
      planes[0]![i] = rgb[p]!;
      planes[1]![i] = rgb[p + 1]!;
      planes[2]![i] = rgb[p + 2]!;
    }
  }
  let sourceBytes: number | undefined;
  try {
    sourceBytes = statSync(file).size;
  } catch {
    /* not a plain file */
  }
  return {
    kind: 'Image',
    name: opts.name ?? basename(file, extname(file)),
    width,
    height,
    color: opts.mode,
    planes: planes.map((d) => new Matrix(height, width, d)),
    range: [0, 255],
    source: file,
    sourceBytes,
  };
}

/**
 * The image as interleaved 8-bit pixels (1 channel for gray, 3 for rgb/ycbcr → RGB):
 * value + mean (if still centred), times the normalization scale, rounded, clamped to 0..255.
 */
export function toPixels8(img: Image): { data: Uint8Array; channels: 1 | 3 } {
  const { width: w, height: h } = img;
  const n = w * h;
  const scale = img.normalization?.scale ?? (img.range[1] > 0 && img.range[1] !== 255 ? 255 / img.range[1] : 1);
  const planes = img.planes.map((P, p) => {
    const out = new Float64Array(n);
    const c = img.centering?.[p];
    for (let i = 0; i < h; i++) {
      const row = P.row(i);
      for (let j = 0; j < w; j++) {
        let v = row[j]!;
        if (c && c.mode !== 'none') v += c.mode === 'global' ? c.mean[0]! : c.mode === 'row' ? c.mean[i]! : c.mean[j]!;
        out[i * w + j] = v * scale;
      }
    }
    return out;
  });
  const clamp8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));
  if (img.color === 'gray') {
    const d = new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = clamp8(planes[0]![i]!);
    return { data: d, channels: 1 };
  }
  const d = new Uint8Array(n * 3);
  const px: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    if (img.color === 'ycbcr') ycbcrToRgbPixel(planes[0]![i]!, planes[1]![i]!, planes[2]![i]!, px);
    else (px[0] = planes[0]![i]!), (px[1] = planes[1]![i]!), (px[2] = planes[2]![i]!);
    d[3 * i] = clamp8(px[0]);
    d[3 * i + 1] = clamp8(px[1]);
    d[3 * i + 2] = clamp8(px[2]);
  }
  return { data: d, channels: 3 };
}

export type EncodeFormat = 'png' | 'jpeg' | 'webp';

/** Compresses an Image (see toPixels8) as PNG, JPEG or WebP. `quality` is for JPEG/WebP. */
export async function encodeImage(img: Image, format: EncodeFormat, opts: { quality?: number; lossless?: boolean } = {}): Promise<Buffer> {
  const { data, channels } = toPixels8(img);
  return encodePixels(data, img.width, img.height, channels, format, opts);
}

export async function encodePixels(data: Uint8Array, width: number, height: number, channels: 1 | 3, format: EncodeFormat, opts: { quality?: number; lossless?: boolean } = {}): Promise<Buffer> {
  let s = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
  if (channels === 1) s = s.toColourspace('b-w'); // a 1-channel file (sharp would write RGB otherwise)
  if (format === 'png') return s.png({ compressionLevel: 9 }).toBuffer();
  if (format === 'jpeg') return s.jpeg({ quality: opts.quality ?? 90 }).toBuffer();
  return s.webp({ quality: opts.quality ?? 90, lossless: opts.lossless ?? false }).toBuffer();
}
