/**
 * Optional fast JPEG decoder: the system's libjpeg-turbo through its TurboJPEG API
 * (libturbojpeg.so.0, Debian/Ubuntu libturbojpeg0), reached through koffi as
 * src/core/linalg/native.ts reaches OpenBLAS (no compiler at install). sharp's bundled libvips
 * decodes JPEG with mozjpeg (the versions.json of @img/sharp-libvips-<platform>), not this library;
 * both derive from libjpeg and decode with the same defaults (accurate integer IDCT, fancy
 * upsampling), and the planes are sharp's bit for bit on the files test/core/image/jpeg.test.ts
 * compares (jpeg.ts lists them). What TurboJPEG saves is the per-image cost around the decode: a
 * libvips pipeline costs ~1 ms of CPU per small image before and after its ~0.25 ms of Huffman
 * decoding, IDCT and colour conversion (bench pca's notes).
 *
 * Selection (read once, on first use; `setTurboJpeg` overrides it for tests and benchmarks):
 *   SVDFLOW_JPEG unset       load libturbojpeg.so.0, else decode with sharp
 *   SVDFLOW_JPEG=off         never load it (every image through sharp)
 *   SVDFLOW_JPEG=/path.so    load that library (it must export the TurboJPEG 2 API declared in load())
 * A library that fails to load leaves `turboJpegStatus().reason` saying why.
 *
 * Which files may take this path, and why its pixels are sharp's, is src/core/image/jpeg.ts's
 * business; here only the calls. The decode runs on libuv's thread pool (koffi's async call):
 * a 24-megapixel photo takes ~0.3 s to decode, which must not stop the event loop.
 */
import { optionalLibrary, type NativeFn as Fn } from '../native-lib.js';
interface Lib {
  path: string;
  init: Fn;
  header: Fn;
  decompress: Fn;
  errorStr: Fn;
  errorCode: Fn;
}

/** TurboJPEG's pixel formats and colour spaces (turbojpeg.h, 2.x) */
export const TJPF_RGB = 0;
export const TJCS = { RGB: 0, YCbCr: 1, GRAY: 2, CMYK: 3, YCCK: 4 } as const;
/** flags of tjDecompress2: none. Its defaults are libjpeg's, as libvips leaves them: the accurate integer IDCT (JDCT_ISLOW) and fancy (triangle-filter) chroma upsampling. */
export const TJ_DECODE_FLAGS = 0;

const DEFAULT_LIBS = ['libturbojpeg.so.0', 'libturbojpeg.so', 'libturbojpeg.dylib'];

const turbo = optionalLibrary<Lib>({
  envName: 'SVDFLOW_JPEG',
  offBy: 'setTurboJpeg',
  defaults: DEFAULT_LIBS,
  bind: (f, path) => ({
    path,
    init: f('void *tjInitDecompress()'),
    header: f('int tjDecompressHeader3(void *handle, const uint8_t *jpegBuf, unsigned long jpegSize, _Out_ int *width, _Out_ int *height, _Out_ int *jpegSubsamp, _Out_ int *jpegColorspace)'),
    decompress: f('int tjDecompress2(void *handle, const uint8_t *jpegBuf, unsigned long jpegSize, uint8_t *dstBuf, int width, int pitch, int height, int pixelFormat, int flags)'),
    errorStr: f('const char *tjGetErrorStr2(void *handle)'),
    errorCode: f('int tjGetErrorCode(void *handle)'),
  }),
  // a candidate fails when it is missing or lacks a symbol (tjGetErrorStr2/tjGetErrorCode: before 2.0)
  notFound: (errors) => `no usable libturbojpeg (needs libjpeg-turbo >= 2.0; ${errors}); install libturbojpeg0 (Debian/Ubuntu) for fast JPEG decoding`,
});

/** The library when it is on and loads, else null (sharp decodes). */
export function turboJpeg(): Lib | null {
  return turbo.get();
}

/** Turns the fast path on (when the library loads) or off, overriding SVDFLOW_JPEG; `undefined` goes back to the environment's choice. Returns whether it is now in use. */
export function setTurboJpeg(on: boolean | undefined): boolean {
  return turbo.set(on);
}

/** Whether TurboJPEG decodes the JPEGs it may, and if not why. */
export function turboJpegStatus(): { loaded: boolean; library?: string; reason?: string } {
  const l = turboJpeg();
  if (l) return { loaded: true, library: l.path };
  return { loaded: false, reason: turbo.reason() };
}

// decompressor handles: one per call in flight (a handle is not thread-safe), kept for the process
const idle: unknown[] = [];
/** an idle handle, or a new one; null when tjInitDecompress fails (never pooled) */
const handle = (L: Lib): unknown => idle.pop() ?? L.init() ?? null;

export interface JpegHeader { width: number; height: number; subsamp: number; colorspace: number }

/** TurboJPEG's reading of the headers, or the library's message when it cannot read them. */
export function jpegHeader(L: Lib, buf: Uint8Array): JpegHeader | string {
  const h = handle(L);
  if (!h) return 'tjInitDecompress failed';
  try {
    const w = [0], hh = [0], ss = [0], cs = [0];
    if (L.header(h, buf, buf.length, w, hh, ss, cs) !== 0) return String(L.errorStr(h));
    return { width: w[0]!, height: hh[0]!, subsamp: ss[0]!, colorspace: cs[0]! };
  } finally {
    idle.push(h);
  }
}

/**
 * Decodes `buf` into `dst` (width x height interleaved RGB, 3 bytes a pixel) on a libuv thread.
 * Resolves undefined when the image decoded cleanly, else 'error' or 'warning (corrupt or truncated
 * data)' from tjGetErrorCode (a warning means corrupt data that libjpeg patched over: the caller
 * lets sharp judge those files, so that they give what they gave before).
 */
export function decodeJpegRgb(L: Lib, buf: Uint8Array, dst: Uint8Array, width: number, height: number): Promise<string | undefined> {
  const h = handle(L);
  if (!h) return Promise.resolve('error (tjInitDecompress failed)');
  return new Promise((resolve, reject) => {
    try {
      L.decompress.async(h, buf, buf.length, dst, width, 0, height, TJPF_RGB, TJ_DECODE_FLAGS, (err: unknown, r: number) => {
        // buf and dst stay referenced by this closure until the call has returned
        void buf; void dst;
        if (err) { idle.push(h); reject(err); return; }
        // only the code: tjGetErrorStr2's text is kept per thread in libjpeg-turbo 2.1, and this
        // callback runs on the main thread, not the libuv thread that decoded ('No error' or stale)
        const msg = r === 0 ? undefined : Number(L.errorCode(h)) === 0 ? 'warning (corrupt or truncated data)' : 'error';
        idle.push(h);
        resolve(msg);
      });
    } catch (e) {
      // the call did not start (bad arguments): the handle is free again
      idle.push(h);
      reject(e);
    }
  });
}
