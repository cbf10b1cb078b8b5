/**
 * Which JPEG files the TurboJPEG fast path (turbojpeg.ts) may decode, and the bookkeeping of
 * which decoder ran. Pure: a scan of the markers before the first scan (SOS), no I/O.
 *
 * The contract: a file takes the fast path only when sharp (libvips) would give the same pixels.
 * sharp's libvips decodes with mozjpeg, TurboJPEG with the system's libjpeg-turbo: two
 * libjpeg-derived decoders with the same defaults (accurate integer IDCT, fancy upsampling), whose
 * planes are equal bit for bit on the files test/core/image/jpeg.test.ts compares (the 22 stamps,
 * 4:4:4 with Adobe APP14; the 4:2:0 turtle photo; generated gray, progressive, gray progressive,
 * 4:2:0, 4:4:4 and odd-sized baseline files), when sharp has nothing to do after the decode:
 * - no EXIF orientation other than 1 (sharp's rotate() turns the image),
 * - no ICC profile (APP2 ICC_PROFILE: sharp converts from it to sRGB through lcms),
 * - 8-bit YCbCr or grayscale data (CMYK/YCCK: sharp converts through a CMYK profile), in a
 *   Huffman-coded baseline, extended or progressive frame (SOF0/1/2; arithmetic, lossless and
 *   hierarchical frames go to sharp),
 * - no resize asked.
 * Everything else, and anything the scan cannot read, goes to sharp, as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface JpegScan {
  /** SOF marker (0xc0 baseline, 0xc1 extended, 0xc2 progressive, ...) */
  sof: number;
  precision: number;
  width: number;
  height: number;
  components: number;
  /** EXIF orientation (tag 0x0112 of IFD0), undefined when absent */
  orientation?: number;
  /** an EXIF segment was there but could not be read */
  exifUnreadable?: boolean;
  /** APP2 ICC_PROFILE segments present */
  icc: boolean;
  /** Adobe APP14 transform flag, when the segment is present */
  adobeTransform?: number;
}

const ascii = (b: Uint8Array, at: number, s: string) => {
  if (at + s.length > b.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
};

/**
 * The EXIF orientation in the TIFF structure `t` (an APP1 Exif segment after its 6-byte
 * "Exif\0\0"): undefined when IFD0 has no orientation tag, NaN when the structure is unreadable.
 */
export function exifOrientation(t: Uint8Array): number | undefined {
  if (t.length < 8) return NaN;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return NaN;
  const u16 = (p: number) => (le ? t[p]! | (t[p + 1]! << 8) : (t[p]! << 8) | t[p + 1]!);
  const u32 = (p: number) => (le ? (t[p]! | (t[p + 1]! << 8) | (t[p + 2]! << 16)) + t[p + 3]! * 2 ** 24 : t[p]! * 2 ** 24 + ((t[p + 1]! << 16) | (t[p + 2]! << 8) | t[p + 3]!));
  if (u16(2) !== 42) return NaN;
  const ifd = u32(4);
  if (ifd + 2 > t.length) return NaN;
  const n = u16(ifd);
  if (ifd + 2 + 12 * n > t.length) return NaN;
  let orientation: number | undefined;
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + 12 * k;
    if (u16(e) !== 0x0112) continue;
    // two orientation entries: libvips takes the last, a first-match scan the first; sharp decides
    if (orientation !== undefined) return NaN;
    // SHORT (3), count 1: the value sits in the entry's first two value bytes
    if (u16(e + 2) !== 3 || u32(e + 4) !== 1) return NaN;
    orientation = u16(e + 8);
  }
  return orientation;
}

/** The frame and the segments that matter, from the markers before the first SOS; or why they cannot be read. */
export function scanJpeg(b: Uint8Array): JpegScan | string {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return 'not a JPEG file';
  let p = 2, exifSeen = false;
  const out: Partial<JpegScan> & { icc: boolean } = { icc: false };
  for (;;) {
    if (p >= b.length) return 'no image data (the file ends before its first scan)';
    if (b[p] !== 0xff) return 'unexpected bytes between markers';
    while (p < b.length && b[p] === 0xff) p++; // fill bytes
    if (p >= b.length) return 'no image data (the file ends before its first scan)';
    const m = b[p++]!;
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // standalone markers
    if (m === 0xd9) return 'no image data (end of image before any scan)';
    if (p + 2 > b.length) return 'the file ends inside a marker';
    const len = (b[p]! << 8) | b[p + 1]!;
    if (len < 2 || p + len > b.length) return 'the file ends inside a marker segment';
    const d = p + 2, end = p + len;
    if (m === 0xda) {
      if (out.sof === undefined) return 'a scan before any frame header';
      return out as JpegScan;
    }
    if (m === 0xe1 && ascii(b, d, 'Exif\0\0')) {
      if (exifSeen) out.exifUnreadable = true; // two EXIF segments: let sharp decide which counts
      exifSeen = true;
      const o = exifOrientation(b.subarray(d + 6, end));
      if (Number.isNaN(o)) out.exifUnreadable = true;
      else out.orientation = o;
    } else if (m === 0xe1 && ascii(b, d, 'Exif')) out.exifUnreadable = true; // 'Exif' without its two NULs: whether a reader takes it is theirs to say
    else if (m === 0xe2 && ascii(b, d, 'ICC_PROFILE\0')) out.icc = true;
    else if (m === 0xee && ascii(b, d, 'Adobe') && end - d >= 12) out.adobeTransform = b[d + 11];
    else if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (out.sof !== undefined) return 'two frame headers';
      if (end - d < 6) return 'a short frame header';
      out.sof = m;
      out.precision = b[d]!;
      out.height = (b[d + 1]! << 8) | b[d + 2]!;
      out.width = (b[d + 3]! << 8) | b[d + 4]!;
      out.components = b[d + 5]!;
    }
    p = end;
  }
}

