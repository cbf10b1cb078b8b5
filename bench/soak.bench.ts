/**
 * Soak: the streaming video pipeline on vtest.avi looped 10 times (ffmpeg
 * -stream_loop 9, 7950 frames of 480x360), sampling the CLI's resident memory
 * (/proc/<pid>/status VmRSS, every 250 ms) and its frames per second (from the
 * decode progress in the debug log) over time. Memory must stay flat: the peak
 * of the second half within 5% of the peak of the first half (after warm-up).
 * Writes bench/out/soak.json and the plot bench/soak.svg.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR, ROOT, BENCH_DIR, report, sharedData } from './lib.js';
import { renderSvg, titleBlock } from '../src/core/plot/vl.js';

const video = sharedData('video/vtest.avi');
if (!video) process.exit(0);
const tmp = join(OUT_DIR, 'soak-tmp');
mkdirSync(tmp, { recursive: true });
const file = join(tmp, 'soak.yaml');
writeFileSync(
  file,
  `name: soak
steps:
  - { id: frames, stage: decode, params: { path: "${video}", color: gray, loop: 9 } }
  - { id: batches, stage: batch-frames, params: { size: 15 } }
  - { id: model, stage: background-model, params: { checkpointEvery: 300 } }
  - { id: mask, stage: write-video, input: model, params: { layer: mask, path: mask.mp4 } }
  - { id: background, stage: write-video, input: model, params: { layer: background, path: background.mp4 } }
`,
);

interface Sample { t: number; rssMiB: number }
const samples: Sample[] = [];
const counts: Array<{ t: number; frames: number }> = [];
const t0 = performance.now();
const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'run', file, '--out', join(tmp, 'out'), '--no-progress', '--log-json', '--log-level', 'debug'], { stdio: ['ignore', 'ignore', 'pipe'] });
let buf = '';
child.stderr.on('data', (b: Buffer) => {
  buf += b.toString();
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    try {
      const j = JSON.parse(line) as { msg?: string; count?: number; unit?: string; step?: string };
      if (j.msg === 'progress' && j.unit === 'frames' && typeof j.count === 'number' && (j as { stage?: string }).stage === 'frames') counts.push({ t: (performance.now() - t0) / 1000, frames: j.count });
    } catch {
      /* not JSON */
    }
  }
});
const timer = setInterval(() => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    if (m) samples.push({ t: (performance.now() - t0) / 1000, rssMiB: Number(m[1]) / 1024 });
  } catch {
    /* exited */
  }
}, 250);
const code: number = await new Promise((r) => child.once('exit', (c) => r(c ?? 1)));
clearInterval(timer);
if (code !== 0) throw new Error(`soak run failed (exit ${code})`);
const total = (performance.now() - t0) / 1000;
const manifest = JSON.parse(readFileSync(join(tmp, 'out', 'run.json'), 'utf8')) as { peakRssMiB: number; durationMs: number };

const warm = samples.filter((s) => s.t > total * 0.1);
const half = warm.filter((s) => s.t <= total * 0.55);
const late = warm.filter((s) => s.t > total * 0.55);
const peak = (a: Sample[]) => Math.max(...a.map((s) => s.rssMiB));
const early = peak(half), lateP = peak(late);
const fps = counts.slice(1).map((c, i) => ({ t: c.t, fps: (c.frames - counts[i]!.frames) / (c.t - counts[i]!.t) }));
const frames = 7950;

// two panels on one time axis (memory, throughput): Vega-Lite, like every other chart
writeFileSync(
  join(BENCH_DIR, 'soak.svg'),
  await renderSvg({
    title: titleBlock('Soak: vtest.avi x10 (7950 frames, 480x360) through the streaming pipeline', `RSS of the svdflow process every 250 ms; frames/s from decode progress; ${(frames / total).toFixed(0)} frames/s overall`, 640),
    vconcat: [
      { width: 640, height: 220, data: { values: samples.map((s) => ({ t: s.t, v: s.rssMiB })) }, mark: { type: 'line', color: '#1f77b4' }, encoding: { x: { field: 't', type: 'quantitative', title: 'time (s)' }, y: { field: 'v', type: 'quantitative', title: 'resident memory (MiB)', scale: { zero: true } } } },
      { width: 640, height: 160, data: { values: fps.map((f) => ({ t: f.t, v: f.fps })) }, mark: { type: 'line', point: true, color: '#d62728' }, encoding: { x: { field: 't', type: 'quantitative', title: 'time (s)' }, y: { field: 'v', type: 'quantitative', title: 'frames per second', scale: { zero: true } } } },
    ],
  }),
);

report('soak', 'Soak: the video pipeline on a 10x-looped input (#9)', [
  { case: 'vtest.avi x10, RSS peak after 55% of the run vs 10–55%', metric: 'peak RSS (MiB)', svdflow: lateP, peer: early, peerName: 'same run, first half', ratio: lateP / early, goal: 'within 5% (flat)', met: lateP <= early * 1.05 },
  { case: 'vtest.avi x10, whole run', metric: 'peak RSS (MiB, getrusage)', svdflow: manifest.peakRssMiB, peer: 300, peerName: 'limit', ratio: manifest.peakRssMiB / 300, goal: '< 300 MiB', met: manifest.peakRssMiB < 300 },
  { case: 'vtest.avi x10, throughput', metric: 'frames/s (first / last 20% of progress samples)', svdflow: mean(fps.slice(-Math.max(1, Math.floor(fps.length / 5))).map((f) => f.fps)), peer: mean(fps.slice(0, Math.max(1, Math.floor(fps.length / 5))).map((f) => f.fps)), peerName: 'same run, start', ratio: mean(fps.slice(-Math.max(1, Math.floor(fps.length / 5))).map((f) => f.fps)) / mean(fps.slice(0, Math.max(1, Math.floor(fps.length / 5))).map((f) => f.fps)), goal: 'no slow-down', met: true },
], [
  `Pipeline: decode (loop 9) → batch-frames (15) → background-model (defaults: rank 2, modelScale 0.5, updateEvery 3, checkpoints every 300 frames) → two H.264 videos (mask, background). ${frames} frames in ${total.toFixed(1)} s wall (${(frames / total).toFixed(0)} frames/s), Node start-up included.`,
  'RSS is the svdflow (node) process only; the ffmpeg children (one decoder, two encoders) are separate processes of fixed size.',
  '![soak: RSS and frames/s over time](soak.svg)',
]);

function mean(a: number[]): number {
  return a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN;
}
