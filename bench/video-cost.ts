/**
 * The per-frame cost breakdown of the video benchmark (bench/video.bench.ts), measured: each step
 * of the streaming pipeline timed on vtest.avi's frames. Run alone: npx tsx bench/video-cost.ts
 */
import { spawnSync } from 'node:child_process';
import { FramePass } from '../src/core/video/kernels/frame-pass.js';
import { StreamingBackground } from '../src/core/video/background.js';
import { layerBytes } from '../src/core/video/layers.js';
import { setCompactBackground } from '../src/core/video/background-layer.js';
import { ffmpegPath } from '../src/core/video/io/ffmpeg.js';
import { encoderArgs } from '../src/core/video/io/encode.js';
import { Matrix } from '../src/core/linalg/matrix.js';
import { IncrementalSvd } from '../src/core/linalg/incremental.js';
import { gramUpdate } from '../src/core/video/model-update.js';
import { seedFrames } from '../src/core/video/model-stream.js';
import type { FrameBatch } from '../src/core/ports.js';
import type { BenchRow } from './lib.js';

/** background-model's default seedWindow (src/stages/background-model.ts): the re-seed samples its frames over these */
const SEED_WINDOW = 150;

/**
 * Per-frame cost of each step on vtest.avi's frames (480x360 gray), timed here: ffmpeg's decode
 * and H.264 encode of the mask (child processes), the pixel kernels (WebAssembly SIMD, and their
 * TypeScript twin as the peer), the SVD update, and the main thread's layer-to-bytes conversion.
 */
