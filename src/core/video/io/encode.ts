/**
 * Encoding raw frames through ffmpeg's stdin. `write` resolves when the pipe
 * accepts more (write() returned true, or 'drain'), so a slow encoder slows the
 * producer instead of buffering frames in memory.
 */
import type { ChildProcess } from 'node:child_process';
import { ChildRegistry } from '../../children.js';
import { InputError } from '../../errors.js';
import { ffmpegEncoders, ffmpegPath, TailBuffer } from './ffmpeg.js';

export type Codec = 'h264' | 'mpeg4' | 'ffv1';

/** The codec actually available: H.264 needs libx264; otherwise MPEG-4 part 2. */
export function resolveCodec(codec: Codec): { codec: Codec; encoder: string; fallback: boolean } {
  if (codec === 'h264') {
    if (ffmpegEncoders().has('libx264')) return { codec, encoder: 'libx264', fallback: false };
    return { codec: 'mpeg4', encoder: 'mpeg4', fallback: true };
  }
  return { codec, encoder: codec, fallback: false };
}

export interface EncoderOptions {
  width: number;
  height: number;
  channels: 1 | 3;
  fps: number;
  /** output file (extension decides the container unless `format` is given) */
  path: string;
  codec: Codec;
  /** H.264 constant rate factor (0 = lossless) */
  crf: number;
  format?: string;
}

/**
 * The size a video of w x h is written at: H.264 and MPEG-4 part 2 here are 4:2:0 (chroma at half
 * the size), whose sizes must be even, so an odd side gains one column/row (a copy of the last:
 * ffmpeg's pad then fillborders smear); FFV1 keeps any size. (H.264's frame cropping cannot take
 * the column back: with 4:2:0 it crops in steps of 2.)
 */
export function encodedSize(w: number, h: number, codec: Codec): { width: number; height: number; padded: boolean } {
  if (codec === 'ffv1') return { width: w, height: h, padded: false };
  const W = w + (w % 2), H = h + (h % 2);
  return { width: W, height: H, padded: W !== w || H !== h };
}

export function encoderArgs(o: EncoderOptions): { args: string[]; encoder: string; fallback: boolean } {
  const c = resolveCodec(o.codec);
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', o.channels === 3 ? 'rgb24' : 'gray', '-s', `${o.width}x${o.height}`, '-r', String(o.fps || 25), '-i', 'pipe:0'];
  const even = o.width % 2 !== 0 || o.height % 2 !== 0;
  // the added column/row repeats the last one (a black line at the edge was what pad alone left)
  const padFilter = `pad=ceil(iw/2)*2:ceil(ih/2)*2,fillborders=right=${o.width % 2}:bottom=${o.height % 2}:mode=smear`;
  if (c.encoder === 'libx264') {
    if (even) args.push('-vf', padFilter);
    // ultrafast with CABAC back on: ultrafast's CAVLC spends 1.7-2.3x the CPU on continuous-tone
    // layers (background, frames) for a larger file at the same quality (vtest.avi background,
    // crf 20: 3.6 -> 1.6 ms/frame, 3.7 -> 2.2 MB, PSNR 49.7 -> 49.9 dB; the mask: 0.78 -> 0.64
    // ms/frame). And trellis=0: the options x264 gets here carry trellis=1 (its SEI says so with
    // or without cabac=1), which x264 only honours with CABAC, so cabac=1 alone turned trellis
    // quantisation on, ~40% of the encoder's CPU on a background layer for 25% fewer bytes
    // at the same PSNR (vtest.avi's 795 background frames, crf 20, CPU of ffmpeg: 1.36 -> 0.81
    // ms/frame, 1.11 -> 1.48 MB, 48.04 -> 47.99 dB; masks: 0.68 -> 0.62 ms/frame, 1.20 -> 1.25
    // MB, every pixel on the same side of 128 decoded back).
    // No B-frames: segments stay plain I/P streams that join by stream copy.
    args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-x264-params', 'cabac=1:trellis=0', '-crf', String(o.crf), '-pix_fmt', o.crf === 0 ? (o.channels === 3 ? 'yuv444p' : 'gray') : 'yuv420p', '-threads', '1');
  } else if (c.encoder === 'mpeg4') {
    if (even) args.push('-vf', padFilter);
    args.push('-c:v', 'mpeg4', '-q:v', '3', '-pix_fmt', 'yuv420p');
  } else {
    args.push('-c:v', 'ffv1');
  }
  args.push('-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact');
  if (o.format) args.push('-f', o.format);
  args.push(o.path);
  return { args, encoder: c.encoder, fallback: c.fallback };
}

