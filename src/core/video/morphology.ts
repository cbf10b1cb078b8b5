/**
 * Binary morphology on 0/1 masks (one byte per pixel) with a square
 * (2r+1)x(2r+1) structuring element, separable (a row pass then a column pass)
 * with running counts: O(pixels) whatever the radius. Pixels outside the image
 * count as background for dilation and as foreground for erosion (no border shrink).
 */

function pass(src: Uint8Array, dst: Uint8Array, w: number, h: number, r: number, horizontal: boolean, erode: boolean): void {
  const n = horizontal ? w : h;
  const lines = horizontal ? h : w;
  const step = horizontal ? 1 : w;
  const lineStep = horizontal ? w : 1;
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    // count of set pixels in the window [i - r, i + r] (outside = 1 when eroding)
    let count = 0;
    for (let k = -r; k <= r; k++) count += k < 0 || k >= n ? (erode ? 1 : 0) : src[base + k * step]!;
    const full = 2 * r + 1;
    for (let i = 0; i < n; i++) {
      dst[base + i * step] = erode ? (count === full ? 1 : 0) : count > 0 ? 1 : 0;
      const out = i - r;
      const inn = i + r + 1;
      count -= out < 0 ? (erode ? 1 : 0) : src[base + out * step]!;
      count += inn >= n ? (erode ? 1 : 0) : src[base + inn * step]!;
    }
  }
}

export function dilate(mask: Uint8Array, w: number, h: number, r = 1, tmp: Uint8Array = new Uint8Array(mask.length), out: Uint8Array = new Uint8Array(mask.length)): Uint8Array {
  if (r <= 0) return out === mask ? mask : (out.set(mask), out);
  pass(mask, tmp, w, h, r, true, false);
  pass(tmp, out, w, h, r, false, false);
  return out;
}

export function erode(mask: Uint8Array, w: number, h: number, r = 1, tmp: Uint8Array = new Uint8Array(mask.length), out: Uint8Array = new Uint8Array(mask.length)): Uint8Array {
  if (r <= 0) return out === mask ? mask : (out.set(mask), out);
  pass(mask, tmp, w, h, r, true, true);
  pass(tmp, out, w, h, r, false, true);
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
