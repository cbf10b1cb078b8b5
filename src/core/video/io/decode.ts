/**
 * Decoding with backpressure: ffmpeg writes raw frames (`-f rawvideo -pix_fmt
 * gray|rgb24`) to its stdout; `fromReadable` pauses that stream while the run's
 * valve is closed, so the OS pipe fills and ffmpeg blocks. Chunks are sliced
 * into frames with at most one partial frame buffered: memory does not depend
 * on the video's length or on how slow the consumer is.
 */
import { Observable } from 'rxjs';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fromReadable, type FlowControl } from '../../flow.js';
import { ChildRegistry } from '../../children.js';
import { InputError } from '../../errors.js';
import type { Frame } from '../../ports.js';
import { ffmpegPath, probeVideo, TailBuffer, type VideoInfo } from './ffmpeg.js';
import { isSequencePattern } from '../sequence.js';
import { scanSequence } from './sequence-files.js';
import { aviHeaderFrames } from './container.js';
import { isUrl } from '../../confine.js';
import { threadCounts } from '../../threads.js';
import { planSeek } from './seek.js';
import { unfilledBytes } from '../alloc.js';

/** Frames per decoding slab: batch-frames' default batch size (a batch of a slab's frames is a view, not a copy). */
export const SLAB_FRAMES = 15;

/** A live input: `-` (stdin) or a URL that ffmpeg reads (http://, rtsp://, udp://, tcp://...). No probe, no frame count, no seeking. */
export function isLiveInput(path: string): boolean {
  return path === '-' || isUrl(path);
}

/** How a live input is named in messages. */
export function liveName(path: string): string {
  return path === '-' ? 'stdin (-)' : path;
}

export interface DecodeOptions {
  /** a video file, or an image-sequence pattern such as input/in%06d.jpg */
  path: string;
  color: 'gray' | 'rgb';
  /** resize factor applied after cropping */
  scale?: number;
  crop?: { x: number; y: number; width: number; height: number };
  /** resample to this frame rate */
  fps?: number;
  /** first and last frame (inclusive) by source number: file number for sequences, 0-based for videos */
  start?: number;
  end?: number;
  /** play the input this many extra times (ffmpeg -stream_loop) */
  loop?: number;
  /**
   * Only frames [start, end) of the output numbering (Frame.index), end null = to the
   * end: one segment of a long video. Image sequences seek by file number, video files by
   * the timestamp of their first frame (io/seek.ts, frame-exact); looped or resampled
   * inputs (and files whose timestamps do not allow it) are cut with ffmpeg's trim filter.
   */
  window?: { start: number; end: number | null };
}

export interface DecodePlan {
  args: string[];
  width: number;
  height: number;
  channels: 1 | 3;
  /** Frame.index of the first frame */
  firstIndex: number;
  /** expected frame count (0 when unknown) */
  expected: number;
  /** the expected count is exact (an image sequence without frame-rate resampling) */
  exactCount: boolean;
  /** a live input (stdin or a URL): width, height and fps are 0 until ffmpeg reports its output stream */
  live: boolean;
  fps: number;
  info: VideoInfo;
  sequence: boolean;
}

/** The decoder's and filters' threads: the process's thread budget (src/core/threads.ts). */
function budgetArgs(): string[] {
  const n = String(threadCounts().decoder);
  return ['-filter_threads', n, '-threads', n];
}