export function costBreakdown(video: string, mog2Ms: number): { rows: BenchRow[]; note: string } {
  const w = 480, h = 360, d = w * h;
  const t0 = performance.now();
  const dec = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', video, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 28 });
  const decodeMs = (performance.now() - t0) / (dec.stdout.length / d);
  const raw = new Uint8Array(dec.stdout.buffer, dec.stdout.byteOffset, dec.stdout.length);
  const n = Math.floor(raw.length / d);
  const o = { width: w, height: h, channels: 1 as const, rank: 2, forget: 0.9, threshold: 0.12, adaptive: 0, open: 1, close: 4, robust: true, updateEvery: 3, modelScale: 0.5 as const };
  // a model fitted on the first 300 frames, as in a run
  const model = new StreamingBackground(o);
  for (let s = 0; s + 15 <= 300; s += 15) model.process(raw.subarray(s * d, (s + 15) * d), 15, false);
  const frames = Array.from({ length: 60 }, (_, i) => 300 + i);
  const steps = ['copy in', 'downsample', 'robust fit', 'background + residual + threshold', 'open 1 + close 4', 'mask to bytes + copy out', 'clean frame + downsample (every 3rd frame)'] as const;
  const time = (ts: boolean): Record<string, number> => {
    const p = new FramePass({ width: w, height: h, factor: 2, threshold: 0.12, open: 1, close: 4, robust: true, rank: 2, ts });
    p.setModel(model.muFull!, model.model!.mean, model.model!.Ut_.data, model.model!.Ut_.rows);
    const k = p.k, at = p.p;
    const u8 = new Uint8Array(k.buffer), mask = new Uint8Array(d);
    const acc: Record<string, number> = Object.fromEntries(steps.map((s) => [s, 0]));
    const tick = (name: string, fn: () => void) => { const a = performance.now(); fn(); acc[name]! += performance.now() - a; };
    for (let rep = 0; rep < 3; rep++) for (const i of frames) {
      tick('copy in', () => u8.set(raw.subarray(i * d, (i + 1) * d), at.X!));
      tick('downsample', () => k.downU8(w, h, 1, 2, at.X!, 1 / 255, at.ACC16!, at.XS!));
      tick('robust fit', () => k.fit(p.small, model.model!.Ut_.rows, at.XS!, at.MUS!, at.U!, 0.12, 1, at.COEF!, at.DEV!));
      tick('background + residual + threshold', () => k.bgMask(w, h, 2, at.MU!, at.DEV!, at.X!, 0.12, at.BITS!, at.BG!, at.ROW!, at.UP!, at.TY0!, at.TY1!, at.TWY!, at.TX0!, at.TX1!, at.TWX!));
      tick('open 1 + close 4', () => k.openClose(w, h, 1, 4, at.BITS!, at.TMP!));
      tick('mask to bytes + copy out', () => { k.unpack(w, h, at.BITS!, at.OUT!); mask.set(u8.subarray(at.OUT!, at.OUT! + d)); });
      if (i % 3 === 0) tick('clean frame + downsample (every 3rd frame)', () => { k.clean(w, h, at.X!, at.BG!, at.BITS!, at.CLEAN!, at.SUM!); k.downF32(w, h, 1, 2, at.CLEAN!, at.ACCF!, at.SMALL!); });
    }
    for (const s of steps) acc[s] = acc[s]! / (3 * frames.length);
    return acc;
  };
  time(false); // warm-up (JIT, memory)
  const wasm = time(false), twin = time(true);
  // SVD update: 5 clean frames per 15-frame batch at 240x180
  const blk = new Matrix(5, model.grid.size);
  const sm = new StreamingBackground(o);
  sm.process(raw.subarray(0, 15 * d), 15, false);
  for (let i = 0; i < blk.data.length; i++) blk.data[i] = raw[300 * d + Math.floor(i / model.grid.size) * d + (i % model.grid.size) * 2]! / 255;
  // what the model does (model-update.ts, the Gram form) and IncrementalSvd.update (LQ) on the same blocks
  let a = performance.now();
  for (let i = 0; i < 20; i++) gramUpdate(sm.model!, blk);
  const updateMs = (performance.now() - a) / 20 / 15;
  a = performance.now();
  for (let i = 0; i < 20; i++) IncrementalSvd.fromState(sm.model!.toState()).update(blk);
  const updateLqMs = (performance.now() - a) / 20 / 15;
  // the one-time warm-up of a re-seed: the model's seed frames (seedFrames: 45 here) spread over the
  // default seed window of 150, on the kernels (FramePass.warmUp), against the first
  // IncrementalSvd.update (LQ) of the same small frames alone (the step it replaced)
  const nSeed = seedFrames(SEED_WINDOW, d);
  const seed = new Uint8Array(nSeed * d);
  for (let i = 0; i < nSeed; i++) seed.set(raw.subarray(Math.floor((i * SEED_WINDOW) / nSeed) * d, (Math.floor((i * SEED_WINDOW) / nSeed) + 1) * d), i * d);
  const passOpts = { width: w, height: h, factor: 2, threshold: 0.12, open: 1, close: 4, robust: true, rank: 2 };
  new FramePass(passOpts).warmUp(seed, nSeed, 2);
  a = performance.now();
  for (let i = 0; i < 3; i++) new FramePass(passOpts).warmUp(seed, nSeed, 2);
  const seedMs = (performance.now() - a) / 3;
  const seedBlock = new Matrix(nSeed, model.grid.size);
  for (let i = 0; i < nSeed; i++) model.grid.down(seed, i * d, 1 / 255, seedBlock.data.subarray(i * model.grid.size, (i + 1) * model.grid.size));
  const lqSeed = () => new IncrementalSvd({ dim: model.grid.size, rank: 2, forget: 0.9, center: true }).update(seedBlock);
  lqSeed(); // JIT warm-up, as for the kernels above
  a = performance.now();
  lqSeed();
  const seedLqMs = performance.now() - a;
  // main thread: the layers as bytes for the encoders
  const batch: FrameBatch = { kind: 'FrameBatch', start: 0, count: 15, width: w, height: h, channels: 1, frames: raw.subarray(300 * d, 315 * d), mask: new Uint8Array(15 * d), background: new Float32Array(15 * d).fill(0.4) };
  const buf = new Uint8Array(d);
  const layerMs = (layer: 'mask' | 'background') => {
    for (let i = 0; i < 15; i++) layerBytes(batch, layer, i, buf);
    const b = performance.now();
    for (let r = 0; r < 4; r++) for (let i = 0; i < 15; i++) layerBytes(batch, layer, i, buf);
    return (performance.now() - b) / 60;
  };
  const maskBytesMs = layerMs('mask'), bgBytesF32Ms = layerMs('background');
  // what a run does: the background arrives compact (the batch mean + small deviations) and is made into bytes by FramePass.synth
  const compactModel = new StreamingBackground(o);
  for (let s = 0; s + 15 <= 300; s += 15) compactModel.process(raw.subarray(s * d, (s + 15) * d), 15, false);
  const cl = compactModel.process(raw.subarray(300 * d, 315 * d), 15, 'compact').compact!;
  const compactBatch: FrameBatch = { kind: 'FrameBatch', start: 300, count: 15, width: w, height: h, channels: 1, frames: raw.subarray(300 * d, 315 * d) };
  setCompactBackground(compactBatch, cl);
  for (let i = 0; i < 15; i++) layerBytes(compactBatch, 'background', i, buf);
  const bb = performance.now();
  for (let r = 0; r < 4; r++) for (let i = 0; i < 15; i++) layerBytes(compactBatch, 'background', i, buf);
  const bgBytesMs = (performance.now() - bb) / 60;
  // ffmpeg H.264 with write-video's own arguments (encode.ts: libx264 ultrafast + CABAC without trellis, crf 20) of
  // 300 real mask frames (0/255) and 300 real background frames, from a pipe
  const pm = new FramePass({ width: w, height: h, factor: 2, threshold: 0.12, open: 1, close: 4, robust: true, rank: 2 });
  pm.setModel(model.muFull!, model.model!.mean, model.model!.Ut_.data, model.model!.Ut_.rows);
  const masks = new Uint8Array(300 * d);
  for (let j = 0; j < 300; j++) pm.frame(raw, frames[j % frames.length]! * d, masks, j * d);
  for (let q = 0; q < masks.length; q++) masks[q] = masks[q]! * 255;
  const bgModel = new StreamingBackground(o);
  const bgs = new Uint8Array(300 * d);
  for (let s = 0; s + 15 <= Math.min(n, 600); s += 15) {
    const r = bgModel.process(raw.subarray(s * d, (s + 15) * d), 15, s >= 300);
    if (s < 300) continue;
    const b: FrameBatch = { kind: 'FrameBatch', start: s, count: 15, width: w, height: h, channels: 1, frames: raw.subarray(s * d, (s + 15) * d), mask: r.mask, background: r.background };
    for (let i = 0; i < 15; i++) layerBytes(b, 'background', i, bgs.subarray((s - 300 + i) * d, (s - 300 + i + 1) * d));
  }
  const encodeMs = (input: Uint8Array, cavlc = false) => {
    let { args } = encoderArgs({ width: w, height: h, channels: 1, fps: 10, path: '/dev/null', codec: 'h264', crf: 20, format: 'matroska' });
    // the comparison: plain ultrafast (CAVLC), what write-video used before
    if (cavlc) args = args.filter((a, i) => a !== '-x264-params' && args[i - 1] !== '-x264-params');
    const a = performance.now();
    spawnSync(ffmpegPath(), args, { input });
    return (performance.now() - a) / (input.length / d);
  };
  const encodeMaskMs = encodeMs(masks), encodeBgMs = encodeMs(bgs), encodeMaskCavlc = encodeMs(masks, true), encodeBgCavlc = encodeMs(bgs, true);
  const rows: BenchRow[] = [];
  const ms = 'ms per frame (measured here)';
  for (const s of steps) rows.push({ case: `per-frame cost: ${s} (kernels, WebAssembly SIMD)`, metric: ms, svdflow: wasm[s]!, peer: twin[s]!, peerName: 'TypeScript twin (same bits)', ratio: wasm[s]! / twin[s]! });
  const kernels = steps.reduce((t, s) => t + wasm[s]!, 0), kernelsTs = steps.reduce((t, s) => t + twin[s]!, 0);
  rows.push({ case: 'per-frame cost: all kernels of one frame', metric: ms, svdflow: kernels, peer: kernelsTs, peerName: 'TypeScript twin (same bits)', ratio: kernels / kernelsTs });
  rows.push({ case: 'per-frame cost: rank-2 SVD update, 5 frames per 15-frame batch (model thread, Gram form: model-update.ts)', metric: ms, svdflow: updateMs, peer: updateLqMs, peerName: 'IncrementalSvd.update (LQ route), same blocks', ratio: updateMs / updateLqMs });
  rows.push({ case: `one-time cost: re-seed warm-up of ${nSeed} frames on the kernels (median, masks, morphology, Gram-form SVD)`, metric: 'ms once per run (measured here)', svdflow: seedMs, peer: seedLqMs, peerName: `IncrementalSvd.update (LQ) of the same ${nSeed} small frames alone`, ratio: seedMs / seedLqMs });
  const other: Array<[string, number]> = [
    ['ffmpeg decode of vtest.avi to raw gray (child process)', decodeMs],
    ['mask as 0/255 bytes for the encoder (main thread)', maskBytesMs],
    ['background as bytes for the encoder (main thread, from the compact layer a run gets: FramePass.synth)', bgBytesMs],
    ['background as bytes from a Float32 layer (main thread; a batch whose Float32 background was read or set)', bgBytesF32Ms],
  ];
  for (const [layer, t, cavlc] of [['mask', encodeMaskMs, encodeMaskCavlc], ['background', encodeBgMs, encodeBgCavlc]] as const) {
    rows.push({ case: `per-frame cost: ffmpeg H.264 encode of a ${layer} frame (child process, write-video's arguments: ultrafast + CABAC, no trellis)`, metric: 'ms per frame (measured here, wall)', svdflow: t, peer: cavlc, peerName: 'plain ultrafast (CAVLC), same frames', ratio: t / cavlc });
  }
  for (const [c, v] of other) rows.push({ case: `per-frame cost: ${c}`, metric: ms, svdflow: v, peer: mog2Ms, peerName: 'OpenCV MOG2 whole frame (decode + apply + write)', ratio: v / mog2Ms });
  const model1 = kernels + updateMs;
  const note = `Per-frame cost breakdown (measured in this run on frames 300-359 of vtest.avi, model fitted on the first 300): the model thread's work is ${model1.toFixed(2)} ms/frame (kernels ${kernels.toFixed(2)} ms, their TypeScript twin ${kernelsTs.toFixed(2)} ms; SVD update ${updateMs.toFixed(2)} ms in the Gram form, ${updateLqMs.toFixed(2)} ms by IncrementalSvd.update\'s LQ route on the same blocks); the one-time re-seed warm-up of ${nSeed} frames takes ${seedMs.toFixed(0)} ms on the kernels (the LQ route\'s first SVD update of the same frames alone took ${seedLqMs.toFixed(0)} ms); the main thread's layer conversion ${maskBytesMs.toFixed(2)} ms (mask) + ${bgBytesMs.toFixed(2)} ms (background, from the compact layer; ${bgBytesF32Ms.toFixed(2)} ms from a Float32 one); ffmpeg decodes in ${decodeMs.toFixed(2)} ms and encodes a mask frame in ${encodeMaskMs.toFixed(2)} ms, a background frame in ${encodeBgMs.toFixed(2)} ms (write-video\'s arguments: libx264 ultrafast with CABAC, trellis off; plain ultrafast, CAVLC, takes ${encodeMaskCavlc.toFixed(2)} and ${encodeBgCavlc.toFixed(2)} ms on the same frames). MOG2 does the whole frame in ${mog2Ms.toFixed(2)} ms. With 2 cores these four streams of work (decoder, main thread, model thread, encoders) share two cores, so the end-to-end rate is bounded by their sum divided by 2 at best.`;
  return { rows, note };
}

