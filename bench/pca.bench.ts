/**
 * Image-collection PCA (issue #6) vs NumPy (bench/peers/pca.py), same data, same run:
 * the 22 bundled stamps (data/stamps, 139 x 170 RGB) stacked as a 70,890 x 22 matrix.
 * Steps: decode + normalize, stack + center, Gram-route SVD (rank n - 1 = 21), exact SVD,
 * rank 1/3/10 reconstructions clamped, a 5 x 5 generated grid, and the core chain end to end.
 * Times are medians of REPS runs after one warm-up, on a 2-core machine shared with others.
 */
import { join } from 'node:path';
import { lastValueFrom, of, toArray, map } from 'rxjs';
import { runPeer, timeMs, timeCpuMs, report, ROOT, type BenchRow } from './lib.js';
import { load, loadImages } from '../src/stages/load.js';
import { normalize } from '../src/stages/normalize.js';
import { stack } from '../src/stages/stack.js';
import { center } from '../src/stages/center.js';
import { svd } from '../src/stages/svd.js';
import { reconstruct } from '../src/stages/reconstruct.js';
import { generate } from '../src/stages/generate.js';
import { pcaModel, principalCoordinates } from '../src/core/pca/model.js';
import { blasStatus } from '../src/core/linalg/native.js';
import { decoderCounts, decoderUsage } from '../src/core/image/jpeg.js';
import { setTurboJpeg, turboJpegStatus } from '../src/core/image/turbojpeg.js';
import { threadBudget } from '../src/core/threads.js';
import { poolThreads } from '../src/core/pool/index.js';
import { SPLIT_VALUES } from '../src/core/pca/pooled.js';
import { stackCentredInto, stackInto } from '../src/core/pca/stack.js';
import { handsOver, subtractRowMeans } from '../src/core/image/planes.js';
import { Matrix } from '../src/core/linalg/matrix.js';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { parsePipeline } from '../src/core/pipeline.js';
import { runPipeline } from '../src/core/runner.js';
import { defaultRegistry } from '../src/stages/index.js';
import type { Factorization, ImageBatch, MatrixValue } from '../src/core/ports.js';
import { loadavg as loadAverage } from 'node:os';
const loadAtStart = loadAverage();

const REPS = 7;
const STAMPS = join(ROOT, 'data', 'stamps');

