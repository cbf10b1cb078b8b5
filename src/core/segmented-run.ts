/**
 * Segment parallelism for long videos (`--workers N`): the video's frames are
 * split by a plain segment plan (core/video/segment-plan.ts), each segment runs
 * the same pipeline in its own worker process (`svdflow run --segment PLAN:K`,
 * into its own folder, so each has its own checkpoints and --resume), and the
 * sink steps' files are stitched in frame order by their stage's `segments.stitch`.
 *
 * Workers are child processes rather than worker threads: a segment already runs
 * ffmpeg children, and a process gives each segment its own heap and GC, and is
 * ended with its whole subtree on Ctrl-C; the measured start-up cost difference
 * is in the README (Long videos).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancelledError, InputError, SvdflowError, UsageError, shownPath } from './errors.js';
import { ChildRegistry } from './children.js';
import { OutputManager, atomicWriteFile } from './outputs.js';
import { silentLogger } from './logging.js';
import { FRAMES_IPC_ENV, ProgressRenderer, type FramesMessage } from './progress.js';
import { resolveInputPath } from './data/locate.js';
import { fingerprintChanges, fingerprintOf, inputPathsOf } from './fingerprint.js';
import { FINGERPRINT, acquireLock, fingerprintHash, fingerprintPart, readFingerprintFile, refuseLinkedState, releaseLock, removeSegmentState, removeSupersededCheckpoints, entries, entryKind } from './run-state.js';
import { addDecoderCounts, type decoderSummary } from './image/jpeg.js';
import { prepareOutDir, writeRunManifest, writeReportQuietly, type RunOptions, type RunResult, type StepStats } from './runner.js';
import type { ResolvedPipeline } from './pipeline.js';
import type { SegmentPart } from './stage.js';
import type { PortValue } from './ports.js';
import { TailBuffer } from './video/io/ffmpeg.js';
import { planDecode } from './video/io/decode.js';
import { checkPlan, planSegments, type SegmentPlan } from './video/segment-plan.js';
import { budgetEnv, shareBudget, threadBudget, type ThreadCounts } from './threads.js';

export interface SegmentedRunOptions extends RunOptions {
  /** worker processes, and segments (>= 2) */
  workers: number;
  /** the --set overrides the pipeline was loaded with (passed on to the workers) */
  set?: readonly string[];
  /** thread budget shared by the worker processes (default: this process's, src/core/threads.ts): each gets budget / workers, at least 1 */
  threads?: number;
}

/** The plan for a pipeline: its decode step's frames, batch size and model warm-up. Throws UsageError when it cannot be split. */
export async function planPipelineSegments(p: ResolvedPipeline, parts: number): Promise<SegmentPlan> {
  const sources = p.steps.filter((s) => s.def.input === null);
  if (sources.length !== 1 || sources[0]!.stage !== 'decode') throw new UsageError(`--workers splits a video: the pipeline needs exactly one source step, a decode (it has ${sources.map((s) => `${s.id} (${s.stage})`).join(', ') || 'none'})`, 'run it with --workers 1');
  const cannot = p.steps.filter((s) => !s.def.segments);
  if (cannot.length) throw new UsageError(`--workers: step${cannot.length > 1 ? 's' : ''} ${cannot.map((s) => `${s.id} (${s.stage})`).join(', ')} cannot be split into segments`, 'run with --workers 1, or remove the step');
  const dec = sources[0]!.params as unknown as Parameters<typeof planDecode>[0];
  const live = sources[0]!.def.liveInput?.(sources[0]!.params as never);
  if (live !== undefined) throw new UsageError(`--workers needs a file to split, '${live}' is a live stream${live === '-' ? ' (stdin)' : ''} whose length is unknown`, 'run live inputs with --workers 1');
  const d = await planDecode({ ...dec, path: resolveInputPath(p.baseDir, dec.path) });
  if (!d.expected) throw new InputError(`--workers needs the frame count of ${dec.path}, and ffmpeg could not tell it`, 'run with --workers 1, or give the decode step an end frame');
  const batch = p.steps.find((s) => s.stage === 'batch-frames')?.params.size as number | undefined;
  const model = p.steps.find((s) => s.stage === 'background-model')?.params;
  return planSegments({ first: d.firstIndex, frames: d.expected, parts, warmup: (model?.warmup as number | undefined) ?? 0, align: batch ?? 1 });
}

