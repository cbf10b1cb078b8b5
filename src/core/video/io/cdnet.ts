/**
 * CDnet 2014 folders: `input/in%06d.jpg`, `groundtruth/gt%06d.png`, `ROI.bmp`,
 * `temporalROI.txt` ("first last", inclusive).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharp } from '../../image/sharp.js';
import { InputError } from '../../errors.js';
import { readBmp, type GrayImage } from '../bmp.js';
import { formatSequence } from '../sequence.js';

export interface GroundTruth {
  dir: string;
  pattern: string;
  /** evaluation window (inclusive); all frames when temporalROI.txt is absent */
  first: number;
  last: number;
  roi?: GrayImage;
}

export function openGroundTruth(dir: string, pattern = 'groundtruth/gt%06d.png'): GroundTruth {
  if (!existsSync(dir)) throw new InputError(`ground-truth folder not found: ${dir}`, 'give the CDnet video folder (the one holding groundtruth/, ROI.bmp and temporalROI.txt)');
  let first = -Infinity;
  let last = Infinity;
  const tf = join(dir, 'temporalROI.txt');
  if (existsSync(tf)) {
    const nums = readFileSync(tf, 'utf8').trim().split(/\s+/).map(Number);
    if (nums.length < 2 || !nums.every(Number.isInteger)) throw new InputError(`${tf} should hold two frame numbers "first last", got '${readFileSync(tf, 'utf8').trim()}'`, 'fix the file or delete it to score every frame');
    [first, last] = nums as [number, number];
  }
  const rf = join(dir, 'ROI.bmp');
  const roi = existsSync(rf) ? readBmp(readFileSync(rf), rf) : undefined;
  return { dir, pattern, first, last, roi };
}

/** The ground truth of frame number `n`, checked against the mask size; undefined outside the window or when the file is absent. */
export async function readGroundTruthFrame(gt: GroundTruth, n: number, width: number, height: number): Promise<Uint8Array | undefined> {
  if (n < gt.first || n > gt.last) return undefined;
  const file = join(gt.dir, formatSequence(gt.pattern, n));
  if (!existsSync(file)) return undefined;
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height) {
    throw new InputError(`ground truth ${file} is ${info.width}x${info.height}, the masks are ${width}x${height}`, 'decode without scale/crop (or with the same ones the ground truth was made at), or give the matching ground-truth folder');
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

export function checkRoi(gt: GroundTruth, width: number, height: number): Uint8Array | undefined {
  if (!gt.roi) return undefined;
  if (gt.roi.width !== width || gt.roi.height !== height) {
    throw new InputError(`ROI.bmp in ${gt.dir} is ${gt.roi.width}x${gt.roi.height}, the masks are ${width}x${height}`, 'decode at the ground truth size (no scale or crop)');
  }
  return gt.roi.data;
}