export class VideoEncoder {
  private readonly child: ChildProcess;
  private readonly tail = new TailBuffer();
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private failure?: Error;
  readonly encoder: string;
  readonly fallback: boolean;
  frames = 0;

  constructor(
    private readonly o: EncoderOptions,
    spawn: (cmd: string, args: readonly string[]) => ChildProcess = (c, a) => new ChildRegistry().spawn(c, a),
  ) {
    const { args, encoder, fallback } = encoderArgs(o);
    this.encoder = encoder;
    this.fallback = fallback;
    this.child = spawn(ffmpegPath(), args);
    this.child.stdout?.resume();
    this.child.stderr?.on('data', (d: Buffer) => this.tail.push(d));
    this.child.stdin?.on('error', (e) => (this.failure ??= e));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => {
        this.failure ??= e;
        resolve({ code: -1, signal: null });
      });
      this.child.once('close', (code, signal) => resolve({ code, signal }));
    });
  }

  private error(what: string): InputError {
    return new InputError(`ffmpeg failed to encode ${this.o.path} (${what}): ${this.tail.lines() || this.failure?.message || 'no message'}`, 'check the codec and the output folder; set SVDFLOW_FFMPEG to another ffmpeg if this one lacks the encoder');
  }

  /** buffers the pipe has taken (write's callback), reused by buffer(): no allocation per frame */
  private readonly spare: Uint8Array[] = [];

  /** A frame buffer (width*height*channels bytes) to fill and give to write(frame, true), reused once the pipe has taken it. */
  buffer(): Uint8Array {
    const n = this.o.width * this.o.height * this.o.channels;
    const b = this.spare.pop();
    return b && b.length === n ? b : new Uint8Array(n);
  }

  /**
   * Writes one frame (width*height*channels bytes); resolves when the pipe can take more.
   * `recycle`: the frame came from buffer() and goes back to it when the pipe has taken it.
   */
  write(frame: Uint8Array, recycle = false): Promise<void> {
    const stdin = this.child.stdin!;
    if (this.failure || stdin.destroyed) return this.exited.then(() => Promise.reject(this.error('the encoder stopped')));
    this.frames++;
    const taken = recycle ? () => void (this.spare.length < 4 && this.spare.push(frame)) : undefined;
    if (stdin.write(frame, taken)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        stdin.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        stdin.off('drain', onDrain);
        void this.exited.then(() => reject(this.error('the encoder stopped')));
      };
      stdin.once('drain', onDrain);
      stdin.once('close', onClose);
    });
  }

  /** Closes stdin and waits for ffmpeg; throws with ffmpeg's message on failure. */
  async finish(): Promise<void> {
    this.child.stdin?.end();
    const { code, signal } = await this.exited;
    if (code !== 0) throw this.error(signal ? `killed by ${signal}` : `exit code ${code}`);
  }

  /** Stops ffmpeg at once (cancellation). */
  kill(): Promise<void> {
    return ChildRegistry.kill(this.child, 1000);
  }
}

/** Joins complete segment files into one (ffmpeg concat demuxer, stream copy). */
export async function concatSegments(
  segments: string[],
  listPath: string,
  out: string,
  format: string | undefined,
  spawn: (cmd: string, args: readonly string[]) => ChildProcess = (c, a) => new ChildRegistry().spawn(c, a),
): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(listPath, segments.map((s) => `file '${s.replaceAll("'", "'\\''")}'`).join('\n') + '\n');
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', listPath, '-c', 'copy', '-map_metadata', '-1', '-fflags', '+bitexact'];
  if (format) args.push('-f', format);
  args.push(out);
  const child = spawn(ffmpegPath(), args);
  child.stdin?.end();
  const tail = new TailBuffer();
  child.stderr?.on('data', (d: Buffer) => tail.push(d));
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (c) => resolve(c));
  });
  if (code !== 0) throw new InputError(`ffmpeg could not join the video segments into ${out}: ${tail.lines() || 'exit code ' + code}`, 'check free disk space and the output folder');
}