/** The K of the seg-K folders in `root`. */
function existingSegments(root: string): number[] {
  return entries(root).map((n) => /^seg-(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]) + 1).filter((n) => n <= 4096);
}

/** The CLI the workers run: dist/src/cli/main.js (from the sources too, after `npm run build`). */
function cliPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, '..', 'cli', 'main.js');
  const cli = existsSync(built) ? built : join(here, '..', '..', 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new UsageError(`--workers runs its workers with ${cli}, which does not exist`, 'build first: npm run build');
  return cli;
}

interface SegmentRun {
  files: Array<{ path: string; step: string; format: string; description?: string }>;
  steps: StepStats[];
  durationMs: number;
  peakRssMiB: number;
  threads?: ThreadCounts;
  decoder?: ReturnType<typeof decoderSummary>;
}

export function runWorker(children: ChildRegistry, args: string[], k: number, threads: number, onFrames?: (count: number) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    let child: ChildProcess;
    try {
      // an IPC channel for the worker's decoded-frame counts (progress.ts framesReporter)
      child = children.spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...budgetEnv(threads), [FRAMES_IPC_ENV]: '1' } });
    } catch (e) {
      return reject(e);
    }
    child.on('message', (m: Partial<FramesMessage>) => {
      if (typeof m?.svdflowFrames?.count === 'number') onFrames?.(m.svdflowFrames.count);
    });
    const tail = new TailBuffer();
    child.stderr?.on('data', (d: Buffer) => tail.push(d));
    child.once('error', (e) => reject(new SvdflowError(`segment ${k}: cannot start a worker (${e.message})`)));
    child.once('close', (code, signal) => {
      if (code === 0) return resolveRun();
      const msg = `segment ${k}: ${tail.lines(4).replace(/^svdflow: /, '') || (signal ? 'killed by ' + signal : 'exit code ' + code)}`;
      if (code === 130 || signal) reject(new CancelledError(msg));
      else if (code === 2) reject(new UsageError(msg));
      else reject(new SvdflowError(msg, { exitCode: 1 }));
    });
  });
}

/** The frames each segment decodes: warm-up and its own (`end` is one past its last; the last segment's runs to the plan's end). */
export function segmentFrameCounts(plan: SegmentPlan): number[] {
  return plan.segments.map((s) => (s.end ?? plan.first + plan.frames) - s.warmupStart);
}

/** Runs `file` split into `workers` segments in parallel and stitches the outputs in frame order. */
export async function runSegmented(file: string, p: ResolvedPipeline, opts: SegmentedRunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const started = new Date();
  const log = opts.log ?? silentLogger();
  const outDir = resolve(opts.outDir ?? join('out', p.name));
  await prepareOutDir(outDir);
  // one run per output folder, as a local run: a local run's checkpoints (or another --workers run's
  // segments) are never deleted under it, and what this run cleans up at the end is cleaned under the lock
  acquireLock(outDir);
  const unlock = () => releaseLock(outDir);
  process.on('exit', unlock);
  try {
    return await runSegmentedLocked(file, p, opts, outDir, log, t0, started);
  } finally {
    unlock();
    process.off('exit', unlock);
  }
}