// normalize piped straight onto load: load divides its planes by 255 as it fills them (one pass; see planes.ts handsOver)
const loadBatch = () => lastValueFrom(loadImages({ path: STAMPS }).pipe(normalize({ by: 'dtype' })));
// the same with a step between (as when another step also reads load's value): normalize copies every plane
const loadBatchCopy = () => lastValueFrom(loadImages({ path: STAMPS }).pipe(map((v) => v), normalize({ by: 'dtype' })));
const loadOnly = () => lastValueFrom(load({ path: STAMPS }));
// the same two steps as a YAML run takes them (runPipeline, keepValues 'sinks' as the CLI): normalize
// is load's only reader and nothing is kept, so the runner offers it load's divided variant, as from
// code (runner.ts stepNode); the run's own work (output folder, lock, run.json) is included
const runDir = mkdtempSync(join(tmpdir(), 'svdflow-bench-pca-'));
const yamlRun = parsePipeline(`name: decode\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(STAMPS)} } }\n  - { id: n, stage: normalize, params: { by: dtype } }\n`, { file: join(runDir, 'decode.yaml'), baseDir: runDir }, defaultRegistry());
const loadRun = () => runPipeline(yamlRun, { outDir: join(runDir, 'out'), progress: false, keepValues: 'sinks', report: false });
// decode, normalize, stack and center as one pipeline file: each reader alone on its producer's edge,
// so both pairs are fused (load's divided variant, stack's centredRows variant)
const yamlChain = parsePipeline(`name: stack-center\nsteps:\n  - { id: imgs, stage: load, params: { path: ${JSON.stringify(STAMPS)} } }\n  - { id: n, stage: normalize, params: { by: dtype } }\n  - { id: X, stage: stack }\n  - { id: C, stage: center, params: { mode: row } }\n`, { file: join(runDir, 'stack-center.yaml'), baseDir: runDir }, defaultRegistry());
const chainRun = () => runPipeline(yamlChain, { outDir: join(runDir, 'out2'), progress: false, keepValues: 'sinks', report: false });
const dec0 = decoderCounts();
await loadBatch();
const decoded = decoderUsage(dec0);
const batch = await loadBatch();
// center piped straight onto stack: it subscribes to stack's centredRows variant (planes.ts handsOver),
// which writes each row minus its mean as it stacks it: stack + centre fused, one pass
const stackCenter = () => lastValueFrom(of(batch).pipe(stack(), center({ mode: 'row' })));
// the path before fusion, for comparison: stack hands its matrix over without the variant, and center,
// its only reader, centres it in place (a second pass over the 12.5 MB matrix)
const stackCenterInPlace = () => lastValueFrom(of(batch).pipe((src) => handsOver(stack()(src).pipe(map((v) => v))), center({ mode: 'row' })));
// the same with a step between (as when another step also reads the stack): center writes a new matrix
const stackCenterCopy = () => lastValueFrom(of(batch).pipe(stack(), map((v) => v), center({ mode: 'row' })));
const X = (await stackCenter()) as MatrixValue;
const stacked = (await lastValueFrom(of(batch).pipe(stack()))) as MatrixValue;
const centerOnly = () => lastValueFrom(of(stacked).pipe(center({ mode: 'row' })));
const gramSvd = () => lastValueFrom(of(X).pipe(svd({ solver: 'gram', rank: 21 })));
const exactSvd = () => lastValueFrom(of(X).pipe(svd({ solver: 'exact' })));
const f: Factorization = await gramSvd();
const recon = () => lastValueFrom(of(f).pipe(reconstruct({ rank: [1, 3, 10], clamp: true }), toArray()));
const grid = () => lastValueFrom(of(f).pipe(generate({ from: 'grid', steps: 5, extent: 2 })));
const chain = async () => {
  const g = await lastValueFrom(of(batch).pipe(stack(), center({ mode: 'row' }), svd({ solver: 'gram', rank: 21 })));
  await lastValueFrom(of(g).pipe(reconstruct({ rank: [1, 3, 10], clamp: true }), toArray()));
  return principalCoordinates(pcaModel(g));
};

// accuracy: clamped relative errors against the originals, and the spectrum
const originals = (await lastValueFrom(of(batch).pipe(stack()))).matrix.data;
const recs = (await recon()) as MatrixValue[];
const errors = recs.map((r) => {
  let num = 0, den = 0;
  r.matrix.data.forEach((v, i) => { const d = v - originals[i]!; num += d * d; den += originals[i]! * originals[i]!; });
  return Math.sqrt(num / den);
});