/** Probes the input and builds the ffmpeg arguments; throws InputError for bad paths, crops and ranges. */
export async function planDecode(o: DecodeOptions): Promise<DecodePlan> {
  if (isLiveInput(o.path)) return planLive(o);
  const w = o.window;
  if (w && !(o.loop ?? 0) && !o.fps) {
    // plain input: the window is a start/end range in source numbers (a real seek for sequences)
    const end = w.end === null ? o.end : Math.min(o.end ?? Infinity, w.end - 1);
    return planDecode({ ...o, window: undefined, start: Math.max(o.start ?? 0, w.start), end });
  }
  const sequence = isSequencePattern(o.path);
  const inputArgs: string[] = [];
  let firstNumber = 0;
  let available = 0;
  if (sequence) {
    const seq = scanSequence(o.path);
    firstNumber = seq.first;
    available = seq.count;
    const start = Math.max(o.start ?? seq.first, seq.first);
    if (start > seq.last) throw new InputError(`start ${start} is after the last frame ${seq.last} of ${o.path}`, `choose start between ${seq.first} and ${seq.last}`);
    inputArgs.push('-f', 'image2', '-start_number', String(start));
    available = seq.last - start + 1;
    firstNumber = start;
  } else if (!existsSync(o.path)) {
    throw new InputError(`video file not found: ${o.path}`, 'check the path (relative paths are relative to the pipeline file)');
  }
  const probed = await probeVideo(o.path, inputArgs);
  // ffmpeg estimates an index-less AVI's duration from its size, so a file cut short looks whole;
  // its header states the frame count it was written with (a short stream is then reported)
  const announced = sequence ? undefined : aviHeaderFrames(o.path);
  const info = announced !== undefined && announced > probed.frames ? { ...probed, frames: announced } : probed;
  if (!sequence) available = info.frames;
  const filters: string[] = [];
  const first = sequence ? firstNumber : Math.max(0, o.start ?? 0);
  if (!sequence && first > 0) {
    if (info.frames && first >= info.frames) throw new InputError(`start ${first} is after the last frame (${info.frames - 1}) of ${o.path}`, `choose start below ${info.frames}`);
    // seek to the keyframe before `first` when the file's timestamps allow it (seek.ts), else decode and count
    const seek = await planSeek(o.path, first);
    if (seek) inputArgs.push(...seek.inputArgs);
    filters.push(seek ? seek.filter : `trim=start_frame=${first}`, 'setpts=PTS-STARTPTS');
    available = Math.max(0, available - first);
  }
  let count = available;
  if (o.end !== undefined) {
    if (o.end < first) throw new InputError(`end ${o.end} is before start ${first}`, 'set end >= start');
    count = available ? Math.min(available, o.end - first + 1) : o.end - first + 1;
  }
  let fps = info.fps;
  if (o.fps) {
    filters.push(`fps=${o.fps}`);
    if (count && info.fps) count = Math.round((count * o.fps) / info.fps);
    fps = o.fps;
  }
  let loops = o.loop ?? 0;
  let total = count * (loops + 1);
  let firstIndex = first;
  if (w) {
    // looped or resampled: cut the output stream frame-exactly (frames before the window are decoded and dropped)
    const from = Math.max(0, w.start - first);
    const to = w.end === null ? undefined : w.end - first;
    // a looped image sequence has exactly `count` frames per pass: whole passes before the window are not
    // played at all (fewer -stream_loop), so at most one pass is decoded and dropped, not every frame before it
    const skip = sequence && !o.fps && count > 0 ? Math.min(loops, Math.floor(from / count)) : 0;
    loops -= skip;
    const cut = skip * count;
    filters.push(`trim=start_frame=${from - cut}${to !== undefined ? `:end_frame=${to - cut}` : ''}`, 'setpts=PTS-STARTPTS');
    firstIndex = first + from;
    total = to !== undefined ? Math.max(0, to - from) : Math.max(0, total - from);
  }
  let width = info.width;
  let height = info.height;
  if (o.crop) {
    const c = o.crop;
    if (c.x + c.width > width || c.y + c.height > height) {
      throw new InputError(`crop ${c.width}x${c.height}+${c.x}+${c.y} does not fit in the ${width}x${height} frames of ${o.path}`, `keep x + width <= ${width} and y + height <= ${height}`);
    }
    filters.push(`crop=${c.width}:${c.height}:${c.x}:${c.y}`);
    width = c.width;
    height = c.height;
  }
  if (o.scale && o.scale !== 1) {
    const sw = Math.max(1, Math.round(width * o.scale));
    const sh = Math.max(1, Math.round(height * o.scale));
    filters.push(`scale=${sw}:${sh}:flags=area`);
    width = sw;
    height = sh;
  }
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', ...budgetArgs()];
  if (loops > 0) args.push('-stream_loop', String(loops));
  args.push(...inputArgs, '-i', o.path, '-an', '-sn', '-vsync', 'passthrough');
  if (filters.length) args.push('-vf', filters.join(','));
  if (o.end !== undefined || (w && w.end !== null)) args.push('-frames:v', String(total));
  const channels = o.color === 'rgb' ? 3 : 1;
  args.push('-f', 'rawvideo', '-pix_fmt', channels === 3 ? 'rgb24' : 'gray', 'pipe:1');
  return { args, width, height, channels, firstIndex, expected: total, exactCount: !!sequence && !o.fps && !w, fps, info, sequence, live: false };
}

/**
 * A live input is read once, by the decoding ffmpeg itself (a probe would consume stdin or
 * the stream): the frame size comes from the output stream ffmpeg reports on stderr, crop and
 * scale are ffmpeg expressions (same rounding as for files), and the frame count is unknown.
 */
