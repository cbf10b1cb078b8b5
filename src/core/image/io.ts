/**
 * Image files ↔ planar float images, through sharp (libvips).
 *
 * Decoding applies the EXIF orientation, drops alpha, converts to sRGB, resizes
 * if asked, then splits into planes (gray / rgb / ycbcr, values 0..255). A 16-bit PNG or TIFF keeps
 * its 16 bits: values 0..65535, `bitDepth: 16`, and encode writes it back as a 16-bit PNG.
 * sharp's errors are reworded into one InputError naming the file.
 * Encoding maps planes back to 8 bits (16 for a 16-bit image written as PNG) (adding a mean still attached, undoing the
 * normalization, converting YCbCr to RGB), rounds and clamps, and compresses.
 */
import { sharp, type Sharp } from './sharp.js';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Matrix } from '../linalg/matrix.js';
import { CancelledError, InputError } from '../errors.js';
import type { Image } from '../ports.js';
import { rgbToGray, rgbToGray16, rgbToYcbcr, ycbcrToRgbPixel } from './color.js';
import { divideRun, newPlanes } from './planes.js';
import { countSharp, countTurboJpeg, fastPathRefusal, scanJpeg } from './jpeg.js';
import { decodeJpegRgb, jpegHeader, TJCS, turboJpeg, turboJpegStatus } from './turbojpeg.js';

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
  /**
   * divide every value by this as the planes are filled (for normalize piped straight onto load:
   * the values normalize would compute, range still [0, 255] in the Image; the caller relabels it).
   * On the 8-bit scale: a 16-bit image is divided by divideBy · 257 (255 → 65535, its own range).
   */
  divideBy?: number;
  /** once aborted, a large image stops being converted (CancelledError) */
  signal?: AbortSignal;
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

/** The error for an image (w x h as stored) or its resize (ow x oh) above `max` pixels. */
function pixelLimitError(shown: string, w: number, h: number, ow: number, oh: number, max: number, mode: ColorMode): InputError | undefined {
  const planes = mode === 'gray' ? 1 : 3;
  const gib = (px: number) => ((px * (3 + 8 * planes)) / 2 ** 30).toFixed(1);
  if (w * h > max) {
    return new InputError(
      `image ${shown} is ${w}x${h} = ${mp(w * h)}, above the limit of ${mp(max)} (load's maxPixels); decoding it would take about ${gib(w * h)} GiB of memory`,
      `if it really is that large, raise the limit with maxPixels: ${w * h} in the load step's params; or make a smaller copy of the file first`,
    );
  }
  if (ow * oh > max) {
    return new InputError(`resize of ${shown} to ${ow}x${oh} = ${mp(ow * oh)} is above the limit of ${mp(max)} (load's maxPixels)`, `resize to fewer pixels, or raise the limit with maxPixels: ${ow * oh}`);
  }
  return undefined;
}

/** The stored size of an image file (its header only). */
async function storedSize(file: string, shown: string): Promise<[number, number]> {
  let meta: Sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw decodeError(e, shown);
  }
  return [meta.width ?? 0, meta.height ?? 0];
}

/**
 * A decompression bomb (a small file of huge dimensions) must not reach the decoder: the
 * header's size, and the size after resize, are checked first. The stored size is checked by
 * the decoding pipeline itself (sharp's limitInputPixels, from the header before any pixel is
 * decoded), so only a resize whose size follows the input's (one side, or fit inside/outside)
 * reads the header in a pipeline of its own first: one libvips pipeline per image instead of two
 * (the header pipeline cost a quarter of decoding a 139 x 170 stamp).
 */
async function checkResizedPixels(file: string, shown: string, opts: DecodeOptions): Promise<void> {
  const max = opts.maxPixels, r = opts.resize;
  if (max === undefined || !r || (!r.width && !r.height)) return;
  const fixed = r.width && r.height && (r.fit ?? 'fill') !== 'inside' && r.fit !== 'outside';
  if (fixed) {
    if (r.width! * r.height! > max) {
      const [w, h] = await storedSize(file, shown);
      throw pixelLimitError(shown, w, h, r.width!, r.height!, max, opts.mode)!;
    }
    return;
  }
  const [w, h] = await storedSize(file, shown);
  const [ow, oh] = resizedSize(w, h, r);
  const e = pixelLimitError(shown, w, h, ow, oh, max, opts.mode);
  if (e) throw e;
}