if (process.argv[1]?.endsWith('video-cost.ts')) {
  const { rows, note } = costBreakdown(process.argv[2] ?? '../shared/data/video/vtest.avi', Number(process.argv[3] ?? 2.1));
  for (const r of rows) console.log(`${r.case}: ${r.svdflow.toFixed(3)} (${r.peerName} ${r.peer.toFixed(3)})`);
  console.log(note);
}

/**
 * Where an end-to-end run spends its CPU: the CLI run in a child process whose threads and
 * descendants are read from /proc every 10 ms (utime + stime, Linux only), in ms of CPU per frame.
 * `frames`: CPU between the decoder's start and the last encoder's end (the frames' window, what
 * the run's wall time is made of), by role: node's main thread; the model thread (the busiest node
 * thread besides main: no other one does per-frame work); node's other threads (V8's GC helpers
 * and compiler threads, libuv); the ffmpeg decoder (writes pipe:1); each ffmpeg encoder (reads
 * pipe:0) named by its write-video step. `outside`: CPU before and after that window (Node
 * start-up and module loading, joining segments, report.html's previews), all roles together.
 */
export async function cpuSplit(cmd: string, args: string[], frames: number): Promise<{ frames: Record<string, number>; outside: number } | undefined> {
  const { spawn } = await import('node:child_process');
  const { readFileSync, readdirSync, existsSync } = await import('node:fs');
  if (!existsSync('/proc/self/task')) return undefined;
  const c = spawn(cmd, args, { stdio: 'ignore' });
  const read = (f: string) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } };
  const tasks = (pid: number) => { try { return readdirSync(`/proc/${pid}/task`); } catch { return []; } };
  const tree = (pid: number): number[] => [pid, ...tasks(pid).flatMap((t) => read(`/proc/${pid}/task/${t}/children`).trim().split(/\s+/).filter(Boolean).map(Number)).flatMap(tree)];
  // a child is classified once its command line is ffmpeg's (right after fork it is still node's)
  const roles = new Map<number, string>();
  const roleOf = (pid: number): string | undefined => {
    if (pid === c.pid) return 'node';
    if (roles.has(pid)) return roles.get(pid);
    const a = read(`/proc/${pid}/cmdline`).split('\0');
    if (!/ffmpeg/.test(a[0] ?? '')) return undefined;
    const out = a[a.length - 2] ?? '';
    const step = /\.checkpoints\/([^/]+)\//.exec(out)?.[1];
    const role = a.includes('pipe:0') ? `ffmpeg encoder (${step ?? 'video'})` : a.includes('pipe:1') ? 'ffmpeg decoder' : 'ffmpeg other';
    roles.set(pid, role);
    return role;
  };
  const cpu = new Map<string, number>(); // "role|task" -> ms
  let atStart: Map<string, number> | undefined, atEnd: Map<string, number> | undefined;
  const poll = () => {
    let encoding = false;
    for (const pid of tree(c.pid!)) {
      const role = roleOf(pid);
      if (!role) continue;
      if (role.startsWith('ffmpeg encoder')) encoding = true;
      for (const t of tasks(pid)) {
        const st = read(`/proc/${pid}/task/${t}/stat`);
        if (!st) continue;
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        cpu.set(`${role === 'node' ? (Number(t) === pid ? 'node main thread' : 'node thread') : role}|${pid}/${t}`, (Number(f[11]) + Number(f[12])) * 10);
      }
      if (role === 'ffmpeg decoder' && !atStart) atStart = new Map(cpu);
    }
    if (encoding) atEnd = new Map(cpu);
  };
  const timer = setInterval(poll, 10);
  const code = await new Promise<number | null>((resolve) => c.once('exit', resolve));
  clearInterval(timer);
  if (code !== 0 || !atStart || !atEnd) return undefined;
  const inWindow = new Map<string, number>();
  for (const [k, v] of atEnd) inWindow.set(k, v - (atStart.get(k) ?? 0));
  const nodeThreads = [...inWindow.entries()].filter(([k]) => k.startsWith('node thread|')).sort((a, b) => b[1] - a[1]);
  const out: Record<string, number> = {};
  const add = (role: string, ms: number) => (out[role] = (out[role] ?? 0) + ms / frames);
  for (const [k, v] of inWindow) if (!k.startsWith('node thread|')) add(k.split('|')[0]!, v);
  if (nodeThreads[0]) add('node model thread (its busiest thread besides main)', nodeThreads[0][1]);
  for (const [, v] of nodeThreads.slice(1)) add('node other threads (V8 GC helpers and compilers, libuv)', v);
  let all = 0;
  for (const v of cpu.values()) all += v;
  const framesTotal = Object.values(out).reduce((a, b) => a + b, 0);
  return { frames: out, outside: all / frames - framesTotal };
}
