/**
 * Colour conversions on 8-bit-scale values (0..255), planar.
 * - gray: ITU-R BT.601 luma with Pillow's integer rounding (`Image.convert('L')`):
 *   L = (19595 R + 38470 G + 7471 B + 32768) >> 16, so a gray image here equals
 *   the one NumPy/Pillow code gets from the same file.
 * - YCbCr: the JPEG (JFIF, full-range BT.601) transform, in floats, invertible:
 *   Y = .299 R + .587 G + .114 B, Cb = 128 + .5 (B − Y)/.886, Cr = 128 + .5 (R − Y)/.701.
 */

/** Interleaved 8-bit RGB (3 channels) → one gray plane (Pillow 'L'). */
export function rgbToGray(rgb: Uint8Array | Buffer, n: number, channels: number, out: Float64Array<ArrayBufferLike> = new Float64Array(n)): Float64Array<ArrayBufferLike> {
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    out[i] = (rgb[p]! * 19595 + rgb[p + 1]! * 38470 + rgb[p + 2]! * 7471 + 0x8000) >> 16;
  }
  return out;
}

/**
 * Interleaved 16-bit RGB (3 channels, 0..65535) → one gray plane: the same luma and rounding as
 * rgbToGray, in floating point (the integer form overflows 32 bits); a gray source (R = G = B) keeps
 * its values exactly.
 */
export function rgbToGray16(rgb: Uint16Array, n: number, channels: number, out: Float64Array<ArrayBufferLike>): Float64Array<ArrayBufferLike> {
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    out[i] = Math.floor((rgb[p]! * 19595 + rgb[p + 1]! * 38470 + rgb[p + 2]! * 7471 + 0x8000) / 65536);
  }
  return out;
}

/** Interleaved RGB → Y, Cb, Cr planes (floats, 0..255; 0..65535 from 16-bit values with `mid` = 128 · 257). */
export function rgbToYcbcr(rgb: Uint8Array | Buffer | Uint16Array, n: number, channels: number, out?: readonly Float64Array<ArrayBufferLike>[], mid = 128): [Float64Array<ArrayBufferLike>, Float64Array<ArrayBufferLike>, Float64Array<ArrayBufferLike>] {
  const Y = out?.[0] ?? new Float64Array(n), Cb = out?.[1] ?? new Float64Array(n), Cr = out?.[2] ?? new Float64Array(n);
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    const r = rgb[p]!, g = rgb[p + 1]!, b = rgb[p + 2]!;
    Y[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    Cb[i] = mid - 0.168735891647856 * r - 0.331264108352144 * g + 0.5 * b;
    Cr[i] = mid + 0.5 * r - 0.418687589158345 * g - 0.0813124108416548 * b;
  }
  return [Y, Cb, Cr];
}

/** One Y, Cb, Cr pixel (0..255 floats; 0..65535 with `mid` = 128 · 257) → R, G, B floats (not clamped). */
export function ycbcrToRgbPixel(y: number, cb: number, cr: number, out: [number, number, number], mid = 128): [number, number, number] {
  const u = cb - mid, v = cr - mid;
  out[0] = y + 1.402 * v;
  out[1] = y - 0.344136286201022 * u - 0.714136286201022 * v;
  out[2] = y + 1.772 * u;
  return out;
}
