/**
 * A video written as segment files in a checkpoint folder and joined at the end
 * (see ../video-segments.ts for the rule). Drives one ffmpeg encoder per open
 * segment; `resume` keeps the complete segments of an interrupted run.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { contiguousEnd } from '../resume.js';
import { SegmentCursor, checkJoined, parseSegmentFiles, segmentFileName, type SegmentFile } from '../video-segments.js';
import { PROGRESS_FILE, clearCheckpoints } from './checkpoints.js';
import { VideoEncoder, concatSegments, type Codec } from './encode.js';

export interface SegmentedVideoOptions {
  dir: string;
  segmentFrames: number;
  resume: boolean;
  codec: Codec;
  crf: number;
  spawn: (cmd: string, args: readonly string[]) => ChildProcess;
  /** atomic write of a small file (ctx.outputs.writeNow) */
  writeNow: (path: string, data: string) => Promise<unknown>;
}

export interface FrameShape {
  width: number;
  height: number;
  channels: 1 | 3;
  fps: number;
}

/** The complete segment files in `dir`, sorted by start. */
export function segmentFiles(dir: string): SegmentFile[] {
  return existsSync(dir) ? parseSegmentFiles(readdirSync(dir), (f) => join(dir, f)) : [];
}

export class SegmentedVideoWriter {
  private cursor?: SegmentCursor;
  private enc?: VideoEncoder;
  private part?: string;
  private closing?: { part: string; done: Promise<void> };

  constructor(private readonly o: SegmentedVideoOptions) {}

  private async start(first: number): Promise<SegmentCursor> {
    const { dir, resume } = this.o;
    if (!resume) clearCheckpoints(dir);
    await mkdir(dir, { recursive: true });
    // record where this writer stands before its first segment closes: the model keeps every
    // state a resume could need from here on (a model thread can run several checkpoints ahead
    // of a writer whose first segment is still open, and would otherwise prune them)
    if (!resume && this.o.segmentFrames > 0) await this.o.writeNow(join(dir, PROGRESS_FILE), JSON.stringify({ next: first }));
    return new SegmentCursor(this.o.segmentFrames, resume ? contiguousEnd(segmentFiles(dir)) : -Infinity);
  }

  /** Writes frame number `idx` (`bytes(out)`: the frame, made in `out` if it can; of `shape`); `alive()` false stops quietly (cancellation). */
  async write(idx: number, bytes: (out: Uint8Array) => Uint8Array, shape: FrameShape, alive: () => boolean = () => true): Promise<void> {
    const cursor = (this.cursor ??= await this.start(idx));
    const seg = cursor.open;
    const a = cursor.step(idx);
    if (a.skip) return;
    if (a.close && seg) await this.closeSegment(seg);
    if (!alive()) return;
    if (a.open) {
      this.part = join(this.o.dir, `part-${idx}.mkv`);
      this.enc = new VideoEncoder({ ...shape, path: this.part, codec: this.o.codec, crf: this.o.crf, format: 'matroska' }, this.o.spawn);
    }
    // the frame is made in a buffer the encoder reuses once its pipe has taken it
    const out = this.enc!.buffer();
    const frame = bytes(out);
    await this.enc!.write(frame, frame === out);
  }

  private async closeSegment(seg: { start: number; next: number }): Promise<void> {
    const enc = this.enc, part = this.part;
    this.enc = undefined;
    this.part = undefined;
    if (!enc || !part) return;
    // a kill while this segment is closing must still find its part file (see kill)
    this.closing = { part, done: enc.finish().then(() => rename(part, join(this.o.dir, segmentFileName(seg.start, seg.next)))) };
    try {
      await this.closing.done;
    } finally {
      this.closing = undefined;
    }
    if (this.o.segmentFrames > 0) await this.o.writeNow(join(this.o.dir, PROGRESS_FILE), JSON.stringify({ next: seg.next }));
  }

  /** Closes the open segment and checks that the segments join; returns their frame range. */
  async complete(): Promise<{ start: number; end: number }> {
    const seg = this.cursor?.open;
    this.cursor?.close();
    if (seg) await this.closeSegment(seg);
    const segs = segmentFiles(this.o.dir);
    if (!segs.length) throw new InputError('write-video received no frames', 'check the steps before it (decode range, background-model)');
    checkJoined(segs);
    return { start: segs[0]!.start, end: segs[segs.length - 1]!.end };
  }

  /** Joins the complete segments into `out` (stream copy, no re-encoding). */
  async join(out: string, format: string | undefined): Promise<void> {
    await concatSegments(segmentFiles(this.o.dir).map((s) => s.file), join(this.o.dir, 'segments.txt'), out, format, this.o.spawn);
  }

  /** Stops the encoder at once and removes its partial file (cancellation); resolves when both are done. */
  async kill(): Promise<void> {
    const enc = this.enc, part = this.part, closing = this.closing;
    if (enc) await enc.kill();
    if (part) await unlink(part).catch(() => undefined);
    // a segment that was closing when the run stopped: renamed if its encoder finished, else removed
    if (closing) {
      await closing.done.catch(() => undefined);
      await unlink(closing.part).catch(() => undefined);
    }
  }
}
