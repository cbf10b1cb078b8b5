/**
 * Live inputs (#16 item 4): a video piped into stdin (`--set video=-`) gives the same masks as
 * the same file read from disk; a never-ending HTTP stream (an ffmpeg child looping the bundled
 * clip as MPEG-TS, served on 127.0.0.1 by this test) run with live segments and cut by SIGINT
 * keeps the segments it committed (playable, their frame counts checked by a separate ffmpeg
 * decode) and exits 130; a bad URL is one clear error naming it; --resume and --workers refuse
 * live inputs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CLI, ROOT, tempDir } from '../helpers.js';
import { ffmpegPath } from '../../src/core/video/io/ffmpeg.js';

const CLIP = join(ROOT, 'data', 'video', 'synthetic', 'clip.mp4');
const LIVE = join(ROOT, 'pipelines', 'video-live.yaml');
const W = 160, H = 120;

let tmp: ReturnType<typeof tempDir>;
let ts: string;
let server: Server | undefined;
const feeders = new Set<ChildProcess>();

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it in pretest)`);
  tmp = tempDir('svdflow-live-');
  // the bundled MP4 keeps its index at the end (not readable from a pipe): the same stream as MPEG-TS
  ts = join(tmp.dir, 'clip.ts');
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', CLIP, '-c', 'copy', '-f', 'mpegts', ts]);
  expect(r.status, String(r.stderr)).toBe(0);
});

afterAll(async () => {
  for (const f of feeders) f.kill('SIGKILL');
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  tmp?.cleanup();
});

interface Done { code: number | null; err: string }

function run(args: string[], opts: { stdin?: string; onErr?: (s: string) => void } = {}): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, [CLI, 'run', ...args, '--no-progress'], { cwd: tmp.dir, stdio: [opts.stdin ? openSync(opts.stdin, 'r') : 'ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const done = new Promise<Done>((resolve) => child.once('close', (code) => resolve({ code, err })));
  return { child, done };
}

/** Frames of a video file, decoded by ffmpeg on its own (an independent count). */
function frameCount(file: string): number {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 28 });
  expect(r.status, String(r.stderr)).toBe(0);
  expect(r.stdout.length % (W * H)).toBe(0);
  return r.stdout.length / (W * H);
}

/** Decoded mask frames (gray bytes) of a video. */
function frames(file: string): Buffer {
  return spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 28 }).stdout;
}