/** Why sharp must decode this file instead of TurboJPEG (it would give other pixels, or might), or undefined. */
export function fastPathRefusal(s: JpegScan | string): string | undefined {
  if (typeof s === 'string') return s;
  if (s.sof > 0xc2) return `a JPEG frame TurboJPEG is not used for (SOF${(s.sof - 0xc0).toString(10)}: arithmetic, lossless or hierarchical)`;
  if (s.precision !== 8) return `${s.precision}-bit JPEG samples`;
  if (s.components !== 1 && s.components !== 3) return `${s.components} colour components (CMYK/YCCK: sharp converts them to sRGB)`;
  if (s.components === 3 && s.adobeTransform === 0) return 'RGB-coded JPEG (Adobe transform 0)';
  if (!s.width || !s.height) return 'no size in the frame header';
  if (s.exifUnreadable) return 'an EXIF segment the scan cannot read';
  if (s.orientation !== undefined && s.orientation !== 1) return `EXIF orientation ${s.orientation} (sharp turns the image)`;
  if (s.icc) return 'an ICC profile (sharp converts to sRGB from it)';
  return undefined;
}

// ------------------------------------------------------------ which decoder ran

/** Images decoded by each decoder (in this process, or in one run), and why sharp decoded those it did (reason → count). */
export interface DecoderCounts {
  turbojpeg: number;
  sharp: number;
  reasons: Record<string, number>;
}

const newCounts = (): DecoderCounts => ({ turbojpeg: 0, sharp: 0, reasons: {} });
const counts: DecoderCounts = newCounts();
// the counts of the run whose work this is: the async context a run (runner.ts) starts its steps in, so that
// two runs at once in one process (two runPipeline calls, the demo's runs) each count their own images
const runScope = new AsyncLocalStorage<DecoderCounts>();

function tally(c: DecoderCounts, why?: string): void {
  if (why === undefined) c.turbojpeg++;
  else {
    c.sharp++;
    c.reasons[why] = (c.reasons[why] ?? 0) + 1;
  }
}
export function countTurboJpeg(): void {
  tally(counts);
  const run = runScope.getStore();
  if (run) tally(run);
}
export function countSharp(why: string): void {
  tally(counts, why);
  const run = runScope.getStore();
  if (run) tally(run, why);
}
/** A copy of this process's counts so far (a caller may take one before some work and pass it to decoderUsage after). */
export function decoderCounts(): DecoderCounts {
  return { turbojpeg: counts.turbojpeg, sharp: counts.sharp, reasons: { ...counts.reasons } };
}

/**
 * Runs `fn` with counts of its own, which it is given: every image decoded in its async context (the
 * work it starts, awaits and schedules), and only those, is counted there (and in the process's counts).
 */
export function withDecoderCounts<T>(fn: (counts: DecoderCounts) => T): T {
  const c = newCounts();
  return runScope.run(c, fn, c);
}

/** Counts added up (a segmented run's segments'), from the run.json `decoder` entries decoderSummary wrote. */
export function addDecoderCounts(parts: ReadonlyArray<ReturnType<typeof decoderSummary> | undefined>): DecoderCounts {
  const c = newCounts();
  for (const d of parts) {
    if (!d) continue;
    c.turbojpeg += d.turbojpeg;
    c.sharp += d.sharp;
    for (const [k, v] of Object.entries(d.sharpBecause ?? {})) c.reasons[k] = (c.reasons[k] ?? 0) + v;
  }
  return c;
}

/** What a run's decoders read (`counts`: its own, from withDecoderCounts), for run.json beside the linalg backend. */
export function decoderSummary(c: DecoderCounts): { decoder: 'turbojpeg' | 'sharp' | 'both' | 'none'; turbojpeg: number; sharp: number; sharpBecause?: Record<string, number> } {
  return decoderUsage(newCounts(), c);
}

/** What decoded the images since `since` (a run's start): for run.json, beside the linalg backend. */
export function decoderUsage(since: DecoderCounts = newCounts(), now: DecoderCounts = counts): { decoder: 'turbojpeg' | 'sharp' | 'both' | 'none'; turbojpeg: number; sharp: number; sharpBecause?: Record<string, number> } {
  const t = now.turbojpeg - since.turbojpeg, s = now.sharp - since.sharp;
  const because: Record<string, number> = {};
  for (const [k, v] of Object.entries(now.reasons)) {
    const d = v - (since.reasons[k] ?? 0);
    if (d > 0) because[k] = d;
  }
  return { decoder: t && s ? 'both' : t ? 'turbojpeg' : s ? 'sharp' : 'none', turbojpeg: t, sharp: s, ...(s ? { sharpBecause: because } : {}) };
}