async function runSegmentedLocked(file: string, p: ResolvedPipeline, opts: SegmentedRunOptions, outDir: string, log: NonNullable<RunOptions['log']>, t0: number, started: Date): Promise<RunResult> {
  // its segments live in .segments/, and it cleans .checkpoints/ up: never through a link to elsewhere
  refuseLinkedState(outDir, ['.segments', '.checkpoints']);
  const root = join(outDir, '.segments');
  const planFile = join(root, 'plan.json');
  const fpFile = join(root, FINGERPRINT);
  const plan = await planPipelineSegments(p, opts.workers);
  const fingerprint = fingerprintOf(p);
  const stepIds = p.steps.map((s) => s.id);
  if (opts.resume && existsSync(planFile)) {
    const old = checkPlan(JSON.parse(readFileSync(planFile, 'utf8')));
    if (JSON.stringify(old) !== JSON.stringify(plan)) throw new UsageError(`--resume: the segment plan in ${shownPath(planFile)} differs from this run's (other --workers, batch size or warm-up?)`, 'resume with the options of the interrupted run, or run without --resume');
    // the segments finished before the interruption are reused as they are: only when made by this same
    // pipeline, params (--set) and inputs, as --resume of a local run checks its checkpoints
    const was = readFingerprintFile(fpFile);
    if (!was) throw new UsageError(`--resume: the segments in ${shownPath(root)} carry no fingerprint, so it cannot be told whether they belong to this pipeline, these --set values and inputs`, 'run without --resume to start over');
    const changes = fingerprintChanges(fingerprintPart(was), fingerprint);
    if (changes.length) throw new UsageError(`--resume: the segments in ${shownPath(root)} were made by a different run: ${changes.slice(0, 6).join('; ')}${changes.length > 6 ? `; and ${changes.length - 6} more` : ''}`, 'resume with the same pipeline, --set values and inputs, or run without --resume to start over');
  } else {
    // a fresh run: the segment state of an earlier run in this folder is started over (names the run
    // makes only; a user's files in .segments/ stay; a segment still being written refuses)
    const count = Math.max(plan.segments.length, ...existingSegments(root));
    if (!(await removeSegmentState(root, count, stepIds, log)) && entryKind(root) === 'dir') throw new UsageError(`${shownPath(root)} has a segment another svdflow run is writing to`, 'wait for it to finish, or pass another --out');
  }
  await mkdir(root, { recursive: true });
  await atomicWriteFile(fpFile, JSON.stringify(fingerprint, null, 1) + '\n');
  await atomicWriteFile(planFile, JSON.stringify(plan, null, 2) + '\n');
  log.info({ segments: plan.segments.length, frames: plan.frames, warmup: plan.warmup }, 'segmented run');

  const children = new ChildRegistry();
  const outputs = new OutputManager(outDir, 'transaction');
  // a run never writes over its own inputs (an input video in --out under an output's name), as a local run
  outputs.protect(inputPathsOf(p));
  const progress = new ProgressRenderer(opts.progress ?? process.stderr.isTTY === true, process.stderr, log);
  // the frames the segments decode (warm-up included), summed from what each worker reports: a bar
  // with a count and an ETA from the start (counting finished segments, it stood at 0 until one ended)
  const segFrames = segmentFrameCounts(plan);
  const done = plan.segments.map(() => 0);
  // the total counts every segment's warm-up frames (decoded again by the next worker): the label says so,
  // so that 1950 frames for a 1500-frame video is not read as a wrong count
  const decoded = segFrames.reduce((a, b) => a + b, 0), rewarmed = decoded - plan.frames;
  const label = `${p.name} (${plan.segments.length} workers${rewarmed > 0 ? `; ${plan.frames} frames + ${rewarmed} warm-up frames decoded twice` : ''})`;
  const bar = progress.create(label, { total: decoded, unit: 'frames' });
  const framesDone = (k: number, count: number) => {
    done[k] = Math.min(segFrames[k]!, Math.max(done[k]!, count));
    bar.set(done.reduce((a, b) => a + b, 0));
  };
  const onAbort = () => void children.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (opts.signal?.aborted) throw new CancelledError();
    const segDir = (k: number) => join(root, `seg-${k}`);
    // N processes share the cores: each sizes its pool, team, model thread and decoder to its share
    const threads = shareBudget(opts.threads ?? threadBudget(), plan.segments.length);
    const common = ['--no-progress', '--log-level', 'error', ...(opts.set ?? []).flatMap((s) => ['--set', s]), ...(opts.resume ? ['--resume'] : [])];
    // --resume: segments that finished before the interruption are not run again (nor counted in this run's step stats)
    const reused = new Set<number>();
    // (each one's run.json must carry this run's fingerprint: checked before any worker starts)
    const finished = new Set(opts.resume ? plan.segments.filter((s) => existsSync(join(segDir(s.index), 'run.json'))).map((s) => s.index) : []);
    for (const k of finished) {
      const made = (JSON.parse(readFileSync(join(segDir(k), 'run.json'), 'utf8')) as { fingerprint?: string }).fingerprint;
      if (made !== fingerprintHash(fingerprint)) throw new UsageError(`--resume: segment ${k} in ${shownPath(segDir(k))} was made by a different run (its run.json's fingerprint differs)`, 'run without --resume to start over');
    }
    const runs = plan.segments.map((s) => {
      if (finished.has(s.index)) {
        reused.add(s.index);
        framesDone(s.index, segFrames[s.index]!);
        return Promise.resolve();
      }
      return runWorker(children, ['run', resolve(file), '--out', segDir(s.index), '--segment', `${planFile}:${s.index}`, ...common], s.index, threads, (n) => framesDone(s.index, n)).then(() => {
        framesDone(s.index, segFrames[s.index]!);
        log.info({ segment: s.index }, 'segment done');
      });
    });
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (opts.signal?.aborted) throw new CancelledError();
    if (failed) throw failed.reason;

    const segs: SegmentRun[] = plan.segments.map((s) => JSON.parse(readFileSync(join(segDir(s.index), 'run.json'), 'utf8')) as SegmentRun);
    const values: Record<string, PortValue | undefined> = {};
    for (const step of p.steps) {
      const role = step.def.segments;
      if (!role || role === 'stream') continue;
      const parts: SegmentPart[][] = segs.map((r, k) => r.files.filter((f) => f.step === step.id).map((f) => ({ rel: f.path, path: join(segDir(k), f.path), format: f.format, description: f.description })));
      const r = await role.stitch(parts, { stepId: step.id, outputs, children, workDir: root, log }, step.params as never);
      values[step.id] = r.value ?? r.files[r.files.length - 1];
    }
    const files = await outputs.commitAll();
    const steps: StepStats[] = p.steps.map((s) => ({ id: s.id, stage: s.stage, itemsIn: 0, itemsOut: 0 }));
    for (const [k, r] of segs.entries()) for (const st of reused.has(k) ? [] : r.steps) {
      const t = steps.find((x) => x.id === st.id);
      if (t) {
        t.itemsIn += st.itemsIn;
        t.itemsOut += st.itemsOut;
      }
    }
    const durationMs = performance.now() - t0;
    const peakRssMiB = Math.max(process.resourceUsage().maxRSS / 1024, ...segs.map((r) => r.peakRssMiB));
    let manifestPath: string;
    try {
      manifestPath = await writeRunManifest(outDir, {
        p, started, durationMs, peakRssMiB, stepStats: (id) => steps.find((x) => x.id === id), files,
        // the images the segments this run ran decoded (like the step stats: not those of segments reused by --resume)
        decoders: addDecoderCounts(segs.filter((_, k) => !reused.has(k)).map((r) => r.decoder)),
        extra: {
          workers: plan.segments.length,
          segments: plan.segments.map((s, k) => ({ ...s, durationMs: segs[k]!.durationMs, peakRssMiB: segs[k]!.peakRssMiB, threads: segs[k]!.threads })),
          plan: { first: plan.first, frames: plan.frames, warmup: plan.warmup, align: plan.align },
        },
      });
    } catch (e) {
      await outputs.rollback();
      throw e;
    }
    // the run is complete: the files it replaced (kept aside by commitAll until now) are deleted, as a local run's
    await outputs.finalize();
    // its own segment state (seg-K of its plan, plan.json, its fingerprint, the stitcher's work files; a user's files stay)
    await removeSegmentState(root, plan.segments.length, stepIds, log);
    // and what an interrupted local run of this same pipeline left for its --resume, which this run supersedes
    await removeSupersededCheckpoints(outDir, fingerprint, log);
    bar.done();
    const report = opts.report === false ? undefined : await writeReportQuietly(outDir, opts.signal, log);
    return { pipeline: p.name, status: 'succeeded', outDir, files, steps, durationMs, peakRssMiB, manifest: manifestPath, values, report };
  } catch (e) {
    await children.close();
    await outputs.abortAll();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    progress.stop();
  }
}
