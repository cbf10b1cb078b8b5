/**
 * Frame-exact seeking in a video file, so that a segment (or a `start`) far into a long
 * video decodes from the keyframe before its first frame instead of from the beginning.
 *
 * Frame numbers count decoded frames (what `trim=start_frame` counts), while ffmpeg seeks
 * by time; the bridge is the frame's own timestamp, read without decoding:
 * 1. a demux-only pass (`-c copy -f framecrc`, `-copyts` so that timestamps are the
 *    decoder's) lists the packets up to frame k plus a reordering margin; the k-th smallest
 *    presentation timestamp is frame k's. A stream without them (AVI: packets carry only a
 *    decoding count) takes the first decoded frame's time plus k packet durations.
 * 2. the decoder seeks by keyframe well before that time (`-ss` with `-noaccurate_seek`) and
 *    keeps the original timestamps (`-copyts`); `trim=start=` half a frame before frame k
 *    drops what comes before it.
 * 3. a one-frame decode after the same seek checks that ffmpeg landed before frame k; when it
 *    did not (a container that seeks badly), or anything above is unclear (equal timestamps,
 *    no time base), the caller falls back to decoding from the start and counting frames.
 *
 * Tests compare the frames against a whole decode of the same file (test/core/video/seek.test.ts).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ffmpegPath } from './ffmpeg.js';

/** Extra packets read past frame k: B-frame reordering never reaches that far. */
const REORDER = 32;
/** Seek this many seconds before frame k's time, so the keyframe search starts safely early. */
const MARGIN_S = 3;
const NOPTS = -1e18;

export interface SeekPlan {
  /** ffmpeg arguments before `-i` */
  inputArgs: string[];
  /** the filter that drops the frames before frame k (the caller appends setpts) */
  filter: string;
  /** the time (s) the decoder seeks to; 0 = no seek (frame k is near the start) */
  seekTo: number;
}

interface Packets {
  /** time base as seconds per tick */
  tb: number;
  pts: number[];
  dts: number[];
  dur: number[];
}

/** Reads the first `count` video packets' timestamps with a demux-only pass. */
function readPackets(path: string, count: number): Promise<Packets | undefined> {
  return new Promise((resolve) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-copyts', '-i', path, '-map', '0:v:0', '-c', 'copy', '-frames:v', String(count), '-f', 'framecrc', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const out: Packets = { tb: 0, pts: [], dts: [], dur: [] };
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith('#tb 0:')) {
        const m = /(\d+)\/(\d+)/.exec(line);
        if (m) out.tb = Number(m[1]) / Number(m[2]);
      } else if (line.startsWith('0,')) {
        const f = line.split(',');
        out.dts.push(Number(f[1]));
        out.pts.push(Number(f[2]));
        out.dur.push(Number(f[3]));
      }
    });
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => resolve(code === 0 && out.tb > 0 ? out : undefined));
  });
}

/** The presentation time (s) of the first frame the decoder gives, after `inputArgs` (a seek). */
function firstFrameTime(path: string, inputArgs: string[]): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'info', ...inputArgs, '-copyts', '-i', path, '-map', '0:v:0', '-an', '-vsync', 'passthrough', '-vf', 'showinfo', '-frames:v', '1', '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (err.length < 1 << 20) err += d;
    });
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => {
      const m = /\bn:\s*0\b.*?\bpts_time:\s*(-?[\d.]+(?:e-?\d+)?)/.exec(err);
      resolve(code === 0 && m ? Number(m[1]) : undefined);
    });
  });
}

/** Seconds with microsecond digits (ffmpeg parses durations to microseconds). */
const secs = (t: number): string => t.toFixed(6);

/**
 * How to start decoding `path` at decoded frame `k` (> 0) without decoding what comes before
 * the keyframe preceding it; undefined when the file does not allow it reliably (the caller
 * then trims by frame count).
 */
export async function planSeek(path: string, k: number): Promise<SeekPlan | undefined> {
  const p = await readPackets(path, k + 1 + REORDER);
  if (!p || p.pts.length <= k) return undefined;
  let start: number; // frame k's time (s)
  let gap: number; // the time between frame k-1 and frame k (s)
  let first: number; // the first frame's time (s)
  if (p.pts.every((v) => v > NOPTS)) {
    const sorted = [...p.pts].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) if (!(sorted[i]! > sorted[i - 1]!)) return undefined;
    start = sorted[k]! * p.tb;
    gap = (sorted[k]! - sorted[k - 1]!) * p.tb;
    first = sorted[0]! * p.tb;
  } else {
    // no presentation timestamps: a constant-rate stream numbered by decoding order
    if (!p.dts.every((v, i) => v > NOPTS && (i === 0 || v > p.dts[i - 1]!))) return undefined;
    const t0 = await firstFrameTime(path, []);
    if (t0 === undefined) return undefined;
    start = t0 + (p.dts[k]! - p.dts[0]!) * p.tb;
    gap = (p.dts[k]! - p.dts[k - 1]!) * p.tb;
    first = t0;
  }
  if (!(gap > 0) || !Number.isFinite(start)) return undefined;
  const trimAt = start - gap / 2;
  const filter = `trim=start=${secs(trimAt)}`;
  const seekTo = Math.max(0, start - first - MARGIN_S);
  if (seekTo <= 0) return { inputArgs: ['-copyts'], filter, seekTo: 0 };
  const inputArgs = ['-ss', secs(seekTo), '-noaccurate_seek', '-copyts'];
  // where the seek lands: it must be before frame k, or frames would be lost
  const landed = await firstFrameTime(path, inputArgs.slice(0, 3));
  if (landed === undefined || !(landed < trimAt)) return undefined;
  return { inputArgs, filter, seekTo };
}
