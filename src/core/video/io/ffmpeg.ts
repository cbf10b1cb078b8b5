/**
 * Where ffmpeg is, and what a video holds (parsed from `ffmpeg -i` stderr: the
 * npm ffmpeg has no ffprobe).
 *
 * Lookup order: $SVDFLOW_FFMPEG, then `ffmpeg` on PATH, then the binary of
 * `@ffmpeg-installer/ffmpeg` (a static ffmpeg 4.1: use `-vsync passthrough`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { InputError } from '../../errors.js';

let cached: string | undefined;

/** Absolute path (or command name) of the ffmpeg to use. */
export function ffmpegPath(): string {
  const env = process.env.SVDFLOW_FFMPEG;
  if (env) {
    if (!existsSync(env)) throw new InputError(`SVDFLOW_FFMPEG points to ${env}, which does not exist`, 'set SVDFLOW_FFMPEG to an ffmpeg binary, or unset it to use the bundled one');
    return env;
  }
  if (cached) return cached;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'ffmpeg');
    try {
      if (statSync(p).isFile()) return (cached = p);
    } catch {
      /* not here */
    }
  }
  try {
    const req = createRequire(import.meta.url);
    const p = (req('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    if (existsSync(p)) return (cached = p);
  } catch {
    /* not installed */
  }
  throw new InputError('ffmpeg was not found', 'install the npm package @ffmpeg-installer/ffmpeg, put ffmpeg on PATH, or set SVDFLOW_FFMPEG');
}

/** Encoders this ffmpeg offers (names), cached. */
let encoders: Set<string> | undefined;
export function ffmpegEncoders(): Set<string> {
  if (encoders) return encoders;
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  encoders = new Set();
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^\s[VAS][.A-Z]{5}\s+(\S+)/.exec(line);
    if (m) encoders.add(m[1]!);
  }
  return encoders;
}

export interface VideoInfo {
  width: number;
  height: number;
  /** frames per second (0 when unknown) */
  fps: number;
  /** seconds (0 when unknown) */
  duration: number;
  /** estimated frame count: round(duration * fps), 0 when unknown */
  frames: number;
  codec: string;
  pixFmt: string;
  /** the file has an audio stream */
  audio: boolean;
}

/** Parses the stderr of `ffmpeg -i FILE`; throws InputError with the reason when there is no video. */
export function parseProbe(stderr: string, file: string): VideoInfo {
  const video = /Stream #\d+:\d+.*?: Video: ([^,\s]+)[^,]*,\s*([a-z0-9_]+)(?:\([^)]*\))?,\s*(\d+)x(\d+)/.exec(stderr);
  if (!video) {
    const reason = lastMeaningfulLine(stderr, file);
    if (/No such file or directory/.test(stderr)) throw new InputError(`video file not found: ${file}`, 'check the path (relative paths are relative to the pipeline file)');
    if (/Input #\d/.test(stderr)) throw new InputError(`${file} has no video stream`, 'give a video file (e.g. .mp4, .avi) or an image sequence pattern such as input/in%06d.jpg');
    throw new InputError(`cannot read video ${file}: ${reason}`, 'the file is corrupt, truncated or not a video; check that it plays (e.g. with ffplay or VLC)');
  }
  const fpsM = /,\s*([\d.]+)\s*fps/.exec(stderr) ?? /,\s*([\d.]+)\s*tbr/.exec(stderr);
  const durM = /Duration:\s*(\d+):(\d+):([\d.]+)/.exec(stderr);
  const fps = fpsM ? Number(fpsM[1]) : 0;
  const duration = durM ? Number(durM[1]) * 3600 + Number(durM[2]) * 60 + Number(durM[3]) : 0;
  return {
    codec: video[1]!,
    pixFmt: video[2]!,
    width: Number(video[3]),
    height: Number(video[4]),
    fps,
    duration,
    frames: fps > 0 && duration > 0 ? Math.round(duration * fps) : 0,
    audio: /Stream #\d+:\d+.*?: Audio: /.test(stderr),
  };
}

function lastMeaningfulLine(stderr: string, file: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('At least one output file'));
  if (!lines.length) return 'ffmpeg gave no reason';
  return lines.slice(-2).map((l) => l.replace(file + ': ', '').replace(/^\[[^\]]+\]\s*/, '')).join('; ');
}

/** Probes a video (or an image-sequence pattern with `inputArgs` such as ['-start_number', '1']). */
export function probeVideo(file: string, inputArgs: string[] = []): Promise<VideoInfo> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', ...inputArgs, '-i', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (err.length < 65536) err += d;
    });
    child.once('error', (e) => reject(new InputError(`cannot start ffmpeg (${e.message})`, 'set SVDFLOW_FFMPEG to a working ffmpeg binary')));
    child.once('close', () => {
      try {
        resolve(parseProbe(err, file));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Keeps the last `max` characters of a stream (ffmpeg's stderr), for error messages. */
export class TailBuffer {
  private text = '';
  constructor(private readonly max = 4096) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  get value(): string {
    return this.text.slice(-this.max).trim();
  }
  /** the last few non-empty lines */
  lines(n = 3): string {
    return this.value.split('\n').map((l) => l.trim()).filter(Boolean).slice(-n).join(' | ');
  }
}