const loadCpu = await timeCpuMs(loadBatch, REPS);
const loadCopyCpu = await timeCpuMs(loadBatchCopy, REPS);
const loadOnlyCpu = await timeCpuMs(loadOnly, REPS);
const loadRunCpu = await timeCpuMs(loadRun, REPS);
const chainRunCpu = await timeCpuMs(chainRun, REPS);
rmSync(runDir, { recursive: true, force: true });
setTurboJpeg(false);
const loadSharpCpu = await timeCpuMs(loadBatch, REPS);
setTurboJpeg(undefined);
const stackCenterCpu = await timeCpuMs(stackCenter, REPS);
const stackCenterCopyCpu = await timeCpuMs(stackCenterCopy, REPS);
const stackCenterInPlaceCpu = await timeCpuMs(stackCenterInPlace, REPS);
// minor page faults per stack + center (process-wide: first touches of fresh result memory) and the
// kernel's CPU time per run (system time: the page faults and zeroing the new pages)
const memoryPer = async (fn: () => Promise<unknown>) => {
  await fn();
  const f0 = process.resourceUsage().minorPageFault, c0 = process.cpuUsage();
  for (let i = 0; i < REPS; i++) await fn();
  return { faults: (process.resourceUsage().minorPageFault - f0) / REPS, systemMs: process.cpuUsage(c0).system / 1000 / REPS };
};
// which threads take those page faults: the main thread's minor faults (/proc/self/task/PID/stat) against the process's
const mainFaults = () => { try { const st = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'); return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[7]); } catch { return NaN; } };
const faultSplit = await (async () => { await stackCenter(); const m0 = mainFaults(), p0 = process.resourceUsage().minorPageFault; for (let i = 0; i < REPS; i++) await stackCenter(); return { main: (mainFaults() - m0) / REPS, all: (process.resourceUsage().minorPageFault - p0) / REPS }; })();
const stackCenterMem = await memoryPer(stackCenter), stackCenterCopyMem = await memoryPer(stackCenterCopy), stackCenterInPlaceMem = await memoryPer(stackCenterInPlace);
// the two loops alone, in this thread, into matrices already touched (no fresh memory, no thread hop):
// what stacking and centring cost without the memory and the pool around them
const loopsOnly = (() => {
  const d = X.matrix.rows, n = X.matrix.cols, S = new Matrix(d, n), C = new Matrix(d, n), mean = new Float64Array(d);
  const cpu = (fn: () => void) => { for (let i = 0; i < 3; i++) fn(); const t: number[] = []; for (let i = 0; i < REPS; i++) { const c0 = process.cpuUsage(); fn(); const c = process.cpuUsage(c0); t.push((c.user + c.system) / 1000); } return t.sort((a, b) => a - b)[REPS >> 1]!; };
  return { stack: cpu(() => stackInto(batch.images, S)), centre: cpu(() => subtractRowMeans(S, C, mean, 0, d)), fused: cpu(() => stackCentredInto(batch.images, C, mean)) };
})();
const loadMem = await memoryPer(loadBatch);
const ours = {
  load: loadCpu.wall, // the CPU runs' medians: the same REPS runs, not another REPS of each
  stackCenter: stackCenterCpu.wall,
  center: await timeMs(centerOnly, REPS),
  gram: await timeMs(gramSvd, REPS),
  exact: await timeMs(exactSvd, REPS),
  reconstruct: await timeMs(recon, REPS),
  grid: await timeMs(grid, REPS),
  chain: await timeMs(chain, REPS),
};
const peer = runPeer<{ numpy: string; load_ms: number; load_cpu_ms: number; stack_center_ms: number; stack_center_npstack_ms: number; stack_center_cpu_ms: number; stack_center_faults: number; center_ms: number; gram_ms: number; exact_ms: number; reconstruct_ms: number; grid_ms: number; pipeline_core_ms: number; s: number[]; errors: number[] }>('pca.py', [STAMPS, String(REPS)]);

const P = `NumPy ${peer.numpy}`;
const t = (c: string, ms: number, peerMs: number, note?: string): BenchRow => ({ case: c, metric: 'time (ms, median)', svdflow: ms, peer: peerMs, peerName: P, ratio: ms / peerMs, note });
const s = f.factors[0]!.s;
let maxSdiff = 0;
for (let i = 0; i < 21; i++) maxSdiff = Math.max(maxSdiff, Math.abs(s[i]! - peer.s[i]!) / peer.s[0]!);
const rows: BenchRow[] = [
  { ...t('decode 22 JPEGs + normalize (load vs PIL)', ours.load, peer.load_ms, `each side gives per-image planar float64 planes in [0, 1]; svdflow decodes ${Math.max(1, threadBudget())} files at a time on libuv threads (${decoded.turbojpeg} of ${batch.images.length} by TurboJPEG, ${decoded.sharp} by sharp), from code (loadImages(...).pipe(normalize(...))), so load divides the planes by 255 as it fills them (one pass; a YAML run too: the row after next); PIL one after another`), goal: '<= 1.5x (#15 item 4)', met: ours.load / peer.load_ms <= 1.5 },
  { ...t('decode 22 JPEGs + normalize: CPU time per run', loadCpu.cpu, peer.load_cpu_ms, 'process CPU, all threads (svdflow: process.cpuUsage; Python: time.process_time): the work done, whatever the load'), metric: 'CPU time (ms, median)' },
  t('decode 22 JPEGs + normalize as a YAML run (runPipeline, keepValues sinks: fused)', loadRunCpu.wall, peer.load_ms, `what svdflow run gets: the load and normalize steps of a pipeline file; normalize, load's only reader with nothing kept, takes load's divided variant as from code (the runner offers it: src/core/runner.ts stepNode); the run's own work (output folder, lock, run.json) included; CPU ${loadRunCpu.cpu.toFixed(1)} ms per run`),
  t('decode + normalize + stack + center as a YAML run (runPipeline, keepValues sinks: both pairs fused)', chainRunCpu.wall, peer.load_ms + peer.stack_center_ms, `load, normalize, stack and center { mode: row } as one pipeline file, each step the only reader of the one before: normalize takes load's divided variant and center stack's centredRows variant; peer: NumPy's decode + normalize and stack + center medians added; CPU ${chainRunCpu.cpu.toFixed(1)} ms per run (NumPy ${(peer.load_cpu_ms + peer.stack_center_cpu_ms).toFixed(1)} ms)`),
  t('decode 22 JPEGs + normalize, normalize copying (load\'s value also read elsewhere)', loadCopyCpu.wall, peer.load_ms, `a step between load and normalize (as a fan-out or a kept value in a run): normalize writes new planes; CPU ${loadCopyCpu.cpu.toFixed(1)} ms per run`),
  { ...t('stack + center (mean image), 70890 x 22, from the decoded images', ours.stackCenter, peer.stack_center_ms, `both sides from per-image planes: svdflow stack + center stages piped straight on, FUSED (center subscribes to stack's centredRows variant: each row stacked and written minus its mean in one pass; compute pool, rows split over its ${poolThreads()} threads), NumPy X = np.array(planes).T (one contiguous copy; X its column-major view), then X - X.mean(1); with np.stack(planes, 1), a row-major X like svdflow's, NumPy took ${peer.stack_center_npstack_ms.toFixed(2)} ms`), goal: '<= 1.5x (#15 item 4)', met: ours.stackCenter / peer.stack_center_ms <= 1.5 },
  { ...t('stack + center: CPU time per run', stackCenterCpu.cpu, peer.stack_center_cpu_ms, `process CPU, all threads (the pool workers and the main thread); of it, the kernel's (page faults, zeroing new pages): ${stackCenterMem.systemMs.toFixed(1)} ms per run`), metric: 'CPU time (ms, median)' },
  t('stack + center, not fused (center centres the handed-over stack in place: the path before fusion)', stackCenterInPlaceCpu.wall, peer.stack_center_ms, `stack, then center over the same matrix (a second pass, what a run did before the fusion); CPU ${stackCenterInPlaceCpu.cpu.toFixed(1)} ms per run, of it the kernel's ${stackCenterInPlaceMem.systemMs.toFixed(1)} ms; minor page faults ${Math.round(stackCenterInPlaceMem.faults)} per run`),
  t('stack + center, center copying (the stack also read elsewhere)', stackCenterCopyCpu.wall, peer.stack_center_ms, `a step between stack and center (as a fan-out or a kept stack in a run): center writes a new matrix; CPU ${stackCenterCopyCpu.cpu.toFixed(1)} ms per run, of it the kernel's ${stackCenterCopyMem.systemMs.toFixed(1)} ms; minor page faults ${Math.round(stackCenterCopyMem.faults)} per run`),
  t('center only (mean image), 70890 x 22 already stacked', ours.center, peer.center_ms, 'svdflow center stage on a kept stack (a new matrix; compute pool, rows split over its threads); NumPy X - X.mean(1) on its stacked X (column-major)'),
  t('thin SVD, Gram route, 21 components', ours.gram, peer.gram_ms),
  t('thin SVD, exact (Householder; NumPy: LAPACK gesdd)', ours.exact, peer.exact_ms),
  t('reconstruct r = 1, 3, 10, clamped', ours.reconstruct, peer.reconstruct_ms),
  t('generate 5 x 5 grid over PC1/PC2', ours.grid, peer.grid_ms),
  { ...t('core chain: stack/center, Gram SVD, 3 reconstructions, coordinates', ours.chain, peer.pipeline_core_ms, 'both sides from the decoded images: stacking included'), goal: '<= 2x (#15)', met: ours.chain / peer.pipeline_core_ms <= 2 },
  ...[1, 3, 10].map((r, i): BenchRow => ({ case: `relative error vs originals, r = ${r} (clamped)`, metric: 'rel. Frobenius error', svdflow: errors[i]!, peer: peer.errors[i]!, peerName: P, ratio: errors[i]! / peer.errors[i]!, goal: 'equal to 1e-3', met: Math.abs(errors[i]! - peer.errors[i]!) < 1e-3 })),
];
report('pca', 'Image-collection PCA: 22 stamps as a 70,890 x 22 matrix (vs NumPy)', rows, [
  `Load average (1/5/15 min) on a 2-core machine: ${loadAtStart.map((x) => x.toFixed(1)).join(' / ')} when this benchmark started, ${loadAverage().map((x) => x.toFixed(1)).join(' / ')} when it ended (the machine is shared; a goal counts only at a quiet moment).`,
  `Times are medians of ${REPS} runs after a warm-up, on a 2-core machine shared with other work; ratio = svdflow / NumPy (lower is better). Both sides read data/stamps.`,
  `Singular values (Gram route) agree with NumPy's to ${maxSdiff.toExponential(1)} relative to s_1; the reconstruction errors are compared to 1e-3 because the decoded pixels may differ by decoder (svdflow: libjpeg-turbo's TurboJPEG, or sharp's mozjpeg for files it refuses; PIL: the system libjpeg-turbo).`,
  (() => { const b = blasStatus(); return b.backend === 'openblas' ? `Backend: native (${b.library}): the Gram route's XᵀX and XV, the exact SVD (dgesdd) and the reconstructions' products run OpenBLAS, as NumPy's do; the stacking, centring, clamping and mean passes are svdflow's own loops.` : `Backend: svdflow's ${b.backend === 'ts' ? 'TypeScript' : 'WebAssembly SIMD'} kernels (the native backend did not load: ${b.reason}).`; })(),
  (() => { const n = batch.images.length, per = (ms: number) => (ms / n).toFixed(2), j = turboJpegStatus(); return `Decoding: both sides end with per-image planar float64 planes in [0, 1] (svdflow: load + normalize { by: dtype }; NumPy: PIL decode, asarray, uint8 planes reordered, * 1 / 255); stacking is the next row's work on both sides. svdflow's decoder: ${j.loaded ? `TurboJPEG (${j.library}, libjpeg-turbo called through koffi; sharp's libvips decodes with mozjpeg, the same libjpeg defaults, planes equal to sharp's bit for bit on the files tested)` : `sharp only (TurboJPEG not loaded: ${j.reason})`}: ${decoded.turbojpeg} of ${n} images by TurboJPEG, ${decoded.sharp} by sharp. CPU per image in this run: svdflow ${per(loadCpu.cpu)} ms (load alone, planes of 0..255: ${per(loadOnlyCpu.cpu)} ms; normalize copying every plane: ${per(loadCopyCpu.cpu)} ms; every image through sharp/libvips instead: ${per(loadSharpCpu.cpu)} ms), PIL + NumPy ${per(peer.load_cpu_ms)} ms. Minor page faults per run: ${Math.round(loadMem.faults)} (system CPU ${loadMem.systemMs.toFixed(1)} ms) (the planes' ${((batch.images.length * batch.images[0]!.planes.length * batch.width * batch.height * 8) / 1e6).toFixed(1)} MB are shared memory, which this Node maps fresh for every SharedArrayBuffer: ${Math.ceil((batch.width * batch.height * batch.images[0]!.planes.length * 8) / 4096)} first touches per image, what lets the pool's stack read them without a copy). svdflow keeps ${Math.max(1, threadBudget())} decodes in flight (its thread budget) on libuv's threads, the planes filled on the main thread, so on ${availableParallelism()} free cores its wall time can fall below its CPU time; PIL decodes on one thread.`; })(),
  (() => { const mb = (X.matrix.rows * X.matrix.cols * 8) / 1e6, pages = Math.ceil((X.matrix.rows * X.matrix.cols * 8) / 4096); return `Stack + center: svdflow's stack and center stages run in the compute pool, the rows split over its threads from 2^${Math.log2(SPLIT_VALUES)} values (src/core/pca/pooled.ts; same bits as one thread), the images' planes already in shared memory (no copy on the way). Piped straight onto stack, center { mode: row } subscribes to stack's centredRows variant (src/core/image/planes.ts handsOver; src/core/pca/stack.ts stackCentredInto): per block of 256 pixels the rows' sums are added up from the planes, then each value is written minus its row's mean, so the ${mb.toFixed(1)} MB matrix is written once and never read back; values, means and centering are those of stack then center bit for bit (test/core/image/stack-centred.test.ts). Before the fusion, center centred the handed-over stack in place (the 'not fused' row); a kept or fanned-out stack gets a new matrix (the 'center copying' row). New memory costs a page fault per 4 KiB page (${pages} for ${mb.toFixed(1)} MB), taken by the pool thread that first writes each part (${Number.isNaN(faultSplit.main) ? 'per-thread counts not available here' : `main thread ${Math.round(faultSplit.main)} of ${Math.round(faultSplit.all)} per fused run, the rest in the pool's threads`}), or, when the allocator reuses freed memory, a zero fill (every SharedArrayBuffer is zeroed; NumPy's results are not): minor page faults per run in this run svdflow ${Math.round(stackCenterMem.faults)} (not fused: ${Math.round(stackCenterInPlaceMem.faults)}; center copying: ${Math.round(stackCenterCopyMem.faults)}), NumPy ${Math.round(peer.stack_center_faults)}. The loops alone, one thread, into memory already touched: fused stack + centre ${loopsOnly.fused.toFixed(2)} ms CPU, where stacking took ${loopsOnly.stack.toFixed(2)} ms and centring ${loopsOnly.centre.toFixed(2)} ms (NumPy's whole stack + center: ${peer.stack_center_cpu_ms.toFixed(2)} ms CPU); the rest of svdflow's CPU is new memory (kernel time above), the thread hops and the V8 compiler's first runs. The block loops (stack.ts centredPlaneRows, copyPlaneRows) see only typed arrays and an array of the planes made per call, never the task's objects, which a pool thread rebuilds from each task's message: their compiled code holds from a thread's first task to the next (when the loop read the images itself, its compiled code was undone, 'wrong map', on a thread's second or third task, so the first runs after the warm-up ran it in the interpreter and compiled it again). svdflow's stack is row-major d x n, so stacking is a transposition (strided reads of n planes); NumPy's np.array(planes).T is a contiguous copy whose transposed view needs none.`; })(),
  'The Gram route asks for n - 1 = 21 components: centring the 22 columns leaves rank 21, and the core falls back to the exact SVD when a requested value is below 1e-3 s_1 (GRAM_MIN_RATIO).',
]);