describe('live inputs', () => {
  it('stdin (--set video=-) gives the same masks, objects and foreground fractions as the file', async () => {
    const viaFile = run(['pipelines/video-background.yaml', '--set', `video=${ts}`, '--out', join(tmp.dir, 'file')].map((a) => (a.startsWith('pipelines/') ? join(ROOT, a) : a)));
    const f = await viaFile.done;
    expect(f.code, f.err).toBe(0);
    const viaPipe = run([join(ROOT, 'pipelines/video-background.yaml'), '--set', 'video=-', '--out', join(tmp.dir, 'pipe')], { stdin: ts });
    const p = await viaPipe.done;
    expect(p.code, p.err).toBe(0);
    for (const name of ['objects.jsonl', 'foreground.csv']) expect(readFileSync(join(tmp.dir, 'pipe', name), 'utf8')).toBe(readFileSync(join(tmp.dir, 'file', name), 'utf8'));
    const a = frames(join(tmp.dir, 'pipe', 'mask.mp4'));
    expect(a.length).toBe(120 * W * H);
    expect(a.equals(frames(join(tmp.dir, 'file', 'mask.mp4')))).toBe(true);
    // the whole stream arrived: 120 frames, numbered 0..119
    const lines = readFileSync(join(tmp.dir, 'pipe', 'objects.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(120);
    expect(JSON.parse(lines[119]!).frame).toBe(119);
  }, 120_000);

  it('a never-ending HTTP stream cut by SIGINT keeps the segments committed before it (exit 130)', async () => {
    server = createServer((req, res) => {
      // an ffmpeg-generated MPEG-TS stream that loops the clip forever, paced by the client's reading
      const feeder = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-stream_loop', '-1', '-i', CLIP, '-c', 'copy', '-f', 'mpegts', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
      feeders.add(feeder);
      feeder.once('close', () => feeders.delete(feeder));
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      feeder.stdout!.pipe(res);
      res.once('close', () => feeder.kill('SIGKILL'));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}/live.ts`;
    const out = join(tmp.dir, 'live');
    const N = 2;
    const r = run([LIVE, '--set', `video=${url}`, '--set', 'segmentFrames=40', '--out', out]);
    // wait (on the files, not a fixed time) until every writer's index lists N segments, then interrupt
    const index = (name: string) => (existsSync(join(out, name)) ? (JSON.parse(readFileSync(join(out, name), 'utf8')) as { complete: boolean; segments: Array<{ file: string; also?: string[]; firstFrame: number; frames: number }> }) : undefined);
    const names = ['mask.segments.json', 'background.segments.json', 'objects.segments.json'];
    let exited = false;
    void r.done.then(() => (exited = true));
    while (!exited && !names.every((n) => (index(n)?.segments.length ?? 0) >= N)) await new Promise((res) => setTimeout(res, 50));
    expect(exited, 'the run ended by itself on a never-ending stream').toBe(false);
    r.child.kill('SIGINT');
    const d = await r.done;
    expect(d.code, d.err).toBe(130);
    for (const n of names) {
      const idx = index(n)!;
      expect(idx.complete).toBe(false);
      expect(idx.segments.length).toBeGreaterThanOrEqual(N);
      idx.segments.forEach((s, k) => {
        expect(s.firstFrame).toBe(40 * k);
        expect(s.frames).toBe(40);
        expect(existsSync(join(out, s.file)), s.file).toBe(true);
      });
    }
    // the committed videos play and hold their 40 frames each (counted by a separate ffmpeg decode)
    for (const s of index('mask.segments.json')!.segments) expect(frameCount(join(out, s.file))).toBe(40);
    for (const s of index('background.segments.json')!.segments) expect(frameCount(join(out, s.file))).toBe(40);
    const seg0 = index('objects.segments.json')!.segments[0]!;
    const jl = readFileSync(join(out, seg0.file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { frame: number });
    expect(jl.map((l) => l.frame)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const csv = readFileSync(join(out, seg0.also![0]!), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('frame,foreground,objects');
    expect(csv.length).toBe(41);
    // no temporary file left behind (the open segments were removed)
    expect(readdirSync(out).filter((f) => f.includes('svdflow-tmp'))).toEqual([]);
  }, 120_000);

  it('a URL nobody serves is one clear error naming it (exit 1)', async () => {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const url = `tcp://127.0.0.1:${port}`;
    const d = await run([LIVE, '--set', `video=${url}`, '--out', join(tmp.dir, 'bad')]).done;
    expect(d.code).toBe(1);
    expect(d.err).toContain(`ffmpeg could not decode ${url}`);
    expect(d.err).toMatch(/Connection refused/i);
    expect(d.err).not.toMatch(/this is a bug|TypeError|at .*\.js:\d+/);
  }, 60_000);

  it('--resume and --workers refuse a live input before anything runs (exit 2)', async () => {
    const resume = await run([LIVE, '--set', 'video=-', '--out', join(tmp.dir, 'r'), '--resume']).done;
    expect(resume.code).toBe(2);
    expect(resume.err).toContain("--resume: step 'frames' reads the live stream - (stdin)");
    const workers = await run([LIVE, '--set', 'video=udp://127.0.0.1:9', '--out', join(tmp.dir, 'w'), '--workers', '2']).done;
    expect(workers.code).toBe(2);
    expect(workers.err).toContain("--workers needs a file to split, 'udp://127.0.0.1:9' is a live stream");
  }, 60_000);
});
