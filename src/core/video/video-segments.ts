/**
 * How a streamed video is cut into segment files (pure; io/segmented-video.ts
 * does the encoding and the files).
 *
 * A video is encoded in segments of `segmentFrames` frames whose boundaries are
 * absolute frame numbers (k·segmentFrames), each kept once complete as
 * `seg-<start>-<end>.mkv` (end exclusive); the output is the segments joined by
 * stream copy. A resumed run re-encodes only what comes after the contiguous
 * segments already there, so it yields the same file.
 */
import { InputError } from '../errors.js';

export interface SegmentFile {
  /** first frame */
  start: number;
  /** one past the last frame */
  end: number;
  file: string;
}

const NAME = /^seg-(\d+)-(\d+)\.mkv$/;

export function segmentFileName(start: number, end: number): string {
  return `seg-${String(start).padStart(9, '0')}-${String(end).padStart(9, '0')}.mkv`;
}

/** The segment files among `names` (joined to `dir` with `join`), sorted by start. */
export function parseSegmentFiles(names: readonly string[], join: (name: string) => string): SegmentFile[] {
  return names
    .map((f) => NAME.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: Number(m[1]), end: Number(m[2]), file: join(m[0]) }))
    .sort((a, b) => a.start - b.start);
}

/** Throws when the pieces leave a gap or overlap (they are sorted by start). */
export function checkJoined(segs: readonly SegmentFile[], hint = 'run again without --resume'): void {
  for (let i = 1; i < segs.length; i++) {
    if (segs[i]!.start !== segs[i - 1]!.end) throw new InputError(`video segments do not join: ${segs[i - 1]!.end} then ${segs[i]!.start}`, hint);
  }
}

/** What the writer does with one frame. */
export type SegmentAction = { skip: true } | { skip: false; close: boolean; open: boolean };

/**
 * The segment state machine: frame by frame, whether to skip it (a resumed run
 * has it already), close the open segment (a boundary, or a gap in the numbers)
 * and open a new one.
 */
export class SegmentCursor {
  /** the open segment: first frame, next frame expected, boundary id */
  open?: { start: number; next: number; id: number };

  constructor(
    readonly segmentFrames: number,
    /** frames before this one are already in complete segments */
    readonly resumeNext = -Infinity,
  ) {}

  step(idx: number): SegmentAction {
    if (idx < this.resumeNext) return { skip: true };
    const id = this.segmentFrames > 0 ? Math.floor(idx / this.segmentFrames) : 0;
    const close = !!this.open && (id !== this.open.id || idx !== this.open.next);
    if (close) this.open = undefined;
    const open = !this.open;
    if (open) this.open = { start: idx, next: idx, id };
    this.open!.next = idx + 1;
    return { skip: false, close, open };
  }

  /** the open segment is closed (end of stream) */
  close(): void {
    this.open = undefined;
  }
}
