/**
 * What a container's header says about its length, read directly from the file:
 * ffmpeg estimates the duration of an AVI without its index from the file size,
 * so a file cut short looks complete. The AVI header (avih, or dmlh in OpenDML
 * files over 1 GiB) states the frame count the file was written with.
 */
import { openSync, readSync, closeSync } from 'node:fs';

/** The frame count an AVI header announces; undefined for other containers or an unreadable header. */
export function aviHeaderFrames(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf.subarray(0, n);
    if (n < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'AVI ') return undefined;
    const text = head.toString('latin1');
    // OpenDML: 'dmlh' chunk, dwTotalFrames first
    const dml = text.indexOf('dmlh');
    if (dml >= 0 && dml + 12 <= n) {
      const total = head.readUInt32LE(dml + 8);
      if (total > 0) return total;
    }
    // avih: dwMicroSecPerFrame, dwMaxBytesPerSec, dwPaddingGranularity, dwFlags, dwTotalFrames
    const avih = text.indexOf('avih');
    if (avih >= 0 && avih + 8 + 20 <= n) {
      const total = head.readUInt32LE(avih + 8 + 16);
      return total > 0 ? total : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
