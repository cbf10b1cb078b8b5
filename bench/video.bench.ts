/**
 * Video background removal: svdflow's streaming pipeline (decode → batch-frames →
 * background-model → write-video) against OpenCV MOG2, a temporal median and
 * scikit-learn IncrementalPCA, in the same run. Quality: CDnet F-measure (highway,
 * CAVIAR2). Speed: end-to-end frames/s on vtest.avi (480x360), median of 3 runs, for the
 * masks only and for the default outputs (mask + background H.264), and the same without the
 * model thread and without WebAssembly. Memory: peak RSS of the CLI for 1 pass vs 10 passes
 * (-stream_loop 9). Per-frame cost breakdown: each step timed by this benchmark on vtest.avi's
 * frames (the kernels against their TypeScript twin). The load average is recorded with the numbers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR, ROOT, report, runPeer, sharedData, type BenchRow } from './lib.js';
import { costBreakdown, cpuSplit } from './video-cost.js';

const shared = sharedData('');
if (!shared || !sharedData('video/vtest.avi') || !sharedData('cdnet/highway')) process.exit(0);
const tmp = join(OUT_DIR, 'video-tmp');
mkdirSync(tmp, { recursive: true });
const CLI = join(ROOT, 'dist/src/cli/main.js');
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
const load0 = loadavg();

function pipeline(name: string, input: string, model: string, tail: string): string {
  const f = join(tmp, `${name}.yaml`);
  writeFileSync(f, `name: ${name}\nsteps:\n  - { id: frames, stage: decode, params: { path: "${input}", color: gray } }\n  - { id: batches, stage: batch-frames, params: { size: 15 } }\n  - { id: model, stage: background-model, params: ${model} }\n${tail}`);
  return f;
}
function run(file: string, set: string[] = [], env: Record<string, string> = {}, extra: string[] = []): { durationMs: number; peakRssMiB: number; out: string } {
  const out = join(tmp, 'out-' + file.split('/').pop()!.replace('.yaml', '') + (extra.length ? '-' + extra.join('') : ''));
  const r = spawnSync('node', [CLI, 'run', file, '--out', out, '--no-progress', ...set.flatMap((s) => ['--set', s]), ...extra], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`svdflow run failed: ${r.stderr}`);
  const m = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { durationMs: number; peakRssMiB: number };
  return { ...m, out };
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

const peer = runPeer<Record<string, number>>('video.py', [shared]);
const rows: BenchRow[] = [];
// the stage's defaults: rank 2, forget 0.9, threshold 0.12, open 1, close 4, robust, modelScale 0.5, updateEvery 3, background emitted
const MODEL = '{ checkpointEvery: 0 }';
// F before the kernels (same algorithm in f64 TypeScript), unrounded: the "no loss" goals
const onePassF: Record<string, number> = {};
const fFiles: Record<string, string> = {};
for (const [seq, before] of [['highway', 0.899036], ['CAVIAR2', 0.882718]] as const) {
  const f = (fFiles[seq] = pipeline(`f-${seq}`, `${shared}/cdnet/${seq}/input/in%06d.jpg`, MODEL, `  - { id: scores, stage: evaluate-masks, input: model, params: { groundTruth: "${shared}/cdnet/${seq}", print: false } }\n`));
  const F = (onePassF[seq] = JSON.parse(readFileSync(join(run(f).out, 'scores.json'), 'utf8')).fMeasure as number);
  rows.push({ case: `${seq} streaming (defaults)`, metric: 'F-measure', svdflow: F, peer: peer[`${seq}_mog2_F`]!, peerName: 'OpenCV MOG2', ratio: F / peer[`${seq}_mog2_F`]!, goal: `no loss: >= ${before.toFixed(4)}`, met: F >= before - 5e-7 });
  rows.push({ case: `${seq} streaming (defaults)`, metric: 'F-measure', svdflow: F, peer: peer[`${seq}_median_F`]!, peerName: 'temporal median (31 frames)', ratio: F / peer[`${seq}_median_F`]! });
}
const vt = `${shared}/video/vtest.avi`;
const N = 795;
const writeMask = '  - { id: mask, stage: write-video, input: model, params: { layer: mask, path: mask.mp4, segmentFrames: 0 } }\n';
const writeBg = '  - { id: background, stage: write-video, input: model, params: { layer: background, path: background.mp4, segmentFrames: 0 } }\n';
const masksOnly = pipeline('speed-masks', vt, '{ checkpointEvery: 0, background: false }', writeMask);
const defaults = pipeline('speed-defaults', vt, MODEL, writeMask + writeBg);
const mog2 = peer.vtest_mog2_fps!;
const speeds: Array<[string, string, Record<string, string>, string?, number?]> = [
  ['480x360, masks only (background: false), mask H.264', masksOnly, {}, '>= 1.0x MOG2', 1.0],
  ['480x360, default outputs (mask + background H.264)', defaults, {}, '>= 0.7x MOG2', 0.7],
  ['480x360, masks only, model on the main thread (SVDFLOW_THREADS=0)', masksOnly, { SVDFLOW_THREADS: '0' }],
  ['480x360, masks only, TypeScript twin of the kernels (SVDFLOW_NO_WASM=1)', masksOnly, { SVDFLOW_NO_WASM: '1' }],
];
for (const [label, file, env, goal, min] of speeds) {
  const fps = median([0, 1, 2].map(() => N / (run(file, [], env).durationMs / 1000)));
  rows.push({ case: `vtest.avi ${label}`, metric: 'frames/s end to end (median of 3)', svdflow: fps, peer: mog2, peerName: 'OpenCV MOG2 (480x360, + MJPG mask video)', ratio: fps / mog2, ...(goal ? { goal, met: fps >= min! * mog2 } : {}) });
}
rows.push({ case: 'vtest.avi 480x360, default outputs (first 300 frames for the peer)', metric: 'frames/s', svdflow: rows[5]!.svdflow, peer: peer.vtest_ipca_fps!, peerName: 'sklearn IncrementalPCA (2 comps, batch 30)', ratio: rows[5]!.svdflow / peer.vtest_ipca_fps! });
for (const [file, label] of [[defaults, 'default outputs'], [masksOnly, 'masks only (background: false)']] as const) {
  const one = run(file);
  const ten = run(file, ['frames.loop=9']);
  rows.push({ case: `vtest.avi 480x360 x10 (stream_loop 9) vs x1, ${label}, one worker`, metric: 'peak RSS (MiB)', svdflow: ten.peakRssMiB, peer: one.peakRssMiB, peerName: 'svdflow, one pass', ratio: ten.peakRssMiB / one.peakRssMiB, goal: 'within 10% and < 300 MiB', met: ten.peakRssMiB <= one.peakRssMiB * 1.1 && ten.peakRssMiB < 300 });
}
// where the CPU goes in a CLI run, masks only and default outputs: per process and thread, from /proc
const cpuTotals: Record<string, { total: number; outside: number }> = {};
for (const [file, label] of [[masksOnly, 'masks-only'], [defaults, 'default-outputs']] as const) {
  const split = await cpuSplit('node', [CLI, 'run', file, '--out', join(tmp, `out-cpu-${label}`), '--no-progress'], N);
  if (!split) continue;
  const total = Object.values(split.frames).reduce((a, b) => a + b, 0);
  const row = (role: string, ms: number, metric = 'CPU ms per frame (/proc, decoder start to encoders end)') => rows.push({ case: `CPU of a ${label} run on vtest.avi: ${role}`, metric, svdflow: ms, peer: 1000 / mog2, peerName: 'OpenCV MOG2 whole frame (wall, decode + apply + write)', ratio: ms / (1000 / mog2) });
  for (const [role, ms] of Object.entries(split.frames).sort((a, b) => b[1] - a[1])) if (ms > 0) row(role, ms);
  row('all processes, frames window', total);
  cpuTotals[label] = { total, outside: split.outside };
  // the bound this CPU sets on the wall time: every core busy with this run's work all the time
  const cores = availableParallelism();
  rows.push({ case: `vtest.avi ${label}: the frame rate its frames-window CPU allows on ${cores} cores (all cores busy, perfect overlap)`, metric: 'frames/s (cores x 1000 / CPU ms per frame)', svdflow: (cores * 1000) / total, peer: mog2, peerName: 'OpenCV MOG2 (480x360, + MJPG mask video)', ratio: (cores * 1000) / total / mog2 });
  row('all processes, outside the frames window (Node start-up, joining, report.html previews)', split.outside, 'CPU ms per frame (/proc, before and after)');
}
const segmentNotes = segmentRows();
const breakdown = costBreakdown(vt, 1000 / mog2);
rows.push(...breakdown.rows);
const load1 = loadavg();
const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
report('video', 'Streaming video background removal (#8, #16)', rows, [
  `Same machine, same run; 2 cores shared with other work: load average (1/5/15 min) ${la(load0)} at the start of this benchmark, ${la(load1)} at its end. Speeds are medians of 3 runs and move with that load.`,
  `svdflow frames/s = ${N} frames / the run's wall time from run.json (from opening the run to its files committed: ffmpeg decode, batching, background model, masks, morphology, H.264 videos via ffmpeg stdin; Node start-up and module loading before the run are not counted, as Python's start is not counted for the peer). The model runs in a worker thread (src/core/video/io/model-thread.ts) so that it overlaps the main thread's decoding and encoding; ffmpeg's decoder and encoders are child processes.`,
  'MOG2 peer: cv2.VideoCapture decode + MOG2.apply + cv2.VideoWriter (MJPG) of the mask, 480x360; IncrementalPCA: partial_fit + reconstruction + threshold on 300 frames at 480x360.',
  'F-measures: CDnet rules (temporalROI, ROI.bmp; 255 fg, 0/50 bg, 85/170 ignored), masks at full resolution, gray, background-model defaults: rank 2, forget 0.9, threshold 0.12, open 1, close 4, robust, modelScale 0.5, updateEvery 3, seedWindow 150 (one re-seed from the median of 45 frames spread over the first 150). The "no loss" goal is the F of the f64 TypeScript path before the kernels, unrounded (the issue quotes it rounded: 0.899, 0.883).',
  breakdown.note,
  'CPU rows: one CLI run each (masks only, default outputs) with its threads and child processes read from /proc every 10 ms (utime + stime per thread), divided by the 795 frames, between the decoder\'s start and the last encoder\'s end (the frames\' window): node\'s main thread (decode slicing, batching, layers to bytes, writers), the model thread (the busiest node thread besides main: pixel kernels, the SVD update in the Gram form, the warm-ups of the first batch and of the seed on the kernels), node\'s other threads (V8\'s GC helpers and its compiler threads, which optimise the pipeline\'s JavaScript once per run, and libuv), the ffmpeg decoder, and each ffmpeg encoder (libx264 ultrafast + CABAC, trellis off) by its write-video step; CPU before and after that window (start-up, joining, report.html\'s WebM previews) is one separate row. Two cores give at most 2 CPU-ms per wall-ms, so the frames-window sum over 2 bounds the frame time from below.',
  ...Object.entries(cpuTotals).map(([label, c]) => {
    const cores = availableParallelism(), fps = (cores * 1000) / c.total, need = 1000 / mog2;
    return `Bound (${label}): ${c.total.toFixed(2)} CPU ms per frame in the frames window on ${cores} cores allow at most ${fps.toFixed(0)} frames/s with every core busy all the time and perfect overlap = ${(fps / mog2).toFixed(2)}x MOG2 (${mog2.toFixed(0)} frames/s, ${need.toFixed(2)} ms per frame); ${fps >= mog2 ? 'the 1.0x goal is within that bound, so the gap is overlap (threads waiting on each other) and the CPU other work takes' : 'the 1.0x goal lies beyond it: not reachable on this machine at this CPU per frame'}. Outside the window (Node start-up, module loading and JIT, report previews): ${c.outside.toFixed(2)} ms per frame of the 795.`;
  }),
  ...segmentNotes,
  ((w: number, h: number, n: number, f: number) => `Memory: frames stay 8-bit in FrameBatch; the background leaves the model thread compact (background-layer.ts: the batch's Float32 mean + each frame's Float32 deviation at 1/${f} scale: ${((w * h + n * Math.ceil(w / f) * Math.ceil(h / f)) * 4 / 1e6).toFixed(1)} MB per ${n}-frame batch at ${w}x${h}) and the encoder's bytes are made from it, its Float32 layer (${((n * w * h * 4) / 1e6).toFixed(1)} MB) only when a step reads batch.background; only the downsampled update block is Float64.`)(480, 360, 15, 2),
]);


/**
 * Segment parallelism (#16 item 3, `--workers N`): F with segments vs one pass, and CDnet highway
 * looped 10x with 2 workers vs 1. Skipped with a note when this build's CLI has no --workers.
 */
