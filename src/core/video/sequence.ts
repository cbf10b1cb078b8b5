/**
 * Image sequences named by a printf pattern, as CDnet ships them:
 * `input/in%06d.jpg` is in000001.jpg, in000002.jpg, ... (names only; io/sequence-files.ts scans folders)
 */
import { basename } from 'node:path';

export const PATTERN = /%(0?)(\d*)d/;

export function isSequencePattern(path: string): boolean {
  return PATTERN.test(basename(path));
}

/** File name of number `n` in `pattern` (in%06d.jpg, 7 -> in000007.jpg). */
export function formatSequence(pattern: string, n: number): string {
  return pattern.replace(PATTERN, (_m, zero: string, width: string) => {
    const s = String(n);
    return zero && width ? s.padStart(Number(width), '0') : s;
  });
}
