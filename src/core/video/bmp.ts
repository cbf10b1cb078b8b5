/**
 * A tiny BMP reader (sharp cannot read BMP): uncompressed 8-bit palette and
 * 24/32-bit files, bottom-up or top-down. Returns one gray byte per pixel
 * (palette entries and colours are converted with their luma; CDnet's ROI.bmp is
 * 0/255).
 */
import { InputError } from '../errors.js';

export interface GrayImage {
  width: number;
  height: number;
  /** width*height bytes, row-major from the top */
  data: Uint8Array;
}

export function readBmp(buf: Uint8Array, name = 'BMP'): GrayImage {
  if (buf.length < 54 || buf[0] !== 0x42 || buf[1] !== 0x4d) throw new InputError(`${name} is not a BMP file (it does not start with "BM")`, 'give an uncompressed BMP (CDnet ROI.bmp)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dataOff = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  const width = dv.getInt32(18, true);
  const rawH = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const height = Math.abs(rawH);
  const topDown = rawH < 0;
  if (width <= 0 || height === 0) throw new InputError(`${name}: invalid size ${width}x${rawH}`, 'the file is corrupt');
  if (compression !== 0 && !(compression === 3 && bpp === 32)) throw new InputError(`${name}: compressed BMP (compression ${compression}) is not supported`, 'save it as an uncompressed 8-bit or 24-bit BMP');
  if (bpp !== 8 && bpp !== 24 && bpp !== 32) throw new InputError(`${name}: ${bpp}-bit BMP is not supported`, 'save it as an 8-bit palette or 24-bit BMP');
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  if (dataOff + rowBytes * height > buf.length) throw new InputError(`${name} is truncated: ${buf.length} bytes, its header needs ${dataOff + rowBytes * height}`, 'the file is corrupt; copy it again');
  let palette: Uint8Array | undefined;
  if (bpp === 8) {
    const nColors = dv.getUint32(46, true) || 256;
    palette = new Uint8Array(256);
    const pOff = 14 + headerSize;
    for (let i = 0; i < nColors && pOff + i * 4 + 2 < dataOff; i++) {
      const b = buf[pOff + i * 4]!, g = buf[pOff + i * 4 + 1]!, r = buf[pOff + i * 4 + 2]!;
      palette[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  const out = new Uint8Array(width * height);
  const step = bpp / 8;
  for (let y = 0; y < height; y++) {
    const src = dataOff + (topDown ? y : height - 1 - y) * rowBytes;
    const dst = y * width;
    if (palette) for (let x = 0; x < width; x++) out[dst + x] = palette[buf[src + x]!]!;
    else {
      for (let x = 0; x < width; x++) {
        const p = src + x * step;
        out[dst + x] = Math.round(0.299 * buf[p + 2]! + 0.587 * buf[p + 1]! + 0.114 * buf[p]!);
      }
    }
  }
  return { width, height, data: out };
}

/** Writes an 8-bit gray-palette BMP (for tests and tools). */
export function writeBmp8(img: GrayImage): Uint8Array {
  const rowBytes = Math.ceil(img.width / 4) * 4;
  const dataOff = 14 + 40 + 1024;
  const size = dataOff + rowBytes * img.height;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  buf[0] = 0x42;
  buf[1] = 0x4d;
  dv.setUint32(2, size, true);
  dv.setUint32(10, dataOff, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, img.width, true);
  dv.setInt32(22, img.height, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 8, true);
  dv.setUint32(46, 256, true);
  for (let i = 0; i < 256; i++) buf.set([i, i, i, 0], 54 + i * 4);
  for (let y = 0; y < img.height; y++) buf.set(img.data.subarray(y * img.width, (y + 1) * img.width), dataOff + (img.height - 1 - y) * rowBytes);
  return buf;
}