function segmentRows(): string[] {
  const help = spawnSync('node', [CLI, '--help'], { encoding: 'utf8' });
  if (!`${help.stdout}${help.stderr}`.includes('--workers')) return ['Segment rows (--workers) not measured: this build has no --workers option.'];
  try {
    for (const seq of ['highway', 'CAVIAR2'] as const) {
      const F = JSON.parse(readFileSync(join(run(fFiles[seq]!, [], {}, ['--workers', '2']).out, 'scores.json'), 'utf8')).fMeasure as number;
      const one = onePassF[seq]!;
      rows.push({ case: `${seq}, --workers 2 (two segments) vs one pass`, metric: 'F-measure', svdflow: F, peer: one, peerName: 'svdflow, one pass', ratio: F / one, goal: 'within 0.005', met: Math.abs(F - one) <= 0.005 });
    }
    const loop = pipeline('highway-x10', `${shared}/cdnet/highway/input/in%06d.jpg`, MODEL, writeMask);
    const frames = 1700 * 10;
    // frames/s from run.json, and the cores the whole run kept busy: (user + sys) / wall of the CLI and every process it waited for (/usr/bin/time)
    const timed = (w: number, pin?: string) => {
      const out = join(tmp, `out-hx10-w${w}${pin ? '-pin' + pin : ''}`);
      const cmd = [...(pin ? [TASKSET!, '-c', pin] : []), 'node', CLI, 'run', loop, '--out', out, '--no-progress', '--set', 'frames.loop=9', '--workers', String(w)];
      const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', ...cmd], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`svdflow run failed: ${r.stderr}`);
      const [e, u, s] = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr)!.slice(1).map(Number) as [number, number, number];
      return { fps: frames / ((JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { durationMs: number }).durationMs / 1000), cores: (u + s) / e, cpuMsPerFrame: ((u + s) * 1000) / frames };
    };
    const [one, two] = [timed(1), timed(2)];
    const ncores = availableParallelism();
    rows.push({ case: 'CDnet highway looped 10x (17000 frames, 320x240), masks + mask video, --workers 2 vs --workers 1, same machine', metric: 'frames/s end to end', svdflow: two.fps, peer: one.fps, peerName: 'svdflow, --workers 1', ratio: two.fps / one.fps, goal: '>= 1.6x', met: two.fps >= 1.6 * one.fps, note: '(bounded by the cores --workers 1 already uses: next rows)' });
    rows.push({ case: 'CDnet highway x10, --workers 1: cores it keeps busy', metric: 'CPU s (user + sys, all its processes) / wall s', svdflow: one.cores, peer: ncores, peerName: 'cores of this machine', ratio: one.cores / ncores });
    rows.push({ case: `CDnet highway x10: bound on --workers 2 vs 1 on this ${ncores}-core machine`, metric: `${ncores} / cores --workers 1 uses (same CPU per frame)`, svdflow: ncores / one.cores, peer: 1.6, peerName: 'goal', ratio: ncores / one.cores / 1.6, note: `CPU per frame: --workers 1 ${one.cpuMsPerFrame.toFixed(2)} ms, --workers 2 ${two.cpuMsPerFrame.toFixed(2)} ms` });
    const notes = [`Segment rows: --workers 2 vs 1 on this ${ncores}-core machine is bounded by what one process already uses: --workers 1 kept ${one.cores.toFixed(2)} cores busy (decoder, model thread, main thread, encoder and V8's helpers overlap), so with the same CPU per frame two segment processes can be at most ${ncores} / ${one.cores.toFixed(2)} = ${(ncores / one.cores).toFixed(2)}x faster. Each segment process gets the thread budget / N (here ${Math.max(1, Math.floor(ncores / 2))} thread${ncores >= 4 ? 's' : ''} each).`];
    if (TASKSET && ncores >= 2) {
      // N segment processes on N cores vs one process on one core: the same resources per segment (default budget: the cores it may use)
      const [p1, p2] = [timed(1, '0'), timed(2, '0,1')];
      rows.push({ case: 'CDnet highway x10, --workers 2 on cores 0-1 vs --workers 1 on core 0 (taskset; default budget = the allowed cores: 1 thread per segment process)', metric: 'frames/s end to end', svdflow: p2.fps, peer: p1.fps, peerName: 'svdflow, --workers 1 on 1 core', ratio: p2.fps / p1.fps, goal: '>= 1.6x (per segment, equal resources)', met: p2.fps >= 1.6 * p1.fps });
      notes.push(`Pinned segment rows: the whole run under taskset, so --workers 1 has one core (its default budget is 1: os.availableParallelism() follows the affinity) and --workers 2 two cores shared by its two segment processes (budget 2 / 2 = 1 each): what splitting a video buys when each segment gets a core of its own, as on N machines (the queue's --segments). CPU per frame: ${p1.cpuMsPerFrame.toFixed(2)} ms on 1 core, ${p2.cpuMsPerFrame.toFixed(2)} ms with 2 segments.`);
    }
    return notes;
  } catch (e) {
    return [`Segment rows (--workers) failed in this run: ${(e as Error).message.split('\n')[0]}`];
  }
}
