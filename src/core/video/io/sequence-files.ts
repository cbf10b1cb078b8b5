/** Finding the numbered files of an image-sequence pattern on disk. */
import { readdirSync, existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { InputError } from '../../errors.js';
import { PATTERN } from '../sequence.js';

export interface SequenceInfo {
  pattern: string;
  first: number;
  last: number;
  /** contiguous frames from `first` */
  count: number;
}

/** Finds the numbered files of a pattern: the first number and the contiguous run from it. */
export function scanSequence(pattern: string): SequenceInfo {
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!existsSync(dir)) throw new InputError(`image sequence folder not found: ${dir}`, 'check the path (relative paths are relative to the pipeline file)');
  const m = PATTERN.exec(base)!;
  const pre = base.slice(0, m.index);
  const post = base.slice(m.index + m[0].length);
  const width = m[1] && m[2] ? Number(m[2]) : 0;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc(pre)}(\\d${width ? `{${width}}` : '+'})${esc(post)}$`);
  const nums: number[] = [];
  for (const f of readdirSync(dir)) {
    const r = re.exec(f);
    if (r) nums.push(Number(r[1]));
  }
  if (!nums.length) {
    const sample = readdirSync(dir).slice(0, 3).join(', ');
    throw new InputError(`no files match the image sequence ${pattern}`, `the folder holds ${sample || 'no files'}; the pattern must look like in%06d.jpg`);
  }
  nums.sort((a, b) => a - b);
  const first = nums[0]!;
  let count = 1;
  while (count < nums.length && nums[count] === first + count) count++;
  return { pattern, first, last: first + count - 1, count };
}
