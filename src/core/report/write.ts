/**
 * Writes report.html into a run's output folder from its run.json and the files it
 * lists (JSON results for the headlines, small CSVs as tables), with a WebM preview
 * of each video (browsers such as Chromium builds without proprietary codecs cannot
 * play H.264), in `report-media/`. `svdflow report DIR` calls it on a finished folder;
 * every successful run calls it after run.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join, basename, extname, resolve } from 'node:path';
import { atomicWriteFile } from '../outputs.js';
import { InputError } from '../errors.js';
import { foregroundSummary, headlineResults } from '../headline.js';
import { ffmpegPath, ffmpegEncoders } from '../video/io/ffmpeg.js';
import { reportHtml, indexHtml, type Manifest, type ReportTable, type ReportVideo, type IndexEntry } from './page.js';

const VIDEO = /\.(mp4|mkv|mov|avi|webm)$/i;
export const MEDIA_DIR = 'report-media';
/** frames of a video that its preview keeps */
export const PREVIEW_FRAMES = 900;

export function readManifest(dir: string): Manifest {
  const p = join(dir, 'run.json');
  if (!existsSync(p)) throw new InputError(`${dir} has no run.json, so it is not the output folder of a finished run`, 'give the folder a run wrote (out/<pipeline>/), or run the pipeline first');
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Manifest;
  } catch (e) {
    throw new InputError(`${p} is not valid JSON: ${(e as Error).message}`, 'run the pipeline again to rewrite it');
  }
}

function run(cmd: string, args: string[], signal?: AbortSignal): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    c.stderr.on('data', (b) => (err = (err + b).slice(-2000)));
    c.on('error', rej);
    c.on('close', (code) => (code === 0 ? res() : rej(new Error(`ffmpeg exited with ${code}: ${err.trim().split('\n').at(-1)}`))));
  });
}

/** A small VP8 WebM of the first PREVIEW_FRAMES frames (at most 480 px wide), reused while newer than its source. */
async function preview(dir: string, rel: string, signal?: AbortSignal): Promise<ReportVideo['preview']> {
  const src = join(dir, rel);
  const out = join(MEDIA_DIR, `${basename(rel, extname(rel))}.preview.webm`);
  const dst = join(dir, out);
  if (existsSync(dst) && statSync(dst).mtimeMs >= statSync(src).mtimeMs) return out;
  if (!ffmpegEncoders().has('libvpx')) return undefined;
  await mkdir(join(dir, MEDIA_DIR), { recursive: true });
  const tmp = `${dst}.tmp-${process.pid}.webm`;
  try {
    await run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', src, '-frames:v', String(PREVIEW_FRAMES), '-vf', "scale='min(480,iw)':-2,format=yuv420p", '-c:v', 'libvpx', '-b:v', '600k', '-deadline', 'realtime', '-cpu-used', '8', '-an', tmp], signal);
    await rename(tmp, dst);
    return out;
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

function csvTable(dir: string, rel: string, maxRows = 40, maxCols = 14): ReportTable | undefined {
  const lines = readFileSync(join(dir, rel), 'utf8').trim().split('\n');
  if (lines.length < 2) return undefined;
  const split = (l: string) => l.split(',').map((c) => c.replace(/^"|"$/g, ''));
  const header = split(lines[0]!);
  if (header.length > maxCols) return undefined;
  const body = lines.slice(1);
  return { title: rel, file: rel, header, rows: body.slice(0, maxRows).map(split), more: body.length > maxRows ? body.length - maxRows : undefined };
}

function valuesTable(rel: string, v: Record<string, unknown>): ReportTable | undefined {
  const rows = Object.entries(v).filter(([, x]) => x === null || ['number', 'string', 'boolean'].includes(typeof x)).map(([k, x]) => [k, typeof x === 'number' ? String(Number(x.toPrecision(6))) : String(x)]);
  return rows.length ? { title: rel, file: rel, header: ['name', 'value'], rows } : undefined;
}

export interface WriteReportOptions {
  /** make WebM previews of the videos (default true) */
  previews?: boolean;
  signal?: AbortSignal;
  /** warnings (a preview that failed) */
  warn?: (msg: string) => void;
}

/** Builds and writes DIR/report.html; returns its path. */
export async function writeReport(dirIn: string, o: WriteReportOptions = {}): Promise<string> {
  const dir = resolve(dirIn);
  const m = readManifest(dir);
  const present = m.files.filter((f) => existsSync(join(dir, f.path)));
  const docs: unknown[] = [];
  const tables: ReportTable[] = [];
  for (const f of present) {
    if (/\.json$/i.test(f.path)) {
      try {
        const j = JSON.parse(readFileSync(join(dir, f.path), 'utf8')) as Record<string, unknown>;
        docs.push(j);
        if (j.kind !== 'Alignment') {
          const t = valuesTable(f.path, (j.values as Record<string, unknown> | undefined) ?? j);
          if (t) tables.push(t);
        }
      } catch {
        o.warn?.(`${f.path} is not valid JSON; left out of the report`);
      }
    } else if (/\.csv$/i.test(f.path)) {
      // write-objects' per-frame foreground: a headline of its own (a video run without ground truth has no scores)
      const fg = foregroundSummary(readFileSync(join(dir, f.path), 'utf8'), f.path);
      if (fg) docs.push(fg);
      if ((f.bytes ?? 0) < 200_000) {
        const t = csvTable(dir, f.path);
        if (t) tables.push(t);
      }
    }
  }
  const videos: ReportVideo[] = [];
  for (const f of present.filter((x) => VIDEO.test(x.path))) {
    const v: ReportVideo = { file: f };
    if (o.previews !== false && !/\.webm$/i.test(f.path)) {
      try {
        v.preview = await preview(dir, f.path, o.signal);
        v.previewNote = v.preview ? `the page plays a WebM preview (VP8, first ${PREVIEW_FRAMES} frames at most); the link is the full ${extname(f.path).slice(1)}` : 'no WebM encoder in this ffmpeg: the page offers the original only';
      } catch (e) {
        o.warn?.(`no preview of ${f.path}: ${(e as Error).message}`);
      }
    }
    videos.push(v);
  }
  const html = reportHtml({ manifest: { ...m, files: present }, headlines: headlineResults(docs), videos, tables });
  const out = join(dir, 'report.html');
  await atomicWriteFile(out, html);
  return out;
}

/** Writes BASE/index.html linking each run's report (relative links); returns its path. */
export async function writeIndex(baseIn: string, entries: IndexEntry[]): Promise<string> {
  const out = join(resolve(baseIn), 'index.html');
  await atomicWriteFile(out, indexHtml(entries));
  return out;
}
