/**
 * Outputs of a run that may never end (a live stream): numbered segment files, each
 * committed atomically into the output folder as soon as it is complete and kept
 * whatever happens to the run (Ctrl-C, a stream error), plus a growing index a user can
 * follow. `mask.mp4` with 250 frames per segment gives `mask-00000.mp4`,
 * `mask-00001.mp4`, ... and `mask.segments.json`:
 *
 * ```json
 * { "complete": false, "segmentFrames": 250, "segments": [ { "file": "mask-00000.mp4", "firstFrame": 0, "frames": 250 } ] }
 * ```
 * `complete` turns true when the input ended and the last (shorter) segment is in.
 */
import type { ChildProcess } from 'node:child_process';
import { basename, dirname, extname, join } from 'node:path';
import type { OutputManager, PendingFile } from '../../outputs.js';
import type { FileRef } from '../../ports.js';
import { VideoEncoder, type Codec } from './encode.js';
import type { FrameShape } from './segmented-video.js';

/** `dir/stem.ext` -> `dir/stem-0000k.ext` */
export function liveSegmentName(rel: string, k: number, ext = extname(rel)): string {
  const stem = basename(rel, extname(rel));
  const name = `${stem}-${String(k).padStart(5, '0')}${ext}`;
  return dirname(rel) === '.' ? name : join(dirname(rel), name);
}

/** `dir/stem.ext` -> `dir/stem.segments.json` */
export function liveIndexName(rel: string): string {
  const name = `${basename(rel, extname(rel))}.segments.json`;
  return dirname(rel) === '.' ? name : join(dirname(rel), name);
}

export interface LiveSegment {
  /** file name(s) relative to the index's folder */
  file: string;
  /** other files of the same frames (write-objects' CSV) */
  also?: string[];
  firstFrame: number;
  frames: number;
}

/** The growing index of a step's segments, rewritten atomically after each one. */
export class LiveIndex {
  readonly segments: LiveSegment[] = [];
  constructor(
    private readonly outputs: OutputManager,
    private readonly step: string,
    /** the step's main output name (mask.mp4): the index is mask.segments.json beside it */
    private readonly rel: string,
    private readonly segmentFrames: number,
    private readonly fps?: number,
  ) {}

  private write(complete: boolean): Promise<FileRef> {
    const body = { complete, segmentFrames: this.segmentFrames, ...(this.fps ? { fps: this.fps } : {}), segments: this.segments };
    return this.outputs.publish(liveIndexName(this.rel), JSON.stringify(body, null, 1) + '\n', { step: this.step, format: 'json', description: `index of the ${basename(this.rel)} segments (${this.segments.length}${complete ? ', complete' : ', growing'})` });
  }

  add(s: LiveSegment): Promise<FileRef> {
    this.segments.push({ ...s, file: basename(s.file), ...(s.also ? { also: s.also.map((a) => basename(a)) } : {}) });
    return this.write(false);
  }

  /** The input ended: the index says so. */
  close(): Promise<FileRef> {
    return this.write(true);
  }
}

export interface LiveVideoOptions {
  outputs: OutputManager;
  step: string;
  rel: string;
  /** ffmpeg muxer of the segment files (from the extension) */
  format: string;
  segmentFrames: number;
  codec: Codec;
  crf: number;
  spawn: (cmd: string, args: readonly string[]) => ChildProcess;
  description: string;
}

/** A video written as playable segment files committed while the run goes on. */
export class LiveVideoWriter {
  private index?: LiveIndex;
  private enc?: VideoEncoder;
  private file?: PendingFile;
  private k = 0;
  private first = 0;
  private n = 0;

  constructor(private readonly o: LiveVideoOptions) {}

  /** Writes frame number `idx`; a segment is committed when it has segmentFrames frames. */
  async write(idx: number, bytes: (out: Uint8Array) => Uint8Array, shape: FrameShape): Promise<void> {
    this.index ??= new LiveIndex(this.o.outputs, this.o.step, this.o.rel, this.o.segmentFrames, shape.fps);
    if (!this.enc) {
      const rel = liveSegmentName(this.o.rel, this.k);
      this.file = await this.o.outputs.begin(rel, { step: this.o.step, format: extname(rel).slice(1), description: this.o.description }, true);
      this.enc = new VideoEncoder({ ...shape, path: this.file.tmpPath, codec: this.o.codec, crf: this.o.crf, format: this.o.format }, this.o.spawn);
      this.first = idx;
      this.n = 0;
    }
    const out = this.enc.buffer();
    const frame = bytes(out);
    await this.enc.write(frame, frame === out);
    if (++this.n === this.o.segmentFrames) await this.closeSegment();
  }

  private async closeSegment(): Promise<void> {
    const enc = this.enc!, file = this.file!;
    this.enc = undefined;
    this.file = undefined;
    try {
      await enc.finish();
    } catch (e) {
      await file.abort();
      throw e;
    }
    await file.commit();
    await this.index!.add({ file: liveSegmentName(this.o.rel, this.k), firstFrame: this.first, frames: this.n });
    this.k++;
  }

  /** The input ended: the last segment and the final index are committed; returns the index. */
  async complete(): Promise<FileRef | undefined> {
    if (this.enc) await this.closeSegment();
    return this.index?.close();
  }

  /** Stops the open segment's encoder and removes its partial file (cancellation); committed segments stay. */
  async kill(): Promise<void> {
    const enc = this.enc, file = this.file;
    this.enc = undefined;
    this.file = undefined;
    if (!enc) return;
    await enc.kill();
    await file?.abort();
  }
}

/**
 * Text segments (JSON Lines and CSV of the same frames): lines are kept in memory for
 * one segment (bounded by segmentFrames) and each file is written whole and committed
 * when the segment is full.
 */
export class LiveLineWriter {
  private readonly index: LiveIndex;
  private text: Record<string, string[]> = {};
  private k = 0;
  private first = 0;
  private n = 0;

  constructor(
    private readonly outputs: OutputManager,
    private readonly step: string,
    /** key -> output name (the first is the index's main file) */
    private readonly names: Record<string, string>,
    /** text that starts each file of this key (a CSV header) */
    private readonly headers: Record<string, string>,
    private readonly segmentFrames: number,
  ) {
    this.index = new LiveIndex(outputs, step, Object.values(names)[0]!, segmentFrames);
  }

  /** Adds one frame's line to each file. */
  async add(frame: number, lines: Record<string, string>): Promise<void> {
    if (this.n === 0) this.first = frame;
    for (const key of Object.keys(this.names)) (this.text[key] ??= []).push(lines[key] ?? '');
    if (++this.n === this.segmentFrames) await this.closeSegment();
  }

  private async closeSegment(): Promise<void> {
    const files: string[] = [];
    for (const [key, name] of Object.entries(this.names)) {
      const rel = liveSegmentName(name, this.k);
      await this.outputs.publish(rel, (this.headers[key] ?? '') + (this.text[key] ?? []).join(''), { step: this.step, format: extname(rel).slice(1), description: `frames ${this.first}-${this.first + this.n - 1}` });
      files.push(rel);
    }
    await this.index.add({ file: files[0]!, ...(files.length > 1 ? { also: files.slice(1) } : {}), firstFrame: this.first, frames: this.n });
    this.text = {};
    this.n = 0;
    this.k++;
  }

  /** The input ended: the last segment and the final index are committed. */
  async complete(): Promise<FileRef> {
    if (this.n > 0) await this.closeSegment();
    return this.index.close();
  }
}