function planLive(o: DecodeOptions): DecodePlan {
  const name = liveName(o.path);
  if (o.loop) throw new InputError(`loop needs a file: ${name} is a live stream that can be read only once`, 'remove loop, or save the stream to a file first');
  if (o.window) throw new InputError(`${name} is a live stream and cannot be split into segments`, 'run it with --workers 1');
  const first = o.start ?? 0;
  if (o.end !== undefined && o.end < first) throw new InputError(`end ${o.end} is before start ${first}`, 'set end >= start');
  const filters: string[] = [];
  if (first > 0) filters.push(`trim=start_frame=${first}`, 'setpts=PTS-STARTPTS');
  if (o.fps) filters.push(`fps=${o.fps}`);
  if (o.crop) filters.push(`crop=${o.crop.width}:${o.crop.height}:${o.crop.x}:${o.crop.y}`);
  if (o.scale && o.scale !== 1) filters.push(`scale='max(1,round(iw*${o.scale}))':'max(1,round(ih*${o.scale}))':flags=area`);
  // -loglevel info: the stream lines give the frame size; errors still come last (TailBuffer)
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', ...budgetArgs()];
  if (o.path !== '-') args.push('-rw_timeout', String(LIVE_TIMEOUT_US));
  args.push('-i', o.path === '-' ? 'pipe:0' : o.path, '-an', '-sn', '-vsync', 'passthrough');
  if (filters.length) args.push('-vf', filters.join(','));
  if (o.end !== undefined) args.push('-frames:v', String(o.end - first + 1));
  const channels = o.color === 'rgb' ? 3 : 1;
  args.push('-f', 'rawvideo', '-pix_fmt', channels === 3 ? 'rgb24' : 'gray', 'pipe:1');
  const info: VideoInfo = { width: 0, height: 0, fps: 0, duration: 0, frames: 0, codec: 'unknown (live)', pixFmt: '', audio: false };
  return { args, width: 0, height: 0, channels, firstIndex: first, expected: 0, exactCount: false, fps: 0, info, sequence: false, live: true };
}

/** What to do when a live input fails, from ffmpeg's message. */
function liveHint(path: string, stderr: string): string {
  if (path === '-') {
    if (/moov atom not found/.test(stderr)) return 'this MP4 keeps its index at the end and cannot be read from a pipe: remux it with ffmpeg -movflags +faststart, or pipe MPEG-TS/Matroska (ffmpeg ... -f mpegts -)';
    return 'pipe a video stream into svdflow (e.g. ffmpeg -i IN -c copy -f mpegts - | svdflow run ... --set video=-)';
  }
  if (/Connection refused|Connection timed out|timed out|Immediate exit requested|No route to host|Name or service not known|Invalid data|Server returned/i.test(stderr)) return `check that the stream ${path} is being served and reachable from here`;
  return `check the URL ${path} (a scheme ffmpeg reads: http://, https://, rtsp://, udp://, tcp://, rtmp://)`;
}

/** A network stream that sends nothing for this long is an error (microseconds, ffmpeg's -rw_timeout). */
const LIVE_TIMEOUT_US = 20_000_000;

/** The raw output stream ffmpeg reports on stderr: `Output #0, rawvideo ... Stream #0:0: Video: rawvideo (...), gray, 80x60, ..., 25 fps`. */
export function parseRawOutput(stderr: string): { width: number; height: number; fps: number } | undefined {
  const at = stderr.indexOf('Output #0');
  if (at < 0) return undefined;
  const m = /Stream #\d+:\d+[^\n]*?: Video: rawvideo[^\n]*?, (?:gray|rgb24)[^,\n]*, (\d+)x(\d+)([^\n]*)\n/.exec(stderr.slice(at));
  if (!m) return undefined;
  const fps = /,\s*([\d.]+)\s*fps/.exec(m[3]!) ?? /,\s*([\d.]+)\s*tbr/.exec(m[3]!);
  return { width: Number(m[1]), height: Number(m[2]), fps: fps ? Number(fps[1]) : 0 };
}

export interface DecodeDeps {
  flow?: FlowControl;
  /** spawns ffmpeg (pass ctx.children.spawn so that cancellation kills it) */
  spawn?: (cmd: string, args: readonly string[]) => ChildProcess;
}

/**
 * Emits the frames of a planned decode. Errors: ffmpeg failing (with its last
 * stderr lines), a truncated stream, or no frame at all. Unsubscribing kills ffmpeg.
 */
