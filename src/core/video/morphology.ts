/**
 * Binary morphology on 0/1 masks (one byte per pixel) with a square
 * (2r+1)x(2r+1) structuring element, separable (a row pass then a column pass, the
 * column pass run row by row over contiguous memory) with running counts: O(pixels) whatever the radius. Pixels outside the image
 * count as background for dilation and as foreground for erosion (no border shrink).
 */

/**
 * Horizontal pass: each row, a running count over [i − r, i + r]. Dilation: count > 0;
 * erosion: count equals the number of in-image pixels of the window (outside = foreground).
 * Counts are <= 2r + 1 < 128, so both tests are a shift: (count + 127) >> 7 and
 * (count + 128 − full) >> 7; the border pixels are done apart so the inner loop has no branch.
 */
function rowPass(src: Uint8Array, dst: Uint8Array, w: number, h: number, r: number, erode: boolean): void {
  const lo = Math.min(r, w), hi = Math.max(lo, w - r - 1);
  const add = erode ? 128 - (2 * r + 1) : 127;
  for (let y = 0; y < h; y++) {
    const base = y * w;
    let count = 0;
    for (let k = 0; k <= Math.min(r, w - 1); k++) count += src[base + k]!;
    let i = 0;
    for (; i < lo; i++) count = borderPixel(src, dst, base, i, w, r, erode, count);
    for (; i < hi; i++) {
      dst[base + i] = (count + add) >> 7;
      count += src[base + i + r + 1]! - src[base + i - r]!;
    }
    for (; i < w; i++) count = borderPixel(src, dst, base, i, w, r, erode, count);
  }
}

/** One pixel whose window sticks out of the row; returns the count for the next pixel. */
function borderPixel(src: Uint8Array, dst: Uint8Array, base: number, i: number, w: number, r: number, erode: boolean, count: number): number {
  const valid = Math.min(w - 1, i + r) - Math.max(0, i - r) + 1;
  dst[base + i] = erode ? (count === valid ? 1 : 0) : count > 0 ? 1 : 0;
  if (i - r >= 0) count -= src[base + i - r]!;
  if (i + r + 1 < w) count += src[base + i + r + 1]!;
  return count;
}

/**
 * Vertical pass, row by row over contiguous memory: `counts[x]` is the number of set
 * pixels of column x in rows [y − r, y + r], updated by adding one row and removing one.
 * When rows are whole 32-bit words the counts are kept four to a word (each < 128, so
 * no carry crosses a byte) and the tests run on four pixels at once.
 */
function columnPass(src: Uint8Array, dst: Uint8Array, w: number, h: number, r: number, erode: boolean): void {
  const swar = w % 4 === 0 && src.byteOffset % 4 === 0 && dst.byteOffset % 4 === 0;
  const n = swar ? w / 4 : w;
  if (counts.length < w) counts = new Uint32Array(w);
  counts.fill(0, 0, n);
  const s = swar ? new Uint32Array(src.buffer, src.byteOffset, (w * h) / 4) : src;
  const d = swar ? new Uint32Array(dst.buffer, dst.byteOffset, (w * h) / 4) : dst;
  const rep = swar ? 0x01010101 : 1;
  const high = swar ? 0x80808080 : 0x80;
  for (let y = 0; y <= Math.min(r, h - 1); y++) {
    const b = y * n;
    for (let x = 0; x < n; x++) counts[x] = counts[x]! + s[b + x]!;
  }
  for (let y = 0; y < h; y++) {
    const ob = y * n;
    const valid = erode ? Math.min(h - 1, y + r) - Math.max(0, y - r) + 1 : 1;
    const add = Math.imul((erode ? 128 - valid : 127), rep) >>> 0;
    for (let x = 0; x < n; x++) d[ob + x] = (((counts[x]! + add) & high) >>> 7);
    if (y - r >= 0) {
      const b = (y - r) * n;
      for (let x = 0; x < n; x++) counts[x] = counts[x]! - s[b + x]!;
    }
    if (y + r + 1 < h) {
      const b = (y + r + 1) * n;
      for (let x = 0; x < n; x++) counts[x] = counts[x]! + s[b + x]!;
    }
  }
}

let counts = new Uint32Array(0);
function pass2(src: Uint8Array, tmp: Uint8Array, out: Uint8Array, w: number, h: number, r: number, erode: boolean): void {
  rowPass(src, tmp, w, h, r, erode);
  columnPass(tmp, out, w, h, r, erode);
}

export function dilate(mask: Uint8Array, w: number, h: number, r = 1, tmp: Uint8Array = new Uint8Array(mask.length), out: Uint8Array = new Uint8Array(mask.length)): Uint8Array {
  if (r <= 0) return out === mask ? mask : (out.set(mask), out);
  pass2(mask, tmp, out, w, h, r, false);
  return out;
}

export function erode(mask: Uint8Array, w: number, h: number, r = 1, tmp: Uint8Array = new Uint8Array(mask.length), out: Uint8Array = new Uint8Array(mask.length)): Uint8Array {
  if (r <= 0) return out === mask ? mask : (out.set(mask), out);
  pass2(mask, tmp, out, w, h, r, true);
  return out;
}

/** Opening (removes specks smaller than the element) then closing (fills small holes); in place. `tmp`: two reusable work buffers of the mask's size. */
export function openClose(mask: Uint8Array, w: number, h: number, openR: number, closeR: number, tmp?: { a: Uint8Array; b: Uint8Array }): Uint8Array {
  const a = tmp && tmp.a.length === mask.length ? tmp.a : new Uint8Array(mask.length);
  const b = tmp && tmp.b.length === mask.length ? tmp.b : new Uint8Array(mask.length);
  if (openR > 0) {
    erode(mask, w, h, openR, a, b);
    dilate(b, w, h, openR, a, mask);
  }
  if (closeR > 0) {
    dilate(mask, w, h, closeR, a, b);
    erode(b, w, h, closeR, a, mask);
  }
  return mask;
}