/** Pixels converted between turns of the event loop (~10 ms of work): a 24-megapixel photo's planes take ~0.4 s to fill into fresh memory. */
export const FILL_CHUNK = 1 << 18;

/** A large image (more than one FILL_CHUNK) decoded after the run was cancelled: stop before its planes are allocated (fillPlanes would stop only after the first chunk). */
function throwIfAbortedLarge(n: number, signal?: AbortSignal): void {
  if (n > FILL_CHUNK && signal?.aborted) throw new CancelledError(typeof signal.reason === 'string' ? signal.reason : 'interrupted');
}

/**
 * Interleaved 8-bit RGB (`ch` bytes a pixel, ch >= 3) into `planes` (gray / rgb / ycbcr, 0..255),
 * or 16-bit RGB (a Uint16Array, 0..65535), in chunks of FILL_CHUNK pixels with a turn of the event
 * loop between them for large images.
 */
async function fillPlanes(rgb: Uint8Array | Uint16Array, ch: number, n: number, mode: ColorMode, planes: Matrix[], divideBy?: number, signal?: AbortSignal): Promise<void> {
  for (let i0 = 0; i0 < n; i0 += FILL_CHUNK) {
    if (i0) {
      await new Promise((r) => setImmediate(r));
      // a large image stops between chunks once the run is cancelled (Ctrl-C within a second)
      if (signal?.aborted) throw new CancelledError(typeof signal.reason === 'string' ? signal.reason : 'interrupted');
    }
    const i1 = Math.min(n, i0 + FILL_CHUNK), m = i1 - i0;
    const src = i0 ? rgb.subarray(i0 * ch) : rgb;
    if (mode === 'gray') {
      if (src instanceof Uint16Array) rgbToGray16(src, m, ch, planes[0]!.data.subarray(i0, i1));
      else rgbToGray(src, m, ch, planes[0]!.data.subarray(i0, i1));
    } else if (mode === 'ycbcr') rgbToYcbcr(src, m, ch, planes.map((P) => P.data.subarray(i0, i1)), src instanceof Uint16Array ? 128 * 257 : 128);
    else {
      const R = planes[0]!.data, G = planes[1]!.data, B = planes[2]!.data;
      for (let i = i0, p = 0; i < i1; i++, p += ch) {
        R[i] = src[p]!;
        G[i] = src[p + 1]!;
        B[i] = src[p + 2]!;
      }
    }
    // the chunk divided while in cache: the same values, then the same product as normalize's
    if (divideBy !== undefined) for (const P of planes) divideRun(P.data, i0, m, divideBy);
  }
}

/** Files larger than this have their first bytes scanned before they are read whole (the markers before the first scan are rarely longer: EXIF thumbnails, ICC profiles). */
const SCAN_HEAD = 64 << 10;
/** Files up to this size are read synchronously (from the page cache a 4 MiB read takes ~1 ms); larger ones on libuv's threads. */
const SYNC_READ_MAX = 4 << 20;
/**
 * Decode buffers up to this size (a 580 x 580 RGB image) are kept for the next image, at most 4
 * (one per decode in flight): a batch of small images reuses them, and at most 4 MiB stay allocated.
 */
const SCRATCH_MAX = 1 << 20;
const scratch: Uint8Array[] = [];
/** sharp's default limitInputPixels (0x3FFF x 0x3FFF), the fast path's limit when the caller gives none */
const SHARP_DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;

/**
 * The fast path (turbojpeg.ts, jpeg.ts): a JPEG file that sharp would only decode (no resize,
 * rotation, ICC or CMYK conversion) is decoded by TurboJPEG straight into the planes. Returns the
 * image, or why sharp must decode the file (anything unusual, including a file TurboJPEG warns
 * about, goes to sharp, whose result and errors are the reference). Throws only the pixel-limit
 * error, from the header, before decoding.
 */