export function decodeFrames(plan: DecodePlan, path: string, deps: DecodeDeps = {}): Observable<Frame> {
  const spawn = deps.spawn ?? ((c: string, a: readonly string[]) => new ChildRegistry().spawn(c, a));
  return new Observable<Frame>((subscriber) => {
    // a live input learns its frame size from ffmpeg's stderr: chunks wait until then
    let size: { width: number; height: number; fps: number } | undefined = plan.live ? undefined : plan;
    let frameBytes = plan.width * plan.height * plan.channels;
    const child = spawn(ffmpegPath(), plan.args);
    const fromStdin = plan.live && path === '-';
    if (fromStdin) {
      child.stdin?.on('error', () => undefined); // ffmpeg stopped reading (its own error is reported)
      process.stdin.pipe(child.stdin!);
    } else child.stdin?.end();
    const tail = new TailBuffer();
    let header = '';
    const waiting: Buffer[] = [];
    child.stderr?.on('data', (d: Buffer) => {
      tail.push(d);
      if (size) return;
      if (header.length < 65536) header += d.toString();
      const found = parseRawOutput(header);
      if (!found) return;
      size = found;
      frameBytes = found.width * found.height * plan.channels;
      slab = undefined;
      cur = nextFrame();
      for (const c of waiting.splice(0)) if (!take(c)) return;
    });
    // frames are consecutive views into slabs of SLAB_FRAMES frames (one allocation each), so that
    // batch-frames, at its default size, takes a slab's frames as its batch without copying them
    let slab: { buf: Uint8Array; used: number } | undefined;
    const nextFrame = (): Uint8Array => {
      if (!slab || slab.used === SLAB_FRAMES) slab = { buf: unfilledBytes(SLAB_FRAMES * frameBytes), used: 0 };
      return slab.buf.subarray(slab.used * frameBytes, ++slab.used * frameBytes);
    };
    let cur = nextFrame();
    let fill = 0;
    let n = 0;
    let ended = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const where = plan.live ? liveName(path) : path;
    const finish = () => {
      if (!ended || !exited || subscriber.closed) return;
      const { code, signal } = exited;
      if (code !== 0) {
        subscriber.error(new InputError(`ffmpeg could not decode ${where} (${signal ? 'killed by ' + signal : 'exit code ' + code}): ${tail.lines() || 'no message'}`, plan.live ? liveHint(path, tail.value) : 'the file is corrupt, truncated or not a video; check that it plays'));
      } else if (!size && waiting.length) {
        subscriber.error(new InputError(`ffmpeg decoded ${where} but did not report the frame size (its messages: ${tail.lines()})`, 'set SVDFLOW_FFMPEG to another ffmpeg build'));
      } else if (fill !== 0) {
        subscriber.error(new InputError(`${where}: the decoded stream ended inside a frame (${fill} of ${frameBytes} bytes)`, 'the file is truncated or corrupt; re-encode or re-download it'));
      } else if (n === 0) {
        subscriber.error(new InputError(`${where} has no frames${tail.value ? ': ' + tail.lines() : ''}`, plan.live ? liveHint(path, tail.value) : 'check the file and the start/end range'));
      } else if (plan.exactCount && plan.expected > 0 && n < plan.expected) {
        // the files were counted when the run started: fewer frames means files went missing or unreadable
        subscriber.error(new InputError(`${path}: the image sequence ended after ${n} of its ${plan.expected} frames${tail.value ? ` (ffmpeg: ${tail.lines(2)})` : ''}`, 'files were removed or became unreadable during the run; restore them and run again (with --resume to continue)'));
      } else if (!plan.sequence && plan.expected > 0 && n < plan.expected - Math.max(2, Math.ceil(plan.expected * 0.02))) {
        subscriber.error(new InputError(`${path} is truncated or corrupt: decoded ${n} frames, its header announces ${plan.expected}${tail.value ? ` (ffmpeg: ${tail.lines(2)})` : ''}`, 'repair or re-download the file, or set end to the last good frame'));
      } else subscriber.complete();
    };
    /** slices a chunk into frames; false when the subscriber has gone */
    const take = (chunk: Buffer): boolean => {
      if (!size) {
        waiting.push(chunk);
        return true;
      }
      let off = 0;
      while (off < chunk.length) {
        const k = Math.min(frameBytes - fill, chunk.length - off);
        cur.set(chunk.subarray(off, off + k), fill);
        fill += k;
        off += k;
        if (fill === frameBytes) {
          const frame: Frame = { kind: 'Frame', index: plan.firstIndex + n, width: size.width, height: size.height, channels: plan.channels, data: cur };
          if (plan.live && size.fps) frame.fps = size.fps;
          n++;
          cur = nextFrame();
          fill = 0;
          subscriber.next(frame);
          if (subscriber.closed) return false;
        }
      }
      return true;
    };
    child.once('error', (e) => subscriber.error(new InputError(`cannot start ffmpeg (${e.message})`, 'set SVDFLOW_FFMPEG to a working ffmpeg binary')));
    child.once('close', (code, signal) => {
      exited = { code, signal };
      finish();
    });
    const sub = fromReadable(child.stdout!, deps.flow).subscribe({
      next: (chunk) => void take(chunk),
      error: (e) => subscriber.error(e),
      complete: () => {
        ended = true;
        finish();
      },
    });
    return () => {
      if (fromStdin) process.stdin.unpipe(child.stdin!);
      sub.unsubscribe();
      if (child.exitCode === null && child.signalCode === null) void ChildRegistry.kill(child, 1000);
    };
  });
}
