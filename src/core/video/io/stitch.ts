/**
 * Stitching the outputs of a segmented run (`--workers N`) in frame order: videos
 * joined by stream copy (no re-encoding), per-frame images gathered, confusion
 * counts summed into one score, text lines (JSON Lines, CSV) concatenated.
 */
import { readFile, link, copyFile, mkdir } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extname, join } from 'node:path';
import { InputError } from '../../errors.js';
import type { Metrics } from '../../ports.js';
import type { SegmentPart, StitchContext, Stitcher } from '../../stage.js';
import { scores, scoreTable, type Confusion } from '../score.js';
import { concatSegments } from './encode.js';

/** The parts' files grouped by their name, each group in segment order. */
function byName(parts: SegmentPart[][]): Map<string, SegmentPart[]> {
  const m = new Map<string, SegmentPart[]>();
  for (const seg of parts) for (const f of seg) m.set(f.rel, [...(m.get(f.rel) ?? []), f]);
  return m;
}

/** A joined video's description: the first part's, with its "N frames" the sum over the parts. */
export function joinedDescription(group: SegmentPart[]): string {
  const first = group[0]!.description ?? 'video';
  const counts = group.map((g) => /(\d+) frames?\b/.exec(g.description ?? '')?.[1]);
  const total = counts.every((c) => c !== undefined) ? counts.reduce((t, c) => t + Number(c), 0) : undefined;
  const segments = `${group.length} segment${group.length === 1 ? '' : 's'} joined`;
  return `${total === undefined ? first : first.replace(/\d+ frames?\b/, `${total} frame${total === 1 ? '' : 's'}`)} (${segments})`;
}

/** Videos: one file per segment, joined by stream copy (ffmpeg's concat demuxer). */
export const stitchVideos: Stitcher = async (parts, out) => {
  const files = [];
  await mkdir(out.workDir, { recursive: true });
  for (const [rel, group] of byName(parts)) {
    const f = await out.outputs.begin(rel, { step: out.stepId, format: extname(rel).slice(1), description: joinedDescription(group) });
    try {
      await concatSegments(group.map((g) => g.path), join(out.workDir, `${out.stepId}-concat.txt`), f.tmpPath, undefined, (c, a) => out.children.spawn(c, a));
    } catch (e) {
      await f.abort();
      throw e;
    }
    files.push(await f.commit());
  }
  return { files };
};

/** Per-frame images: every segment's files (their names carry the frame number); `last`: the last segment's only. */
export const stitchFrames: Stitcher = async (parts, out, params: { last?: boolean }) => {
  const files = [];
  const use = params.last ? parts.filter((p) => p.length).slice(-1) : parts;
  for (const seg of use) {
    for (const g of seg) {
      const f = await out.outputs.begin(g.rel, { step: out.stepId, format: g.format, description: g.description });
      await link(g.path, f.tmpPath).catch(() => copyFile(g.path, f.tmpPath));
      files.push(await f.commit());
    }
  }
  return { files };
};

/** Mask scores: confusion counts summed over the segments, then the measures of the sum. */
export const stitchScores: Stitcher = async (parts, out, params: { path: string; print: boolean; groundTruth: string }) => {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  let frames = 0;
  for (const seg of parts) {
    for (const g of seg) {
      const v = JSON.parse(await readFile(g.path, 'utf8')) as Confusion & { frames: number };
      c.tp += v.tp;
      c.fp += v.fp;
      c.tn += v.tn;
      c.fn += v.fn;
      frames += v.frames;
    }
  }
  if (!frames) throw new InputError(`no ground-truth frame matched the decoded frames in ${params.groundTruth}`, 'decode the frames the ground truth covers (start/end), or fix pattern');
  const s = scores(c);
  const m: Metrics = { kind: 'Metrics', name: 'mask-scores', values: { ...s, frames, tp: c.tp, fp: c.fp, tn: c.tn, fn: c.fn, groundTruth: params.groundTruth, segments: parts.length } };
  if (params.print) process.stderr.write(scoreTable(params.groundTruth, c, frames) + '\n');
  const file = await out.outputs.write(params.path, JSON.stringify(m.values, null, 2) + '\n', { step: out.stepId, format: 'json', description: `mask scores (CDnet rules, ${parts.length} segments summed)` });
  return { files: [file], value: m };
};

/** Text files of lines in frame order (JSON Lines, CSV): concatenated as streams (bounded memory); a CSV keeps its first header line once. */
export const stitchLines: Stitcher = async (parts, out) => {
  const files = [];
  for (const [rel, group] of byName(parts)) {
    const csv = extname(rel).toLowerCase() === '.csv';
    const f = await out.outputs.begin(rel, { step: out.stepId, format: extname(rel).slice(1), description: group[0]!.description });
    try {
      const dst = createWriteStream(f.tmpPath);
      for (const [k, g] of group.entries()) {
        let skip = csv && k > 0;
        const dropHeader = new Transform({
          transform(chunk: Buffer, _enc, done) {
            if (!skip) return done(null, chunk);
            const nl = chunk.indexOf(10);
            if (nl < 0) return done();
            skip = false;
            done(null, chunk.subarray(nl + 1));
          },
        });
        await pipeline(createReadStream(g.path), dropHeader, dst, { end: false });
      }
      await new Promise<void>((res, rej) => dst.end((e?: Error | null) => (e ? rej(e) : res())));
    } catch (e) {
      await f.abort();
      throw e;
    }
    files.push(await f.commit());
  }
  return { files };
};