async function decodeTurbo(file: string, shown: string, opts: DecodeOptions, st: { size?: number }): Promise<Image | string> {
  if (opts.resize && (opts.resize.width || opts.resize.height)) return 'resize asked (sharp resizes)';
  const L = turboJpeg();
  if (!L) return `TurboJPEG not in use (${turboJpegStatus().reason})`;
  let buf: Uint8Array;
  try {
    const s = statSync(file);
    if (!s.isFile()) return 'not a plain file';
    st.size = s.size;
    if (s.size > SCAN_HEAD) {
      // the head first: a PNG or TIFF (or a JPEG the scan refuses) is not read whole only for
      // sharp to read it again; the whole file only when the markers before the scan allow it
      const head = Buffer.allocUnsafe(SCAN_HEAD);
      const fd = openSync(file, 'r');
      let got: number;
      try {
        got = readSync(fd, head, 0, SCAN_HEAD, 0);
      } finally {
        closeSync(fd);
      }
      const early = fastPathRefusal(scanJpeg(head.subarray(0, got)));
      // a refusal other than 'the head ends before the first scan' stands (the rest cannot change it)
      if (early && !/^no image data \(the file ends|^the file ends inside/.test(early)) return early;
    }
    buf = s.size <= SYNC_READ_MAX ? readFileSync(file) : await readFile(file);
  } catch {
    return 'the file could not be read (sharp reports why)';
  }
  const refusal = fastPathRefusal(scanJpeg(buf));
  if (refusal) return refusal;
  const hdr = jpegHeader(L, buf);
  if (typeof hdr === 'string') return `TurboJPEG cannot read the header (${hdr})`;
  if (hdr.colorspace !== TJCS.YCbCr && hdr.colorspace !== TJCS.GRAY) return `JPEG colour space ${hdr.colorspace} (not YCbCr or gray)`;
  const { width, height } = hdr;
  const n = width * height;
  if (opts.maxPixels !== undefined && n > opts.maxPixels) throw pixelLimitError(shown, width, height, width, height, opts.maxPixels, opts.mode)!;
  // without a limit given (a caller that passes none), sharp's own default: a small file whose
  // header claims 65535 x 65535 must not reach a 12.9 GB allocation; sharp gives its error
  if (opts.maxPixels === undefined && n > SHARP_DEFAULT_MAX_PIXELS) return `${width}x${height} is above sharp's default pixel limit (sharp reports it)`;
  const bytes = n * 3;
  let rgb = bytes <= SCRATCH_MAX ? scratch.find((b) => b.length >= bytes) : undefined;
  if (rgb) scratch.splice(scratch.indexOf(rgb), 1);
  else {
    try {
      rgb = bytes <= SCRATCH_MAX ? new Uint8Array(bytes) : Buffer.allocUnsafeSlow(bytes);
    } catch (e) {
      return `the decode buffer (${bytes} bytes) could not be allocated (${e instanceof Error ? e.message : String(e)})`;
    }
  }
  try {
    let failed: string | undefined;
    try {
      failed = await decodeJpegRgb(L, buf, rgb, width, height);
    } catch (e) {
      failed = `call failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (failed) return `TurboJPEG ${failed.trim()}`;
    throwIfAbortedLarge(n, opts.signal);
    const planes = newPlanes(height, width, opts.mode === 'gray' ? 1 : 3);
    await fillPlanes(rgb, 3, n, opts.mode, planes, opts.divideBy, opts.signal);
    return { kind: 'Image', name: opts.name ?? basename(file, extname(file)), width, height, color: opts.mode, planes, range: [0, 255], source: file, sourceBytes: buf.length };
  } finally {
    // kept for the next image: at most a few (one per decode in flight, as a batch runs them)
    if (rgb.length <= SCRATCH_MAX && scratch.length < 4) scratch.push(rgb);
  }
}

/**
 * 16 when the file holds 16-bit samples (a PNG of bit depth 16, a 16-bit TIFF), else 8. A PNG is
 * told by its header's bit-depth byte (no second decoding pipeline); a TIFF by sharp's header read.
 */
async function sourceDepth(file: string): Promise<8 | 16> {
  const head = Buffer.alloc(26);
  try {
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, 26, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 8; // sharp reports why it cannot be read
  }
  if (head.readUInt32BE(0) === 0x89504e47 && head.toString('latin1', 12, 16) === 'IHDR') return head[24] === 16 ? 16 : 8;
  const tiff = head.toString('latin1', 0, 4);
  if (tiff === 'II*\0' || tiff === 'MM\0*') {
    try {
      return (await sharp(file).metadata()).depth === 'ushort' ? 16 : 8;
    } catch {
      return 8;
    }
  }
  return 8;
}

/** Reads one image file into planes of 0..255 values (0..65535 for a 16-bit PNG or TIFF, `bitDepth: 16`). */
export async function decodeImage(file: string, opts: DecodeOptions): Promise<Image> {
  const shown = opts.shown ?? file;
  const st: { size?: number } = {};
  const fast = await decodeTurbo(file, shown, opts, st);
  if (typeof fast !== 'string') {
    countTurboJpeg();
    return fast;
  }
  countSharp(fast);
  await checkResizedPixels(file, shown, opts);
  const depth = await sourceDepth(file);
  let raw: { data: Buffer; info: Sharp.OutputInfo };
  try {
    // 16-bit samples stay 16-bit (rgb16, raw ushort): an 8-bit conversion would round every value to a multiple of 257
    let s = sharp(file, { failOn: 'truncated', ...(opts.maxPixels !== undefined ? { limitInputPixels: opts.maxPixels } : {}) }).rotate().removeAlpha().toColourspace(depth === 16 ? 'rgb16' : 'srgb');
    if (opts.resize && (opts.resize.width || opts.resize.height)) {
      s = s.resize({ width: opts.resize.width, height: opts.resize.height, fit: opts.resize.fit ?? 'fill' });
    }
    raw = await (depth === 16 ? s.raw({ depth: 'ushort' }) : s.raw()).toBuffer({ resolveWithObject: true });
  } catch (e) {
    if (opts.maxPixels !== undefined && /exceeds pixel limit/i.test(e instanceof Error ? e.message : String(e))) {
      const [w, h] = await storedSize(file, shown);
      const [ow, oh] = resizedSize(w, h, opts.resize);
      throw pixelLimitError(shown, w, h, ow, oh, opts.maxPixels, opts.mode) ?? decodeError(e, shown);
    }
    throw decodeError(e, shown);
  }
  const { width, height, channels } = raw.info;
  const n = width * height;
  throwIfAbortedLarge(n, opts.signal);
  const samples = depth === 16 ? new Uint16Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength >> 1) : raw.data;
  let rgb: Uint8Array | Uint16Array = samples;
  let ch: number = channels;
  if (ch < 3) {
    // gray (+alpha) sources: repeat the gray value
    const x = depth === 16 ? new Uint16Array(n * 3) : new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) x[3 * i] = x[3 * i + 1] = x[3 * i + 2] = samples[i * ch]!;
    rgb = x;
    ch = 3;
  }
  // the planes in one buffer, shared when large (the compute pool's tasks read them without a copy)
  const planes = newPlanes(height, width, opts.mode === 'gray' ? 1 : 3);
  const divideBy = opts.divideBy !== undefined && depth === 16 ? opts.divideBy * 257 : opts.divideBy;
  await fillPlanes(rgb, ch, n, opts.mode, planes, divideBy, opts.signal);
  let sourceBytes = st.size;
  if (sourceBytes === undefined) {
    try {
      sourceBytes = statSync(file).size;
    } catch {
      /* not a plain file */
    }
  }
  return {
    kind: 'Image',
    name: opts.name ?? basename(file, extname(file)),
    width,
    height,
    color: opts.mode,
    planes,
    range: [0, depth === 16 ? 65535 : 255],
    ...(depth === 16 ? { bitDepth: 16 as const } : {}),
    source: file,
    sourceBytes,
  };
}

/**
 * Decodes `files` with up to `concurrency` decodes in flight (sharp runs each on a libuv
 * thread: a batch of small images is decoded on all the cores instead of one after another),
 * results in the files' order. `onDecoded` is called as each image is done; once `signal` is
 * aborted no new decode starts and the promise resolves with undefined. A file that fails stops
 * new decodes; the error thrown, once those in flight have settled, is the first failing file's
 * in the files' order (every file before it has been tried), as decoding one after another gave.
 */
export async function decodeImages(files: readonly string[], optsOf: (file: string) => DecodeOptions, concurrency: number, signal?: AbortSignal, onDecoded?: () => void): Promise<Image[] | undefined> {
  const out: Image[] = new Array(files.length);
  const errors = new Map<number, unknown>();
  let next = 0;
  const worker = async () => {
    while (next < files.length && !signal?.aborted && !errors.size) {
      const i = next++;
      try {
        out[i] = await decodeImage(files[i]!, optsOf(files[i]!));
      } catch (e) {
        errors.set(i, e);
        return;
      }
      onDecoded?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  if (errors.size) throw errors.get(Math.min(...errors.keys()));
  return signal?.aborted ? undefined : out;
}

/**
 * The image as interleaved 8-bit pixels (1 channel for gray, 3 for rgb/ycbcr → RGB):
 * value + mean (if still centred), times the normalization scale, rounded, clamped to 0..255.
 * A 16-bit image (bitDepth 16) is scaled to 0..255 (its 0..65535 divided by 257).
 */
export function toPixels8(img: Image): { data: Uint8Array; channels: 1 | 3 } {
  return toPixels(img, 8) as { data: Uint8Array; channels: 1 | 3 };
}

/** The bits per sample of `img`'s source: 16 for a 16-bit PNG/TIFF, else 8. */
export const depthOf = (img: { bitDepth?: number }): 8 | 16 => (img.bitDepth === 16 ? 16 : 8);

/**
 * The image as interleaved pixels of `depth` bits (Uint8Array 0..255 or Uint16Array 0..65535), as
 * toPixels8 describes: a 16-bit image at 16 bits keeps every value its planes hold.
 */
export function toPixels(img: Image, depth: 8 | 16): { data: Uint8Array | Uint16Array; channels: 1 | 3 } {
  const { width: w, height: h } = img;
  const n = w * h;
  const top = depth === 16 ? 65535 : 255, mid = depth === 16 ? 128 * 257 : 128;
  // the planes' values on their source's scale (0..255, or 0..65535 for a 16-bit source), then on `depth`'s
  const own = img.normalization?.scale ?? (img.range[1] > 0 && img.range[1] !== 255 ? (depthOf(img) === 16 ? 65535 : 255) / img.range[1] : 1);
  const scale = own * (depth === depthOf(img) ? 1 : depth === 16 ? 257 : 1 / 257);
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
  const clamp8 = (v: number) => (v <= 0 ? 0 : v >= top ? top : Math.round(v));
  if (img.color === 'gray') {
    const d = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = clamp8(planes[0]![i]!);
    return { data: d, channels: 1 };
  }
  const d = depth === 16 ? new Uint16Array(n * 3) : new Uint8Array(n * 3);
  const px: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    if (img.color === 'ycbcr') ycbcrToRgbPixel(planes[0]![i]!, planes[1]![i]!, planes[2]![i]!, px, mid);
    else (px[0] = planes[0]![i]!), (px[1] = planes[1]![i]!), (px[2] = planes[2]![i]!);
    d[3 * i] = clamp8(px[0]);
    d[3 * i + 1] = clamp8(px[1]);
    d[3 * i + 2] = clamp8(px[2]);
  }
  return { data: d, channels: 3 };
}

export type EncodeFormat = 'png' | 'jpeg' | 'webp';

/** The bits per sample encodeImage writes for `img` in `format`: 16 for a 16-bit image as PNG (JPEG and WebP are 8-bit formats). */
export function encodedDepth(img: Image, format: EncodeFormat): 8 | 16 {
  return format === 'png' ? depthOf(img) : 8;
}

/** Compresses an Image (see toPixels) as PNG, JPEG or WebP, at encodedDepth bits. `quality` is for JPEG/WebP. */
export async function encodeImage(img: Image, format: EncodeFormat, opts: { quality?: number; lossless?: boolean } = {}): Promise<Buffer> {
  const { data, channels } = toPixels(img, encodedDepth(img, format));
  return encodePixels(data, img.width, img.height, channels, format, opts);
}

/** Interleaved pixels (8-bit, or 16-bit from a Uint16Array: a 16-bit PNG) compressed as PNG, JPEG or WebP. */
export async function encodePixels(data: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 3, format: EncodeFormat, opts: { quality?: number; lossless?: boolean } = {}): Promise<Buffer> {
  if (data instanceof Uint16Array && format !== 'png') throw new RangeError(`encodePixels: 16-bit samples can only be written as PNG, not ${format}`);
  let s = data instanceof Uint16Array ? sharp(data, { raw: { width, height, channels } }) : sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
  // a 1-channel file (sharp would write RGB otherwise); 16-bit samples tagged as such (else saved as 8-bit)
  if (data instanceof Uint16Array) s = s.toColourspace(channels === 1 ? 'grey16' : 'rgb16');
  else if (channels === 1) s = s.toColourspace('b-w');
  if (format === 'png') return s.png({ compressionLevel: 9 }).toBuffer();
  if (format === 'jpeg') return s.jpeg({ quality: opts.quality ?? 90 }).toBuffer();
  return s.webp({ quality: opts.quality ?? 90, lossless: opts.lossless ?? false }).toBuffer();
}
